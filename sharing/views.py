"""The owner's share-link pages: "Shared by me" and one link with its access log.

Complete without JavaScript: ``POST /shares/`` creates a link (the item page's form),
``POST /shares/<pk>/`` saves changes (``action=update``) or revokes (``action=revoke``).
The browser page's share dialog (``static/js/share.js``) does the same through the API.
Another user's link, or item, is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.models import User
from fileflow.api import user_of
from fileflow.errors import DomainError
from files import selectors as file_selectors
from files.models import Node
from files.views.common import folder_url, page_number, web_errors
from files.views.rows import kind_of, page_config
from sharing import selectors, services
from sharing.errors import InvalidShare
from sharing.forms import ShareCreateForm, ShareEditForm, StateFilterForm
from sharing.models import ShareAccess, ShareLink, SharingPolicy

PAGE_SIZE = 50
LOG_PAGE_SIZE = 50


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _attach(form: Form, exc: DomainError) -> None:
    """A service's refusal goes next to the field it names (or above the form)."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@dataclass
class LinkRow:
    """One link as the pages show it."""

    link: ShareLink
    url: str
    path: str
    kind: str
    item_url: str
    in_trash: bool


def _rows(request: HttpRequest, links: list[ShareLink]) -> list[LinkRow]:
    paths = selectors.node_paths(user_of(request), [link.node for link in links])
    rows = []
    for link in links:
        node = link.node
        in_trash = node.trashed_at is not None
        path = paths[node.pk]
        live_folder = node.is_folder and not in_trash
        rows.append(
            LinkRow(
                link=link,
                url=selectors.public_url(link, request) or "",
                path=path,
                kind=kind_of(node)[0],
                item_url=folder_url(node) if live_folder else reverse("files:node", args=[node.pk]),
                in_trash=in_trash,
            )
        )
    return rows


# --- Shared by me ---------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@web_errors
def share_list(request: HttpRequest) -> HttpResponse:
    """Every link of the user, filtered by state (``?state=``) or item (``?node=``); a POST
    creates a link for ``node``."""
    user = user_of(request)
    if request.method == "POST":
        return _create(request, user)
    filters = StateFilterForm(request.GET)
    if not filters.is_valid():
        field, errors = next(iter(filters.errors.items()))
        raise InvalidShare(f"{field}: {errors[0]}", field=field)
    node_id = filters.cleaned_data.get("node")
    node = file_selectors.node_get(user, node_id) if node_id else None
    return _list_page(
        request,
        user,
        state=filters.cleaned_data.get("state") or "",
        node=node,
        page=filters.cleaned_data.get("page") or 1,
    )


def _create(request: HttpRequest, user: User) -> HttpResponse:
    node = file_selectors.node_get(user, request.POST.get("node"))
    form = ShareCreateForm(request.POST, is_folder=node.is_folder, policy=SharingPolicy.current())
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            link, _token = services.share_create(
                owner=user,
                node=node,
                permission=data["permission"],
                expires_at=form.expiry(),
                max_access_count=data.get("max_access_count"),
                password=data.get("password") or "",
                label=data.get("label") or "",
            )
        except DomainError as exc:
            _attach(form, exc)
            status = exc.status_code
        else:
            messages.success(
                request,
                f"Link to “{node.name}” created. Copy it below and send it to whoever "
                "should have it.",
            )
            return redirect("sharing:detail", link.pk)
    return _list_page(request, user, state="", node=node, page=1, create_form=form, status=status)


def _list_page(
    request: HttpRequest,
    user: User,
    *,
    state: str,
    node: Node | None,
    page: int,
    create_form: ShareCreateForm | None = None,
    status: int = 200,
) -> HttpResponse:
    links = selectors.links_for(user, state=state or None, node=node)
    offset = (page - 1) * PAGE_SIZE
    found = list(links[offset : offset + PAGE_SIZE + 1])
    base: dict[str, Any] = {"node": node.pk} if node is not None else {}
    counts = selectors.links_for(user, node=node).state_counts()
    counts[""] = sum(counts.values())
    tabs = []
    for value, label in [("", "All"), *ShareLink.State.choices]:
        query = urlencode({**base, **({"state": value} if value else {})})
        tabs.append(
            {
                "value": value,
                "label": label,
                "href": "?" + query if query else reverse("sharing:list"),
                "count": counts[value],
                "current": value == state,
            }
        )
    here = {**base, **({"state": state} if state else {})}
    can_share = node is not None and not node.is_home and node.trashed_at is None
    if can_share and create_form is None:
        assert node is not None
        create_form = ShareCreateForm(is_folder=node.is_folder, policy=SharingPolicy.current())
        create_form.initial["node"] = node.pk
    context = {
        "rows": _rows(request, found[:PAGE_SIZE]),
        "state": state,
        "state_label": ShareLink.State(state).label if state else "",
        "tabs": tabs,
        "node": node,
        "node_path": selectors.node_paths(user, [node])[node.pk]
        if node is not None and node.trashed_at is None
        else "",
        "create_form": create_form if can_share else None,
        "next_url": "?" + urlencode({**here, "page": page + 1}) if len(found) > PAGE_SIZE else "",
        "prev_url": "?" + urlencode({**here, "page": page - 1}) if page > 1 else "",
        "here": request.get_full_path(),
        "section": "shares",
        "page_config": page_config(request),
    }
    return render(request, "sharing/list.html", context, status=status)


# --- one link ----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@web_errors
def share_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One link: its address, facts, edit form, revoke, and its access log (``?page=``)."""
    user = user_of(request)
    link = selectors.link_get(user, pk)
    page = page_number(request)
    here = reverse("sharing:detail", args=[link.pk])
    if request.method == "GET":
        return _detail_page(request, link, page=page)
    action = request.POST.get("action")
    if action == "revoke":
        was_live = link.revoked_at is None
        link = services.share_revoke(link=link)
        messages.success(
            request,
            "Link revoked: it no longer opens. Its access log stays here."
            if was_live
            else "This link was already revoked.",
        )
        return redirect(_next_url(request, here))
    if action != "update":
        raise InvalidShare("Choose “Save changes” or “Revoke link”.", field="action")
    form = ShareEditForm(request.POST, link=link, policy=SharingPolicy.current())
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.share_update(
                link=link,
                permission=data["permission"],
                expires_at=form.expiry(),
                max_access_count=data.get("max_access_count"),
                password=form.new_password(),
                label=data.get("label") or "",
            )
        except DomainError as exc:
            _attach(form, exc)
            status = exc.status_code
        else:
            messages.success(request, "Changes saved.")
            return redirect(here)
    return _detail_page(request, link, page=page, form=form, status=status)


def _detail_page(
    request: HttpRequest,
    link: ShareLink,
    *,
    page: int,
    form: ShareEditForm | None = None,
    status: int = 200,
) -> HttpResponse:
    offset = (page - 1) * LOG_PAGE_SIZE
    accesses: list[ShareAccess] = list(
        selectors.accesses_of(link)[offset : offset + LOG_PAGE_SIZE + 1]
    )
    live = link.revoked_at is None
    if form is None and live:
        form = ShareEditForm(link=link, policy=SharingPolicy.current())
    context = {
        "row": _rows(request, [link])[0],
        "link": link,
        "form": form if live else None,
        "accesses": accesses[:LOG_PAGE_SIZE],
        "log_total": selectors.accesses_of(link).count(),
        "next_url": f"?page={page + 1}" if len(accesses) > LOG_PAGE_SIZE else "",
        "prev_url": f"?page={page - 1}" if page > 1 else "",
        "section": "shares",
        "page_config": page_config(request),
    }
    return render(request, "sharing/detail.html", context, status=status)
