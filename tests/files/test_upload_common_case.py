"""The upload's common case (new files into a folder that exists, their names free) runs in
one short transaction whose node INSERT finds the folder itself; anything else rolls that
back and takes the general path. Nothing of the rolled-back attempt may remain."""

from __future__ import annotations

from typing import Any

import pytest

from files import selectors, services, tree
from files.blobs import open_blob
from files.errors import NameConflict, NodeNotFound, NotAFolder, QuotaExceeded
from files.ingest import Upload
from files.models import Activity, Blob, Node
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


def stored_bytes(node: Node) -> bytes:
    node.refresh_from_db()
    with open_blob(node.blob) as handle:
        return handle.read()


def used(user: Any) -> int:
    user.refresh_from_db()
    return user.used_bytes


def test_new_files_land_with_their_path_content_usage_and_activity(alice: Any) -> None:
    folder = services.folder_ensure_path(owner=alice, path="/A/B")
    node = services.file_upload_to_path(owner=alice, path="/A/B/x.txt", received=received(b"hi"))
    assert (node.parent_id, node.path) == (folder.pk, tree.key(folder))
    assert tree.check(alice) == []
    assert stored_bytes(node) == b"hi"
    assert used(alice) == 2
    assert Activity.objects.get(node=node).where == "/A/B"
    # by parent, several at once: the same path
    result = services.file_upload_batch(
        owner=alice,
        parent=folder,
        files=[
            Upload(name="y.txt", received=received(b"yy")),
            Upload(name="z.txt", received=received(b"hi")),  # known content
        ],
    )
    assert [n.name for n in result.nodes] == ["y.txt", "z.txt"]
    assert {n.parent_id for n in result.nodes} == {folder.pk}
    assert result.nodes[1].blob_id == node.blob_id  # stored once
    assert [stored_bytes(n) for n in result.nodes] == [b"yy", b"hi"]
    assert tree.path_of(result.folder) == "/A/B"
    assert tree.check(alice) == []
    assert used(alice) == 6
    assert list(Activity.objects.filter(node__in=result.nodes).values_list("where", flat=True)) == [
        "/A/B",
        "/A/B",
    ]


@pytest.mark.parametrize("how", ["path", "parent"])
def test_a_taken_name_rolls_the_common_case_back_and_the_general_path_decides(
    alice: Any, how: str
) -> None:
    folder = services.folder_ensure_path(owner=alice, path="/A")
    first = services.file_upload(owner=alice, parent=folder, name="x.bin", received=received(b"1"))
    where: dict[str, Any] = {"path": ["A"]} if how == "path" else {"parent": folder}

    def upload(content: bytes, on_conflict: Any) -> services.UploadResult:
        return services.file_upload_batch(
            owner=alice,
            files=[Upload(name="x.bin", received=received(content))],
            on_conflict=on_conflict,
            **where,
        )

    with pytest.raises(NameConflict):
        upload(b"new content", "fail")
    # Neither the charge nor the blob row of the rolled-back attempt remains.
    assert used(alice) == 1
    assert not Blob.objects.filter(size=len(b"new content")).exists()
    renamed = upload(b"renamed", "rename").nodes[0]
    # The temp file outlived the rolled-back attempt: the general path stored it.
    assert (renamed.name, stored_bytes(renamed)) == ("x (1).bin", b"renamed")
    replaced = upload(b"replaced", "replace").nodes[0]
    assert (replaced.pk, stored_bytes(replaced)) == (first.pk, b"replaced")
    expected = 1 + len(b"renamed") + len(b"replaced")
    assert used(alice) == expected == selectors.user_usage_bytes(owner=alice)
    assert Activity.objects.filter(kind=Activity.Kind.UPLOAD).count() == 2  # x.bin, x (1).bin
    assert tree.check(alice) == []


def test_a_missing_or_unusable_folder_takes_the_general_path(alice: Any, make_user: Any) -> None:
    made = services.file_upload_to_path(owner=alice, path="/New/x.txt", received=received(b"x"))
    assert (tree.path_of(made), stored_bytes(made)) == ("/New/x.txt", b"x")
    services.file_upload_to_path(owner=alice, path="/f.txt", received=received(b"f"))
    with pytest.raises(NotAFolder):
        services.file_upload_to_path(owner=alice, path="/f.txt/y.txt", received=received(b"y"))
    trashed = services.folder_ensure_path(owner=alice, path="/Old")
    services.node_trash(node=trashed)
    with pytest.raises(NodeNotFound):
        services.file_upload(owner=alice, parent=trashed, name="y.txt", received=received(b"y"))
    bob = make_user()
    with pytest.raises(NodeNotFound):  # someone else's folder
        services.file_upload(
            owner=bob, parent=tree.home_of(alice), name="y.txt", received=received(b"y")
        )
    assert used(alice) == 2
    assert used(bob) == 0
    assert tree.check(alice) == []


def test_no_room_takes_the_general_path_and_its_message(alice: Any) -> None:
    alice.quota_bytes = 10
    alice.save()
    services.file_upload_to_path(owner=alice, path="/a.bin", received=received(b"x" * 8))
    with pytest.raises(QuotaExceeded, match=r"this needs 5\sbytes but only 2\sbytes"):
        services.file_upload_to_path(owner=alice, path="/b.bin", received=received(b"y" * 5))
    assert used(alice) == 8
    assert not Node.objects.filter(name="b.bin").exists()
    # An empty file fits whatever the quota says, on either path.
    empty = services.file_upload_to_path(owner=alice, path="/empty", received=received(b""))
    assert (empty.size, stored_bytes(empty)) == (0, b"")


def test_a_batch_larger_than_one_statement_holds_is_stored_whole(alice: Any) -> None:
    """Past 500 files the general path stores the batch; the blobs' upsert is split."""
    folder = services.folder_ensure_path(owner=alice, path="/Many")
    files = [Upload(name=f"{i}.txt", received=received(b"%d" % i)) for i in range(501)]
    files.append(Upload(name="again.txt", received=received(b"7")))  # content sent twice
    result = services.file_upload_batch(owner=alice, parent=folder, files=files)
    assert len(result.nodes) == 502
    assert Node.objects.filter(parent=folder).count() == 502
    assert Blob.objects.count() == 501
    assert stored_bytes(result.nodes[500]) == b"500"
    assert result.nodes[-1].blob_id == result.nodes[7].blob_id
    assert tree.check(alice) == []


def test_the_folder_a_path_upload_reports_is_the_folder(alice: Any) -> None:
    folder = services.folder_ensure_path(owner=alice, path="/A/B")
    result = services.file_upload_batch(
        owner=alice, path=["A", "B"], files=[Upload(name="x", received=received(b"x"))]
    )
    got = result.folder
    assert (got.pk, got.parent_id, got.name, got.path, got.is_folder, got.trashed_at) == (
        folder.pk,
        folder.parent_id,
        "B",
        folder.path,
        True,
        None,
    )
