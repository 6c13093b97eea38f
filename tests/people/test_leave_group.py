"""Leaving a share that came through a group: it stops reaching that member only (the page,
the API, WebDAV's Shared with me and search all stop showing it); the rest of the group keeps
it, and the owner can share it with the member directly again."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from accounts.services import token_create
from files import access
from files.models import Activity, NodeShare
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.people.conftest import World, api_for, web_for
from tests.webdav.conftest import Dav
from tests.webdav.test_dav_shared import hrefs

pytestmark = pytest.mark.django_db


def _group_share(world: World) -> NodeShare:
    return NodeShare.objects.get(node=world.team, group=world.family)


def _seen_by(world: World, user: Any) -> dict[str, set[Any]]:
    """What ``user`` sees of alice's /Team on every surface."""
    api = api_for(user)
    _, raw = token_create(user=user, name="dav")
    return {
        "shared with me (API)": {
            row["node"] for row in api.get("/api/v1/shared-with-me/").json()["results"]
        },
        "shared with me (page)": {
            share.node_id for share in web_for(user).get("/shared-with-me/").context["shares"]
        },
        "search": {
            hit["id"] for hit in api.get("/api/v1/search/", {"q": "deep"}).json()["results"]
        },
        "webdav": hrefs(Dav(user.username, raw), "/dav/Shared%20with%20me/")
        - {"/dav/Shared with me/"},
        "folder (API)": {api.get(f"/api/v1/nodes/?parent={world.team.pk}").status_code},
    }


def _everything(world: World) -> dict[str, set[Any]]:
    return {
        "shared with me (API)": {world.team.pk},
        "shared with me (page)": {world.team.pk},
        "search": {world.deep.pk},
        "webdav": {"/dav/Shared with me/Team/"},
        "folder (API)": {200},
    }


NOTHING = {
    "shared with me (API)": set(),
    "shared with me (page)": set(),
    "search": set(),
    "webdav": set(),
    "folder (API)": {404},
}


@pytest.fixture
def dave(world: World) -> Any:
    """Another member of "family", who stays."""
    dave = UserFactory(username="dave", email="dave@example.com")
    dave.groups.add(world.family)
    return dave


@pytest.mark.parametrize("how", ["api", "page", "node people api"])
def test_a_member_leaves_a_group_share_for_themselves_only(
    world: World, dave: Any, how: str
) -> None:
    share = _group_share(world)
    assert _seen_by(world, world.carol) == _everything(world)
    if how == "api":
        response = api_for(world.carol).delete(f"/api/v1/shared-with-me/{share.pk}/")
        assert response.status_code == 204, response.content
    elif how == "page":
        response = web_for(world.carol).post(f"/shared-with-me/{share.pk}/leave/")
        assert response.status_code == 302
    else:
        url = f"/api/v1/nodes/{world.team.pk}/people/{share.pk}/"
        assert api_for(world.carol).delete(url).status_code == 204
    assert _seen_by(world, world.carol) == NOTHING
    assert access.access_of(world.carol, world.deep) is None
    # the group keeps it: dave still sees everything; the share is still there
    assert _seen_by(world, dave) == _everything(world)
    assert NodeShare.objects.filter(pk=share.pk).exists()
    entry = Activity.objects.filter(kind="unshare", actor=world.carol).get()
    assert "carol left" in entry.detail
    # leaving twice is harmless; someone outside the group cannot "leave" it
    assert api_for(world.carol).delete(f"/api/v1/shared-with-me/{share.pk}/").status_code == 404
    assert api_for(world.mallory).delete(f"/api/v1/shared-with-me/{share.pk}/").status_code == 404


def test_the_owner_can_share_with_the_member_directly_again(world: World, dave: Any) -> None:
    share = _group_share(world)
    api_for(world.carol).delete(f"/api/v1/shared-with-me/{share.pk}/")
    person_share_create(actor=world.alice, node=world.team, user="carol", role="viewer")
    seen = _seen_by(world, world.carol)
    assert seen == _everything(world)
    # and the group share, left, is not listed beside the direct one
    listed = api_for(world.carol).get("/api/v1/shared-with-me/").json()["results"]
    assert [row["id"] for row in listed] != [share.pk] and len(listed) == 1


def test_a_new_group_share_reaches_a_member_who_left_another(world: World) -> None:
    api_for(world.carol).delete(f"/api/v1/shared-with-me/{_group_share(world).pk}/")
    other = Group.objects.create(name="book club")
    world.carol.groups.add(other)
    world.alice.groups.add(other)
    person_share_create(actor=world.alice, node=world.sub, group="book club", role="viewer")
    assert access.access_of(world.carol, world.deep).role == "viewer"
    assert access.access_of(world.carol, world.photo) is None  # /Team itself stays left
