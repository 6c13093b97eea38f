"""What the sharing services and pages refuse, each with its status code."""

from __future__ import annotations

from fileflow.errors import DomainError, NotFound


class InvalidShare(DomainError):
    code = "invalid_share"


class ShareNotFound(NotFound):
    code = "not_found"


class ShareUnavailable(DomainError):
    """The link exists but no longer opens: expired, revoked, used up, or its item is gone."""

    status_code = 410
    code = "link_unavailable"


class ShareForbidden(DomainError):
    """The link opens, but does not allow this (e.g. a download through a view-only link)."""

    status_code = 403
    code = "not_allowed"


class WrongPassword(DomainError):
    status_code = 403
    code = "wrong_password"


class TooManyAttempts(DomainError):
    status_code = 429
    code = "too_many_attempts"
