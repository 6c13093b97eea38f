"""Domain errors raised by services.

Services raise these; one DRF exception handler (:mod:`fileflow.api`) and the web views turn
them into a 4xx answer whose message a person can act on. Each app subclasses
:class:`DomainError` for its own failures.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request that cannot be carried out as asked; nothing was changed."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
