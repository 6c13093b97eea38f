"""How the pages show items: kinds and icons, listing rows, the view mode and the facts
the page's scripts need. Shared with the search and sharing pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.urls import reverse

from accounts.models import User
from fileflow import formats
from files import delivery, thumbnails, tree
from files.models import Node, Tag

PAGE_SIZE = 100
HOME_NAME = "Your files"  # what every page and message calls the home folder
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


def place_name(folder_path: str) -> str:
    """A folder's path as the pages name it: "/" is "Your files", "/Docs" "Your files/Docs"."""
    return HOME_NAME + folder_path.rstrip("/")


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
    # Where "in <location>" leads (search results): the folder's page.
    location_url: str = ""
    # Where a search found the words in the file's text (HTML, escaped), and whether only there.
    snippet: str = ""
    found_in_text: bool = False
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
            location = place_name(locations.get(node.pk, "/").rsplit("/", 1)[0])
        modified = node.updated_at
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
                modified_iso=formats.moment_stamp(modified) if modified else "",
                modified_text=formats.moment_text(modified) if modified else "",
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


def page_config(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """Facts the page's scripts need, handed over with ``json_script``."""
    return {
        "kinds": [[kind, label, list(patterns)] for kind, label, patterns in KIND_RULES],
        "previews": [[mode, list(patterns)] for mode, patterns in _preview_rules()],
        "thumbnailTypes": _thumbnail_types(),
        "trashDays": settings.FILEFLOW_TRASH_DAYS,
        # Files at least this large go up resumably (tus); None: never.
        "tusThreshold": settings.FILEFLOW_TUS_THRESHOLD,
        "urls": {
            "nodes": reverse("api:node-list"),
            "uploadToPath": reverse("api:file-content"),
            "uploadMany": reverse("api:node-upload-many"),
            "upload": reverse("api:node-upload"),
            "uploads": reverse("api:upload-create"),
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
