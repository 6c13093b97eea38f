"""Pages for shares with people: the details panel's forms and Shared with me."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from fileflow.api import user_of
from files import selectors as file_selectors
from files.views.common import web_errors
from files.views.rows import page_config
from sharing import people
from sharing.errors import InvalidShare
from sharing.services import DEFAULT


def _expiry(raw: str) -> datetime | None:
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise InvalidShare("The expiry is not a date and time.", field="expires_at")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
@require_POST
@web_errors
def people_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    node = file_selectors.node_get(user, pk)
    share = people.person_share_create(
        actor=user,
        node=node,
        user=request.POST.get("user", ""),
        group=request.POST.get("group", ""),
        role=request.POST.get("role") or "viewer",
        can_reshare=request.POST.get("can_reshare") == "1",
        expires_at=_expiry(request.POST.get("expires_at", "")),
    )
    messages.success(request, f"Shared “{node.name}” with {share.grantee_label} as {share.role}.")
    return redirect(reverse("files:node", args=[node.pk]) + "#people")


@login_required
@require_POST
@web_errors
def people_change(request: HttpRequest, pk: int, share_id: int) -> HttpResponse:
    user = user_of(request)
    node = file_selectors.node_get(user, pk)
    share = people.share_get(user, node, share_id)
    if request.POST.get("action") == "remove":
        people.person_share_delete(actor=user, share=share)
        messages.success(request, f"{share.grantee_label} no longer has access.")
    else:
        share = people.person_share_update(
            actor=user, share=share, role=request.POST.get("role") or DEFAULT
        )
        messages.success(request, f"{share.grantee_label} is now {share.role}.")
    return redirect(reverse("files:node", args=[node.pk]) + "#people")


@login_required
@require_GET
@web_errors
def shared_with_me(request: HttpRequest) -> HttpResponse:
    """Items other people share with me: owner, role, since when; leave or pin each. Opening
    the page marks them seen (the sidebar's unread marker)."""
    user = user_of(request)
    shares = list(people.shared_with_me(user)[:500])
    unread = {share.pk for share in shares if share.seen_at is None}
    response = render(
        request,
        "sharing/shared_with_me.html",
        {
            "shares": shares,
            "unread": unread,
            "section": "shared",
            "page_config": page_config(request),
        },
    )
    if unread:
        people.shares_mark_seen(user=user, ids=unread)
    return response


@login_required
@require_POST
@web_errors
def shared_leave(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    share = people.my_share_get(user, pk)
    people.person_share_leave(user=user, share=share)
    messages.success(request, f"You left “{share.node.name}”.")
    return redirect("sharing:shared-with-me")


@login_required
@require_POST
@web_errors
def shared_pin(request: HttpRequest, pk: int) -> HttpResponse:
    user = user_of(request)
    share = people.my_share_get(user, pk)
    pinned = request.POST.get("pinned") == "1"
    people.person_share_mark(user=user, share=share, pinned=pinned)
    done = "pinned to" if pinned else "removed from"
    messages.success(request, f"“{share.node.name}” {done} your sidebar.")
    return redirect("sharing:shared-with-me")
