"""Operators: every link with its state, bulk revoke through the service, the access log,
the sharing policy, and the address-forgetting command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from sharing import services
from sharing.models import ShareAccess, ShareLink, SharingPolicy

pytestmark = pytest.mark.django_db

LINKS = reverse("admin:sharing_sharelink_changelist")
ACCESSES = reverse("admin:sharing_shareaccess_changelist")


def test_links_are_listed_and_filtered_by_state_and_owner(admin_client, alice, mallory, drive):
    active, _ = services.share_create(owner=alice, node=drive["report"], label="alice active")
    revoked = services.share_revoke(
        link=services.share_create(owner=alice, node=drive["shared"], label="alice revoked")[0]
    )
    page = admin_client.get(LINKS).content.decode()
    assert "alice active" in page and "alice revoked" in page
    only_revoked = admin_client.get(LINKS, {"state": "revoked"}).content.decode()
    assert "alice revoked" in only_revoked and "alice active" not in only_revoked
    by_owner = admin_client.get(LINKS, {"created_by__id__exact": mallory.pk}).content.decode()
    assert "alice active" not in by_owner
    assert reverse("admin:sharing_sharelink_add") not in page
    detail = admin_client.get(reverse("admin:sharing_sharelink_change", args=[active.pk]))
    assert detail.status_code == 200
    assert active.seed not in detail.content.decode()
    assert revoked.state == ShareLink.State.REVOKED


def test_bulk_revoke_goes_through_the_service(admin_client, alice, drive, visitor):
    links = [services.share_create(owner=alice, node=drive["report"]) for _ in range(3)]
    response = admin_client.post(
        LINKS,
        {"action": "revoke", ACTION_CHECKBOX_NAME: [link.pk for link, _ in links[:2]], "index": 0},
        follow=True,
    )
    assert "Revoked 2 links." in [str(m) for m in response.context["messages"]]
    states = [ShareLink.objects.get(pk=link.pk).state for link, _ in links]
    assert states == ["revoked", "revoked", "active"]
    assert visitor.get(f"/s/{links[0][1]}/").status_code == 410
    assert visitor.get(f"/s/{links[2][1]}/").status_code == 200


def test_the_access_log_and_the_policy_pages(admin_client, alice, drive, visitor):
    _, token = services.share_create(owner=alice, node=drive["report"], label="logged")
    visitor.get(f"/s/{token}/")
    page = admin_client.get(ACCESSES).content.decode()
    assert "Opened the link" in page and "127.0.0.1" in page
    policy_url = reverse("admin:sharing_sharingpolicy_change", args=[SharingPolicy.current().pk])
    form = admin_client.get(policy_url)
    assert form.status_code == 200
    changed = admin_client.post(
        policy_url,
        {
            "default_expiry_days": 100,
            "max_expiry_days": 30,
            "ip_retention_days": 7,
            "password_attempts": 5,
            "password_pause_minutes": 15,
        },
    )
    assert changed.status_code == 200
    assert "cannot be later than the maximum" in changed.content.decode()
    admin_client.post(
        policy_url,
        {
            "default_expiry_days": 14,
            "max_expiry_days": 30,
            "require_password": "on",
            "ip_retention_days": 2,
            "password_attempts": 5,
            "password_pause_minutes": 15,
        },
    )
    policy = SharingPolicy.current()
    assert (policy.default_expiry_days, policy.require_password) == (14, True)


def test_forget_share_addresses_command(alice, drive, visitor):
    _, token = services.share_create(owner=alice, node=drive["report"])
    visitor.get(f"/s/{token}/")
    visitor.get(f"/s/{token}/download/")
    ShareAccess.objects.filter(action="visit").update(at=timezone.now() - timedelta(days=30))
    out = StringIO()
    call_command("forget_share_addresses", "--dry-run", stdout=out)
    assert "Would erase 1 address older than 7 days" in out.getvalue()
    assert ShareAccess.objects.filter(ip_address__isnull=False).count() == 2
    call_command("forget_share_addresses", stdout=out)
    assert "Erased 1 address older than" in out.getvalue()
    assert list(
        ShareAccess.objects.filter(ip_address__isnull=False).values_list("action", flat=True)
    ) == ["download"]
