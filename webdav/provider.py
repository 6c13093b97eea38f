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
    HTTP_INSUFFICIENT_STORAGE,
    HTTP_INTERNAL_ERROR,
    DAVError,
    DAVErrorCondition,
)
from wsgidav.dav_provider import DAVCollection, DAVNonCollection, DAVProvider
from wsgidav.util import etree

from accounts.models import User
from fileflow.errors import DomainError
from files import selectors, services, tree
from files.errors import QuotaExceeded
from files.ingest import (
    Received,
    declared_length,
    length_required,
    receive_stream,
    refuse_early,
)
from files.models import Node
from files.names import clean_name
from files.store import blob_store
from webdav import services as dav_services
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


def join(path: str, name: str) -> str:
    return path.rstrip("/") + "/" + name


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
            cached = f"/{self.node.owner_id}" + quote(self.get_preferred_path())  # type: ignore[attr-defined]
            self.__dict__["_ref_url"] = cached
            remember_node(self.environ, cached, self.node.pk)
        return cached

    def get_property_value(self, name: str) -> Any:
        # The live properties every listing asks for, straight from the node: wsgidav's
        # generic path costs more than the rest of a 10,000-member PROPFIND.
        if name == "{DAV:}displayname":
            return self.get_display_name()
        if name == "{DAV:}getlastmodified":
            return util.get_rfc1123_time(self.get_last_modified())
        if name == "{DAV:}creationdate":
            return util.get_rfc3339_time(self.get_creation_date())
        if name == LOCKDISCOVERY and not self.provider.has_locks(self.node.owner_id):
            # Nobody holds a lock: skip wsgidav's per-member lock look-ups.
            return etree.Element(LOCKDISCOVERY)
        return super().get_property_value(name)  # type: ignore[misc]

    def get_creation_date(self) -> float:
        return self.node.created_at.timestamp()

    def get_last_modified(self) -> float:
        return self.node.updated_at.timestamp()

    def get_display_name(self) -> str:
        return self.node.name or "Home"

    def _forget(self) -> None:
        """Drop the dead properties and direct locks of this path (and below)."""
        self.remove_all_properties(recursive=True)  # type: ignore[attr-defined]
        self.remove_all_locks(recursive=True)  # type: ignore[attr-defined]

    def delete(self) -> None:
        """DELETE moves to the trash (restorable from the web page for the usual time)."""
        with dav_errors(self.environ):
            services.node_trash(node=self.node)
        self._forget()

    def support_recursive_move(self, dest_path: str) -> bool:
        return True

    def move_recursive(self, dest_path: str) -> list[Any]:
        parent, name = self.provider.destination(dest_path, self.environ)
        src_url = self.get_ref_url()
        with dav_errors(self.environ):
            self.node = dav_services.node_move_to(node=self.node, new_parent=parent, name=name)
        # Dead properties belong to the node: they moved with it.
        # Locks stay with the URL they were taken on (RFC 4918 §7.6): the source's go.
        lm = self.provider.lock_manager
        if lm is not None:
            lm.remove_all_locks_from_url(src_url, recursive=True)
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
        return user_of(self.environ).used_bytes

    def get_available_bytes(self) -> int | None:
        user = user_of(self.environ)
        return user.free_bytes

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

    def get_member_names(self) -> list[str]:
        return [node.name for node in self._children()]

    def get_member(self, name: str) -> _NodeResource | None:
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
        return members

    def create_empty_resource(self, name: str) -> FileResource:
        if self.environ.get("REQUEST_METHOD") == "PUT":
            # The file is stored when its body has arrived (FileResource.end_write).
            return FileResource(join(self.path, name), None, self.environ, parent=self.node)
        # LOCK on an unmapped URL makes an empty file (RFC 4918 §7.3).
        empty = receive_stream(lambda size: b"", length=0, name=name)
        with dav_errors(self.environ):
            node = services.file_upload(
                owner=user_of(self.environ),
                parent=self.node,
                name=name,
                received=empty,
                actor=user_of(self.environ),
            )
        return FileResource(join(self.path, node.name), node, self.environ)

    def create_collection(self, name: str) -> FolderResource:
        with dav_errors(self.environ):
            node = services.folder_create(owner=user_of(self.environ), parent=self.node, name=name)
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
            with dav_errors(self.environ):
                folder = services.folder_create(
                    owner=user_of(self.environ), parent=parent, name=name
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
        user = user_of(environ)
        length = declared_length(environ)
        try:
            with dav_errors(self.environ):
                if length is None and not environ.get("wsgi.input_terminated"):
                    raise length_required()
                refuse_early(environ, user)
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
                    owner=user,
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
        with transaction.atomic(), dav_errors(self.environ):
            existing = self.provider.get_resource_inst(dest_path, self.environ)
            if existing is not None:
                services.node_trash(node=existing.node)
            copy = services.node_copy(node=self.node, new_parent=parent, name=name)
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

    def get_resource_inst(self, path: str | None, environ: dict[str, Any]) -> Any:
        node = self.node_at(path, environ)
        if node is None or path is None:
            return None
        return self.resource_for(node, path, environ)

    def node_at(self, path: str | None, environ: dict[str, Any]) -> Node | None:
        if path is None:  # the parent of the root
            return None
        known: dict[str, Node | None] = environ.setdefault(NODES_KEY, {})
        key = "/" + "/".join(part for part in path.split("/") if part)
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
        parent = self.node_at(util.get_uri_parent(dest_path), environ)
        if parent is None or not parent.is_folder:
            raise DAVError(HTTP_CONFLICT, context_info="The destination folder does not exist.")
        name = util.get_uri_name(dest_path)
        if not name:
            raise DAVError(HTTP_BAD_REQUEST, context_info="The destination has no name.")
        return parent, name
