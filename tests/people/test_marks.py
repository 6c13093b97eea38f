"""The "new" marker and the pin of a share in Shared with me are each recipient's own: in a
group share, one member opening or pinning it changes nothing for another member; a share to
one person keeps working as it did. The API, the page and the sidebar say the same."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files import services, tree
from files.models import NodeShare
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.people.conftest import World, api_for, web_for

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr data-share-id="(\d+)"( class="unread")?>(.*?)</tr>', re.S)


@pytest.fixture
def dave(world: World) -> Any:
    """A second member of the group "family" (with carol) that /Team is shared with."""
    dave = UserFactory(username="dave", email="dave@example.com")
    dave.groups.add(world.family)
    return dave


def _group_share(world: World) -> NodeShare:
    return NodeShare.objects.get(node=world.team, group=world.family)


def _api(user: Any) -> dict[int, tuple[bool, bool]]:
    """(unread, pinned) by share id, as the API lists them."""
    rows = api_for(user).get("/api/v1/shared-with-me/").json()["results"]
    return {row["id"]: (row["unread"], row["pinned"]) for row in rows}


def _sidebar(user: Any) -> tuple[int, list[str]]:
    """The sidebar on any page: the count of new shares and the names pinned there."""
    page = web_for(user).get("/files/").content.decode()
    new = re.search(r'aria-label="(\d+) new"', page)
    pinned = re.search(r'<ul class="side-nav" id="pinned-shares">(.*?)</ul>', page, re.S)
    names = re.findall(r"<span>([^<]*)</span></a></li>", pinned.group(1)) if pinned else []
    return (int(new.group(1)) if new else 0, names)


def _page(user: Any) -> dict[int, tuple[bool, bool]]:
    """(unread, pinned) by share id, as the Shared with me page shows them (opening the page
    marks them seen afterwards)."""
    page = web_for(user).get("/shared-with-me/").content.decode()
    return {
        int(pk): (bool(unread), ">Unpin</button>" in row) for pk, unread, row in ROW.findall(page)
    }


def test_opening_shared_with_me_marks_a_group_share_seen_for_that_member_only(
    world: World, dave: Any
) -> None:
    share = _group_share(world).pk
    assert _sidebar(world.carol) == _sidebar(dave) == (1, [])
    assert _page(world.carol) == {share: (True, False)}
    assert _api(world.carol) == {share: (False, False)}
    assert _sidebar(world.carol) == (0, [])
    # dave has not opened it: still new for him, on every surface.
    assert _sidebar(dave) == (1, [])
    assert _api(dave) == {share: (True, False)}
    assert _page(dave) == {share: (True, False)}
    assert _api(dave) == {share: (False, False)}
    assert _page(world.carol) == {share: (False, False)}


def test_marking_seen_or_unread_through_the_api_is_per_member(world: World, dave: Any) -> None:
    share = _group_share(world).pk
    answer = api_for(world.carol).patch(
        f"/api/v1/shared-with-me/{share}/", {"seen": True}, format="json"
    )
    assert (answer.status_code, answer.json()["unread"]) == (200, False)
    assert _api(dave) == {share: (True, False)}
    api_for(dave).patch(f"/api/v1/shared-with-me/{share}/", {"seen": True}, format="json")
    answer = api_for(dave).patch(f"/api/v1/shared-with-me/{share}/", {"seen": False}, format="json")
    assert answer.json()["unread"] is True
    assert _api(dave) == {share: (True, False)}
    assert _api(world.carol) == {share: (False, False)}
    assert _sidebar(dave) == (1, []) and _sidebar(world.carol) == (0, [])


@pytest.mark.parametrize("how", ["api", "page"])
def test_a_pin_on_a_group_share_is_the_members_own(world: World, dave: Any, how: str) -> None:
    share = _group_share(world).pk

    def pin(user: Any, pinned: bool) -> None:
        if how == "api":
            answer = api_for(user).patch(
                f"/api/v1/shared-with-me/{share}/", {"pinned": pinned}, format="json"
            )
            assert (answer.status_code, answer.json()["pinned"]) == (200, pinned)
        else:
            answer = web_for(user).post(
                f"/shared-with-me/{share}/pin/", {"pinned": "1" if pinned else "0"}
            )
            assert answer.status_code == 302

    pin(world.carol, True)
    assert _api(world.carol) == {share: (True, True)}
    assert _sidebar(world.carol) == (1, ["Team"])
    assert _page(world.carol) == {share: (True, True)}
    assert _api(dave) == {share: (True, False)}
    assert _sidebar(dave) == (1, [])
    assert _page(dave) == {share: (True, False)}

    pin(dave, True)
    pin(world.carol, False)
    assert _api(dave) == {share: (False, True)} and _sidebar(dave) == (0, ["Team"])
    assert _api(world.carol) == {share: (False, False)} and _sidebar(world.carol) == (0, [])


def test_a_share_to_one_person_keeps_its_marks(world: World) -> None:
    share = NodeShare.objects.get(node=world.team, user=world.bob).pk
    assert _sidebar(world.bob) == (1, [])
    assert _api(world.bob) == {share: (True, False)}
    assert _page(world.bob) == {share: (True, False)}
    assert _api(world.bob) == {share: (False, False)} and _sidebar(world.bob) == (0, [])
    answer = api_for(world.bob).patch(
        f"/api/v1/shared-with-me/{share}/", {"pinned": True}, format="json"
    )
    assert (answer.json()["unread"], answer.json()["pinned"]) == (False, True)
    assert _page(world.bob) == {share: (False, True)} and _sidebar(world.bob) == (0, ["Team"])
    web_for(world.bob).post(f"/shared-with-me/{share}/pin/", {"pinned": "0"})
    assert _api(world.bob) == {share: (False, False)} and _sidebar(world.bob) == (0, [])
    # Nobody else's marks are touched, nor can anyone else mark bob's share.
    assert _api(world.carol) == {_group_share(world).pk: (True, False)}
    assert (
        api_for(world.carol)
        .patch(f"/api/v1/shared-with-me/{share}/", {"pinned": True}, format="json")
        .status_code
        == 404
    )


def _count(client: Any, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", ["/api/v1/shared-with-me/", "/shared-with-me/"])
def test_shared_with_me_costs_the_same_however_many_shares_and_marks(
    world: World, dave: Any, url: str
) -> None:
    """Reading each row's marks is a join in the listing's query, not a query per row."""
    home = tree.home_of(world.alice)
    client = (api_for if url.startswith("/api/") else web_for)(dave)
    costs, made = {}, 0
    for total in (3, 12):
        for n in range(made, total):
            folder = services.folder_create(owner=world.alice, parent=home, name=f"f{n}")
            share = person_share_create(actor=world.alice, node=folder, group="family")
            if n % 2:
                api_for(dave).patch(
                    f"/api/v1/shared-with-me/{share.pk}/", {"pinned": True}, format="json"
                )
            if n % 3:
                api_for(world.carol).patch(
                    f"/api/v1/shared-with-me/{share.pk}/", {"seen": True}, format="json"
                )
        made = total
        costs[total] = _count(client, url)
    assert costs[3] == costs[12], costs
