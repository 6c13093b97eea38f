"""Reads of WebDAV's own records."""

from __future__ import annotations

from django.db.models import QuerySet

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
    return DavLock.objects.filter(owner_id=owner_id).select_related("node")


def lock_by_token(token: str) -> DavLock | None:
    return DavLock.objects.filter(token=token).select_related("node").first()
