"""What every page view here shares: the caller's items, error pages, where to go next."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.forms import Form
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext

from fileflow.api import user_of
from fileflow.errors import DomainError
from files import selectors
from files.errors import NodeNotFound
from files.models import Node
from files.selectors import InvalidListing
from files.views.rows import (
    page_config,
)

# --- plumbing ------------------------------------------------------------------------


def web_errors(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Turn a service's refusal into an error page with its status code and message."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return error_page(request, exc.message, status=exc.status_code)

    return wrapper


def error_page(
    request: HttpRequest, message: str, *, status: int, title: str | None = None
) -> HttpResponse:
    title = title or ("Not found" if status == 404 else "That did not work")
    context = {"message": message, "title": title, "page_config": page_config(request)}
    return render(request, "files/error.html", context, status=status)


def own_folder(request: HttpRequest, pk: Any, action: str = "view") -> Node:
    """A live folder the caller may ``action`` (their own, or shared with them)."""
    return selectors.folder_get(user_of(request), pk, action)


def own_node(request: HttpRequest, pk: Any, action: str = "edit") -> Node:
    """A live item the caller may ``action``, not a home folder (which cannot be renamed,
    moved, …)."""
    node = selectors.node_get(user_of(request), pk, action)
    if node.trashed_at is not None:
        raise NodeNotFound(f"“{node.name}” is in the trash; restore it first.")
    if node.is_home:
        raise NodeNotFound("“Your files” cannot be changed this way.")
    return node


def folder_url(folder: Node) -> str:
    return reverse("home") if folder.is_home else reverse("files:folder", args=[folder.pk])


def back_to(request: HttpRequest, default: str) -> str:
    """Where to go after an action: a same-site ``next`` if given, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def form_error(form: Form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else None
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return "Check the form and try again."


def add_service_error(form: Form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def folder_label(folder: Node) -> str:
    return folder.name or "Your files"


def items_count(n: int) -> str:
    return ngettext("%(n)d item", "%(n)d items", n) % {"n": n}


# Pages of a listing reachable by number: far beyond any real listing, and small enough that
# the offset it makes always fits the database's integers.
MAX_PAGE = 100_000


def page_number(request: HttpRequest) -> int:
    """``?page=`` as a number from 1 to ``MAX_PAGE``, or a 400 saying what it must be."""
    raw = request.GET.get("page") or "1"
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
        raise InvalidListing(f"page must be a whole number from 1 to {MAX_PAGE:,}.", field="page")
    return int(raw)
