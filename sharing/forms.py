"""Forms of the owner's share-link pages (the no-JS way to create and change links).

They check shape only (a date, a whole number); every rule — the operator's expiry limit,
upload-only needs a folder, password and label lengths — is decided by
:mod:`sharing.services`, whose messages are attached to the field they name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone

from fileflow import formats
from sharing import services
from sharing.models import ShareLink, SharingPolicy

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def expiry_help(policy: SharingPolicy, *, new: bool = True) -> str:
    latest = services.latest_expiry(policy)
    parts = []
    if new:
        parts.append(
            f"New links expire after {policy.default_expiry_days} days unless you pick a date."
        )
    if latest is not None:
        when = formats.when(latest)
        parts.append(
            f"On this server a link can last at most {policy.max_expiry_days} days (until {when})."
        )
    return " ".join(parts)


def policy_facts(policy: SharingPolicy) -> dict[str, Any]:
    """The policy as the share dialog's script reads it."""
    return {
        "defaultDays": policy.default_expiry_days,
        "maxDays": policy.max_expiry_days,
        "allowNever": policy.allow_never_expire,
        "requirePassword": policy.require_password,
    }


def _local_minute(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime(LOCAL_MINUTE) if moment else ""


class ShareFieldsForm(forms.Form):
    """The fields a link has, for a file (no upload-only choice) or a folder."""

    permission = forms.ChoiceField(label="People with the link can", choices=[])
    expires_at = forms.DateTimeField(
        label="Expires",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE),
    )
    never_expires = forms.BooleanField(label="Never expires", required=False)
    max_access_count = forms.IntegerField(
        label="Access limit",
        required=False,
        help_text="How many visits the link allows. Leave empty for no limit.",
        widget=forms.NumberInput(attrs={"min": "1", "inputmode": "numeric"}),
    )
    password = forms.CharField(
        label="Password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    label = forms.CharField(
        label="Label",
        required=False,
        help_text="Only you see it, e.g. “for the accountant”.",
        widget=forms.TextInput(attrs={"maxlength": "100", "autocomplete": "off"}),
    )

    def __init__(self, *args: Any, is_folder: bool, policy: SharingPolicy, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.policy = policy
        choices = [
            (value, label)
            for value, label in ShareLink.Permission.choices
            if is_folder or value != ShareLink.Permission.UPLOAD
        ]
        permission = self.fields["permission"]
        assert isinstance(permission, forms.ChoiceField)
        permission.choices = choices
        expires = self.fields["expires_at"]
        expires.help_text = expiry_help(policy)
        latest = services.latest_expiry(policy)
        expires.widget.attrs["min"] = _local_minute(timezone.now())
        if latest is not None:
            expires.widget.attrs["max"] = _local_minute(latest)
        if not policy.allow_never_expire:
            del self.fields["never_expires"]
        if policy.require_password:
            self.fields["password"].help_text = "This server requires a password on every link."
        else:
            self.fields[
                "password"
            ].help_text = "Optional. Visitors must type it before they see anything."

    def never(self) -> bool:
        return bool(self.cleaned_data.get("never_expires"))


class ShareCreateForm(ShareFieldsForm):
    """A new link for one item (the item page's “Share…” without JavaScript)."""

    node = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, is_folder: bool, policy: SharingPolicy, **kwargs: Any):
        kwargs.setdefault(
            "initial",
            {
                "permission": ShareLink.Permission.DOWNLOAD,
                "expires_at": timezone.localtime(services.default_expiry(policy)).replace(
                    second=0, microsecond=0
                ),
            },
        )
        super().__init__(*args, is_folder=is_folder, policy=policy, **kwargs)
        self.order_fields(["node"])

    def expiry(self) -> datetime | services.Default | None:
        if self.never():
            return None
        value: datetime | None = self.cleaned_data.get("expires_at")
        return value if value is not None else services.DEFAULT


class ShareEditForm(ShareFieldsForm):
    """Change a link: fields left as they were are not sent to the service again."""

    remove_password = forms.BooleanField(label="Remove the password", required=False)

    def __init__(self, *args: Any, link: ShareLink, policy: SharingPolicy, **kwargs: Any) -> None:
        self.link = link
        kwargs.setdefault(
            "initial",
            {
                "permission": link.permission,
                "expires_at": timezone.localtime(link.expires_at).replace(second=0, microsecond=0)
                if link.expires_at
                else None,
                "never_expires": link.expires_at is None,
                "max_access_count": link.max_access_count,
                "label": link.label,
            },
        )
        super().__init__(*args, is_folder=link.node.is_folder, policy=policy, **kwargs)
        self.fields["expires_at"].help_text = expiry_help(policy, new=False) or (
            "Pick a later date to keep the link working longer."
        )
        password = self.fields["password"]
        password.label = "New password" if link.has_password else "Password"
        password.help_text = (
            "Leave empty to keep the current password."
            if link.has_password
            else "Optional. Visitors must type it before they see anything."
        )
        if not link.has_password:
            del self.fields["remove_password"]
        self.order_fields(
            ["permission", "expires_at", "never_expires", "max_access_count", "password"]
        )

    def expiry(self) -> datetime | services.Default | None:
        """Only a changed expiry is checked again: an expired link can get a new label
        without first being given a new date."""
        if self.never():
            return None if self.link.expires_at is not None else services.DEFAULT
        value: datetime | None = self.cleaned_data.get("expires_at")
        if value is None:
            return services.DEFAULT
        old = self.link.expires_at
        if old is not None and _local_minute(old) == _local_minute(value):
            return services.DEFAULT
        return value

    def new_password(self) -> str | services.Default | None:
        if self.cleaned_data.get("remove_password"):
            return None
        value: str = self.cleaned_data.get("password") or ""
        return value if value else services.DEFAULT


class StateFilterForm(forms.Form):
    """The “Shared by me” query string: ``?state=&node=&page=``."""

    state = forms.ChoiceField(choices=[("", "All"), *ShareLink.State.choices], required=False)
    node = forms.IntegerField(required=False, min_value=1)
    page = forms.IntegerField(required=False, min_value=1)
