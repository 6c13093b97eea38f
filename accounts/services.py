"""Writes to accounts: creating users, their e-mail address, issuing and revoking API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
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
    now = timezone.now()
    found = _active_token(ApiToken.hash_key(raw), stale_before=now - LAST_USED_RESOLUTION)
    if found is None:
        return None
    token, stale = found
    if stale:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _active_token(key_hash: str, *, stale_before: datetime) -> tuple[ApiToken, bool] | None:
    """The unrevoked token whose hash is ``key_hash``, its user loaded, and whether its
    ``last_used_at`` is older than ``stale_before`` (or unset); None when there is none.

    One plain statement because it runs on every request with a token (API and WebDAV):
    the ORM spent ~0.4 ms building the join, four times what the database takes to answer
    it. The user comes with every field (converted as the ORM would); of the token only
    the id is read, the other fields load if asked for."""
    tokens = connection.ops.quote_name(ApiToken._meta.db_table)
    users = connection.ops.quote_name(User._meta.db_table)
    last_used = ApiToken._meta.get_field("last_used_at").get_db_prep_value(stale_before, connection)
    query = (
        f"SELECT u.*, t.id AS token_id, "  # noqa: S608 - table names only, no user text
        "(t.last_used_at IS NULL OR t.last_used_at < %s) AS token_stale "
        f"FROM {users} u JOIN {tokens} t ON t.user_id = u.id "
        "WHERE t.key_hash = %s AND t.revoked_at IS NULL"
    )
    user = next(iter(User.objects.raw(query, [last_used, key_hash])), None)
    if user is None:
        return None
    columns = cast(Any, user)  # token_id, token_stale: the query's own columns
    token = ApiToken.from_db(connection.alias, ["id", "user_id"], [columns.token_id, user.pk])
    token.user = user
    return token, bool(columns.token_stale)
