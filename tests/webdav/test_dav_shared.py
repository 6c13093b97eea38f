"""Shared with me over WebDAV: alice shares a folder with bob (editor) and with carol through
a group (viewer); mallory has nothing. Every method asks the one access rule."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import pytest
from defusedxml.ElementTree import fromstring
from django.contrib.auth.models import Group

from accounts.models import User
from files import tree
from files.models import Node, NodeShare
from files.services import folder_create
from sharing.people import person_share_create, person_share_delete
from tests.factories import UserFactory
from tests.webdav.conftest import Dav, content, props
from tests.webdav.test_dav import live
from webdav.models import DeadProperty

pytestmark = pytest.mark.django_db

D = "{DAV:}"
SHARED = "/dav/" + quote("Shared with me")
TEAM = SHARED + "/Team"


@pytest.fixture
def world(alice: Any, mallory: Any, alice_dav: Dav, token_of: Any) -> dict[str, Any]:
    bob = UserFactory(username="bob", email="bob@example.com")
    carol = UserFactory(username="carol", email="carol@example.com")
    staff = Group.objects.create(name="staff")
    carol.groups.add(staff)
    alice.groups.add(staff)
    assert alice_dav("MKCOL", "/dav/Team/").status_code == 201
    assert alice_dav("PUT", "/dav/Team/plan.txt", b"the plan").status_code == 201
    assert alice_dav("MKCOL", "/dav/Private/").status_code == 201
    assert alice_dav("PUT", "/dav/Private/secret.txt", b"secret").status_code == 201
    team = live(alice, "Team")
    assert team is not None
    share = person_share_create(actor=alice, node=team, user="bob", role=NodeShare.Role.EDITOR)
    person_share_create(actor=alice, node=team, group="staff", role=NodeShare.Role.VIEWER)
    return {
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "team": team,
        "share": share,
        "dav": {
            "bob": Dav("bob", token_of(bob)),
            "carol": Dav("carol", token_of(carol)),
            "mallory": Dav("mallory", token_of(mallory)),
        },
    }


def hrefs(dav: Dav, path: str) -> set[str]:
    response = dav(
        "PROPFIND", path, props("displayname"), Depth="1", **{"Content-Type": "text/xml"}
    )
    if response.status_code == 404:
        return set()
    assert response.status_code == 207, content(response)
    return {
        unquote(entry.findtext(f"{D}href") or "")
        for entry in fromstring(content(response)).iter(f"{D}response")
    }


def used(user: User) -> int:
    user.refresh_from_db()
    return user.used_bytes


@pytest.mark.parametrize(
    ("who", "expected_visible", "expected_hidden"),
    [
        ("bob", {"/dav/Shared with me/Team/"}, {"/dav/Shared with me/Private/"}),
        ("carol", {"/dav/Shared with me/Team/"}, {"/dav/Shared with me/Private/"}),
        ("mallory", set(), {"/dav/Shared with me/Team/", "/dav/Shared with me/Private/"}),
    ],
)
def test_propfind_lists_only_what_is_shared(
    world: dict[str, Any], who: str, expected_visible: set[str], expected_hidden: set[str]
) -> None:
    dav = world["dav"][who]
    assert "/dav/Shared with me/" in hrefs(dav, "/dav/")
    listed = hrefs(dav, SHARED + "/")
    assert expected_visible <= listed
    assert not expected_hidden & listed
    inside = hrefs(dav, TEAM + "/")
    if expected_visible:
        assert "/dav/Shared with me/Team/plan.txt" in inside
    else:
        assert inside == set()
    # Nothing of alice's outside the share is reachable by any path.
    for path in ("/dav/Private/secret.txt", SHARED + "/Private/secret.txt", SHARED + "/secret.txt"):
        assert dav("GET", path).status_code == 404


@pytest.mark.parametrize(("who", "visible"), [("bob", True), ("carol", True), ("mallory", False)])
def test_get(world: dict[str, Any], who: str, visible: bool) -> None:
    response = world["dav"][who]("GET", TEAM + "/plan.txt")
    if visible:
        assert response.status_code == 200
        assert content(response) == b"the plan"
    else:
        assert response.status_code == 404


@pytest.mark.parametrize(("who", "allowed"), [("bob", True), ("carol", False), ("mallory", False)])
def test_put(world: dict[str, Any], who: str, allowed: bool) -> None:
    alice, team = world["alice"], world["team"]
    before_alice, before_them = used(alice), used(world[who] if who != "mallory" else alice)
    response = world["dav"][who]("PUT", TEAM + "/new.txt", b"0123456789")
    stored = Node.objects.filter(parent=team, name="new.txt", trashed_at__isnull=True).first()
    if allowed:
        assert response.status_code == 201, content(response)
        assert stored is not None and stored.owner_id == alice.pk
        assert used(alice) == before_alice + 10  # charged to the owner
        assert used(world["bob"]) == before_them
        replaced = world["dav"][who]("PUT", TEAM + "/plan.txt", b"plan B")
        assert replaced.status_code == 204
        assert content(world["dav"]["carol"]("GET", TEAM + "/plan.txt")) == b"plan B"
    else:
        # mallory: the folder does not exist for her, a 409 as for any missing folder.
        assert response.status_code == (404 if who == "carol" else 409)
        assert stored is None
        assert used(alice) == before_alice
        replaced = world["dav"][who]("PUT", TEAM + "/plan.txt", b"x")
        assert replaced.status_code == (404 if who == "carol" else 409)
        assert content(world["dav"]["bob"]("GET", TEAM + "/plan.txt")) == b"the plan"
    if who == "carol":
        assert b"view only" in content(response)


@pytest.mark.parametrize(("who", "allowed"), [("bob", True), ("carol", False), ("mallory", False)])
def test_mkcol(world: dict[str, Any], who: str, allowed: bool) -> None:
    response = world["dav"][who]("MKCOL", TEAM + "/Sub/")
    made = live(world["alice"], "Team/Sub")
    if allowed:
        assert response.status_code == 201
        assert made is not None and made.owner_id == world["alice"].pk
    else:
        assert response.status_code == (404 if who == "carol" else 409)
        assert made is None


@pytest.mark.parametrize(("who", "allowed"), [("bob", True), ("carol", False), ("mallory", False)])
def test_move_within_the_share(world: dict[str, Any], who: str, allowed: bool) -> None:
    response = world["dav"][who](
        "MOVE", TEAM + "/plan.txt", Destination="http://testserver" + TEAM + "/renamed.txt"
    )
    if allowed:
        assert response.status_code == 201, content(response)
        assert live(world["alice"], "Team/renamed.txt") is not None
        assert live(world["alice"], "Team/plan.txt") is None
    else:
        assert response.status_code == 404
        assert live(world["alice"], "Team/plan.txt") is not None


@pytest.mark.parametrize(("who", "allowed"), [("bob", True), ("carol", False), ("mallory", False)])
def test_delete_trashes_for_the_owner(world: dict[str, Any], who: str, allowed: bool) -> None:
    response = world["dav"][who]("DELETE", TEAM + "/plan.txt")
    plan = Node.objects.get(parent=world["team"], name="plan.txt")
    if allowed:
        assert response.status_code == 204
        assert plan.trashed_at is not None and plan.owner_id == world["alice"].pk
    else:
        assert response.status_code == 404
        assert plan.trashed_at is None


def test_a_viewer_copies_out_into_their_own_files(world: dict[str, Any]) -> None:
    carol = world["carol"]
    response = world["dav"]["carol"](
        "COPY", TEAM + "/plan.txt", Destination="http://testserver/dav/mine.txt"
    )
    assert response.status_code == 201, content(response)
    mine = live(carol, "mine.txt")
    assert mine is not None and mine.owner_id == carol.pk
    assert used(carol) == len(b"the plan")


def test_shared_with_me_itself_is_read_only(world: dict[str, Any]) -> None:
    bob = world["dav"]["bob"]
    for method, path, body in (("MKCOL", SHARED + "/New/", b""), ("PUT", SHARED + "/x.txt", b"x")):
        response = bob(method, path, body)
        assert response.status_code == 403
        assert b"read-only" in content(response)
    assert bob("DELETE", SHARED + "/").status_code == 403
    moved = bob("MOVE", TEAM + "/", Destination="http://testserver" + SHARED + "/Other/")
    assert moved.status_code == 403
    assert live(world["alice"], "Team") is not None


def test_removing_the_share_takes_effect_at_once(world: dict[str, Any]) -> None:
    bob = world["dav"]["bob"]
    assert bob("GET", TEAM + "/plan.txt").status_code == 200
    person_share_delete(actor=world["alice"], share=world["share"])
    assert bob("GET", TEAM + "/plan.txt").status_code == 404
    # As for any folder that does not exist (RFC 4918: a PUT into it is a conflict).
    assert bob("PUT", TEAM + "/late.txt", b"late").status_code == 409
    assert bob("PUT", SHARED + "/Nowhere/late.txt", b"late").status_code == 409
    assert not Node.objects.filter(name="late.txt").exists()
    assert "/dav/Shared with me/Team/" not in hrefs(bob, SHARED + "/")


def test_names_clash_with_the_owner_suffix_and_own_items_win(
    world: dict[str, Any], token_of: Any
) -> None:
    dave = UserFactory(username="dave", email="dave@example.com")
    dave_dav = Dav("dave", token_of(dave))
    assert dave_dav("MKCOL", "/dav/Team/").status_code == 201
    assert dave_dav("PUT", "/dav/Team/dave.txt", b"dave's").status_code == 201
    team = live(dave, "Team")
    assert team is not None
    person_share_create(actor=dave, node=team, user="bob")
    bob = world["dav"]["bob"]
    listed = hrefs(bob, SHARED + "/")
    assert {"/dav/Shared with me/Team/", "/dav/Shared with me/Team (dave)/"} <= listed
    assert content(bob("GET", SHARED + "/" + quote("Team (dave)") + "/dave.txt")) == b"dave's"
    # bob's own item named "Shared with me" wins; the collection moves aside.
    folder_create(owner=world["bob"], parent=tree.home_of(world["bob"]), name="Shared with me")
    fallback = "/dav/" + quote("Shared with me (from others)")
    assert "/dav/Shared with me (from others)/" in hrefs(bob, "/dav/")
    assert bob("GET", fallback + "/Team/plan.txt").status_code == 200
    assert hrefs(bob, SHARED + "/") == {"/dav/Shared with me/"}


PROPPATCH = (
    '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:z">'
    "<D:set><D:prop><Z:colour>red</Z:colour></D:prop></D:set></D:propertyupdate>"
)


@pytest.mark.parametrize(("who", "allowed"), [("bob", True), ("carol", False), ("mallory", False)])
def test_proppatch(world: dict[str, Any], who: str, allowed: bool) -> None:
    response = world["dav"][who](
        "PROPPATCH", TEAM + "/plan.txt", PROPPATCH, **{"Content-Type": "text/xml"}
    )
    stored = DeadProperty.objects.filter(node__name="plan.txt").exists()
    if allowed:
        assert response.status_code == 207
        assert stored
    else:
        # carol sees the file: the multistatus refuses the property (404, as the API would).
        assert response.status_code == (207 if who == "carol" else 404)
        if who == "carol":
            assert b"404" in content(response)
        assert not stored
