"""``/dav/``: signs the caller in, serves file downloads through the one delivery path and
hands every other WebDAV request to wsgidav (:mod:`webdav.app`) with the caller attached.

CSRF does not apply: only ``Authorization: Basic`` signs a request in here, never the
session cookie, and the methods that change anything are not ones a cross-site page can
send without a CORS preflight, which we never grant.
"""

from __future__ import annotations

import io
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from fileflow.errors import DomainError
from files.delivery import serve_node
from webdav.app import dav_app
from webdav.auth import REALM, NotAuthenticated, dav_authenticate
from webdav.propfind import propfind_response
from webdav.provider import USER_KEY, FileFlowProvider
from webdav.storage import begin_request, end_request

# XML bodies (PROPFIND, PROPPATCH, LOCK) are read into memory by wsgidav: keep them small.
MAX_XML_BODY = 1024 * 1024
FINITE_DEPTH = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>'
)


def text_response(message: str, status: int) -> HttpResponse:
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _mount_path() -> str:
    """Where clients see the mount, with any script prefix: the base of every href."""
    return reverse("webdav:root").rstrip("/")


def _small_body(environ: dict[str, Any]) -> HttpResponse | None:
    """Bound the XML body wsgidav will read; a decoded chunked one is read here."""
    raw = environ.get("CONTENT_LENGTH") or ""
    if raw.strip():
        try:
            length = int(raw)
        except ValueError:
            return text_response("Content-Length is not a number.", 400)
        if length > MAX_XML_BODY:
            return text_response(
                f"The request body is {length} bytes; WebDAV requests other than PUT may "
                f"carry at most {MAX_XML_BODY} bytes.",
                413,
            )
        return None
    if environ.get("wsgi.input_terminated") and "chunked" in (
        environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    ):
        body = environ["wsgi.input"].read(MAX_XML_BODY + 1)
        if len(body) > MAX_XML_BODY:
            return text_response(
                f"WebDAV requests other than PUT may carry at most {MAX_XML_BODY} bytes.", 413
            )
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
    return None


def _call_wsgi(app: Any, environ: dict[str, Any]) -> HttpResponse:
    """Run a WSGI app and turn its (small, buffered) answer into a Django response."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started["status"] = status
        started["headers"] = headers
        return lambda data: None

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    response = HttpResponse(body, status=int(started["status"].split(" ", 1)[0]))
    del response.headers["Content-Type"]
    for name, value in started["headers"]:
        response.headers[name] = value
    return response


@csrf_exempt
def dav(request: HttpRequest, path: str | None = None) -> HttpResponseBase:
    try:
        user = dav_authenticate(request)
    except NotAuthenticated as exc:
        refused = text_response(exc.message, 401)
        refused.headers["WWW-Authenticate"] = f'Basic realm="{REALM}", charset="UTF-8"'
        return refused
    except DomainError as exc:
        return text_response(exc.message, exc.status_code)

    path = path or "/"
    if request.method in ("GET", "HEAD"):
        # Files leave through the one delivery path (Range, ETag, conditionals, sendfile).
        node = FileFlowProvider().node_at(path, {USER_KEY: user})
        if node is not None and not node.is_folder:
            try:
                return serve_node(request, node)
            except DomainError as exc:
                return text_response(exc.message, exc.status_code)

    if request.method == "PROPFIND":
        depth = request.META.get("HTTP_DEPTH", "infinity").strip().lower()
        if depth == "infinity":
            # RFC 4918 §9.1: 403 with the propfind-finite-depth precondition.
            return HttpResponse(
                FINITE_DEPTH, status=403, content_type="application/xml; charset=utf-8"
            )

    # Under WSGI, META is the environ: wsgi.input is the server's body stream, untouched.
    environ = dict(request.META)
    if request.method != "PUT":
        too_big = _small_body(environ)
        if too_big is not None:
            return too_big
    mount = _mount_path()
    if request.method == "PROPFIND":
        answered = propfind_response(
            environ, user=user, path=path, mount=mount, depth=request.META.get("HTTP_DEPTH", "")
        )
        if answered is not None:
            return answered
    environ["SCRIPT_NAME"] = mount
    # Django has already decoded PATH_INFO; wsgidav wants it as WSGI carries it (PEP 3333).
    environ["PATH_INFO"] = path.encode("utf-8").decode("iso-8859-1")
    # The host a Destination must name (COPY/MOVE stay on this server): as Django checked it
    # against ALLOWED_HOSTS, also for a request that sent no Host header.
    environ["HTTP_HOST"] = request.get_host()
    environ[USER_KEY] = user
    environ["wsgidav.auth.user_name"] = user.get_username()
    begin_request(user)
    try:
        return _call_wsgi(dav_app(mount), environ)
    finally:
        end_request()
