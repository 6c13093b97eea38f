"""Saved searches in the admin: operators can look and delete, owners edit their own.

Editing is left to the owners (API, web page): a saved search is a person's own tool, and
the admin writes nothing without the services (deletions go through
:func:`search.services.profile_delete`).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from fileflow.text import counted
from search.documents import text_queue
from search.models import BlobText, SearchProfile
from search.services import profile_delete


@admin.register(SearchProfile)
class SearchProfileAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "query",
        "sort",
        "scope_path",
        "scope_is_missing",
        "updated_at",
    ]
    list_filter = [("owner", admin.RelatedOnlyFieldListFilter), "favorites_only", "tag_mode"]
    search_fields = ["name", "query", "owner__username", "owner__email"]
    list_select_related = ["owner", "scope"]
    date_hierarchy = "updated_at"
    readonly_fields = [
        "owner",
        "name",
        "query",
        "file_types",
        "extensions",
        "size_min",
        "size_max",
        "date_from",
        "date_to",
        "tags",
        "tag_mode",
        "favorites_only",
        "scope",
        "scope_path",
        "scope_is_missing",
        "sort",
        "created_at",
        "updated_at",
    ]
    fields = tuple(readonly_fields)

    @admin.display(boolean=True, description="folder missing")
    def scope_is_missing(self, profile: SearchProfile) -> bool:
        return profile.scope_missing

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: SearchProfile | None = None) -> bool:
        # Read-only: operators with the view permission see every field, and can delete.
        return False

    def delete_model(self, request: HttpRequest, obj: SearchProfile) -> None:
        profile_delete(profile=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SearchProfile]) -> None:
        for profile in queryset:
            profile_delete(profile=profile)


_TEXT_FIELDS = ["blob", "state", "kind", "reason", "truncated", "tries", "queued_at", "indexed_at"]


@admin.register(BlobText)
class BlobTextAdmin(admin.ModelAdmin):
    """The text read from each content: operators see what is pending or unreadable and why,
    and can have documents read again (through the same service as ``manage.py reindex``)."""

    list_display = ["blob", "state", "kind", "reason", "truncated", "tries", "indexed_at"]
    list_filter = ["state", "kind", "truncated"]
    search_fields = ["blob__sha256", "reason"]
    list_select_related = ["blob"]
    fields = tuple(_TEXT_FIELDS)
    readonly_fields = _TEXT_FIELDS
    actions = ["read_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BlobText | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BlobText | None = None) -> bool:
        return False

    @admin.action(description="Read the selected documents again", permissions=["view"])
    def read_again(self, request: HttpRequest, queryset: QuerySet[BlobText]) -> None:
        queued = text_queue(blob_ids=list(queryset.values_list("pk", flat=True)), again=True)
        self.message_user(
            request, f"{counted(len(queued), 'document', 'documents')} queued to be read again."
        )
