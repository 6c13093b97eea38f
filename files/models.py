"""Files and folders (one tree per user, rooted in a home folder) on a blob store.

The tree is the parent links plus ``Node.path``, the ancestors' ids (see :mod:`files.tree`,
the only module that writes ``parent`` and ``path``).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Coalesce, Concat, Lower, Substr
from django.utils import timezone

from accounts.models import User

# Sorts after every base-36 digit: ``[key, key + AFTER_KEYS)`` holds every path that starts
# with ``key`` (a share's node_key: the shared node's descendants).
AFTER_KEYS = "~"


class Blob(models.Model):
    """One stored content, whoever uploaded it. Deleted only by garbage collection."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    # Where the content is stored when that is not the key derived from its hash: the key a
    # resumable upload assembled it at in an object store, kept there rather than copied.
    # Read it through ``storage_key``.
    key = models.CharField(max_length=1024, null=True, blank=True, unique=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="files_blob_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size} B)"

    @property
    def storage_key(self) -> str:
        """Where the content is: the one answer for everything that reads, serves, checks
        or deletes it."""
        return self.key or self.key_for(self.sha256)

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class Tag(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags"
    )
    name = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "owner", name="files_tag_unique_per_owner"),
        ]

    def __str__(self) -> str:
        return self.name


class NodeQuerySet(models.QuerySet["Node"]):
    def visible_to(self, user: User | AnonymousUser) -> NodeQuerySet:
        """Every read that depends on who asks starts here: the caller's own nodes (in trash
        or not) and the live nodes shared with them — the shared item itself or anything
        below it, directly or through one of their groups (:mod:`files.access`)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner=user) | (Q(trashed_at__isnull=True) & shared_with(user)))

    def owned_by(self, user: User | AnonymousUser) -> NodeQuerySet:
        """Only the caller's own nodes: favourites, tags and the trash are the owner's."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def checked_owner(self, user: User | AnonymousUser) -> NodeQuerySet:
        """Only the caller's own nodes, for a query whose other filters find its rows (a
        tag, a name, a text match): the owner is checked on each row found and never looked
        up by its index (:func:`unestimated`). Statistics taken before a big import say
        the account holds a handful of nodes, and PostgreSQL then read all of them through
        the owner's index instead (a tag's page 1.1 s, a search 0.6 s in a 1M-node account,
        bench/account_scale.py). A scan of everything someone owns keeps :meth:`owned_by`."""
        if not user.is_authenticated:
            return self.none()
        return self.alias(checked_owner=unestimated("owner_id")).filter(checked_owner=user.pk)

    def alive(self) -> NodeQuerySet:
        return self.filter(trashed_at__isnull=True)

    def trashed(self) -> NodeQuerySet:
        return self.filter(trashed_at__isnull=False)


def left_by(user: User) -> Q:
    """Shares (the outer rows) that ``user`` has left: a group's, which stays the group's
    (:class:`NodeShareLeave`)."""
    return Q(Exists(NodeShareLeave.objects.filter(share=OuterRef("pk"), user=user)))


def shared_with(
    user: User,
    *,
    node: str = "pk",
    path: str = "path",
    shares: QuerySet[NodeShare] | None = None,
) -> Q:
    """Rows reachable through an unexpired share to ``user`` or one of their groups: the
    shared node itself, or a node whose path starts with the shared node's key (its path
    plus its own id, kept in ``NodeShare.node_key``). Each EXISTS is an index range on
    (grantee, node_key) between the node's home prefix and its path — a few of that owner's
    shares — then a prefix test; no recursion, and the SQL is the same size however many
    shares the person has. (Shares of trashed items need no test for nodes: a live node's
    folders are live.)

    ``node`` and ``path`` name the outer row's node id and tree path, so other tables that
    record a node and its path (the activity log) ask the same rule; ``shares`` narrows the
    shares that count (default: all of them)."""
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    outer_path = ExpressionWrapper(OuterRef(path), output_field=models.CharField())
    base = NodeShare.objects.all() if shares is None else shares
    conditions = Q()
    for grantee in (Q(user=user), Q(group__in=user.groups.values("pk")) & ~left_by(user)):
        reaching = base.filter(grantee, unexpired)
        below = reaching.alias(
            outer=outer_path,
            end=Concat(F("node_key"), Value(AFTER_KEYS), output_field=models.CharField()),
        ).filter(
            node_key__gte=Substr(OuterRef(path), 1, 8),
            node_key__lte=OuterRef(path),
            outer__lt=F("end"),
        )
        conditions |= Q(Exists(reaching.filter(node_id=OuterRef(node)))) | Q(Exists(below))
    return conditions


class Node(models.Model):
    """A file or a folder. Each user has one home folder, the root of their tree."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nodes"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    # The ancestors' ids from the home folder down, each 8 base-36 characters, the node
    # itself not included (the home folder has ""). Descendants of a folder F are the range
    # [F.path + enc(F.id), F.path + enc(F.id + 1)) on files_node_path. On PostgreSQL the
    # column is pinned to the "C" collation (migration 0002), so the range and ORDER BY path
    # compare bytes like SQLite does, whatever the database's default collation (base-36
    # digits do not sort alike in every language: Lithuanian puts "y" before "j").
    path = models.CharField(max_length=2048, default="", blank=True, editable=False)
    name = models.CharField(max_length=255)
    is_folder = models.BooleanField(default=False)
    blob = models.ForeignKey(
        Blob, null=True, blank=True, on_delete=models.PROTECT, related_name="nodes"
    )
    size = models.BigIntegerField(default=0)
    mime_type = models.CharField(max_length=255, blank=True)
    is_favorite = models.BooleanField(default=False)
    tags = models.ManyToManyField(Tag, blank=True, related_name="nodes")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Trash: every node of a trashed subtree carries the same trashed_at; the subtree's top
    # is the trash entry (is_trash_root) and remembers the folder path it was trashed from.
    trashed_at = models.DateTimeField(null=True, blank=True)
    is_trash_root = models.BooleanField(default=False)
    trashed_from = models.TextField(blank=True)

    objects = NodeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                condition=Q(trashed_at__isnull=True),
                name="files_node_unique_live_name",
                violation_error_message="An item with this name already exists in this folder.",
            ),
            models.UniqueConstraint(
                fields=["owner"],
                condition=Q(parent__isnull=True),
                name="files_node_one_home_per_owner",
            ),
            models.CheckConstraint(
                condition=Q(is_folder=True, blob__isnull=True)
                | Q(is_folder=False, blob__isnull=False),
                name="files_node_file_has_blob",
            ),
            models.CheckConstraint(condition=Q(size__gte=0), name="files_node_size_gte_0"),
        ]
        indexes = [
            # Folder listings: one keyset scan per (folder, kind) and sort key.
            models.Index(
                "parent",
                "is_folder",
                Lower("name"),
                "id",
                name="files_node_list_name",
                condition=Q(trashed_at__isnull=True),
            ),
            models.Index(
                fields=["parent", "is_folder", "size", "id"],
                name="files_node_list_size",
                condition=Q(trashed_at__isnull=True),
            ),
            models.Index(
                fields=["parent", "is_folder", "updated_at", "id"],
                name="files_node_list_modified",
                condition=Q(trashed_at__isnull=True),
            ),
            models.Index(
                fields=["parent", "is_folder", "mime_type", "id"],
                name="files_node_list_type",
                condition=Q(trashed_at__isnull=True),
            ),
            # Subtrees: a range on path; (path, id) also gives "a folder before what it holds".
            models.Index(fields=["path", "id"], name="files_node_path"),
            # An owner's trash, newest first (the listing's order, so a page is read in
            # order); also what maintenance looks up by date.
            models.Index(
                fields=["owner", "-trashed_at", "-id"],
                name="files_node_trash",
                condition=Q(is_trash_root=True),
            ),
            # An owner's favourites; without it, all the owner's nodes were read to find
            # them (85 ms in a 1M-node account, bench/account_scale.py).
            models.Index(
                fields=["owner"], name="files_node_favorites", condition=Q(is_favorite=True)
            ),
            # Live folders by path: someone's folders (the home folder's range) or a
            # share's, a folder before what it holds (selectors.live_folders). Not with
            # the id after the path: PostgreSQL then took a scan of all of it for "id = x"
            # (the upload's folder) when its statistics predated a big import.
            models.Index(
                fields=["path"],
                name="files_node_live_folders",
                condition=Q(is_folder=True, trashed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.name + ("/" if self.is_folder else "")

    @property
    def is_home(self) -> bool:
        return self.parent_id is None

    @property
    def depth(self) -> int:
        """0 for the home folder, 1 for what it holds, …"""
        return len(self.path) // 8

    @property
    def sha256(self) -> str | None:
        return self.blob.sha256 if self.blob_id and self.blob else None


class FileVersion(models.Model):
    """An earlier content of a file, kept when the file was replaced."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="versions")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="versions")
    size = models.BigIntegerField()
    mime_type = models.CharField(max_length=255, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When this content was first stored (the file's updated_at at the time it was replaced).
    created_at = models.DateTimeField()
    replaced_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["node", "-created_at"], name="files_version_node")]

    def __str__(self) -> str:
        return f"{self.node.name} @ {self.created_at:%Y-%m-%d %H:%M}"


def unestimated(column: str) -> Func:
    """``+column`` in SQL: the same value, but to the planner an expression, which neither
    an index nor the column's statistics describe; a comparison with it is estimated at
    the default selectivity (both databases)."""
    return Func(F(column), template="(+%(expressions)s)", output_field=models.BigIntegerField())


class NodeShareQuerySet(models.QuerySet["NodeShare"]):
    def live(self, now: datetime | None = None) -> NodeShareQuerySet:
        """Unexpired shares of items that are not in the trash."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), node__trashed_at__isnull=True
        )

    def to_user(self, user: User) -> NodeShareQuerySet:
        """Shares to ``user`` directly or to one of their groups (those of their groups'
        shares they have left excepted)."""
        return self.filter(Q(user=user) | (Q(group__in=user.groups.values("pk")) & ~left_by(user)))

    def received_by(self, user: User) -> NodeShareQuerySet:
        """What Shared with me lists for ``user``: live shares to them or their groups, of
        other people's live items.

        "Not their own" is compared through :func:`unestimated`: where one person holds
        nearly every node (a one-person instance), the statistics say no node is anyone
        else's, and PostgreSQL read every node to find the shares for the sidebar's count
        on each page instead of starting from the shares."""
        return (
            self.live()
            .to_user(user)
            .alias(item_owner=unestimated("node__owner_id"))
            .exclude(item_owner=user.pk)
        )

    def with_marks_of(self, user: User) -> NodeShareQuerySet:
        """Each row carries ``user``'s own marks (:class:`NodeShareMark`) as ``seen_at``
        (None: unread) and ``pinned``, read in the same query: a LEFT JOIN on that person's
        row, unique per share and person, so a listing costs no query more."""
        mine = self.annotate(mine=FilteredRelation("marks", condition=Q(marks__user=user)))
        # Passed as a mapping: the attributes are declared on NodeShare for the type checker,
        # whose Django plugin would take keyword annotations of those names for a redefinition.
        marks = {"seen_at": F("mine__seen_at"), "pinned": Coalesce(F("mine__pinned"), False)}
        return mine.annotate(**marks)

    def unread(self) -> NodeShareQuerySet:
        """Of rows read :meth:`with_marks_of` someone, those that person has not seen."""
        return self.filter(Q(seen_at__isnull=True))

    def pinned_ones(self) -> NodeShareQuerySet:
        """Of rows read :meth:`with_marks_of` someone, those that person pinned."""
        return self.filter(Q(pinned=True))


class NodeShare(models.Model):
    """A node shared by its owner (or a re-sharer) with one user or one group, in a role.

    Reaches the node and everything below it. Who may do what is answered in
    :mod:`files.access`; nothing else reads these rows to decide."""

    class Role(models.TextChoices):
        VIEWER = "viewer", "Viewer"
        EDITOR = "editor", "Editor"

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="people_shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shares_in",
    )
    group = models.ForeignKey(
        "auth.Group", null=True, blank=True, on_delete=models.CASCADE, related_name="node_shares"
    )
    # The shared node's key (its path plus its own id, as files.tree writes it): everything
    # below the node has a path starting with it. Written only by files.tree (moves, repair)
    # and when the share is made; pinned to collation "C" on PostgreSQL like Node.path.
    node_key = models.CharField(max_length=2048, default="", editable=False)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    can_reshare = models.BooleanField(default=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_made"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Each recipient's own "unread" marker and sidebar pin live in NodeShareMark (one row per
    # share and person, so the members of a group keep their own). Rows read
    # NodeShare.objects.with_marks_of(person) carry that person's as these two attributes.
    seen_at: datetime | None
    pinned: bool

    objects = NodeShareQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, group__isnull=True)
                | Q(user__isnull=True, group__isnull=False),
                name="files_nodeshare_user_xor_group",
            ),
            models.UniqueConstraint(
                fields=["node", "user"],
                condition=Q(user__isnull=False),
                name="files_nodeshare_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["node", "group"],
                condition=Q(group__isnull=False),
                name="files_nodeshare_one_per_group",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "node_key"], name="files_nodeshare_user_key"),
            models.Index(fields=["group", "node_key"], name="files_nodeshare_group_key"),
            models.Index(fields=["node_key"], name="files_nodeshare_key"),
        ]

    def __str__(self) -> str:
        return f"{self.node} → {self.grantee_label} ({self.role})"

    @property
    def grantee_label(self) -> str:
        if self.user_id is not None:
            return str(self.user)
        return f"group {self.group}"

    def is_live(self, now: datetime | None = None) -> bool:
        return self.expires_at is None or self.expires_at > (now or timezone.now())


class NodeShareLeave(models.Model):
    """A member of a group who left that group's share: it no longer reaches them (the rest
    of the group keeps it). Goes with the share; a share made to the person directly is
    not affected."""

    share = models.ForeignKey(NodeShare, on_delete=models.CASCADE, related_name="left_by")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares_left"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["share", "user"], name="files_nodeshareleave_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} left {self.share}"


class NodeShareMark(models.Model):
    """One recipient's own marks on a share to them: when they saw it (no row or no date:
    unread) and whether they pinned it to their sidebar. Per person, so in a group share each
    member has their own; goes with the share."""

    share = models.ForeignKey(NodeShare, on_delete=models.CASCADE, related_name="marks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_marks"
    )
    seen_at = models.DateTimeField(null=True, blank=True)
    pinned = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["share", "user"], name="files_nodesharemark_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.share}"


class Activity(models.Model):
    """One change, recorded in the same transaction as the change itself.

    ``actor`` is the person; a share-link visitor has none and ``link_label`` names the link.
    ``owner`` and ``path`` (the item's folder key at the time) let a folder's feed include
    everything below it with one range on ``path``."""

    class Kind(models.TextChoices):
        UPLOAD = "upload", "Uploaded"
        VERSION = "version", "New version"
        FOLDER = "folder", "Made a folder"
        RENAME = "rename", "Renamed"
        MOVE = "move", "Moved"
        COPY = "copy", "Copied"
        TRASH = "trash", "Trashed"
        RESTORE = "restore", "Restored"
        DELETE = "delete", "Deleted for good"
        SHARE = "share", "Shared with people"
        SHARE_CHANGE = "share_change", "Changed a share with people"
        UNSHARE = "unshare", "Stopped sharing with people"
        LINK_CREATE = "link_create", "Created a link"
        LINK_CHANGE = "link_change", "Changed a link"
        LINK_REVOKE = "link_revoke", "Revoked a link"
        LINK_VISIT = "link_visit", "Link visited"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # No index of their own for owner and node: the (owner, time) and (node, time) indexes
    # below serve every look-up by either, and each index is one more page an upload's
    # transaction writes.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="activity_owned",
        db_index=False,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity_done",
    )
    link_label = models.CharField(max_length=200, blank=True)
    node = models.ForeignKey(
        Node,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activity",
        db_index=False,
    )
    node_name = models.CharField(max_length=255)
    # Where the item was: its folder path as a person reads it, and its tree path (ids).
    where = models.TextField(blank=True)
    path = models.CharField(max_length=2048, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="files_activity_owner"),
            models.Index(fields=["node", "-created_at"], name="files_activity_node"),
            models.Index(fields=["path", "-created_at"], name="files_activity_path"),
            models.Index(fields=["created_at"], name="files_activity_time"),
        ]

    def __str__(self) -> str:
        return f"{self.who} {self.get_kind_display().lower()} {self.node_name}"

    @property
    def who(self) -> str:
        if self.actor_id is not None:
            return str(self.actor)
        if self.link_label:
            return f"visitor of link {self.link_label}"
        return "someone"
