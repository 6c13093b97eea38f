"""What the access check costs: a listing of a shared folder costs the owner's listing plus one
query (the check), whatever the folder holds; the check's query is answered from an index."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from files import access, services, tree
from files.models import NodeShare
from tests.people.conftest import World, api_for, put, web_for

pytestmark = pytest.mark.django_db


def _queries(client: Any, url: str) -> int:
    client.get(url)  # once first: what a first visit sets up (the sharing policy row) once
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def _fill(world: World, count: int) -> None:
    existing = world.team.children.count()
    for n in range(existing, count):
        put(world.alice, world.team, f"file {n:03d}.txt", f"content {n}".encode())
    services.folder_create(owner=world.alice, parent=world.team, name=f"folder {count}")


@pytest.mark.parametrize(
    "url",
    ["/api/v1/nodes/?parent={pk}", "/files/folders/{pk}/"],
    ids=["api", "page"],
)
def test_a_shared_listing_costs_the_owners_plus_one_query_whatever_its_length(
    world: World, url: str
):
    url = url.format(pk=world.team.pk)
    costs: dict[int, dict[str, int]] = {}
    for entries in (3, 30):
        _fill(world, entries)
        costs[entries] = {
            who: _queries(
                (api_for if url.startswith("/api/") else web_for)(getattr(world, who)), url
            )
            for who in ("alice", "bob", "carol")
        }
    for entries, cost in costs.items():
        # bob through a share to him, carol through her group's: one query each, the check.
        assert cost["bob"] == cost["alice"] + 1, (entries, cost)
        assert cost["carol"] == cost["alice"] + 1, (entries, cost)
    assert costs[3] == costs[30]


def test_the_owner_pays_no_query_for_the_check(world: World, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert access.access_of(world.alice, world.deep) is access.OWNER
    with django_assert_num_queries(1):
        assert access.access_of(world.carol, world.deep).role == "viewer"


def test_breadcrumbs_of_a_shared_folder_start_at_the_share_in_one_query(
    world: World, django_assert_num_queries
):
    with django_assert_num_queries(1):
        crumbs = access.crumbs_for(world.bob, world.sub)
    assert [folder.pk for folder in crumbs] == [world.team.pk, world.sub.pk]
    # a share on the sub-folder too: the crumbs still start at the highest one reached
    NodeShare.objects.create(
        node=world.sub, node_key=tree.key(world.sub), user=world.bob, created_by=world.alice
    )
    assert access.crumbs_for(world.bob, world.sub)[0].pk == world.team.pk
    with django_assert_num_queries(1):
        mine = access.crumbs_for(world.alice, world.sub)
    assert [folder.name for folder in mine] == ["", "Team", "Sub"]


def test_expiry_is_read_the_same_on_every_database(world: World):
    share = NodeShare.objects.get(node=world.team, user=world.bob)
    share.expires_at = timezone.now() + timedelta(minutes=5)
    share.save()
    assert access.access_of(world.bob, world.deep).role == "editor"
    share.expires_at = timezone.now() - timedelta(seconds=1)
    share.save()
    # carol's group share is a viewer's; bob is in no group: nothing left for him.
    assert access.access_of(world.bob, world.deep) is None


def test_the_check_is_answered_from_an_index(world: World):
    with CaptureQueriesContext(connection) as queries:
        access.access_of(world.carol, world.deep)
    (query,) = queries.captured_queries
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The test tables are tiny, so a sequential scan would win; forbid it to see
            # whether the query can use an index at all.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + query["sql"])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
        plan = "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())
    assert "files_nodeshare_node_id" in plan, plan
    assert "Seq Scan" not in plan and "SCAN files_nodeshare" not in plan, plan
