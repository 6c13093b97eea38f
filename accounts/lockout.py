"""What a locked-out log-in sees (``AXES_LOCKOUT_CALLABLE``)."""

from __future__ import annotations

import math
from typing import Any

from axes.helpers import get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from fileflow import formats


def lockout_message(request: HttpRequest) -> str:
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 0
    until = timezone.now() + cool_off if cool_off else None
    when = f" Try again in {minutes} minute{'s' if minutes != 1 else ''}" if minutes else ""
    if until:
        when += f" (after {formats.moment_stamp(until)})."
    return "Too many failed log-ins for this account or from this address: log-in is paused." + when


def lockout_response(
    request: HttpRequest,
    response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    if request.resolver_match and request.resolver_match.namespace == "webdav":
        return HttpResponse(message + "\n", status=429, content_type="text/plain; charset=utf-8")
    # An unbound form: validating the posted one would try the password once more.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    return render(
        request,
        "accounts/login.html",
        {"form": form, "next": request.POST.get("next", ""), "lockout_message": message},
        status=429,
    )
