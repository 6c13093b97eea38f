"""One item's page and its actions, and the no-script checkboxes acting on several."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from fileflow import formats
from fileflow.api import user_of
from fileflow.errors import DomainError
from files import access, delivery, selectors, services, tree
from files.activity import activity_feed
from files.errors import NodeNotFound, NotAFolder
from files.forms import (
    RenameForm,
    TagsForm,
    TargetFolderForm,
    selected_ids,
)
from files.models import FileVersion, Node, NodeShare
from files.places import as_seen_by, place_along
from files.selectors import InvalidListing
from files.views.common import (
    add_service_error,
    back_to,
    error_page,
    folder_label,
    folder_url,
    form_error,
    items_count,
    own_folder,
    own_node,
    web_errors,
)
from files.views.rows import (
    known_tags,
    page_config,
    rows_for,
)

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
    user = user_of(request)
    granted = access.access_of(user, node)
    # From the home folder for the owner; for anyone else from the item shared with them
    # (its owner's folders above it are not theirs to see), under Shared with me.
    crumbs = access.crumbs_for(user, node)[:-1]
    place = place_along(user, [*crumbs, node])
    context = {
        "node": node,
        "row": row,
        "parent": parent,
        "parent_url": folder_url(parent) if crumbs else reverse("sharing:shared-with-me"),
        "path": node.trashed_from.rstrip("/") + "/" + node.name
        if node.is_trash_root and not place.shared
        else place.path,
        "crumbs": crumbs,
        "shared_crumb": place.shared,
        "versions": versions,
        "rename_form": rename_form or RenameForm(initial={"name": node.name}),
        "tags_form": tags_form or TagsForm(initial={"tags": ", ".join(row.tags)}),
        "known_tags": known_tags(user_of(request)),
        "access": granted,
        "can_edit": granted is not None and granted.allows("edit"),
        "people": NodeShare.objects.filter(node=node)
        .select_related("user", "group", "created_by")
        .order_by("created_at", "pk"),
        "roles": NodeShare.Role.choices,
        "activity": as_seen_by(user, list(activity_feed(user=user, node=node)[:20])),
        "section": "files",
        "page_config": page_config(request),
    }
    return render(request, "files/node.html", context, status=status)


@login_required
@require_GET
@web_errors
def download(request: HttpRequest, pk: int) -> HttpResponseBase:
    """A file as an attachment, or a folder as a ZIP; in the trash or not (node_get's rule)."""
    node = selectors.node_get(user_of(request), pk)
    return delivery.serve_node(request, node, as_attachment=True)


@login_required
@require_POST
@web_errors
def rename(request: HttpRequest, pk: int) -> HttpResponse:
    node = own_node(request, pk)
    form = RenameForm(request.POST)
    if form.is_valid():
        try:
            old = node.name
            node = services.node_rename(
                node=node, name=form.cleaned_data["name"], actor=user_of(request)
            )
        except DomainError as exc:
            add_service_error(form, exc)
            return _detail_page(request, node, status=exc.status_code, rename_form=form)
        messages.success(request, f"Renamed “{old}” to “{node.name}”.")
        return redirect(back_to(request, reverse("files:node", args=[node.pk])))
    return _detail_page(request, node, status=400, rename_form=form)


@login_required
@require_POST
@web_errors
def set_tags(request: HttpRequest, pk: int) -> HttpResponse:
    node = own_node(request, pk, "manage")
    form = TagsForm(request.POST)
    if form.is_valid():
        try:
            services.node_set_tags(node=node, names=form.cleaned_data["tags"])
        except DomainError as exc:
            form.add_error("tags", exc.message)
            return _detail_page(request, node, status=exc.status_code, tags_form=form)
        messages.success(request, f"Tags of “{node.name}” saved.")
        return redirect(back_to(request, reverse("files:node", args=[node.pk])))
    return _detail_page(request, node, status=400, tags_form=form)


@login_required
@require_POST
@web_errors
def set_favorite(request: HttpRequest, pk: int) -> HttpResponse:
    node = own_node(request, pk, "manage")
    value = request.POST.get("favorite")
    if value not in {"0", "1"}:
        raise InvalidListing("Say favorite=1 to add to favourites or favorite=0 to remove.")
    services.node_set_favorite(node=node, is_favorite=value == "1")
    done = "added to" if value == "1" else "removed from"
    messages.success(request, f"“{node.name}” {done} your favourites.")
    return redirect(back_to(request, reverse("files:node", args=[node.pk])))


@login_required
@require_POST
@web_errors
def trash(request: HttpRequest, pk: int) -> HttpResponse:
    node = own_node(request, pk)
    parent = node.parent
    assert parent is not None
    services.node_trash(node=node, actor=user_of(request))
    where = (
        "You can restore it from the Trash page."
        if node.owner_id == user_of(request).pk
        else "Its owner can restore it from their trash."
    )
    messages.success(request, f"“{node.name}” moved to the trash. {where}")
    # An item shared with the caller itself was in its owner's folder: back to Shared with me.
    shown = access.can(user_of(request), parent, "view")
    return redirect(
        back_to(request, folder_url(parent) if shown else reverse("sharing:shared-with-me"))
    )


@login_required
@require_http_methods(["GET", "POST"])
@web_errors
def move(request: HttpRequest, pk: int, mode: str = "move") -> HttpResponse:
    """Move or copy one item: a folder picker (GET ``?to=``), then the POST. A copy needs
    only the viewer role; a move is checked by ``selectors.move_get``."""
    node = own_node(request, pk, "view")
    parent = node.parent
    assert parent is not None
    error, status = "", 200
    if request.method == "POST":
        form = TargetFolderForm(request.POST)
        if form.is_valid():
            try:
                target = own_folder(request, form.cleaned_data["parent"], "edit")
                if mode == "copy":
                    copy = services.node_copy(node=node, new_parent=target, actor=user_of(request))
                    messages.success(request, f"Copied “{node.name}” to “{folder_label(target)}”.")
                    node = copy
                else:
                    node, target = selectors.move_get(
                        user_of(request), node.pk, form.cleaned_data["parent"]
                    )
                    services.node_move(node=node, new_parent=target, actor=user_of(request))
                    messages.success(request, f"Moved “{node.name}” to “{folder_label(target)}”.")
                return redirect(folder_url(target))
            except DomainError as exc:
                error = exc.message
                status = exc.status_code
        else:
            error, status = form_error(form), 400
    user = user_of(request)
    at = request.GET.get("to") or request.POST.get("parent") or node.parent_id
    try:
        browsing = own_folder(request, at)
    except (NodeNotFound, NotAFolder):
        # The item's folder when the caller may open it; else (an item shared with them
        # itself, whose folder is its owner's) their own files.
        browsing = parent if access.can(user, parent, "view") else tree.home_of(user)
    subfolders = list(
        Node.objects.alive()
        .filter(parent=browsing, is_folder=True)
        .order_by(selectors.SORT_KEYS["name"].asc(), "pk")[:500]
    )
    context = {
        "node": node,
        "mode": mode,
        "browsing": browsing,
        "crumbs": access.crumbs_for(user, browsing),
        "shared_crumb": browsing.owner_id != user.pk,
        "subfolders": subfolders,
        "blocked": node.is_folder and tree.is_inside(browsing, node),
        "error": error,
        "section": "files",
        "page_config": page_config(request),
    }
    return render(request, "files/move.html", context, status=status)


@login_required
@require_POST
@web_errors
def version_restore(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version = selectors.version_get(user_of(request), pk, version_pk, "edit")
    when = version.created_at
    node = services.version_restore(version=version, actor=user_of(request))
    messages.success(
        request,
        f"Restored the version of “{node.name}” from {formats.moment_stamp(when)}. "
        "The content it replaced is kept as a version.",
    )
    return redirect("files:node", pk=node.pk)


@login_required
@require_POST
@web_errors
def version_delete(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version: FileVersion = selectors.version_get(user_of(request), pk, version_pk, "delete")
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
        return error_page(request, exc.messages[0], status=400)
    action = request.POST.get("action")
    if action == "download":
        return redirect(reverse("api:node-zip") + "?" + urlencode({"ids": ",".join(map(str, ids))}))
    if action != "trash":
        raise InvalidListing("Choose what to do with the selected items.")
    nodes = [own_node(request, pk) for pk in ids]
    for node in nodes:
        services.node_trash(node=node, actor=user_of(request))
    messages.success(request, f"{items_count(len(nodes))} moved to the trash.")
    return redirect(back_to(request, reverse("home")))
