"""Share links: a file or a folder reachable by anyone holding a secret URL.

The raw token is never stored. A link keeps a random ``seed``; the token is an HMAC of that
seed keyed by the server's secret key (:func:`sharing.tokens.token_for`), so the owner can be
shown the link again at any time, while a copy of the database alone cannot produce it.
Look-ups go through ``token_hash`` (SHA-256 of the token), which is all a request needs.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from files.models import Node


class ShareLinkQuerySet(models.QuerySet["ShareLink"]):
    def visible_to(self, user: User | AnonymousUser) -> ShareLinkQuerySet:
        """Every owner-side read starts here: only the caller's own links."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(created_by=user)

    def usable(self, now: datetime | None = None) -> ShareLinkQuerySet:
        """Links that still open: not revoked, not expired, not used up."""
        return self.in_state(ShareLink.State.ACTIVE, now)

    def in_state(self, state: str, now: datetime | None = None) -> ShareLinkQuerySet:
        """Links in one of :class:`ShareLink.State` (the admin's and the API's filter)."""
        if state not in ShareLink.State.values:
            return self.none()
        return self.filter(_state_condition(state, now or timezone.now()))

    def state_counts(self, now: datetime | None = None) -> dict[str, int]:
        """How many links are in each state, in one query (the “Shared by me” tabs)."""
        now = now or timezone.now()
        return self.aggregate(
            **{
                state: Count("pk", filter=_state_condition(state, now))
                for state in ShareLink.State.values
            }
        )


def _state_condition(state: str, now: datetime) -> Q:
    """The condition for one state; the states do not overlap (see ``ShareLink.state_at``)."""
    live = Q(revoked_at__isnull=True)
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    used_up = Q(max_access_count__isnull=False, access_count__gte=F("max_access_count"))
    if state == ShareLink.State.REVOKED:
        return ~live
    if state == ShareLink.State.EXPIRED:
        return live & ~unexpired
    if state == ShareLink.State.USED_UP:
        return live & unexpired & used_up
    return live & unexpired & ~used_up


class ShareLink(models.Model):
    class Permission(models.TextChoices):
        VIEW = "view", "View only"
        DOWNLOAD = "download", "View and download"
        UPLOAD = "upload", "Upload only (drop folder)"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"
        USED_UP = "used_up", "Used up"

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="share_links")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    label = models.CharField(max_length=100, blank=True)
    permission = models.CharField(
        max_length=16, choices=Permission.choices, default=Permission.DOWNLOAD
    )
    # 32 random bytes (hex); the token is HMAC(secret key, seed). Never shown.
    seed = models.CharField(max_length=64, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    password = models.CharField(max_length=255, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    max_access_count = models.PositiveIntegerField(null=True, blank=True)
    access_count = models.PositiveIntegerField(default=0)
    last_accessed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="sharing_link_owner")]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_access_count__isnull=True) | Q(max_access_count__gte=1),
                name="sharing_link_limit_gte_1",
            ),
        ]

    def __str__(self) -> str:
        return self.label or f"Link to {self.node.name or 'home'}"

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def state_at(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return self.State.EXPIRED
        if self.max_access_count is not None and self.access_count >= self.max_access_count:
            return self.State.USED_UP
        return self.State.ACTIVE

    @property
    def state(self) -> str:
        return self.state_at()

    def get_state_display(self) -> str:
        return str(self.State(self.state).label)


class ShareAccess(models.Model):
    """One line of a link's access log. The raw address is cleared after the operator's
    retention period (``SharingPolicy.ip_retention_days``); ``client_key`` (an HMAC of the
    address) stays, so password throttling works without keeping addresses."""

    class Action(models.TextChoices):
        VISIT = "visit", "Opened the link"
        PREVIEW = "preview", "Previewed a file"
        DOWNLOAD = "download", "Downloaded a file"
        ZIP = "zip", "Downloaded a ZIP"
        UPLOAD = "upload", "Uploaded a file"
        PASSWORD_FAILED = "password_failed", "Wrong password"
        REFUSED = "refused", "Refused (expired, revoked or used up)"

    link = models.ForeignKey(ShareLink, on_delete=models.CASCADE, related_name="accesses")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20, choices=Action.choices)
    # What was reached (a name, not a path: kept even if the file is later deleted).
    node = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    item_name = models.CharField(max_length=255, blank=True)
    counted = models.BooleanField(default=False)
    uploader_name = models.CharField(max_length=100, blank=True)
    client = models.CharField(max_length=100, blank=True)
    client_key = models.CharField(max_length=64, blank=True, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "share accesses"
        indexes = [
            models.Index(fields=["link", "-at"], name="sharing_access_link"),
            models.Index(
                fields=["at"], name="sharing_access_ip", condition=Q(ip_address__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"


class SharingPolicy(models.Model):
    """The operator's rules for new links (one row, edited in the admin)."""

    default_expiry_days = models.PositiveIntegerField(
        default=7, help_text="Links expire after this many days unless their owner picks a date."
    )
    max_expiry_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        default=90,
        help_text="The latest expiry an owner may choose, in days from now (empty: no limit).",
    )
    allow_never_expire = models.BooleanField(
        default=False, help_text="Let owners make links that never expire."
    )
    require_password = models.BooleanField(
        default=False, help_text="Every new link must have a password."
    )
    ip_retention_days = models.PositiveIntegerField(
        default=7,
        help_text="Visitors' IP addresses in access logs are erased after this many days "
        "(0: never stored).",
    )
    password_attempts = models.PositiveIntegerField(
        default=5, help_text="Wrong passwords allowed per link and address before a pause."
    )
    password_pause_minutes = models.PositiveIntegerField(
        default=15, help_text="How long that pause lasts."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "sharing policy"
        verbose_name_plural = "sharing policy"
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="sharing_policy_single_row"),
            models.CheckConstraint(
                condition=Q(default_expiry_days__gte=1), name="sharing_policy_default_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(password_attempts__gte=1), name="sharing_policy_attempts_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return "Sharing policy"

    def clean(self) -> None:
        if self.max_expiry_days is not None and self.default_expiry_days > self.max_expiry_days:
            raise ValidationError(
                {"default_expiry_days": "The default expiry cannot be later than the maximum."}
            )

    @classmethod
    def current(cls) -> SharingPolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy
