"""Writes to saved searches. Every value passes the search engine's own validation, so a
saved search can always be run (until its folder is deleted, which it then reports)."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from files import tree
from files.models import Node
from search.errors import (
    InvalidProfile,
    ProfileNameConflict,
    ProfileNotFound,
    SearchFolderNotFound,
)
from search.models import SearchProfile
from search.selectors import PROFILE_LABELS, profile_search_query

MAX_PROFILE_NAME = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Unset(enum.Enum):
    """Marks a field ``profile_update`` leaves as it is."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


def _clean_name(name: object) -> str:
    if not isinstance(name, str):
        raise InvalidProfile("A saved search's name must be text.", field="name")
    if _CONTROL.search(name):
        raise InvalidProfile(
            "A saved search's name cannot contain control characters.", field="name"
        )
    name = " ".join(unicodedata.normalize("NFC", name).split())
    if not name:
        raise InvalidProfile("Give the saved search a name.", field="name")
    if len(name) > MAX_PROFILE_NAME:
        raise InvalidProfile(
            f"A saved search's name can be at most {MAX_PROFILE_NAME} characters.", field="name"
        )
    return name


def _check_scope(scope: Node, owner: User) -> str:
    """The path of ``scope`` if it is one of the owner's live folders."""
    if scope.owner_id != owner.pk or not scope.is_folder:
        raise SearchFolderNotFound(
            "No such folder to search in ({param}).", param="in", labels=PROFILE_LABELS
        )
    if scope.trashed_at is not None:
        raise SearchFolderNotFound(
            "The folder to search in ({param}) is in the trash; restore it first.",
            param="in",
            labels=PROFILE_LABELS,
        )
    return tree.path_of(scope)


def _apply(profile: SearchProfile, values: dict[str, Any]) -> SearchProfile:
    """Validate ``values`` (every field but scope) and set their normalised form."""
    name = _clean_name(values["name"])
    query = profile_search_query(
        query=values["query"],
        file_types=values["file_types"],
        extensions=values["extensions"],
        size_min=values["size_min"],
        size_max=values["size_max"],
        date_from=values["date_from"],
        date_to=values["date_to"],
        tags=values["tags"],
        tag_mode=values["tag_mode"],
        favorites_only=values["favorites_only"],
        scope_id=profile.scope_id,
        sort=values["sort"],
    )
    clash = SearchProfile.objects.filter(owner_id=profile.owner_id, name__iexact=name)
    if profile.pk is not None:
        clash = clash.exclude(pk=profile.pk)
    if clash.exists():
        raise _name_conflict(name)
    profile.name = name
    profile.query = query.q
    profile.file_types = list(query.types)
    profile.extensions = list(query.extensions)
    profile.size_min = query.size_min
    profile.size_max = query.size_max
    profile.date_from = values["date_from"]
    profile.date_to = values["date_to"]
    profile.tags = list(query.tags)
    profile.tag_mode = query.tag_mode
    profile.favorites_only = values["favorites_only"]
    profile.sort = query.ordering
    return profile


def _name_conflict(name: str) -> ProfileNameConflict:
    return ProfileNameConflict(
        f"You already have a saved search named “{name}”; choose another name.", field="name"
    )


def _save(profile: SearchProfile) -> SearchProfile:
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        # Another request saved the same name between our check and this write.
        raise _name_conflict(profile.name) from None
    return profile


@transaction.atomic
def profile_create(
    *,
    owner: User,
    name: str,
    query: str = "",
    file_types: Sequence[str] = (),
    extensions: Sequence[str] = (),
    size_min: int | None = None,
    size_max: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    tags: Sequence[str] = (),
    tag_mode: str = "any",
    favorites_only: bool = False,
    scope: Node | None = None,
    sort: str = "relevance",
) -> SearchProfile:
    """Save a search. ``scope`` must be one of the owner's live folders."""
    profile = SearchProfile(owner=owner)
    if scope is not None:
        profile.scope_path = _check_scope(scope, owner)
        profile.scope = scope
    values = {
        "name": name,
        "query": query,
        "file_types": list(file_types),
        "extensions": list(extensions),
        "size_min": size_min,
        "size_max": size_max,
        "date_from": date_from,
        "date_to": date_to,
        "tags": list(tags),
        "tag_mode": tag_mode,
        "favorites_only": favorites_only,
        "sort": sort,
    }
    return _save(_apply(profile, values))


@transaction.atomic
def profile_update(
    *,
    profile: SearchProfile,
    name: str | Unset = UNSET,
    query: str | Unset = UNSET,
    file_types: Sequence[str] | Unset = UNSET,
    extensions: Sequence[str] | Unset = UNSET,
    size_min: int | Unset | None = UNSET,
    size_max: int | Unset | None = UNSET,
    date_from: date | Unset | None = UNSET,
    date_to: date | Unset | None = UNSET,
    tags: Sequence[str] | Unset = UNSET,
    tag_mode: str | Unset = UNSET,
    favorites_only: bool | Unset = UNSET,
    scope: Node | Unset | None = UNSET,
    sort: str | Unset = UNSET,
) -> SearchProfile:
    """Change the given fields (rename, refine, move to another folder); the others stay.

    A folder that has gone missing may stay as it is while other fields change, so the
    owner can still rename the search; choosing a folder checks it again."""
    locked = SearchProfile.objects.select_for_update().filter(pk=profile.pk).first()
    if locked is None:
        raise ProfileNotFound("This saved search no longer exists.")
    profile = locked
    given = {
        "name": name,
        "query": query,
        "file_types": file_types,
        "extensions": extensions,
        "size_min": size_min,
        "size_max": size_max,
        "date_from": date_from,
        "date_to": date_to,
        "tags": tags,
        "tag_mode": tag_mode,
        "favorites_only": favorites_only,
        "sort": sort,
    }
    values: dict[str, Any] = {
        key: getattr(profile, key) if value is UNSET else value for key, value in given.items()
    }
    for key in ("file_types", "extensions", "tags"):
        if isinstance(values[key], tuple):
            values[key] = list(values[key])
    if scope is not UNSET:
        if scope is None:
            profile.scope, profile.scope_path = None, ""
        else:
            profile.scope_path = _check_scope(scope, profile.owner)
            profile.scope = scope
    return _save(_apply(profile, values))


@transaction.atomic
def profile_delete(*, profile: SearchProfile) -> None:
    profile.delete()
