"""Writes by others: under the owner's lock, charged to the owner, recorded as the person;
moves into and out of shares."""

from __future__ import annotations

import io

import pytest
from django.core import mail

from files import tree
from files.models import FileVersion, Node
from sharing.people import person_share_create
from tests.people.conftest import World, api_for, put

pytestmark = pytest.mark.django_db


def _upload(client, parent: Node, name: str, content: bytes, **extra):
    body = io.BytesIO(content)
    body.name = name
    return client.post(
        "/api/v1/nodes/upload/", {"file": body, "parent": parent.pk, **extra}, format="multipart"
    )


def test_an_editors_upload_is_the_owners_and_charged_to_the_owner(world: World):
    world.alice.refresh_from_db()
    before = world.alice.used_bytes
    response = _upload(api_for(world.bob), world.team, "bob.txt", b"from bob")
    assert response.status_code == 201, response.json()
    node = Node.objects.get(pk=response.json()["id"])
    assert node.owner_id == world.alice.pk
    world.alice.refresh_from_db()
    world.bob.refresh_from_db()
    assert world.alice.used_bytes == before + len(b"from bob")
    assert world.bob.used_bytes == 0
    # a new version records bob as its author
    again = _upload(api_for(world.bob), world.team, "bob.txt", b"bob again", on_conflict="replace")
    assert again.status_code == 200
    assert FileVersion.objects.get(node=node).author == world.bob


def test_the_owners_quota_decides(world: World):
    world.alice.refresh_from_db()
    world.alice.quota_bytes = world.alice.used_bytes + 3
    world.alice.save()
    response = _upload(api_for(world.bob), world.team, "big.txt", b"too big for alice")
    assert response.status_code == 413
    assert not Node.objects.filter(name="big.txt").exists()


def test_moving_my_item_into_a_shared_folder_hands_it_to_its_owner(world: World):
    mine = put(world.bob, tree.home_of(world.bob), "gift.txt", b"a gift")
    world.alice.refresh_from_db()
    before = world.alice.used_bytes
    response = api_for(world.bob).patch(
        f"/api/v1/nodes/{mine.pk}/", {"parent": world.team.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    mine.refresh_from_db()
    assert (mine.owner_id, mine.parent_id) == (world.alice.pk, world.team.pk)
    world.alice.refresh_from_db()
    world.bob.refresh_from_db()
    assert world.alice.used_bytes == before + 6
    assert world.bob.used_bytes == 0
    assert tree.check(world.alice) == [] and tree.check(world.bob) == []


def test_handing_over_what_does_not_fit_is_a_413(world: World):
    mine = put(world.bob, tree.home_of(world.bob), "gift.txt", b"a big gift")
    world.alice.refresh_from_db()
    world.alice.quota_bytes = world.alice.used_bytes + 1
    world.alice.save()
    response = api_for(world.bob).patch(
        f"/api/v1/nodes/{mine.pk}/", {"parent": world.team.pk}, format="json"
    )
    assert response.status_code == 413
    assert "Not enough space" in response.json()["detail"]
    mine.refresh_from_db()
    assert mine.owner_id == world.bob.pk


def test_moving_out_of_a_share_needs_the_reshare_right_else_copies(world: World):
    # bob may re-share: the item becomes his
    response = api_for(world.bob).patch(
        f"/api/v1/nodes/{world.deep.pk}/", {"parent": tree.home_of(world.bob).pk}, format="json"
    )
    assert response.status_code == 200
    world.deep.refresh_from_db()
    assert world.deep.owner_id == world.bob.pk
    # carol (viewer, no re-share) gets a copy; alice's photo stays where it was
    response = api_for(world.carol).patch(
        f"/api/v1/nodes/{world.photo.pk}/", {"parent": tree.home_of(world.carol).pk}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["id"] != world.photo.pk
    world.photo.refresh_from_db()
    assert (world.photo.owner_id, world.photo.parent_id) == (world.alice.pk, world.team.pk)
    assert Node.objects.get(pk=response.json()["id"]).owner_id == world.carol.pk


def test_a_new_share_mails_the_recipient_and_marks_it_unread(
    world: World, mailoutbox, django_capture_on_commit_callbacks
):
    from django.test import Client

    twice = api_for(world.alice).post(
        f"/api/v1/nodes/{world.team.pk}/people/", {"user": "bob"}, format="json"
    )
    assert twice.status_code == 409
    assert "already shared with bob" in twice.json()["detail"]
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(world.alice).post(
            f"/api/v1/nodes/{world.private.pk}/people/",
            {"user": "mallory@example.com", "role": "viewer"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    assert [m.to for m in mailoutbox] == [["mallory@example.com"]]
    assert "Private" in mailoutbox[0].subject
    client = Client()
    client.force_login(world.mallory)
    page = client.get("/").content.decode()
    assert 'aria-label="1 new"' in page
    client.get("/shared-with-me/")
    assert 'aria-label="1 new"' not in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "nobody"}, "user"),
        ({}, "user"),
        ({"user": "bob", "group": "family"}, "user"),
        ({"user": "alice"}, "user"),
        ({"group": "staff"}, "group"),
        ({"user": "carol", "role": "admin"}, "role"),
        ({"user": "carol", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
    ],
)
def test_bad_shares_say_what_is_wrong(world: World, body, field):
    response = api_for(world.alice).post(
        f"/api/v1/nodes/{world.private.pk}/people/", body, format="json"
    )
    assert response.status_code == 400
    data = response.json()
    assert data.get("field") == field or field in data, data


def test_a_resharer_cannot_give_more_than_their_role(world: World):
    person_share_create(actor=world.alice, node=world.private, user="carol", can_reshare=True)
    response = api_for(world.carol).post(
        f"/api/v1/nodes/{world.private.pk}/people/",
        {"user": "mallory", "role": "editor"},
        format="json",
    )
    assert response.status_code == 400
    assert "at most as viewer" in response.json()["detail"]
    ok = api_for(world.carol).post(
        f"/api/v1/nodes/{world.private.pk}/people/", {"user": "mallory"}, format="json"
    )
    assert ok.status_code == 201
