"""Admin for unfinished resumable uploads: who, where to, how far, until when.

Read-only; "Terminate" ends uploads through :func:`uploads.services.upload_terminate` (their
bytes and reservations go), as a client's DELETE would.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from fileflow.text import counted
from uploads import services
from uploads.models import TusUpload


@admin.register(TusUpload)
class TusUploadAdmin(admin.ModelAdmin):
    list_display = ("filename", "owner", "offset", "length", "reserved_bytes", "expires_at")
    list_filter = ("owner",)
    search_fields = ("filename", "owner__username")
    ordering = ["expires_at"]
    actions = ["terminate"]
    fields = readonly_fields = (
        "id",
        "owner",
        "creator",
        "scope",
        "visitor_client",
        "visitor_address",
        "filename",
        "parent",
        "folder_path",
        "on_conflict",
        "offset",
        "length",
        "reserved_bytes",
        "created_at",
        "expires_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Terminate the selected uploads (their bytes are removed)")
    def terminate(self, request: HttpRequest, queryset: QuerySet[TusUpload]) -> None:
        count = 0
        for upload in queryset:
            services.upload_terminate(upload=upload)
            count += 1
        self.message_user(
            request, f"{counted(count, 'upload', 'uploads')} terminated.", messages.SUCCESS
        )
