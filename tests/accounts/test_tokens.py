import pytest
from django.urls import reverse

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(api, raw):
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return api


def test_create_use_and_revoke_a_token_through_the_api(alice_api, api, alice):
    created = alice_api.post("/api/v1/tokens/", {"name": "backup script"}, format="json")
    assert created.status_code == 201
    raw = created.json()["token"]
    assert raw.startswith("ffp_") and len(raw) >= 40

    # Never stored in clear: only its SHA-256 and a short hint are in the database.
    token = ApiToken.objects.get(pk=created.json()["id"])
    assert raw not in {token.key_hash, token.key_hint, token.name}
    assert token.key_hash == ApiToken.hash_key(raw)
    assert token.last_used_at is None

    me = bearer(api, raw).get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    token.refresh_from_db()
    assert token.last_used_at is not None

    listed = alice_api.get("/api/v1/tokens/").json()
    assert [t["name"] for t in listed] == ["backup script"]
    assert "token" not in listed[0]

    assert alice_api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 204
    refused = bearer(api, raw).get("/api/v1/me/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Invalid or revoked token."
    assert refused["WWW-Authenticate"].startswith("Bearer")
    assert alice_api.get("/api/v1/tokens/").json() == []


@pytest.mark.parametrize(
    "header",
    ["Bearer ffp_not-a-real-token", "Bearer", "Bearer a b", "bearer ffp_x"],
)
def test_wrong_or_malformed_token_answers_401(api, alice, header):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_no_credentials_answers_401(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401


def test_token_of_disabled_account_answers_401(alice_api, api, alice):
    raw = alice_api.post("/api/v1/tokens/", {"name": "x"}, format="json").json()["token"]
    alice.is_active = False
    alice.save()
    assert bearer(api, raw).get("/api/v1/me/").status_code == 401


def test_token_name_is_required(alice_api):
    response = alice_api.post("/api/v1/tokens/", {"name": ""}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()
    response = alice_api.post("/api/v1/tokens/", {"name": "   "}, format="json")
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0


def test_another_users_token_is_404(alice_api, mallory):
    from accounts.services import token_create

    token, _ = token_create(user=mallory, name="mallory-token")
    assert alice_api.get(f"/api/v1/tokens/{token.pk}/").status_code == 404
    assert alice_api.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_on_the_account_page(client, alice, api):
    client.force_login(alice)
    response = client.post(reverse("accounts:token-create"), {"name": "laptop sync"})
    assert response.status_code == 201
    raw = response.context["new_token"]
    assert raw in response.content.decode()
    assert bearer(api, raw).get("/api/v1/me/").status_code == 200

    # Shown once: the page never shows it again.
    page = client.get(reverse("accounts:account")).content.decode()
    assert raw not in page
    assert "laptop sync" in page

    token = ApiToken.objects.get(name="laptop sync")
    response = client.post(reverse("accounts:token-revoke", args=[token.pk]))
    assert response.status_code == 302
    assert bearer(api, raw).get("/api/v1/me/").status_code == 401


def test_account_page_rejects_empty_token_name(client, alice):
    client.force_login(alice)
    response = client.post(reverse("accounts:token-create"), {"name": ""})
    assert response.status_code == 400
    assert "This field is required" in response.content.decode()
    assert ApiToken.objects.count() == 0


def test_cannot_revoke_another_users_token_from_the_page(client, alice, mallory):
    from accounts.services import token_create

    token, _ = token_create(user=mallory, name="m")
    client.force_login(alice)
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def basic(api, username, password):
    import base64

    pair = base64.b64encode(f"{username}:{password}".encode()).decode()
    api.credentials(HTTP_AUTHORIZATION=f"Basic {pair}")
    return api


def test_a_first_token_with_user_name_and_password(api, alice, password):
    created = basic(api, "alice", password).post("/api/v1/tokens/", {"name": "nas"}, format="json")
    assert created.status_code == 201, created.content
    raw = created.json()["token"]
    me = bearer(api, raw).get("/api/v1/me/")
    assert me.status_code == 200 and me.json()["username"] == "alice"


def test_a_wrong_password_for_a_first_token_is_a_401(api, alice):
    refused = basic(api, "alice", "not the password").post(
        "/api/v1/tokens/", {"name": "nas"}, format="json"
    )
    assert refused.status_code == 401
    assert not ApiToken.objects.filter(user=alice).exists()


def test_user_name_and_password_work_only_for_tokens(api, alice, password):
    refused = basic(api, "alice", password).get("/api/v1/me/")
    assert refused.status_code == 401
    detail = refused.json()["detail"]
    # Says how to get going instead of "credentials were not provided".
    assert "Bearer" in detail and "/api/v1/tokens/" in detail and "curl -u" in detail


def test_no_credentials_says_how_to_get_a_first_token(api):
    refused = api.get("/api/v1/nodes/")
    assert refused.status_code == 401
    assert "/api/v1/tokens/" in refused.json()["detail"]


def test_guessing_passwords_for_tokens_is_locked_out_like_the_log_in(
    api, alice, password, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        basic(api, "alice", "guess").post("/api/v1/tokens/", {"name": "x"}, format="json")
    locked = basic(api, "alice", password).post("/api/v1/tokens/", {"name": "x"}, format="json")
    # Even the right password is refused while the account is paused.
    assert locked.status_code == 401
    assert not ApiToken.objects.filter(user=alice).exists()


def test_a_token_request_authenticates_in_one_query(api, alice, django_assert_num_queries):
    from accounts.services import token_authenticate, token_create

    token, raw = token_create(user=alice, name="script")
    assert token_authenticate(raw=raw) is not None  # the first use is written
    # Then token and account come in one statement, the account's fields typed as the ORM
    # types them (SQLite hands back booleans as 0/1 and times as text).
    with django_assert_num_queries(1):
        found = token_authenticate(raw=raw)
    assert found is not None and found.pk == token.pk
    user = found.user
    assert user.pk == alice.pk and user.username == "alice"
    assert user.is_active is True and user.is_staff is False
    assert user.date_joined == alice.date_joined and user.used_bytes == alice.used_bytes
    with django_assert_num_queries(1):  # the token's other fields load when asked for
        assert found.name == "script"


def test_last_use_is_written_at_most_once_a_minute(api, alice):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.services import LAST_USED_RESOLUTION, token_create

    token, raw = token_create(user=alice, name="script")
    assert bearer(api, raw).get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    assert bearer(api, raw).get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: not written again

    earlier = timezone.now() - LAST_USED_RESOLUTION - timedelta(seconds=5)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    assert bearer(api, raw).get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at > first
