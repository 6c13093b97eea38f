"""Reads of saved searches, and running them through the search engine."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from search.engine import SearchPage, search
from search.errors import InvalidSearch
from search.models import SearchProfile
from search.query import DEFAULT_LIMIT, SearchQuery, day_end, day_start

# Search parameters and the saved-search fields that hold them, so a refusal names the
# field the person is editing.
PROFILE_LABELS: dict[str, str] = {
    "q": "query",
    "type": "file_types",
    "ext": "extensions",
    "modified_after": "date_from",
    "modified_before": "date_to",
    "tag": "tags",
    "favorite": "favorites_only",
    "in": "scope",
    "ordering": "sort",
}


def profile_list(*, user: User | AnonymousUser) -> QuerySet[SearchProfile]:
    return (
        SearchProfile.objects.visible_to(user).select_related("scope").order_by(Lower("name"), "id")
    )


def _items(value: object, param: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidSearch("{param} must be a list.", param=param, labels=PROFILE_LABELS)
    return tuple(value)


def profile_search_query(
    *,
    query: str,
    file_types: Sequence[str],
    extensions: Sequence[str],
    size_min: int | None,
    size_max: int | None,
    date_from: date | None,
    date_to: date | None,
    tags: Sequence[str],
    tag_mode: str,
    favorites_only: bool,
    scope_id: int | None,
    sort: str,
) -> SearchQuery:
    """The :class:`SearchQuery` a saved search stands for; refusals name profile fields."""
    if not isinstance(favorites_only, bool):
        raise InvalidSearch("{param} must be true or false.", param="favorite").relabel(
            PROFILE_LABELS
        )
    try:
        for value, name in ((date_from, "modified_after"), (date_to, "modified_before")):
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                raise InvalidSearch("{param} must be a date.", param=name)
        return SearchQuery(
            q=query,
            types=_items(file_types, "type"),
            extensions=_items(extensions, "ext"),
            size_min=size_min,
            size_max=size_max,
            modified_after=day_start(date_from) if date_from else None,
            modified_before=day_end(date_to) if date_to else None,
            tags=_items(tags, "tag"),
            tag_mode=tag_mode,  # type: ignore[arg-type]
            favorite=True if favorites_only else None,
            folder_id=scope_id,
            ordering=sort,
        )
    except InvalidSearch as exc:
        raise exc.relabel(PROFILE_LABELS) from None


def profile_query(profile: SearchProfile) -> SearchQuery:
    return profile_search_query(
        query=profile.query,
        file_types=profile.file_types,
        extensions=profile.extensions,
        size_min=profile.size_min,
        size_max=profile.size_max,
        date_from=profile.date_from,
        date_to=profile.date_to,
        tags=profile.tags,
        tag_mode=profile.tag_mode,
        favorites_only=profile.favorites_only,
        scope_id=profile.scope_id,
        sort=profile.sort,
    )


def profile_run(
    *,
    user: User | AnonymousUser,
    profile: SearchProfile,
    limit: int = DEFAULT_LIMIT,
    offset: int = 0,
    with_total: bool = True,
) -> SearchPage:
    """Run a saved search as ``user``. A search whose folder is gone answers no hits and a
    notice saying so, instead of failing."""
    problem = profile.scope_problem
    if problem is not None:
        return SearchPage(
            hits=[], limit=limit, offset=offset, has_more=False, total=0, notice=problem
        )
    query = profile_query(profile)
    try:
        return search(user=user, query=query, limit=limit, offset=offset, with_total=with_total)
    except InvalidSearch as exc:
        if exc.param in ("limit", "offset"):
            raise
        raise exc.relabel(PROFILE_LABELS) from None
