"""Alice sees her files; mallory, with alice's ids in hand, gets 404 everywhere and changes
nothing. Another user's objects never answer 403, so their existence does not leak."""

import io

import pytest

from files import services, tree
from files.models import FileVersion, Node
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_things(alice):
    home = tree.home_of(alice)
    folder = services.folder_ensure_path(owner=alice, path="/private")
    file = services.file_upload(
        owner=alice, parent=folder, name="secret.txt", received=received(b"v1")
    )
    services.file_upload(
        owner=alice,
        parent=folder,
        name="secret.txt",
        received=received(b"v2"),
        on_conflict="replace",
    )
    trashed = services.file_upload(
        owner=alice, parent=home, name="old.txt", received=received(b"x")
    )
    services.node_trash(node=trashed)
    version = FileVersion.objects.get(node=file)
    return {"home": home, "folder": folder, "file": file, "trashed": trashed, "version": version}


@pytest.fixture
def mallory_api(mallory):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(mallory)
    return client


def snapshot(alice):
    return sorted(
        Node.objects.filter(owner=alice).values_list(
            "id", "name", "parent_id", "trashed_at", "is_favorite", "path"
        )
    ), FileVersion.objects.filter(node__owner=alice).count()


def endpoints(things):
    f, d, t, v, h = (things[k].pk for k in ("file", "folder", "trashed", "version", "home"))
    named = io.BytesIO(b"intruder")
    named.name = "x.txt"
    return [
        ("get", f"/api/v1/nodes/{f}/", None),
        ("get", f"/api/v1/nodes/?parent={d}", None),
        ("get", f"/api/v1/nodes/?parent={h}", None),
        ("post", "/api/v1/nodes/", {"parent": d, "name": "x"}),
        ("patch", f"/api/v1/nodes/{f}/", {"name": "pwned.txt"}),
        ("patch", f"/api/v1/nodes/{f}/", {"is_favorite": True}),
        ("patch", f"/api/v1/nodes/{f}/", {"tags": ["x"]}),
        ("delete", f"/api/v1/nodes/{f}/", None),
        ("post", f"/api/v1/nodes/{f}/copy/", {}),
        ("post", f"/api/v1/nodes/{t}/restore/", None),
        ("delete", f"/api/v1/trash/{t}/", None),
        ("get", f"/api/v1/nodes/{f}/content/", None),
        ("get", f"/api/v1/nodes/{d}/content/", None),
        ("get", f"/api/v1/nodes/zip/?ids={f},{d}", None),
        ("get", f"/api/v1/nodes/{f}/thumbnail/?size=64", None),
        ("get", f"/api/v1/nodes/{f}/versions/", None),
        ("post", f"/api/v1/nodes/{f}/versions/{v}/restore/", None),
        ("delete", f"/api/v1/nodes/{f}/versions/{v}/", None),
        ("get", f"/api/v1/nodes/{f}/versions/{v}/content/", None),
        ("multipart", "/api/v1/nodes/upload/", {"file": named, "parent": d}),
    ]


def test_mallory_gets_404_on_every_endpoint_and_changes_nothing(alice, alices_things, mallory_api):
    before = snapshot(alice)
    for method, url, data in endpoints(alices_things):
        if method == "multipart":
            response = mallory_api.post(url, data, format="multipart")
        else:
            response = getattr(mallory_api, method)(url, data, format="json")
        assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot(alice) == before


def test_mallory_cannot_use_alices_folder_as_a_target(alice, alices_things, mallory_api, mallory):
    mine = services.folder_ensure_path(owner=mallory, path="/mine")
    d = alices_things["folder"].pk
    assert (
        mallory_api.patch(f"/api/v1/nodes/{mine.pk}/", {"parent": d}, format="json").status_code
        == 404
    )
    assert (
        mallory_api.post(f"/api/v1/nodes/{mine.pk}/copy/", {"parent": d}, format="json").status_code
        == 404
    )
    mine.refresh_from_db()
    assert mine.parent_id == tree.home_of(mallory).pk


def test_listings_show_only_the_callers_files(
    alice, alices_things, alice_api, mallory_api, mallory
):
    services.folder_ensure_path(owner=mallory, path="/mallorys")
    expected_visible = {"private"}
    expected_hidden = {"mallorys"}
    alice_names = {n["name"] for n in alice_api.get("/api/v1/nodes/").json()["results"]}
    assert expected_visible <= alice_names and not (expected_hidden & alice_names)
    mallory_names = {n["name"] for n in mallory_api.get("/api/v1/nodes/").json()["results"]}
    assert mallory_names == {"mallorys"}
    assert mallory_api.get("/api/v1/trash/").json()["count"] == 0
    assert mallory_api.get("/api/v1/nodes/?path=/private").status_code == 404


def test_mallory_emptying_her_trash_leaves_alices(alice, alices_things, mallory_api):
    assert mallory_api.delete("/api/v1/trash/").json() == {"deleted": 0, "freed_bytes": 0}
    assert Node.objects.filter(pk=alices_things["trashed"].pk).exists()


def test_anonymous_gets_401(alices_things, api):
    f = alices_things["file"].pk
    for url in [
        "/api/v1/nodes/",
        f"/api/v1/nodes/{f}/",
        f"/api/v1/nodes/{f}/content/",
        "/api/v1/trash/",
    ]:
        assert api.get(url).status_code == 401
