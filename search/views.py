"""The web pages of search: ``/search/`` (the query box, the filter panel and the results,
complete without JavaScript) and saved searches, which run at ``/search/saved/<id>/``.

Every search goes through the same engine as ``GET /api/v1/search/``; a value it refuses is
shown next to the field it concerns, with the engine's own message and a 4xx status. The
results are the file browser's listing, so they open, preview and act like a folder's.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from fileflow.api import user_of
from fileflow.errors import DomainError
from files.views.common import web_errors
from files.views.rows import (
    blank_row,
    known_tags,
    page_config,
    place_name,
    remember_view,
    rows_for,
    view_mode,
)
from search import services
from search.engine import SearchHit, SearchPage, search
from search.errors import InvalidProfile, InvalidSearch, ProfileNotFound
from search.forms import ProfileNameForm, SearchForm, profile_fields, profile_params
from search.models import SearchProfile
from search.query import MAX_OFFSET
from search.selectors import profile_list, profile_run

PAGE_SIZE = 50


def _profile(request: HttpRequest, pk: int) -> SearchProfile:
    """The caller's saved search; another person's is a 404, like one that never existed."""
    profile = profile_list(user=user_of(request)).filter(pk=pk).first()
    if profile is None:
        raise ProfileNotFound("No such saved search.")
    return profile


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page") or "1"
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_OFFSET // PAGE_SIZE:
        raise InvalidSearch(
            "{param} must be a whole number from 1 to {high}.",
            param="page",
            values={"high": MAX_OFFSET // PAGE_SIZE},
        )
    return int(raw)


def _location(hit: SearchHit) -> str:
    folder = hit.path.rsplit("/", 1)[0]
    if not hit.shared:
        folder = place_name(folder)
    return f"{folder} (in the trash)" if hit.node.trashed_at is not None else folder


def _location_url(hit: SearchHit, folder_url: str) -> str:
    """The page of the folder holding the hit, as the caller can open it: their own folder,
    a folder inside what is shared with them, or Shared with me for a shared item itself."""
    if hit.node.trashed_at is not None:
        return ""  # its folder may be in the trash too; the details page offers restore
    if hit.folder_id is None:
        return reverse("sharing:shared-with-me")
    return folder_url.replace("/0/", f"/{hit.folder_id}/")


def _rows(page: SearchPage) -> list[Any]:
    rows = rows_for([hit.node for hit in page.hits])
    node_url = reverse("files:node", args=[0])
    folder_url = reverse("files:folder", args=[0])
    for row, hit in zip(rows, page.hits, strict=True):
        # The engine has the paths already; rows_for would look them up a second time.
        row.location = _location(hit)
        row.location_url = _location_url(hit, folder_url)
        row.snippet = hit.snippet_html or ""
        row.found_in_text = hit.in_text
        if hit.node.trashed_at is not None:
            # A trashed folder has no page of its own; its details page offers restore.
            row.url = node_url.replace("/0/", f"/{hit.node.pk}/")
    return rows


def _link(params: QueryDict, **changes: Any) -> str:
    query = params.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = str(value)
    return "?" + query.urlencode() if query else "?"


def _render(
    request: HttpRequest,
    form: SearchForm,
    *,
    profile: SearchProfile | None = None,
    refining: SearchProfile | None = None,
    name_form: ProfileNameForm | None = None,
    rename_form: ProfileNameForm | None = None,
    status: int = 200,
    run: bool = True,
) -> HttpResponse:
    """The results page: run the search (unless a form error stops it) and show it."""
    page: SearchPage | None = None
    number = 1
    if form.is_bound and not form.shape_ok:
        status, run = max(status, 400), False
    try:
        number = _page_number(request)
        offset = (number - 1) * PAGE_SIZE
        if profile is not None:
            page = profile_run(
                user=user_of(request), profile=profile, limit=PAGE_SIZE, offset=offset
            )
        elif run and form.has_criteria:
            page = search(
                user=user_of(request),
                query=form.search_query(),
                limit=PAGE_SIZE,
                offset=offset,
                with_total=True,
            )
    except InvalidSearch as exc:
        form.add_search_error(exc)
        status = max(status, exc.status_code)
    current = profile or refining
    base = request.GET.copy()
    base.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": _rows(page) if page else [],
        "profile": profile,
        "refining": refining,
        "name_form": name_form or ProfileNameForm(),
        "rename_form": rename_form
        or ProfileNameForm(initial={"name": profile.name if profile else ""}),
        "search_items": form.hidden_items(),
        "page_number": number,
        "next_url": _link(base, page=number + 1) if page and page.has_more else "",
        "prev_url": _link(base, page=number - 1 if number > 2 else None) if number > 1 else "",
        "view_links": {mode: _link(base, view=mode) for mode in ("list", "grid")},
        "view": view_mode(request, request.GET.get("view")),
        "blank_row": blank_row(),
        "known_tags": known_tags(user_of(request)),
        "section": "search",
        "current_profile_id": current.pk if current else None,
        "search_q": form.data.get("q", "") if form.is_bound else "",
        "page_config": page_config(request, listing={"filtered": True, "cursor": None}),
    }
    response = render(request, "search/results.html", context, status=status)
    return remember_view(request, response)


def _refining(request: HttpRequest, raw: str | None) -> SearchProfile | None:
    """The saved search being refined (``?saved=<id>``): offered "Save changes"."""
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise ProfileNotFound("No such saved search.")
    return _profile(request, int(raw))


# --- the pages ---------------------------------------------------------------------------


@login_required
@require_GET
@web_errors
def results(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET, user=user_of(request))
    return _render(request, form, refining=_refining(request, request.GET.get("saved")))


@login_required
@require_GET
@web_errors
def saved(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a saved search: the results page, its filters filled in from the profile."""
    profile = _profile(request, pk)
    form = SearchForm(profile_params(profile), user=user_of(request))
    return _render(request, form, profile=profile)


@login_required
@require_POST
@web_errors
def profile_create(request: HttpRequest) -> HttpResponse:
    """Save this search: the name, plus the search as the page's hidden inputs."""
    form = SearchForm(request.POST, user=user_of(request))
    name_form = ProfileNameForm(request.POST)
    if not name_form.is_valid() or not form.shape_ok:
        return _render(request, form, name_form=name_form, status=400)
    try:
        profile = services.profile_create(
            owner=user_of(request), name=name_form.cleaned_data["name"], **profile_fields(form)
        )
    except DomainError as exc:
        return _refused(request, form, exc, name_form=name_form)
    messages.success(request, f"Saved “{profile.name}”. It is in the sidebar under Saved searches.")
    return redirect("search:saved", pk=profile.pk)


@login_required
@require_POST
@web_errors
def profile_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the page's current filters into an existing saved search."""
    profile = _profile(request, pk)
    form = SearchForm(request.POST, user=user_of(request))
    if not form.shape_ok:
        return _render(request, form, refining=profile, status=400)
    try:
        profile = services.profile_update(profile=profile, **profile_fields(form))
    except DomainError as exc:
        return _refused(request, form, exc, refining=profile)
    messages.success(request, f"Saved the new filters into “{profile.name}”.")
    return redirect("search:saved", pk=profile.pk)


@login_required
@require_POST
@web_errors
def profile_rename(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _profile(request, pk)
    rename_form = ProfileNameForm(request.POST)
    status = 400
    if rename_form.is_valid():
        old = profile.name
        try:
            profile = services.profile_update(
                profile=profile, name=rename_form.cleaned_data["name"]
            )
        except DomainError as exc:
            rename_form.add_error("name" if exc.field == "name" else None, exc.message)
            status = exc.status_code
        else:
            messages.success(request, f"Renamed “{old}” to “{profile.name}”.")
            return redirect("search:saved", pk=profile.pk)
    form = SearchForm(profile_params(profile), user=user_of(request))
    return _render(request, form, profile=profile, rename_form=rename_form, status=status)


@login_required
@require_POST
@web_errors
def profile_delete(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _profile(request, pk)
    name = profile.name
    services.profile_delete(profile=profile)
    messages.success(request, f"Deleted the saved search “{name}”. Your files are untouched.")
    return redirect("search:results")


def _refused(
    request: HttpRequest,
    form: SearchForm,
    exc: DomainError,
    *,
    name_form: ProfileNameForm | None = None,
    refining: SearchProfile | None = None,
) -> HttpResponse:
    """Show a refusal to save next to its field: the name, or the filter it is about."""
    # A filter the engine refuses cannot be searched either; one only a saved search
    # cannot keep (creation dates, the trash) still shows its results.
    run = not isinstance(exc, InvalidSearch)
    if exc.field == "name" and name_form is not None:
        name_form.add_error("name", exc.message)
    elif isinstance(exc, InvalidSearch | InvalidProfile):
        form.add_search_error(exc)
    else:
        form.add_error(None, exc.message)
    return _render(
        request, form, name_form=name_form, refining=refining, status=exc.status_code, run=run
    )
