"""Writes to accounts: creating users and issuing and revoking API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, User
from fileflow.errors import DomainError

# How stale ``last_used_at`` may get before a request writes it again: one write a minute
# per token at most, not one per API call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidTokenName(DomainError):
    code = "invalid_token_name"


@transaction.atomic
def user_create(*, username: str, email: str, password: str | None, is_staff: bool = False) -> User:
    """Create an account; the quota defaults to ``FILEFLOW_DEFAULT_QUOTA``."""
    model = get_user_model()
    if is_staff:
        return model.objects.create_superuser(username=username, email=email, password=password)
    return model.objects.create_user(username=username, email=email, password=password)


@transaction.atomic
def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token. Returns the row and the raw token, which is never available again."""
    name = name.strip()
    if not name:
        raise InvalidTokenName(
            "Give the token a name, e.g. the script that will use it.", field="name"
        )
    if len(name) > 100:
        raise InvalidTokenName("A token name can be at most 100 characters.", field="name")
    raw = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        key_hash=ApiToken.hash_key(raw),
        key_hint=raw[: len(ApiToken.PREFIX) + 6],
    )
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token; it stops working at once. Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token matching ``raw`` (with its user), recording when it was used."""
    token = (
        ApiToken.objects.active()
        .select_related("user")
        .filter(key_hash=ApiToken.hash_key(raw))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
