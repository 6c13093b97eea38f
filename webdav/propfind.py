"""PROPFIND (Depth 0 and 1) of our folders and files, answered without wsgidav's per-member
resources: one query for the children (only the columns the properties need), one for their
dead properties, one for the owner's locks, and the multistatus XML streamed as text.

The answer is the one wsgidav gives (same properties, values, namespaces and propstat
grouping; tests compare both). Anything not handled here — conditional headers, a body
wsgidav would refuse, ``<D:include>``, a path that is not ours, a lock whose root is gone —
returns ``None`` and goes to wsgidav. ``FILEFLOW_DAV_FAST_PROPFIND = False`` sends every
PROPFIND there.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponseBase, StreamingHttpResponse
from wsgidav import util, xml_tools
from wsgidav.util import etree

from accounts.models import User
from files import selectors
from webdav import selectors as dav_selectors
from webdav.provider import (
    FILE_LIVE_PROPS,
    LOCKDISCOVERY,
    USER_KEY,
    FileFlowProvider,
    FileResource,
    FolderResource,
    normalised,
    quota_holder,
)
from webdav.storage import begin_request, end_request

D = "{DAV:}"
OK = "HTTP/1.1 200 OK"
NOT_FOUND = "HTTP/1.1 404 Not Found"
HREF_SAFE = "/" + "!*'()," + "$-_|."
CONDITIONAL = (
    "HTTP_IF",
    "HTTP_IF_MATCH",
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
)
SUPPORTEDLOCK = (
    "<D:supportedlock>"
    + "".join(
        f"<D:lockentry><D:lockscope><D:{scope}/></D:lockscope>"
        "<D:locktype><D:write/></D:locktype></D:lockentry>"
        for scope in ("exclusive", "shared")
    )
    + "</D:supportedlock>"
)
FOLDER_LIVE_PROPS = (
    f"{D}resourcetype",
    f"{D}creationdate",
    f"{D}quota-used-bytes",
    f"{D}quota-available-bytes",
    f"{D}getlastmodified",
    f"{D}displayname",
    LOCKDISCOVERY,
    f"{D}supportedlock",
)
QUOTA = (f"{D}quota-used-bytes", f"{D}quota-available-bytes")
COLUMNS = ("pk", "name", "is_folder", "size", "mime_type", "updated_at", "created_at")


class _Fallback(Exception):
    """Leave this request to wsgidav."""


def _mode(body: bytes) -> tuple[str, list[str]]:
    """("allprop" | "name" | "named", requested names), as wsgidav reads the body."""
    if not body.strip():
        return "allprop", []
    try:
        root = xml_tools.string_to_xml(body)
    except Exception as exc:
        raise _Fallback from exc
    if root.tag != f"{D}propfind":
        raise _Fallback
    mode: str | None = None
    names: list[str] = []
    for child in root:
        tag = child.tag
        if tag == f"{D}allprop" and mode is None:
            mode = "allprop"
        elif tag == f"{D}name" and mode is None:
            mode = "name"
        elif tag == f"{D}prop" and mode in (None, "named"):
            mode = "named"
            names.extend(el.tag for el in child if isinstance(el.tag, str))
        else:
            raise _Fallback  # <include>, mixed modes, comments: wsgidav decides
    if mode is None:
        raise _Fallback
    return mode, names


def _element(name: str, inner: str | None) -> str:
    """``name`` (Clark notation) as an element with escaped text or empty."""
    if name.startswith(D):
        tag, decl = "D:" + name[len(D) :], ""
    elif name.startswith("{"):
        ns, local = name[1:].split("}", 1)
        tag, decl = f"NS:{local}", f' xmlns:NS="{escape(ns, {chr(34): "&quot;"})}"'
    else:
        tag, decl = name, ""
    if inner is None:
        return f"<{tag}{decl}/>"
    return f"<{tag}{decl}>{inner}</{tag}>"


class _Member:
    """What a row of the children query (or the target itself) knows about its properties."""

    def __init__(
        self,
        *,
        href: str,
        ref_url: str,
        is_folder: bool,
        name: str,
        size: int,
        mime_type: str,
        sha256: str | None,
        created_at: datetime,
        updated_at: datetime,
        dead: dict[str, str],
    ) -> None:
        self.href = href
        self.ref_url = ref_url
        self.is_folder = is_folder
        self.name = name
        self.size = size
        self.mime_type = mime_type
        self.sha256 = sha256
        self.created_at = created_at
        self.updated_at = updated_at
        self.dead = dead


class _Answer:
    def __init__(
        self, *, provider: FileFlowProvider, environ: dict[str, Any], user: User, holder: User
    ) -> None:
        self.provider = provider
        self.environ = environ
        self.user = user
        # Whose quota the listed folder counts against (its owner's under Shared with me).
        self.holder = holder
        self.locked = provider.has_locks(user.pk)

    def names(self, member: _Member, *, is_allprop: bool) -> list[str]:
        if not member.is_folder:
            return [*FILE_LIVE_PROPS, *member.dead]
        names = [
            name
            for name in FOLDER_LIVE_PROPS
            if not (name in QUOTA and (is_allprop or self.quota(name) is None))
        ]
        return [*names, *member.dead]

    def quota(self, name: str) -> int | None:
        if name == f"{D}quota-used-bytes":
            return self.holder.used_bytes
        free: int | None = self.holder.free_bytes
        return free

    def value(self, member: _Member, name: str) -> str | None:
        """The property as XML (the whole element), or None for 404."""
        if name.startswith(D):
            local = name[len(D) :]
            if local == "resourcetype":
                return (
                    "<D:resourcetype><D:collection/></D:resourcetype>"
                    if member.is_folder
                    else "<D:resourcetype></D:resourcetype>"
                )
            if local == "creationdate":
                text = util.get_rfc3339_time(member.created_at.timestamp())
            elif local == "getlastmodified":
                text = util.get_rfc1123_time(member.updated_at.timestamp())
            elif local == "displayname":
                text = escape(member.name or "Home")
            elif local == "lockdiscovery":
                return self.lockdiscovery(member)
            elif local == "supportedlock":
                return SUPPORTEDLOCK
            elif name in QUOTA:
                # wsgidav answers an empty element when there is no figure (a file, no limit)
                quota = self.quota(name) if member.is_folder else None
                if quota is None:
                    return f"<D:{local}/>"
                text = str(quota)
            elif member.is_folder:
                return None
            elif local == "getcontentlength":
                text = str(member.size)
            elif local == "getcontenttype":
                text = escape(member.mime_type or "application/octet-stream")
            elif local == "getetag":
                text = escape(f'"{member.sha256 or ""}"')
            else:
                return None
            return f"<D:{local}>{text}</D:{local}>"
        stored = member.dead.get(name)
        if stored is None:
            return None
        value: bytes = etree.tostring(xml_tools.string_to_xml(stored))
        return value.decode("utf-8")

    def lockdiscovery(self, member: _Member) -> str:
        if not self.locked:
            return "<D:lockdiscovery/>"
        lm = self.provider.lock_manager
        assert lm is not None
        locks = lm.get_url_lock_list(member.ref_url)
        if not locks:
            return "<D:lockdiscovery/>"
        # Rare (a locked member): wsgidav's own element, as it builds it.
        resource = self.provider.get_resource_inst(
            self.provider.ref_url_to_path(member.ref_url), self.environ
        )
        for lock in locks:
            root = self.provider.get_resource_inst(
                self.provider.ref_url_to_path(lock["root"]), self.environ
            )
            if root is None:
                raise _Fallback  # a lock on a URL nothing is at now: wsgidav's answer
        if resource is None:
            raise _Fallback
        element = resource.get_property_value(LOCKDISCOVERY)
        text: bytes = etree.tostring(element)
        return text.decode("utf-8")

    def response(self, member: _Member, mode: str, requested: list[str]) -> str:
        names = requested if mode == "named" else self.names(member, is_allprop=mode == "allprop")
        groups: dict[str, list[str]] = {}
        for name in names:
            if mode == "name":
                groups.setdefault(OK, []).append(_element(name, None))
                continue
            value = self.value(member, name)
            if value is None:
                groups.setdefault(NOT_FOUND, []).append(_element(name, None))
            else:
                groups.setdefault(OK, []).append(value)
        propstats = "".join(
            f"<D:propstat><D:prop>{''.join(props)}</D:prop>"
            f"<D:status>{status}</D:status></D:propstat>"
            for status, props in groups.items()
        )
        return f"<D:response><D:href>{escape(member.href)}</D:href>{propstats}</D:response>"


def _member(node: Any, *, path: str, mount: str, owner_id: int, dead: dict[str, str]) -> _Member:
    """A row (a dict from ``.values()``) or a node, at ``path`` (preferred form)."""

    def get(key: str) -> Any:
        return node[key] if isinstance(node, dict) else getattr(node, key)

    return _Member(
        href=quote(mount + path, safe=HREF_SAFE),
        ref_url=f"/{owner_id}" + quote(path),
        is_folder=get("is_folder"),
        name=get("name"),
        size=get("size"),
        mime_type=get("mime_type"),
        sha256=get("blob__sha256") if isinstance(node, dict) else node.sha256,
        created_at=get("created_at"),
        updated_at=get("updated_at"),
        dead=dead,
    )


def _wsgidav_response(resource: Any, mode: str, requested: list[str]) -> str:
    """One resource's <response> built by wsgidav itself (for the rare virtual member)."""
    props = resource.get_properties(mode, name_list=requested if mode == "named" else None)
    multistatus = xml_tools.make_multistatus_el()
    util.add_property_response(multistatus, resource.get_href(), props)
    text: bytes = etree.tostring(multistatus[0])
    return text.decode("utf-8")


def propfind_response(
    environ: dict[str, Any], *, user: User, path: str, mount: str, depth: str
) -> HttpResponseBase | None:
    """The multistatus answer, or None to let wsgidav answer (``environ['wsgi.input']`` is
    left readable for it)."""
    if not getattr(settings, "FILEFLOW_DAV_FAST_PROPFIND", True):
        return None
    if depth not in ("0", "1") or any(environ.get(h) for h in CONDITIONAL):
        return None
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    from webdav.app import dav_app

    provider = dav_app(mount).provider_map["/"]
    dav_environ = {USER_KEY: user, "wsgidav.provider": provider}
    begin_request(user)
    try:
        mode, requested = _mode(body)
        resource = provider.get_resource_inst(path, dav_environ)
        if type(resource) not in (FolderResource, FileResource):
            return None
        node = resource.node
        answer = _Answer(
            provider=provider,
            environ=dav_environ,
            user=user,
            holder=quota_holder(dav_environ, node),
        )
        own_dead = dav_selectors.dead_properties_of(node.pk) if mode != "named" or requested else {}
        target = _member(
            node,
            path=resource.get_preferred_path(),
            mount=mount,
            owner_id=user.pk,
            dead=own_dead,
        )
        head = answer.response(target, mode, requested)
        members: list[str] = []
        if depth == "1" and node.is_folder:
            rows = list(
                selectors.nodes_for(user)
                .filter(parent=node, trashed_at__isnull=True)
                .order_by("name")
                .values(*COLUMNS, "blob__sha256")
            )
            dead = dav_selectors.dead_properties_of_children(node.pk) if rows else {}
            base = resource.get_preferred_path().rstrip("/")
            for row in rows:
                child_path = f"{base}/{row['name']}" + ("/" if row["is_folder"] else "")
                member = _member(
                    row,
                    path=child_path,
                    mount=mount,
                    owner_id=user.pk,
                    dead=dead.get(row["pk"], {}),
                )
                members.append(answer.response(member, mode, requested))
            if normalised(resource.path) == "/":
                # The root's virtual Shared with me collection, last, as wsgidav lists it.
                virtual = provider.get_resource_inst(provider.shared_key(dav_environ), dav_environ)
                if virtual is not None:
                    members.append(_wsgidav_response(virtual, mode, requested))
    except _Fallback:
        return None
    finally:
        end_request()

    def stream() -> Iterator[bytes]:
        yield (
            '<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus xmlns:D="DAV:">' + head
        ).encode("utf-8")
        for start in range(0, len(members), 500):
            yield "".join(members[start : start + 500]).encode("utf-8")
        yield b"</D:multistatus>"

    response = StreamingHttpResponse(
        stream(), status=207, content_type="application/xml; charset=utf-8"
    )
    response["Date"] = util.get_rfc1123_time()
    return response
