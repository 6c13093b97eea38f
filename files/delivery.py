"""The one delivery path: every byte of user content that leaves FileFlow goes through here.

Downloads, previews, share-link downloads, thumbnails and (later) WebDAV ``GET`` all end in
:func:`serve_stored`, which

- sets validators (``ETag`` = the content's SHA-256, ``Last-Modified``) and answers
  ``If-None-Match`` / ``If-Modified-Since`` with 304 (Django's own RFC 9110 evaluation);
- serves one ``Range`` with 206 (416 when unsatisfiable). Django has no Range support
  (ticket #22479), so a 206 hands the server a real file, seeked to the start of the range,
  with ``Content-Length`` set to the range's length: gunicorn's ``sendfile`` starts at the
  descriptor's offset and sends ``Content-Length`` bytes;
- never lets user content run on our origin: ``nosniff`` everywhere, a sandboxing CSP,
  inline display only for an allowlist of passive types, HTML/SVG/XML/JS always as
  attachments;
- optionally hands the bytes to nginx (``X-Accel-Redirect``) or to S3 (a presigned redirect).

Folders leave as ZIPs streamed by :mod:`files.zipstream`.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import socket
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
)
from django.utils.cache import get_conditional_response
from django.utils.csp import CSP, build_policy
from django.utils.http import content_disposition_header, http_date, parse_http_date_safe

from fileflow.errors import NotFound
from files.models import Blob, Node
from files.store import ExternalRedirect, InternalRedirect, blob_store

logger = logging.getLogger(__name__)

CspConfig = dict[str, list[str] | bool]

# Shown inline, with their own type: browsers render these without running anything.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "application/pdf",
        "text/plain",
    }
)
INLINE_TYPE_PREFIXES = ("audio/", "video/")
# Types a browser would run or parse as a document (scripts, markup, XSLT): always
# attachments, and labelled application/octet-stream so that nothing downstream that drops
# Content-Disposition (a proxy, an old client) can render them either.
ACTIVE_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/xsl",
        "application/xslt+xml",
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "text/x-javascript",
        "application/wasm",
        "text/x-component",
        "text/cache-manifest",
        "application/x-shockwave-flash",
    }
)
# Source code and data files whose type is not text/*: shown inline as plain text.
CODE_TYPES = frozenset(
    {
        "application/json",
        "application/x-ndjson",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/sql",
        "application/x-sql",
        "application/x-sh",
        "application/x-shellscript",
        "application/x-csh",
        "application/x-python",
        "application/x-perl",
        "application/x-ruby",
        "application/x-php",
        "application/x-httpd-php",
        "application/x-tcl",
        "application/x-tex",
        "application/x-latex",
        "application/x-subrip",
    }
)
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
TEXT_PLAIN = "text/plain; charset=utf-8"
OCTET_STREAM = "application/octet-stream"

# Large enough that the non-sendfile path (TLS in gunicorn, runserver, S3 proxying) does not
# make a system call per 4 KiB, small enough to stay out of the way of memory.
BLOCK_SIZE = 256 * 1024

# From this size a body sent from a real file is "corked" (TCP_CORK, what nginx's
# ``tcp_nopush`` does around its sendfile): the kernel sends only full segments until the
# response is closed, which uncorks and pushes out the last partial one. Without it the
# segments follow the pieces sendfile hands over: a 512 MiB download on loopback through
# gunicorn ran at 0.72 of nginx (curl, medians of 7, alternated); corked, a plain sendfile
# server matched nginx (2,206 against 2,257 MiB/s). Small bodies gain nothing.
CORK_FROM = 1024 * 1024


class BlobMissing(NotFound):
    code = "blob_missing"

    def __init__(
        self,
        message: str = (
            "The content of this file is missing from storage; the operator has been told."
        ),
        *,
        field: str | None = None,
    ) -> None:
        super().__init__(message, field=field)


# --- how a type is presented -----------------------------------------------------------


def clean_mime_type(mime_type: str) -> str:
    """The bare, lower-case ``type/subtype`` of ``mime_type``; octet-stream if malformed.

    Stored types come from sniffing, but they end up in a response header: anything that is
    not a plain token pair (parameters, spaces, CR/LF) is not repeated back."""
    bare = mime_type.split(";", 1)[0].strip().lower()
    return bare if _MIME.match(bare) else OCTET_STREAM


def is_active(mime_type: str) -> bool:
    """Would a browser run this, or render it as a document able to run something?"""
    return (
        mime_type in ACTIVE_TYPES
        or mime_type.endswith("+xml")
        or "javascript" in mime_type
        or "ecmascript" in mime_type
    )


def shows_as_text(mime_type: str) -> bool:
    """Text and source code that is safe to show inline once labelled text/plain."""
    if is_active(mime_type):
        return False
    return mime_type.startswith("text/") or mime_type in CODE_TYPES or mime_type.endswith("+json")


@dataclass(frozen=True)
class Presentation:
    """How one piece of user content goes out: its Content-Type and disposition."""

    content_type: str
    inline: bool
    is_pdf: bool = False


def presentation(mime_type: str, *, as_attachment: bool | None) -> Presentation:
    """Decide type and disposition. ``as_attachment=None`` means inline where safe.

    Asking for inline (``False``) is a wish: HTML, SVG, XML, scripts and every type not on
    the allowlist still go out as attachments."""
    bare = clean_mime_type(mime_type)
    if is_active(bare):
        return Presentation(content_type=OCTET_STREAM, inline=False)
    if bare in INLINE_TYPES or bare.startswith(INLINE_TYPE_PREFIXES):
        content_type = TEXT_PLAIN if bare == "text/plain" else bare
        return Presentation(
            content_type=content_type, inline=not as_attachment, is_pdf=bare == "application/pdf"
        )
    if shows_as_text(bare):
        if as_attachment:
            return Presentation(content_type=bare, inline=False)
        return Presentation(content_type=TEXT_PLAIN, inline=True)
    return Presentation(content_type=bare, inline=False)


def content_policy(*, inline: bool, pdf: bool = False) -> CspConfig:
    """The CSP of user content: nothing may run, load or submit; framable only by us."""
    policy: CspConfig = {
        "default-src": [CSP.NONE],
        "img-src": [CSP.SELF],
        "media-src": [CSP.SELF],
        # Browsers style their own image and media documents with inline styles.
        "style-src": [CSP.UNSAFE_INLINE],
        "object-src": [CSP.NONE],
        "base-uri": [CSP.NONE],
        "form-action": [CSP.NONE],
        # Previews frame inline content from our own pages; nobody frames attachments.
        "frame-ancestors": [CSP.SELF] if inline else [CSP.NONE],
        # True renders a bare "sandbox" (every restriction); an empty list would drop it.
        "sandbox": True,
    }
    if pdf and inline:
        # Built-in PDF viewers have been reported to show a blank frame for a PDF under a
        # CSP sandbox (the viewer runs inside the PDF's document), so an inline PDF goes
        # without one. Measured here: Chromium 156 renders it either way, top level and
        # framed. The rest still holds: default-src 'none' leaves no script, object,
        # connect or frame source to anything the PDF could turn into.
        del policy["sandbox"]
    return policy


# --- the response -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Validators:
    etag: str
    last_modified: datetime

    @property
    def timestamp(self) -> int:
        return int(self.last_modified.timestamp())


def _decorate(
    response: HttpResponseBase,
    *,
    shown: Presentation,
    validators: _Validators,
    filename: str,
) -> HttpResponseBase:
    """Headers every user-content response carries, whatever its status."""
    response.headers["ETag"] = validators.etag
    response.headers["Last-Modified"] = http_date(validators.timestamp)
    # Private: the content belongs to whoever is signed in. no-cache: keep it, but ask
    # again each time; the ETag makes that a cheap 304.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Accept-Ranges"] = "bytes"
    if response.status_code in (200, 206) and "Content-Disposition" not in response:
        disposition = content_disposition_header(not shown.inline, filename)
        if disposition:
            response.headers["Content-Disposition"] = disposition
    secure_user_content(response, inline=shown.inline, pdf=shown.is_pdf)
    return response


def secure_user_content(response: HttpResponseBase, *, inline: bool, pdf: bool = False) -> None:
    """Headers that keep user content from acting on our origin."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    # Our own pages frame inline content for previews; attachments are never framed.
    response.headers["X-Frame-Options"] = "SAMEORIGIN" if inline else "DENY"
    policy = content_policy(inline=inline, pdf=pdf)
    # The header is written here: the CSP middleware leaves an existing header alone, and a
    # response built outside the middleware stack still carries it.
    # (django-stubs do not know that True renders a bare directive.)
    response.headers[str(CSP.HEADER_ENFORCE)] = build_policy(cast(Any, policy))


class FileWindow:
    """Exactly ``length`` bytes of an open binary file, from its current offset.

    Given to :class:`FileResponse`, it keeps the response body to the range it announces
    whichever way the server sends it. ``fileno()`` is offered only for a real OS file, so
    that gunicorn's ``sendfile`` (which starts at the descriptor's current offset and sends
    ``Content-Length`` bytes) is used exactly when it can be. There is deliberately no
    ``seek``/``tell``: FileResponse would otherwise measure the rest of the file itself.
    """

    mode = "rb"

    def __init__(self, file: Any, length: int, *, real_file: bool) -> None:
        self._file = file
        self._remaining = length
        self._real_file = real_file

    def read(self, size: int = -1) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data: bytes = self._file.read(size)
        self._remaining -= len(data)
        return data

    def fileno(self) -> int:
        if not self._real_file:
            raise io.UnsupportedOperation("not an OS-level file")
        return int(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class _BlobFileResponse(FileResponse):
    block_size = BLOCK_SIZE
    _corked: socket.socket | None = None

    def cork(self, request: HttpRequest) -> None:
        """Cork the connection this response leaves by (see CORK_FROM) until :meth:`close`.

        Only gunicorn says which socket that is (``gunicorn.socket`` in the WSGI environ);
        under other servers, or on a socket that is not TCP, nothing changes."""
        sock = request.META.get("gunicorn.socket")
        if not isinstance(sock, socket.socket) or not hasattr(socket, "TCP_CORK"):
            return
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
        except OSError:  # a Unix socket
            return
        self._corked = sock

    def close(self) -> None:
        # The server closes the response once it has handed over the last byte (Django makes
        # the file wrapper's close this one), also when sending failed.
        sock, self._corked = self._corked, None
        if sock is not None:
            with contextlib.suppress(OSError):  # the connection is gone already
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
        super().close()


Unsatisfiable = Literal["unsatisfiable"]
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)
# Larger than any file, without parsing a number of unbounded length.
_HUGE = 10**19


def _number(digits: str) -> int:
    return int(digits) if len(digits) <= 19 else _HUGE


def parse_range(header: str, size: int) -> tuple[int, int] | Unsatisfiable | None:
    """The one byte range ``header`` asks for, as inclusive ``(first, last)``.

    ``None`` means "send the whole file": no header, a malformed one, several ranges
    (RFC 9110 §14.2 lets a server ignore Range; multipart/byteranges is not worth its
    complexity for a drive), or an empty file. ``"unsatisfiable"`` means 416.
    """
    if not header or size <= 0 or "," in header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first_digits, last_digits = match.groups()
    if first_digits:
        first = _number(first_digits)
        last = _number(last_digits) if last_digits else _HUGE
        if last < first:
            return None  # an invalid range-spec: ignored, like a malformed header
        if first >= size:
            return "unsatisfiable"
        return first, min(last, size - 1)
    if not last_digits:
        return None  # "bytes=-"
    suffix = _number(last_digits)
    if suffix == 0:
        return "unsatisfiable"
    return max(size - suffix, 0), size - 1


def _if_range_holds(request: HttpRequest, validators: _Validators) -> bool:
    """RFC 9110 §13.1.5: a Range counts only if If-Range (when sent) still matches."""
    value = request.headers.get("If-Range", "").strip()
    if not value:
        return True
    if value.startswith(('"', "W/")):
        return value == validators.etag  # strong comparison: a weak tag never matches
    date = parse_http_date_safe(value)
    return date is not None and date == validators.timestamp


def missing_blob(key: str) -> BlobMissing:
    """The error for content gone from storage, logged for the operator."""
    logger.error("Stored content %s is missing from storage; downloads of it fail.", key)
    return BlobMissing()


def serve_stored(
    request: HttpRequest,
    *,
    key: str,
    size: int,
    etag: str,
    filename: str,
    mime_type: str,
    last_modified: datetime,
    as_attachment: bool | None = None,
) -> HttpResponseBase:
    """Serve ``size`` bytes stored under ``key`` as user content (see the module docstring).

    ``etag`` is the quoted strong validator of exactly these bytes. Raises
    :class:`BlobMissing` when storage no longer has them.
    """
    shown = presentation(mime_type, as_attachment=as_attachment)
    validators = _Validators(etag=etag, last_modified=last_modified)

    def finish(response: HttpResponseBase) -> HttpResponseBase:
        return _decorate(response, shown=shown, validators=validators, filename=filename)

    conditional = get_conditional_response(
        request, etag=validators.etag, last_modified=validators.timestamp
    )
    if conditional is not None:
        return finish(conditional)

    store = blob_store()
    try:
        handoff = store.handoff(
            key,
            content_type=shown.content_type,
            disposition=content_disposition_header(not shown.inline, filename),
        )
    except FileNotFoundError:
        raise missing_blob(key) from None
    if isinstance(handoff, InternalRedirect):
        return finish(_x_accel(handoff, content_type=shown.content_type))
    if isinstance(handoff, ExternalRedirect):
        return _redirect(handoff)

    if request.method == "HEAD":
        # Range is defined for GET only (RFC 9110 §14.2): HEAD describes the whole file.
        try:
            store.check_present([key])
        except FileNotFoundError:
            raise missing_blob(key) from None
        head = HttpResponse(content_type=shown.content_type)
        head.headers["Content-Length"] = str(size)
        return finish(head)

    wanted = parse_range(request.headers.get("Range", ""), size)
    if request.method != "GET" or not _if_range_holds(request, validators):
        wanted = None
    if wanted == "unsatisfiable":
        refused = HttpResponse(status=416, content_type=TEXT_PLAIN)
        refused.headers["Content-Range"] = f"bytes */{size}"
        return finish(refused)
    first, last = wanted if wanted is not None else (0, size - 1)
    length = last - first + 1

    handle = _open(key, first=first, length=length)
    response = _BlobFileResponse(
        FileWindow(handle, length, real_file=store.real_files),
        content_type=shown.content_type,
        as_attachment=not shown.inline,
        filename=filename,
        status=206 if wanted is not None else 200,
    )
    response.headers["Content-Length"] = str(length)
    if store.real_files and length >= CORK_FROM:
        response.cork(request)
    if wanted is not None:
        response.headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return finish(response)


def _open(key: str, *, first: int, length: int) -> Any:
    """The stored bytes from ``first``: on local disk the real file (for sendfile), on S3 a
    ranged stream (see files.store)."""
    try:
        return blob_store().open_range(key, first=first, length=length)
    except FileNotFoundError:
        raise missing_blob(key) from None


def _x_accel(handoff: InternalRedirect, *, content_type: str) -> HttpResponse:
    """Let nginx send the file: an empty answer naming the internal location to serve.

    nginx then handles Range and If-Range itself. It keeps only Content-Type,
    Content-Disposition, Accept-Ranges, Set-Cookie, Cache-Control and Expires from this
    answer, so its internal location must re-add the security headers (the README shows
    how, from ``$upstream_http_*``)."""
    response = HttpResponse(content_type=content_type)
    response.headers["X-Accel-Redirect"] = handoff.path
    return response


def _redirect(handoff: ExternalRedirect) -> HttpResponseBase:
    """Send the client to a short-lived presigned URL: the bytes never pass through us.

    The object store's own origin serves them, with the type and disposition decided here
    (the URL carries them)."""
    response = HttpResponseRedirect(handoff.url)
    # The URL carries a signature that expires: never reuse the redirect itself.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def serve_blob(
    request: HttpRequest,
    *,
    blob: Blob,
    filename: str,
    mime_type: str,
    last_modified: datetime,
    as_attachment: bool | None = None,
) -> HttpResponseBase:
    """Serve one stored content (a file, or one of its versions) under ``filename``."""
    return serve_stored(
        request,
        key=blob.storage_key,
        size=blob.size,
        etag=f'"{blob.sha256}"',
        filename=filename,
        mime_type=mime_type,
        last_modified=last_modified,
        as_attachment=as_attachment,
    )


def serve_node(
    request: HttpRequest, node: Node, *, as_attachment: bool | None = None
) -> HttpResponseBase:
    """Serve a file, or a folder as a ZIP of its live contents (always an attachment).

    Whether the caller may see ``node`` is decided before this is called."""
    if node.is_folder:
        from files.zipstream import zip_response  # zipstream builds on this module

        name = node.name or "Home"
        return zip_response(request, nodes=[node], filename=f"{name}.zip")
    assert node.blob is not None  # a file always has content (files_node_file_has_blob)
    return serve_blob(
        request,
        blob=node.blob,
        filename=node.name,
        mime_type=node.mime_type,
        last_modified=node.updated_at,
        as_attachment=as_attachment,
    )
