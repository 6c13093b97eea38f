"""One rule for what is in the trash: its owner may open, preview, download and see a
thumbnail of it, on the pages and in the API alike; share links never reach it."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from files import services
from sharing import services as sharing_services

pytestmark = pytest.mark.django_db


def content(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.fixture
def web(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def trashed(mkdir: Any, upload: Any) -> dict[str, Any]:
    folder = mkdir("/Old")
    upload("inside.txt", b"trashed with the folder", parent=folder)
    earlier = upload("earlier.txt", b"trashed on its own before", parent=folder)
    services.node_trash(node=earlier)
    picture = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(picture, "PNG")
    photo = upload("photo.png", picture.getvalue())
    services.node_trash(node=photo)
    report = upload("report.txt", b"numbers")
    services.node_trash(node=report)
    services.node_trash(node=folder)
    return {"folder": folder, "photo": photo, "report": report, "earlier": earlier}


def test_the_owner_downloads_a_trashed_file_on_the_page_and_in_the_api(
    web: Client, alice_api: Any, trashed: dict[str, Any]
) -> None:
    pk = trashed["report"].pk
    page = web.get(f"/files/items/{pk}/download/")
    assert page.status_code == 200 and content(page) == b"numbers"
    api = alice_api.get(f"/api/v1/nodes/{pk}/content/")
    assert api.status_code == 200 and content(api) == b"numbers"
    preview = alice_api.get(f"/api/v1/nodes/{pk}/content/?inline=1")
    assert preview.status_code == 200
    assert preview["Content-Disposition"].startswith("inline")
    assert web.get(f"/files/items/{pk}/").status_code == 200  # its details page


def test_the_owner_sees_a_trashed_pictures_thumbnail(alice_api: Any, trashed: dict[str, Any]):
    response = alice_api.get(f"/api/v1/nodes/{trashed['photo'].pk}/thumbnail/?size=64")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/")


def test_a_trashed_folder_downloads_with_what_was_trashed_with_it(
    web: Client, alice_api: Any, trashed: dict[str, Any]
) -> None:
    for response in (
        web.get(f"/files/items/{trashed['folder'].pk}/download/"),
        alice_api.get(f"/api/v1/nodes/{trashed['folder'].pk}/content/"),
    ):
        assert response.status_code == 200
        archive = zipfile.ZipFile(io.BytesIO(content(response)))
        assert sorted(archive.namelist()) == ["Old/", "Old/inside.txt"]
        assert archive.read("Old/inside.txt") == b"trashed with the folder"


def test_no_one_else_reaches_a_trashed_item(
    trashed: dict[str, Any], mallory: Any, alice: Any, mkdir: Any
) -> None:
    intruder = Client()
    intruder.force_login(mallory)
    pk = trashed["report"].pk
    assert intruder.get(f"/files/items/{pk}/download/").status_code == 404
    # A link made before the item was trashed stops reaching it.
    live = mkdir("/Live")
    photo = services.file_upload(owner=alice, parent=live, name="p.txt", received=_received(b"p"))
    _, token = sharing_services.share_create(owner=alice, node=live)
    visitor = Client()
    assert visitor.get(f"/s/{token}/items/{photo.pk}/content/").status_code == 200
    services.node_trash(node=photo)
    assert visitor.get(f"/s/{token}/items/{photo.pk}/content/").status_code == 404
    archive = zipfile.ZipFile(io.BytesIO(content(visitor.get(f"/s/{token}/zip/"))))
    assert archive.namelist() == ["Live/"]


def _received(data: bytes) -> Any:
    from files.ingest import receive_stream

    return receive_stream(io.BytesIO(data).read, length=len(data))
