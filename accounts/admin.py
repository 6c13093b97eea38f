from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from accounts.models import ApiToken, User
from accounts.services import token_revoke
from fileflow.text import counted


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "email",
        "quota",
        "used",
        "usage",
        "is_active",
        "is_staff",
        "last_login",
    ]
    readonly_fields = ["used_bytes"]
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Storage", {"fields": ("quota_bytes", "used_bytes")}),
    )

    @admin.display(description="quota", ordering="quota_bytes")
    def quota(self, obj: User) -> str:
        return "unlimited" if obj.quota_bytes is None else filesizeformat(obj.quota_bytes)

    @admin.display(description="used", ordering="used_bytes")
    def used(self, obj: User) -> str:
        return filesizeformat(obj.used_bytes)

    @admin.display(description="usage")
    def usage(self, obj: User) -> str:
        percent = obj.usage_percent
        return "—" if percent is None else f"{percent:.0f} %"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "key_hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "key_hint"]
    readonly_fields = ["user", "name", "key_hint", "created_at", "last_used_at", "revoked_at"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tokens are issued by their owner, who alone sees the raw value once.
        return False

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token)
        self.message_user(
            request, f"Revoked {counted(len(queryset), 'token', 'tokens')}.", messages.SUCCESS
        )
