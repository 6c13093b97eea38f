"""What the search engine and the saved-search services refuse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from fileflow.errors import Conflict, DomainError, NotFound


class _Names(dict[str, str]):
    """Format mapping: a ``{placeholder}`` without a value stands for itself."""

    def __missing__(self, key: str) -> str:
        return key


class InvalidSearch(DomainError):
    """A search parameter (or saved-search field) has a value that cannot be used.

    Messages are templates whose ``{placeholders}`` are parameter names (``{param}`` is the
    one at fault), so the same check
    can speak of ``size_min`` to an API caller and of ``date_from`` to someone editing a
    saved search (:meth:`relabel`). Values from the request go in ``values``, never into
    the template itself, so braces in user input cannot break the formatting.
    """

    code = "invalid_search"

    def __init__(
        self,
        template: str,
        *,
        param: str,
        values: Mapping[str, Any] | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.values = dict(values or {})
        names = _Names(labels or {})
        values_text = {key: str(value) for key, value in self.values.items()}
        message = template.format_map(_Names({**names, "param": names[param], **values_text}))
        super().__init__(message, field=names[param])
        self.param = param

    def relabel(self, labels: Mapping[str, str]) -> Self:
        return type(self)(self.template, param=self.param, values=self.values, labels=labels)


class SearchFolderNotFound(InvalidSearch, NotFound):
    """The folder to search in is not one of the caller's live folders."""

    status_code = 404
    code = "not_found"


class ProfileNotFound(NotFound):
    code = "not_found"


class ProfileNameConflict(Conflict):
    code = "name_conflict"


class InvalidProfile(DomainError):
    code = "invalid_profile"


class SearchUnavailable(DomainError):
    """Search inside documents cannot run on this server as configured (an operator's
    setting is wrong, e.g. ``FILEFLOW_SEARCH_CONFIG``): 503, saying which setting."""

    status_code = 503
    code = "search_unavailable"
