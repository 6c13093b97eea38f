import pytest

pytestmark = pytest.mark.django_db


def test_me_returns_name_quota_and_usage(alice_api, alice):
    alice.quota_bytes = 1000
    alice.used_bytes = 250
    alice.save(update_fields=["quota_bytes", "used_bytes"])
    body = alice_api.get("/api/v1/me/").json()
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["quota_bytes"] == 1000
    assert body["used_bytes"] == 250
    assert body["free_bytes"] == 750


def test_me_with_unlimited_quota(alice_api, alice):
    alice.quota_bytes = None
    alice.save()
    body = alice_api.get("/api/v1/me/").json()
    assert body["quota_bytes"] is None
    assert body["free_bytes"] is None


def test_me_is_read_only(alice_api):
    assert alice_api.put("/api/v1/me/", {"used_bytes": 0}, format="json").status_code == 405


def test_account_page_shows_usage_against_quota(client, alice):
    alice.quota_bytes = 10 * 1024**3
    alice.used_bytes = 1024**3
    alice.save(update_fields=["quota_bytes", "used_bytes"])
    client.force_login(alice)
    page = client.get("/account/").content.decode()
    assert "1.0\xa0GB of 10.0\xa0GB used (10 %)" in page


def test_saving_a_stale_user_never_overwrites_usage(alice):
    from django.contrib.auth import get_user_model
    from django.db.models import F

    stale = get_user_model().objects.get(pk=alice.pk)
    get_user_model().objects.filter(pk=alice.pk).update(used_bytes=F("used_bytes") + 500)
    stale.set_password("another passphrase 77")
    stale.quota_bytes = 10_000
    stale.save()
    alice.refresh_from_db()
    assert alice.used_bytes == 500
    assert alice.quota_bytes == 10_000
    assert alice.check_password("another passphrase 77")
