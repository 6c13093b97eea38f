"""Creating and changing links: the owner's choices within the operator's policy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.utils import timezone

from files import services as file_services
from sharing import services
from sharing.errors import InvalidShare, ShareNotFound
from sharing.models import ShareLink, SharingPolicy

pytestmark = pytest.mark.django_db


def policy(**values) -> SharingPolicy:
    current = SharingPolicy.current()
    for name, value in values.items():
        setattr(current, name, value)
    current.save()
    return current


def test_a_new_link_expires_after_the_policy_default(alice, drive):
    policy(default_expiry_days=3)
    link, _ = services.share_create(owner=alice, node=drive["report"])
    expected = timezone.now() + timedelta(days=3)
    assert abs((link.expires_at - expected).total_seconds()) < 5
    assert link.permission == ShareLink.Permission.DOWNLOAD
    assert link.state == ShareLink.State.ACTIVE


def test_expiry_beyond_the_maximum_or_in_the_past_is_refused(alice, drive):
    policy(max_expiry_days=30)
    with pytest.raises(InvalidShare, match="at most 30 days") as too_late:
        services.share_create(
            owner=alice, node=drive["report"], expires_at=timezone.now() + timedelta(days=31)
        )
    assert too_late.value.field == "expires_at"
    with pytest.raises(InvalidShare, match="in the future"):
        services.share_create(
            owner=alice, node=drive["report"], expires_at=timezone.now() - timedelta(minutes=1)
        )
    ok, _ = services.share_create(
        owner=alice, node=drive["report"], expires_at=timezone.now() + timedelta(days=29)
    )
    assert ok.pk
    assert ShareLink.objects.count() == 1


def test_never_expiring_links_only_when_the_operator_allows_them(alice, drive):
    with pytest.raises(InvalidShare, match="must expire"):
        services.share_create(owner=alice, node=drive["report"], expires_at=None)
    policy(allow_never_expire=True)
    link, _ = services.share_create(owner=alice, node=drive["report"], expires_at=None)
    assert link.expires_at is None


def test_passwords_are_hashed_and_can_be_required(alice, drive):
    link, _ = services.share_create(owner=alice, node=drive["report"], password="s3cret pass")
    assert "s3cret" not in link.password
    assert check_password("s3cret pass", link.password)
    policy(require_password=True)
    with pytest.raises(InvalidShare, match="requires a password"):
        services.share_create(owner=alice, node=drive["report"])
    with pytest.raises(InvalidShare, match="requires a password"):
        services.share_update(link=link, password=None)
    with pytest.raises(InvalidShare, match="only spaces"):
        services.share_create(owner=alice, node=drive["report"], password="   ")


@pytest.mark.parametrize(
    ("node_key", "options", "message"),
    [
        ("report", {"permission": "upload"}, "Only a folder"),
        ("home", {}, "“Your files” cannot be shared"),
        ("report", {"permission": "edit"}, "permission must be one of"),
        ("report", {"max_access_count": 0}, "at least 1"),
        ("report", {"label": "x" * 101}, "at most 100"),
    ],
)
def test_bad_choices_are_refused_with_the_reason(alice, drive, node_key, options, message):
    with pytest.raises(InvalidShare, match=message):
        services.share_create(owner=alice, node=drive[node_key], **options)
    assert not ShareLink.objects.exists()


def test_trashed_items_and_other_peoples_items_cannot_be_shared(alice, mallory, drive):
    file_services.node_trash(node=drive["notes"])
    with pytest.raises(InvalidShare, match="in the trash"):
        services.share_create(owner=alice, node=drive["notes"])
    with pytest.raises(ShareNotFound):
        services.share_create(owner=mallory, node=drive["report"])


def test_update_changes_only_what_is_given(alice, drive):
    link, _ = services.share_create(
        owner=alice, node=drive["shared"], max_access_count=5, password="pw", label="For Bob"
    )
    expires = link.expires_at
    link = services.share_update(link=link, max_access_count=None, label="For Carol")
    assert link.max_access_count is None
    assert link.label == "For Carol"
    assert link.expires_at == expires
    assert link.has_password
    link = services.share_update(link=link, password=None, permission="upload")
    assert not link.has_password
    assert link.permission == ShareLink.Permission.UPLOAD


def test_revoking_is_final_and_idempotent(alice, drive):
    link, _ = services.share_create(owner=alice, node=drive["report"])
    first = services.share_revoke(link=link).revoked_at
    assert services.share_revoke(link=link).revoked_at == first
    assert link.state == ShareLink.State.REVOKED
    with pytest.raises(InvalidShare, match="revoked"):
        services.share_update(link=link, label="again")


def test_states_match_the_queryset_filters(alice, drive):
    now = timezone.now()
    active, _ = services.share_create(owner=alice, node=drive["report"])
    used, _ = services.share_create(owner=alice, node=drive["report"], max_access_count=1)
    assert services.share_count_access(link=used)
    assert not services.share_count_access(link=used)
    revoked = services.share_revoke(
        link=services.share_create(owner=alice, node=drive["report"])[0]
    )
    expired, _ = services.share_create(owner=alice, node=drive["report"])
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    expected = {
        ShareLink.State.ACTIVE: active,
        ShareLink.State.USED_UP: used,
        ShareLink.State.REVOKED: revoked,
        ShareLink.State.EXPIRED: expired,
    }
    for state, link in expected.items():
        assert list(ShareLink.objects.in_state(state)) == [link]
        assert ShareLink.objects.get(pk=link.pk).state == state
    assert ShareLink.objects.state_counts() == dict.fromkeys(ShareLink.State.values, 1)
    assert list(ShareLink.objects.usable()) == [active]
