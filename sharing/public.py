"""The public side of share links: what anyone holding a link's URL sees at ``/s/<token>/``.

What counts as an access (``ShareLink.access_count``, limited by ``max_access_count``): one
*visit*. The first request of a browser session that reaches the link — opening its page,
previewing, downloading or uploading — counts once; what the same browser does next through
the same link (browsing subfolders, previews, video seeking, more downloads) does not count
again. A client without a session cookie (``curl``, a download manager) counts on every
request that returns content. ``HEAD`` and ``304 Not Modified`` answers count too when they
are the first of a visit; nothing is counted for a refused request.

Every answer carries ``noindex``, ``Referrer-Policy: no-referrer`` and ``private`` caching,
and names nothing outside the shared item: not the owner's e-mail, not the folders above.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods

from fileflow.errors import DomainError
from files import delivery
from files import selectors as file_selectors
from files.errors import IncompleteUpload
from files.ingest import (
    Upload,
    discard_all,
    max_upload_size,
    receive_multipart,
    receive_raw,
    refuse_early,
)
from files.models import Node
from files.views.rows import kind_of, preview_of
from files.zipstream import zip_response
from sharing import selectors, services
from sharing.errors import ShareForbidden, ShareNotFound, ShareUnavailable
from sharing.models import ShareAccess, ShareLink

SESSION_KEY = "fileflow_shares"
PAGE_SIZE = 100

_BROWSERS = [
    ("Edge", r"Edg/"),
    ("Opera", r"OPR/"),
    ("Firefox", r"Firefox/"),
    ("Chrome", r"Chrome/|Chromium/|CriOS/"),
    ("Safari", r"Safari/"),
    ("curl", r"^curl/"),
    ("Wget", r"^Wget/"),
    ("Python", r"python-requests|python-urllib|httpx|aiohttp"),
]
_SYSTEMS = [
    ("Android", r"Android"),
    ("iOS", r"iPhone|iPad|iPod"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
]


class PasswordNeeded(DomainError):
    status_code = 403
    code = "password_required"

    def __init__(self, link: ShareLink) -> None:
        super().__init__("This link is protected by a password.")
        self.link = link


def coarse_client(user_agent: str) -> str:
    """“Firefox on Linux”: enough for an owner to tell visits apart, no fingerprint."""
    browser = next((name for name, rx in _BROWSERS if re.search(rx, user_agent)), "")
    system = next((name for name, rx in _SYSTEMS if re.search(rx, user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown client"


def visitor_of(request: HttpRequest) -> services.Visitor:
    return services.Visitor(
        address=get_client_ip_address(request) or "",
        client=coarse_client(request.headers.get("User-Agent", "")),
    )


def public_headers(response: HttpResponseBase) -> HttpResponseBase:
    response.headers["X-Robots-Tag"] = "noindex, nofollow, noarchive"
    if "Referrer-Policy" not in response:
        response.headers["Referrer-Policy"] = "no-referrer"
    if "Cache-Control" not in response:
        response.headers["Cache-Control"] = "private, no-store"
    return response


def public_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Headers for every public answer; refusals become a page (or JSON for scripts)."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            response = view(request, token, *args, **kwargs)
        except DomainError as exc:
            response = _refusal(request, exc)
        return public_headers(response)

    return wrapper


def _wants_json(request: HttpRequest) -> bool:
    return request.method == "PUT" or "application/json" in request.headers.get("Accept", "")


def _refusal(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": exc.message, "code": exc.code}, status=exc.status_code)
    titles = {
        404: "Nothing here",
        410: "This link no longer works",
        403: "Not allowed",
        429: "Please wait",
    }
    context = {"title": titles.get(exc.status_code, "That did not work"), "message": exc.message}
    return render(request, "sharing/public/refused.html", context, status=exc.status_code)


# --- visits: state kept in the visitor's session ------------------------------------------


def _unlock_mark(link: ShareLink) -> str:
    """Ties an unlocked visit to the password it was unlocked with: a new password (or a
    new secret key) locks every earlier visitor out again."""
    return salted_hmac(
        "fileflow.sharing.unlock", f"{link.pk}:{link.password}", algorithm="sha256"
    ).hexdigest()[:32]


def _visit(request: HttpRequest, link: ShareLink) -> dict[str, Any]:
    visits = request.session.get(SESSION_KEY, {})
    visit = visits.get(str(link.pk), {})
    return visit if isinstance(visit, dict) else {}


def _remember(request: HttpRequest, link: ShareLink, **changes: Any) -> None:
    """Store visit state. Only in a session the browser already has, or for a page view:
    a script that keeps no cookies gets no session row per request."""
    if request.session.session_key is None and not changes.pop("page", False):
        return
    changes.pop("page", None)
    visits = dict(request.session.get(SESSION_KEY, {}))
    visit = dict(visits.get(str(link.pk), {}))
    visit.update(changes)
    visits[str(link.pk)] = visit
    request.session[SESSION_KEY] = visits


def _open(request: HttpRequest, token: str, *, reading: bool = True) -> ShareLink:
    """The link behind ``token`` if it still opens and, when it has a password, this visit
    has given it. Raises 404, 410 or :class:`PasswordNeeded`. ``reading``: the request
    wants to see content, which a drop folder never shows (404, as for anything hidden)."""
    link = selectors.link_by_token(token)
    try:
        selectors.check_open(link, counted_before=bool(_visit(request, link).get("counted")))
    except ShareUnavailable:
        services.access_log(
            link=link, action=ShareAccess.Action.REFUSED, visitor=visitor_of(request)
        )
        raise
    if link.has_password and not constant_time_compare(
        str(_visit(request, link).get("unlock", "")), _unlock_mark(link)
    ):
        raise PasswordNeeded(link)
    if reading and link.permission == ShareLink.Permission.UPLOAD:
        raise ShareNotFound("No such item in this share.")
    return link


def admit(
    request: HttpRequest,
    link: ShareLink,
    *,
    action: str,
    node: Node | None = None,
    page: bool = False,
    log: bool = True,
    uploader_name: str = "",
) -> bool:
    """Count this request as an access unless its visit was counted already; log it.
    Returns whether it was counted. Refuses (410) when the limit was reached meanwhile."""
    counted = False
    if _visit(request, link).get("counted"):
        services.share_touch(link=link)
    else:
        if not services.share_count_access(link=link):
            link.refresh_from_db()
            selectors.check_open(link)
            raise ShareUnavailable(selectors.UNAVAILABLE[ShareLink.State.USED_UP])
        counted = True
        _remember(request, link, counted=True, page=page)
    if log or counted:
        services.access_log(
            link=link,
            action=action,
            visitor=visitor_of(request),
            node=node,
            counted=counted,
            uploader_name=uploader_name,
        )
    return counted


# --- pages -------------------------------------------------------------------------------


def _urls(token: str) -> dict[str, str]:
    return {
        "home": reverse("sharing:public", args=[token]),
        "download": reverse("sharing:public-download", args=[token]),
        "zip": reverse("sharing:public-zip", args=[token]),
        "upload": reverse("sharing:public-upload", args=[token]),
        "tus": reverse("sharing:public-tus", args=[token]),
    }


def _item_url(token: str, node: Node, link: ShareLink) -> str:
    if node.pk == link.node_id:
        return reverse("sharing:public", args=[token])
    return reverse("sharing:public-item", args=[token, node.pk])


def _content_url(token: str, node: Node, *, inline: bool = False) -> str:
    url = reverse("sharing:public-content", args=[token, node.pk])
    return url + "?inline=1" if inline else url


def _context(link: ShareLink, token: str, **extra: Any) -> dict[str, Any]:
    return {
        "link": link,
        "token": token,
        "urls": _urls(token),
        "shared_by": link.created_by.get_username(),
        "can_download": link.permission == ShareLink.Permission.DOWNLOAD,
        **extra,
    }


def _password_page(
    request: HttpRequest, token: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = {"urls": _urls(token), "error": error}
    return _posting_page(render(request, "sharing/public/password.html", context, status=status))


def _posting_page(response: HttpResponse) -> HttpResponse:
    """A page that sends data back to us (the password form, drop uploads). Under
    ``no-referrer`` browsers send ``Origin: null`` with its POST and PUT requests, which
    Django's CSRF check rightly refuses; ``same-origin`` sends the real origin to us and
    still nothing — not the token-bearing URL — to any other site."""
    response.headers["Referrer-Policy"] = "same-origin"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
@public_view
def public(request: HttpRequest, token: str) -> HttpResponseBase:
    """The link's page: a file, a folder to browse, or a drop folder's upload form."""
    if request.method == "POST":
        return _unlock(request, token)
    try:
        link = _open(request, token, reading=False)
    except PasswordNeeded:
        return _password_page(request, token)
    root = link.node
    if link.permission == ShareLink.Permission.UPLOAD:
        admit(request, link, action=ShareAccess.Action.VISIT, page=True, log=False)
        return _drop_page(request, link, token)
    admit(request, link, action=ShareAccess.Action.VISIT, node=root, page=True, log=False)
    if root.is_folder:
        return _folder_page(request, link, token, root)
    return _file_page(request, link, token, root)


@csrf_protect
def _unlock(request: HttpRequest, token: str) -> HttpResponseBase:
    link = selectors.link_by_token(token)
    selectors.check_open(link, counted_before=bool(_visit(request, link).get("counted")))
    if not link.has_password:
        return HttpResponseRedirect(reverse("sharing:public", args=[token]))
    try:
        services.share_check_password(
            link=link, password=request.POST.get("password", ""), visitor=visitor_of(request)
        )
    except DomainError as exc:
        return _password_page(request, token, error=exc.message, status=exc.status_code)
    _remember(request, link, unlock=_unlock_mark(link), page=True)
    request.session.cycle_key()
    return HttpResponseRedirect(reverse("sharing:public", args=[token]), status=303)


@require_GET
@public_view
def public_item(request: HttpRequest, token: str, pk: int) -> HttpResponseBase:
    """A subfolder or a file inside a shared folder."""
    link = _open(request, token)
    node = selectors.shared_node(link, pk)
    if node.pk == link.node_id:
        return HttpResponseRedirect(reverse("sharing:public", args=[token]))
    admit(request, link, action=ShareAccess.Action.VISIT, node=node, page=True, log=False)
    if node.is_folder:
        return _folder_page(request, link, token, node)
    return _file_page(request, link, token, node)


def _file_page(request: HttpRequest, link: ShareLink, token: str, node: Node) -> HttpResponse:
    mode = preview_of(node)
    shown = delivery.presentation(node.mime_type, as_attachment=None)
    # Only what our origin serves inline is previewed (HTML, SVG, scripts never are).
    previewable = bool(mode) and shown.inline
    folder = node.parent if node.pk != link.node_id else None
    context = _context(
        link,
        token,
        node=node,
        kind=kind_of(node)[1],
        preview=mode if previewable else "",
        preview_url=_content_url(token, node, inline=True),
        download_url=_content_url(token, node),
        crumbs=_crumbs(link, token, folder) if folder is not None else [],
    )
    return render(request, "sharing/public/file.html", context)


def _crumbs(link: ShareLink, token: str, folder: Node) -> list[dict[str, str]]:
    return [
        {"name": n.name, "url": _item_url(token, n, link)}
        for n in selectors.crumbs_within(link, folder)
    ]


def _folder_page(request: HttpRequest, link: ShareLink, token: str, folder: Node) -> HttpResponse:
    cursor = request.GET.get("cursor") or None
    page = file_selectors.children_page(folder=folder, cursor=cursor, limit=PAGE_SIZE)
    rows = [
        {
            "node": child,
            "icon": kind_of(child)[0],
            "url": _item_url(token, child, link),
            "download_url": _content_url(token, child) if not child.is_folder else "",
        }
        for child in page.items
    ]
    next_url = (
        request.path + "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else ""
    )
    context = _context(
        link,
        token,
        folder=folder,
        rows=rows,
        next_url=next_url,
        crumbs=_crumbs(link, token, folder)[:-1],
        zip_url=reverse("sharing:public-zip", args=[token])
        + ("" if folder.pk == link.node_id else f"?ids={folder.pk}"),
    )
    return render(request, "sharing/public/folder.html", context)


def _drop_page(
    request: HttpRequest, link: ShareLink, token: str, *, error: str = "", status: int = 200
) -> HttpResponse:
    context = _context(
        link,
        token,
        folder_name=link.node.name,
        error=error,
        uploaded=_visit(request, link).get("uploaded", []),
        max_upload_size=max_upload_size(),
        tus_threshold=settings.FILEFLOW_TUS_THRESHOLD,
    )
    return _posting_page(render(request, "sharing/public/drop.html", context, status=status))


# --- content -----------------------------------------------------------------------------


def _first_of_range(request: HttpRequest) -> bool:
    """Is this the start of a download (not a player's or a resumed download's next
    range)? Only those are written to the access log."""
    header = request.headers.get("Range", "")
    return not header or bool(re.match(r"^\s*bytes\s*=\s*0\s*-", header))


@require_http_methods(["GET", "HEAD"])
@public_view
def public_content(request: HttpRequest, token: str, pk: int) -> HttpResponseBase:
    """One item of the share: a file downloaded, or shown inline (``?inline=1``) where
    safe; a folder as a ZIP."""
    link = _open(request, token)
    return _deliver(request, link, selectors.shared_node(link, pk))


@require_http_methods(["GET", "HEAD"])
@public_view
def public_download(request: HttpRequest, token: str) -> HttpResponseBase:
    """The shared item itself: the file, or the whole folder as a ZIP."""
    link = _open(request, token)
    return _deliver(request, link, link.node)


@require_http_methods(["GET", "HEAD"])
@public_view
def public_zip(request: HttpRequest, token: str) -> HttpResponseBase:
    """A ZIP of the shared folder, or of a selection in it (``?ids=1,2,3`` or repeated)."""
    link = _open(request, token)
    raw = [value for value in request.GET.getlist("ids") if value.strip()]
    nodes = [link.node] if not raw else selectors.shared_nodes(link, file_selectors.parse_ids(raw))
    name = nodes[0].name if len(nodes) == 1 else link.node.name
    return _zip(request, link, nodes, f"{name}.zip")


def _deliver(request: HttpRequest, link: ShareLink, node: Node) -> HttpResponseBase:
    if node.is_folder:
        return _zip(request, link, [node], f"{node.name}.zip")
    inline = request.GET.get("inline") == "1"
    shown = delivery.presentation(node.mime_type, as_attachment=None)
    if link.permission == ShareLink.Permission.VIEW and not (inline and shown.inline):
        raise _view_only()
    action = ShareAccess.Action.PREVIEW if inline else ShareAccess.Action.DOWNLOAD
    admit(request, link, action=action, node=node, log=_first_of_range(request))
    return delivery.serve_node(request, node, as_attachment=None if inline else True)


def _view_only() -> ShareForbidden:
    return ShareForbidden("This link lets you view files, not download them.")


def _zip(
    request: HttpRequest, link: ShareLink, nodes: list[Node], filename: str
) -> HttpResponseBase:
    if link.permission != ShareLink.Permission.DOWNLOAD:
        raise _view_only()
    admit(request, link, action=ShareAccess.Action.ZIP, node=nodes[0] if len(nodes) == 1 else None)
    return zip_response(request, nodes=nodes, filename=filename)


# --- drop folders ------------------------------------------------------------------------


def drop_link(request: HttpRequest, token: str) -> ShareLink:
    link = _open(request, token, reading=False)
    if link.permission != ShareLink.Permission.UPLOAD:
        raise ShareForbidden("This link does not take uploads.")
    return link


def remember_upload(request: HttpRequest, link: ShareLink, name: str) -> None:
    uploaded = list(_visit(request, link).get("uploaded", []))[-49:]
    _remember(request, link, uploaded=[*uploaded, name])


@contextmanager
def _visit_counted_with_upload(request: HttpRequest, link: ShareLink) -> Iterator[bool]:
    """Count the visit together with the files it stores, in one transaction: an upload
    refused on its way in or by the service (no room, a bad name) uses up no visit."""
    before = request.session.get(SESSION_KEY)
    try:
        with transaction.atomic():
            yield admit(request, link, action=ShareAccess.Action.UPLOAD, log=False)
    except DomainError:
        if before is None:
            request.session.pop(SESSION_KEY, None)
        else:
            request.session[SESSION_KEY] = before
        raise


@csrf_exempt
@require_http_methods(["POST", "PUT"])
@public_view
def public_upload(request: HttpRequest, token: str) -> HttpResponseBase:
    """Take files into a drop folder: ``PUT ?name=…&uploader=…`` with the raw body (the
    page's script, one request per file), or a plain multipart form (no script).

    The answer never names what the folder already holds: a taken name is stored as
    “name (1)” silently, and only the name that was sent is echoed back."""
    link = drop_link(request, token)
    refuse_early(request.META, link.node.owner, visitor=True)
    if request.method == "PUT":
        name = request.GET.get("name", "")
        uploads = [Upload(name=name, received=receive_raw(request, name=name))]
    else:
        try:
            _, uploads = receive_multipart(request)
        except DomainError as exc:
            return _drop_page(request, link, token, error=exc.message, status=exc.status_code)
    try:
        return _drop(request, link, token, uploads)
    finally:
        discard_all(uploads)  # whatever was not stored (refused, or the CSRF check failed)


# CSRF is checked here, not before the view: for a POST the check reads the body, which
# the receiving adapter must parse first (each file streamed to disk as it arrives).
@csrf_protect
def _drop(
    request: HttpRequest, link: ShareLink, token: str, uploads: list[Upload]
) -> HttpResponseBase:
    raw = request.method == "PUT"
    uploader = (request.GET if raw else request.POST).get("uploader", "")
    try:
        if not uploads:
            raise IncompleteUpload("Choose one or more files first.", field="file")
        with _visit_counted_with_upload(request, link) as counted:
            services.share_receive_uploads(
                link=link,
                uploads=uploads,
                uploader_name=uploader,
                visitor=visitor_of(request),
                counted=counted,
            )
    except ShareUnavailable:
        raise
    except DomainError as exc:
        if raw:
            raise
        return _drop_page(request, link, token, error=exc.message, status=exc.status_code)
    for upload in uploads:
        remember_upload(request, link, upload.name)
    if raw:
        upload = uploads[0]
        return JsonResponse({"received": upload.name, "size": upload.received.size}, status=201)
    count = "1 file" if len(uploads) == 1 else f"{len(uploads)} files"
    messages.success(request, f"Thank you: {count} received.")
    return HttpResponseRedirect(reverse("sharing:public", args=[token]), status=303)
