"""Writes to accounts: creating users, their e-mail address, issuing and revoking API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
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
    email = clean_email(email)
    if is_staff:
        return model.objects.create_superuser(username=username, email=email, password=password)
    return model.objects.create_user(username=username, email=email, password=password)


class InvalidEmail(DomainError):
    code = "invalid_email"


def clean_email(email: str, *, user: User | None = None) -> str:
    """A valid e-mail address no other account uses (ignoring case), or empty."""
    email = email.strip()
    if not email:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidEmail(f"“{email[:100]}” is not an e-mail address.", field="email") from None
    others = User.objects.filter(email__iexact=email)
    if user is not None:
        others = others.exclude(pk=user.pk)
    if others.exists():
        raise InvalidEmail("Another account already uses this e-mail address.", field="email")
    return email


@transaction.atomic
def user_set_email(*, user: User, email: str) -> User:
    """Set or change (or, with "", remove) the address password resets are sent to."""
    user.email = clean_email(email, user=user)
    user.save(update_fields=["email"])
    return user


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
