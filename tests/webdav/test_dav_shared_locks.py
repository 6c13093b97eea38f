"""A WebDAV lock is on an item, not on a path string: taken by a recipient under Shared with
me or by the owner in their own files, it follows the item when it is renamed or moved
(anywhere: web page, API, WebDAV), and it binds everyone who reaches the item, whichever
path they reach it by. alice owns /Team (plan.txt in it), shared with bob as editor."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

import pytest
from rest_framework.test import APIClient

from files.models import NodeShare
from sharing.people import person_share_create, person_share_delete
from tests.factories import UserFactory
from tests.webdav.conftest import Dav
from tests.webdav.test_dav import D, content, live, lock, propfind
from tests.webdav.test_dav_shared import SHARED, TEAM, world  # noqa: F401 - the fixture
from tests.webdav.test_propfind import LOCK_BODY

pytestmark = pytest.mark.django_db


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _rename(owner: Any, path: str, name: str) -> None:
    node = live(owner, path)
    assert node is not None
    assert _api(owner).patch(f"/api/v1/nodes/{node.pk}/", {"name": name}).status_code == 200


def _root(dav: Dav, path: str) -> str | None:
    """The lock root a PROPFIND of ``path`` shows (None: not locked)."""
    found = propfind(dav, path, "lockdiscovery")
    (entry,) = found.values()
    active = entry[f"{D}lockdiscovery"].find(f"{D}activelock")
    return None if active is None else unquote(active.findtext(f"{D}lockroot/{D}href") or "")


def _deep_lock(dav: Dav, path: str) -> str:
    response = dav(
        "LOCK",
        path,
        LOCK_BODY,
        Timeout="Second-600",
        Depth="infinity",
        **{"Content-Type": "text/xml"},
    )
    assert response.status_code == 200, content(response)
    return str(response.headers["Lock-Token"]).strip("<>")


def test_a_recipients_lock_follows_the_owners_rename(world: dict[str, Any]) -> None:  # noqa: F811
    alice, bob = world["alice"], world["dav"]["bob"]
    token = lock(bob, TEAM + "/plan.txt")
    _rename(alice, "Team/plan.txt", "plan v2.txt")
    moved = TEAM + "/" + quote("plan v2.txt")
    assert bob("PUT", moved, b"mine").status_code == 423
    assert bob("PUT", moved, b"mine", If=f"(<{token}>)").status_code == 204
    assert _root(bob, moved) == "/dav/Shared with me/Team/plan v2.txt"
    # The old path is free: a new file there needs no token.
    assert bob("PUT", TEAM + "/plan.txt", b"new").status_code == 201
    assert bob("PUT", TEAM + "/plan.txt", b"newer").status_code == 204
    assert bob("UNLOCK", moved, **{"Lock-Token": f"<{token}>"}).status_code == 204
    assert bob("PUT", moved, b"free").status_code == 204


def test_a_recipients_lock_follows_when_the_shared_folder_is_renamed_or_moved(
    world: dict[str, Any],  # noqa: F811
) -> None:
    alice, bob = world["alice"], world["dav"]["bob"]
    token = lock(bob, TEAM + "/plan.txt")
    _rename(alice, "Team", "Crew")
    crew = SHARED + "/Crew"
    assert bob("PUT", crew + "/plan.txt", b"x").status_code == 423
    assert _root(bob, crew + "/plan.txt") == "/dav/Shared with me/Crew/plan.txt"
    # moved into another folder of alice's: still the same entry in bob's Shared with me
    assert world["dav"]["bob"]("GET", crew + "/plan.txt").status_code == 200
    outer = alice_folder = live(alice, "Private")
    assert outer is not None
    crew_node = live(alice, "Crew")
    assert crew_node is not None
    moved = _api(alice).patch(f"/api/v1/nodes/{crew_node.pk}/", {"parent": alice_folder.pk})
    assert moved.status_code == 200
    assert bob("PUT", crew + "/plan.txt", b"x").status_code == 423
    assert bob("PUT", crew + "/plan.txt", b"x", If=f"(<{token}>)").status_code == 204
    assert _root(world_dav_alice(world), "/dav/Private/Crew/plan.txt") == (
        "/dav/Private/Crew/plan.txt"
    )


def world_dav_alice(world: dict[str, Any]) -> Dav:  # noqa: F811
    from accounts.services import token_create

    _token, raw = token_create(user=world["alice"], name="alice again")
    return Dav("alice", str(raw))


def test_a_recipients_lock_binds_the_owner_and_other_recipients(
    world: dict[str, Any],  # noqa: F811
) -> None:
    alice, bob = world_dav_alice(world), world["dav"]["bob"]
    dave = UserFactory(username="dave", email="dave@example.com")
    person_share_create(
        actor=world["alice"], node=world["team"], user="dave", role=NodeShare.Role.EDITOR
    )
    from accounts.services import token_create

    dave_dav = Dav("dave", str(token_create(user=dave, name="dav")[1]))
    token = lock(bob, TEAM + "/plan.txt")
    assert alice("PUT", "/dav/Team/plan.txt", b"alice").status_code == 423
    assert alice("DELETE", "/dav/Team/plan.txt").status_code == 423
    assert dave_dav("PUT", TEAM + "/plan.txt", b"dave").status_code == 423
    # Each sees the lock at the item's path as they see it.
    assert _root(alice, "/dav/Team/plan.txt") == "/dav/Team/plan.txt"
    assert _root(dave_dav, TEAM + "/plan.txt") == "/dav/Shared with me/Team/plan.txt"
    # Another's token is no key (the If header's condition fails): only the holder's.
    assert dave_dav("PUT", TEAM + "/plan.txt", b"dave", If=f"(<{token}>)").status_code == 412
    assert bob("PUT", TEAM + "/plan.txt", b"bob", If=f"(<{token}>)").status_code == 204
    assert content(alice("GET", "/dav/Team/plan.txt")) == b"bob"


def test_the_owners_lock_binds_a_recipient(world: dict[str, Any]) -> None:  # noqa: F811
    alice, bob = world_dav_alice(world), world["dav"]["bob"]
    token = lock(alice, "/dav/Team/plan.txt")
    assert bob("PUT", TEAM + "/plan.txt", b"bob").status_code == 423
    renamed = {"Destination": "http://testserver" + TEAM + "/other.txt"}
    assert bob("MOVE", TEAM + "/plan.txt", **renamed).status_code == 423
    assert _root(bob, TEAM + "/plan.txt") == "/dav/Shared with me/Team/plan.txt"
    assert alice("PUT", "/dav/Team/plan.txt", b"alice", If=f"(<{token}>)").status_code == 204


def test_a_recipients_folder_lock_covers_what_is_added_after_a_rename(
    world: dict[str, Any],  # noqa: F811
) -> None:
    alice, bob = world_dav_alice(world), world["dav"]["bob"]
    token = _deep_lock(bob, TEAM)
    assert alice("PUT", "/dav/Team/new.txt", b"alice").status_code == 423
    _rename(world["alice"], "Team", "Crew")
    crew = SHARED + "/Crew"
    assert bob("PUT", crew + "/new.txt", b"bob").status_code == 423
    assert bob("PUT", crew + "/new.txt", b"bob", If=f"(<{token}>)").status_code == 201
    assert alice("PUT", "/dav/Crew/new.txt", b"alice").status_code == 423
    assert alice("MKCOL", "/dav/Team").status_code == 201  # the old name is free
    assert alice("PUT", "/dav/Team/x.txt", b"x").status_code == 201


def test_a_lock_whose_holder_lost_the_share_binds_nobody(
    world: dict[str, Any],  # noqa: F811
) -> None:
    alice, bob = world_dav_alice(world), world["dav"]["bob"]
    lock(bob, TEAM + "/plan.txt")
    assert alice("PUT", "/dav/Team/plan.txt", b"alice").status_code == 423
    person_share_delete(actor=world["alice"], share=world["share"])
    assert alice("PUT", "/dav/Team/plan.txt", b"alice").status_code == 204
    assert _root(alice, "/dav/Team/plan.txt") is None


def test_a_viewer_takes_no_lock(world: dict[str, Any]) -> None:  # noqa: F811
    """A lock binds everyone who reaches the item: someone who may only view it cannot
    take one (answered as any write a viewer tries), so cannot hold the owner's file."""
    from webdav.models import DavLock

    carol = world["dav"]["carol"]
    refused = carol("LOCK", TEAM + "/plan.txt", LOCK_BODY, Timeout="Second-600")
    assert refused.status_code == 404
    assert b"view only" in content(refused)
    assert not DavLock.objects.exists()
    assert world_dav_alice(world)("PUT", "/dav/Team/plan.txt", b"alice").status_code == 204


def test_a_lock_whose_holder_now_only_views_binds_nobody(
    world: dict[str, Any],  # noqa: F811
) -> None:
    from sharing.people import person_share_update

    alice, bob = world_dav_alice(world), world["dav"]["bob"]
    lock(bob, TEAM + "/plan.txt")
    assert alice("PUT", "/dav/Team/plan.txt", b"alice").status_code == 423
    person_share_update(actor=world["alice"], share=world["share"], role=NodeShare.Role.VIEWER)
    assert alice("PUT", "/dav/Team/plan.txt", b"alice").status_code == 204


def test_an_item_reached_by_two_paths_is_locked_at_both(
    world: dict[str, Any],  # noqa: F811
) -> None:
    """alice also shares /Team/Sub with bob on its own: it is in his Shared with me twice."""
    alice, bob = world_dav_alice(world), world["dav"]["bob"]
    assert alice("MKCOL", "/dav/Team/Sub").status_code == 201
    assert alice("PUT", "/dav/Team/Sub/x.txt", b"x").status_code == 201
    sub = live(world["alice"], "Team/Sub")
    assert sub is not None
    person_share_create(actor=world["alice"], node=sub, user="bob", role=NodeShare.Role.EDITOR)
    token = lock(bob, TEAM + "/Sub/x.txt")
    assert bob("PUT", SHARED + "/Sub/x.txt", b"y").status_code == 423
    assert bob("PUT", SHARED + "/Sub/x.txt", b"y", If=f"(<{token}>)").status_code == 204
    assert _root(alice, "/dav/Team/Sub/x.txt") == "/dav/Team/Sub/x.txt"
