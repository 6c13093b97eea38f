"""The Activity page: who did what to your items and to what is shared with you."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from fileflow.api import user_of
from files import selectors
from files.activity import InvalidFilter, Kind, activity_feed
from files.places import as_seen_by
from files.views.common import page_number, web_errors
from files.views.rows import page_config

PAGE_SIZE = 50
PERIODS = {"day": 1, "week": 7, "month": 31, "year": 365}


@login_required
@require_GET
@web_errors
def activity(request: HttpRequest) -> HttpResponse:
    """Filters: ``person`` (user name), ``kind``, ``period`` (day, week, month, year) and
    ``folder`` (an item: it and everything below it)."""
    user = user_of(request)
    params = request.GET
    folder = selectors.node_get(user, params["folder"]) if params.get("folder") else None
    person = None
    if params.get("person"):
        person = User.objects.filter(username__iexact=params["person"]).first()
        if person is None:
            raise InvalidFilter(f"No user named “{params['person']}”.", field="person")
    period = params.get("period") or ""
    if period and period not in PERIODS:
        raise InvalidFilter(f"period must be one of {', '.join(PERIODS)}.", field="period")
    since = timezone.now() - timedelta(days=PERIODS[period]) if period else None
    entries = activity_feed(
        user=user, node=folder, person=person, kind=params.get("kind") or None, since=since
    )
    page = page_number(request)
    offset = (page - 1) * PAGE_SIZE
    rows = list(entries[offset : offset + PAGE_SIZE + 1])
    context = {
        "entries": as_seen_by(user, rows[:PAGE_SIZE]),
        "has_next": len(rows) > PAGE_SIZE,
        "page": page,
        "folder": folder,
        "person": params.get("person", ""),
        "kind": params.get("kind", ""),
        "period": period,
        "kinds": Kind.choices,
        "periods": list(PERIODS),
        "section": "activity",
        "page_config": page_config(request),
    }
    return render(request, "files/activity.html", context)
