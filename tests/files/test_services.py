"""The file services, each with its failure cases, against the real database and storage."""

import pytest
from django.core.files.storage import default_storage

from files import selectors, services, tree
from files.errors import (
    InvalidMove,
    InvalidName,
    NameConflict,
    NodeNotFound,
    NotAFolder,
    NotInTrash,
    QuotaExceeded,
)
from files.models import Blob, FileVersion, Node, Tag
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


def used(user):
    user.refresh_from_db()
    return user.used_bytes


def live_names(folder):
    return sorted(
        Node.objects.filter(parent=folder, trashed_at__isnull=True).values_list("name", flat=True)
    )


# --- names --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("", "cannot be empty"),
        ("a/b", "cannot contain '/'"),
        ("bad\x00name", "control characters"),
        ("tab\there", "control characters"),
        (".", "cannot be '.' or '..'"),
        ("..", "cannot be '.' or '..'"),
        ("   ", "only spaces"),
        ("x" * 256, "at most 255 characters"),
    ],
)
def test_bad_names_say_which_rule_failed(alice, home, name, rule):
    with pytest.raises(InvalidName, match=rule):
        services.folder_create(owner=alice, parent=home, name=name)
    assert live_names(home) == []


def test_spaces_at_the_ends_of_a_name_are_trimmed_by_every_service(alice, home):
    folder = services.folder_create(owner=alice, parent=home, name="  Reports ")
    assert folder.name == "Reports"
    file = services.file_upload(
        owner=alice, parent=folder, name=" notes.txt  ", received=received(b"x")
    )
    assert file.name == "notes.txt"
    renamed = services.node_rename(node=file, name="  minutes.txt ")
    assert renamed.name == "minutes.txt"
    # Inner spaces stay; a name that differs only in end spaces is the same name.
    assert services.folder_create(owner=alice, parent=home, name=" a  b ").name == "a  b"
    with pytest.raises(NameConflict):
        services.folder_create(owner=alice, parent=home, name="Reports   ")


def test_the_home_folder_is_called_your_files_in_every_refusal(alice, home):
    other = services.folder_create(owner=alice, parent=home, name="Other")
    refusals = [
        (lambda: services.node_rename(node=home, name="x"), "“Your files” cannot be renamed."),
        (lambda: services.node_move(node=home, new_parent=other), "“Your files” cannot be moved."),
        (lambda: services.node_trash(node=home), "“Your files” cannot be trashed."),
        (lambda: services.node_copy(node=home, new_parent=other), "“Your files” cannot be copied"),
    ]
    for act, message in refusals:
        with pytest.raises(InvalidMove) as caught:
            act()
        assert caught.value.message.startswith(message)
    with pytest.raises(NameConflict, match="already exists in “Your files”"):
        services.folder_create(owner=alice, parent=home, name="Other")


def test_names_are_nfc_normalised(alice, home):
    decomposed = "Cafe\u0301"
    folder = services.folder_create(owner=alice, parent=home, name=decomposed)
    assert folder.name == "Caf\u00e9"
    with pytest.raises(NameConflict):
        services.folder_create(owner=alice, parent=home, name="Caf\u00e9")


def test_255_characters_is_fine(alice, home):
    assert len(services.folder_create(owner=alice, parent=home, name="y" * 255).name) == 255


# --- folders and uploads ------------------------------------------------------------


def test_every_account_has_one_home_folder(alice):
    homes = Node.objects.filter(owner=alice, parent__isnull=True)
    assert homes.count() == 1
    assert homes.get().is_folder
    assert tree.path_of(homes.get()) == "/"


def test_folder_ensure_path_is_mkdir_p(alice, home):
    deep = services.folder_ensure_path(owner=alice, path="/a/b/c")
    again = services.folder_ensure_path(owner=alice, path="a/b/c/")
    assert deep.pk == again.pk
    assert tree.path_of(deep) == "/a/b/c"
    assert Node.objects.filter(owner=alice).count() == 4


def test_folder_ensure_path_through_a_file_is_refused(alice, upload):
    upload("notes")
    with pytest.raises(NotAFolder, match="is a file"):
        services.folder_ensure_path(owner=alice, path="/notes/sub")


def test_upload_conflict_modes(alice, home, upload):
    first = upload("report.pdf", b"one")
    with pytest.raises(NameConflict, match="already exists"):
        upload("report.pdf", b"two")
    renamed = upload("report.pdf", b"two", on_conflict="rename")
    assert renamed.name == "report (1).pdf"
    assert upload("report.pdf", b"three", on_conflict="rename").name == "report (2).pdf"
    replaced = upload("report.pdf", b"four", on_conflict="replace")
    assert replaced.pk == first.pk
    assert replaced.size == 4
    assert [v.size for v in FileVersion.objects.filter(node=first)] == [3]
    assert live_names(home) == ["report (1).pdf", "report (2).pdf", "report.pdf"]
    assert used(alice) == 3 + 3 + 5 + 4


def test_replace_refuses_to_overwrite_a_folder(alice, home, upload, mkdir):
    mkdir("/photos")
    with pytest.raises(NameConflict, match="folder named"):
        upload("photos", b"x", on_conflict="replace")


def test_same_content_is_stored_once(alice, mallory, upload):
    upload("a.txt", b"same bytes")
    upload("b.txt", b"same bytes")
    upload("c.txt", b"same bytes", owner=mallory)
    assert Blob.objects.count() == 1
    blob = Blob.objects.get()
    assert default_storage.exists(blob.storage_key)
    assert blob.storage_key == f"blobs/{blob.sha256[:2]}/{blob.sha256[2:4]}/{blob.sha256}"
    stored = default_storage.listdir(f"blobs/{blob.sha256[:2]}/{blob.sha256[2:4]}")[1]
    assert stored == [blob.sha256]
    # Each owner is charged for their own files, shared content or not.
    assert used(alice) == 20
    assert used(mallory) == 10


def test_upload_leaves_no_temp_file(alice, upload, settings):
    import os

    upload("a.bin", b"x" * 5000)
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_mime_type_comes_from_content(upload):
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    assert upload("holiday.txt", png).mime_type == "image/png"
    assert upload("report.pdf", b"%PDF-1.7\n%...").mime_type == "application/pdf"
    assert upload("script.py", b"print('hi')\n").mime_type == "text/x-python"
    assert upload("noext", b"plain words").mime_type == "text/plain"
    assert upload("blob", b"\x00\x01\x02\xff").mime_type == "application/octet-stream"


def test_upload_into_a_file_or_trashed_folder_is_refused(alice, upload, mkdir):
    file = upload("f.txt")
    with pytest.raises(NotAFolder):
        upload("x.txt", parent=file)
    folder = mkdir("/gone")
    services.node_trash(node=folder)
    with pytest.raises(NodeNotFound, match="in the trash"):
        upload("x.txt", parent=folder)


def test_upload_into_another_users_folder_is_refused(alice, mallory, upload):
    with pytest.raises(NodeNotFound):
        upload("x.txt", owner=alice, parent=tree.home_of(mallory))


# --- quota --------------------------------------------------------------------------


def test_quota_is_checked_before_bytes_are_committed(alice, home, upload):
    alice.quota_bytes = 10
    alice.save()
    upload("a.txt", b"123456")
    with pytest.raises(QuotaExceeded, match="Not enough space"):
        upload("b.txt", b"123456")
    assert live_names(home) == ["a.txt"]
    assert used(alice) == 6
    assert Blob.objects.count() == 1
    upload("c.txt", b"1234")
    assert used(alice) == 10


def test_trash_and_versions_count_until_purged(alice, home, upload):
    node = upload("a.txt", b"12345")
    upload("a.txt", b"1234567", on_conflict="replace")
    assert used(alice) == 12
    services.node_trash(node=node)
    assert used(alice) == 12
    node.refresh_from_db()
    assert services.node_delete(node=node) == 12
    assert used(alice) == 0
    assert selectors.user_usage_bytes(owner=alice) == 0


# --- rename, move, copy -------------------------------------------------------------


def test_rename(alice, home, upload):
    node = upload("a.txt")
    upload("b.txt")
    assert services.node_rename(node=node, name="c.txt").name == "c.txt"
    with pytest.raises(NameConflict):
        services.node_rename(node=node, name="b.txt")
    with pytest.raises(InvalidName):
        services.node_rename(node=node, name="x/y")
    with pytest.raises(InvalidMove):
        services.node_rename(node=home, name="home")
    assert live_names(home) == ["b.txt", "c.txt"]


def test_move_and_its_refusals(alice, home, upload, mkdir):
    a = mkdir("/a")
    b = mkdir("/a/b")
    file = upload("f.txt", parent=b)
    moved = services.node_move(node=b, new_parent=home)
    file.refresh_from_db()
    assert tree.path_of(moved) == "/b"
    assert tree.path_of(file) == "/b/f.txt"
    with pytest.raises(InvalidMove, match="into itself"):
        services.node_move(node=b, new_parent=b)
    c = mkdir("/b/c")
    with pytest.raises(InvalidMove, match="one of its own subfolders"):
        services.node_move(node=b, new_parent=c)
    upload("f.txt", parent=a)
    with pytest.raises(NameConflict):
        services.node_move(node=file, new_parent=a)
    with pytest.raises(NotAFolder):
        services.node_move(node=c, new_parent=file)
    with pytest.raises(InvalidMove):
        services.node_move(node=home, new_parent=a)
    assert tree.check(alice) == []


def test_move_into_another_users_folder_is_refused(alice, mallory, mkdir):
    folder = mkdir("/mine")
    with pytest.raises(NodeNotFound):
        services.node_move(node=folder, new_parent=tree.home_of(mallory))


def test_copy_a_folder_shares_blobs_and_charges_quota(alice, home, upload, mkdir):
    src = mkdir("/src/inner")
    upload("x.txt", b"12345", parent=src)
    top = src.parent
    tagged = upload("y.txt", b"abc", parent=top)
    services.node_set_tags(node=tagged, names=["work"])
    copy = services.node_copy(node=top, new_parent=home)
    assert copy.name == "src (1)"
    names = sorted(tree.path_of(n) for n in tree.descendants(copy))
    assert names == ["/src (1)/inner", "/src (1)/inner/x.txt", "/src (1)/y.txt"]
    assert Blob.objects.count() == 2
    assert used(alice) == 16
    copied_y = Node.objects.get(parent=copy, name="y.txt")
    assert [t.name for t in copied_y.tags.all()] == ["work"]
    with pytest.raises(InvalidMove):
        services.node_copy(node=top, new_parent=src)
    assert tree.check(alice) == []


def test_copy_of_a_deep_folder_keeps_its_shape_and_the_tree_consistent(alice, home, upload, mkdir):
    """The copy lands before other folders' nodes (they must shift) and leaves out what
    is in the trash, with everything below it."""
    for path in ("/a/b/c", "/a/b/d", "/a/e", "/a/gone/deeper", "/z/after"):
        mkdir(path)
    upload("1.txt", b"one", parent=selectors.node_at_path(alice, "/a/b/c"))
    upload("2.txt", b"two", parent=selectors.node_at_path(alice, "/a/b"))
    services.node_set_tags(
        node=upload("3.txt", b"three", parent=selectors.node_at_path(alice, "/a/e")),
        names=["keep", "this"],
    )
    upload("old.txt", b"old", parent=selectors.node_at_path(alice, "/a/gone/deeper"))
    services.node_trash(node=selectors.node_at_path(alice, "/a/gone"))
    target = mkdir("/a/e/into")  # inside the source's own neighbour, left of /z
    before = used(alice)

    copy = services.node_copy(node=selectors.node_at_path(alice, "/a/b"), new_parent=target)
    assert tree.check(alice) == []
    assert sorted(tree.path_of(n) for n in tree.descendants(copy, include_self=True)) == [
        "/a/e/into/b",
        "/a/e/into/b/2.txt",
        "/a/e/into/b/c",
        "/a/e/into/b/c/1.txt",
        "/a/e/into/b/d",
    ]
    assert used(alice) == before + 6
    whole = services.node_copy(node=selectors.node_at_path(alice, "/a"), new_parent=home)
    assert tree.check(alice) == []
    copied = {tree.path_of(n) for n in tree.descendants(whole)}
    assert "/a (1)/e/3.txt" in copied and "/a (1)/e/into/b/c/1.txt" in copied
    assert not any("gone" in path or "old.txt" in path for path in copied)
    tags = selectors.node_at_path(alice, "/a (1)/e/3.txt").tags.all()
    assert sorted(tag.name for tag in tags) == ["keep", "this"]
    # The copies behave like saved nodes: renamed, moved and written beside afterwards.
    services.node_rename(node=whole, name="a copy")
    services.node_move(node=copy, new_parent=selectors.node_at_path(alice, "/z"))
    upload("late.txt", b"late", parent=selectors.node_at_path(alice, "/a copy/b"))
    assert tree.check(alice) == []
    assert selectors.node_at_path(alice, "/z/b/c/1.txt").size == 3


def test_copy_over_quota_is_refused_whole(alice, home, upload, mkdir):
    folder = mkdir("/big")
    upload("a", b"x" * 6, parent=folder)
    alice.quota_bytes = 10
    alice.save()
    with pytest.raises(QuotaExceeded):
        services.node_copy(node=folder, new_parent=home)
    assert live_names(home) == ["big"]


# --- trash and restore --------------------------------------------------------------


def test_trash_takes_the_whole_subtree_in_one_step(alice, home, upload, mkdir):
    folder = mkdir("/docs/deep")
    upload("a.txt", parent=folder)
    top = folder.parent
    services.node_trash(node=top)
    assert Node.objects.filter(owner=alice, trashed_at__isnull=True).count() == 1
    entries = Node.objects.filter(owner=alice, is_trash_root=True)
    assert [(e.name, e.trashed_from) for e in entries] == [("docs", "/")]
    with pytest.raises(NodeNotFound, match="already in the trash"):
        services.node_trash(node=top)
    with pytest.raises(InvalidMove):
        services.node_trash(node=home)


def test_restore_to_where_it_was(alice, upload, mkdir):
    folder = mkdir("/docs")
    node = upload("a.txt", parent=folder)
    services.node_trash(node=node)
    restored = services.node_restore(node=node)
    assert tree.path_of(restored) == "/docs/a.txt"
    assert not restored.is_trash_root and restored.trashed_at is None
    with pytest.raises(NotInTrash):
        services.node_restore(node=restored)


def test_restore_gives_a_taken_name_a_new_one(alice, home, upload):
    old = upload("a.txt", b"old")
    services.node_trash(node=old)
    upload("a.txt", b"new")
    restored = services.node_restore(node=old)
    assert restored.name == "a (1).txt"
    assert live_names(home) == ["a (1).txt", "a.txt"]


def test_restore_recreates_missing_parents(alice, home, upload, mkdir):
    folder = mkdir("/projects/2026")
    node = upload("plan.txt", b"plan", parent=folder)
    services.node_trash(node=node)
    projects = folder.parent
    services.node_trash(node=projects)
    projects.refresh_from_db()
    services.node_delete(node=projects)
    # The file trashed before its folder is still in the trash, and still counted.
    node.refresh_from_db()
    assert node.is_trash_root and node.trashed_from == "/projects/2026"
    assert used(alice) == 4
    restored = services.node_restore(node=node)
    assert tree.path_of(restored) == "/projects/2026/plan.txt"
    assert tree.check(alice) == []


def test_restoring_a_folder_brings_back_only_what_went_with_it(alice, upload, mkdir):
    folder = mkdir("/f")
    a = upload("a.txt", parent=folder)
    upload("b.txt", parent=folder)
    services.node_trash(node=a)
    services.node_trash(node=folder)
    folder.refresh_from_db()
    services.node_restore(node=folder)
    assert live_names(folder) == ["b.txt"]
    a.refresh_from_db()
    assert a.is_trash_root and a.trashed_at is not None


def test_restore_into_a_trashed_parent_recreates_it(alice, home, upload, mkdir):
    folder = mkdir("/f")
    a = upload("a.txt", parent=folder)
    services.node_trash(node=a)
    services.node_trash(node=folder)
    restored = services.node_restore(node=a)
    assert tree.path_of(restored) == "/f/a.txt"
    assert restored.parent_id != folder.pk
    # The old folder stays in the trash; restoring it gets a fresh name.
    folder.refresh_from_db()
    assert services.node_restore(node=folder).name == "f (1)"


def test_delete_forever_only_from_trash(alice, upload):
    node = upload("a.txt")
    with pytest.raises(NotInTrash):
        services.node_delete(node=node)
    assert Node.objects.filter(pk=node.pk).exists()


def test_empty_trash(alice, home, upload, mkdir):
    for name in ["a", "b", "c"]:
        services.node_trash(node=upload(name, b"12"))
    folder = mkdir("/d")
    upload("e", b"123", parent=folder)
    services.node_trash(node=folder)
    keep = upload("keep", b"1")
    assert services.trash_empty(owner=alice) == (4, 9)
    assert list(Node.objects.filter(owner=alice).exclude(pk=home.pk)) == [keep]
    assert used(alice) == 1
    assert tree.check(alice) == []


# --- versions, favourites, tags -----------------------------------------------------


def test_versions_restore_and_delete(alice, upload):
    node = upload("doc.txt", b"v1")
    upload("doc.txt", b"v2-", on_conflict="replace")
    upload("doc.txt", b"v3--", on_conflict="replace")
    versions = list(FileVersion.objects.filter(node=node))
    assert [v.size for v in versions] == [3, 2]
    assert used(alice) == 2 + 3 + 4
    v1 = versions[1]
    restored = services.version_restore(version=v1)
    assert restored.size == 2 and restored.blob_id == v1.blob_id
    # Restoring is a new version: v3 is kept.
    assert sorted(v.size for v in FileVersion.objects.filter(node=node)) == [2, 3, 4]
    assert used(alice) == 2 + 3 + 4 + 2
    services.version_delete(version=FileVersion.objects.filter(node=node, size=3).get())
    assert used(alice) == 2 + 4 + 2
    assert used(alice) == selectors.user_usage_bytes(owner=alice)


def test_uploading_identical_content_makes_no_version(alice, upload):
    node = upload("doc.txt", b"same")
    upload("doc.txt", b"same", on_conflict="replace")
    assert FileVersion.objects.filter(node=node).count() == 0
    assert used(alice) == 4


def test_favourite_and_tags(alice, mallory, upload):
    node = upload("a.txt")
    assert services.node_set_favorite(node=node, is_favorite=True).is_favorite
    services.node_set_tags(node=node, names=["Work", "urgent", "work "])
    assert sorted(t.name for t in node.tags.all()) == ["Work", "urgent"]
    other = upload("b.txt")
    services.node_set_tags(node=other, names=["WORK"])
    assert Tag.objects.filter(owner=alice).count() == 2
    with pytest.raises(InvalidName, match="empty"):
        services.node_set_tags(node=node, names=[""])
    with pytest.raises(InvalidName, match="comma"):
        services.node_set_tags(node=node, names=["a,b"])
    services.node_set_tags(node=upload("m.txt", owner=mallory), names=["work"])
    assert Tag.objects.filter(owner=mallory).count() == 1


def test_usage_recompute_repairs_drift(alice, upload):
    upload("a.txt", b"12345")
    from accounts.models import User

    User.objects.filter(pk=alice.pk).update(used_bytes=999)
    assert services.usage_recompute(owner=alice) == (999, 5)
    assert used(alice) == 5


def test_raw_received_content_is_hashed_as_it_streams():
    import hashlib

    data = b"z" * (3 * 1024 * 1024 + 7)
    result = received(data)
    try:
        assert result.size == len(data)
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.head == data[:8192]
    finally:
        result.discard()
