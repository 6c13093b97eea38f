"""The activity log: an entry for every kind of change, with the person, the item, where
it was and when; none for a change that rolled back; who may read which entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from files import services, tree
from files.activity import Kind, activity_feed
from files.models import Activity, NodeShare
from sharing import people
from sharing import services as link_services
from tests.files.conftest import received
from tests.people.conftest import World, api_for

pytestmark = pytest.mark.django_db


def test_every_kind_of_change_is_recorded_with_person_item_and_place(world: World):
    Activity.objects.all().delete()
    alice, bob = world.alice, world.bob
    new = services.folder_create(owner=alice, parent=world.team, name="New", actor=bob)
    up = services.file_upload(
        owner=alice, parent=new, name="a.txt", received=received(b"1"), actor=bob
    )
    services.file_upload(
        owner=alice,
        parent=new,
        name="a.txt",
        received=received(b"2"),
        on_conflict="replace",
        actor=bob,
    )
    services.node_rename(node=up, name="b.txt", actor=bob)
    services.node_move(node=up, new_parent=world.sub, actor=bob)
    services.node_copy(node=up, new_parent=world.team, actor=bob)
    services.node_trash(node=up, actor=bob)
    services.node_restore(node=up, actor=alice)
    services.node_trash(node=up, actor=alice)
    services.node_delete(node=up, actor=alice)
    share = people.person_share_create(actor=alice, node=new, user="mallory")
    people.person_share_update(actor=alice, share=share, role="editor")
    people.person_share_delete(actor=alice, share=share)
    link, _ = link_services.share_create(owner=alice, node=new, label="party")
    link = link_services.share_update(link=link, label="party!")
    link_services.share_count_access(link=link)
    link_services.share_revoke(link=link)

    kinds = list(Activity.objects.order_by("id").values_list("kind", flat=True))
    assert set(kinds) == set(Kind.values), set(Kind.values) - set(kinds)
    upload = Activity.objects.get(kind=Kind.UPLOAD)
    assert (upload.actor, upload.owner, upload.node_name, upload.where) == (
        bob,
        alice,
        "a.txt",
        "/Team/New",
    )
    moved = Activity.objects.get(kind=Kind.MOVE)
    assert moved.detail == "from /Team/New" and moved.where == "/Team/Sub"
    visit = Activity.objects.get(kind=Kind.LINK_VISIT)
    assert visit.actor is None and visit.who == "visitor of link “party!”"
    deleted = Activity.objects.get(kind=Kind.DELETE)
    assert deleted.node is None and deleted.node_name == "b.txt"  # the item is gone


def test_a_change_that_rolls_back_leaves_no_entry(world: World):
    before = Activity.objects.count()

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        services.node_rename(node=world.deep, name="renamed.txt", actor=world.bob)
        services.folder_create(owner=world.alice, parent=world.team, name="X", actor=world.bob)
        raise Undo
    assert Activity.objects.count() == before
    # and a refused change records nothing either
    with pytest.raises(Exception):  # noqa: B017 - NameConflict
        services.folder_create(owner=world.alice, parent=world.team, name="Sub", actor=world.bob)
    assert Activity.objects.count() == before


def test_who_reads_what_and_the_folder_feed_includes_below(world: World):
    services.node_rename(node=world.deep, name="d.txt", actor=world.bob)
    services.node_rename(node=world.secret, name="s.txt", actor=world.alice)
    for who, expected_visible, expected_hidden in [
        (world.alice, {"d.txt", "s.txt"}, set()),
        (world.bob, {"d.txt"}, {"s.txt"}),
        (world.carol, {"d.txt"}, {"s.txt"}),
        (world.mallory, set(), {"d.txt", "s.txt"}),
    ]:
        body = api_for(who).get("/api/v1/activity/", {"kind": "rename"}).json()
        names = {row["node_name"] for row in body["results"]}
        assert expected_visible <= names and not (expected_hidden & names), who
    # the folder's feed: the item and below it
    feed = api_for(world.alice).get("/api/v1/activity/", {"node": world.team.pk}).json()
    assert "d.txt" in {row["node_name"] for row in feed["results"]}
    assert "s.txt" not in {row["node_name"] for row in feed["results"]}
    by_bob = api_for(world.alice).get("/api/v1/activity/", {"person": "bob"}).json()
    assert {row["person"] for row in by_bob["results"]} == {"bob"}
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    assert api_for(world.alice).get("/api/v1/activity/", {"since": later}).json()["count"] == 0
    # after the share is gone, bob reads nothing of alice's
    NodeShare.objects.filter(user=world.bob).delete()
    assert activity_feed(user=world.bob).filter(owner=world.alice).count() == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [({"kind": "nope"}, "kind"), ({"since": "yesterday"}, "since"), ({"person": "x"}, "person")],
)
def test_bad_filters_are_400(world: World, params, field):
    response = api_for(world.alice).get("/api/v1/activity/", params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_activity_page_and_details_panel(world: World):
    from tests.people.conftest import web_for

    services.node_rename(node=world.deep, name="d.txt", actor=world.bob)
    client = web_for(world.alice)
    page = client.get("/files/activity/", {"folder": world.team.pk, "person": "bob"})
    assert page.status_code == 200 and "d.txt" in page.content.decode()
    details = client.get(f"/files/items/{world.team.pk}/").content.decode()
    assert "People with access" in details and "bob" in details and "d.txt" in details
    assert client.get("/files/activity/", {"period": "century"}).status_code == 400


def test_prune_keeps_the_configured_days(world: World, settings):
    settings.FILEFLOW_ACTIVITY_DAYS = 10
    old = Activity.objects.first()
    Activity.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=11))
    total = Activity.objects.count()
    call_command("prune_activity", "--dry-run")
    assert Activity.objects.count() == total
    call_command("prune_activity")
    assert Activity.objects.count() == total - 1
    assert not Activity.objects.filter(pk=old.pk).exists()
    assert tree.check(world.alice) == []


def test_a_drop_folder_upload_is_by_the_visitor_of_the_link(world: World):
    from files.ingest import Upload
    from sharing.services import Visitor, share_receive_uploads

    link, _ = link_services.share_create(
        owner=world.alice, node=world.team, permission="upload", label="inbox"
    )
    (node,) = share_receive_uploads(
        link=link,
        uploads=[Upload(name="dropped.txt", received=received(b"dropped"))],
        uploader_name="Dana",
        visitor=Visitor(address="192.0.2.1", client="test"),
        counted=True,
    )
    entry = Activity.objects.get(kind=Kind.UPLOAD, node=node)
    assert entry.actor is None and entry.who == "visitor of link “inbox”"
