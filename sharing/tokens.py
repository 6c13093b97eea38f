"""Share-link tokens: 256 bits, derived from a stored seed with the server's secret key.

``token = base64url(HMAC-SHA256(SECRET_KEY, seed))`` where ``seed`` is 32 random bytes. The
database keeps the seed and ``sha256(token)``; neither gives the token without the key, yet
the owner's page can derive the link again whenever they want to copy it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.utils.crypto import salted_hmac

_SALT = "fileflow.sharing.token"
TOKEN_LENGTH = 43  # base64url of 32 bytes, unpadded


def new_seed() -> str:
    return secrets.token_hex(32)


def token_for(seed: str) -> str:
    digest = salted_hmac(_SALT, seed, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


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
