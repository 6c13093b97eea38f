"""Share-link tokens: 256 bits, derived from a stored seed with the server's secret key.

``token = base64url(HMAC-SHA256(SECRET_KEY, seed))`` where ``seed`` is 32 random bytes. The
database keeps the seed and ``sha256(token)``; neither gives the token without the key, yet
the owner's page can derive the link again whenever they want to copy it.

Like Django's own tokens (password reset, sessions), a token is valid only while the key it
was derived with is ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS``: rotating the key with
the old one kept as a fallback keeps every link working (at the same address); dropping the
old key switches the links made with it off.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.utils.crypto import constant_time_compare, salted_hmac

_SALT = "fileflow.sharing.token"
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded


def new_seed() -> str:
    return secrets.token_hex(32)


def _keys() -> list[str]:
    from django.conf import settings

    return [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]


def token_for(seed: str, *, key: str | None = None) -> str:
    """The token of ``seed`` under ``key`` (default: the current ``SECRET_KEY``)."""
    digest = salted_hmac(_SALT, seed, secret=key, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def derives_from_a_key(token: str, seed: str) -> bool:
    """Was ``token`` made from ``seed`` with the current key or one of its fallbacks?"""
    return any(constant_time_compare(token, token_for(seed, key=key)) for key in _keys())


def working_token(seed: str, stored_hash: str) -> str | None:
    """The link's token as visitors hold it: derived with whichever configured key it was
    made with (current or fallback); None when that key is no longer configured."""
    for key in _keys():
        token = token_for(seed, key=key)
        if constant_time_compare(token_hash(token), stored_hash):
            return token
    return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any database look-up."""
    if len(token) != TOKEN_LENGTH:
        return False
    return all(c.isascii() and (c.isalnum() or c in "-_") for c in token)


def client_key(address: str) -> str:
    """A keyed fingerprint of a visitor's address: stable for throttling, useless without
    the secret key (an unkeyed hash of an IPv4 address is reversed by trying them all)."""
    return salted_hmac("fileflow.sharing.client", address, algorithm="sha256").hexdigest()
