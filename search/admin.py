"""Saved searches in the admin: operators can look and delete, owners edit their own.

Editing is left to the owners (API, web page): a saved search is a person's own tool, and
the admin writes nothing without the services (deletions go through
:func:`search.services.profile_delete`).
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from accounts.models import User
from fileflow.text import counted
from files.admin import NodeAdmin as FilesNodeAdmin
from files.models import Node
from search.documents import text_queue
from search.engine import names_matching
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


# The files app's node admin, with its search box answered as the search answers names:
# files cannot import search (DESIGN.md), so search registers it over files' own.
admin.site.unregister(Node)


@admin.register(Node)
class NodeAdmin(FilesNodeAdmin):
    """Django's own search box ORs ``LIKE '%word%'`` over the name and the owner's user name,
    which no index serves: every node of the instance was read (0.6-1.1 s with 1.1M nodes,
    bench/account_scale.py). Here each word is either a user name (then that person's
    items) or a word of the name, matched by the search's name match (the trigram index on
    PostgreSQL)."""

    search_help_text = (
        "Words of the name (all of them, case and accents aside); a user name among them "
        "keeps that person's items."
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        words = list(dict.fromkeys(search_term.split()))
        if not words:
            return queryset, False
        owners = dict(
            User.objects.filter(
                reduce(or_, (Q(username__iexact=word) for word in words))
            ).values_list("username", "pk")
        )
        named = {name.lower() for name in owners}
        if owners:
            queryset = queryset.filter(owner_id__in=owners.values())
        rest = [word for word in words if word.lower() not in named]
        if rest:
            queryset = names_matching(queryset, rest)
        return queryset, False
