"""Who sees what: alice owns /Team and /Private; bob edits /Team, carol views it through the
group "family", mallory has nothing. Every transport answers from the same rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from files import access
from files.models import Node, NodeShare
from sharing.people import person_share_create
from sharing.services import share_create
from tests.people.conftest import World, api_for, web_for

pytestmark = pytest.mark.django_db


def _node_urls(node: Node) -> list[str]:
    urls = [
        f"/api/v1/nodes/{node.pk}/",
        f"/api/v1/nodes/{node.pk}/content/",
        f"/api/v1/nodes/zip/?ids={node.pk}",
        f"/api/v1/nodes/{node.pk}/people/",
        f"/api/v1/activity/?node={node.pk}",
        f"/files/items/{node.pk}/",
        f"/files/items/{node.pk}/download/",
    ]
    if node.is_folder:
        urls += [f"/api/v1/nodes/?parent={node.pk}", f"/files/folders/{node.pk}/"]
    else:
        urls += [f"/api/v1/nodes/{node.pk}/versions/"]
    if node.name.endswith(".png"):
        urls += [f"/api/v1/nodes/{node.pk}/thumbnail/?size=64"]
    return urls


def _status(user: Any, url: str) -> int:
    client = web_for(user) if url.startswith("/files/") else api_for(user)
    response = client.get(url)
    if hasattr(response, "streaming_content"):
        b"".join(response.streaming_content)
    return response.status_code


@pytest.mark.parametrize("who", ["bob", "carol", "mallory"])
def test_every_page_and_endpoint_shows_what_is_shared_and_nothing_else(world: World, who: str):
    user = getattr(world, who)
    expected_visible = world.shared if who != "mallory" else set()
    expected_hidden = world.hidden | (world.shared - expected_visible)
    everything = Node.objects.filter(pk__in=expected_visible | expected_hidden)
    seen, refused = set(), set()
    for node in everything:
        statuses = {url: _status(user, url) for url in _node_urls(node)}
        if all(code == 200 for code in statuses.values()):
            seen.add(node.pk)
        elif all(code == 404 for code in statuses.values()):
            refused.add(node.pk)
        else:
            pytest.fail(f"{who} on {node.name}: mixed answers {statuses}")
    assert seen == expected_visible
    assert refused == expected_hidden


@pytest.mark.parametrize("who", ["bob", "carol", "mallory"])
def test_search_and_shared_with_me_list_exactly_the_shared_items(world: World, who: str):
    user = getattr(world, who)
    client = api_for(user)
    hits = client.get("/api/v1/search/", {"q": "txt"}).json()["results"]
    found = {hit["id"] for hit in hits}
    listed = {row["node"] for row in client.get("/api/v1/shared-with-me/").json()["results"]}
    if who == "mallory":
        assert found == set() and listed == set()
    else:
        assert found == {world.deep.pk}  # never secret.txt
        assert listed == {world.team.pk}
    # The owner's own search still finds both of hers.
    mine = api_for(world.alice).get("/api/v1/search/", {"q": "txt"}).json()["results"]
    assert {hit["id"] for hit in mine} == {world.deep.pk, world.secret.pk}


def test_visible_to_is_one_query_and_matches_can(world: World, django_assert_num_queries):
    for user in (world.bob, world.carol, world.mallory):
        with django_assert_num_queries(1):
            visible = set(Node.objects.visible_to(user).values_list("pk", flat=True))
        for node in Node.objects.filter(owner=world.alice):
            assert (node.pk in visible) == access.can(user, node, "view"), (user, node)


def test_roles(world: World):
    assert access.access_of(world.bob, world.deep).role == "editor"
    assert access.can(world.bob, world.deep, "edit")
    assert not access.can(world.bob, world.deep, "delete")
    assert access.can(world.bob, world.deep, "reshare")
    assert access.access_of(world.carol, world.deep).role == "viewer"
    assert not access.can(world.carol, world.deep, "edit")
    assert not access.can(world.carol, world.deep, "reshare")
    assert access.access_of(world.mallory, world.deep) is None
    # the trash is the owner's: a trashed shared item is gone for the others
    world.sub.trashed_at = timezone.now()
    world.sub.save()
    world.deep.refresh_from_db()
    Node.objects.filter(pk=world.deep.pk).update(trashed_at=world.sub.trashed_at)
    world.deep.refresh_from_db()
    assert access.access_of(world.bob, world.deep) is None
    assert access.access_of(world.alice, world.deep).is_owner


def test_viewer_cannot_change_anything(world: World):
    client = api_for(world.carol)
    refusals = [
        client.patch(f"/api/v1/nodes/{world.deep.pk}/", {"name": "x.txt"}, format="json"),
        client.delete(f"/api/v1/nodes/{world.deep.pk}/"),
        client.post("/api/v1/nodes/", {"parent": world.team.pk, "name": "New"}, format="json"),
        client.patch(f"/api/v1/nodes/{world.deep.pk}/", {"is_favorite": True}, format="json"),
        client.post(f"/api/v1/nodes/{world.team.pk}/people/", {"user": "mallory"}, format="json"),
    ]
    assert [r.status_code for r in refusals[:4]] == [404, 404, 404, 404]
    assert "view only" in refusals[0].json()["detail"]
    assert refusals[4].status_code == 404
    assert Node.objects.get(pk=world.deep.pk).name == "deep.txt"
    # …but may copy into their own files, charged to them
    copied = client.post(f"/api/v1/nodes/{world.deep.pk}/copy/", {}, format="json")
    assert copied.status_code == 404  # the item's own folder is not theirs to write
    from files import tree

    home = tree.home_of(world.carol)
    copied = client.post(f"/api/v1/nodes/{world.deep.pk}/copy/", {"parent": home.pk}, format="json")
    assert copied.status_code == 201, copied.json()
    copy = Node.objects.get(pk=copied.json()["id"])
    assert copy.owner_id == world.carol.pk
    world.carol.refresh_from_db()
    assert world.carol.used_bytes == len(b"deep words")


def test_editor_may_write_but_not_delete_for_good_or_tag(world: World):
    client = api_for(world.bob)
    made = client.post("/api/v1/nodes/", {"parent": world.team.pk, "name": "Bob's"}, format="json")
    assert made.status_code == 201
    assert Node.objects.get(pk=made.json()["id"]).owner_id == world.alice.pk
    renamed = client.patch(f"/api/v1/nodes/{world.deep.pk}/", {"name": "d.txt"}, format="json")
    assert renamed.status_code == 200
    assert (
        client.patch(f"/api/v1/nodes/{world.deep.pk}/", {"tags": ["x"]}, format="json").status_code
        == 404
    )
    assert client.delete(f"/api/v1/nodes/{world.deep.pk}/").status_code == 204
    assert client.delete(f"/api/v1/trash/{world.deep.pk}/").status_code == 404
    # in alice's trash, not bob's
    assert [e["id"] for e in api_for(world.alice).get("/api/v1/trash/").json()["results"]] == [
        world.deep.pk
    ]
    assert api_for(world.bob).get("/api/v1/trash/").json()["results"] == []


def test_role_changes_and_removal_take_effect_at_once(world: World):
    share = NodeShare.objects.get(node=world.team, user=world.bob)
    owner = api_for(world.alice)
    bob = api_for(world.bob)
    url = f"/api/v1/nodes/{world.team.pk}/people/{share.pk}/"
    assert owner.patch(url, {"role": "viewer"}, format="json").status_code == 200
    assert (
        bob.post(
            "/api/v1/nodes/", {"parent": world.team.pk, "name": "Nope"}, format="json"
        ).status_code
        == 404
    )
    assert bob.get(f"/api/v1/nodes/{world.deep.pk}/").status_code == 200
    assert owner.delete(url).status_code == 204
    assert bob.get(f"/api/v1/nodes/{world.deep.pk}/").status_code == 404
    assert bob.get("/api/v1/shared-with-me/").json()["results"] == []


def test_expired_share_reaches_nothing(world: World):
    NodeShare.objects.filter(user=world.bob).update(expires_at=timezone.now() - timedelta(1))
    assert api_for(world.bob).get(f"/api/v1/nodes/{world.deep.pk}/").status_code == 404
    assert world.deep.pk not in set(Node.objects.visible_to(world.bob).values_list("pk", flat=True))
    # carol's group share is untouched
    assert api_for(world.carol).get(f"/api/v1/nodes/{world.deep.pk}/").status_code == 200


def test_a_link_made_by_a_resharer_dies_with_their_access(world: World):
    _link, token = share_create(owner=world.bob, node=world.team)
    client = web_for(world.mallory)
    assert client.get(f"/s/{token}/").status_code == 200
    assert client.get(f"/s/{token}/items/{world.deep.pk}/").status_code == 200
    NodeShare.objects.filter(user=world.bob).update(can_reshare=False)
    assert client.get(f"/s/{token}/").status_code == 410
    # and carol, a viewer without the re-share right, cannot make one
    refused = api_for(world.carol).post("/api/v1/shares/", {"node": world.team.pk}, format="json")
    assert refused.status_code == 400
    assert "onward" in refused.json()["detail"]


def test_shares_follow_their_folder_when_it_moves(world: World):
    from files import services, tree

    archive = services.folder_create(owner=world.alice, parent=world.private, name="Archive")
    services.node_move(node=world.team, new_parent=archive)
    assert tree.check(world.alice) == []
    visible = set(Node.objects.visible_to(world.bob).values_list("pk", flat=True))
    assert world.shared <= visible and not (world.hidden | {archive.pk}) & visible
    # moving the folder above a shared subfolder keeps that share right too
    person_share_create(actor=world.alice, node=world.private, user="mallory")
    services.node_move(node=archive, new_parent=tree.home_of(world.alice))
    assert tree.check(world.alice) == []
    assert world.deep.pk in set(Node.objects.visible_to(world.bob).values_list("pk", flat=True))
    assert world.deep.pk not in set(
        Node.objects.visible_to(world.mallory).values_list("pk", flat=True)
    )
    # a stale key is reported by the tree check and repaired by rebuild
    NodeShare.objects.filter(user=world.bob).update(node_key="00000000")
    assert any("stale" in problem for problem in tree.check(world.alice))
    tree.rebuild(world.alice)
    assert tree.check(world.alice) == []
