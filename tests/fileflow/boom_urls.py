"""The project's URLs plus views that fail, to test the 403/400/500 answers."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from fileflow.urls import (  # noqa: F401 (Django reads the handlers from this module)
    handler400,
    handler403,
    handler404,
    handler500,
    urlpatterns,
)


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("bad")


urlpatterns = [
    *urlpatterns,
    *[
        path(f"{prefix}{name}/", view)
        for prefix in ("api/v1/", "")
        for name, view in (("boom", boom), ("forbidden", forbidden), ("suspicious", suspicious))
    ],
]
