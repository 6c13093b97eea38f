"""Admin for files: browse and inspect, act only through the services.

No page here writes with the ORM: the tree columns of a Node may only change through
:mod:`files.tree`, and usage only together with the write that causes it. So change pages
are read-only, nothing can be added, Django's own delete (page and bulk action) is off, and
the actions call :mod:`files.services` or :mod:`files.maintenance`. Folders are browsed
level by level with ``?parent__id__exact=<id>`` links (no drag-and-drop tree: with one
nested-set tree per user, every move shifts rows, and the services already do moves).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseRedirect
from django.template import engines
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import ngettext

from accounts.models import User
from fileflow.errors import DomainError
from fileflow.text import counted
from files import maintenance, services, tree
from files.models import Activity, Blob, FileVersion, Node, Tag

BOTH = [ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM]
MAX_MESSAGES = 10


def _count(queryset: QuerySet[Any], field: str) -> Coalesce:
    """A correlated ``COUNT(*)`` of the rows of ``queryset`` whose ``field`` is the outer
    row: evaluated only for the rows on the page, unlike a join + GROUP BY over the table."""
    counts = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)


def _report_failures(
    model_admin: admin.ModelAdmin, request: HttpRequest, failures: list[str]
) -> None:
    for line in failures[:MAX_MESSAGES]:
        model_admin.message_user(request, line, messages.WARNING)
    if len(failures) > MAX_MESSAGES:
        model_admin.message_user(
            request, f"… and {len(failures) - MAX_MESSAGES} more.", messages.WARNING
        )


def _node_label(node: Node) -> str:
    return f"home folder of {node.owner}" if node.is_home else f"“{node.name}”"


_CONFIRM_TEMPLATE = """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs">
<a href="{% url 'admin:index' %}">Home</a> &rsaquo;
<a href="{{ changelist_url }}">Nodes</a> &rsaquo; Delete for good</div>{% endblock %}
{% block content %}
<p>Delete {{ entries|length }} trash entr{{ entries|length|pluralize:"y,ies" }} and everything
inside for good? This gives {{ total|filesizeformat }} back to the owners and cannot be undone.
Content no other file uses is removed from storage by the next <code>gc</code> run.</p>
<ul>{% for entry, size in entries %}
<li>{{ entry.owner }}: {{ entry.label }} — trashed {{ entry.trashed_at }},
{{ size|filesizeformat }}</li>
{% endfor %}</ul>
<form method="post">{% csrf_token %}
{% for name, value in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<input type="hidden" name="post" value="yes">
<input type="submit" value="Yes, delete for good">
<a href="{{ back_url }}" class="button cancel-link">No, take me back</a>
</form>
{% endblock %}
"""


# --- Node ----------------------------------------------------------------------------


class TrashStateFilter(admin.SimpleListFilter):
    title = "trash"
    parameter_name = "trash"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("live", "Not in the trash"),
            ("trashed", "In the trash"),
            ("entries", "Trash entries (what users see in their trash)"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "live":
            return queryset.filter(trashed_at__isnull=True)
        if value == "trashed":
            return queryset.filter(trashed_at__isnull=False)
        if value == "entries":
            return queryset.filter(is_trash_root=True)
        return queryset


class OwnerFilter(admin.SimpleListFilter):
    """By owner, as ``?owner__id__exact=<id>`` (the owner column links to it). Lists the
    accounts only while there are few; with many, follow the links instead."""

    title = "owner"
    parameter_name = "owner__id__exact"
    max_listed = 100

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        users = list(
            User.objects.order_by("username").values_list("pk", "username")[: self.max_listed + 1]
        )
        choices = [(str(pk), name) for pk, name in users[: self.max_listed]]
        if len(users) > self.max_listed:
            choices = []
        value = self.value()
        if value and all(pk != value for pk, _name in choices):
            found = User.objects.filter(pk=value).values_list("username", flat=True).first()
            choices.append((value, found or f"#{value} (no such user)"))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(f"Not a user id: {value!r}")
        return queryset.filter(owner_id=int(value))


class FolderFilter(admin.SimpleListFilter):
    """The items directly inside one folder, as ``?parent__id__exact=<id>``; shown (with the
    folder's path) only while it is in use, since listing every folder would not scale."""

    title = "folder"
    parameter_name = "parent__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        value = self.value()
        if not value:
            return []
        folder = None
        if value.isdigit():
            folder = Node.objects.filter(pk=int(value)).select_related("owner").first()
        if folder is None:
            return [(value, f"#{value} (no such folder)")]
        return [(value, f"{folder.owner}: {tree.path_of(folder)}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(f"Not a folder id: {value!r}")
        return queryset.filter(parent_id=int(value))


NODE_FIELDS: tuple[str, ...] = (
    "name",
    "full_path",
    "owner",
    "kind",
    "parent",
    "blob",
    "human_size",
    "mime_type",
    "is_favorite",
    "tag_names",
    "created_at",
    "updated_at",
    "trashed_at",
    "is_trash_root",
    "trashed_from",
    "version_count",
)


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin):
    list_display = [
        "display_name",
        "owner_link",
        "kind",
        "human_size",
        "mime_type",
        "updated_at",
        "trash_state",
        "folder_link",
        "contents_link",
    ]
    list_display_links = ["display_name"]
    list_filter = [TrashStateFilter, "is_folder", OwnerFilter, FolderFilter]
    list_select_related = ["owner", "parent"]
    search_fields = ["name", "owner__username"]
    # Depth first (each folder directly followed by what it holds), so with the indent
    # below the list reads as a tree.
    ordering = [tree.depth_first()]
    show_full_result_count = False
    list_per_page = 100
    raw_id_fields = ["owner", "parent", "blob"]
    fields = NODE_FIELDS
    readonly_fields = NODE_FIELDS
    actions = ["move_to_trash", "restore_from_trash", "delete_for_good"]

    # Writes go through the actions, which call the services.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Node | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Node | None = None) -> bool:
        return False

    def has_trash_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("files.change_node")

    def has_purge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("files.delete_node")

    # --- columns ---------------------------------------------------------------------

    @admin.display(description="name", ordering="name")
    def display_name(self, obj: Node) -> str:
        # Indented by depth: in the default (depth-first) order the list reads as a tree.
        # Safe HTML, because the admin strips leading spaces from plain strings.
        if obj.is_home:
            return f"⌂ home of {obj.owner}"
        return format_html(
            "{}{}{}",
            mark_safe("&nbsp;" * 3 * max(obj.depth - 1, 0)),  # noqa: S308 - a constant
            obj.name,
            "/" if obj.is_folder else "",
        )

    @admin.display(description="owner", ordering="owner__username")
    def owner_link(self, obj: Node) -> str:
        return format_html('<a href="?owner__id__exact={}">{}</a>', obj.owner_id, obj.owner)

    @admin.display(description="kind", ordering="is_folder")
    def kind(self, obj: Node) -> str:
        return "folder" if obj.is_folder else "file"

    @admin.display(description="size", ordering="size")
    def human_size(self, obj: Node) -> str:
        return "—" if obj.is_folder else filesizeformat(obj.size)

    @admin.display(description="trash", ordering="trashed_at")
    def trash_state(self, obj: Node) -> str:
        if obj.trashed_at is None:
            return "—"
        if obj.is_trash_root:
            return f"trash entry since {obj.trashed_at:%Y-%m-%d %H:%M}"
        return "in a trashed folder"

    @admin.display(description="in folder")
    def folder_link(self, obj: Node) -> str:
        if obj.parent is None:
            return "—"
        label = "⌂" if obj.parent.is_home else obj.parent.name
        return format_html('<a href="?parent__id__exact={}">{}</a>', obj.parent_id, label)

    @admin.display(description="contents")
    def contents_link(self, obj: Node) -> str:
        if not obj.is_folder:
            return ""
        url = reverse("admin:files_node_changelist")
        return format_html('<a href="{}?parent__id__exact={}">open</a>', url, obj.pk)

    @admin.display(description="path")
    def full_path(self, obj: Node) -> str:
        return tree.path_of(obj)

    @admin.display(description="tags")
    def tag_names(self, obj: Node) -> str:
        return ", ".join(tag.name for tag in obj.tags.all()) or "—"

    @admin.display(description="kept versions")
    def version_count(self, obj: Node) -> str:
        if obj.is_folder:
            return "—"
        count = obj.versions.count()
        url = reverse("admin:files_fileversion_changelist")
        return format_html('<a href="{}?node__id__exact={}">{}</a>', url, obj.pk, count)

    # --- actions (through the services) ----------------------------------------------

    @admin.action(description="Move to trash", permissions=["trash"], location=BOTH)
    def move_to_trash(self, request: HttpRequest, queryset: QuerySet[Node]) -> None:
        done, failures = 0, []
        # Folders before what is inside them: the contents go with the folder.
        for node in queryset.order_by("path", "id"):
            node.refresh_from_db(fields=["trashed_at"])
            if node.trashed_at is not None and not node.is_trash_root:
                continue  # went to the trash with a folder selected above it
            try:
                services.node_trash(node=node)
            except DomainError as error:
                failures.append(f"{_node_label(node)}: {error}")
            else:
                done += 1
        if done:
            self.message_user(
                request, f"Moved {counted(done, 'item', 'items')} to the trash.", messages.SUCCESS
            )
        _report_failures(self, request, failures)

    @admin.action(description="Restore from trash", permissions=["trash"], location=BOTH)
    def restore_from_trash(self, request: HttpRequest, queryset: QuerySet[Node]) -> None:
        done, failures = 0, []
        for node in queryset.order_by("path", "id"):
            try:
                restored = services.node_restore(node=node)
            except DomainError as error:
                failures.append(f"{_node_label(node)}: {error}")
            else:
                done += 1
                if restored.name != node.name:
                    failures.append(f"“{node.name}” was restored as “{restored.name}”.")
        if done:
            self.message_user(
                request, f"Restored {counted(done, 'item', 'items')}.", messages.SUCCESS
            )
        _report_failures(self, request, failures)

    @admin.action(
        description="Delete for good (trash entries only)", permissions=["purge"], location=BOTH
    )
    def delete_for_good(
        self, request: HttpRequest, queryset: QuerySet[Node]
    ) -> TemplateResponse | HttpResponseRedirect | None:
        entries = list(queryset.filter(is_trash_root=True).select_related("owner"))
        others = queryset.filter(is_trash_root=False).count()
        if others:
            self.message_user(
                request,
                f"Left {counted(others, 'selected item', 'selected items')} alone: only trash "
                "entries can be deleted for "
                "good (move them to the trash first).",
                messages.WARNING,
            )
        if not entries:
            return None
        if request.POST.get("post") != "yes":
            return self._confirm_delete(request, entries)
        freed, failures = 0, []
        deleted = 0
        for entry in entries:
            try:
                freed += services.node_delete(node=entry)
            except DomainError as error:
                failures.append(f"{_node_label(entry)}: {error}")
            else:
                deleted += 1
        if deleted:
            self.message_user(
                request,
                f"Deleted {deleted} trash entr{'y' if deleted == 1 else 'ies'} for good, "
                f"giving {filesizeformat(freed)} back.",
                messages.SUCCESS,
            )
        _report_failures(self, request, failures)
        # From a change page the object is gone: go back to the list.
        return HttpResponseRedirect(reverse("admin:files_node_changelist"))

    def _confirm_delete(self, request: HttpRequest, entries: list[Node]) -> TemplateResponse:
        sized = []
        for entry in entries:
            entry.label = maintenance.trash_entry_label(entry)  # type: ignore[attr-defined]
            sized.append((entry, maintenance.trash_entry_bytes(entry)))
        # Post back exactly what chose this action (list or change-form prefix, selection).
        hidden = [
            (name, value)
            for name, values in request.POST.lists()
            if name not in {"csrfmiddlewaretoken", "post"}
            for value in values
        ]
        changelist_url = reverse("admin:files_node_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Delete for good?",
            "opts": self.opts,
            "entries": sized,
            "total": sum(size for _entry, size in sized),
            "hidden": hidden,
            "changelist_url": changelist_url,
            "back_url": request.get_full_path(),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        template = engines["django"].from_string(_CONFIRM_TEMPLATE)
        return TemplateResponse(request, template, context)  # type: ignore[arg-type]


# --- Blob ----------------------------------------------------------------------------


class ReferencesFilter(admin.SimpleListFilter):
    title = "references"
    parameter_name = "references"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("none", "Unreferenced (gc will collect them)"), ("some", "Referenced")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        unreferenced = maintenance.unreferenced_blobs().values("pk")
        if self.value() == "none":
            return queryset.filter(pk__in=unreferenced)
        if self.value() == "some":
            return queryset.exclude(pk__in=unreferenced)
        return queryset


BLOB_FIELDS: tuple[str, ...] = (
    "sha256",
    "human_size",
    "created_at",
    "storage_key",
    "node_refs",
    "version_refs",
    "referenced_by",
)


@admin.register(Blob)
class BlobAdmin(admin.ModelAdmin):
    """Blobs are created by uploads and deleted only by ``gc``: read-only here."""

    list_display = ["sha256", "human_size", "created_at", "node_refs", "version_refs"]
    list_filter = [ReferencesFilter]
    search_fields = ["=sha256"]
    ordering = ["-created_at", "-pk"]
    show_full_result_count = False
    fields = BLOB_FIELDS
    readonly_fields = BLOB_FIELDS
    actions = ["verify"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Blob | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Blob | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Blob]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                node_ref_count=_count(Node.objects.all(), "blob"),
                version_ref_count=_count(FileVersion.objects.all(), "blob"),
            )
        )

    @admin.display(description="size", ordering="size")
    def human_size(self, obj: Blob) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="files", ordering="node_ref_count")
    def node_refs(self, obj: Blob) -> int:
        return obj.node_ref_count  # type: ignore[attr-defined, no-any-return]

    @admin.display(description="versions", ordering="version_ref_count")
    def version_refs(self, obj: Blob) -> int:
        return obj.version_ref_count  # type: ignore[attr-defined, no-any-return]

    @admin.display(description="used by (first 20 files)")
    def referenced_by(self, obj: Blob) -> str:
        nodes = list(obj.nodes.select_related("owner").order_by("pk")[:20])
        if not nodes:
            return "—"
        paths = tree.paths_of(nodes)
        url = reverse("admin:files_node_changelist")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}{}/change/">{}: {}</a></li>',
                ((url, node.pk, node.owner, paths[node.pk]) for node in nodes),
            ),
        )

    @admin.action(description="Verify content (re-hash from storage)", location=BOTH)
    def verify(self, request: HttpRequest, queryset: QuerySet[Blob]) -> None:
        report = maintenance.blob_scrub(blobs=queryset.order_by())
        if not report.damaged:
            self.message_user(
                request,
                f"{counted(report.blobs, 'blob', 'blobs')} verified: content intact.",
                messages.SUCCESS,
            )
            return
        _report_failures(
            self,
            request,
            [f"{p.sha256[:12]}…: {p.kind} — {p.detail}" for p in report.problems],
        )
        self.message_user(
            request,
            ngettext(
                "%(damaged)d of %(blobs)s is damaged.",
                "%(damaged)d of %(blobs)s are damaged.",
                len(report.problems),
            )
            % {"damaged": len(report.problems), "blobs": counted(report.blobs, "blob", "blobs")},
            messages.ERROR,
        )


# --- FileVersion ---------------------------------------------------------------------


VERSION_FIELDS: tuple[str, ...] = (
    "node",
    "owner",
    "blob",
    "human_size",
    "mime_type",
    "author",
    "created_at",
)


@admin.register(FileVersion)
class FileVersionAdmin(admin.ModelAdmin):
    list_display = ["node", "owner", "human_size", "author", "created_at", "replaced_at"]
    list_select_related = ["node", "node__owner", "author"]
    search_fields = ["node__name", "node__owner__username"]
    show_full_result_count = False
    raw_id_fields = ["node", "blob", "author"]
    fields = VERSION_FIELDS
    readonly_fields = VERSION_FIELDS
    actions = ["restore", "delete_versions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FileVersion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FileVersion | None = None) -> bool:
        return False

    def has_restore_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("files.change_fileversion")

    def has_purge_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("files.delete_fileversion")

    @admin.display(description="owner", ordering="node__owner__username")
    def owner(self, obj: FileVersion) -> User:
        return obj.node.owner

    @admin.display(description="size", ordering="size")
    def human_size(self, obj: FileVersion) -> str:
        return filesizeformat(obj.size)

    @admin.action(
        description="Restore (make this content current)", permissions=["restore"], location=BOTH
    )
    def restore(self, request: HttpRequest, queryset: QuerySet[FileVersion]) -> None:
        done, failures = 0, []
        actor = request.user if isinstance(request.user, User) else None
        for version in queryset.select_related("node", "blob"):
            try:
                services.version_restore(version=version, actor=actor)
            except DomainError as error:
                failures.append(f"{version}: {error}")
            else:
                done += 1
        if done:
            self.message_user(
                request, f"Restored {counted(done, 'version', 'versions')}.", messages.SUCCESS
            )
        _report_failures(self, request, failures)

    @admin.action(description="Delete selected versions", permissions=["purge"], location=BOTH)
    def delete_versions(
        self, request: HttpRequest, queryset: QuerySet[FileVersion]
    ) -> HttpResponseRedirect | None:
        done = freed = 0
        failures = []
        for version in queryset.select_related("node"):
            try:
                freed += services.version_delete(version=version)
            except DomainError as error:
                failures.append(f"{version}: {error}")
            else:
                done += 1
        if done:
            self.message_user(
                request,
                f"Deleted {counted(done, 'version', 'versions')}, "
                f"giving {filesizeformat(freed)} back.",
                messages.SUCCESS,
            )
        _report_failures(self, request, failures)
        return HttpResponseRedirect(reverse("admin:files_fileversion_changelist"))


# --- Tag -----------------------------------------------------------------------------


TAG_FIELDS: tuple[str, ...] = ("name", "owner", "node_count", "created_at")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    """Read-only: tags change with the files they label (services.node_set_tags)."""

    list_display = ["name", "owner", "node_count", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name"]
    show_full_result_count = False
    fields = TAG_FIELDS
    readonly_fields = TAG_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Tag | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return (
            super()
            .get_queryset(request)
            .annotate(node_total=_count(Node.tags.through.objects.all(), "tag"))
        )

    @admin.display(description="files and folders", ordering="node_total")
    def node_count(self, obj: Tag) -> str:
        url = reverse("admin:files_node_changelist")
        total = obj.node_total  # type: ignore[attr-defined]
        return format_html('<a href="{}?tags__id__exact={}">{}</a>', url, obj.pk, total)


ACTIVITY_FIELDS: tuple[str, ...] = (
    "created_at",
    "kind",
    "actor",
    "link_label",
    "owner",
    "node",
    "node_name",
    "where",
    "detail",
)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    """Everything everyone did, for operators; read-only (the services write it)."""

    list_display = ["created_at", "who_display", "kind", "node_name", "where", "owner"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["actor", "owner"]
    search_fields = ["node_name", "actor__username", "owner__username", "link_label"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = ACTIVITY_FIELDS
    readonly_fields = ACTIVITY_FIELDS

    @admin.display(description="who")
    def who_display(self, obj: Activity) -> str:
        return obj.who

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Activity | None = None) -> bool:
        return False
