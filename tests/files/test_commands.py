"""The operator commands as an operator runs them: arguments, output, exit status."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from files import services, tree
from files.models import Blob, Node
from files.progress import Progress, human_bytes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

COMMANDS = ["gc", "scrub", "purge_trash", "recompute_usage", "check_tree", "import_dir"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(name: str, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def fails(name: str, *args: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        run(name, *args)
    assert caught.value.returncode == 1
    return caught.value


def make_garbage(upload, content: bytes = b"garbage") -> Blob:
    node = upload("garbage.txt", content)
    services.node_trash(node=node)
    services.node_delete(node=node)
    Blob.objects.filter(pk=node.blob_id).update(created_at=timezone.now() - timedelta(days=2))
    return Blob.objects.get(pk=node.blob_id)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_explains_itself(name):
    parser = load_command_class("files", name).create_parser("manage.py", name)
    text = parser.format_help()
    assert "--no-progress" in text
    assert len(parser.description or "") > 80
    if name in ("gc", "purge_trash"):
        assert "--dry-run" in text


# --- gc ------------------------------------------------------------------------------


def test_gc_prints_what_it_removed_and_the_bytes_freed(alice, upload):
    kept = upload("kept.txt", b"kept")
    garbage = make_garbage(upload)

    out, err = run("gc", "--dry-run")
    assert f"Would remove blob {garbage.sha256} (7 bytes)" in out
    assert "Dry run: nothing was deleted." in out
    assert Blob.objects.filter(pk=garbage.pk).exists()

    out, err = run("gc")
    assert f"Removed blob {garbage.sha256} (7 bytes)" in out
    assert "Removed 1 blob (7 bytes), 0 thumbnails (0 bytes)" in out
    assert "freed 7 bytes." in out
    assert err == ""  # stderr is not a terminal: no progress bar
    assert not Blob.objects.filter(pk=garbage.pk).exists()
    assert Blob.objects.filter(pk=kept.blob_id).exists()


def test_gc_counts_in_words_one_blob_and_two_blobs(alice, upload):
    make_garbage(upload, b"one")
    out, _ = run("gc", "--dry-run")
    assert (
        "Would remove 1 blob (3 bytes), 0 thumbnails (0 bytes), 0 orphan objects (0 bytes), "
        "0 temp files (0 bytes), 0 expired uploads (0 bytes); would free 3 bytes."
    ) in out
    make_garbage(upload, b"two")
    out, _ = run("gc", "--dry-run")
    assert "Would remove 2 blobs (6 bytes), 0 thumbnails" in out
    assert "(s)" not in out


def test_gc_grace_hours_option(alice, upload):
    garbage = make_garbage(upload)
    out, _ = run("gc", "--grace-hours", "72")
    assert "Removed 0 blobs" in out
    assert Blob.objects.filter(pk=garbage.pk).exists()
    assert "at least 1" in str(fails("gc", "--grace-hours", "0"))


def test_gc_quiet_at_verbosity_zero(alice, upload):
    make_garbage(upload)
    out, _ = run("gc", "-v", "0")
    assert "Removed blob" not in out
    assert "Removed 1 blob " in out


# --- scrub ---------------------------------------------------------------------------


def test_scrub_passes_then_fails_on_damage(alice, upload):
    good = upload("good.txt", b"g" * 2048)
    bad = upload("bad.txt", b"bad content")
    out, _ = run("scrub")
    assert "Checked 2 blobs, 2.0 KB (2059 bytes) read. No damage found." in out

    Path(default_storage.path(bad.blob.storage_key)).write_bytes(b"BAD content")
    os.unlink(default_storage.path(good.blob.storage_key))
    error = fails("scrub")
    assert "Damage found in 2 blobs: 1 hash mismatch, 1 missing" in str(error)

    out, _ = run("scrub", "--sha", "0" * 64)
    assert "Checked 0 blobs," in out
    with pytest.raises(CommandError) as caught:
        run("scrub", "--sha", bad.blob.sha256[:8])
    assert "1 hash mismatch" in str(caught.value)
    assert "hexadecimal" in str(fails("scrub", "--sha", "xyz"))


# --- purge_trash ---------------------------------------------------------------------


def test_purge_trash_respects_age_and_days_option(alice, upload, settings):
    settings.FILEFLOW_TRASH_DAYS = 30
    old = upload("old.txt", b"12345")
    services.node_trash(node=old)
    Node.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=10))

    out, _ = run("purge_trash")
    assert "Deleted 0 trash entries older than 30 days" in out
    assert Node.objects.filter(pk=old.pk).exists()

    out, _ = run("purge_trash", "--days", "7", "--dry-run")
    assert "Would delete alice: /old.txt" in out
    assert "Would delete 1 trash entry" in out and "Dry run" in out
    assert Node.objects.filter(pk=old.pk).exists()

    out, _ = run("purge_trash", "--days", "7")
    assert "alice: deleted 1 trash entries, 5 bytes freed" in out
    assert "Deleted 1 trash entry older than 7 days from 1 account, freeing 5 bytes" in out
    assert not Node.objects.filter(pk=old.pk).exists()
    alice.refresh_from_db()
    assert alice.used_bytes == 0
    assert "no user called 'nobody'" in str(fails("purge_trash", "--user", "nobody"))


# --- recompute_usage -----------------------------------------------------------------


def test_recompute_usage_check_then_fix(alice, mallory, upload):
    upload("a.txt", b"12345")
    out, _ = run("recompute_usage", "--check")
    assert "Usage is correct for 2 accounts." in out

    type(alice).objects.filter(pk=alice.pk).update(used_bytes=1)
    error = fails("recompute_usage", "--check")
    assert "Usage is wrong for 1 of 2 accounts" in str(error)
    alice.refresh_from_db()
    assert alice.used_bytes == 1

    out, _ = run("recompute_usage", "--user", "alice")
    assert "alice: fixed 1 bytes, files add up to 5 bytes" in out
    assert "Fixed usage of 1 of 1 account." in out
    alice.refresh_from_db()
    assert alice.used_bytes == 5
    run("recompute_usage", "--check")


# --- check_tree ----------------------------------------------------------------------


def test_check_tree_counts_one_tree_and_two_trees(alice):
    out, _ = run("check_tree")
    assert "1 tree is consistent." in out
    UserFactory(username="bob")
    out, _ = run("check_tree")
    assert "All 2 trees are consistent." in out


def test_check_tree_detects_and_repairs(alice, mallory, upload, mkdir):
    folder = mkdir("/A/B")
    upload("f.txt", b"f", parent=folder)
    out, _ = run("check_tree")
    assert "All 2 trees are consistent." in out

    Node.objects.filter(pk=folder.pk).update(path=tree.enc(999_999))
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("check_tree", stdout=out, stderr=io.StringIO())
    assert "1 of 2 trees damaged: alice. Run with --repair" in str(caught.value)
    assert f"alice: node {folder.pk}" in out.getvalue()
    fails("check_tree", "--user", "alice")
    run("check_tree", "--user", "mallory")

    out, _ = run("check_tree", "--repair")
    assert "Repaired 1 damaged tree of 2: alice." in out
    assert tree.check(alice) == []
    run("check_tree")


# --- import_dir ----------------------------------------------------------------------


def test_import_dir_command(alice, tmp_path):
    root = tmp_path / "share"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.txt").write_bytes(b"aaa")
    (root / "b.txt").write_bytes(b"bb")
    (root / "loop").symlink_to(root)

    out, _ = run("import_dir", str(root), "--user", "alice", "--into", "/Archive/share")
    assert "Skipped loop: symbolic link, not followed" in out
    assert "Stored  docs/a.txt (3 bytes)" in out
    assert "Imported 2 files (5 bytes) in 1 folder from" in out
    assert "1 skipped" in out
    home = tree.home_of(alice)
    share = Node.objects.get(owner=alice, name="share")
    assert tree.path_of(share) == "/Archive/share"
    assert share.parent.parent == home

    error = fails("import_dir", str(root), "--user", "alice", "--into", "/Archive/share")
    assert "Not imported:" in str(error) and "b.txt: A file named “b.txt” already exists" in str(
        error
    )
    run(
        "import_dir",
        str(root),
        "--user",
        "alice",
        "--into",
        "/Archive/share",
        "--on-conflict",
        "replace",
    )

    assert "is not a directory" in str(fails("import_dir", str(root / "b.txt"), "--user", "alice"))
    assert "no user called" in str(fails("import_dir", str(root), "--user", "nobody"))
    assert "Cannot import into /x/..: " in str(
        fails("import_dir", str(root), "--user", "alice", "--into", "/x/..")
    )


def test_import_dir_stops_with_a_clear_message_at_the_quota(alice, tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    (root / "1.bin").write_bytes(b"x" * 60)
    (root / "2.bin").write_bytes(b"x" * 60)
    type(alice).objects.filter(pk=alice.pk).update(quota_bytes=100)

    error = fails("import_dir", str(root), "--user", "alice")

    message = str(error)
    assert message.startswith("Imported 1 file (60 bytes) in 0 folders")
    assert "Stopped at 2.bin: Not enough space" in message
    assert "--on-conflict replace" in message
    assert Node.objects.filter(owner=alice, name="1.bin").exists()
    assert not Node.objects.filter(owner=alice, name="2.bin").exists()


# --- progress ------------------------------------------------------------------------


def test_progress_draws_only_on_a_terminal():
    ticks = iter(range(1000))
    screen = Terminal()
    bar = Progress(screen, clock=lambda: next(ticks) * 1.0)
    bar.start("Scrubbing", 4096, unit="bytes")
    bar.advance(1024)
    bar.clear()
    bar.advance(3072)
    bar.finish()
    drawn = screen.getvalue()
    assert "\r\x1b[KScrubbing [" in drawn
    assert "1.0 KiB/4.0 KiB" in drawn
    assert "100% 4.0 KiB/4.0 KiB" in drawn
    assert drawn.endswith("\n")

    piped = io.StringIO()
    quiet = Progress.to(piped)
    quiet.start("x", 3)
    quiet.advance(3)
    quiet.finish()
    assert piped.getvalue() == ""
    assert Progress.to(Terminal(), enabled=False).enabled is False
    assert human_bytes(1536) == "1.5 KiB" and human_bytes(12) == "12 B"


def test_commands_draw_a_bar_on_a_terminal_unless_told_not_to(alice, upload):
    upload("a.txt", b"abc")
    screen = Terminal()
    call_command("scrub", stdout=io.StringIO(), stderr=screen)
    assert "Scrubbing [" in screen.getvalue()

    screen = Terminal()
    call_command("scrub", "--no-progress", stdout=io.StringIO(), stderr=screen)
    assert screen.getvalue() == ""
