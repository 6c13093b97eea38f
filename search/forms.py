"""Forms of the search pages. They only shape what the person typed into search parameters;
the search engine (:class:`~search.query.SearchQuery`) decides what is valid and says what
is wrong, and :meth:`SearchForm.add_search_error` puts its message next to the field.

Field names are the API's parameter names (``q``, ``type``, ``size_min``, ``in``, …), so a
results page URL and an API URL take the same query string.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django.utils.dateparse import parse_date

from accounts.models import User
from files import selectors
from files.models import Node
from files.places import places_of
from search.categories import CATEGORY_KEYS, FILE_CATEGORIES
from search.engine import resolve_folder
from search.errors import InvalidProfile, InvalidSearch
from search.models import SearchProfile
from search.query import SearchQuery

# How a refusal names each parameter on the page (the engine's messages name parameters).
FIELD_LABELS: dict[str, str] = {
    "q": "Words",
    "type": "Type",
    "ext": "Extensions",
    "size_min": "Minimum size",
    "size_max": "maximum size",
    "modified_after": "Modified after",
    "modified_before": "modified before",
    "created_after": "Created after",
    "created_before": "created before",
    "tag": "Tags",
    "tag_mode": "Tag match",
    "favorite": "Favourites",
    "in": "Folder",
    "trash": "Trash",
    "ordering": "Sort order",
}
# The parameters that narrow a search; a page with none of them shows the form only.
CRITERIA = (
    "q",
    "type",
    "ext",
    "size_min",
    "size_max",
    "modified_after",
    "modified_before",
    "created_after",
    "created_before",
    "tag",
    "favorite",
    "in",
    "trash",
)
# Everything that describes a search (not the page shown, nor the view).
SEARCH_PARAMS = (*CRITERIA, "tag_mode", "ordering")
SIZE_UNITS = [("B", "bytes"), ("KB", "KB"), ("MB", "MB"), ("GB", "GB"), ("TB", "TB")]
_UNIT_BYTES = {"B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_NUMBER_AND_UNIT = re.compile(r"^(\d+(?:\.\d+)?)\s*([A-Za-z]+)$")
ORDERING_CHOICES = [
    ("relevance", "Best match"),
    ("name", "Name, A to Z"),
    ("-name", "Name, Z to A"),
    ("-modified", "Last modified, newest first"),
    ("modified", "Last modified, oldest first"),
    ("-created", "Created, newest first"),
    ("created", "Created, oldest first"),
    ("-size", "Size, largest first"),
    ("size", "Size, smallest first"),
]
TYPE_LABELS = {"folder": "Folders", "other": "Other files"} | {
    c.key: c.label for c in FILE_CATEGORIES
}
# Folders offered in the "Search in" list; a bigger tree still works by URL (``in=<id>``).
MAX_FOLDER_CHOICES = 500


def _getlist(data: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(data, "getlist", None)
    values = getlist(name) if getlist else data.get(name)
    if values is None:
        return []
    return [str(v) for v in (values if isinstance(values, list | tuple) else [values])]


class CommaListInput(forms.TextInput):
    """A text box for a list parameter: ``tag=a&tag=b`` and ``tag=a,b`` both show "a, b"."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> str:
        parts = [p.strip() for v in _getlist(data, name) for p in v.split(",")]
        return ", ".join(p for p in parts if p)


class TypeCheckboxes(forms.CheckboxSelectMultiple):
    """``type=image&type=pdf`` or ``type=image,pdf``; unknown values are kept, so the
    engine can say what is wrong with them."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        parts = [p.strip().lower() for v in _getlist(data, name) for p in v.split(",")]
        return [p for p in parts if p]


class ListField(forms.Field):
    widget = TypeCheckboxes

    def to_python(self, value: Any) -> list[str]:
        return list(value or [])


def _text(label: str, **attrs: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", **attrs}),
    )


def _day(label: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=100, widget=forms.DateInput(attrs={"type": "date"})
    )


def _size(label: str) -> forms.CharField:
    return _text(label, inputmode="decimal", placeholder="any", size="8")


def _unit(label: str) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=SIZE_UNITS)


class SearchForm(forms.Form):
    """The query box and the filter panel of ``/search/``."""

    q = forms.CharField(
        label="Words in the name",
        required=False,
        max_length=2000,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "placeholder": "Search your files"}
        ),
    )
    type = ListField(
        label="Type",
        required=False,
        widget=TypeCheckboxes(choices=[(key, TYPE_LABELS.get(key, key)) for key in CATEGORY_KEYS]),
    )
    ext = forms.CharField(
        label="Extensions",
        required=False,
        max_length=2000,
        widget=CommaListInput(attrs={"autocomplete": "off", "placeholder": "pdf, docx"}),
    )
    size_min = _size("Minimum size")
    size_min_unit = _unit("Unit of the minimum size")
    size_max = _size("Maximum size")
    size_max_unit = _unit("Unit of the maximum size")
    modified_after = _day("Modified after")
    modified_before = _day("Modified before")
    created_after = _day("Created after")
    created_before = _day("Created before")
    tag = forms.CharField(
        label="Tags",
        required=False,
        max_length=2000,
        widget=CommaListInput(
            attrs={"autocomplete": "off", "list": "known-tags", "placeholder": "work, 2026"}
        ),
    )
    tag_mode = forms.CharField(
        label="Items with",
        required=False,
        widget=forms.RadioSelect(choices=[("any", "any of the tags"), ("all", "all of the tags")]),
    )
    favorite = forms.CharField(
        label="Favourites",
        required=False,
        widget=forms.Select(
            choices=[
                ("", "Favourite or not"),
                ("true", "Favourites only"),
                ("false", "Not favourites"),
            ]
        ),
    )
    trash = forms.CharField(
        label="Trash",
        required=False,
        widget=forms.Select(
            choices=[
                ("exclude", "Leave out the trash"),
                ("include", "Include the trash"),
                ("only", "Only the trash"),
            ]
        ),
    )
    ordering = forms.CharField(
        label="Sort by", required=False, widget=forms.Select(choices=ORDERING_CHOICES)
    )

    def __init__(self, data: Mapping[str, Any] | None, *, user: User) -> None:
        super().__init__(_with_defaults(data) if data is not None else None)
        self.user = user
        # "in" is a keyword, so this field cannot be declared on the class.
        self.fields["in"] = forms.CharField(
            label="Search in",
            required=False,
            max_length=100,
            widget=forms.Select(choices=self._folder_choices(data)),
        )
        self.order_fields(["q", "type", "ext", "size_min", "size_min_unit", "size_max"])

    def _folder_choices(self, data: Mapping[str, Any] | None) -> list[tuple[str, str]]:
        folders = selectors.live_folders(self.user, limit=MAX_FOLDER_CHOICES)
        asked = _getlist(data, "in")[-1:] if data is not None else []
        if asked and asked[0].isdigit() and all(str(f.pk) != asked[0] for f in folders):
            extra = Node.objects.visible_to(self.user).filter(pk=int(asked[0]), is_folder=True)
            folders.extend(extra.filter(trashed_at__isnull=True)[:1])
        # Folders shared with the person read "Shared with me/Q3", as in the results.
        places = places_of(self.user, folders)
        choices = sorted(
            ((str(f.pk), places[f.pk].path) for f in folders), key=lambda c: c[1].lower()
        )
        return [("", "All your files"), *choices]

    def full_clean(self) -> None:
        super().full_clean()
        # Errors added later come from the engine; these are the form's own (too long, …).
        self._shape_ok = not self.errors

    @property
    def shape_ok(self) -> bool:
        """The form's own checks passed (run on first use); the engine has not spoken yet."""
        _ = self.errors  # runs the form's own checks, once
        return self._shape_ok

    @property
    def scope(self) -> forms.BoundField:
        return self["in"]

    # --- to the engine ----------------------------------------------------------------

    def params(self) -> dict[str, Any]:
        """The search parameters, as ``GET /api/v1/search/`` takes them."""
        if not self.is_bound:
            raise InvalidSearch("Type something to search for.", param="q")
        if not self.shape_ok:
            # The message is already next to the field; this only stops the search.
            raise InvalidSearch("Check {param}.", param=next(iter(self.errors)))
        data = self.cleaned_data
        params: dict[str, Any] = {name: data.get(name) or "" for name in SEARCH_PARAMS}
        for name in ("size_min", "size_max"):
            raw = params[name].strip()
            unit = data.get(f"{name}_unit") or ""
            params[name] = raw + unit if raw and unit and _NUMBER.match(raw) else raw
        return params

    def search_query(self) -> SearchQuery:
        return SearchQuery.from_params(self.params())

    def _given(self, names: tuple[str, ...]) -> bool:
        if not self.is_bound:
            return False
        for name in names:
            values = [v.strip().lower() for v in _getlist(self.data, name) if v.strip()]
            defaults = {"trash": "exclude", "ordering": "relevance"}
            if any(v != defaults.get(name) for v in values):
                return True
        return False

    @property
    def has_criteria(self) -> bool:
        """Something to search for; a bare page shows the form only."""
        return self._given(CRITERIA)

    @property
    def has_filters(self) -> bool:
        """Something beyond the words is set: the filter panel opens by itself."""
        return self._given((*CRITERIA[1:], "ordering"))

    def add_search_error(self, exc: InvalidSearch | InvalidProfile) -> None:
        """Show a refusal next to the field it is about, in the page's words."""
        param = getattr(exc, "param", None) or exc.field
        message = (
            exc.relabel(FIELD_LABELS).message if isinstance(exc, InvalidSearch) else exc.message
        )
        message = message[:1].upper() + message[1:]
        self.add_error(param if param in self.fields else None, message)

    def hidden_items(self) -> list[tuple[str, str]]:
        """The search as hidden inputs, for the forms that save it."""
        if not self.is_bound:
            return []
        keep = {*SEARCH_PARAMS, "size_min_unit", "size_max_unit"}
        return [(k, v) for k in self.data if k in keep for v in _getlist(self.data, k) if v]


def _with_defaults(data: Mapping[str, Any]) -> QueryDict:
    """The data as the form shows it: ``size_min=10MB`` as 10 in the box and MB in the unit
    list (a bare number is bytes, as in the API); "any of the tags" chosen by default."""
    copy = QueryDict(mutable=True)
    if isinstance(data, MultiValueDict):
        for key, values in data.lists():
            copy.setlist(key, values)
    else:
        for key, value in data.items():
            copy.setlist(key, value if isinstance(value, list) else [value])
    if not copy.get("tag_mode"):
        copy["tag_mode"] = "any"
    for name in ("size_min", "size_max"):
        raw = (copy.get(name) or "").strip()
        if copy.get(f"{name}_unit"):
            continue
        match = _NUMBER_AND_UNIT.match(raw)
        if match and match.group(2).upper() in _UNIT_BYTES:
            copy[name] = match.group(1)
            copy[f"{name}_unit"] = match.group(2).upper()
        elif _NUMBER.match(raw):
            copy[f"{name}_unit"] = "B"  # the API's bare numbers are bytes
        elif not raw:
            copy[f"{name}_unit"] = "MB"  # what a person typing a size most often means
    return copy


# --- saved searches --------------------------------------------------------------------


class ProfileNameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=1000,
        strip=False,
        error_messages={"required": "Give the saved search a name."},
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "maxlength": "100", "placeholder": "e.g. Big photos"}
        ),
    )


def _bytes_in_unit(size: int | None) -> tuple[str, str]:
    """A byte count as the form shows it: 5000000 → ("5", "MB")."""
    if size is None:
        return "", ""
    for unit in ("TB", "GB", "MB", "KB"):
        if size and size % _UNIT_BYTES[unit] == 0:
            return str(size // _UNIT_BYTES[unit]), unit
    return str(size), "B"


def profile_params(profile: SearchProfile) -> QueryDict:
    """The results page's query string for a saved search (to show and refine it)."""
    params = QueryDict(mutable=True)
    params["q"] = profile.query
    params.setlist("type", list(profile.file_types))
    params["ext"] = ", ".join(profile.extensions)
    for name in ("size_min", "size_max"):
        number, unit = _bytes_in_unit(getattr(profile, name))
        params[name], params[f"{name}_unit"] = number, unit
    params["modified_after"] = profile.date_from.isoformat() if profile.date_from else ""
    params["modified_before"] = profile.date_to.isoformat() if profile.date_to else ""
    params["tag"] = ", ".join(profile.tags)
    params["tag_mode"] = profile.tag_mode
    params["favorite"] = "true" if profile.favorites_only else ""
    params["in"] = str(profile.scope_id) if profile.scope_id and not profile.scope_missing else ""
    params["ordering"] = profile.sort
    return params


def _day_of(raw: str, param: str) -> date | None:
    if not raw:
        return None
    day = parse_date(raw)
    if day is None:
        raise InvalidSearch(
            "{param}: a saved search keeps whole days; choose a date without a time.",
            param=param,
        )
    return day


def profile_fields(form: SearchForm) -> dict[str, Any]:
    """What ``profile_create``/``profile_update`` take for the form's search. A filter a
    saved search cannot keep is refused, naming it, rather than silently dropped."""
    params = form.params()
    query = SearchQuery.from_params(params)
    for param in ("created_after", "created_before"):
        if params[param]:
            raise InvalidProfile(
                "A saved search cannot keep creation dates yet; clear them to save this search.",
                field=param,
            )
    if query.trash != "exclude":
        raise InvalidProfile(
            "A saved search leaves out the trash; choose “Leave out the trash” to save it.",
            field="trash",
        )
    if query.favorite is False:
        raise InvalidProfile(
            "A saved search can keep “Favourites only” but not “Not favourites”.",
            field="favorite",
        )
    scope = None
    if query.folder_id is not None:
        scope = resolve_folder(user=form.user, folder_id=query.folder_id)
    return {
        "query": query.q,
        "file_types": list(query.types),
        "extensions": list(query.extensions),
        "size_min": query.size_min,
        "size_max": query.size_max,
        "date_from": _day_of(params["modified_after"], "modified_after"),
        "date_to": _day_of(params["modified_before"], "modified_before"),
        "tags": list(query.tags),
        "tag_mode": query.tag_mode,
        "favorites_only": query.favorite is True,
        "scope": scope,
        "sort": query.ordering,
    }
