"""The activity feeds of a person with 1,000 shares in: every page and endpoint answers 200
with the right entries, in a few queries, and the SQL does not grow with the shares (one
OR per share used to pass SQLite's expression-depth limit of 1,000 and answer 500)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files import services, tree
from files.activity import Kind, activity_feed
from files.models import Activity, Node, NodeShare
from tests.factories import UserFactory
from tests.people.conftest import api_for, web_for

pytestmark = pytest.mark.django_db

OWNERS = 50
PER_OWNER = 20  # 50 owners x 20 folders = 1,000 shares


def folders(owner: Any, parent: Node, names: list[str]) -> list[Node]:
    return tree.insert_leaves([Node(owner=owner, name=n, is_folder=True) for n in names], parent)


def entry(node: Node, name: str = "") -> Activity:
    return Activity(
        kind=Kind.RENAME,
        owner_id=node.owner_id,
        node=node,
        node_name=name or node.name,
        path=node.path,
    )


@pytest.fixture
def crowd(db: None) -> dict[str, Any]:
    reader = UserFactory(username="reader")
    owners = [UserFactory(username=f"owner{i}") for i in range(OWNERS)]
    shared: list[Node] = []
    unshared: list[Node] = []
    for owner in owners:
        home = tree.home_of(owner)
        made = folders(owner, home, [f"s{i}" for i in range(PER_OWNER)] + ["private"])
        shared += made[:-1]
        unshared.append(made[-1])
    NodeShare.objects.bulk_create(
        NodeShare(node=node, user=reader, node_key=tree.key(node), created_by_id=node.owner_id)
        for node in shared
    )
    first, last = shared[0], shared[-1]
    inside = folders(first.owner, first, ["inside"])[0]
    hidden_sibling = unshared[0]
    Activity.objects.bulk_create(
        [
            entry(first, "seen-first"),
            entry(inside, "seen-inside"),
            entry(last, "seen-last"),
            entry(hidden_sibling, "hidden-private"),
            entry(unshared[-1], "hidden-other"),
        ]
    )
    return {"reader": reader, "first": first, "last": last, "inside": inside}


SEEN = {"seen-first", "seen-inside", "seen-last"}
HIDDEN = {"hidden-private", "hidden-other"}


def test_activity_api_with_1000_shares(crowd: dict[str, Any]):
    assert NodeShare.objects.filter(user=crowd["reader"]).count() == OWNERS * PER_OWNER
    client = api_for(crowd["reader"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/activity/")
    assert response.status_code == 200, response.content
    names = {row["node_name"] for row in response.json()["results"]}
    assert names == SEEN and not names & HIDDEN
    assert len(queries) <= 6, [q["sql"][:200] for q in queries]

    response = client.get("/api/v1/activity/", {"node": crowd["first"].pk})
    assert response.status_code == 200, response.content
    assert {row["node_name"] for row in response.json()["results"]} == {
        "seen-first",
        "seen-inside",
    }


def test_activity_page_folder_feed_and_details_with_1000_shares(crowd: dict[str, Any]):
    client = web_for(crowd["reader"])
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/files/activity/")
    assert page.status_code == 200
    body = page.content.decode()
    assert all(name in body for name in SEEN) and not any(name in body for name in HIDDEN)
    assert len(queries) <= 12, [q["sql"][:200] for q in queries]

    folder = client.get("/files/activity/", {"folder": crowd["first"].pk})
    assert folder.status_code == 200
    body = folder.content.decode()
    assert "seen-inside" in body and "seen-last" not in body

    details = client.get(f"/files/items/{crowd['last'].pk}/")
    assert details.status_code == 200
    body = details.content.decode()
    assert "seen-last" in body and "seen-first" not in body


def test_feed_sql_does_not_grow_with_the_shares(crowd: dict[str, Any]):
    reader = crowd["reader"]
    many = str(activity_feed(user=reader).query)
    NodeShare.objects.filter(user=reader).exclude(node=crowd["first"]).delete()
    one = str(activity_feed(user=reader).query)
    assert len(many) == len(one)
    assert {a.node_name for a in activity_feed(user=reader)} == {"seen-first", "seen-inside"}


def test_trashed_share_and_an_items_earlier_owner_stay_hidden(crowd: dict[str, Any]):
    reader, first, last = crowd["reader"], crowd["first"], crowd["last"]
    services.node_trash(node=last, actor=last.owner)
    # An entry about ``first`` recorded while it belonged to someone else (before a handover).
    earlier = UserFactory(username="earlier")
    Activity.objects.create(
        kind=Kind.UPLOAD, owner=earlier, node=first, node_name="earlier-private", path="x"
    )
    names = {a.node_name for a in activity_feed(user=reader)}
    assert names == {"seen-first", "seen-inside"}
