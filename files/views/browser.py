"""The folder page: browse, sort, filter by tag, new folder and the no-script upload."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from fileflow.api import user_of
from fileflow.errors import DomainError
from files import access, selectors, services, tree
from files.forms import (
    FolderCreateForm,
    ListingForm,
    UploadForm,
)
from files.ingest import Upload, discard_all, receive_multipart, refuse_early_into
from files.models import Node, Tag
from files.places import place_along
from files.selectors import InvalidListing
from files.views.common import (
    add_service_error,
    error_page,
    folder_label,
    folder_url,
    form_error,
    own_folder,
    web_errors,
)
from files.views.rows import (
    PAGE_SIZE,
    blank_row,
    known_tags,
    page_config,
    remember_view,
    rows_for,
    view_mode,
)

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
    found = own_folder(request, pk)
    if found.is_home:
        return redirect("home")
    return _browse(request, found)


def _browse(request: HttpRequest, folder: Node) -> HttpResponse:
    query = ListingForm(request.GET)
    if not query.is_valid():
        raise InvalidListing(f"This listing cannot be shown: {query.first_error()}")
    response = _folder_page(request, folder, query.cleaned_data)
    return remember_view(request, response)


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
    if tag_name and tag is None:
        items: list[Node] = []
    else:
        page = selectors.children_page(
            folder=folder,
            sort=sort,
            descending=descending,
            cursor=params.get("cursor") or None,
            limit=PAGE_SIZE,
            tag=tag,
        )
        items, next_cursor = page.items, page.next_cursor
        if next_cursor:
            next_url = "?" + urlencode({**base_sorted, "cursor": next_cursor})
    crumbs = access.crumbs_for(user, folder)
    place = place_along(user, crumbs)
    path = place.path
    context = {
        "folder": folder,
        "crumbs": crumbs,
        # Someone else's folder: the crumbs start at Shared with me, then the shared item.
        "shared_crumb": place.shared,
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
            # "shared": another person's folder, whose paths are not the caller's (uploads
            # go by folder id).
            folder={
                "id": folder.pk,
                "path": path,
                "name": folder.name or "Your files",
                "shared": folder.owner_id != user.pk,
            },
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
    parent = own_folder(request, pk, "edit")
    form = FolderCreateForm(request.POST)
    if form.is_valid():
        try:
            created = services.folder_create(
                owner=parent.owner,
                parent=parent,
                name=form.cleaned_data["name"],
                actor=user_of(request),
            )
        except DomainError as exc:
            add_service_error(form, exc)
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

    The receiving adapter must parse the body before anything else reads it, and the CSRF
    check reads it; so this view is exempt and the real one checks CSRF itself (the pattern
    Django's "Modifying upload handlers on the fly" documents)."""
    try:
        parent = own_folder(request, pk, "edit")
        refuse_early_into(request.META, parent, user_of(request))
    except DomainError as exc:
        return error_page(request, exc.message, status=exc.status_code)
    try:
        _, uploads = receive_multipart(request)
    except DomainError as exc:
        # Refused while the body was read (a file too large, a short body): nothing kept.
        return _folder_page(
            request, parent, _defaults(), status=exc.status_code, upload_error=exc.message
        )
    try:
        return _upload(request, parent, uploads)
    finally:
        discard_all(uploads)  # whatever was not stored (refused, or the CSRF check failed)


@csrf_protect
def _upload(request: HttpRequest, parent: Node, uploads: list[Upload]) -> HttpResponse:
    form = UploadForm(request.POST)
    if not form.is_valid() or not uploads:
        message = form_error(form) if not form.is_valid() else "Choose one or more files first."
        return _folder_page(
            request, parent, _defaults(), status=400, upload_form=form, upload_error=message
        )
    try:
        result = services.file_upload_batch(
            owner=parent.owner,
            parent=parent,
            files=uploads,
            on_conflict=form.cleaned_data["on_conflict"],
            actor=user_of(request),
        )
    except DomainError as exc:
        return _folder_page(
            request, parent, _defaults(), status=exc.status_code, upload_error=exc.message
        )
    if result.nodes:
        count = "1 file" if len(result.nodes) == 1 else f"{len(result.nodes)} files"
        messages.success(request, f"Uploaded {count} to {folder_label(parent)}.")
    if result.skipped:
        names = ", ".join(f"“{name}”" for name in result.skipped)
        messages.info(request, f"Skipped because a file with the same name exists: {names}.")
    return redirect(folder_url(parent))


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
