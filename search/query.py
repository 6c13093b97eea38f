"""What a search asks for: :class:`SearchQuery`, typed and validated in one place.

Request parameters (:meth:`SearchQuery.from_params`), saved searches
(:mod:`search.selectors`) and code all build the same dataclass, so every caller gets the
same rules and the same messages: a bad value raises :class:`~search.errors.InvalidSearch`,
a 400 that names the parameter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any, Literal, cast

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from search.categories import CATEGORY_KEYS
from search.errors import InvalidSearch, SearchFolderNotFound

TrashMode = Literal["exclude", "include", "only"]
TagMode = Literal["any", "all"]

TRASH_MODES: tuple[str, ...] = ("exclude", "include", "only")
TAG_MODES: tuple[str, ...] = ("any", "all")
ORDERING_KEYS: tuple[str, ...] = ("relevance", "name", "size", "modified", "created")
ORDERINGS: tuple[str, ...] = tuple(k for key in ORDERING_KEYS for k in (key, f"-{key}"))

MAX_QUERY_LENGTH = 255
MAX_WORDS = 10
MAX_LIST_ITEMS = 20
MAX_TAG_LENGTH = 64
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
_MAX_BIGINT = 2**63 - 1
# Tabs and line breaks are just spaces in a query; other control characters are refused.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_EXTENSION = re.compile(r"^[a-z0-9_+-]{1,16}$")
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]*)$")
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _clean_text(value: object, param: str) -> str:
    if not isinstance(value, str):
        raise InvalidSearch("{param} must be text.", param=param)
    if _CONTROL.search(value):
        raise InvalidSearch(
            "{param} cannot contain control characters (such as NUL or newline).", param=param
        )
    return " ".join(unicodedata.normalize("NFC", value).split())


def _clean_list(values: Iterable[object], param: str) -> tuple[str, ...]:
    cleaned: list[str] = []
    for value in values:
        text = _clean_text(value, param)
        if text and text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_LIST_ITEMS:
        raise InvalidSearch(
            "{param} can list at most {limit} values.",
            param=param,
            values={"limit": MAX_LIST_ITEMS},
        )
    return tuple(cleaned)


def _check_size(value: object, param: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSearch("{param} must be a whole number of bytes.", param=param)
    if value < 0:
        raise InvalidSearch("{param} cannot be negative.", param=param)
    if value > _MAX_BIGINT:
        raise InvalidSearch("{param} is too large.", param=param)
    return value


def _check_moment(value: object, param: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise InvalidSearch("{param} must be a date and time.", param=param)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise InvalidSearch("{param} is out of range.", param=param) from None
    return value


def _check_range(low: Any, high: Any, low_param: str, high_param: str, what: str) -> None:
    if low is not None and high is not None and low > high:
        template = "{" + low_param + "} cannot be " + what + " than {" + high_param + "}."
        raise InvalidSearch(template, param=low_param)


@dataclass(frozen=True)
class SearchQuery:
    """What to look for. Made from request parameters (:meth:`from_params`) or typed values;
    either way it is normalised and validated here, so every caller gets the same rules.

    Error messages name the API parameter (``in`` for :attr:`folder_id`, ``type`` for
    :attr:`types`, …).
    """

    q: str = ""
    types: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    size_min: int | None = None
    size_max: int | None = None
    modified_after: datetime | None = None
    modified_before: datetime | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    tags: tuple[str, ...] = ()
    tag_mode: TagMode = "any"
    favorite: bool | None = None
    folder_id: int | None = None
    trash: TrashMode = "exclude"
    ordering: str = "relevance"
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        q = _clean_text(self.q, "q")
        if len(q) > MAX_QUERY_LENGTH:
            raise InvalidSearch(
                "{param} can be at most {limit} characters.",
                param="q",
                values={"limit": MAX_QUERY_LENGTH},
            )
        words = tuple(dict.fromkeys(q.split()))
        if len(words) > MAX_WORDS:
            raise InvalidSearch(
                "{param} can have at most {limit} words.", param="q", values={"limit": MAX_WORDS}
            )
        set_(self, "q", q)
        set_(self, "words", words)

        types = tuple(t.lower() for t in _clean_list(self.types, "type"))
        for key in types:
            if key not in CATEGORY_KEYS:
                raise InvalidSearch(
                    "{param}: “{value}” is not a file type; use one of {choices}.",
                    param="type",
                    values={"value": key, "choices": ", ".join(CATEGORY_KEYS)},
                )
        set_(self, "types", types)

        extensions = tuple(e.lower().lstrip(".") for e in _clean_list(self.extensions, "ext"))
        for ext in extensions:
            if not _EXTENSION.match(ext):
                raise InvalidSearch(
                    "{param}: “{value}” is not an extension; give what follows the last dot "
                    "of a name, such as pdf or gz (letters, digits, _ + -; up to 16).",
                    param="ext",
                    values={"value": ext},
                )
        set_(self, "extensions", tuple(dict.fromkeys(extensions)))

        set_(self, "size_min", _check_size(self.size_min, "size_min"))
        set_(self, "size_max", _check_size(self.size_max, "size_max"))
        _check_range(self.size_min, self.size_max, "size_min", "size_max", "larger")
        for name in ("modified_after", "modified_before", "created_after", "created_before"):
            set_(self, name, _check_moment(getattr(self, name), name))
        _check_range(
            self.modified_after, self.modified_before, "modified_after", "modified_before", "later"
        )
        _check_range(
            self.created_after, self.created_before, "created_after", "created_before", "later"
        )

        tags = _clean_list(self.tags, "tag")
        for tag in tags:
            if len(tag) > MAX_TAG_LENGTH:
                raise InvalidSearch(
                    "{param}: a tag has at most {limit} characters.",
                    param="tag",
                    values={"limit": MAX_TAG_LENGTH},
                )
        set_(self, "tags", tags)
        if self.tag_mode not in TAG_MODES:
            raise InvalidSearch("{param} must be “any” or “all”.", param="tag_mode")
        if self.favorite is not None and not isinstance(self.favorite, bool):
            raise InvalidSearch("{param} must be true or false.", param="favorite")
        if self.folder_id is not None and (
            isinstance(self.folder_id, bool)
            or not isinstance(self.folder_id, int)
            or not 0 < self.folder_id <= _MAX_BIGINT
        ):
            raise SearchFolderNotFound("No such folder to search in ({param}).", param="in")
        if self.trash not in TRASH_MODES:
            raise InvalidSearch(
                "{param} must be one of exclude (the default), include or only.", param="trash"
            )
        if self.ordering not in ORDERINGS:
            raise InvalidSearch(
                "{param}: “{value}” is not a sort order; use one of {choices} "
                "(a leading - reverses it).",
                param="ordering",
                values={"value": self.ordering, "choices": ", ".join(ORDERING_KEYS)},
            )

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SearchQuery:
        """Parse request parameters (a ``QueryDict`` or a plain dict); empty values count
        as absent, so a form can send every field."""
        reader = _Params(params)
        return cls(
            q=reader.text("q"),
            types=reader.items("type"),
            extensions=reader.items("ext"),
            size_min=reader.size("size_min"),
            size_max=reader.size("size_max"),
            modified_after=reader.moment("modified_after", end_of_day=False),
            modified_before=reader.moment("modified_before", end_of_day=True),
            created_after=reader.moment("created_after", end_of_day=False),
            created_before=reader.moment("created_before", end_of_day=True),
            tags=reader.items("tag"),
            tag_mode=cast(TagMode, reader.text("tag_mode").lower() or "any"),
            favorite=reader.boolean("favorite"),
            folder_id=reader.folder("in"),
            trash=cast(TrashMode, reader.text("trash").lower() or "exclude"),
            ordering=reader.text("ordering").lower() or "relevance",
        )


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def day_end(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


class _Params:
    """Reads one kind of value per parameter, raising InvalidSearch that names it."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params

    def _all(self, name: str) -> list[str]:
        getlist = getattr(self.params, "getlist", None)
        values = getlist(name) if getlist else self.params.get(name)
        if values is None:
            return []
        values = values if isinstance(values, list | tuple) else [values]
        for value in values:
            if not isinstance(value, str):
                raise InvalidSearch("{param} must be text.", param=name)
        return list(values)

    def text(self, name: str) -> str:
        values = self._all(name)
        return values[-1].strip() if values else ""

    def items(self, name: str) -> tuple[str, ...]:
        """Repeated and/or comma-separated: ``type=image&type=pdf`` or ``type=image,pdf``."""
        return tuple(part for value in self._all(name) for part in value.split(","))

    def size(self, name: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        if raw.startswith("-"):
            raise InvalidSearch("{param} cannot be negative.", param=name)
        match = _SIZE.match(raw.lower())
        if not match or match.group(2) not in _SIZE_UNITS:
            raise InvalidSearch(
                "{param} must be a size in bytes such as 1048576, or with a unit (500KB, "
                "10MB, 2GiB); got “{value}”.",
                param=name,
                values={"value": raw[:40]},
            )
        try:
            return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)])
        except OverflowError:
            raise InvalidSearch("{param} is too large.", param=name) from None

    def moment(self, name: str, *, end_of_day: bool) -> datetime | None:
        raw = self.text(name)
        if not raw:
            return None
        try:
            day = parse_date(raw)
            if day is not None:
                return day_end(day) if end_of_day else day_start(day)
            moment = parse_datetime(raw)
        except (ValueError, OverflowError):
            raise InvalidSearch(
                "{param}: “{value}” is not a real date.", param=name, values={"value": raw[:40]}
            ) from None
        if moment is None:
            raise InvalidSearch(
                "{param} must be a date (2026-01-31) or a date and time "
                "(2026-01-31T14:30:00Z); got “{value}”.",
                param=name,
                values={"value": raw[:40]},
            )
        return moment

    def boolean(self, name: str) -> bool | None:
        raw = self.text(name).lower()
        if not raw:
            return None
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise InvalidSearch("{param} must be true or false.", param=name)

    def folder(self, name: str) -> int | None:
        raw = self.text(name)
        if not raw:
            return None
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
            raise SearchFolderNotFound("No such folder to search in ({param}).", param=name)
        return int(raw)

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        raw = self.text(name)
        if not raw:
            return default
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
            raise InvalidSearch("{param} must be a whole number.", param=name)
        value = int(raw)
        if not low <= value <= high:
            raise InvalidSearch(
                "{param} must be between {low} and {high}.",
                param=name,
                values={"low": low, "high": high},
            )
        return value


def page_params(params: Mapping[str, Any]) -> tuple[int, int]:
    """``limit`` (1-200, default 50) and ``offset`` (0 or more) from request parameters."""
    reader = _Params(params)
    limit = reader.integer("limit", default=DEFAULT_LIMIT, low=1, high=MAX_LIMIT)
    offset = reader.integer("offset", default=0, low=0, high=MAX_OFFSET)
    return limit, offset
