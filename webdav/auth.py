"""HTTP Basic for WebDAV: the user name with a personal access token, or with the account
password unless ``FILEFLOW_DAV_ALLOW_PASSWORD`` is off. Failures count like failed log-ins
(django-axes), and a locked-out name or address is refused like a locked-out log-in."""

from __future__ import annotations

import base64
import binascii

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest

from accounts.lockout import lockout_message
from accounts.models import User
from accounts.services import token_authenticate
from fileflow.errors import DomainError

REALM = "FileFlow WebDAV"


class NotAuthenticated(DomainError):
    status_code = 401
    code = "not_authenticated"


class LockedOut(DomainError):
    status_code = 429
    code = "locked_out"


def _how() -> str:
    if settings.FILEFLOW_DAV_ALLOW_PASSWORD:
        return "your user name and a personal access token (or your password)"
    return "your user name and a personal access token"


def basic_credentials(request: HttpRequest) -> tuple[str, str]:
    """The user name and secret of an ``Authorization: Basic`` header."""
    scheme, _, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic":
        raise NotAuthenticated(f"Sign in with {_how()}.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated(
            "The Authorization header is not valid Basic credentials (base64 of name:secret)."
        ) from None
    username, separator, secret = decoded.partition(":")
    if not separator or not username or not secret:
        raise NotAuthenticated(f"Sign in with {_how()}.")
    return username, secret


def dav_authenticate(request: HttpRequest) -> User:
    """The user the request's Basic credentials name, or NotAuthenticated / LockedOut."""
    username, secret = basic_credentials(request)
    token = token_authenticate(raw=secret)
    if (
        token is not None
        and token.user.is_active
        and token.user.get_username().casefold() == username.casefold()
    ):
        return token.user
    credentials = {"username": username}
    if AxesProxyHandler.is_locked(request, credentials=credentials):
        raise LockedOut(lockout_message(request))
    if settings.FILEFLOW_DAV_ALLOW_PASSWORD:
        # authenticate() reports a failure to axes itself (user_login_failed).
        user = authenticate(request, username=username, password=secret)
        if isinstance(user, User) and user.is_active:
            return user
    else:
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
    if getattr(request, "axes_locked_out", False):
        raise LockedOut(lockout_message(request))
    raise NotAuthenticated(f"Wrong user name or token. Sign in with {_how()}.")
