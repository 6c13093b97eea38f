"""wsgidav's property manager and lock storage interfaces over our database tables.

Lock keys are reference URLs ``/<user id>/<path>`` (see :mod:`webdav.provider`): the paths as
that user sees them, their own files and their Shared with me. A lock records the item it
locks, and wsgidav is shown it at that item's path now, as the user who asks sees it: the
owner at its place in their files, someone it is shared with under their Shared with me
(``Shared with me/<shared item>/…``, where their WebDAV drive lists it). So a lock follows
its item through a rename or move made anywhere, and binds everyone who reaches the item,
whichever path they reach it by; so only someone who may change an item locks it, and a
lock whose holder may no longer change its item binds nobody. Dead properties are kept by
node. Reads that a PROPFIND repeats for every member (dead properties, the locks of each
path) are answered from what was read once for the request.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

from django.db import transaction
from wsgidav.dav_error import HTTP_CONFLICT, DAVError
from wsgidav.lock_man.lock_manager import (
    LockManager,
    generate_lock_token,
    normalize_lock_root,
    validate_lock,
)

from accounts.models import User
from fileflow.errors import DomainError
from files import access, tree
from files.models import Node
from webdav import selectors, shared
from webdav import services as dav_services
from webdav.models import DavLock

# Locks never outlive this, whatever a client asks (wsgidav's own ceiling).
LOCK_TIMEOUT_MAX = 4 * 604800
PROPS_KEY = "fileflow.dav.props"
# reference URL -> node id, for the resources this request has built.
NODE_IDS_KEY = "fileflow.dav.node_ids"

# user id -> the locks as that user sees them, read once per request (reset by the view).
_request_locks: ContextVar[dict[int, list[dict[str, Any]]] | None] = ContextVar(
    "fileflow_dav_locks", default=None
)
# lock root -> node, for the items this request has built (a new lock records its item
# from here).
_request_nodes: ContextVar[dict[str, Node] | None] = ContextVar("fileflow_dav_nodes", default=None)
# Who is asking: reference URLs are in their namespace.
_request_user: ContextVar[User | None] = ContextVar("fileflow_dav_user", default=None)


def owner_of(url: str) -> int:
    """The owner id in ``/<owner id>/...``."""
    return int(url.split("/", 2)[1])


def begin_request(user: User | None = None) -> None:
    _request_locks.set({})
    _request_nodes.set({})
    _request_user.set(user)


def end_request() -> None:
    _request_locks.set(None)
    _request_nodes.set(None)
    _request_user.set(None)


def remember_node(environ: dict[str, Any], url: str, node: Node) -> None:
    """Record which node a resource's reference URL names in this request: wsgidav asks for
    dead properties and takes locks by URL, we keep them by node."""
    environ.setdefault(NODE_IDS_KEY, {})[url] = node.pk
    known = _request_nodes.get()
    if known is not None:
        known[normalize_lock_root(url)] = node


class DbPropertyManager:
    """Dead properties (PROPPATCH) in :class:`webdav.models.DeadProperty`, kept by node: a
    rename or move anywhere takes them along, and they go when the node is deleted for good.
    A URL maps to a node through :func:`remember_node` (the provider's resources call it)."""

    def __repr__(self) -> str:
        return "DbPropertyManager"

    @staticmethod
    def _node_id(url: str, environ: dict[str, Any] | None) -> int | None:
        known: dict[str, int] = (environ or {}).get(NODE_IDS_KEY, {})
        return known.get(url)

    @staticmethod
    def _invalidate(environ: dict[str, Any] | None) -> None:
        if environ is not None:
            environ.pop(PROPS_KEY, None)

    def read_ahead(self, folder_id: int, urls: dict[int, str], environ: dict[str, Any]) -> None:
        """Load the properties of a listing's members (node id -> URL) in one query."""
        found = selectors.dead_properties_of_children(folder_id)
        environ[PROPS_KEY] = {url: found.get(node_id, {}) for node_id, url in urls.items()}

    def _props(self, url: str, environ: dict[str, Any] | None) -> dict[str, str]:
        known: dict[str, dict[str, str]] | None = (environ or {}).get(PROPS_KEY)
        if known is not None and url in known:
            return known[url]
        node_id = self._node_id(url, environ)
        return {} if node_id is None else selectors.dead_properties_of(node_id)

    def _require(self, url: str, environ: dict[str, Any] | None) -> int:
        node_id = self._node_id(url, environ)
        if node_id is None:
            raise DAVError(HTTP_CONFLICT, context_info="This resource has not been stored yet.")
        return node_id

    def get_properties(self, norm_url: str, environ: dict[str, Any] | None = None) -> list[str]:
        return list(self._props(norm_url, environ))

    def get_property(
        self, norm_url: str, name: str, environ: dict[str, Any] | None = None
    ) -> str | None:
        return self._props(norm_url, environ).get(name)

    def write_property(
        self,
        norm_url: str,
        name: str,
        property_value: bytes | str,
        dry_run: bool = False,
        environ: dict[str, Any] | None = None,
    ) -> None:
        node_id = self._require(norm_url, environ)
        if dry_run:
            return
        value = (
            property_value.decode("utf-8") if isinstance(property_value, bytes) else property_value
        )
        dav_services.dead_property_set(node_id=node_id, name=name, value=value)
        self._invalidate(environ)

    def remove_property(
        self,
        norm_url: str,
        name: str,
        dry_run: bool = False,
        environ: dict[str, Any] | None = None,
    ) -> None:
        node_id = self._require(norm_url, environ)
        if dry_run:
            return
        dav_services.dead_property_remove(node_id=node_id, name=name)
        self._invalidate(environ)

    def remove_properties(self, norm_url: str, environ: dict[str, Any] | None = None) -> None:
        # Called for a DELETE, which trashes: the node keeps its properties for a restore,
        # and they go with it (ON DELETE CASCADE) when the trash is emptied.
        self._invalidate(environ)

    def copy_properties(
        self, src_url: str, dest_url: str, environ: dict[str, Any] | None = None
    ) -> None:
        src_id, dest_id = self._node_id(src_url, environ), self._node_id(dest_url, environ)
        if src_id is not None and dest_id is not None:
            dav_services.dead_properties_copy(src_id=src_id, dest_id=dest_id)
        self._invalidate(environ)

    def move_properties(
        self,
        src_url: str,
        dest_url: str,
        with_children: bool,
        environ: dict[str, Any] | None = None,
    ) -> None:
        # The properties belong to the node, which moved with them.
        self._invalidate(environ)


def _as_dict(lock: DavLock) -> dict[str, Any]:
    return {
        "token": lock.token,
        "root": lock.root,
        "depth": lock.depth,
        "scope": lock.scope,
        "type": lock.type,
        "principal": lock.principal,
        "owner": lock.lock_owner.encode("utf-8"),
        "timeout": lock.timeout,
        "expire": lock.expire,
    }


def _reaches(lock: DavLock) -> bool:
    """The holder may still change the locked item (always, their own item): a lock whose
    holder lost the share, or now only views it, binds nobody."""
    node = lock.node
    return node is None or node.owner_id == lock.owner_id or access.can(lock.owner, node, "edit")


def _current(locks: list[DavLock], viewer: User | None = None) -> list[dict[str, Any]]:
    """The locks as wsgidav's dicts, each rooted at its item's path now as ``viewer`` (by
    default each lock's holder) sees it: one query for the names along the paths, two more
    (Shared with me) only when an item is someone else's. A lock is left out when its item
    is in the trash (it went with its item; DELETE over WebDAV releases it), when ``viewer``
    does not reach the item, and when its holder may no longer change it. An item that
    ``viewer`` reaches through two shares is locked at both paths."""
    following = [lock.node for lock in locks if lock.node is not None]
    viewers = {lock.pk: viewer or lock.owner for lock in locks}
    entries: dict[int, list[tuple[str, Node]]] = {}
    elsewhere = {
        viewers[lock.pk]
        for lock in locks
        if lock.node is not None and lock.node.owner_id != viewers[lock.pk].pk
    }
    for user in elsewhere:  # reached under their Shared with me
        root = "/" + shared.shared_root_name(user) + "/"
        entries[user.pk] = [
            (root + name, node) for name, node in shared.shared_entries(user).items()
        ]
        following += [node for _, node in entries[user.pk]]
    paths = tree.paths_of(following) if following else {}
    found = []
    for lock in locks:
        as_dict = _as_dict(lock)
        node, user = lock.node, viewers[lock.pk]
        if node is None:
            if lock.owner_id == user.pk:
                found.append(as_dict)
            continue
        if node.trashed_at is not None or not _reaches(lock):
            continue
        if node.owner_id == user.pk:
            seen_at = [paths[node.pk]]
        else:
            above = set(tree.ids_in(node.path)) | {node.pk}
            seen_at = [
                where + paths[node.pk][len(paths[entry.pk]) :]
                for where, entry in entries.get(user.pk, [])
                if entry.pk in above
            ]
        for path in seen_at:
            found.append({**as_dict, "root": normalize_lock_root(f"/{user.pk}" + quote(path))})
    return found


def _alive(lock: dict[str, Any], now: float) -> bool:
    return lock["expire"] < 0 or lock["expire"] >= now


class DbLockStorage:
    """wsgidav's lock storage interface over :class:`webdav.models.DavLock`."""

    def __repr__(self) -> str:
        return "DbLockStorage"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def cleanup(self) -> None:
        dav_services.locks_expired_delete(now=time.time())

    def clear(self) -> None:
        pass  # never wipe every user's locks from a library call

    @staticmethod
    def _forget(owner_id: int) -> None:
        cache = _request_locks.get()
        if cache is not None:
            cache.pop(owner_id, None)

    def locks_of(self, owner_id: int) -> list[dict[str, Any]]:
        """The locks at the paths of user ``owner_id`` (expired ones too), read once per
        request: when they are the caller, every lock on an item they reach, whoever holds
        it; else (outside a request) only theirs."""
        cache = _request_locks.get()
        if cache is not None and owner_id in cache:
            return cache[owner_id]
        viewer = _request_user.get()
        if viewer is not None and viewer.pk == owner_id:
            locks = _current(list(selectors.locks_reaching(viewer)), viewer)
        else:
            locks = _current(list(selectors.locks_of(owner_id)))
        if cache is not None:
            cache[owner_id] = locks
        return locks

    def get(self, token: str) -> dict[str, Any] | None:
        """The lock, rooted where the caller sees its item (outside a request: where its
        holder does); None when the caller does not reach it."""
        lock = selectors.lock_by_token(token)
        current = _current([lock], _request_user.get()) if lock is not None else []
        if not current:
            return None
        found = current[0]
        if not _alive(found, time.time()):
            self.delete(token)
            return None
        return found

    def create(self, path: str, lock: dict[str, Any]) -> dict[str, Any]:
        root = normalize_lock_root(path)
        lock["root"] = root
        timeout = float(lock.get("timeout") or LockManager.LOCK_TIME_OUT_DEFAULT)
        if timeout < 0 or timeout > LOCK_TIMEOUT_MAX:
            timeout = LOCK_TIMEOUT_MAX
        lock["timeout"] = timeout
        lock["expire"] = time.time() + timeout
        validate_lock(lock)
        lock["token"] = generate_lock_token()
        owner_id = owner_of(root)
        node = (_request_nodes.get() or {}).get(root)
        dav_services.lock_create(
            owner_id=owner_id,
            node_id=node.pk if node is not None else None,
            token=lock["token"],
            root=root,
            depth=lock["depth"],
            scope=lock["scope"],
            type=lock["type"],
            principal=lock["principal"],
            lock_owner=bytes(lock["owner"] or b"").decode("utf-8"),
            timeout=timeout,
            expire=lock["expire"],
        )
        self._forget(owner_id)
        return lock

    def refresh(self, token: str, *, timeout: float) -> dict[str, Any]:
        lock = self.get(token)
        if lock is None:
            raise ValueError("Lock must exist")
        if timeout < 0 or timeout > LOCK_TIMEOUT_MAX:
            timeout = LOCK_TIMEOUT_MAX
        lock["timeout"] = timeout
        lock["expire"] = time.time() + timeout
        dav_services.lock_refresh(token=token, timeout=timeout, expire=lock["expire"])
        self._forget(owner_of(lock["root"]))
        return lock

    def delete(self, token: str) -> bool:
        lock = selectors.lock_by_token(token)
        if lock is None:
            return False
        dav_services.lock_delete(token=token)
        self._forget(lock.owner_id)
        return True

    def get_lock_list(
        self, path: str, *, include_root: bool, include_children: bool, token_only: bool
    ) -> list[Any]:
        root = normalize_lock_root(path)
        if root.count("/") < 1 or not root[1:].split("/", 1)[0].isdigit():
            return []  # "/" (wsgidav's dump of everything): no single owner
        now = time.time()
        prefix = root + "/"
        found = [
            lock
            for lock in self.locks_of(owner_of(root + "/"))
            if _alive(lock, now)
            and (
                (include_root and lock["root"] == root)
                or (include_children and lock["root"].startswith(prefix))
            )
        ]
        return [lock["token"] for lock in found] if token_only else found


class FileFlowLockManager(LockManager):
    """wsgidav's lock manager, with the conflict check and the new lock in one database
    transaction under the tree locks of the caller and of the item's owner (in id order), so
    two workers cannot both grant an exclusive lock on one item, whichever paths they name
    it by."""

    def __init__(self) -> None:
        super().__init__(DbLockStorage())

    def acquire(self, *, url: str, **kwargs: Any) -> Any:
        """A lock binds everyone who reaches the item, so only someone who may change it
        takes one: anyone else is answered as for any write their role does not allow."""
        root = normalize_lock_root(url)
        owner_id = owner_of(root + "/")
        node, user = (_request_nodes.get() or {}).get(root), _request_user.get()
        if node is not None and user is not None and node.owner_id != user.pk:
            try:
                access.require(user, node, "edit")
            except DomainError as exc:
                raise DAVError(exc.status_code, context_info=exc.message) from exc
        with transaction.atomic():
            for user_id in sorted({owner_id, node.owner_id if node is not None else owner_id}):
                tree.lock(user_id)
            DbLockStorage._forget(owner_id)
            return super().acquire(url=url, **kwargs)
