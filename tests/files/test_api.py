"""The files REST API as scripts use it."""

import io
import zipfile

import pytest

from files import services, tree
from files.models import FileVersion, Node

pytestmark = pytest.mark.django_db


def upload(api, filename, content=b"hello", **fields):
    data = {"file": io.BytesIO(content), **fields}
    data["file"].name = filename
    return api.post("/api/v1/nodes/upload/", data, format="multipart")


def put(api, path, content=b"hello", **params):
    query = "&".join(f"{k}={v}" for k, v in {"path": path, **params}.items())
    return api.generic(
        "PUT", f"/api/v1/files/content/?{query}", content, content_type="application/octet-stream"
    )


def test_create_folder_and_list_home(alice_api, alice):
    created = alice_api.post("/api/v1/nodes/", {"name": "Documents"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "Documents" and body["is_folder"] and body["path"] == "/Documents"
    listing = alice_api.get("/api/v1/nodes/").json()
    assert listing["folder"]["path"] == "/"
    assert [n["name"] for n in listing["results"]] == ["Documents"]
    assert listing["next"] is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a/b", "cannot contain '/'"),
        ("..", "cannot be '.' or '..'"),
        ("", "A name cannot be empty."),
        ("x" * 300, "at most 255 characters; this one has 300"),
    ],
)
def test_bad_folder_names_are_400_with_the_rule(alice_api, name, message):
    response = alice_api.post("/api/v1/nodes/", {"name": name}, format="json")
    assert response.status_code == 400
    assert message in str(response.json())


def test_a_rename_to_a_blank_name_gets_the_name_rule_not_a_field_message(alice_api):
    folder = alice_api.post("/api/v1/nodes/", {"name": "x"}, format="json").json()
    response = alice_api.patch(f"/api/v1/nodes/{folder['id']}/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "A name cannot be empty."
    renamed = alice_api.patch(f"/api/v1/nodes/{folder['id']}/", {"name": "  y  "}, format="json")
    assert renamed.json()["name"] == "y"


def test_name_conflict_is_409(alice_api):
    alice_api.post("/api/v1/nodes/", {"name": "x"}, format="json")
    response = alice_api.post("/api/v1/nodes/", {"name": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "name_conflict"


def test_listing_folders_first_sorted_and_paginated(alice_api, alice, home):
    for name in ["b-folder", "a-folder", "c-folder"]:
        services.folder_create(owner=alice, parent=home, name=name)
    for name, size in [("zeta.txt", 1), ("Alpha.txt", 30), ("mid.txt", 200)]:
        alice_api.post(
            "/api/v1/nodes/upload/", {"file": _named(name, b"x" * size)}, format="multipart"
        )

    names = [n["name"] for n in alice_api.get("/api/v1/nodes/").json()["results"]]
    assert names == ["a-folder", "b-folder", "c-folder", "Alpha.txt", "mid.txt", "zeta.txt"]
    by_size_desc = alice_api.get("/api/v1/nodes/?sort=size&order=desc").json()["results"]
    assert [n["name"] for n in by_size_desc][3:] == ["mid.txt", "Alpha.txt", "zeta.txt"]

    seen, url = [], "/api/v1/nodes/?limit=2"
    while url:
        page = alice_api.get(url).json()
        assert len(page["results"]) <= 2
        seen += [n["name"] for n in page["results"]]
        url = page["next"]
    assert seen == names


def test_listing_by_path_and_parent(alice_api, alice):
    folder = services.folder_ensure_path(owner=alice, path="/a/b")
    services.folder_ensure_path(owner=alice, path="/a/b/c")
    assert [n["name"] for n in alice_api.get("/api/v1/nodes/?path=/a/b").json()["results"]] == ["c"]
    listing = alice_api.get(f"/api/v1/nodes/?parent={folder.pk}").json()
    assert listing["folder"]["path"] == "/a/b"
    assert listing["results"][0]["path"] == "/a/b/c"
    assert alice_api.get("/api/v1/nodes/?path=/nope").status_code == 404


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("sort=colour", 400),
        ("order=sideways", 400),
        ("limit=0", 400),
        ("limit=abc", 400),
        ("limit=5000", 400),
        ("cursor=garbage", 400),
        ("parent=abc", 404),  # an id that names none of yours, like any other
    ],
)
def test_bad_listing_parameters_are_4xx_with_a_message(alice_api, query, status):
    response = alice_api.get(f"/api/v1/nodes/?{query}")
    assert response.status_code == status
    assert response.json()["detail"]


def test_listing_a_file_as_folder_is_400(alice_api, alice, home):
    up = upload(alice_api, "f.txt").json()
    assert alice_api.get(f"/api/v1/nodes/?parent={up['id']}").status_code == 400
    assert alice_api.get("/api/v1/nodes/?path=/f.txt").status_code == 400


def _named(name, content):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_multipart_upload_and_conflict_modes(alice_api, alice):
    first = upload(alice_api, "report.pdf", b"%PDF-1.4 one")
    assert first.status_code == 201
    body = first.json()
    assert body["mime_type"] == "application/pdf"
    assert len(body["sha256"]) == 64 and body["size"] == 12
    assert upload(alice_api, "report.pdf", b"two").status_code == 409
    renamed = upload(alice_api, "report.pdf", b"two", on_conflict="rename")
    assert renamed.status_code == 201 and renamed.json()["name"] == "report (1).pdf"
    replaced = upload(alice_api, "report.pdf", b"three", on_conflict="replace")
    assert replaced.status_code == 200 and replaced.json()["id"] == body["id"]
    versions = alice_api.get(f"/api/v1/nodes/{body['id']}/versions/").json()
    assert [v["size"] for v in versions] == [12]
    assert upload(alice_api, "x", on_conflict="overwrite").status_code == 400


def test_upload_into_a_folder_with_another_name(alice_api, alice):
    folder = services.folder_ensure_path(owner=alice, path="/in")
    response = upload(alice_api, "orig.txt", parent=folder.pk, name="renamed.txt")
    assert response.status_code == 201
    assert response.json()["path"] == "/in/renamed.txt"


def test_upload_with_wrong_content_type_is_415(alice_api):
    response = alice_api.post("/api/v1/nodes/upload/", {"file": "x"}, format="json")
    assert response.status_code == 415


def test_upload_without_a_file_is_400(alice_api):
    response = alice_api.post("/api/v1/nodes/upload/", {"parent": 1}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()


def test_upload_over_max_size_is_413_and_leaves_nothing(alice_api, alice, settings):
    import os

    settings.FILEFLOW_MAX_UPLOAD_SIZE = 1000
    response = upload(alice_api, "big.bin", b"x" * 5000)
    assert response.status_code == 413
    assert "largest upload" in response.json()["detail"]
    assert not Node.objects.filter(name="big.bin").exists()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []
    response = put(alice_api, "/big.bin", b"x" * 5000)
    assert response.status_code == 413


def test_upload_over_quota_is_413(alice_api, alice):
    alice.quota_bytes = 100
    alice.save()
    response = upload(alice_api, "big.bin", b"x" * 500_000)
    assert response.status_code == 413
    assert response.json()["code"] == "quota_exceeded"
    small = upload(alice_api, "small.bin", b"x" * 60)
    assert small.status_code == 201
    again = upload(alice_api, "small2.bin", b"x" * 60)
    assert again.status_code == 413
    assert "Not enough space" in again.json()["detail"]
    alice.refresh_from_db()
    assert alice.used_bytes == 60


def test_raw_put_creates_folders(alice_api, alice):
    response = put(alice_api, "/a/b/c.txt", b"raw bytes")
    assert response.status_code == 201
    assert response.json()["path"] == "/a/b/c.txt"
    assert put(alice_api, "/a/b/c.txt", b"again").status_code == 409
    replaced = put(alice_api, "/a/b/c.txt", b"again", on_conflict="replace")
    assert replaced.status_code == 200
    assert replaced.json()["path"] == "/a/b/c.txt"
    # The path answered is where the file is: normalised, and with its new name.
    kept = put(alice_api, "//a/b//c.txt", b"both", on_conflict="rename")
    assert kept.status_code == 201
    assert kept.json()["path"] == "/a/b/c (1).txt"
    assert kept.json()["path"] == tree.path_of(Node.objects.get(pk=kept.json()["id"]))
    assert put(alice_api, "/a/b/c.txt", b"x", on_conflict="bogus").status_code == 400
    assert put(alice_api, "/", b"x").status_code == 400
    assert put(alice_api, "/a/../x", b"x").status_code == 400


def test_empty_file_is_fine(alice_api):
    response = alice_api.generic(
        "PUT",
        "/api/v1/files/content/?path=/empty.txt",
        b"",
        content_type="application/octet-stream",
        CONTENT_LENGTH="0",
    )
    assert response.status_code == 201
    assert response.json()["size"] == 0


def test_chunked_put_without_length_is_411(alice_api, alice):
    response = alice_api.generic(
        "PUT",
        "/api/v1/files/content/?path=/c.txt",
        b"",
        content_type="application/octet-stream",
        HTTP_TRANSFER_ENCODING="chunked",
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    assert not Node.objects.filter(owner=alice, name="c.txt").exists()


def test_patch_rename_move_favourite_tags(alice_api, alice):
    node = upload(alice_api, "a.txt").json()
    folder = alice_api.post("/api/v1/nodes/", {"name": "dest"}, format="json").json()
    response = alice_api.patch(
        f"/api/v1/nodes/{node['id']}/",
        {"name": "b.txt", "parent": folder["id"], "is_favorite": True, "tags": ["work", "2026"]},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["path"] == "/dest/b.txt"
    assert body["is_favorite"] is True
    assert body["tags"] == ["2026", "work"]
    assert alice_api.patch(f"/api/v1/nodes/{node['id']}/", {}, format="json").status_code == 400


def test_patch_is_all_or_nothing(alice_api, alice):
    node = upload(alice_api, "a.txt").json()
    upload(alice_api, "taken.txt")
    folder = alice_api.post("/api/v1/nodes/", {"name": "dest"}, format="json").json()
    upload(alice_api, "taken.txt", parent=folder["id"])
    response = alice_api.patch(
        f"/api/v1/nodes/{node['id']}/", {"parent": folder["id"], "name": "taken.txt"}, format="json"
    )
    assert response.status_code == 409
    assert alice_api.get(f"/api/v1/nodes/{node['id']}/").json()["path"] == "/a.txt"


def test_move_into_own_subfolder_is_400(alice_api, alice):
    outer = services.folder_ensure_path(owner=alice, path="/outer/inner")
    response = alice_api.patch(
        f"/api/v1/nodes/{outer.parent_id}/", {"parent": outer.pk}, format="json"
    )
    assert response.status_code == 400
    assert "into itself or one of its own subfolders" in response.json()["detail"]


def test_trash_restore_and_empty(alice_api, alice):
    node = upload(alice_api, "a.txt").json()
    folder = alice_api.post("/api/v1/nodes/", {"name": "f"}, format="json").json()
    assert alice_api.delete(f"/api/v1/nodes/{node['id']}/").status_code == 204
    assert alice_api.delete(f"/api/v1/nodes/{folder['id']}/").status_code == 204
    assert alice_api.get("/api/v1/nodes/").json()["results"] == []
    trash = alice_api.get("/api/v1/trash/").json()
    assert trash["count"] == 2 and trash["retention_days"] == 30
    assert {e["path"] for e in trash["results"]} == {"/a.txt", "/f"}
    assert all(e["trashed_from"] == "/" and e["trashed_at"] for e in trash["results"])

    restored = alice_api.post(f"/api/v1/nodes/{node['id']}/restore/")
    assert restored.status_code == 200 and restored.json()["trashed_at"] is None
    assert alice_api.post(f"/api/v1/nodes/{node['id']}/restore/").status_code == 400

    assert alice_api.delete(f"/api/v1/trash/{node['id']}/").status_code == 400  # not in trash
    emptied = alice_api.delete("/api/v1/trash/").json()
    assert emptied == {"deleted": 1, "freed_bytes": 0}
    assert alice_api.get(f"/api/v1/nodes/{folder['id']}/").status_code == 404


def test_delete_one_trash_entry_frees_its_bytes(alice_api, alice):
    node = upload(alice_api, "a.txt", b"12345").json()
    alice_api.delete(f"/api/v1/nodes/{node['id']}/")
    assert alice_api.delete(f"/api/v1/trash/{node['id']}/").json() == {
        "deleted": 1,
        "freed_bytes": 5,
    }
    assert alice_api.get("/api/v1/me/").json()["used_bytes"] == 0


def test_copy(alice_api, alice):
    node = upload(alice_api, "a.txt").json()
    copy = alice_api.post(f"/api/v1/nodes/{node['id']}/copy/", {}, format="json")
    assert copy.status_code == 201 and copy.json()["name"] == "a (1).txt"
    folder = alice_api.post("/api/v1/nodes/", {"name": "f"}, format="json").json()
    named = alice_api.post(
        f"/api/v1/nodes/{node['id']}/copy/",
        {"parent": folder["id"], "name": "b.txt"},
        format="json",
    )
    assert named.json()["path"] == "/f/b.txt"
    assert alice_api.get("/api/v1/me/").json()["used_bytes"] == 15


def test_versions_restore_and_delete_via_api(alice_api, alice):
    node = upload(alice_api, "doc.txt", b"one").json()
    upload(alice_api, "doc.txt", b"two!", on_conflict="replace")
    versions = alice_api.get(f"/api/v1/nodes/{node['id']}/versions/").json()
    assert len(versions) == 1 and versions[0]["size"] == 3
    vid = versions[0]["id"]
    restored = alice_api.post(f"/api/v1/nodes/{node['id']}/versions/{vid}/restore/")
    assert restored.status_code == 200 and restored.json()["size"] == 3
    assert len(alice_api.get(f"/api/v1/nodes/{node['id']}/versions/").json()) == 2
    assert alice_api.delete(f"/api/v1/nodes/{node['id']}/versions/{vid}/").status_code == 204
    assert FileVersion.objects.filter(pk=vid).count() == 0
    assert alice_api.delete(f"/api/v1/nodes/{node['id']}/versions/{vid}/").status_code == 404
    assert alice_api.post(f"/api/v1/nodes/{node['id']}/versions/abc/restore/").status_code == 404


def test_unknown_ids_are_404(alice_api):
    assert alice_api.get("/api/v1/nodes/999999/").status_code == 404
    assert alice_api.get("/api/v1/nodes/abc/").status_code == 404


def test_schema_lists_the_files_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in [
        "/api/v1/nodes/",
        "/api/v1/nodes/{id}/",
        "/api/v1/nodes/upload/",
        "/api/v1/files/content/",
        "/api/v1/nodes/{id}/content/",
        "/api/v1/nodes/{id}/versions/",
        "/api/v1/trash/",
    ]:
        assert path in schema["paths"], path


def test_tree_stays_consistent_through_the_api(alice_api, alice):
    for i in range(5):
        put(alice_api, f"/d{i}/sub/f.txt", b"x")
    first = Node.objects.get(owner=alice, name="d0")
    last = Node.objects.get(owner=alice, name="d4")
    alice_api.patch(f"/api/v1/nodes/{first.pk}/", {"parent": last.pk}, format="json")
    alice_api.delete(f"/api/v1/nodes/{last.pk}/")
    alice_api.delete("/api/v1/trash/")
    assert tree.check(alice) == []
    assert Node.objects.filter(owner=alice).count() == 1 + 4 * 3 - 3


def test_zip_of_a_selection(alice_api, alice):
    import zipfile

    folder = services.folder_ensure_path(owner=alice, path="/pick")
    a = upload(alice_api, "a.txt", b"AAA", parent=folder.pk).json()
    b = upload(alice_api, "b.txt", b"BB", parent=folder.pk).json()
    sub = services.folder_ensure_path(owner=alice, path="/pick/sub")
    upload(alice_api, "c.txt", b"C", parent=sub.pk)
    response = alice_api.get(f"/api/v1/nodes/zip/?ids={a['id']},{b['id']},{sub.pk}")
    assert response.status_code == 200
    assert 'filename="pick.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()} == {
        "a.txt": b"AAA",
        "b.txt": b"BB",
        "sub/c.txt": b"C",
    }
    posted = alice_api.post("/api/v1/nodes/zip/", {"ids": [a["id"]]}, format="json")
    assert posted.status_code == 200


@pytest.mark.parametrize("ids", ["", "x", "1,,y", ",".join(["1"] * 1001)])
def test_zip_with_bad_ids_is_400(alice_api, ids):
    response = alice_api.get(f"/api/v1/nodes/zip/?ids={ids}")
    assert response.status_code == 400
    assert response.json()["field"] == "ids"


def test_zip_with_someone_elses_id_is_404(alice_api, mallory):
    other = services.folder_ensure_path(owner=mallory, path="/theirs")
    assert alice_api.get(f"/api/v1/nodes/zip/?ids={other.pk}").status_code == 404


def put_at(api, url_path, content=b"hello", query=""):
    return api.generic(
        "PUT",
        f"/api/v1/files/content/{url_path}{query}",
        content,
        content_type="application/octet-stream",
    )


def test_put_with_the_path_in_the_url(alice_api, alice):
    response = put_at(alice_api, "Documents/report.pdf", b"%PDF-1.4")
    assert response.status_code == 201
    assert response.json()["path"] == "/Documents/report.pdf"
    node = Node.objects.get(owner=alice, name="report.pdf")
    assert node.parent.name == "Documents" and node.size == 8


def test_put_with_a_percent_encoded_path_in_the_url(alice_api, alice):
    response = put_at(alice_api, "My%20Documents/r%C3%A9sum%C3%A9.txt", b"cv")
    assert response.status_code == 201
    assert response.json()["path"] == "/My Documents/résumé.txt"


def test_put_query_path_wins_over_curls_appended_file_name(alice_api, alice):
    # curl -T report.pdf ".../files/content/?path=/Documents/r.pdf" sends
    # PUT .../files/content/report.pdf?path=/Documents/r.pdf
    response = put_at(alice_api, "report.pdf", b"x", query="?path=/Documents/r.pdf")
    assert response.status_code == 201
    assert response.json()["path"] == "/Documents/r.pdf"


@pytest.mark.parametrize("url_path", ["", "Documents/"])
def test_put_without_a_file_name_is_a_400_saying_how(alice_api, url_path):
    response = put_at(alice_api, url_path)
    assert response.status_code == 400
    body = response.json()
    assert body["field"] == "path"
    assert "/api/v1/files/content/Documents/report.pdf" in body["detail"]


def test_multipart_upload_with_an_empty_name_is_refused(alice_api, alice):
    response = upload(alice_api, "a.txt", name="")
    assert response.status_code == 400
    assert "name" in response.json()
    assert not Node.objects.filter(owner=alice, name="a.txt").exists()


@pytest.mark.parametrize(
    "ids", ["", "x", "1,,y", str(2**63), "0", "-4", ",".join(["7"] * 1001), "1.5"]
)
def test_zip_of_a_bad_selection_is_a_400_on_ids(alice_api, ids):
    response = alice_api.get(f"/api/v1/nodes/zip/?ids={ids}")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "ids"


def test_zip_takes_ids_repeated_or_comma_separated(alice_api, alice):
    a = put(alice_api, "/a.txt", b"a").json()["id"]
    b = put(alice_api, "/b.txt", b"b").json()["id"]
    for query in (f"ids={a},{b}", f"ids={a}&ids={b}", f"ids={a},{b}&ids={a}"):
        response = alice_api.get(f"/api/v1/nodes/zip/?{query}")
        assert response.status_code == 200, query
        names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
        assert names == ["a.txt", "b.txt"], query
