"""Writes to WebDAV's own records (dead properties, locks). The file tree itself is written
only through :mod:`files.services`, from :mod:`webdav.provider`."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from files import services as file_services
from files.errors import NameConflict
from files.models import Node
from webdav.models import DavLock, DeadProperty


@transaction.atomic
def node_move_to(*, node: Node, new_parent: Node, name: str, actor: User | None = None) -> Node:
    """MOVE: ``node`` into ``new_parent`` as ``name``, in one transaction, by the file
    services' own move and rename (each checks its own rules).

    Renaming first keeps the old name from clashing in the new folder; when the new name is
    taken in the old folder instead, the move goes first."""
    if new_parent.pk == node.parent_id:
        return file_services.node_rename(node=node, name=name, actor=actor)
    if name == node.name:
        return file_services.node_move(node=node, new_parent=new_parent, actor=actor)
    try:
        with transaction.atomic():
            node = file_services.node_rename(node=node, name=name, actor=actor)
    except NameConflict:
        node = file_services.node_move(node=node, new_parent=new_parent, actor=actor)
        return file_services.node_rename(node=node, name=name, actor=actor)
    return file_services.node_move(node=node, new_parent=new_parent, actor=actor)


def dead_property_set(*, node_id: int, name: str, value: str) -> None:
    DeadProperty.objects.update_or_create(node_id=node_id, name=name, defaults={"value": value})


def dead_property_remove(*, node_id: int, name: str) -> None:
    DeadProperty.objects.filter(node_id=node_id, name=name).delete()


@transaction.atomic
def dead_properties_copy(*, src_id: int, dest_id: int) -> None:
    """Give node ``dest_id`` the properties of node ``src_id`` (the node only: wsgidav copies
    a collection's members one by one)."""
    DeadProperty.objects.filter(node_id=dest_id).delete()
    DeadProperty.objects.bulk_create(
        [
            DeadProperty(node_id=dest_id, name=prop.name, value=prop.value)
            for prop in DeadProperty.objects.filter(node_id=src_id)
        ]
    )


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
    node_id: int | None = None,
) -> DavLock:
    return DavLock.objects.create(
        owner_id=owner_id,
        node_id=node_id,
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
