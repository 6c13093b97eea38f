"""Forms of the file browser's pages. They check shape only; the services decide the rules
(name rules, conflicts, quota) and their messages are attached to the field they concern."""

from __future__ import annotations

from typing import Any

from django import forms

from files import selectors
from files.selectors import SORT_KEYS, InvalidListing

NAME_ATTRS = {"autocomplete": "off", "spellcheck": "false", "maxlength": "255"}


class ListingForm(forms.Form):
    """The query string of a folder listing: ``?sort=&order=&view=&tag=&cursor=``."""

    sort = forms.ChoiceField(choices=[(key, key) for key in SORT_KEYS], required=False)
    order = forms.ChoiceField(choices=[("asc", "asc"), ("desc", "desc")], required=False)
    view = forms.ChoiceField(choices=[("list", "list"), ("grid", "grid")], required=False)
    tag = forms.CharField(max_length=64, required=False)
    cursor = forms.CharField(max_length=2000, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["sort"] = data.get("sort") or "name"
        data["order"] = data.get("order") or "asc"
        return data

    def first_error(self) -> str:
        field, errors = next(iter(self.errors.items()))
        return f"{field}: {errors[0]}"


class FolderCreateForm(forms.Form):
    name = forms.CharField(
        label="Folder name",
        max_length=1000,
        strip=False,
        widget=forms.TextInput(attrs={**NAME_ATTRS, "placeholder": "New folder"}),
    )


class RenameForm(forms.Form):
    name = forms.CharField(
        label="New name", max_length=1000, strip=False, widget=forms.TextInput(attrs=NAME_ATTRS)
    )


class UploadForm(forms.Form):
    """The plain multipart upload. The files themselves are read from ``request.FILES``."""

    ON_CONFLICT = [
        ("rename", "Keep both (add a number)"),
        ("replace", "Replace (keep the old one as a version)"),
        ("skip", "Skip that file"),
    ]
    on_conflict = forms.ChoiceField(
        label="If a file with the same name exists",
        choices=ON_CONFLICT,
        initial="rename",
        required=False,
    )

    def clean_on_conflict(self) -> str:
        return self.cleaned_data["on_conflict"] or "rename"


class TagsForm(forms.Form):
    tags = forms.CharField(
        label="Tags",
        max_length=2000,
        required=False,
        help_text="Separate tags with commas, e.g. “invoices, 2026”. Leave empty to remove all.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "list": "known-tags"}),
    )

    def clean_tags(self) -> list[str]:
        raw: str = self.cleaned_data["tags"]
        return [part.strip() for part in raw.split(",") if part.strip()]


class TargetFolderForm(forms.Form):
    """Move or copy: the folder chosen in the picker."""

    parent = forms.IntegerField(
        label="Folder", min_value=1, error_messages={"required": "Choose a folder."}
    )


def selected_ids(values: list[str]) -> list[int]:
    """The ids of checked items (``ids=1&ids=2``), in order, without repeats
    (:func:`files.selectors.parse_ids`, as a form error)."""
    try:
        return selectors.parse_ids(values)
    except InvalidListing as exc:
        raise forms.ValidationError(exc.message) from None
