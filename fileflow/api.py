"""API plumbing shared by every app: the exception handler."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import User
from fileflow.errors import DomainError


def user_of(request: Request | HttpRequest) -> User:
    """The signed-in user of a request whose view requires one (the API's permission,
    ``login_required`` on pages)."""
    user = request.user
    assert isinstance(user, User), "this view requires an authenticated user"
    return user


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn domain errors into JSON 4xx answers; everything else as DRF does it."""
    if isinstance(exc, DomainError):
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    return drf_exception_handler(exc, context)
