"""Our wsgidav provider: the caller's file tree as WebDAV collections and resources.

Reads go through :mod:`files.selectors`, writes through :mod:`files.services` (a DELETE
trashes), uploads through :mod:`files.ingest` — this module decides nothing the services
decide. The provider is shared by every request; what belongs to one request (the user, the
resources it loaded) lives in the WSGI ``environ``.

Reference URLs (wsgidav's keys for locks and dead properties) are ``/<owner id>/<quoted
path>``, so one user's ``/a`` is never another's.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote, unquote

from django.db import transaction
from wsgidav import util
from wsgidav.dav_error import (
    HTTP_BAD_REQUEST,
    HTTP_CONFLICT,
    HTTP_FORBIDDEN,
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_INTERNAL_ERROR,
    DAVError,
    DAVErrorCondition,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider
from wsgidav.util import etree

from accounts.models import User
from fileflow.errors import DomainError
from files import access, selectors, services, tree
from files.errors import QuotaExceeded
from files.ingest import (
    Received,
    declared_length,
    length_required,
    receive_stream,
    refuse_early_into,
)
from files.models import Node
from files.names import clean_name
from files.store import blob_store
from webdav import services as dav_services
from webdav import shared
from webdav.storage import remember_node

logger = logging.getLogger(__name__)

USER_KEY = "fileflow.user"
# {path: node or None}: wsgidav resolves the same paths several times in one request.
NODES_KEY = "fileflow.dav.nodes"

# RFC 4331 §6: a write beyond the quota fails with 507 and this precondition.
QUOTA_NOT_EXCEEDED = "{DAV:}quota-not-exceeded"
QUOTA_PROPS = ("{DAV:}quota-used-bytes", "{DAV:}quota-available-bytes")
LOCKDISCOVERY = "{DAV:}lockdiscovery"
# A stored file's live properties, in wsgidav's order.
FILE_LIVE_PROPS = (
    "{DAV:}resourcetype",
    "{DAV:}creationdate",
    "{DAV:}getcontentlength",
    "{DAV:}getcontenttype",
    "{DAV:}getlastmodified",
    "{DAV:}displayname",
    "{DAV:}getetag",
    LOCKDISCOVERY,
    "{DAV:}supportedlock",
)


@contextlib.contextmanager
def dav_errors(environ: dict[str, Any]) -> Iterator[None]:
    """Around a write: turn a service's refusal into a DAV error carrying its message (never
    a 500), and forget the nodes this request has resolved (they may have changed)."""
    try:
        yield
    except QuotaExceeded as exc:
        raise DAVError(
            HTTP_INSUFFICIENT_STORAGE,
            context_info=exc.message,
            err_condition=DAVErrorCondition(QUOTA_NOT_EXCEEDED),
        ) from exc
    except DomainError as exc:
        raise DAVError(exc.status_code, context_info=exc.message) from exc
    finally:
        environ.pop(NODES_KEY, None)


def user_of(environ: dict[str, Any]) -> User:
    user: User = environ[USER_KEY]
    return user


OWNERS_KEY = "fileflow.dav.owners"


def quota_holder(environ: dict[str, Any], node: Node) -> User:
    """Whose quota a write into ``node`` counts against, so whose RFC 4331 figures answer
    "how much can I put here": the caller's in their own files, the owner's in a folder
    shared with them (read once per owner and request)."""
    user = user_of(environ)
    if node.owner_id == user.pk:
        return user
    owners: dict[int, User] = environ.setdefault(OWNERS_KEY, {})
    if node.owner_id not in owners:
        owners[node.owner_id] = User.objects.only(
            "username", "quota_bytes", "used_bytes", "reserved_bytes"
        ).get(pk=node.owner_id)
    return owners[node.owner_id]


def join(path: str, name: str) -> str:
    return path.rstrip("/") + "/" + name


def normalised(path: str) -> str:
    return "/" + "/".join(part for part in path.split("/") if part)


def guard(environ: dict[str, Any], node: Node, action: str) -> None:
    """Ask the one access rule (:mod:`files.access`) before a write: what the caller may not
    do answers as the API does (404, with what their role lacks when they can see it)."""
    with dav_errors(environ):
        access.require(user_of(environ), node, action)


READ_ONLY = (
    "Shared with me is read-only: put files into a folder inside it that is shared with you"
    " as editor."
)


class _NodeResource:
    """What files and folders share: live properties from the node, reference URLs, and
    the dead properties and locks that go with a path."""

    node: Node
    path: str
    environ: dict[str, Any]
    provider: FileFlowProvider
    is_collection: bool

    def get_ref_url(self) -> str:
        # Asked ten times per member of a listing: computed once.
        cached: str | None = self.__dict__.get("_ref_url")
        if cached is None:
            owner_id = self.ref_owner_id()
            cached = f"/{owner_id}" + quote(self.get_preferred_path())  # type: ignore[attr-defined]
            self.__dict__["_ref_url"] = cached
            remember_node(self.environ, cached, self.node)
        return cached

    def ref_owner_id(self) -> int:
        """Whose reference URLs (locks, dead properties) this path is among: the owner's for
        their own tree; the caller's under Shared with me, where paths are the caller's."""
        if self.provider.is_shared_path(self.path, self.environ):
            return user_of(self.environ).pk
        return self.node.owner_id

    def get_property_value(self, name: str) -> Any:
        # The live properties every listing asks for, straight from the node: wsgidav's
        # generic path costs more than the rest of a 10,000-member PROPFIND.
        if name == "{DAV:}displayname":
            return self.get_display_name()
        if name == "{DAV:}getlastmodified":
            return util.get_rfc1123_time(self.get_last_modified())
        if name == "{DAV:}creationdate":
            return util.get_rfc3339_time(self.get_creation_date())
        if name == LOCKDISCOVERY and not self.provider.has_locks(self.ref_owner_id()):
            # Nobody holds a lock: skip wsgidav's per-member lock look-ups.
            return etree.Element(LOCKDISCOVERY)
        return super().get_property_value(name)  # type: ignore[misc]

    def get_creation_date(self) -> float:
        return self.node.created_at.timestamp()

    def get_last_modified(self) -> float:
        return self.node.updated_at.timestamp()

    def get_display_name(self) -> str:
        return self.node.name or "Home"

    def set_property_value(self, name: str, value: Any, dry_run: bool = False) -> None:
        # PROPPATCH writes to the node's own record: an edit, as any other.
        guard(self.environ, self.node, "edit")
        super().set_property_value(name, value, dry_run=dry_run)  # type: ignore[misc]

    def _held_locks(self) -> list[str]:
        """The tokens of the locks on this path and below (read before a change of the item
        moves them along with it)."""
        lm = self.provider.lock_manager
        if lm is None:
            return []
        return [lock["token"] for lock in lm.get_url_lock_list(self.get_ref_url(), recursive=True)]

    def _release(self, tokens: list[str]) -> None:
        lm = self.provider.lock_manager
        for token in tokens:
            if lm is not None:
                lm.release(token)

    def delete(self) -> None:
        """DELETE moves to the trash (restorable from the web page for the usual time); the
        locks on it and below are released, its dead properties stay for a restore."""
        guard(self.environ, self.node, "edit")
        held = self._held_locks()
        with dav_errors(self.environ):
            services.node_trash(node=self.node, actor=user_of(self.environ))
        self.remove_all_properties(recursive=True)  # type: ignore[attr-defined]
        self._release(held)

    def support_recursive_move(self, dest_path: str) -> bool:
        return True

    def move_recursive(self, dest_path: str) -> list[Any]:
        guard(self.environ, self.node, "edit")
        parent, name = self.provider.destination(dest_path, self.environ)
        guard(self.environ, parent, "edit")
        held = self._held_locks()
        with dav_errors(self.environ):
            self.node = dav_services.node_move_to(
                node=self.node, new_parent=parent, name=name, actor=user_of(self.environ)
            )
        # Dead properties belong to the node: they moved with it. A MOVE releases the
        # source's locks (RFC 4918 §7.6); a rename made elsewhere takes them along.
        self._release(held)
        return []

    def _copy_properties_to(self, dest: _NodeResource) -> None:
        pm = self.provider.prop_manager
        if pm is not None:
            pm.copy_properties(self.get_ref_url(), dest.get_ref_url(), self.environ)


class FolderResource(_NodeResource, DAVCollection):
    def __init__(self, path: str, node: Node, environ: dict[str, Any]) -> None:
        DAVCollection.__init__(self, path, environ)
        self.node = node

    def get_display_info(self) -> dict[str, str]:
        return {"type": "Folder"}

    def get_used_bytes(self) -> int | None:
        return quota_holder(self.environ, self.node).used_bytes

    def get_available_bytes(self) -> int | None:
        return quota_holder(self.environ, self.node).free_bytes

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        names: list[str] = super().get_property_names(is_allprop=is_allprop)
        if is_allprop:  # RFC 4331 §3: not part of allprop
            names = [name for name in names if name not in QUOTA_PROPS]
        return names

    def _children(self) -> list[Node]:
        return list(
            selectors.nodes_for(user_of(self.environ))
            .filter(parent=self.node, trashed_at__isnull=True)
            .select_related("blob")
            .order_by("name")
        )

    def _is_root(self) -> bool:
        return normalised(self.path) == "/"

    def get_member_names(self) -> list[str]:
        names = [node.name for node in self._children()]
        if self._is_root():
            names.append(shared.root_name_in(self.environ, user_of(self.environ)))
        return names

    def get_member(self, name: str) -> Any:
        if self._is_root() and name == shared.root_name_in(self.environ, user_of(self.environ)):
            return SharedCollection(join(self.path, name), self.environ)
        child = (
            selectors.nodes_for(user_of(self.environ))
            .filter(parent=self.node, name=name, trashed_at__isnull=True)
            .select_related("blob")
            .first()
        )
        if child is None:
            return None
        return self.provider.resource_for(child, join(self.path, child.name), self.environ)

    def get_member_list(self) -> list[Any]:
        """One query for the children, one for their dead properties: a listing of any
        length costs the same number of queries."""
        members = [
            self.provider.resource_for(child, join(self.path, child.name), self.environ)
            for child in self._children()
        ]
        pm = self.provider.prop_manager
        if pm is not None and members:
            pm.read_ahead(self.node.pk, {m.node.pk: m.get_ref_url() for m in members}, self.environ)
        if self._is_root():
            name = shared.root_name_in(self.environ, user_of(self.environ))
            return [*members, SharedCollection(join(self.path, name), self.environ)]
        return members

    def create_empty_resource(self, name: str) -> FileResource:
        guard(self.environ, self.node, "edit")
        if self.environ.get("REQUEST_METHOD") == "PUT":
            # The file is stored when its body has arrived (FileResource.end_write).
            return FileResource(join(self.path, name), None, self.environ, parent=self.node)
        # LOCK on an unmapped URL makes an empty file (RFC 4918 §7.3).
        empty = receive_stream(lambda size: b"", length=0, name=name)
        with dav_errors(self.environ):
            node = services.file_upload(
                owner=self.node.owner,
                parent=self.node,
                name=name,
                received=empty,
                actor=user_of(self.environ),
            )
        return FileResource(join(self.path, node.name), node, self.environ)

    def create_collection(self, name: str) -> FolderResource:
        guard(self.environ, self.node, "edit")
        with dav_errors(self.environ):
            node = services.folder_create(
                owner=self.node.owner, parent=self.node, name=name, actor=user_of(self.environ)
            )
        return FolderResource(join(self.path, node.name), node, self.environ)

    def support_recursive_delete(self) -> bool:
        return True

    def handle_copy(self, dest_path: str, *, depth_infinity: bool) -> bool:
        """COPY with Depth 0: the folder without its members (wsgidav would copy them all)."""
        if depth_infinity:
            return False
        with transaction.atomic():
            existing = self.provider.get_resource_inst(dest_path, self.environ)
            if existing is not None:
                existing.delete()  # Overwrite: T (wsgidav refused F already)
            self.copy_move_single(dest_path, is_move=False)
        return True

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        """COPY of a folder: the folder itself (its members come one by one)."""
        existing = self.provider.get_resource_inst(dest_path, self.environ)
        if existing is None:
            parent, name = self.provider.destination(dest_path, self.environ)
            guard(self.environ, parent, "edit")
            with dav_errors(self.environ):
                folder = services.folder_create(
                    owner=parent.owner, parent=parent, name=name, actor=user_of(self.environ)
                )
            existing = FolderResource(dest_path, folder, self.environ)
        self._copy_properties_to(existing)


class FileResource(_NodeResource, DAVNonCollection):
    """A stored file, or (``node`` None) one a PUT is about to create in ``parent``."""

    def __init__(
        self,
        path: str,
        node: Node | None,
        environ: dict[str, Any],
        *,
        parent: Node | None = None,
    ) -> None:
        DAVNonCollection.__init__(self, path, environ)
        self._node = node
        self._parent = parent
        self._received: Received | None = None
        self._refused: DAVError | None = None

    @property  # type: ignore[override]
    def node(self) -> Node:
        if self._node is None:
            raise DAVError(HTTP_CONFLICT, context_info="This file has not been stored yet.")
        return self._node

    @node.setter
    def node(self, value: Node) -> None:
        self._node = value

    def get_ref_url(self) -> str:
        if self._node is not None:
            return super().get_ref_url()
        return f"/{user_of(self.environ).pk}" + quote(self.get_preferred_path())

    def get_content_length(self) -> int:
        return self.node.size

    def get_content_type(self) -> str:
        return self.node.mime_type or "application/octet-stream"

    def get_etag(self) -> str:
        return self.node.sha256 or ""

    def support_etag(self) -> bool:
        return self._node is not None

    def get_property_value(self, name: str) -> Any:
        if name == "{DAV:}getetag":
            # RFC 4918 §15.6: an entity-tag, quoted as in the ETag header (wsgidav leaves the
            # quotes off, which get_etag() must do for its header comparisons).
            return f'"{self.get_etag()}"'
        if name == "{DAV:}getcontentlength":
            return str(self.node.size)
        if name == "{DAV:}getcontenttype":
            return self.get_content_type()
        if name == "{DAV:}resourcetype":
            return ""
        return super().get_property_value(name)

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        # wsgidav's generic list calls every getter of a member to see which are None; a
        # stored file has them all. Tests check this list equals wsgidav's own.
        if self._node is None:
            names: list[str] = super().get_property_names(is_allprop=is_allprop)
            return names
        pm = self.provider.prop_manager
        dead = pm.get_properties(self.get_ref_url(), self.environ) if pm is not None else []
        return [*FILE_LIVE_PROPS, *dead]

    def support_ranges(self) -> bool:
        return True

    def get_content(self) -> Any:
        # GET and HEAD of files are answered by files.delivery (see webdav.views); this is
        # wsgidav's own path, kept correct for completeness.
        blob = self.node.blob
        assert blob is not None
        return blob_store().open_range(blob.storage_key, first=0, length=blob.size)

    def begin_write(self, *, content_type: str | None = None) -> _BodyReader:
        return _BodyReader(self)

    def receive(self) -> None:
        """Stream the request body into a temp file through the one upload path.

        wsgidav would hand us its own 8 KiB reads; the body is read here instead, in the
        ingest's chunks. A body without Content-Length is read to its end only when the
        server says it decoded the chunked framing (gunicorn sets ``wsgi.input_terminated``);
        otherwise it is refused with 411, as everywhere else.

        An ordinary refusal (411, 413, 507...) is held and raised by :meth:`end_write`:
        raised here, wsgidav would log it as a failed byte copy, at ERROR with a traceback."""
        environ = self.environ
        target = self._node if self._node is not None else self._parent
        assert target is not None
        length = declared_length(environ)
        try:
            with dav_errors(self.environ):
                access.require(user_of(environ), target, "edit")
                if length is None and not environ.get("wsgi.input_terminated"):
                    raise length_required()
                refuse_early_into(environ, target, user_of(environ))
                self._received = receive_stream(
                    environ["wsgi.input"].read, length=length, name=self.name
                )
        except DAVError as refused:
            if refused.value == HTTP_INTERNAL_ERROR:
                raise
            self._log_refusal(refused)
            self._refused = refused
        environ["wsgidav.all_input_read"] = 1

    def _log_refusal(self, refused: DAVError) -> None:
        if refused.value != HTTP_INTERNAL_ERROR:
            logger.info(
                "WebDAV PUT %s refused (%s): %s", self.path, refused.value, refused.context_info
            )

    def end_write(self, *, with_errors: bool) -> None:
        refused, self._refused = self._refused, None
        if refused is not None:
            raise refused
        received, self._received = self._received, None
        if received is None:
            return
        if with_errors:
            received.discard()
            return
        user = user_of(self.environ)
        parent = self._parent if self._node is None else self._node.parent
        assert parent is not None
        try:
            with dav_errors(self.environ):
                self._node = services.file_upload(
                    owner=parent.owner,
                    parent=parent,
                    name=self._node.name if self._node else self.name,
                    received=received,
                    on_conflict="replace",
                    actor=user,
                )
        except DAVError as refused:
            self._log_refusal(refused)
            raise

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        """COPY of a file: blobs are shared, so no byte is copied."""
        parent, name = self.provider.destination(dest_path, self.environ)
        guard(self.environ, parent, "edit")
        actor = user_of(self.environ)
        with transaction.atomic(), dav_errors(self.environ):
            existing = self.provider.get_resource_inst(dest_path, self.environ)
            if existing is not None:
                services.node_trash(node=existing.node, actor=actor)
            copy = services.node_copy(node=self.node, new_parent=parent, name=name, actor=actor)
        self._copy_properties_to(FileResource(dest_path, copy, self.environ))


class _BodyReader:
    """What wsgidav writes a PUT body into: it hands over its reader, we read the body."""

    def __init__(self, resource: FileResource) -> None:
        self._resource = resource

    def writelines(self, chunks: Iterable[bytes]) -> None:
        self._resource.receive()

    def close(self) -> None:
        pass


class FileFlowProvider(DAVProvider):
    """The signed-in user's home folder at the mount's root."""

    def __repr__(self) -> str:
        return "FileFlowProvider"

    def is_readonly(self) -> bool:
        return False

    def has_locks(self, owner_id: int) -> bool:
        storage = getattr(self.lock_manager, "storage", None)
        return storage is None or bool(storage.locks_of(owner_id))

    def ref_url_to_path(self, ref_url: str) -> str:
        # "/<owner id>/a%20b" -> "/a b"
        rest = ref_url.split("/", 2)[2] if ref_url.count("/") >= 2 else ""
        return "/" + unquote(rest)

    def resource_for(self, node: Node, path: str, environ: dict[str, Any]) -> Any:
        if node.is_folder:
            return FolderResource(path, node, environ)
        return FileResource(path, node, environ)

    def shared_key(self, environ: dict[str, Any]) -> str:
        """The path of the caller's Shared with me collection."""
        return "/" + shared.root_name_in(environ, user_of(environ))

    def is_shared_path(self, path: str, environ: dict[str, Any]) -> bool:
        root = self.shared_key(environ)
        key = normalised(path)
        return key == root or key.startswith(root + "/")

    def get_resource_inst(self, path: str | None, environ: dict[str, Any]) -> Any:
        if path is not None and normalised(path) == self.shared_key(environ):
            return SharedCollection(path, environ)
        node = self.node_at(path, environ)
        if node is None or path is None:
            return None
        return self.resource_for(node, path, environ)

    def node_at(self, path: str | None, environ: dict[str, Any]) -> Node | None:
        if path is None:  # the parent of the root
            return None
        known: dict[str, Node | None] = environ.setdefault(NODES_KEY, {})
        key = normalised(path)
        if key not in known:
            known[key] = self._lookup(key, environ)
        return known[key]

    def _lookup(self, key: str, environ: dict[str, Any]) -> Node | None:
        """Walk from the nearest resolved ancestor: one query per path segment, each segment
        once per request (wsgidav resolves a path and its parent, often more than once)."""
        user = user_of(environ)
        if key == "/":
            return tree.home_of(user)
        parent_key, _, name = key.rpartition("/")
        shared_key = self.shared_key(environ)
        if key == shared_key:  # the virtual collection: no node (get_resource_inst)
            return None
        if parent_key == shared_key:
            return shared.entry_named(environ, user, name)
        # Below an entry, the items are found as in one's own tree: visible_to() reaches
        # exactly what is shared, through the entry or an ancestor.
        parent = self.node_at(parent_key or "/", environ)
        if parent is None or not parent.is_folder:
            return None
        try:
            name = clean_name(name)
        except DomainError:  # a name nothing can be stored under: nothing is there
            return None
        return (
            selectors.nodes_for(user)
            .filter(parent=parent, name=name, trashed_at__isnull=True)
            .select_related("blob")
            .first()
        )

    def destination(self, dest_path: str, environ: dict[str, Any]) -> tuple[Node, str]:
        """The folder and the name a COPY or MOVE is bound for (the name checked as
        everywhere else)."""
        parent_path = util.get_uri_parent(dest_path)
        if parent_path is not None and normalised(parent_path) == self.shared_key(environ):
            raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)
        parent = self.node_at(parent_path, environ)
        if parent is None or not parent.is_folder:
            raise DAVError(HTTP_CONFLICT, context_info="The destination folder does not exist.")
        name = util.get_uri_name(dest_path)
        if not name:
            raise DAVError(HTTP_BAD_REQUEST, context_info="The destination has no name.")
        return parent, name


class SharedCollection(DAVCollection):
    """The virtual, read-only collection of what others share with the caller
    (:mod:`webdav.shared`)."""

    def _entries(self) -> dict[str, Node]:
        return shared.entries_in(self.environ, user_of(self.environ))

    def get_ref_url(self) -> str:
        return f"/{user_of(self.environ).pk}" + quote(self.get_preferred_path())

    def get_display_name(self) -> str:
        return shared.SHARED_NAME

    def get_display_info(self) -> dict[str, str]:
        return {"type": "Folder"}

    def get_creation_date(self) -> None:
        return None

    def get_last_modified(self) -> None:
        return None

    def get_etag(self) -> None:
        return None

    def support_etag(self) -> bool:
        return False

    def get_property_names(self, *, is_allprop: bool) -> list[str]:
        # No dead properties: nothing of the caller's is stored here.
        return ["{DAV:}resourcetype", "{DAV:}displayname"]

    def set_property_value(self, name: str, value: Any, dry_run: bool = False) -> None:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)

    def get_member_names(self) -> list[str]:
        return list(self._entries())

    def get_member(self, name: str) -> Any:
        node = self._entries().get(name)
        if node is None:
            return None
        return self.provider.resource_for(node, join(self.path, name), self.environ)

    def get_member_list(self) -> list[Any]:
        return [
            self.provider.resource_for(node, join(self.path, name), self.environ)
            for name, node in self._entries().items()
        ]

    def create_empty_resource(self, name: str) -> Any:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)

    def create_collection(self, name: str) -> Any:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)

    def delete(self) -> None:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)

    def handle_delete(self) -> bool:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)

    def handle_move(self, dest_path: str) -> bool:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)

    def copy_move_single(self, dest_path: str, *, is_move: bool) -> None:
        raise DAVError(HTTP_FORBIDDEN, context_info=READ_ONLY)
