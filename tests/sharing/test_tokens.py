"""A link's token: 256 random bits, never stored, unusable from a copy of the database."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from sharing import services, tokens
from sharing.models import ShareLink

pytestmark = pytest.mark.django_db


def test_a_token_carries_256_bits_and_each_link_gets_its_own(drive, share):
    made = [share(drive["report"])[1] for _ in range(20)]
    raw = [url.split("/")[2] for url in made]
    assert len(set(raw)) == 20
    for token in raw:
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
        assert len(base64.urlsafe_b64decode(token + "=")) == 32  # 256 bits
    seeds = list(ShareLink.objects.values_list("seed", flat=True))
    assert len(set(seeds)) == 20
    assert all(len(bytes.fromhex(seed)) == 32 for seed in seeds)


def test_the_database_row_cannot_be_turned_into_a_working_link(drive, share, visitor, settings):
    link, url = share(drive["report"])
    token = url.split("/")[2]
    assert visitor.get(url).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM sharing_sharelink WHERE id = %s", [link.pk])
        row = [str(value) for value in cursor.fetchone()]
    assert not any(token in value for value in row), "the raw token is stored"
    # Everything the row holds, tried as a token, opens nothing.
    for value in row:
        for candidate in {
            value,
            value[:43],
            base64.urlsafe_b64encode(value.encode()).decode()[:43],
        }:
            assert visitor.get(f"/s/{candidate}/").status_code == 404

    # Without the server's secret key the seed does not give the token.
    settings.SECRET_KEY = "an attacker's guess at the key, long enough to look real"
    assert tokens.token_for(link.seed) != token


def test_the_owner_can_get_the_same_link_again(drive, share):
    link, url = share(drive["report"])
    assert f"/s/{services.share_token(ShareLink.objects.get(pk=link.pk))}/" == url


@pytest.mark.parametrize(
    "token",
    ["short", "x" * 43, "A" * 42 + "!", "../" * 14 + "a", "%2e%2e%2f" * 5],
)
def test_malformed_or_unknown_tokens_are_a_plain_404(drive, share, visitor, token: Any):
    share(drive["report"])
    response = visitor.get(f"/s/{token}/")
    assert response.status_code == 404
    assert b"report.txt" not in response.content


OLD_KEY = "the key links were made with, long enough to look real 0123456789"
NEW_KEY = "the key that replaced it, also long enough to look real 9876543210"


def _api_url(alice, link) -> str | None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(alice)
    return client.get(f"/api/v1/shares/{link.pk}/").json()["url"]


def test_a_rotated_key_kept_as_a_fallback_keeps_links_working_at_the_same_address(
    drive, share, visitor, settings, alice
):
    settings.SECRET_KEY = OLD_KEY
    link, url = share(drive["report"])
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert visitor.get(url).status_code == 200
    # "Copy link" gives the address that works: the one visitors already hold.
    assert f"/s/{services.share_token(link)}/" == url
    assert _api_url(alice, link) == f"http://testserver{url}"
    # A link made now uses the new key, and works too.
    _, fresh = share(drive["report"])
    assert Client().get(fresh).status_code == 200
    assert tokens.token_for(ShareLink.objects.latest("pk").seed, key=NEW_KEY) in fresh


def test_dropping_the_old_key_switches_its_links_off(drive, share, visitor, settings, alice):
    settings.SECRET_KEY = OLD_KEY
    link, url = share(drive["report"])
    settings.SECRET_KEY = NEW_KEY
    settings.SECRET_KEY_FALLBACKS = []
    assert visitor.get(url).status_code == 404
    # The address the new key would derive opens nothing either, and the owner is not
    # handed a link that does not work.
    derived = tokens.token_for(link.seed)
    assert Client().get(f"/s/{derived}/").status_code == 404
    assert services.share_token(link) is None
    assert _api_url(alice, link) is None
    # Putting the old key back as a fallback brings the link back.
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert Client().get(url).status_code == 200


def test_a_token_is_checked_against_its_key_not_only_its_hash(drive, share, settings):
    """The look-up is by the token's hash; a link whose key is gone must not open just
    because the hash of the old token is still stored."""
    settings.SECRET_KEY = OLD_KEY
    _, url = share(drive["report"])
    assert ShareLink.objects.filter(token_hash=tokens.token_hash(url.split("/")[2])).exists()
    settings.SECRET_KEY = NEW_KEY
    assert Client().get(url).status_code == 404
