"""Writes for share links: create, change, revoke, count an access, log it, take a drop.

Every rule an owner can trip (expiry within the operator's policy, upload-only needs a
folder, a password when the policy asks for one) is checked here, so the API, the web
dialog and the admin refuse the same things with the same words.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import User
from fileflow import formats
from files import access
from files import services as file_services
from files.activity import Kind, activity_record
from files.ingest import Upload
from files.models import Node
from sharing import selectors, tokens
from sharing.errors import InvalidShare, ShareNotFound, TooManyAttempts, WrongPassword
from sharing.models import ShareAccess, ShareLink, SharingPolicy
from uploads.models import TusUpload

MAX_PASSWORD_LENGTH = 128
MAX_LABEL_LENGTH = 100


class Default(enum.Enum):
    """“Not given”: use the policy's default (distinct from ``None``, which means never)."""

    token = 0


DEFAULT = Default.token


@dataclass(frozen=True)
class Visitor:
    """What the access log keeps of who made a request."""

    address: str
    client: str


# --- checks ----------------------------------------------------------------------------


def _when(moment: datetime) -> str:
    return formats.moment_stamp(moment)


def latest_expiry(policy: SharingPolicy, now: datetime | None = None) -> datetime | None:
    """The latest expiry the operator allows for a link made or changed now."""
    if policy.max_expiry_days is None:
        return None
    return (now or timezone.now()) + timedelta(days=policy.max_expiry_days)


def default_expiry(policy: SharingPolicy, now: datetime | None = None) -> datetime:
    """The expiry a new link gets when its owner picks none."""
    now = now or timezone.now()
    expires_at = now + timedelta(days=policy.default_expiry_days)
    latest = latest_expiry(policy, now)
    return min(expires_at, latest) if latest is not None else expires_at


def _check_expiry(
    expires_at: datetime | Default | None, policy: SharingPolicy, now: datetime
) -> datetime | None:
    if expires_at is DEFAULT:
        return default_expiry(policy, now)
    if expires_at is None:
        if not policy.allow_never_expire:
            limit = policy.max_expiry_days
            raise InvalidShare(
                "Links must expire on this server"
                + (f" (at most {limit} days from now)." if limit is not None else ".")
                + " Pick an expiry date.",
                field="expires_at",
            )
        return None
    if timezone.is_naive(expires_at):
        raise InvalidShare(
            "Give the expiry with a time zone, e.g. 2026-12-31T18:00:00Z.", field="expires_at"
        )
    if expires_at <= now:
        raise InvalidShare("The expiry must be in the future.", field="expires_at")
    latest = latest_expiry(policy, now)
    if latest is not None and expires_at > latest:
        raise InvalidShare(
            f"Links can last at most {policy.max_expiry_days} days on this server: pick "
            f"a date before {_when(latest)}.",
            field="expires_at",
        )
    return expires_at


def _check_limit(max_access_count: int | None) -> int | None:
    if max_access_count is None:
        return None
    if isinstance(max_access_count, bool) or not isinstance(max_access_count, int):
        raise InvalidShare("The access limit must be a whole number.", field="max_access_count")
    if max_access_count < 1:
        raise InvalidShare(
            "The access limit must be at least 1 (leave it empty for no limit).",
            field="max_access_count",
        )
    if max_access_count > 1_000_000_000:
        raise InvalidShare("The access limit is too large.", field="max_access_count")
    return max_access_count


def _check_password(password: str) -> str:
    if not password.strip():
        raise InvalidShare("A password cannot be only spaces.", field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidShare(
            f"A password can be at most {MAX_PASSWORD_LENGTH} characters.", field="password"
        )
    return make_password(password)


def _check_label(label: str) -> str:
    label = " ".join(label.split())
    if len(label) > MAX_LABEL_LENGTH:
        raise InvalidShare(f"A label can be at most {MAX_LABEL_LENGTH} characters.", field="label")
    return label


def _check_permission(permission: str, node: Node) -> str:
    if permission not in ShareLink.Permission.values:
        choices = ", ".join(ShareLink.Permission.values)
        raise InvalidShare(f"permission must be one of {choices}.", field="permission")
    if permission == ShareLink.Permission.UPLOAD and not node.is_folder:
        raise InvalidShare("Only a folder can be an upload-only drop folder.", field="permission")
    return permission


def _check_node(node: Node, owner: User, permission: str = "") -> Node:
    """The item a link is made for: the maker's own, or one shared with them with the
    re-share right (an upload link needs the editor role: it writes)."""
    granted = access.access_of(owner, node)
    if granted is None:
        raise ShareNotFound("No such file or folder.", field="node")
    if not granted.allows("reshare"):
        raise InvalidShare("You may not share this item onward; ask its owner.", field="node")
    if permission == ShareLink.Permission.UPLOAD and not granted.may_grant("editor"):
        raise InvalidShare(
            "An upload link needs the editor role on this folder.", field="permission"
        )
    if node.is_home:
        raise InvalidShare(
            "“Your files” cannot be shared as a whole; share the folders or files in it.",
            field="node",
        )
    if node.trashed_at is not None:
        raise InvalidShare(f"“{node.name}” is in the trash; restore it first.", field="node")
    return node


# --- owner side ------------------------------------------------------------------------


@transaction.atomic
def share_create(
    *,
    owner: User,
    node: Node,
    permission: str = ShareLink.Permission.DOWNLOAD,
    expires_at: datetime | Default | None = DEFAULT,
    max_access_count: int | None = None,
    password: str = "",
    label: str = "",
) -> tuple[ShareLink, str]:
    """Create a link; returns it with its token (also derivable later by its owner)."""
    policy = SharingPolicy.current()
    now = timezone.now()
    node = _check_node(node, owner, permission)
    if policy.require_password and not password:
        raise InvalidShare("This server requires a password on every link.", field="password")
    seed = tokens.new_seed()
    token = tokens.token_for(seed)
    link = ShareLink.objects.create(
        node=node,
        created_by=owner,
        label=_check_label(label),
        permission=_check_permission(permission, node),
        seed=seed,
        token_hash=tokens.token_hash(token),
        password=_check_password(password) if password else "",
        expires_at=_check_expiry(expires_at, policy, now),
        max_access_count=_check_limit(max_access_count),
    )
    activity_record(kind=Kind.LINK_CREATE, node=node, actor=owner, detail=_link_label(link))
    return link, token


def _link_label(link: ShareLink) -> str:
    return f"“{link.label}”" if link.label else f"#{link.pk}"


def share_token(link: ShareLink) -> str | None:
    """The link's token, derived again (the owner's “copy link”); None when the secret
    key it was made with is no longer configured."""
    return tokens.working_token(link.seed, link.token_hash)


@transaction.atomic
def share_update(
    *,
    link: ShareLink,
    permission: str | None = None,
    expires_at: datetime | Default | None = DEFAULT,
    max_access_count: int | Default | None = DEFAULT,
    password: str | Default | None = DEFAULT,
    label: str | None = None,
    actor: User | None = None,
) -> ShareLink:
    """Change a live link. ``DEFAULT`` leaves a field as it is; a ``None`` expiry means
    never (if allowed), a ``None`` limit means unlimited, a ``None`` password removes it."""
    link = ShareLink.objects.select_for_update().select_related("node").get(pk=link.pk)
    if link.revoked_at is not None:
        raise InvalidShare("This link was revoked; create a new one instead.")
    policy = SharingPolicy.current()
    now = timezone.now()
    if permission is not None:
        link.permission = _check_permission(permission, link.node)
    if expires_at is not DEFAULT:
        link.expires_at = _check_expiry(expires_at, policy, now)
    if max_access_count is not DEFAULT:
        link.max_access_count = _check_limit(max_access_count)
    if password is not DEFAULT:
        if password is None or password == "":
            if policy.require_password:
                raise InvalidShare(
                    "This server requires a password on every link.", field="password"
                )
            link.password = ""
        else:
            link.password = _check_password(password)
    if label is not None:
        link.label = _check_label(label)
    link.save()
    activity_record(
        kind=Kind.LINK_CHANGE,
        node=link.node,
        actor=actor or link.created_by,
        detail=_link_label(link),
    )
    return link


@transaction.atomic
def share_revoke(*, link: ShareLink, actor: User | None = None) -> ShareLink:
    """Stop a link for good (idempotent). Its access log stays."""
    revoked = ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    link.refresh_from_db(fields=["revoked_at", "updated_at"])
    if revoked:
        activity_record(
            kind=Kind.LINK_REVOKE,
            node=link.node,
            actor=actor or link.created_by,
            detail=_link_label(link),
        )
    return link


def shares_revoke(*, links: list[ShareLink]) -> int:
    """Revoke many (the admin's bulk action); returns how many were still live."""
    count = 0
    for link in links:
        was_live = link.revoked_at is None
        share_revoke(link=link)
        count += int(was_live)
    return count


# --- visitor side ----------------------------------------------------------------------


def share_count_access(*, link: ShareLink) -> bool:
    """Count one access, only if the link is still usable at this moment.

    One conditional ``UPDATE``: the database decides, so with a limit of 10 and 50
    simultaneous requests exactly 10 are counted (and served), whatever the isolation
    level or database."""
    now = timezone.now()
    counted = (
        ShareLink.objects.filter(pk=link.pk)
        .usable(now)
        .update(access_count=F("access_count") + 1, last_accessed_at=now)
    )
    if counted:
        link.access_count += 1
        link.last_accessed_at = now
        # One entry per visit (a visit is counted once; its later requests are not).
        with transaction.atomic():
            activity_record(kind=Kind.LINK_VISIT, node=link.node, link_label=_link_label(link))
    return bool(counted)


# A visit's later requests (folder pages, video ranges) move "last access" at most this
# often: one write per minute, not one per request.
LAST_ACCESS_RESOLUTION = timedelta(minutes=1)


def share_touch(*, link: ShareLink) -> None:
    """Record the time of an access that is not counted again (same visit)."""
    now = timezone.now()
    if link.last_accessed_at is not None and now - link.last_accessed_at < LAST_ACCESS_RESOLUTION:
        return
    ShareLink.objects.filter(pk=link.pk).update(last_accessed_at=now)
    link.last_accessed_at = now


def access_log(
    *,
    link: ShareLink,
    action: str,
    visitor: Visitor,
    node: Node | None = None,
    counted: bool = False,
    uploader_name: str = "",
) -> ShareAccess:
    policy = SharingPolicy.current()
    # Retention is enforced as the log grows (an indexed UPDATE that usually touches no
    # row), so a server without the nightly cron job keeps no address too long either.
    addresses_forget(policy=policy)
    visitor = visitor_kept(visitor, policy=policy)
    return ShareAccess.objects.create(
        link=link,
        action=action,
        node=node,
        item_name=(node.name if node is not None else "")[:255],
        counted=counted,
        uploader_name=uploader_name[:100],
        client=visitor.client[:100],
        client_key=tokens.client_key(visitor.address) if visitor.address else "",
        ip_address=visitor.address or None,
    )


def visitor_kept(visitor: Visitor, *, policy: SharingPolicy | None = None) -> Visitor:
    """What the log may keep of a visitor: no address when the policy keeps none."""
    if (policy or SharingPolicy.current()).ip_retention_days > 0:
        return visitor
    return Visitor(address="", client=visitor.client)


def share_check_password(*, link: ShareLink, password: str, visitor: Visitor) -> None:
    """Accept the link's password or refuse it; wrong guesses are paused per link and
    address after the policy's number of attempts."""
    policy = SharingPolicy.current()
    key = tokens.client_key(visitor.address)
    window_start = timezone.now() - timedelta(minutes=policy.password_pause_minutes)
    failures = list(
        ShareAccess.objects.filter(
            link=link,
            client_key=key,
            action=ShareAccess.Action.PASSWORD_FAILED,
            at__gt=window_start,
        )
        .order_by("-at")
        .values_list("at", flat=True)[: policy.password_attempts]
    )
    if len(failures) >= policy.password_attempts:
        retry_at = failures[-1] + timedelta(minutes=policy.password_pause_minutes)
        raise TooManyAttempts("Too many wrong passwords. " + _pause(retry_at), field="password")
    if not password or not link.password or not check_password(password, link.password):
        access_log(link=link, action=ShareAccess.Action.PASSWORD_FAILED, visitor=visitor)
        left = policy.password_attempts - len(failures) - 1
        if left == 0:
            # This guess starts the pause: say so now, not at the next try.
            retry_at = timezone.now() + timedelta(minutes=policy.password_pause_minutes)
            hint = "That was the last try for now. " + _pause(retry_at)
        else:
            hint = ngettext(
                "%(left)d more try before a pause.", "%(left)d more tries before a pause.", left
            ) % {"left": left}
        raise WrongPassword("That password is not right. " + hint, field="password")


def _pause(retry_at: datetime) -> str:
    minutes = max(1, round((retry_at - timezone.now()).total_seconds() / 60))
    return ngettext(
        "Try again in %(minutes)d minute (after %(when)s).",
        "Try again in %(minutes)d minutes (after %(when)s).",
        minutes,
    ) % {"minutes": minutes, "when": _when(retry_at)}


def share_receive_uploads(
    *,
    link: ShareLink,
    uploads: list[Upload],
    uploader_name: str,
    visitor: Visitor,
    counted: bool,
) -> list[Node]:
    """Store files dropped through an upload-only link: in the shared folder, owned and
    paid for (quota) by the link's owner, all of them or none, never replacing anything (a
    taken name gets a new one). ``counted``: this request is the visit the link counts, so
    the first file's log line carries the count."""
    folder = link.node
    nodes = file_services.file_upload_batch(
        owner=folder.owner,
        parent=folder,
        files=uploads,
        on_conflict="rename",
        actor=None,
        via_link=_link_label(link),
    ).nodes
    for index, node in enumerate(nodes):
        access_log(
            link=link,
            action=ShareAccess.Action.UPLOAD,
            visitor=visitor,
            node=node,
            counted=counted and index == 0,
            uploader_name=" ".join(uploader_name.split()),
        )
    return nodes


def drop_scope(link: ShareLink) -> str:
    """The scope of the resumable uploads made through ``link`` (``TusUpload.scope``)."""
    return f"share:{link.pk}"


def share_store_resumable(*, upload: TusUpload, item: Upload) -> list[Node]:
    """Store a finished resumable upload made through a drop folder's link, whoever
    finishes it: the visitor's request that brought the last byte (or their next one), or
    ``gc`` after a crash. Stored and logged by :func:`share_receive_uploads`, as the drop
    page's files are: into the link's folder, renamed never replacing, and one log entry
    naming the visitor who started the upload and the name they gave. Not through a link
    that has expired, been revoked or deleted meanwhile: refused (the upload ends)."""
    from uploads.protocol import parse_metadata

    link_id = upload.scope.removeprefix("share:")
    links = ShareLink.objects.select_related("node", "created_by")
    link = links.filter(pk=int(link_id)).first() if link_id.isdigit() else None
    if link is None:
        raise ShareNotFound("The link this upload came through no longer exists.")
    selectors.check_open(link, counted_before=True)
    # The address was taken when the upload started: past the retention by now (though
    # nothing erased it from the row yet), it is not logged.
    address = upload.visitor_address or ""
    if upload.created_at < _address_cutoff():
        address = ""
    return share_receive_uploads(
        link=link,
        uploads=[item],
        uploader_name=parse_metadata(upload.metadata).get("uploader", ""),
        visitor=Visitor(address=address, client=upload.visitor_client),
        counted=False,
    )


def _address_cutoff(policy: SharingPolicy | None = None) -> datetime:
    """Addresses taken before this moment are past the policy's retention."""
    days = (policy or SharingPolicy.current()).ip_retention_days
    return timezone.now() - timedelta(days=days)


def addresses_to_forget(*, policy: SharingPolicy | None = None) -> QuerySet[ShareAccess]:
    """Log lines whose visitor address is older than the policy's retention."""
    return ShareAccess.objects.filter(ip_address__isnull=False, at__lt=_address_cutoff(policy))


def upload_addresses_to_forget(*, policy: SharingPolicy | None = None) -> QuerySet[TusUpload]:
    """Drop-folder uploads still under way whose visitor address (taken when the upload
    started) is older than the policy's retention."""
    return TusUpload.objects.filter(
        visitor_address__isnull=False, created_at__lt=_address_cutoff(policy)
    )


def addresses_forget(*, policy: SharingPolicy | None = None) -> int:
    """Erase visitors' addresses older than the policy's retention, in the access log and
    on drop-folder uploads still under way. Returns how many."""
    policy = policy or SharingPolicy.current()
    erased = addresses_to_forget(policy=policy).update(ip_address=None)
    with transaction.atomic():
        # Rows a request holds (finishing the upload deletes its row; a chunk moves its
        # offset) are skipped, not waited for: two finishing requests would otherwise each
        # wait for the other's row. The next run takes them, and a finishing upload logs
        # its address only while it is within the retention (share_store_resumable).
        free = upload_addresses_to_forget(policy=policy).select_for_update(skip_locked=True)
        erased += TusUpload.objects.filter(pk__in=free.values("pk")).update(visitor_address=None)
    return erased


def addresses_to_forget_count(*, policy: SharingPolicy | None = None) -> int:
    """How many addresses :func:`addresses_forget` would erase now."""
    policy = policy or SharingPolicy.current()
    return (
        addresses_to_forget(policy=policy).count()
        + upload_addresses_to_forget(policy=policy).count()
    )
