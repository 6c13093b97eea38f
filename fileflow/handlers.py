"""Error answers for requests no view handled: JSON under /api/, a styled page elsewhere.

Django calls these for a URL that matches nothing (404), a ``PermissionDenied`` (403), a
``SuspiciousOperation`` or bad request (400) and an unhandled exception (500). API clients
get the same ``{"detail", "code"}`` body as every other API error; people get the app's error
page with a way back to their files.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.urls import reverse

API_PREFIX = "/api/"

_ANSWERS = {
    400: ("bad_request", "Bad request", "The request could not be understood."),
    403: ("permission_denied", "Not allowed", "You are not allowed to do that."),
    404: ("not_found", "Page not found", "There is nothing at this address."),
    500: (
        "server_error",
        "Something went wrong",
        "Something went wrong on the server; it has been logged. Try again in a moment.",
    ),
}


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def _answer(request: HttpRequest, status: int, detail: str | None = None) -> HttpResponse:
    code, title, message = _ANSWERS[status]
    message = detail or message
    if _is_api(request):
        return JsonResponse({"detail": message, "code": code}, status=status)
    if status != 500 and request.user.is_authenticated:
        # The drive's own error page, with the sidebar and "Back to your files".
        from files.views.common import error_page

        return error_page(request, message, status=status, title=title)
    context = {"title": title, "message": message, "status": status}
    if status == 500:
        # Rendered without the request: no context processor may touch the database or
        # the session, which may be what failed.
        return HttpResponse(loader.render_to_string("error.html", context), status=500)
    return render(request, "error.html", context, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _answer(request, 400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _answer(request, 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        detail = (
            f"There is no API endpoint at {request.path}. "
            f"The operations are listed at {reverse('api-docs')}."
        )
        return _answer(request, 404, detail)
    return _answer(
        request,
        404,
        f"There is no page at {request.path}. Check the address, or go back to your files.",
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a form posted from an expired page or another site."""
    return _answer(
        request,
        403,
        "This form has expired or did not come from this site. Reload the page and try again.",
    )


def server_error(request: HttpRequest) -> HttpResponse:
    return _answer(request, 500)
