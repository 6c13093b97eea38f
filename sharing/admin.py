"""Admin for share links: every link with its state, the access log, the operator policy.

Links change only through :mod:`sharing.services` (revoke); the change page is read-only
and links cannot be added here (their token exists only for their owner).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from fileflow.text import counted
from files.models import NodeShare, NodeShareLeave, NodeShareMark
from sharing import people, services
from sharing.models import ShareAccess, ShareLink, SharingPolicy


class StateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in ShareLink.State.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value in ShareLink.State.values:
            return queryset.in_state(value)  # type: ignore[attr-defined]
        return queryset


class ShareAccessInline(admin.TabularInline):
    model = ShareAccess
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-at"]
    fields = readonly_fields = (
        "at",
        "action",
        "item_name",
        "counted",
        "uploader_name",
        "client",
        "ip_address",
    )
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[ShareAccess]:
        # The newest lines only: a popular link's log can be long (the full log has its page).
        ids = list(super().get_queryset(request).order_by("-at").values_list("pk", flat=True)[:50])
        return super().get_queryset(request).filter(pk__in=ids)


@admin.register(ShareLink)
class ShareLinkAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "node_name",
        "created_by",
        "permission",
        "state_display",
        "access_count",
        "max_access_count",
        "expires_at",
        "last_accessed_at",
        "created_at",
    ]
    list_filter = [StateFilter, "permission", "created_by"]
    list_select_related = ["node", "created_by"]
    search_fields = ["label", "node__name", "created_by__username"]
    date_hierarchy = "created_at"
    actions = ["revoke"]
    inlines = [ShareAccessInline]
    fields = readonly_fields = (
        "node",
        "created_by",
        "label",
        "permission",
        "expires_at",
        "max_access_count",
        "access_count",
        "last_accessed_at",
        "has_password",
        "revoked_at",
        "created_at",
        "updated_at",
    )
    raw_id_fields = ["node"]

    @admin.display(description="item", ordering="node__name")
    def node_name(self, link: ShareLink) -> str:
        return link.node.name + ("/" if link.node.is_folder else "")

    @admin.display(description="state")
    def state_display(self, link: ShareLink) -> str:
        return link.get_state_display()

    @admin.display(boolean=True, description="password")
    def has_password(self, link: ShareLink) -> bool:
        return link.has_password

    @admin.action(description="Revoke selected links", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ShareLink]) -> None:
        count = services.shares_revoke(links=list(queryset))
        self.message_user(request, f"Revoked {count} link{'s' if count != 1 else ''}.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ShareAccess)
class ShareAccessAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "link",
        "action",
        "item_name",
        "counted",
        "uploader_name",
        "client",
        "ip_address",
    ]
    list_filter = ["action", "counted", "link__created_by"]
    list_select_related = ["link", "link__node"]
    search_fields = ["item_name", "uploader_name", "link__label"]
    date_hierarchy = "at"
    readonly_fields = [f.name for f in ShareAccess._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SharingPolicy)
class SharingPolicyAdmin(admin.ModelAdmin):
    """One row: the rules for new links. The list page goes straight to it."""

    list_display = [
        "__str__",
        "default_expiry_days",
        "max_expiry_days",
        "allow_never_expire",
        "require_password",
        "ip_retention_days",
    ]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not SharingPolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        SharingPolicy.current()
        return super().changelist_view(request, extra_context)


SHARE_FIELDS: tuple[str, ...] = (
    "node",
    "user",
    "group",
    "role",
    "can_reshare",
    "expires_at",
    "created_by",
    "created_at",
)


class _ShownInline(admin.TabularInline):
    """Rows of a share shown on its page, never added, changed or deleted there: the
    services keep them."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [str(field) for field in self.fields or []]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class NodeShareLeaveInline(_ShownInline):
    """Members of the group who left this share (it no longer reaches them)."""

    model = NodeShareLeave
    fields = ["user", "created_at"]
    verbose_name = "member who left"
    verbose_name_plural = "members who left"


class NodeShareMarkInline(_ShownInline):
    """Each recipient's own marks on this share: when they saw it, whether they pinned it."""

    model = NodeShareMark
    fields = ["user", "seen_at", "pinned"]
    verbose_name = "recipient's mark"
    verbose_name_plural = "recipients' marks (seen, pinned)"


@admin.register(NodeShare)
class NodeShareAdmin(admin.ModelAdmin):
    """Shares with people and groups. Read-only; removing one goes through the service
    (the action), which records it in the activity log."""

    list_display = ["node", "user", "group", "role", "can_reshare", "expires_at", "created_by"]
    list_filter = ["role", "can_reshare"]
    list_select_related = ["node", "user", "group", "created_by"]
    search_fields = ["node__name", "user__username", "group__name"]
    fields = SHARE_FIELDS
    readonly_fields = SHARE_FIELDS
    inlines = [NodeShareLeaveInline, NodeShareMarkInline]
    actions = ["remove_shares"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: NodeShare | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: NodeShare | None = None) -> bool:
        return False

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("files.delete_nodeshare"))

    @admin.action(description="Remove the selected shares", permissions=["remove"])
    def remove_shares(self, request: HttpRequest, queryset: QuerySet[NodeShare]) -> None:
        shares = list(queryset.select_related("node", "user", "group"))
        for share in shares:
            people.person_share_delete(actor=share.node.owner, share=share)
        self.message_user(request, f"{counted(len(shares), 'share', 'shares')} removed.")
