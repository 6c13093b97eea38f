"""Saved searches in the admin: operators can look and delete, owners edit their own.

Editing is left to the owners (API, web page): a saved search is a person's own tool, and
the admin writes nothing without the services (deletions go through
:func:`search.services.profile_delete`).
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from search.models import SearchProfile
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
