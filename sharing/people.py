"""Sharing with people and groups: give, change, remove and leave shares; Shared with me.

The rows are :class:`files.models.NodeShare` (the engine's access rule reads them, in
:mod:`files.access`); this module is where they are written. The owner may share anything
of theirs; someone an item is shared with may share it onward only with the re-share right,
never above their own role. Every change is recorded in the activity log in its transaction,
and a new recipient gets an e-mail once the transaction has committed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from fileflow.errors import Conflict
from files import access, tree
from files.activity import Kind, activity_record
from files.errors import NodeNotFound
from files.models import Node, NodeShare, NodeShareLeave, NodeShareMark, NodeShareQuerySet
from sharing.errors import InvalidShare, ShareNotFound
from sharing.services import DEFAULT, Default

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = tuple(NodeShare.Role.values)


class AlreadyShared(Conflict):
    code = "already_shared"


def _find_user(identifier: str) -> User:
    """A user by user name or e-mail address (either ignoring case)."""
    identifier = (identifier or "").strip()
    if not identifier:
        raise InvalidShare("Give the user name or e-mail address of a person.", field="user")
    found = list(User.objects.filter(username__iexact=identifier, is_active=True)[:2])
    if not found and "@" in identifier:
        found = list(User.objects.filter(email__iexact=identifier, is_active=True)[:2])
    if len(found) != 1:
        raise InvalidShare(
            f"There is no single account named or with the address “{identifier}”.", field="user"
        )
    return found[0]


def _find_group(name: str, actor: User) -> Group:
    """A group the actor is in (a user sees only their own groups; operators see all)."""
    name = (name or "").strip()
    groups = Group.objects.all() if actor.is_staff else actor.groups.all()
    group = groups.filter(name__iexact=name).first() if name else None
    if group is None:
        raise InvalidShare(f"You are not in a group named “{name}”.", field="group")
    return group


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidShare(f"role must be one of {', '.join(ROLES)}.", field="role")
    return role


def _check_expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is not None and expires_at <= timezone.now():
        raise InvalidShare("The expiry must be in the future.", field="expires_at")
    return expires_at


def _label(share: NodeShare) -> str:
    return share.user.username if share.user is not None else f"group {share.group}"


def _notify(share: NodeShare, actor: User) -> None:
    """E-mail the recipient (a user share, or each member of a group) with the configured
    backend; a failing mail server does not undo the share."""
    node = share.node
    kind = "folder" if node.is_folder else "file"
    url = reverse("files:folder" if node.is_folder else "files:node", args=[node.pk])
    recipients = (
        [share.user.email]
        if share.user is not None
        else list(share.group.user_set.exclude(email="").values_list("email", flat=True))  # type: ignore[union-attr]
    )
    recipients = [address for address in recipients if address]
    if not recipients:
        return
    try:
        send_mail(
            subject=f"{actor} shared the {kind} “{node.name}” with you",
            message=(
                f"{actor} shared the {kind} “{node.name}” with you as {share.role}.\n\n"
                f"Open it: {url}\nYou also find it under Shared with me.\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except OSError:
        logger.exception("could not send the share e-mail for share %s", share.pk)


@transaction.atomic
def person_share_create(
    *,
    actor: User,
    node: Node,
    user: str = "",
    group: str = "",
    role: str = NodeShare.Role.VIEWER,
    can_reshare: bool = False,
    expires_at: datetime | None = None,
) -> NodeShare:
    """Share ``node`` with one person (user name or e-mail) or one group, in ``role``."""
    granted = access.require(actor, node, "reshare")
    if bool(user) == bool(group):
        raise InvalidShare("Give either a user or a group, not both.", field="user")
    role = _check_role(role)
    if not granted.may_grant(role):
        raise InvalidShare(
            f"You may share this item at most as {granted.reshare_role}.", field="role"
        )
    if node.is_home:
        raise InvalidShare("A home folder cannot be shared; share what is in it.", field="node")
    expires_at = _check_expiry(expires_at)
    grantee = _find_user(user) if user else None
    team = _find_group(group, actor) if group else None
    tree.lock(node.owner_id)
    node = tree.refresh(node)
    if node.trashed_at is not None:
        raise NodeNotFound("This item is in the trash.")
    if grantee is not None and grantee.pk == node.owner_id:
        raise InvalidShare(f"{grantee} owns this item already.", field="user")
    existing = NodeShare.objects.filter(node=node).filter(
        Q(user=grantee) if grantee is not None else Q(group=team)
    )
    if existing.exists():
        who = grantee.username if grantee is not None else f"the group {team}"
        raise AlreadyShared(
            f"This item is already shared with {who}; change that share instead.",
            field="user" if grantee else "group",
        )
    try:
        with transaction.atomic():
            share = NodeShare.objects.create(
                node=node,
                node_key=tree.key(node),
                user=grantee,
                group=team,
                role=role,
                can_reshare=bool(can_reshare),
                expires_at=expires_at,
                created_by=actor,
            )
    except IntegrityError:
        raise AlreadyShared("This item was just shared with them; reload.") from None
    activity_record(
        kind=Kind.SHARE, node=node, actor=actor, detail=f"with {_label(share)} as {role}"
    )
    transaction.on_commit(lambda: _notify(share, actor))
    return share


def _manages(actor: User, share: NodeShare) -> bool:
    """The owner manages every share of their item; a re-sharer the shares they made."""
    node = share.node
    if node.owner_id == actor.pk:
        return True
    return share.created_by_id == actor.pk and access.can(actor, node, "reshare")


def _may_manage(actor: User, share: NodeShare) -> None:
    if not _manages(actor, share):
        raise ShareNotFound("No such share.")


@transaction.atomic
def person_share_update(
    *,
    actor: User,
    share: NodeShare,
    role: str | Default = DEFAULT,
    can_reshare: bool | Default = DEFAULT,
    expires_at: datetime | Default | None = DEFAULT,
) -> NodeShare:
    """Change a share's role, re-share right or expiry; takes effect at once."""
    _may_manage(actor, share)
    tree.lock(share.node.owner_id)
    share = NodeShare.objects.select_related("node", "user", "group").get(pk=share.pk)
    changes = []
    if not isinstance(role, Default):
        role = _check_role(role)
        granted = access.access_of(actor, share.node)
        if granted is None or not granted.may_grant(role):
            raise InvalidShare("You may not give this role.", field="role")
        share.role = role
        changes.append(f"role {role}")
    if not isinstance(can_reshare, Default):
        share.can_reshare = bool(can_reshare)
        changes.append("may re-share" if can_reshare else "may not re-share")
    if not isinstance(expires_at, Default):
        share.expires_at = _check_expiry(expires_at)
        changes.append(f"expires {expires_at:%Y-%m-%d %H:%M}" if expires_at else "no expiry")
    share.save()
    activity_record(
        kind=Kind.SHARE_CHANGE,
        node=share.node,
        actor=actor,
        detail=f"{_label(share)}: {', '.join(changes) or 'no change'}",
    )
    return share


@transaction.atomic
def person_share_delete(*, actor: User, share: NodeShare) -> None:
    """Remove a share: by the owner, its maker (while they may re-share), or the recipient
    leaving it. A member of the group a share is to leaves it for themselves only
    (:func:`person_share_leave`): the group keeps it."""
    leaving = share.user_id == actor.pk
    if not leaving:
        if share.group_id is not None and not _manages(actor, share):
            person_share_leave(user=actor, share=share)
            return
        _may_manage(actor, share)
    tree.lock(share.node.owner_id)
    node = share.node
    label = _label(share)
    NodeShare.objects.filter(pk=share.pk).delete()
    activity_record(
        kind=Kind.UNSHARE,
        node=node,
        actor=actor,
        detail=f"{label} left" if leaving else f"with {label}",
    )


@transaction.atomic
def person_share_leave(*, user: User, share: NodeShare) -> None:
    """Leave a share to me: one click. A share to me goes; a share to one of my groups
    stops reaching me only (the rest of the group keeps it). The owner can share the item
    with me directly again."""
    if share.user_id == user.pk:
        person_share_delete(actor=user, share=share)
        return
    if share.group_id is None or not user.groups.filter(pk=share.group_id).exists():
        raise ShareNotFound("No such share.")
    tree.lock(share.node.owner_id)
    _, made = NodeShareLeave.objects.get_or_create(share=share, user=user)
    if made:
        activity_record(
            kind=Kind.UNSHARE,
            node=share.node,
            actor=user,
            detail=f"{user.username} left (shared with the group {share.group})",
        )


@transaction.atomic
def person_share_mark(
    *, user: User, share: NodeShare, seen: bool | None = None, pinned: bool | None = None
) -> NodeShare:
    """The recipient's own marks on a share to them: seen (the unread marker) and pinned.
    They are the caller's alone: in a group share each member keeps their own
    (:class:`NodeShareMark`). Returns the share carrying the caller's marks."""
    if share.user_id != user.pk and not user.groups.filter(pk=share.group_id).exists():
        raise ShareNotFound("No such share.")
    mark, _ = NodeShareMark.objects.get_or_create(share=share, user=user)
    if seen is not None:
        mark.seen_at = timezone.now() if seen else None
    if pinned is not None:
        mark.pinned = pinned
    mark.save(update_fields=["seen_at", "pinned"])
    share.seen_at, share.pinned = mark.seen_at, mark.pinned
    return share


def shares_mark_seen(*, user: User, ids: set[int]) -> int:
    """Mark shares to ``user`` seen (opening Shared with me), for ``user`` only."""
    mine = list(shared_with_me(user).filter(pk__in=ids).values_list("pk", flat=True))
    now = timezone.now()
    NodeShareMark.objects.bulk_create(
        [NodeShareMark(share_id=pk, user=user, seen_at=now) for pk in mine],
        update_conflicts=True,
        unique_fields=["share", "user"],
        update_fields=["seen_at"],
    )
    return len(mine)


# --- reads ---------------------------------------------------------------------------


def shares_of(actor: User, node: Node) -> QuerySet[NodeShare]:
    """Who has access to ``node`` (its own shares; the caller must be able to see it)."""
    access.require(actor, node, "view")
    return (
        NodeShare.objects.filter(node=node)
        .select_related("user", "group", "created_by")
        .order_by("created_at", "pk")
    )


def share_get(actor: User, node: Node, pk: Any) -> NodeShare:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ShareNotFound("No such share.") from None
    share = shares_of(actor, node).filter(pk=pk).first()
    if share is None:
        raise ShareNotFound("No such share.")
    return share


def shared_with_me(user: User) -> NodeShareQuerySet:
    """Live shares to ``user`` or their groups, of other people's live items, newest first;
    each carries ``user``'s own marks (``seen_at``, ``pinned``)."""
    return (
        NodeShare.objects.received_by(user)
        .with_marks_of(user)
        .select_related("node", "node__owner", "node__blob", "created_by", "group")
        .order_by("-created_at", "-pk")
    )


def shared_with_me_unread(user: User) -> int:
    return shared_with_me(user).unread().count()


def my_share_get(user: User, pk: Any) -> NodeShare:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ShareNotFound("No such share.") from None
    share = shared_with_me(user).filter(pk=pk).first()
    if share is None:
        raise ShareNotFound("No such share.")
    return share
