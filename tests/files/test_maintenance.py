"""files.maintenance: gc, scrub, trash retention, usage and tree audits, directory import —
against the real database and a real (temp-dir) storage."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from files import maintenance, services, tree
from files.models import Blob, FileVersion, Node
from files.store import blob_store

pytestmark = pytest.mark.django_db

GRACE = timedelta(hours=24)
LONG_AGO = timedelta(hours=48)


def age_blob(holder: Node | FileVersion | Blob, by: timedelta = LONG_AGO) -> Blob:
    """Move a blob's creation back in time (given the blob or what references it)."""
    blob_id = holder.pk if isinstance(holder, Blob) else holder.blob_id
    Blob.objects.filter(pk=blob_id).update(created_at=timezone.now() - by)
    return Blob.objects.get(pk=blob_id)


def age_file(path: str | Path, by: timedelta = LONG_AGO) -> None:
    then = time.time() - by.total_seconds()
    os.utime(path, (then, then))


def stored(blob: Blob) -> bool:
    return default_storage.exists(blob.storage_key)


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def delete_for_good(node: Node) -> None:
    services.node_trash(node=node)
    services.node_delete(node=node)


# --- gc ------------------------------------------------------------------------------


@pytest.fixture
def blob_zoo(alice, upload):
    """One blob in each situation gc must tell apart."""
    by_node = upload("kept.txt", b"referenced by a file")
    doc = upload("doc.txt", b"first draft")
    upload("doc.txt", b"second draft", on_conflict="replace")
    by_version = FileVersion.objects.get(node=doc)
    in_trash = upload("trashed.txt", b"referenced by a trashed file")
    services.node_trash(node=in_trash)
    garbage = upload("gone.txt", b"nobody wants me")
    delete_for_good(garbage)
    young = upload("young.txt", b"unreferenced but young")
    delete_for_good(young)
    for blob_of in (by_node, by_version, in_trash, garbage):
        age_blob(blob_of)
    # A cached thumbnail of the garbage blob goes with it.
    thumb = default_storage.save(f"thumbnails/{garbage.blob.sha256}/256.webp", ContentFile(b"img"))
    return {
        "by_node": by_node.blob,
        "by_version": by_version.blob,
        "in_trash": in_trash.blob,
        "garbage": garbage.blob,
        "young": young.blob,
        "thumb": thumb,
    }


def test_gc_removes_only_old_unreferenced_blobs(blob_zoo):
    report = maintenance.blob_gc(dry_run=False, grace=GRACE)

    garbage = blob_zoo["garbage"]
    assert not Blob.objects.filter(pk=garbage.pk).exists()
    assert not stored(garbage)
    assert not default_storage.exists(blob_zoo["thumb"])
    assert not os.path.exists(default_storage.path(f"thumbnails/{garbage.sha256}"))
    for kept in ("by_node", "by_version", "in_trash", "young"):
        blob = blob_zoo[kept]
        assert Blob.objects.filter(pk=blob.pk).exists(), kept
        assert stored(blob), kept
    assert (report.blobs, report.blob_bytes) == (1, len(b"nobody wants me"))
    assert (report.thumbnails, report.thumbnail_bytes) == (1, len(b"img"))
    assert report.bytes_freed == len(b"nobody wants me") + len(b"img")


def test_gc_dry_run_deletes_nothing(blob_zoo):
    lines: list[str] = []
    report = maintenance.blob_gc(dry_run=True, grace=GRACE, log=lines.append)

    assert (report.blobs, report.blob_bytes) == (1, len(b"nobody wants me"))
    assert (report.thumbnails, report.thumbnail_bytes) == (1, len(b"img"))
    assert lines == [f"Would remove blob {blob_zoo['garbage'].sha256} (15 bytes)"]
    assert Blob.objects.count() == 6
    assert all(stored(blob) for blob in Blob.objects.all())
    assert default_storage.exists(blob_zoo["thumb"])


def test_gc_respects_the_grace_period_it_is_given(blob_zoo):
    report = maintenance.blob_gc(dry_run=False, grace=timedelta(hours=72))

    assert report.blobs == 0
    assert Blob.objects.filter(pk=blob_zoo["garbage"].pk).exists()


def test_content_uploaded_again_after_gc_is_stored_again(alice, upload):
    first = upload("a.txt", b"comes back")
    delete_for_good(first)
    age_blob(first)
    maintenance.blob_gc(dry_run=False, grace=GRACE)
    assert not Blob.objects.exists()

    again = upload("a.txt", b"comes back")
    assert stored(again.blob)
    with default_storage.open(again.blob.storage_key) as handle:
        assert handle.read() == b"comes back"


def test_gc_sweeps_orphan_objects_and_stale_temp_files(alice, upload):
    kept_file = upload("kept.txt", b"has a row")
    age_file(default_storage.path(kept_file.blob.storage_key))
    old_orphan = Blob.key_for(sha(b"rolled back long ago"))
    young_orphan = Blob.key_for(sha(b"upload still committing"))
    default_storage.save(old_orphan, ContentFile(b"rolled back long ago"))
    default_storage.save(young_orphan, ContentFile(b"upload still committing"))
    age_file(default_storage.path(old_orphan))
    temp_dir = Path(settings.FILE_UPLOAD_TEMP_DIR)
    stale = temp_dir / "upload-dead.part"
    stale.write_bytes(b"x" * 10)
    age_file(stale)
    live = temp_dir / "upload-running.part"
    live.write_bytes(b"still arriving")
    # Thumbnails: of vanished content (old: removed; young: kept) and of live content (kept).
    stray = default_storage.save(f"thumbnails/{sha(b'vanished')}/256.webp", ContentFile(b"12"))
    age_file(default_storage.path(stray))
    fresh = default_storage.save(f"thumbnails/{sha(b'just drawn')}/256.webp", ContentFile(b"3"))
    live_thumb = default_storage.save(
        f"thumbnails/{kept_file.blob.sha256}/256.webp", ContentFile(b"456")
    )
    age_file(default_storage.path(live_thumb))

    dry = maintenance.blob_gc(dry_run=True, grace=GRACE)
    assert (dry.orphans, dry.thumbnails, dry.temp_files) == (1, 1, 1)
    assert default_storage.exists(old_orphan) and stale.exists()
    assert default_storage.exists(stray)

    report = maintenance.blob_gc(dry_run=False, grace=GRACE)

    assert not default_storage.exists(old_orphan)
    assert default_storage.exists(young_orphan)
    assert stored(kept_file.blob)
    assert not stale.exists()
    assert live.exists()
    assert (report.orphans, report.orphan_bytes) == (1, len(b"rolled back long ago"))
    assert (report.temp_files, report.temp_bytes) == (1, 10)
    assert not default_storage.exists(stray)
    assert default_storage.exists(fresh) and default_storage.exists(live_thumb)
    assert (report.thumbnails, report.thumbnail_bytes) == (1, 2)
    assert report.bytes_freed == len(b"rolled back long ago") + 2 + 10
    # Nothing was left renamed aside under blobs/.
    assert not [name for name in blob_store().walk("blobs") if ".gc-" in name]


def test_an_orphan_put_back_never_overwrites_a_file_stored_again():
    """gc renames a blob's file aside before it decides; a file it keeps goes back, but
    never over the file an upload stored under that key meanwhile."""
    store = blob_store()
    key = f"blobs/te/st/{sha(b'old copy')}"
    store.put_bytes(key, b"old copy")

    def content() -> bytes:
        with default_storage.open(key) as handle:
            return handle.read()

    def stored_again_meanwhile(_stat: object) -> bool:
        store.put_bytes(key, b"stored again by an upload")
        return True  # young enough to keep

    assert store.delete_unless(key, keep=stored_again_meanwhile) is None
    assert content() == b"stored again by an upload"
    assert store.delete_unless(key, keep=lambda _stat: True) is None
    assert content() == b"stored again by an upload"
    assert not [name for name in store.walk("blobs") if ".gc-" in name]
    assert store.delete_unless(key, keep=lambda _stat: False) == len(b"stored again by an upload")
    assert not default_storage.exists(key)


@pytest.mark.django_db(transaction=True)
def test_gc_skips_a_blob_an_upload_holds_locked(alice, upload):
    """On PostgreSQL an upload reusing content locks the blob row (blobs.blob_for) until it
    commits; gc must skip that row rather than delete content about to be referenced."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks between connections: PostgreSQL only")
    node = upload("a.txt", b"about to be reused")
    delete_for_good(node)
    blob = age_blob(node)
    locked, release = threading.Event(), threading.Event()

    def uploader() -> None:
        try:
            with transaction.atomic():
                Blob.objects.select_for_update().get(pk=blob.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=uploader)
    thread.start()
    try:
        assert locked.wait(10)
        report = maintenance.blob_gc(dry_run=False, grace=GRACE)
    finally:
        release.set()
        thread.join()

    assert report.blobs == 0
    assert Blob.objects.filter(pk=blob.pk).exists()
    assert stored(blob)


# --- scrub ---------------------------------------------------------------------------


def test_scrub_finds_nothing_wrong_with_healthy_blobs(alice, upload):
    upload("a.txt", b"alpha")
    upload("b.bin", os.urandom(3 * 1024 * 1024 + 7))  # several 1 MiB chunks

    report = maintenance.blob_scrub()

    assert report.blobs == 2
    assert report.bytes == 5 + 3 * 1024 * 1024 + 7
    assert not report.damaged


def test_scrub_reports_corrupted_truncated_and_missing_objects(alice, upload):
    flipped = upload("flipped.txt", b"bit rot happens").blob
    truncated = upload("truncated.txt", b"cut short by a full disk").blob
    missing = upload("missing.txt", b"deleted by hand").blob
    healthy = upload("healthy.txt", b"fine").blob
    Path(default_storage.path(flipped.storage_key)).write_bytes(b"bit rot hAppens")
    Path(default_storage.path(truncated.storage_key)).write_bytes(b"cut short")
    os.unlink(default_storage.path(missing.storage_key))

    report = maintenance.blob_scrub()

    found = {problem.sha256: problem.kind for problem in report.problems}
    assert found == {flipped.sha256: "hash", truncated.sha256: "size", missing.sha256: "missing"}
    assert healthy.sha256 not in found
    assert report.blobs == 4


def test_scrub_can_be_limited_to_a_hash_prefix(alice, upload):
    damaged = upload("a.txt", b"damaged").blob
    other = upload("b.txt", b"also damaged").blob
    for blob in (damaged, other):
        Path(default_storage.path(blob.storage_key)).write_bytes(b"garbage")

    report = maintenance.blob_scrub(sha_prefix=damaged.sha256[:10])

    assert report.blobs == 1
    assert [problem.sha256 for problem in report.problems] == [damaged.sha256]
    with pytest.raises(ValueError, match="hexadecimal"):
        maintenance.blob_scrub(sha_prefix="not-hex")


# --- trash retention -----------------------------------------------------------------


def trashed_days_ago(node: Node, days: int) -> Node:
    """Move a trash entry (the whole batch trashed with it) back in time."""
    node.refresh_from_db()
    then = timezone.now() - timedelta(days=days)
    Node.objects.filter(owner=node.owner, trashed_at=node.trashed_at).update(trashed_at=then)
    node.refresh_from_db()
    return node


def test_trash_purge_deletes_only_entries_past_retention(alice, mallory, upload, mkdir):
    old_folder = mkdir("/Old")
    upload("inside.txt", b"12345", parent=old_folder)
    services.node_trash(node=old_folder)
    trashed_days_ago(old_folder, 40)
    recent = upload("recent.txt", b"abc")
    services.node_trash(node=recent)
    trashed_days_ago(recent, 5)
    theirs = upload("theirs.txt", b"mallory's", owner=mallory)
    services.node_trash(node=theirs)
    trashed_days_ago(theirs, 31)
    cutoff = timezone.now() - timedelta(days=30)

    lines: list[str] = []
    dry = maintenance.trash_purge(older_than=cutoff, dry_run=True, log=lines.append)
    assert (dry.owners, dry.entries, dry.bytes) == (2, 2, 5 + 9)
    assert any("alice: /Old" in line and "5 bytes" in line for line in lines)
    assert Node.objects.filter(pk=old_folder.pk).exists()

    report = maintenance.trash_purge(older_than=cutoff, dry_run=False)

    assert (report.owners, report.entries, report.bytes) == (2, 2, 14)
    assert not Node.objects.filter(pk__in=[old_folder.pk, theirs.pk]).exists()
    assert Node.objects.filter(pk=recent.pk, trashed_at__isnull=False).exists()
    alice.refresh_from_db()
    mallory.refresh_from_db()
    assert alice.used_bytes == 3
    assert mallory.used_bytes == 0
    assert tree.check(alice) == [] and tree.check(mallory) == []


def test_trash_entry_bytes_counts_versions_but_not_separately_trashed_items(alice, upload, mkdir):
    folder = mkdir("/Reports")
    upload("q1.txt", b"v1", parent=folder)
    upload("q1.txt", b"v2!", parent=folder, on_conflict="replace")
    earlier = upload("draft.txt", b"trashed on its own", parent=folder)
    services.node_trash(node=earlier)
    services.node_trash(node=folder)
    folder.refresh_from_db()

    assert maintenance.trash_entry_bytes(folder) == len(b"v1") + len(b"v2!")
    assert maintenance.trash_entry_label(folder) == "/Reports"


# --- usage ---------------------------------------------------------------------------


def test_usage_audit_reports_then_fixes_tampered_usage(alice, mallory, upload):
    upload("a.txt", b"12345")
    upload("b.txt", b"123", owner=mallory)
    type(alice).objects.filter(pk=alice.pk).update(used_bytes=999)

    check = maintenance.usage_audit(fix=False)
    assert check.owners == 2
    assert [(m.username, m.recorded, m.actual) for m in check.mismatches] == [("alice", 999, 5)]
    alice.refresh_from_db()
    assert alice.used_bytes == 999

    fixed = maintenance.usage_audit(fix=True)
    assert [(m.username, m.recorded, m.actual) for m in fixed.mismatches] == [("alice", 999, 5)]
    alice.refresh_from_db()
    assert alice.used_bytes == 5
    assert maintenance.usage_audit(fix=False).mismatches == []


# --- tree ----------------------------------------------------------------------------


def test_tree_audit_detects_and_repairs_damage(alice, mallory, upload, mkdir):
    docs = mkdir("/Docs")
    note = upload("note.txt", b"n", parent=docs)
    upload("theirs.txt", b"m", owner=mallory)
    assert maintenance.tree_audit(repair=False).healthy

    Node.objects.filter(pk=note.pk).update(path=docs.path)  # simulated corruption

    report = maintenance.tree_audit(repair=False)
    assert not report.healthy
    assert list(report.problems) == ["alice"]
    assert tree.check(alice) != []

    repaired = maintenance.tree_audit(repair=True, owners=type(alice).objects.filter(pk=alice.pk))
    assert repaired.healthy
    assert repaired.repaired == ["alice"]
    assert tree.check(alice) == []
    note.refresh_from_db()
    assert tree.path_of(note) == "/Docs/note.txt"


# --- import --------------------------------------------------------------------------


@pytest.fixture
def source(tmp_path: Path) -> Path:
    root = tmp_path / "source"
    (root / "photos" / "2024").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "readme.txt").write_bytes(b"hello")
    (root / "photos" / "cat.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a cat")
    (root / "photos" / "2024" / "big.bin").write_bytes(b"\x01" * (2 * 1024 * 1024 + 3))
    (root / "link-to-readme").symlink_to(root / "readme.txt")
    (root / "link-to-photos").symlink_to(root / "photos", target_is_directory=True)
    os.mkfifo(root / "a-pipe")
    return root


def node_at(owner, path: str) -> Node:
    node = tree.home_of(owner)
    for part in path.strip("/").split("/"):
        node = Node.objects.alive().get(parent=node, name=part)
    return node


def content_of(node: Node) -> bytes:
    with default_storage.open(node.blob.storage_key) as handle:
        return handle.read()


def test_directory_import_recreates_folders_and_skips_links(alice, source):
    report = maintenance.directory_import(owner=alice, source=source, into="/Imported")

    assert report.files == 3
    assert report.bytes == 5 + len(b"\xff\xd8\xff\xe0 not really a cat") + 2 * 1024 * 1024 + 3
    assert report.folders == 3
    assert sorted(line.split(":")[0] for line in report.skipped) == [
        "a-pipe",
        "link-to-photos",
        "link-to-readme",
    ]
    assert report.failed == [] and report.stopped is None
    assert content_of(node_at(alice, "/Imported/readme.txt")) == b"hello"
    big = node_at(alice, "/Imported/photos/2024/big.bin")
    assert big.size == 2 * 1024 * 1024 + 3
    assert big.blob.sha256 == sha(b"\x01" * (2 * 1024 * 1024 + 3))
    assert node_at(alice, "/Imported/empty").is_folder
    assert not Node.objects.filter(owner=alice, name__startswith="link-").exists()
    alice.refresh_from_db()
    assert alice.used_bytes == report.bytes
    assert tree.check(alice) == []
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []  # no temp files left behind


def test_directory_import_on_conflict(alice, tmp_path, upload, mkdir):
    root = tmp_path / "src"
    root.mkdir()
    (root / "a.txt").write_bytes(b"new content")
    (root / "b.txt").write_bytes(b"brand new")
    upload("a.txt", b"old content", parent=mkdir("/In"))

    failed = maintenance.directory_import(owner=alice, source=root, into="/In")
    assert failed.files == 1  # b.txt
    assert len(failed.failed) == 1 and failed.failed[0].startswith("a.txt: ")
    assert content_of(node_at(alice, "/In/a.txt")) == b"old content"

    renamed = maintenance.directory_import(
        owner=alice, source=root, into="/In", on_conflict="rename"
    )
    assert renamed.files == 2 and renamed.failed == []
    assert content_of(node_at(alice, "/In/a (1).txt")) == b"new content"
    assert content_of(node_at(alice, "/In/b (1).txt")) == b"brand new"

    replaced = maintenance.directory_import(
        owner=alice, source=root, into="/In", on_conflict="replace"
    )
    assert replaced.failed == []
    a = node_at(alice, "/In/a.txt")
    assert content_of(a) == b"new content"
    assert [content_of(v) for v in a.versions.all()] == [b"old content"]
    assert not node_at(alice, "/In/b.txt").versions.exists()  # same content: no new version


def test_directory_import_stops_at_the_quota(alice, tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    for name in ("1.txt", "2.txt", "3.txt"):
        (root / name).write_bytes(b"x" * 40)
    type(alice).objects.filter(pk=alice.pk).update(quota_bytes=100)

    report = maintenance.directory_import(owner=alice, source=root, into="/")

    assert report.files == 2
    assert report.stopped is not None and report.stopped.startswith("3.txt: Not enough space")
    assert not Node.objects.filter(owner=alice, name="3.txt").exists()
    alice.refresh_from_db()
    assert alice.used_bytes == 80
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_directory_import_holds_the_per_file_limit_like_every_upload(alice, source, settings):
    """The import is one more transport of the one upload path: a file over
    FILEFLOW_MAX_UPLOAD_SIZE is reported by name, the others are stored."""
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 1024 * 1024
    report = maintenance.directory_import(owner=alice, source=source, into="/Imported")
    assert report.files == 2
    assert len(report.failed) == 1
    assert report.failed[0].startswith("photos/2024/big.bin: “big.bin” is too large")
    assert not Node.objects.filter(owner=alice, name="big.bin").exists()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []
