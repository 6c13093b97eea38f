"""Searching across what is shared with you (issue 14): who finds what, how shared hits are
shown (as the recipient sees them, never the owner's folders above the share), where their
folder links lead, and what the search's speed rests on, asserted as structure: a bounded
number of queries however many shares, and the shares' path ranges read from the index."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from files import selectors, services, tree
from files.models import Node, NodeShare
from search.engine import SearchQuery, build_queryset, search
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.people.conftest import World, api_for, put, web_for

pytestmark = pytest.mark.django_db

API = "/api/v1/search/"
# The owner's folders above what she shares: nobody else may see these names.
PRIVATE = ("alice-private", "Projects")


@dataclass
class Shared:
    q3: Node  # /alice-private/Projects/Q3: bob editor, group "family" (carol) viewer
    report: Node  # …/Q3/report Q3.pdf
    drafts: Node  # …/Q3/Drafts
    draft: Node  # …/Q3/Drafts/report draft.txt
    budget: Node  # /alice-private/Budget report.txt: a file shared with bob alone
    hidden: Node  # /alice-private/Projects/report secret.txt: shared with nobody


@pytest.fixture
def shared(world: World) -> Shared:
    alice = world.alice
    private = services.folder_create(owner=alice, parent=tree.home_of(alice), name=PRIVATE[0])
    projects = services.folder_create(owner=alice, parent=private, name=PRIVATE[1])
    q3 = services.folder_create(owner=alice, parent=projects, name="Q3")
    report = put(alice, q3, "report Q3.pdf", b"%PDF-1.4 numbers")
    drafts = services.folder_create(owner=alice, parent=q3, name="Drafts")
    draft = put(alice, drafts, "report draft.txt", b"draft")
    budget = put(alice, private, "Budget report.txt", b"budget")
    hidden = put(alice, projects, "report secret.txt", b"secret")
    person_share_create(actor=alice, node=q3, user="bob", role="editor")
    person_share_create(actor=alice, node=q3, group="family", role="viewer")
    person_share_create(actor=alice, node=budget, user="bob", role="viewer")
    return Shared(q3, report, drafts, draft, budget, hidden)


def hits(user: Any, **params: Any) -> dict[int, dict[str, Any]]:
    response = api_for(user).get(API, {"q": "report", **params})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])
    return {hit["id"]: hit for hit in body["results"]}


def test_each_person_finds_exactly_what_they_may_see(world: World, shared: Shared) -> None:
    everything = {shared.report.pk, shared.draft.pk, shared.budget.pk, shared.hidden.pk}
    expected_visible = {
        "alice": everything,
        "bob": {shared.report.pk, shared.draft.pk, shared.budget.pk},
        "carol": {shared.report.pk, shared.draft.pk},
        "mallory": set(),
    }
    for who, visible in expected_visible.items():
        found = set(hits(getattr(world, who)))
        expected_hidden = everything - visible
        assert found == visible, who
        assert not found & expected_hidden, who


def test_shared_hits_show_the_path_the_recipient_sees(world: World, shared: Shared) -> None:
    response = api_for(world.bob).get(API, {"q": "report"})
    found = {hit["id"]: hit for hit in response.json()["results"]}
    assert found[shared.report.pk]["path"] == "Shared with me/Q3/report Q3.pdf"
    assert found[shared.draft.pk]["path"] == "Shared with me/Q3/Drafts/report draft.txt"
    assert found[shared.budget.pk]["path"] == "Shared with me/Budget report.txt"
    assert all(hit["shared"] for hit in found.values())
    # "parent": the folder bob can open; the shared file itself sits in Shared with me.
    assert found[shared.report.pk]["parent"] == shared.q3.pk
    assert found[shared.draft.pk]["parent"] == shared.drafts.pk
    assert found[shared.budget.pk]["parent"] is None
    for name in PRIVATE:
        assert name not in response.content.decode()


def test_the_owner_still_sees_her_own_paths(world: World, shared: Shared) -> None:
    found = hits(world.alice)
    assert found[shared.report.pk]["path"] == "/alice-private/Projects/Q3/report Q3.pdf"
    assert found[shared.report.pk]["parent"] == shared.q3.pk
    assert not any(hit["shared"] for hit in found.values())


def test_a_folder_shared_twice_shows_from_the_top_share_once(world: World, shared: Shared) -> None:
    """Drafts is shared with bob again (inside Q3, which he has): one hit each, counted
    once, still under Q3."""
    person_share_create(actor=world.alice, node=shared.drafts, user="bob", role="viewer")
    found = hits(world.bob)
    assert sorted(found) == sorted([shared.report.pk, shared.draft.pk, shared.budget.pk])
    assert found[shared.draft.pk]["path"] == "Shared with me/Q3/Drafts/report draft.txt"


def test_trash_and_expiry_hide_shared_items(world: World, shared: Shared) -> None:
    services.node_trash(node=shared.drafts, actor=world.alice)
    for trash in ("exclude", "include", "only"):
        assert shared.draft.pk not in hits(world.bob, trash=trash)
    assert shared.draft.pk in hits(world.alice, trash="only")  # the trash is the owner's
    NodeShare.objects.filter(node=shared.q3).update(expires_at=timezone.now() - timedelta(1))
    assert set(hits(world.bob)) == {shared.budget.pk}
    assert set(hits(world.carol)) == set()


def test_the_results_page_shows_shared_items_under_shared_with_me(
    world: World, shared: Shared
) -> None:
    client = web_for(world.bob)
    page = client.get("/search/", {"q": "report"}).content.decode()
    folder = reverse("files:folder", args=[0])
    q3_url = folder.replace("/0/", f"/{shared.q3.pk}/")
    drafts_url = folder.replace("/0/", f"/{shared.drafts.pk}/")
    locations = {
        label: href
        for href, label in re.findall(r'class="location-link" href="([^"]*)">([^<]*)</a>', page)
    }
    assert locations == {
        "Shared with me/Q3": q3_url,
        "Shared with me/Q3/Drafts": drafts_url,
        "Shared with me": reverse("sharing:shared-with-me"),
    }
    for name in PRIVATE:
        assert name not in page
    # Each link opens for bob.
    for href in locations.values():
        assert client.get(href).status_code == 200


def test_a_page_of_hits_costs_the_same_queries_with_many_shares(world: World) -> None:
    """The page, the total, its tags, the paths (own and shared), the shares above the
    shared hits and the hits' snippets: the same few queries with 3 shares or 40, from 1
    owner or 8."""

    def cost(shares: int, owners: int) -> int:
        reader = UserFactory()
        people = [UserFactory() for _ in range(owners)]
        for number in range(shares):
            owner = people[number % owners]
            folder = services.folder_create(
                owner=owner, parent=tree.home_of(owner), name=f"project {number}"
            )
            put(owner, folder, f"report {number}.txt", b"r")
            person_share_create(actor=owner, node=folder, user=reader.username)
        with CaptureQueriesContext(connection) as queries:
            page = search(user=reader, query=SearchQuery(q="report"), limit=2, with_total=True)
        assert page.total == shares and len(page.hits) == 2 and page.has_more
        assert all(hit.shared and hit.path.startswith("Shared with me/") for hit in page.hits)
        return len(queries)

    assert cost(3, 1) == cost(40, 8) <= 8


def test_the_shares_path_ranges_come_from_the_index(world: World, shared: Shared) -> None:
    """The shared side of a search is one range per share on files_node_path, read from the
    index, with the shares as the outer loop: its cost follows what is shared with bob, not
    the size of the table. (PostgreSQL only picks indexes over tables of some size: the
    nodes are many here. How it then reads the page's rows — by id, or one pass over a
    table this small — is its cost model's choice.)"""
    owner = UserFactory()
    home = tree.home_of(owner)
    Node.objects.bulk_create(
        [
            Node(owner=owner, parent=home, name=f"other {n}", is_folder=True, path=tree.key(home))
            for n in range(3000)
        ]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE files_node")
            cursor.execute("ANALYZE files_nodeshare")
    plan = build_queryset(user=world.bob, query=SearchQuery(q="report")).explain()
    if connection.vendor == "postgresql":
        assert re.search(r"Index (Only )?Scan using files_node_path on files_node", plan), plan
        # The nodes are not tested one by one against the shares (that index served it).
        assert "files_nodeshare_key" not in plan, plan
    else:
        assert re.search(
            r"SEARCH n USING (COVERING )?INDEX files_node_path \(path>\? AND path<\?\)", plan
        ), plan
        assert not re.search(r"SCAN (files_node|n)\b", plan), plan


def test_search_in_offers_ones_own_live_folders_and_those_shared_with_one(
    world: World, shared: Shared
) -> None:
    bob = world.bob
    mine = services.folder_create(owner=bob, parent=tree.home_of(bob), name="Bob's")
    gone = services.folder_create(owner=bob, parent=tree.home_of(bob), name="Old")
    services.node_trash(node=gone)
    services.node_trash(node=shared.drafts)  # trashed by its owner: gone for bob too
    page = web_for(bob).get(reverse("search:results")).content.decode()
    offered = {int(pk) for pk in re.findall(r'<option value="(\d+)"', page)}
    # Never alice's folders above what she shares, nor the trash, nor the home folder.
    assert offered == {mine.pk, world.team.pk, world.sub.pk, shared.q3.pk}
    # Carol sees the group's shares (Team and Q3 with what they hold), and has no folder.
    page = web_for(world.carol).get(reverse("search:results")).content.decode()
    offered = {int(pk) for pk in re.findall(r'<option value="(\d+)"', page)}
    assert offered == {world.team.pk, world.sub.pk, shared.q3.pk}


def test_search_in_lists_ones_own_folders_first_up_to_the_limit(world: World) -> None:
    bob = world.bob
    home = tree.home_of(bob)
    mine = [services.folder_create(owner=bob, parent=home, name=f"B{i}") for i in range(2)]
    assert selectors.live_folders(bob, limit=1) == [mine[0]]
    assert selectors.live_folders(bob, limit=3) == [*mine, world.team]
    assert selectors.live_folders(bob, limit=10) == [*mine, world.team, world.sub]
