"""API plumbing shared by every app: the exception handler."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from rest_framework.exceptions import NotAuthenticated
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
    if isinstance(exc, NotAuthenticated):
        exc = NotAuthenticated(_not_authenticated_message(context.get("request")))
    return drf_exception_handler(exc, context)


def _not_authenticated_message(request: Request | None) -> str:
    """Say how to authenticate, and how to get a first token (DRF says only that no
    credentials were given, even to a client that sent a user name and password)."""
    tokens = reverse("api:token-list")
    if request is not None:
        tokens = request.build_absolute_uri(tokens)
    return (
        "Send a token as 'Authorization: Bearer <token>'. Make one on the account page "
        f"(/account/), or with your user name and password at POST {tokens} "
        f"(e.g. curl -u alice -d name=backup {tokens}); user name and password are "
        "accepted nowhere else."
    )
