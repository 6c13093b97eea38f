import pytest
from django.contrib.auth.hashers import make_password
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username, password, address="10.0.0.1"):
    return client.post(
        reverse("accounts:login"),
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def test_login_and_logout(client, alice):
    response = login(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert client.get(reverse("home")).status_code == 200

    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 302
    assert home["Location"].startswith(reverse("accounts:login"))


def test_logout_needs_post(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200


def test_wrong_password_says_so(client, alice):
    response = login(client, "alice", "wrong")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_bcrypt_hash_from_the_seed_is_accepted_and_upgraded(client, alice):
    alice.password = make_password(PASSWORD, hasher="bcrypt_sha256")
    alice.save()
    assert login(client, "alice", PASSWORD).status_code == 302
    alice.refresh_from_db()
    assert alice.password.startswith("argon2$")


def test_repeated_failures_lock_the_account_from_any_address(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        login(client, "alice", "wrong", address=f"10.0.0.{n + 1}")
    # Even the right password from a new address is refused while the account cools off.
    response = login(client, "alice", PASSWORD, address="10.9.9.9")
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many failed log-ins" in text
    assert "Try again in 15 minutes" in text
    assert client.get(reverse("home")).status_code == 302


def test_repeated_failures_lock_the_address_for_every_account(client, alice, mallory, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for name in ["nobody1", "nobody2", "nobody3"]:
        login(client, name, "guess", address="10.6.6.6")
    assert login(client, "mallory", PASSWORD, address="10.6.6.6").status_code == 429
    # Another address is not affected, and alice's account is not locked.
    assert login(client, "alice", PASSWORD, address="10.0.0.8").status_code == 302


def test_success_before_the_limit_resets_the_count(client, alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    login(client, "alice", "wrong")
    login(client, "alice", "wrong")
    assert login(client, "alice", PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    login(client, "alice", "wrong")
    login(client, "alice", "wrong")
    assert login(client, "alice", PASSWORD).status_code == 302
