"""Files and folders (one tree per user, rooted in a home folder) on a blob store.

The tree is the parent links plus ``Node.path``, the ancestors' ids (see :mod:`files.tree`,
the only module that writes ``parent`` and ``path``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import User


class Blob(models.Model):
    """One stored content, whoever uploaded it. Deleted only by garbage collection."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(size__gte=0), name="files_blob_size_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.size} B)"

    @property
    def storage_key(self) -> str:
        return self.key_for(self.sha256)

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
        """Every read that depends on who asks starts here: only the caller's own nodes."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def alive(self) -> NodeQuerySet:
        return self.filter(trashed_at__isnull=True)

    def trashed(self) -> NodeQuerySet:
        return self.filter(trashed_at__isnull=False)


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
            models.Index(
                fields=["owner", "is_trash_root"],
                name="files_node_trash",
                condition=Q(is_trash_root=True),
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
