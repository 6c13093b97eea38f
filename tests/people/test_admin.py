"""Operators see every share and all activity in the admin; removing a share goes through
the service."""

from __future__ import annotations

import pytest
from django.test import Client

from files.models import Activity, NodeShare
from tests.factories import UserFactory
from tests.people.conftest import World

pytestmark = pytest.mark.django_db


def test_operators_see_shares_and_activity_and_remove_through_the_service(world: World):
    operator = UserFactory(username="op", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    shares = client.get("/admin/files/nodeshare/")
    assert shares.status_code == 200 and "family" in shares.content.decode()
    log = client.get("/admin/files/activity/")
    assert log.status_code == 200 and "Team" in log.content.decode()
    share = NodeShare.objects.get(user=world.bob)
    response = client.post(
        "/admin/files/nodeshare/",
        {"action": "remove_shares", "_selected_action": [share.pk]},
    )
    assert response.status_code == 302
    assert not NodeShare.objects.filter(pk=share.pk).exists()
    assert Activity.objects.filter(kind="unshare", node=world.team).exists()


def test_a_share_page_in_the_admin_shows_each_recipients_marks(world: World):
    from sharing.people import person_share_mark

    operator = UserFactory(username="op", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(operator)
    share = NodeShare.objects.get(group=world.family)
    person_share_mark(user=world.carol, share=share, pinned=True)
    page = client.get(f"/admin/files/nodeshare/{share.pk}/change/").content.decode()
    assert "marks (seen, pinned)" in page and "carol" in page
