import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db

User = get_user_model()


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "username": "bob",
        "email": "bob@example.com",
        "password1": "a long enough passphrase 42",
        "password2": "a long enough passphrase 42",
    }
    data.update(overrides)
    return data


def test_signup_creates_account_logs_in_and_hashes_with_argon2(client, settings):
    settings.FILEFLOW_DEFAULT_QUOTA = 5 * 1024**3
    response = client.post(reverse("accounts:signup"), signup_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    user = User.objects.get(username="bob")
    assert user.email == "bob@example.com"
    assert user.password.startswith("argon2$")
    assert user.quota_bytes == 5 * 1024**3
    assert user.used_bytes == 0
    home = client.get(reverse("home"))
    assert home.status_code == 200
    assert home.context["user"] == user


def test_signup_default_quota_unlimited(client, settings):
    settings.FILEFLOW_DEFAULT_QUOTA = None
    client.post(reverse("accounts:signup"), signup_data())
    assert User.objects.get(username="bob").quota_bytes is None


def test_signup_rejects_mismatched_passwords_with_a_message(client):
    response = client.post(reverse("accounts:signup"), signup_data(password2="something else 42"))
    assert response.status_code == 400
    assert "password fields didn\u2019t match" in response.content.decode()
    assert not User.objects.filter(username="bob").exists()


def test_signup_rejects_taken_email_case_insensitively(client, alice):
    response = client.post(reverse("accounts:signup"), signup_data(email="ALICE@example.com"))
    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert not User.objects.filter(username="bob").exists()


def test_signup_rejects_taken_username(client, alice):
    response = client.post(reverse("accounts:signup"), signup_data(username="alice"))
    assert response.status_code == 400
    assert User.objects.filter(username="alice").count() == 1


def test_signup_can_be_switched_off(client, settings):
    settings.FILEFLOW_SIGNUP_ENABLED = False
    page = client.get(reverse("accounts:signup"))
    assert page.status_code == 403
    assert "Sign-up is closed" in page.content.decode()
    response = client.post(reverse("accounts:signup"), signup_data())
    assert response.status_code == 403
    assert not User.objects.filter(username="bob").exists()
    assert "Sign up" not in client.get(reverse("accounts:login")).content.decode()
