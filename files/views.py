"""The web pages of the file browser.

Server-rendered, and complete without JavaScript for the basics: browse (first page only,
then a cursor link), sort, new folder, upload (a plain multipart POST), rename, move, copy,
trash, restore, download, tags, favourites, versions. The scripts in ``static/js`` add
drag-and-drop, progress, multi-select, keyboard and previews on top, through the REST API.

Views validate and call the services; a service's refusal is shown next to the form that
caused it, or on an error page with its status code. Another user's ids are a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, QuerySet
from django.forms import Form, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from fileflow.api import user_of
from fileflow.errors import DomainError
from files import delivery, selectors, services, thumbnails, tree
from files.errors import NameConflict, NodeNotFound, NotAFolder, QuotaExceeded
from files.forms import (
    FolderCreateForm,
    ListingForm,
    RenameForm,
    TagsForm,
    TargetFolderForm,
    UploadForm,
    selected_ids,
)
from files.ingest import HashingUploadHandler, ReceivedFile, refuse_early
from files.models import FileVersion, Node, NodeQuerySet, Tag
from files.selectors import InvalidListing

PAGE_SIZE = 100
VIEW_COOKIE = "fileflow-view"

# What kind of file a MIME type is (icon and "Type" column), first match wins. A pattern
# ending in "/" or "." is a prefix, one starting with "+" a suffix, anything else exact.
# The same rules go to the page's scripts as JSON, so rows they build look the same.
KIND_RULES: list[tuple[str, str, tuple[str, ...]]] = [
    ("pdf", "PDF", ("application/pdf",)),
    ("spreadsheet", "Spreadsheet", (
        "text/csv", "application/vnd.ms-excel", "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.",
    )),
    ("code", "Code", (
        "image/svg+xml", "text/html", "text/css", "text/javascript", "text/x-python",
        "text/x-c", "text/x-java", "text/x-shellscript", "text/xml", "application/javascript",
        "application/json", "application/xml", "application/x-sh", "application/x-python",
        "application/yaml", "application/x-yaml", "application/toml", "application/sql",
        "+json", "+xml",
    )),
    ("image", "Image", ("image/",)),
    ("video", "Video", ("video/",)),
    ("audio", "Audio", ("audio/",)),
    ("text", "Text", ("text/",)),
    ("archive", "Archive", (
        "application/zip", "application/gzip", "application/x-tar", "application/x-7z-compressed",
        "application/vnd.rar", "application/x-rar-compressed", "application/x-bzip2",
        "application/x-xz", "application/zstd",
    )),
    ("document", "Document", (
        "application/msword", "application/rtf", "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.",
    )),
    ("presentation", "Presentation", (
        "application/vnd.ms-powerpoint", "application/vnd.oasis.opendocument.presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.",
    )),
]  # fmt: skip


def _preview_rules() -> list[tuple[str, tuple[str, ...]]]:
    """How the viewer shows a type; these follow what :mod:`files.delivery` serves inline.

    Text of any kind (HTML and SVG too) is fetched and shown as text, never rendered."""
    images = tuple(sorted(t for t in delivery.INLINE_TYPES if t.startswith("image/")))
    return [
        ("image", images),
        ("pdf", ("application/pdf",)),
        ("video", ("video/",)),
        ("audio", ("audio/",)),
        ("text", ("text/", *sorted(delivery.CODE_TYPES), *sorted(delivery.ACTIVE_TYPES), "+json",
                  "+xml")),
    ]  # fmt: skip


def _matches(mime_type: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        if pattern.endswith(("/", ".")) and mime_type.startswith(pattern):
            return True
        if pattern.startswith("+") and mime_type.endswith(pattern):
            return True
        if mime_type == pattern:
            return True
    return False


def kind_of(node: Node) -> tuple[str, str]:
    """(kind, label) of a node: ``("folder", "Folder")``, ``("image", "Image")``, …"""
    if node.is_folder:
        return "folder", "Folder"
    mime_type = delivery.clean_mime_type(node.mime_type)
    for kind, label, patterns in KIND_RULES:
        if _matches(mime_type, patterns):
            return kind, label
    return "file", "File"


def preview_of(node: Node, rules: list[tuple[str, tuple[str, ...]]] | None = None) -> str:
    mime_type = delivery.clean_mime_type(node.mime_type)
    for mode, patterns in rules or _preview_rules():
        if not node.is_folder and _matches(mime_type, patterns):
            return mode
    return ""


def _thumbnail_types() -> list[str]:
    return sorted({*thumbnails.IMAGE_FORMATS, *thumbnails.PDF_TYPES})


# --- plumbing ------------------------------------------------------------------------


def web_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Turn a service's refusal into an error page with its status code and message."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc.message, status=exc.status_code)

    return wrapper


def _error_page(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
    title = "Not found" if status == 404 else "That did not work"
    context = {"message": message, "title": title, "page_config": page_config(request)}
    return render(request, "files/error.html", context, status=status)


def _folder(request: HttpRequest, pk: Any) -> Node:
    return selectors.folder_get(user_of(request), pk)


def _node(request: HttpRequest, pk: Any) -> Node:
    """The caller's live item, not the home folder (which cannot be renamed, moved, …)."""
    node = selectors.node_get(user_of(request), pk)
    if node.trashed_at is not None:
        raise NodeNotFound(f"“{node.name}” is in the trash; restore it first.")
    if node.is_home:
        raise NodeNotFound("Your home folder cannot be changed this way.")
    return node


def folder_url(folder: Node) -> str:
    return reverse("home") if folder.is_home else reverse("files:folder", args=[folder.pk])


def _back(request: HttpRequest, default: str) -> str:
    """Where to go after an action: a same-site ``next`` if given, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _form_error(form: Form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "Check the form and try again."


def _add_service_error(form: Form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


# --- rows ----------------------------------------------------------------------------


@dataclass
class Row:
    """One item as a listing shows it."""

    node: Node
    kind: str
    kind_label: str
    preview: str
    url: str
    thumbnail: bool
    tags: list[str]
    location: str = ""
    purge_at: datetime | None = None
    # Formatted once here: a listing renders up to a hundred rows per page.
    size_text: str = ""
    modified_iso: str = ""
    modified_text: str = ""
    download_url: str = ""
    thumbnail_url: str = ""


def rows_for(nodes: list[Node], *, with_location: bool = False) -> list[Row]:
    locations = tree.paths_of(nodes) if with_location else {}
    thumbnail_types = set(_thumbnail_types())
    previews = _preview_rules()
    # One reverse() per kind of link, not per row.
    folder_url, node_url, download_url, thumbnail_url = (
        reverse(name, args=[0])
        for name in ("files:folder", "files:node", "files:download", "api:node-thumbnail")
    )
    # What follows from the type is worked out once per type: a page rarely holds many.
    by_type: dict[tuple[bool, str], tuple[str, str, str, bool]] = {}
    rows = []
    for node in nodes:
        key = (node.is_folder, node.mime_type)
        if key not in by_type:
            by_type[key] = (
                *kind_of(node),
                preview_of(node, previews),
                node.mime_type in thumbnail_types,
            )
        kind, label, preview, thumbnail = by_type[key]
        pk = f"/{node.pk}/"
        location = ""
        if with_location:
            location = locations.get(node.pk, "/").rsplit("/", 1)[0] or "/"
        modified = timezone.localtime(node.updated_at) if node.updated_at else None
        rows.append(
            Row(
                node=node,
                kind=kind,
                kind_label=label,
                preview=preview,
                url=(folder_url if node.is_folder else node_url).replace("/0/", pk),
                thumbnail=thumbnail,
                tags=sorted(tag.name for tag in node.tags.all()),
                location=location,
                size_text="—" if node.is_folder else filesizeformat(node.size),
                modified_iso=modified.isoformat(timespec="seconds") if modified else "",
                modified_text=f"{modified:%-d %b %Y, %H:%M}" if modified else "",
                download_url=download_url.replace("/0/", pk),
                thumbnail_url=thumbnail_url.replace("/0/", pk) + "?size=256",
            )
        )
    return rows


def blank_row() -> Row:
    """The row the scripts clone for items they load (a ``<template>``)."""
    return Row(
        node=Node(id=0, name=""),
        kind="file",
        kind_label="",
        preview="",
        url="",
        thumbnail=False,
        tags=[],
    )


def view_mode(request: HttpRequest, asked: str | None) -> str:
    if asked in {"list", "grid"}:
        return asked
    remembered = request.COOKIES.get(VIEW_COOKIE)
    return remembered if remembered in {"list", "grid"} else "list"


def remember_view(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    asked = request.GET.get("view")
    if asked in {"list", "grid"}:
        response.set_cookie(VIEW_COOKIE, asked, max_age=365 * 86400, samesite="Lax")
    return response


def _sort_links(base: dict[str, str], sort: str, order: str) -> list[dict[str, str]]:
    columns = [("name", "Name"), ("size", "Size"), ("modified", "Modified"), ("type", "Type")]
    links = []
    for key, label in columns:
        active = key == sort
        flipped = "desc" if active and order == "asc" else "asc"
        query = urlencode({**base, "sort": key, "order": flipped})
        links.append(
            {
                "key": key,
                "label": label,
                "href": f"?{query}",
                "aria_sort": ("ascending" if order == "asc" else "descending") if active else "",
            }
        )
    return links


def page_config(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """Facts the page's scripts need, handed over with ``json_script``."""
    return {
        "kinds": [[kind, label, list(patterns)] for kind, label, patterns in KIND_RULES],
        "previews": [[mode, list(patterns)] for mode, patterns in _preview_rules()],
        "thumbnailTypes": _thumbnail_types(),
        "trashDays": settings.FILEFLOW_TRASH_DAYS,
        "urls": {
            "nodes": reverse("api:node-list"),
            "uploadToPath": reverse("api:file-content"),
            "zip": reverse("api:node-zip"),
            "folder": reverse("files:folder", args=[0]),
            "node": reverse("files:node", args=[0]),
            "download": reverse("files:download", args=[0]),
            "home": reverse("home"),
            "me": reverse("api:me"),
        },
        **extra,
    }


def known_tags(user: User) -> QuerySet[Tag]:
    return Tag.objects.filter(owner=user).order_by("name")[:500]


# --- the browser ---------------------------------------------------------------------


@login_required
@require_GET
@web_errors
def home(request: HttpRequest) -> HttpResponse:
    return _browse(request, tree.home_of(user_of(request)))


@login_required
@require_GET
@web_errors
def folder(request: HttpRequest, pk: int) -> HttpResponse:
    found = _folder(request, pk)
    if found.is_home:
        return redirect("home")
    return _browse(request, found)


def _browse(request: HttpRequest, folder: Node) -> HttpResponse:
    query = ListingForm(request.GET)
    if not query.is_valid():
        raise InvalidListing(f"This listing cannot be shown: {query.first_error()}")
    response = _folder_page(request, folder, query.cleaned_data)
    return remember_view(request, response)


def _tagged_children(
    folder: Node, tag: Tag, *, sort: str, descending: bool, offset: int
) -> tuple[list[Node], bool]:
    """A folder's live children with ``tag``: usually few, so offset paging is fine."""
    direction = "-" if descending else ""
    rows = list(
        Node.objects.alive()
        .filter(parent=folder, tags=tag)
        .annotate(sort_value=selectors.SORT_KEYS[sort])
        .select_related("blob")
        .prefetch_related("tags")
        .order_by("-is_folder", f"{direction}sort_value", f"{direction}pk")[
            offset : offset + PAGE_SIZE + 1
        ]
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _folder_page(
    request: HttpRequest,
    folder: Node,
    params: dict[str, Any],
    *,
    status: int = 200,
    new_folder_form: FolderCreateForm | None = None,
    upload_form: UploadForm | None = None,
    upload_error: str = "",
) -> HttpResponse:
    user = user_of(request)
    sort, order = params["sort"], params["order"]
    descending = order == "desc"
    tag_name: str = params.get("tag") or ""
    view = view_mode(request, params.get("view"))
    base = {"view": view, **({"tag": tag_name} if tag_name else {})}
    base_sorted = {**base, "sort": sort, "order": order}
    tag: Tag | None = None
    next_url = ""
    next_cursor: str | None = None
    if tag_name:
        tag = Tag.objects.filter(owner=user, name__iexact=tag_name).first()
        offset = int(params["cursor"]) if (params.get("cursor") or "").isdigit() else 0
        items, more = (
            _tagged_children(folder, tag, sort=sort, descending=descending, offset=offset)
            if tag
            else ([], False)
        )
        if more:
            next_url = "?" + urlencode({**base_sorted, "cursor": offset + PAGE_SIZE})
    else:
        page = selectors.children_page(
            folder=folder,
            sort=sort,
            descending=descending,
            cursor=params.get("cursor") or None,
            limit=PAGE_SIZE,
        )
        items, next_cursor = page.items, page.next_cursor
        if next_cursor:
            next_url = "?" + urlencode({**base_sorted, "cursor": next_cursor})
    crumbs = list(tree.ancestors(folder, include_self=True))
    path = tree.path_of(folder)
    context = {
        "folder": folder,
        "crumbs": crumbs,
        "folder_path": path,
        "rows": rows_for(items),
        "view": view,
        "sort": sort,
        "order": order,
        "sort_links": _sort_links(base, sort, order),
        "tag_name": tag_name,
        "tag": tag,
        "known_tags": known_tags(user),
        "next_url": next_url,
        "is_later_page": bool(params.get("cursor")),
        "first_page_url": "?" + urlencode(base_sorted),
        "clear_tag_url": "?" + urlencode({"view": view, "sort": sort, "order": order}),
        "blank_row": blank_row(),
        "view_links": {
            mode: "?" + urlencode({**base_sorted, "view": mode}) for mode in ("list", "grid")
        },
        "new_folder_form": new_folder_form or FolderCreateForm(),
        "upload_form": upload_form or UploadForm(),
        "upload_error": upload_error,
        "section": "files",
        "page_config": page_config(
            request,
            folder={"id": folder.pk, "path": path, "name": folder.name or "Your files"},
            listing={
                "sort": sort,
                "order": order,
                "tag": tag_name,
                "cursor": next_cursor,
                "filtered": bool(tag_name),
            },
        ),
    }
    return render(request, "files/browser.html", context, status=status)


@login_required
@require_POST
@web_errors
def folder_create(request: HttpRequest, pk: int) -> HttpResponse:
    parent = _folder(request, pk)
    form = FolderCreateForm(request.POST)
    if form.is_valid():
        try:
            created = services.folder_create(
                owner=user_of(request), parent=parent, name=form.cleaned_data["name"]
            )
        except DomainError as exc:
            _add_service_error(form, exc)
            return _folder_page(
                request, parent, _defaults(), status=exc.status_code, new_folder_form=form
            )
        messages.success(request, f"Folder “{created.name}” created.")
        return redirect(folder_url(parent))
    return _folder_page(request, parent, _defaults(), status=400, new_folder_form=form)


def _defaults() -> dict[str, Any]:
    return {"sort": "name", "order": "asc", "view": None, "tag": "", "cursor": ""}


# --- uploads without script ------------------------------------------------------------


@login_required
@csrf_exempt
@require_POST
def upload(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A plain multipart upload of one or more files into a folder.

    The hashing upload handler must be in place before anything reads the body, and the
    CSRF check reads it; so this view is exempt and the real one checks CSRF itself (the
    pattern Django's "Modifying upload handlers on the fly" documents)."""
    try:
        parent = _folder(request, pk)
        refuse_early(request.META, user_of(request))
    except DomainError as exc:
        return _error_page(request, exc.message, status=exc.status_code)
    request.upload_handlers = [HashingUploadHandler(request)]
    try:
        return _upload(request, parent)
    except DomainError as exc:
        # Raised while the body was read (too large, quota): nothing was stored.
        _discard(request)
        return _folder_page(
            request, parent, _defaults(), status=exc.status_code, upload_error=exc.message
        )


def _discard(request: HttpRequest) -> None:
    files = getattr(request, "_files", None)
    for upload in files.values() if files is not None else ():
        if isinstance(upload, ReceivedFile):
            upload.received.discard()


@csrf_protect
def _upload(request: HttpRequest, parent: Node) -> HttpResponse:
    form = UploadForm(request.POST)
    uploads = [f for f in request.FILES.getlist("file") if isinstance(f, ReceivedFile)]
    if not form.is_valid() or not uploads:
        _discard(request)
        message = _form_error(form) if not form.is_valid() else "Choose one or more files first."
        return _folder_page(
            request, parent, _defaults(), status=400, upload_form=form, upload_error=message
        )
    choice = form.cleaned_data["on_conflict"]
    stored: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    status = 400
    for index, received_file in enumerate(uploads):
        name = received_file.name or "upload"
        try:
            services.file_upload(
                owner=user_of(request),
                parent=parent,
                name=name,
                received=received_file.received,
                on_conflict="fail" if choice == "skip" else choice,
                actor=user_of(request),
            )
            stored.append(name)
        except NameConflict:
            skipped.append(name)
        except DomainError as exc:
            failed.append(f"“{name}”: {exc.message}")
            status = exc.status_code
            if isinstance(exc, QuotaExceeded):
                for later in uploads[index + 1 :]:
                    later.received.discard()
                    failed.append(f"“{later.name}” was not uploaded (no space left).")
                break
    if stored:
        count = "1 file" if len(stored) == 1 else f"{len(stored)} files"
        messages.success(request, f"Uploaded {count} to {_label(parent)}.")
    if skipped:
        names = ", ".join(f"“{name}”" for name in skipped)
        messages.info(request, f"Skipped because a file with the same name exists: {names}.")
    if failed and not stored:
        return _folder_page(
            request, parent, _defaults(), status=status, upload_error=" ".join(failed)
        )
    for failure in failed:
        messages.error(request, failure)
    return redirect(folder_url(parent))


# --- one item --------------------------------------------------------------------------


@login_required
@require_GET
@web_errors
def node_detail(request: HttpRequest, pk: int) -> HttpResponse:
    node = selectors.node_get(user_of(request), pk)
    if node.is_home:
        return redirect("home")
    return _detail_page(request, node)


def _detail_page(
    request: HttpRequest,
    node: Node,
    *,
    status: int = 200,
    rename_form: RenameForm | None = None,
    tags_form: TagsForm | None = None,
) -> HttpResponse:
    row = rows_for([node])[0]
    parent = node.parent
    assert parent is not None
    versions = list(selectors.versions_of(node)) if not node.is_folder else []
    context = {
        "node": node,
        "row": row,
        "parent": parent,
        "parent_url": folder_url(parent),
        "path": node.trashed_from.rstrip("/") + "/" + node.name
        if node.is_trash_root
        else tree.path_of(node),
        "crumbs": list(tree.ancestors(parent, include_self=True)),
        "versions": versions,
        "rename_form": rename_form or RenameForm(initial={"name": node.name}),
        "tags_form": tags_form or TagsForm(initial={"tags": ", ".join(row.tags)}),
        "known_tags": known_tags(user_of(request)),
        "section": "files",
        "page_config": page_config(request),
    }
    return render(request, "files/node.html", context, status=status)


@login_required
@require_GET
@web_errors
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A file as an attachment, or a folder as a ZIP."""
    node = selectors.node_get(user_of(request), pk)
    if node.trashed_at is not None:
        raise NodeNotFound(f"“{node.name}” is in the trash; restore it to download it.")
    return delivery.serve_node(request, node, as_attachment=True)


@login_required
@require_POST
@web_errors
def rename(request: HttpRequest, pk: int) -> HttpResponse:
    node = _node(request, pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            old = node.name
            node = services.node_rename(node=node, name=form.cleaned_data["name"])
        except DomainError as exc:
            _add_service_error(form, exc)
            return _detail_page(request, node, status=exc.status_code, rename_form=form)
        messages.success(request, f"Renamed “{old}” to “{node.name}”.")
        return redirect(_back(request, reverse("files:node", args=[node.pk])))
    return _detail_page(request, node, status=400, rename_form=form)


@login_required
@require_POST
@web_errors
def set_tags(request: HttpRequest, pk: int) -> HttpResponse:
    node = _node(request, pk)
    form = TagsForm(request.POST)
    if form.is_valid():
        try:
            services.node_set_tags(node=node, names=form.cleaned_data["tags"])
        except DomainError as exc:
            form.add_error("tags", exc.message)
            return _detail_page(request, node, status=exc.status_code, tags_form=form)
        messages.success(request, f"Tags of “{node.name}” saved.")
        return redirect(_back(request, reverse("files:node", args=[node.pk])))
    return _detail_page(request, node, status=400, tags_form=form)


@login_required
@require_POST
@web_errors
def set_favorite(request: HttpRequest, pk: int) -> HttpResponse:
    node = _node(request, pk)
    value = request.POST.get("favorite")
    if value not in {"0", "1"}:
        raise InvalidListing("Say favorite=1 to add to favourites or favorite=0 to remove.")
    services.node_set_favorite(node=node, is_favorite=value == "1")
    done = "added to" if value == "1" else "removed from"
    messages.success(request, f"“{node.name}” {done} your favourites.")
    return redirect(_back(request, reverse("files:node", args=[node.pk])))


@login_required
@require_POST
@web_errors
def trash(request: HttpRequest, pk: int) -> HttpResponse:
    node = _node(request, pk)
    parent = node.parent
    assert parent is not None
    services.node_trash(node=node)
    messages.success(
        request, f"“{node.name}” moved to the trash. You can restore it from the Trash page."
    )
    return redirect(_back(request, folder_url(parent)))


@login_required
@require_http_methods(["GET", "POST"])
@web_errors
def move(request: HttpRequest, pk: int, mode: str = "move") -> HttpResponse:
    """Move or copy one item: a folder picker (GET ``?to=``), then the POST."""
    node = _node(request, pk)
    assert node.parent is not None
    error, status = "", 200
    if request.method == "POST":
        form = TargetFolderForm(request.POST)
        if form.is_valid():
            try:
                target = _folder(request, form.cleaned_data["parent"])
                if mode == "copy":
                    copy = services.node_copy(node=node, new_parent=target)
                    messages.success(request, f"Copied “{node.name}” to “{_label(target)}”.")
                    node = copy
                else:
                    services.node_move(node=node, new_parent=target)
                    messages.success(request, f"Moved “{node.name}” to “{_label(target)}”.")
                return redirect(folder_url(target))
            except DomainError as exc:
                error = exc.message
                status = exc.status_code
        else:
            error, status = _form_error(form), 400
    at = request.GET.get("to") or request.POST.get("parent") or node.parent_id
    try:
        browsing = _folder(request, at)
    except (NodeNotFound, NotAFolder):
        browsing = node.parent
    subfolders = list(
        Node.objects.alive()
        .filter(parent=browsing, is_folder=True)
        .order_by(selectors.SORT_KEYS["name"].asc(), "pk")[:500]
    )
    context = {
        "node": node,
        "mode": mode,
        "browsing": browsing,
        "crumbs": list(tree.ancestors(browsing, include_self=True)),
        "subfolders": subfolders,
        "blocked": node.is_folder and tree.is_inside(browsing, node),
        "error": error,
        "section": "files",
        "page_config": page_config(request),
    }
    return render(request, "files/move.html", context, status=status)


def _label(folder: Node) -> str:
    return folder.name or "Your files"


@login_required
@require_POST
@web_errors
def version_restore(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version = selectors.version_get(user_of(request), pk, version_pk)
    when = version.created_at
    node = services.version_restore(version=version, actor=user_of(request))
    messages.success(
        request,
        f"Restored the version of “{node.name}” from {when:%Y-%m-%d %H:%M}. "
        "The content it replaced is kept as a version.",
    )
    return redirect("files:node", pk=node.pk)


@login_required
@require_POST
@web_errors
def version_delete(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version: FileVersion = selectors.version_get(user_of(request), pk, version_pk)
    freed = services.version_delete(version=version)
    messages.success(request, f"Version deleted; {filesizeformat(freed)} freed.")
    return redirect("files:node", pk=pk)


# --- several items (the no-script checkboxes) ----------------------------------------


@login_required
@require_POST
@web_errors
def bulk(request: HttpRequest) -> HttpResponse:
    """``ids`` with ``action=trash`` or ``action=download`` (sent on to the ZIP download)."""
    try:
        ids = selected_ids(request.POST.getlist("ids"))
    except ValidationError as exc:
        return _error_page(request, exc.messages[0], status=400)
    action = request.POST.get("action")
    if action == "download":
        return redirect(reverse("api:node-zip") + "?" + urlencode({"ids": ",".join(map(str, ids))}))
    if action != "trash":
        raise InvalidListing("Choose what to do with the selected items.")
    nodes = [_node(request, pk) for pk in ids]
    for node in nodes:
        services.node_trash(node=node)
    messages.success(request, f"{_count(len(nodes))} moved to the trash.")
    return redirect(_back(request, reverse("home")))


def _count(n: int) -> str:
    return "1 item" if n == 1 else f"{n} items"


# --- favourites and tags -----------------------------------------------------------------


def _collection_page(
    request: HttpRequest,
    nodes: NodeQuerySet,
    *,
    title: str,
    empty: str,
    section: str,
    **extra: Any,
) -> HttpResponse:
    try:
        page = max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        raise InvalidListing("page must be a whole number.", field="page") from None
    offset = (page - 1) * PAGE_SIZE
    rows = list(
        nodes.alive()
        .select_related("blob")
        .prefetch_related("tags")
        .order_by("-is_folder", selectors.SORT_KEYS["name"].asc(), "pk")[
            offset : offset + PAGE_SIZE + 1
        ]
    )
    context = {
        "title": title,
        "empty": empty,
        "rows": rows_for(rows[:PAGE_SIZE], with_location=True),
        "next_url": f"?page={page + 1}" if len(rows) > PAGE_SIZE else "",
        "prev_url": f"?page={page - 1}" if page > 1 else "",
        "view": view_mode(request, request.GET.get("view")),
        "blank_row": blank_row(),
        "section": section,
        "known_tags": known_tags(user_of(request)),
        "page_config": page_config(request, listing={"filtered": True, "cursor": None}),
        **extra,
    }
    return remember_view(request, render(request, "files/collection.html", context))


@login_required
@require_GET
@web_errors
def favorites(request: HttpRequest) -> HttpResponse:
    return _collection_page(
        request,
        Node.objects.visible_to(user_of(request)).filter(is_favorite=True),
        title="Favourites",
        empty="Nothing here yet. Star a file or folder (right-click → Add to favourites, "
        "or the star on its details page) to find it here quickly.",
        section="favorites",
    )


@login_required
@require_GET
@web_errors
def tags(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    counted = (
        Tag.objects.filter(owner=user)
        .annotate(live=Count("nodes", filter=Q(nodes__trashed_at__isnull=True)))
        .order_by("name")
    )
    return render(
        request,
        "files/tags.html",
        {"tags": counted, "section": "tags", "page_config": page_config(request)},
    )


@login_required
@require_GET
@web_errors
def tag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    tag = Tag.objects.filter(owner=user_of(request), pk=pk).first()
    if tag is None:
        raise NodeNotFound("No such tag.")
    return _collection_page(
        request,
        Node.objects.visible_to(user_of(request)).filter(tags=tag),
        title=f"Tagged “{tag.name}”",
        empty="No files or folders have this tag any more.",
        section="tags",
        tag=tag,
    )


# --- trash -------------------------------------------------------------------------------


@login_required
@require_GET
@web_errors
def trash_list(request: HttpRequest) -> HttpResponse:
    try:
        page = max(int(request.GET.get("page") or 1), 1)
    except ValueError:
        raise InvalidListing("page must be a whole number.", field="page") from None
    offset = (page - 1) * PAGE_SIZE
    rows = list(selectors.trash_entries(user_of(request))[offset : offset + PAGE_SIZE + 1])
    entries = rows_for(rows[:PAGE_SIZE])
    days = settings.FILEFLOW_TRASH_DAYS
    for entry in entries:
        assert entry.node.trashed_at is not None
        entry.location = entry.node.trashed_from or "/"
        entry.purge_at = entry.node.trashed_at + timedelta(days=days)
    context = {
        "entries": entries,
        "retention_days": days,
        "next_url": f"?page={page + 1}" if len(rows) > PAGE_SIZE else "",
        "prev_url": f"?page={page - 1}" if page > 1 else "",
        "section": "trash",
        "page_config": page_config(request),
    }
    return render(request, "files/trash.html", context)


@login_required
@require_POST
@web_errors
def trash_bulk(request: HttpRequest) -> HttpResponse:
    """Restore or delete for good: ``restore=<id>`` / ``delete=<id>`` for one entry, or
    ``ids`` with ``action=restore|delete`` for the checked ones."""
    user = user_of(request)
    action = request.POST.get("action")
    raw: list[str] = request.POST.getlist("ids")
    for single in ("restore", "delete"):
        if request.POST.get(single):
            action, raw = single, [request.POST[single]]
    if action not in {"restore", "delete"}:
        raise InvalidListing("Choose Restore or Delete forever.")
    try:
        ids = selected_ids(raw)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect("files:trash")
    entries = [selectors.node_get(user, pk) for pk in ids]
    if action == "restore":
        restored = [services.node_restore(node=entry) for entry in entries]
        if len(restored) == 1:
            where = tree.path_of(restored[0].parent) if restored[0].parent else "/"
            messages.success(request, f"“{restored[0].name}” restored to {where}.")
        else:
            messages.success(request, f"{_count(len(restored))} restored to where they were.")
    else:
        freed = sum(services.node_delete(node=entry) for entry in entries)
        messages.success(
            request, f"{_count(len(entries))} deleted for good; {filesizeformat(freed)} freed."
        )
    return redirect("files:trash")


@login_required
@require_http_methods(["GET", "POST"])
@web_errors
def trash_empty(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if request.method == "POST":
        count, freed = services.trash_empty(owner=user)
        messages.success(
            request,
            f"Trash emptied: {_count(count)} deleted for good, {filesizeformat(freed)} freed.",
        )
        return redirect("files:trash")
    count = selectors.trash_entries(user).count()
    return render(
        request,
        "files/trash_empty.html",
        {"count": count, "section": "trash", "page_config": page_config(request)},
    )
