"""Reads of WebDAV's own records."""

from __future__ import annotations

from django.db.models import QuerySet

from webdav.models import DavLock, DeadProperty


def dead_properties_of(owner_id: int, url: str) -> dict[str, str]:
    return dict(
        DeadProperty.objects.filter(owner_id=owner_id, url=url).values_list("name", "value")
    )


def dead_properties_under(owner_id: int, url: str) -> dict[str, dict[str, str]]:
    """The properties of everything below the collection at ``url``, by URL, in one query."""
    prefix = url if url.endswith("/") else url + "/"
    found: dict[str, dict[str, str]] = {}
    for prop_url, name, value in DeadProperty.objects.filter(
        owner_id=owner_id, url__startswith=prefix
    ).values_list("url", "name", "value"):
        found.setdefault(prop_url, {})[name] = value
    return found


def locks_of(owner_id: int) -> QuerySet[DavLock]:
    return DavLock.objects.filter(owner_id=owner_id)


def lock_by_token(token: str) -> DavLock | None:
    return DavLock.objects.filter(token=token).first()
