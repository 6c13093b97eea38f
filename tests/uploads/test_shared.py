"""Resumable uploads into folders shared with people: alice owns /Team, bob edits it, carol
views it (through a group), mallory has nothing (tests/people's world)."""

from __future__ import annotations

import os
from typing import Any

import pytest

from files.models import Activity, FileVersion, Node, NodeShare
from sharing.people import person_share_delete, person_share_update
from tests.people.conftest import World, api_for
from tests.uploads.conftest import TUS, create, patch
from uploads import services as upload_services
from uploads.errors import UploadNotFound
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def _bob_share(world: World) -> NodeShare:
    return NodeShare.objects.get(node=world.team, user=world.bob)


def test_an_editor_uploads_into_a_shared_folder_charged_to_its_owner(
    world: World, backend: Any
) -> None:
    alice, bob = world.alice, world.bob
    alice.refresh_from_db()
    used = alice.used_bytes
    content = os.urandom(70_000)
    client = api_for(bob)
    created = create(client, len(content), filename="report.bin", parent=str(world.team.pk))
    assert created.status_code == 201, created.content
    url = _path(created["Location"])
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.reserved_bytes, bob.reserved_bytes) == (len(content), 0)
    # The upload is bob's to continue, nobody else's (alice included).
    assert api_for(alice).head(url, **TUS).status_code == 404
    assert patch(client, url, 0, content[:30_000]).status_code == 204
    answer = patch(client, url, 30_000, content[30_000:])
    assert answer.status_code == 204, answer.content
    node = Node.objects.get(parent=world.team, name="report.bin")
    assert answer["FileFlow-Node-Id"] == str(node.pk)
    assert node.owner_id == alice.pk
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (used + len(content), 0)
    assert (bob.used_bytes, bob.reserved_bytes) == (0, 0)
    assert Activity.objects.get(kind=Activity.Kind.UPLOAD, node=node).actor_id == bob.pk
    assert backend.leftovers() == []


def test_an_editor_replacing_a_file_is_the_versions_author(world: World) -> None:
    client = api_for(world.bob)
    created = create(
        client, 5, filename="deep.txt", parent=str(world.sub.pk), on_conflict="replace"
    )
    assert created.status_code == 201, created.content
    assert patch(client, _path(created["Location"]), 0, b"newer").status_code == 204
    version = FileVersion.objects.get(node=world.deep)
    assert version.author_id == world.bob.pk
    assert (
        Activity.objects.get(kind=Activity.Kind.VERSION, node=world.deep).actor_id == world.bob.pk
    )
    world.deep.refresh_from_db()
    assert world.deep.size == 5


def test_the_owners_quota_decides_not_the_editors(world: World) -> None:
    alice, bob = world.alice, world.bob
    bob.quota_bytes = 10  # bob's own quota does not count here
    bob.save()
    alice.refresh_from_db()
    alice.quota_bytes = alice.used_bytes + 1000
    alice.save()
    client = api_for(bob)
    refused = create(client, 1001, filename="big.bin", parent=str(world.team.pk))
    assert refused.status_code == 413
    assert refused.json()["field"] == "Upload-Length"
    assert "owner's quota" in refused.json()["detail"]
    assert "1000" not in refused.json()["detail"]  # no figure of alice's account
    assert create(client, 1000, filename="fits.bin", parent=str(world.team.pk)).status_code == 201
    alice.refresh_from_db()
    assert alice.reserved_bytes == 1000


@pytest.mark.parametrize("who", ["carol", "mallory"])
def test_a_viewer_or_a_stranger_gets_404_at_creation(world: World, who: str) -> None:
    client = api_for(getattr(world, who))
    for folder in (world.team, world.sub, world.private):
        answer = create(client, 10, filename="x.bin", parent=str(folder.pk))
        assert answer.status_code == 404, answer.content
        assert answer.json()["field"] == "parent"
    assert TusUpload.objects.count() == 0
    world.alice.refresh_from_db()
    assert world.alice.reserved_bytes == 0


def test_bob_cannot_upload_outside_the_share(world: World) -> None:
    answer = create(api_for(world.bob), 10, filename="x.bin", parent=str(world.private.pk))
    assert answer.status_code == 404
    assert TusUpload.objects.count() == 0


@pytest.mark.parametrize("change", ["removed", "viewer"])
def test_an_upload_whose_share_goes_is_cancelled_with_its_reservation(
    world: World, backend: Any, change: str
) -> None:
    client = api_for(world.bob)
    created = create(client, 15, filename="late.bin", parent=str(world.team.pk))
    url = _path(created["Location"])
    assert patch(client, url, 0, b"12345").status_code == 204
    if change == "removed":
        person_share_delete(actor=world.alice, share=_bob_share(world))
    else:
        person_share_update(actor=world.alice, share=_bob_share(world), role="viewer")
    # The next chunk (not the last) is refused, and the upload cancelled there and then.
    answer = patch(client, url, 5, b"67890")
    assert answer.status_code == 404
    assert "no longer shared with you as editor" in answer.json()["detail"]
    assert TusUpload.objects.count() == 0
    world.alice.refresh_from_db()
    assert world.alice.reserved_bytes == 0
    assert backend.leftovers() == []
    assert client.head(url, **TUS).status_code == 404
    assert not Node.objects.filter(name="late.bin").exists()


def test_a_share_removed_while_the_last_chunk_arrives_stores_nothing(world: World) -> None:
    """The check is made again under the owner's lock, as the file is stored."""
    client = api_for(world.bob)
    created = create(client, 4, filename="racing.bin", parent=str(world.team.pk))
    pk = _path(created["Location"]).rsplit("/", 1)[1]
    upload = upload_services.upload_get(pk=pk, creator=world.bob)
    person_share_delete(actor=world.alice, share=_bob_share(world))
    body = iter([b"abcd", b""])
    with pytest.raises(UploadNotFound):
        upload_services.upload_append(upload=upload, offset=0, read=lambda n: next(body), count=4)
    assert TusUpload.objects.count() == 0
    assert not Node.objects.filter(name="racing.bin").exists()
    world.alice.refresh_from_db()
    assert world.alice.reserved_bytes == 0
