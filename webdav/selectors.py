"""Reads of WebDAV's own records."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from accounts.models import User
from files.models import shared_with
from webdav.models import DavLock, DeadProperty


def dead_properties_of(node_id: int) -> dict[str, str]:
    return dict(DeadProperty.objects.filter(node_id=node_id).values_list("name", "value"))


def dead_properties_of_children(folder_id: int) -> dict[int, dict[str, str]]:
    """The properties of a folder's children, by node id, in one query."""
    found: dict[int, dict[str, str]] = {}
    for node_id, name, value in DeadProperty.objects.filter(node__parent_id=folder_id).values_list(
        "node_id", "name", "value"
    ):
        found.setdefault(node_id, {})[name] = value
    return found


def locks_of(owner_id: int) -> QuerySet[DavLock]:
    """The locks ``owner_id`` holds."""
    return DavLock.objects.filter(owner_id=owner_id).select_related("node", "owner")


def locks_reaching(user: User) -> QuerySet[DavLock]:
    """The locks ``user`` holds and those anyone holds on an item ``user`` reaches: their
    own, or one shared with them (the item or a folder above it; the same rule as
    ``Node.objects.visible_to``, asked of each lock's item)."""
    return DavLock.objects.filter(
        Q(owner=user)
        | Q(node__owner=user)
        | (Q(node__trashed_at__isnull=True) & shared_with(user, node="node_id", path="node__path"))
    ).select_related("node", "owner")


def lock_by_token(token: str) -> DavLock | None:
    return DavLock.objects.filter(token=token).select_related("node", "owner").first()
