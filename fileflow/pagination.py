"""The API's one limit/offset pager: every listing that takes ``limit`` and ``offset``.

DRF's ``LimitOffsetPagination`` passes any offset to the database (2**63 overflows it: a 500)
and quietly replaces a malformed limit by the default. Here both are checked and a bad value
is a 400 naming the parameter and the range it must be in.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from fileflow.errors import DomainError

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# Far past any real listing, far below what a database offset can hold.
MAX_OFFSET = 1_000_000_000


class InvalidPage(DomainError):
    code = "invalid_page"


def whole_number(raw: str | None, *, name: str, default: int, low: int, high: int) -> int:
    """``raw`` as an int in ``low..high``; missing or empty is ``default``."""
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidPage(
            f"{name} must be a whole number from {low} to {high}, not {raw[:40]!r}.", field=name
        ) from None
    if not low <= value <= high:
        raise InvalidPage(f"{name} must be from {low} to {high}.", field=name)
    return value


class Pagination(LimitOffsetPagination):
    """``limit`` 1–1000 (default 100) and ``offset`` 0–1,000,000,000; answers
    ``{count, next, previous, results}``."""

    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_limit(self, request: Request) -> int:
        return whole_number(
            request.query_params.get(self.limit_query_param),
            name=self.limit_query_param,
            default=DEFAULT_LIMIT,
            low=1,
            high=MAX_LIMIT,
        )

    def get_offset(self, request: Request) -> int:
        return whole_number(
            request.query_params.get(self.offset_query_param),
            name=self.offset_query_param,
            default=0,
            low=0,
            high=MAX_OFFSET,
        )

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["schema"].update(minimum=1, maximum=MAX_LIMIT, default=DEFAULT_LIMIT)
            elif parameter["name"] == self.offset_query_param:
                parameter["schema"].update(minimum=0, maximum=MAX_OFFSET, default=0)
        return parameters


def paginate(queryset: QuerySet[Any], request: Request, view: Any) -> tuple[Pagination, list[Any]]:
    """The page of ``queryset`` the request asks for, and the pager that answers it."""
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator, list(page or [])
