"""The API's listing by path (`GET /api/v1/nodes/?path=`) reaches what is shared with the
caller under Shared with me, by the names WebDAV's Shared with me gives (one selector), as
well as the caller's own files; their own items win at the top."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import pytest

from accounts.services import token_create
from files import services, tree
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.people.conftest import World, api_for
from tests.webdav.conftest import Dav
from tests.webdav.test_dav_shared import hrefs

pytestmark = pytest.mark.django_db


def _listing(user: Any, path: str) -> Any:
    return api_for(user).get("/api/v1/nodes/", {"path": path})


def _names(response: Any) -> set[str]:
    assert response.status_code == 200, response.json()
    return {row["name"] for row in response.json()["results"]}


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_a_folder_shared_with_me_lists_by_its_path(world: World, who: str) -> None:
    user = getattr(world, who)
    team = _listing(user, "/Shared with me/Team")
    assert _names(team) == {"Sub", "photo.png"}
    assert team.json()["folder"]["id"] == world.team.pk
    assert team.json()["folder"]["path"] == "Shared with me/Team"
    assert _names(_listing(user, "Shared with me/Team/Sub/")) == {"deep.txt"}


def test_what_is_not_shared_with_me_is_not_found_by_path(world: World) -> None:
    for user, path in [
        (world.mallory, "/Shared with me/Team"),
        (world.bob, "/Shared with me/Private"),
        (world.bob, "/Shared with me/Team/nothing"),
    ]:
        response = _listing(user, path)
        assert response.status_code == 404, (user, path)
        assert "Nothing at" in response.json()["detail"]
    whole = _listing(world.bob, "/Shared with me")
    assert whole.status_code == 404
    assert "/api/v1/shared-with-me/" in whole.json()["detail"]
    file = _listing(world.bob, "/Shared with me/Team/photo.png")
    assert file.status_code == 400 and "is a file" in file.json()["detail"]


def test_the_api_and_webdav_name_shared_items_alike(world: World) -> None:
    dave = UserFactory(username="dave", email="dave@example.com")
    theirs = services.folder_create(owner=dave, parent=tree.home_of(dave), name="team")
    services.folder_create(owner=dave, parent=theirs, name="Dave's")
    person_share_create(actor=dave, node=theirs, user="bob")
    dav = Dav("bob", str(token_create(user=world.bob, name="dav")[1]))
    listed = hrefs(dav, "/dav/" + quote("Shared with me") + "/") - {"/dav/Shared with me/"}
    assert listed == {"/dav/Shared with me/Team/", "/dav/Shared with me/team (dave)/"}
    for href, folder in [
        ("/dav/Shared with me/Team/", world.team),
        ("/dav/Shared with me/team (dave)/", theirs),
    ]:
        found = _listing(world.bob, unquote(href).removeprefix("/dav"))
        assert found.json()["folder"]["id"] == folder.pk
    assert _names(_listing(world.bob, "/Shared with me/team (dave)")) == {"Dave's"}


def test_my_own_folder_named_shared_with_me_wins(world: World) -> None:
    mine = services.folder_create(
        owner=world.bob, parent=tree.home_of(world.bob), name="Shared with me"
    )
    services.folder_create(owner=world.bob, parent=mine, name="Mine")
    assert _names(_listing(world.bob, "/Shared with me")) == {"Mine"}
    assert _names(_listing(world.bob, "/Shared with me (from others)/Team")) == {
        "Sub",
        "photo.png",
    }
