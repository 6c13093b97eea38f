"""files.store: the same contract for every backend — local disk in a temp dir, and S3 in a
bucket of moto's standalone server over real HTTP."""

from __future__ import annotations

import io
import os
import stat
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.utils import timezone

from files import maintenance, services
from files.models import Blob
from files.store import (
    BlobStore,
    ExternalRedirect,
    InternalRedirect,
    LocalStore,
    S3Store,
    Stat,
    blob_store,
)
from tests.files.conftest import received

CONTENT = b"0123456789abcdefghij"
KEY = "blobs/00/11/0011-test"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return str(request.param)


@pytest.fixture
def store(backend: str) -> BlobStore:
    return blob_store()


def temp_file(content: bytes) -> str:
    path = Path(django_settings.FILE_UPLOAD_TEMP_DIR) / f"upload-{os.urandom(4).hex()}.part"
    path.write_bytes(content)
    return str(path)


def read_all(handle: Any) -> bytes:
    with handle:
        chunks = []
        while chunk := handle.read(7):
            chunks.append(chunk)
        return b"".join(chunks)


# --- which store ----------------------------------------------------------------------------


def test_the_store_follows_the_configured_backend(backend: str) -> None:
    store = blob_store()
    assert isinstance(store, {"local": LocalStore, "s3": S3Store}[backend])
    assert store.storage is storages["default"]
    assert blob_store() is store  # made once per settings change


def test_an_unknown_storage_backend_is_refused_by_name(settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }
    with pytest.raises(ImproperlyConfigured, match="InMemoryStorage"):
        blob_store()


# --- writing --------------------------------------------------------------------------------


def test_commit_stores_the_temp_file_under_its_key_and_removes_it(store: BlobStore) -> None:
    path = temp_file(CONTENT)
    store.commit(path, KEY)
    assert not os.path.exists(path)
    assert store.exists(KEY)
    assert store.size(KEY) == len(CONTENT)
    assert read_all(store.open_range(KEY)) == CONTENT


def test_a_local_commit_is_a_rename_readable_by_owner_and_group(settings: Any) -> None:
    store = blob_store()
    path = temp_file(CONTENT)
    inode = os.stat(path).st_ino
    store.commit(path, KEY)
    stored = os.stat(default_storage.path(KEY))
    assert stored.st_ino == inode
    assert stat.S_IMODE(stored.st_mode) == 0o640


def test_stage_puts_new_content_in_place_before_the_transaction(
    store: BlobStore, backend: str
) -> None:
    asked: list[bool] = []

    def stored() -> bool:
        asked.append(True)
        return False

    path = temp_file(CONTENT)
    staged = store.stage(path, KEY, stored=stored)
    assert os.path.exists(path)  # the caller still owns the temp file
    assert staged and store.exists(KEY)
    assert read_all(store.open_range(KEY)) == CONTENT
    if backend == "local":
        # A second name for the same file (no copy), readable by the web server's group,
        # and no query to decide it: trying the link costs less.
        assert os.stat(default_storage.path(KEY)).st_ino == os.stat(path).st_ino
        assert stat.S_IMODE(os.stat(default_storage.path(KEY)).st_mode) == 0o640
        assert asked == []
    else:
        assert asked == [True]


def test_stage_leaves_content_already_there_to_the_transaction(
    store: BlobStore, backend: str
) -> None:
    if backend == "local":
        # A file already at the key is not touched (it is the content, or a leftover that
        # garbage collection may be removing: the commit's rename replaces it).
        store.put_bytes(KEY, CONTENT)
        before = os.stat(default_storage.path(KEY)).st_ino
        assert store.stage(temp_file(CONTENT), KEY, stored=lambda: False) is False
        assert os.stat(default_storage.path(KEY)).st_ino == before
    else:
        # Known content is not sent again.
        assert store.stage(temp_file(CONTENT), KEY, stored=lambda: True) is False
        assert not store.exists(KEY)


def test_an_upload_through_the_services_leaves_no_temp_file(
    store: BlobStore, alice: Any, home: Any
) -> None:
    node = services.file_upload(
        owner=alice, parent=home, name="a.bin", received=received(CONTENT), on_conflict="fail"
    )
    assert read_all(store.open_range(node.blob.storage_key)) == CONTENT
    assert os.listdir(django_settings.FILE_UPLOAD_TEMP_DIR) == []


def test_put_bytes_writes_and_replaces_exactly_that_key(store: BlobStore) -> None:
    key = "thumbnails/abc/256.webp"
    store.put_bytes(key, b"first")
    store.put_bytes(key, b"second!")
    assert read_all(store.open_range(key)) == b"second!"
    assert list(store.walk("thumbnails")) == [key]


# --- reading --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "length", "expected"),
    [
        (0, None, CONTENT),
        (0, len(CONTENT), CONTENT),
        (5, 5, CONTENT[5:10]),
        (15, None, CONTENT[15:]),
        (19, 1, CONTENT[19:]),
        (0, 0, b""),
    ],
)
def test_open_range_streams_exactly_the_range(
    store: BlobStore, first: int, length: int | None, expected: bytes
) -> None:
    store.put_bytes(KEY, CONTENT)
    assert read_all(store.open_range(KEY, first=first, length=length)) == expected


def test_an_empty_object_reads_as_empty(store: BlobStore) -> None:
    store.put_bytes(KEY, b"")
    assert read_all(store.open_range(KEY)) == b""
    assert store.size(KEY) == 0


def test_a_missing_key_is_file_not_found_everywhere(store: BlobStore) -> None:
    for read in (
        lambda: store.open_range(KEY),
        lambda: store.open_range(KEY, first=3, length=2),
        lambda: store.open_range(KEY, length=0),
        lambda: store.open_seekable(KEY),
        lambda: store.stat(KEY),
    ):
        with pytest.raises(FileNotFoundError):
            read()
    assert store.exists(KEY) is False


def test_only_local_reads_are_real_files_for_sendfile(store: BlobStore, backend: str) -> None:
    store.put_bytes(KEY, CONTENT)
    with store.open_range(KEY, first=5) as handle:
        if backend == "local":
            assert store.real_files
            assert os.lseek(handle.fileno(), 0, os.SEEK_CUR) == 5
        else:
            assert not store.real_files
            # Never the HTTP connection's socket under the body.
            with pytest.raises(io.UnsupportedOperation):
                handle.fileno()


def test_open_seekable_is_a_file_on_disk_that_can_seek(store: BlobStore) -> None:
    store.put_bytes(KEY, CONTENT)
    with store.open_seekable(KEY) as handle:
        assert os.fstat(handle.fileno()).st_size == len(CONTENT)  # on disk, not in memory
        handle.seek(10)
        assert handle.read(3) == b"abc"
        handle.seek(0)
        assert handle.read() == CONTENT


def test_stat_gives_size_and_a_recent_modification_time(store: BlobStore) -> None:
    before = timezone.now() - timedelta(minutes=5)
    store.put_bytes(KEY, CONTENT)
    found = store.stat(KEY)
    assert isinstance(found, Stat)
    assert found.size == len(CONTENT)
    assert before < found.modified < timezone.now() + timedelta(minutes=5)


def test_check_present_stats_only_where_that_is_cheap(store: BlobStore, backend: str) -> None:
    store.put_bytes(KEY, CONTENT)
    store.check_present([KEY])
    if backend == "local":
        with pytest.raises(FileNotFoundError, match="missing-key"):
            store.check_present([KEY, "blobs/missing-key"])
    else:
        store.check_present([KEY, "blobs/missing-key"])  # no request per key


# --- handing a download to the server -------------------------------------------------------


def test_no_handoff_unless_the_operator_set_one_up(store: BlobStore) -> None:
    store.put_bytes(KEY, CONTENT)
    assert store.handoff(KEY, content_type="text/plain", disposition=None) is None


def test_x_accel_redirect_is_a_local_disk_handoff(
    store: BlobStore, backend: str, settings: Any
) -> None:
    settings.FILEFLOW_X_ACCEL_REDIRECT_PREFIX = "/_protected/"
    store.put_bytes(KEY, CONTENT)
    handoff = store.handoff(KEY, content_type="text/plain", disposition=None)
    if backend == "local":
        assert handoff == InternalRedirect(f"/_protected/{KEY}")
        with pytest.raises(FileNotFoundError):
            store.handoff("blobs/missing", content_type="text/plain", disposition=None)
    else:
        assert handoff is None


def test_a_presigned_redirect_is_an_s3_handoff(
    store: BlobStore, backend: str, settings: Any
) -> None:
    settings.FILEFLOW_S3_PRESIGNED_REDIRECT = True
    store.put_bytes(KEY, CONTENT)
    handoff = store.handoff(
        KEY, content_type="text/plain", disposition='attachment; filename="a.txt"'
    )
    if backend == "local":
        assert handoff is None
        return
    assert isinstance(handoff, ExternalRedirect)
    with urllib.request.urlopen(handoff.url, timeout=10) as fetched:  # noqa: S310 - local moto
        assert fetched.read() == CONTENT
        assert fetched.headers["Content-Type"] == "text/plain"
        assert fetched.headers["Content-Disposition"] == 'attachment; filename="a.txt"'


# --- listing and deleting (gc) --------------------------------------------------------------


def test_walk_lists_every_key_under_a_folder_and_nothing_else(store: BlobStore) -> None:
    keys = ["blobs/aa/bb/1", "blobs/aa/bb/2", "blobs/cc/dd/3", "thumbnails/x/64.webp"]
    for key in keys:
        store.put_bytes(key, b"x")
    assert sorted(store.walk("blobs")) == keys[:3]
    assert sorted(store.walk("blobs/aa")) == keys[:2]
    assert list(store.walk("nothing-here")) == []
    assert store.folders("blobs") == ["aa", "cc"]
    assert store.folders("nothing-here") == []


def test_delete_and_prune_leave_no_trace(store: BlobStore) -> None:
    store.put_bytes("thumbnails/abc/64.webp", b"x")
    store.put_bytes("thumbnails/abc/128.webp", b"y")
    store.delete("thumbnails/abc/64.webp")
    store.delete("thumbnails/abc/64.webp")  # a missing key is not an error
    store.delete("thumbnails/abc/128.webp")
    store.prune("thumbnails/abc")
    assert list(store.walk("thumbnails")) == []
    assert store.folders("thumbnails") == []


def test_delete_unless_asks_keep_with_the_objects_stat(store: BlobStore) -> None:
    store.put_bytes(KEY, CONTENT)
    seen: list[Stat] = []

    def keep(found: Stat) -> bool:
        seen.append(found)
        return True

    assert store.delete_unless(KEY, keep=keep) is None
    assert seen[0].size == len(CONTENT)
    assert read_all(store.open_range(KEY)) == CONTENT
    assert store.delete_unless(KEY, keep=lambda found: False) == len(CONTENT)
    assert not store.exists(KEY)
    assert store.delete_unless(KEY, keep=lambda found: False) is None
    assert list(store.walk("blobs")) == []  # nothing left renamed aside


def test_gc_and_scrub_work_through_the_store(
    store: BlobStore, alice: Any, upload: Any, settings: Any
) -> None:
    kept = upload("kept.txt", b"referenced")
    gone = upload("gone.txt", b"deleted for good")
    services.node_trash(node=gone)
    services.node_delete(node=gone)
    store.put_bytes(f"thumbnails/{gone.blob.sha256}/64.webp", b"thumb")
    orphan = Blob.key_for("f" * 64)
    store.put_bytes(orphan, b"left by a rolled-back upload")

    # A negative grace makes everything old enough: S3 objects cannot be aged.
    report = maintenance.blob_gc(dry_run=False, grace=timedelta(minutes=-5))

    assert (report.blobs, report.orphans, report.thumbnails) == (1, 1, 1)
    assert sorted(store.walk("blobs")) == [kept.blob.storage_key]
    assert list(store.walk("thumbnails")) == []
    assert maintenance.blob_scrub().problems == []
    store.put_bytes(kept.blob.storage_key, b"referenced but rotten")
    problems = maintenance.blob_scrub().problems
    assert [(problem.sha256, problem.kind) for problem in problems] == [(kept.blob.sha256, "size")]


# --- health ---------------------------------------------------------------------------------


def test_the_probe_passes_on_a_working_store(store: BlobStore) -> None:
    store.probe()


def test_the_probe_fails_when_the_bucket_is_gone(s3_storage: Any, settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "bucket_name": "no-such"},
        },
    }
    with pytest.raises(Exception, match=r"404|NoSuchBucket|Not Found"):
        blob_store().probe()


# --- S3 keys ----------------------------------------------------------------------------------


def test_an_s3_location_prefixes_every_key_as_django_storages_does(
    s3_storage: Any, settings: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            **settings.STORAGES["default"],
            "OPTIONS": {**settings.STORAGES["default"]["OPTIONS"], "location": "tenant/a"},
        },
    }
    store = blob_store()
    store.commit(temp_file(CONTENT), KEY)
    default_storage.save("blobs/by-django-storages", ContentFile(b"x"))
    assert s3_storage.object_keys() == [
        "tenant/a/blobs/00/11/0011-test",
        "tenant/a/blobs/by-django-storages",
    ]
    assert sorted(store.walk("blobs")) == [KEY, "blobs/by-django-storages"]
    assert read_all(store.open_range(KEY, first=5, length=5)) == CONTENT[5:10]
    assert store.stat(KEY).size == len(CONTENT)
    assert store.delete_unless(KEY, keep=lambda found: False) == len(CONTENT)
    assert s3_storage.object_keys() == ["tenant/a/blobs/by-django-storages"]
