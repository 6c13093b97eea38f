"""Pages across folders: favourites, tags and the trash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.forms import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fileflow.api import user_of
from files import selectors, services, tree
from files.errors import NodeNotFound
from files.forms import (
    selected_ids,
)
from files.models import Node, NodeQuerySet, Tag
from files.selectors import InvalidListing
from files.views.common import (
    items_count,
    page_number,
    web_errors,
)
from files.views.rows import (
    PAGE_SIZE,
    blank_row,
    known_tags,
    page_config,
    place_name,
    remember_view,
    rows_for,
    view_mode,
)

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
    page = page_number(request)
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
        Node.objects.owned_by(user_of(request)).filter(is_favorite=True),
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
        Node.objects.checked_owner(user_of(request)).filter(tags=tag),
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
    page = page_number(request)
    offset = (page - 1) * PAGE_SIZE
    rows = list(selectors.trash_entries(user_of(request))[offset : offset + PAGE_SIZE + 1])
    entries = rows_for(rows[:PAGE_SIZE])
    days = settings.FILEFLOW_TRASH_DAYS
    for entry in entries:
        assert entry.node.trashed_at is not None
        entry.location = place_name(entry.node.trashed_from or "/")
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
    entries = [selectors.node_get(user, pk, "manage") for pk in ids]
    if action == "restore":
        restored = [services.node_restore(node=entry, actor=user) for entry in entries]
        if len(restored) == 1:
            where = tree.path_of(restored[0].parent) if restored[0].parent else "/"
            messages.success(request, f"“{restored[0].name}” restored to {where}.")
        else:
            messages.success(request, f"{items_count(len(restored))} restored to where they were.")
    else:
        freed = sum(services.node_delete(node=entry, actor=user) for entry in entries)
        messages.success(
            request, f"{items_count(len(entries))} deleted for good; {filesizeformat(freed)} freed."
        )
    return redirect("files:trash")


@login_required
@require_http_methods(["GET", "POST"])
@web_errors
def trash_empty(request: HttpRequest) -> HttpResponse:
    user = user_of(request)
    if request.method == "POST":
        count, freed = services.trash_empty(owner=user, actor=user)
        messages.success(
            request,
            f"Trash emptied: {items_count(count)} deleted for good, {filesizeformat(freed)} freed.",
        )
        return redirect("files:trash")
    count = selectors.trash_entries(user).count()
    return render(
        request,
        "files/trash_empty.html",
        {"count": count, "section": "trash", "page_config": page_config(request)},
    )
