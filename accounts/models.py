from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.db import models
from django.db.models.functions import Lower


def default_quota() -> int | None:
    """The quota a new account gets: ``FILEFLOW_DEFAULT_QUOTA`` (None is unlimited)."""
    return settings.FILEFLOW_DEFAULT_QUOTA


class User(AbstractUser):
    """A FileFlow account.

    ``used_bytes`` is kept exact by the file services inside the same transaction as every
    write that changes it; ``reserved_bytes`` is the space held for unfinished resumable
    uploads, kept exact by the uploads services the same way. The quota holds both;
    ``quota_bytes`` of None means no limit.
    """

    email = models.EmailField("e-mail address", blank=True)
    quota_bytes = models.BigIntegerField(
        "quota (bytes)",
        null=True,
        blank=True,
        default=default_quota,
        help_text="Storage this account may use, in bytes. Empty means unlimited.",
    )
    used_bytes = models.BigIntegerField(
        "used (bytes)",
        default=0,
        editable=False,
        help_text="Bytes stored for this account, including versions and trash.",
    )
    reserved_bytes = models.BigIntegerField(
        "reserved (bytes)",
        default=0,
        # Also in the database: a row written by code that predates the column gets 0.
        db_default=0,
        editable=False,
        help_text="Bytes held for this account's unfinished resumable uploads.",
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_unique_ci",
                violation_error_message="An account with this e-mail address already exists.",
            ),
            models.CheckConstraint(
                condition=models.Q(used_bytes__gte=0), name="accounts_user_used_bytes_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(reserved_bytes__gte=0),
                name="accounts_user_reserved_bytes_gte_0",
            ),
            models.CheckConstraint(
                condition=models.Q(quota_bytes__isnull=True) | models.Q(quota_bytes__gte=0),
                name="accounts_user_quota_bytes_gte_0",
            ),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Never write ``used_bytes`` or ``reserved_bytes`` from a possibly stale object.

        They change only through ``F()`` updates in the services' transactions; a user
        object loaded earlier (a password change, an admin edit) must not put back the
        values it read."""
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in ("used_bytes", "reserved_bytes")
            ]
        super().save(*args, **kwargs)

    @property
    def free_bytes(self) -> int | None:
        if self.quota_bytes is None:
            return None
        # Space held for unfinished resumable uploads is not free for anything else.
        return max(self.quota_bytes - self.used_bytes - self.reserved_bytes, 0)

    @property
    def usage_percent(self) -> float | None:
        if not self.quota_bytes:
            return None if self.quota_bytes is None else 100.0
        return min(100.0, 100.0 * self.used_bytes / self.quota_bytes)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def active(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)

    def visible_to(self, user: User | AnonymousUser) -> ApiTokenQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)


class ApiToken(models.Model):
    """A personal access token for scripts. Only the SHA-256 of the token is stored."""

    PREFIX = "ffp_"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the token, so a person can tell their tokens apart.
    key_hint = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.key_hint}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def hash_key(raw: str) -> str:
        # The token carries 256 random bits, so a fast hash is enough: nothing to brute-force.
        return hashlib.sha256(raw.encode()).hexdigest()
