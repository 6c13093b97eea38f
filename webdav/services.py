"""Writes to WebDAV's own records (dead properties, locks). The file tree itself is written
only through :mod:`files.services`, from :mod:`webdav.provider`."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from files import services as file_services
from files.errors import NameConflict
from files.models import Node
from webdav.models import DavLock, DeadProperty


@transaction.atomic
def node_move_to(*, node: Node, new_parent: Node, name: str) -> Node:
    """MOVE: ``node`` into ``new_parent`` as ``name``, in one transaction, by the file
    services' own move and rename (each checks its own rules).

    Renaming first keeps the old name from clashing in the new folder; when the new name is
    taken in the old folder instead, the move goes first."""
    if new_parent.pk == node.parent_id:
        return file_services.node_rename(node=node, name=name)
    if name == node.name:
        return file_services.node_move(node=node, new_parent=new_parent)
    try:
        with transaction.atomic():
            node = file_services.node_rename(node=node, name=name)
    except NameConflict:
        node = file_services.node_move(node=node, new_parent=new_parent)
        return file_services.node_rename(node=node, name=name)
    return file_services.node_move(node=node, new_parent=new_parent)


def _children(url: str) -> Q:
    """Rows under a collection's reference URL (``/1/a/`` or ``/1/a``), not the URL itself."""
    prefix = url if url.endswith("/") else url + "/"
    return Q(url__startswith=prefix)


def dead_property_set(*, owner_id: int, url: str, name: str, value: str) -> None:
    DeadProperty.objects.update_or_create(
        owner_id=owner_id, url=url, name=name, defaults={"value": value}
    )


def dead_property_remove(*, owner_id: int, url: str, name: str) -> None:
    DeadProperty.objects.filter(owner_id=owner_id, url=url, name=name).delete()


def dead_properties_remove(*, owner_id: int, url: str, with_children: bool = False) -> None:
    scope = Q(url=url) | _children(url) if with_children else Q(url=url)
    DeadProperty.objects.filter(scope, owner_id=owner_id).delete()


@transaction.atomic
def dead_properties_copy(*, owner_id: int, src_url: str, dest_url: str) -> None:
    """Give ``dest_url`` the properties of ``src_url`` (the resource only: wsgidav copies a
    collection's members one by one)."""
    DeadProperty.objects.filter(owner_id=owner_id, url=dest_url).delete()
    DeadProperty.objects.bulk_create(
        [
            DeadProperty(owner_id=owner_id, url=dest_url, name=prop.name, value=prop.value)
            for prop in DeadProperty.objects.filter(owner_id=owner_id, url=src_url)
        ]
    )


@transaction.atomic
def dead_properties_move(
    *, owner_id: int, src_url: str, dest_url: str, with_children: bool
) -> None:
    """Re-key the properties of a moved resource (and of its members)."""
    DeadProperty.objects.filter(owner_id=owner_id, url=dest_url).delete()
    if with_children:
        DeadProperty.objects.filter(_children(dest_url), owner_id=owner_id).delete()
    DeadProperty.objects.filter(owner_id=owner_id, url=src_url).update(url=dest_url)
    if not with_children:
        return
    src_prefix = src_url.rstrip("/") + "/"
    dest_prefix = dest_url.rstrip("/") + "/"
    moved = list(DeadProperty.objects.filter(_children(src_url), owner_id=owner_id))
    for prop in moved:
        prop.url = dest_prefix + prop.url[len(src_prefix) :]
    DeadProperty.objects.bulk_update(moved, ["url"], batch_size=500)


def lock_create(
    *,
    owner_id: int,
    token: str,
    root: str,
    depth: str,
    scope: str,
    type: str,
    principal: str,
    lock_owner: str,
    timeout: float,
    expire: float,
) -> DavLock:
    return DavLock.objects.create(
        owner_id=owner_id,
        token=token,
        root=root,
        depth=depth,
        scope=scope,
        type=type,
        principal=principal,
        lock_owner=lock_owner,
        timeout=timeout,
        expire=expire,
    )


def lock_refresh(*, token: str, timeout: float, expire: float) -> int:
    return DavLock.objects.filter(token=token).update(timeout=timeout, expire=expire)


def lock_delete(*, token: str) -> bool:
    deleted, _ = DavLock.objects.filter(token=token).delete()
    return deleted > 0


def locks_expired_delete(*, now: float) -> int:
    deleted, _ = DavLock.objects.filter(expire__gte=0, expire__lt=now).delete()
    return deleted
