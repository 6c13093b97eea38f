"""An upload into a folder shared with me is charged to the folder's owner: every transport
that refuses an upload before reading its body asks the OWNER's free space, never the
uploader's. bob edits alice's /Team; carol views it."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import token_create
from files.models import Node, NodeShare
from sharing.services import share_create
from tests.people.conftest import World, api_for, web_for
from tests.uploads.conftest import create as tus_create
from tests.uploads.conftest import patch as tus_patch
from tests.webdav.conftest import Dav
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db

BIG = 300_000  # past the framing allowance a multipart body is given


class Unread:
    """A request body that must not be read: the upload is refused before it."""

    def __init__(self) -> None:
        self.reads = 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        return b""

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _unsent(client: Any, method: str, url: str, content_type: str, **headers: Any) -> Any:
    """``method url`` declaring a BIG body that is never sent; asserts none was read."""
    body = Unread()
    response = client.generic(
        method,
        url,
        b"",
        content_type=content_type,
        **{"wsgi.input": body, "CONTENT_LENGTH": str(BIG), **headers},
    )
    assert body.reads == 0, (url, response.status_code)
    return response


def _room(user: Any, free: int | None) -> None:
    user.refresh_from_db()
    user.quota_bytes = None if free is None else user.used_bytes + free
    user.save()


MULTIPART = "multipart/form-data; boundary=xyz"


def _form_sends(world: World) -> dict[str, Any]:
    """Each multipart transport, as bob: (refused early, with a real body)."""
    team = world.team.pk
    content = b"x" * BIG

    def api(url: str) -> tuple[Any, Any]:
        def early() -> Any:
            return _unsent(api_for(world.bob), "POST", f"{url}?parent={team}", MULTIPART)

        def full() -> Any:
            files = {"file": _named("big.bin", content)}
            return api_for(world.bob).post(
                f"{url}?parent={team}", {**files, "parent": team}, format="multipart"
            )

        return early, full

    def web() -> tuple[Any, Any]:
        url = f"/files/folders/{team}/upload/"

        def early() -> Any:
            return _unsent(web_for(world.bob), "POST", url, MULTIPART)

        def full() -> Any:
            return web_for(world.bob).post(url, {"file": _named("big.bin", content)})

        return early, full

    return {
        "api upload": api("/api/v1/nodes/upload/"),
        "api upload-many": api("/api/v1/nodes/upload-many/"),
        "web upload": web(),
    }


def _named(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize("transport", ["api upload", "api upload-many", "web upload"])
def test_a_form_upload_into_a_shared_folder_asks_the_owners_quota(
    world: World, transport: str
) -> None:
    early, full = _form_sends(world)[transport]
    _room(world.alice, 1000)
    _room(world.bob, None)
    refused = early()
    assert refused.status_code == 413, refused.content
    assert b"alice" in refused.content  # whose space is short
    # bob's own quota is full, alice has room: stored, charged to alice.
    _room(world.alice, None)
    _room(world.bob, 0)
    stored = full()
    assert stored.status_code in (201, 302), stored.content[:500]
    node = Node.objects.get(name="big.bin", parent=world.team)
    assert node.owner_id == world.alice.pk
    world.bob.refresh_from_db()
    assert world.bob.used_bytes == 0


def test_a_viewer_is_refused_before_the_body_too(world: World) -> None:
    refused = _unsent(
        api_for(world.carol), "POST", f"/api/v1/nodes/upload/?parent={world.team.pk}", MULTIPART
    )
    assert refused.status_code == 404
    assert "view only" in refused.json()["detail"]


def test_the_query_and_the_form_must_name_the_same_folder(world: World) -> None:
    response = api_for(world.bob).post(
        f"/api/v1/nodes/upload/?parent={world.team.pk}",
        {"file": _named("a.txt", b"a"), "parent": world.sub.pk},
        format="multipart",
    )
    assert response.status_code == 400
    assert "different folders" in str(response.json())


def test_a_webdav_put_into_a_shared_folder_asks_the_owners_quota(world: World) -> None:
    _, raw = token_create(user=world.bob, name="dav")
    dav = Dav("bob", raw)
    url = "/dav/Shared%20with%20me/Team/big.bin"
    _room(world.alice, 1000)
    refused = _unsent(
        dav.client, "PUT", url, "application/octet-stream", HTTP_AUTHORIZATION=dav.authorization
    )
    assert refused.status_code == 507  # RFC 4331: quota-not-exceeded
    assert b"quota-not-exceeded" in refused.content
    _room(world.alice, None)
    _room(world.bob, 0)
    assert dav("PUT", url, b"x" * BIG).status_code == 201
    assert Node.objects.get(name="big.bin").owner_id == world.alice.pk


def test_a_drop_link_made_by_an_editor_asks_the_owners_quota(world: World) -> None:
    """bob (editor, may re-share) makes an upload-only link to alice's /Team."""
    _, token = share_create(owner=world.bob, node=world.team, permission="upload")
    visitor = Client()
    url = f"/s/{token}/upload/?name=big.bin"
    _room(world.alice, 1000)
    refused = _unsent(visitor, "PUT", url, "application/octet-stream")
    assert refused.status_code == 413
    _room(world.alice, None)
    _room(world.bob, 0)
    stored = visitor.generic("PUT", url, b"x" * BIG, content_type="application/octet-stream")
    assert stored.status_code == 201, stored.content
    assert Node.objects.get(name="big.bin").owner_id == world.alice.pk


def test_a_resumable_upload_into_a_shared_folder_is_the_owners(world: World) -> None:
    _, raw = token_create(user=world.bob, name="tus")
    bob = APIClient()
    bob.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    team = str(world.team.pk)
    _room(world.alice, 1000)
    refused = tus_create(bob, BIG, filename="big.bin", parent=team)
    assert refused.status_code == 413
    assert TusUpload.objects.count() == 0
    _room(world.alice, None)
    _room(world.bob, 0)
    created = tus_create(bob, 5, b"hello", filename="small.txt", parent=team)
    assert created.status_code == 201, created.content
    node = Node.objects.get(name="small.txt")
    assert (node.owner_id, node.parent_id) == (world.alice.pk, world.team.pk)
    # in two steps: the space is held on alice's account meanwhile, then charged to her
    started = tus_create(bob, 10, filename="later.txt", parent=team)
    assert started.status_code == 201, started.content
    world.alice.refresh_from_db()
    assert world.alice.reserved_bytes == 10
    url = started["Location"].removeprefix("http://testserver")
    assert tus_patch(bob, url, 0, b"0123456789").status_code == 204
    world.alice.refresh_from_db()
    assert world.alice.reserved_bytes == 0
    assert Node.objects.get(name="later.txt").owner_id == world.alice.pk
    # bob's editor role taken away mid-upload: the upload cannot finish into alice's folder
    started = tus_create(bob, 10, filename="cut.txt", parent=team)
    NodeShare.objects.filter(node=world.team, user=world.bob).delete()
    url = started["Location"].removeprefix("http://testserver")
    assert tus_patch(bob, url, 0, b"0123456789").status_code == 404
    assert not Node.objects.filter(name="cut.txt").exists()
    # a viewer may not start one there
    _, raw = token_create(user=world.carol, name="tus")
    carol = APIClient()
    carol.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert tus_create(carol, 5, filename="c.txt", parent=team).status_code == 404
