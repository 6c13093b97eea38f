"""Many files in one request: POST /api/v1/nodes/upload-many/ and services.file_upload_batch.

All of a batch is stored or none of it; each file lands where a single upload would put it."""

from __future__ import annotations

import io
import os

import pytest
from django.conf import settings
from django.core.files.storage import default_storage

from files import services, tree
from files.errors import InvalidName, NameConflict, QuotaExceeded
from files.ingest import Received, Upload
from files.models import Blob, FileVersion, Node
from tests.files.conftest import received

pytestmark = pytest.mark.django_db

URL = "/api/v1/nodes/upload-many/"


def named(name: str, content: bytes) -> io.BytesIO:
    part = io.BytesIO(content)
    part.name = name
    return part


def send(api, files: list[tuple[str, bytes]], **fields):
    data = {"file": [named(name, content) for name, content in files], **fields}
    return api.post(URL, data, format="multipart")


def live(folder: Node) -> dict[str, bytes]:
    """The folder's live files by name, with their stored bytes."""
    out = {}
    for node in Node.objects.filter(parent=folder, trashed_at__isnull=True, is_folder=False):
        with default_storage.open(node.blob.storage_key) as handle:
            out[node.name] = handle.read()
    return out


def used(user) -> int:
    user.refresh_from_db()
    return user.used_bytes


def upload_many(*, files: list[tuple[str, Received]], **kwargs) -> list[Node]:
    """The batch service, as the transports call it."""
    batch = [Upload(name=name, received=content) for name, content in files]
    return services.file_upload_batch(files=batch, **kwargs).nodes


def temp_files() -> list[str]:
    return os.listdir(settings.FILE_UPLOAD_TEMP_DIR)


# --- the service --------------------------------------------------------------------------


def test_a_batch_lands_like_single_uploads_in_one_consistent_tree(alice):
    folder = services.folder_ensure_path(owner=alice, path="/Photos")
    services.folder_ensure_path(owner=alice, path="/Zebra")  # a sibling to the right
    files = [(f"img {n:03d}.txt", f"picture {n}".encode()) for n in range(120)]
    files.append(("same.txt", b"picture 7"))  # known content: stored once
    nodes = upload_many(
        owner=alice, parent=folder, files=[(name, received(data)) for name, data in files]
    )
    assert [node.name for node in nodes] == [name for name, _ in files]
    assert live(folder) == dict(files)
    assert tree.check(alice) == []
    assert Blob.objects.count() == 120
    assert nodes[-1].blob_id == nodes[7].blob_id
    assert used(alice) == sum(len(data) for _, data in files)
    assert {node.mime_type for node in nodes} == {"text/plain"}
    # The tree stays usable for ordinary writes after the batch.
    single = services.file_upload(
        owner=alice, parent=folder, name="after.txt", received=received(b"after")
    )
    assert tree.path_of(single) == "/Photos/after.txt"
    services.node_move(node=tree.refresh(folder), new_parent=Node.objects.get(name="Zebra"))
    assert tree.check(alice) == []
    assert temp_files() == []


def test_rename_avoids_existing_names_and_names_later_in_the_batch(alice, home):
    services.file_upload(owner=alice, parent=home, name="a.txt", received=received(b"old"))
    nodes = upload_many(
        owner=alice,
        parent=home,
        files=[("a.txt", received(b"new")), ("a (1).txt", received(b"mine"))],
        on_conflict="rename",
    )
    assert [node.name for node in nodes] == ["a (2).txt", "a (1).txt"]
    assert live(home) == {"a.txt": b"old", "a (2).txt": b"new", "a (1).txt": b"mine"}
    assert tree.check(alice) == []


def test_replace_makes_versions_and_adds_the_new_names(alice, home):
    old = services.file_upload(owner=alice, parent=home, name="a.txt", received=received(b"v1"))
    nodes = upload_many(
        owner=alice,
        parent=home,
        files=[("a.txt", received(b"v2")), ("b.txt", received(b"bee"))],
        on_conflict="replace",
    )
    assert nodes[0].pk == old.pk
    assert live(home) == {"a.txt": b"v2", "b.txt": b"bee"}
    assert FileVersion.objects.filter(node=old).count() == 1
    assert used(alice) == len(b"v1") + len(b"v2") + len(b"bee")


def test_a_clash_under_fail_stores_nothing(alice, home):
    services.file_upload(owner=alice, parent=home, name="b.txt", received=received(b"kept"))
    before = used(alice)
    with pytest.raises(NameConflict, match=r"b\.txt"):
        upload_many(
            owner=alice,
            parent=home,
            files=[("a.txt", received(b"a")), ("b.txt", received(b"b"))],
        )
    assert live(home) == {"b.txt": b"kept"}
    assert used(alice) == before
    assert tree.check(alice) == []
    assert temp_files() == []


def test_a_folder_is_never_replaced_by_a_file(alice, home):
    services.folder_ensure_path(owner=alice, path="/docs")
    with pytest.raises(NameConflict):
        upload_many(
            owner=alice, parent=home, files=[("docs", received(b"x"))], on_conflict="replace"
        )
    assert Node.objects.get(parent=home, name="docs").is_folder


def test_a_batch_over_quota_is_refused_whole(alice, home):
    alice.quota_bytes = 10
    alice.save()
    with pytest.raises(QuotaExceeded, match="Not enough space"):
        upload_many(
            owner=alice,
            parent=home,
            files=[("a.txt", received(b"123456")), ("b.txt", received(b"123456"))],
        )
    assert live(home) == {}
    assert used(alice) == 0
    assert Blob.objects.count() == 0
    assert temp_files() == []


def test_bad_and_repeated_names_are_refused_naming_the_file(alice, home):
    with pytest.raises(InvalidName, match=r"File 2 \(“\.\.”\)"):
        upload_many(
            owner=alice, parent=home, files=[("ok.txt", received(b"1")), ("..", received(b"2"))]
        )
    with pytest.raises(InvalidName, match="sent twice"):
        upload_many(
            owner=alice,
            parent=home,
            files=[("x.txt", received(b"1")), ("x.txt", received(b"2"))],
        )
    with pytest.raises(InvalidName, match="at least one"):
        upload_many(owner=alice, parent=home, files=[])
    assert live(home) == {}
    assert temp_files() == []


def test_a_batch_holds_as_many_files_as_a_request_may_carry(alice, home, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    with pytest.raises(InvalidName, match="at most 2 files"):
        upload_many(
            owner=alice, parent=home, files=[(f"{n}.txt", received(b"x")) for n in range(3)]
        )
    assert live(home) == {}
    assert temp_files() == []


# --- the API ------------------------------------------------------------------------------


def test_api_uploads_many_files_into_a_folder(alice_api, alice):
    folder = services.folder_ensure_path(owner=alice, path="/in")
    files = [(f"f{n}.bin", os.urandom(4096)) for n in range(25)]
    response = send(alice_api, files, parent=folder.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["count"] == 25
    assert [item["path"] for item in body["results"]] == [f"/in/{name}" for name, _ in files]
    assert all(item["tags"] == [] and len(item["sha256"]) == 64 for item in body["results"])
    assert live(folder) == dict(files)
    # Replacing every one of them: 200, and each file keeps its id.
    again = send(
        alice_api, [(name, b"new") for name, _ in files], parent=folder.pk, on_conflict="replace"
    )
    assert again.status_code == 200
    assert [item["id"] for item in again.json()["results"]] == [
        item["id"] for item in body["results"]
    ]


def test_api_refusals_say_what_was_wrong_and_store_nothing(alice_api, alice, mallory):
    home = tree.home_of(alice)
    services.file_upload(owner=alice, parent=home, name="taken.txt", received=received(b"kept"))
    clash = send(alice_api, [("new.txt", b"1"), ("taken.txt", b"2")])
    assert clash.status_code == 409 and "taken.txt" in clash.json()["detail"]
    twice = send(alice_api, [("x.txt", b"1"), ("x.txt", b"2")])
    assert twice.status_code == 400 and "sent twice" in twice.json()["detail"]
    nothing = alice_api.post(URL, {"on_conflict": "rename"}, format="multipart")
    assert nothing.status_code == 400 and "file" in nothing.json()
    mode = send(alice_api, [("y.txt", b"1")], on_conflict="overwrite")
    assert mode.status_code == 400 and "on_conflict" in mode.json()
    elsewhere = send(alice_api, [("z.txt", b"1"), ("w.txt", b"2")], parent=tree.home_of(mallory).pk)
    assert elsewhere.status_code == 404
    assert live(home) == {"taken.txt": b"kept"}
    assert temp_files() == []


def test_api_refuses_more_files_than_a_batch_holds(alice_api, alice, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    response = send(alice_api, [(f"{n}.txt", b"x") for n in range(4)])
    assert response.status_code == 400
    assert "at most 3 files" in response.json()["detail"]
    assert live(tree.home_of(alice)) == {}
    assert temp_files() == []


def test_the_upload_size_limit_holds_for_each_file_of_a_batch(alice_api, alice, settings):
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 5000
    home = tree.home_of(alice)
    fine = send(alice_api, [(f"{n}.bin", os.urandom(4000)) for n in range(3)])
    assert fine.status_code == 201  # 12,000 bytes in all, each under the limit
    too_big = send(alice_api, [("small.bin", b"x"), ("huge.bin", b"x" * 6000)])
    assert too_big.status_code == 413
    assert "largest upload this server accepts" in too_big.json()["detail"]
    assert sorted(live(home)) == ["0.bin", "1.bin", "2.bin"]
    assert temp_files() == []


def test_the_endpoint_is_in_the_openapi_schema(alice_api):
    schema = alice_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    post = schema["paths"]["/api/v1/nodes/upload-many/"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"201", "200"} <= set(post["responses"])


def test_api_needs_a_signed_in_user(api):
    assert send(api, [("a.txt", b"1")]).status_code == 401


def test_a_batch_costs_the_same_queries_for_3_files_as_for_30(alice, home):
    """One activity INSERT, one tree write and one blob look-up per batch, not per file; every
    new file still gets its upload entry in the activity log, naming the folder."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from files.models import Activity

    folder = services.folder_create(owner=alice, parent=home, name="Inbox")

    def cost(tag: str, count: int) -> int:
        files = [(f"{tag}-{i}.txt", received(f"{tag} {i}".encode())) for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            upload_many(owner=alice, parent=folder, files=files)
        return len(queries)

    assert cost("small", 3) == cost("large", 30)
    entries = Activity.objects.filter(kind=Activity.Kind.UPLOAD, node__parent=folder)
    assert entries.count() == 33
    assert set(entries.values_list("where", flat=True)) == {"/Inbox"}


def test_an_api_batch_costs_the_same_queries_for_5_files_as_for_50(api, alice):
    """Through the API with a token, as scripts send them: the request's queries do not grow
    with the batch, and the folder's owner (the person asking) is not read again."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.services import token_create

    _, raw = token_create(user=alice, name="sync")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    folder = services.folder_ensure_path(owner=alice, path="/in")
    assert send(api, [("warm.bin", b"w")], parent=folder.pk).status_code == 201

    def cost(tag: str, count: int) -> list[str]:
        files = [(f"{tag}{n}.bin", os.urandom(4096)) for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            response = send(api, files, parent=folder.pk)
        assert response.status_code == 201, response.content
        assert response.json()["count"] == count
        return [query["sql"] for query in queries]

    few, many = cost("few", 5), cost("many", 50)
    assert len(few) == len(many)
    users = connection.ops.quote_name(alice._meta.db_table)
    assert sum(f"FROM {users}" in sql for sql in many) == 1  # the token's look-up
    assert len(live(folder)) == 56
