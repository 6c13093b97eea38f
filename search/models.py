"""Saved searches (the seed's ``SearchProfile``): smart folders in the sidebar."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models.functions import Lower

from accounts.models import User
from files import tree
from search.query import ORDERINGS


class SearchProfileQuerySet(models.QuerySet["SearchProfile"]):
    def visible_to(self, user: User | AnonymousUser) -> SearchProfileQuerySet:
        """Only the caller's own saved searches; none for anonymous callers."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class SearchProfile(models.Model):
    """A named search the owner can run again; its fields mirror the search parameters.

    Written only through :mod:`search.services`, which validates them with the same rules
    as ``GET /api/v1/search/``.
    """

    class TagMode(models.TextChoices):
        ANY = "any", "any of the tags"
        ALL = "all", "all of the tags"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="search_profiles"
    )
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=255, blank=True, help_text="Words the name contains.")
    file_types = models.JSONField(
        default=list, blank=True, help_text="Categories such as image or pdf; empty is any."
    )
    extensions = models.JSONField(
        default=list, blank=True, help_text="Extensions such as pdf or docx; empty is any."
    )
    size_min = models.BigIntegerField(null=True, blank=True, help_text="Bytes.")
    size_max = models.BigIntegerField(null=True, blank=True, help_text="Bytes.")
    date_from = models.DateField(null=True, blank=True, help_text="Modified on or after.")
    date_to = models.DateField(null=True, blank=True, help_text="Modified on or before.")
    tags = models.JSONField(default=list, blank=True, help_text="Tag names.")
    tag_mode = models.CharField(max_length=3, choices=TagMode.choices, default=TagMode.ANY)
    favorites_only = models.BooleanField(default=False)
    # SET_NULL: deleting the folder must not delete the saved search; scope_path remembers
    # that there was one, so running the search can say what happened.
    scope = models.ForeignKey(
        "files.Node",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Search only this folder and its subfolders.",
    )
    scope_path = models.TextField(
        blank=True, editable=False, help_text="The scope folder's path when it was chosen."
    )
    sort = models.CharField(max_length=16, choices=[(o, o) for o in ORDERINGS], default="relevance")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SearchProfileQuerySet.as_manager()

    class Meta:
        ordering = [Lower("name"), "id"]
        verbose_name = "saved search"
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "owner",
                name="search_profile_unique_name_per_owner",
                violation_error_message="You already have a saved search with this name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def scope_missing(self) -> bool:
        """A folder was chosen, and it has since been deleted or moved to the trash."""
        if not self.scope_path:
            return False
        return self.scope is None or self.scope.trashed_at is not None

    @property
    def scope_problem(self) -> str | None:
        """What to tell the owner when :attr:`scope_missing`, else None."""
        if not self.scope_missing:
            return None
        if self.scope is None:
            return (
                f"The folder “{self.scope_path}” this saved search looks in was deleted. "
                "Edit the search to choose another folder, or clear the folder to search "
                "everywhere."
            )
        return (
            f"The folder “{tree.path_of(self.scope)}” this saved search looks in is in the trash. "
            "Restore the folder, or edit the search to choose another one."
        )


class BlobText(models.Model):
    """The text of one content (a :class:`files.models.Blob`), for search inside documents.

    Kept per blob, so identical content is read once whoever owns it. Written only by
    :mod:`search.services` (from the task worker). ``search_vector`` is filled on
    PostgreSQL only; SQLite indexes ``text`` in an FTS5 table kept by triggers (migration
    ``search.0004``).
    """

    class State(models.TextChoices):
        PENDING = "pending", "waiting to be read"
        INDEXED = "indexed", "indexed"
        UNREADABLE = "unreadable", "could not be read"

    blob = models.OneToOneField(
        "files.Blob", primary_key=True, on_delete=models.CASCADE, related_name="text"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    kind = models.CharField(max_length=8, blank=True, help_text="The reader used.")
    reason = models.CharField(max_length=300, blank=True, help_text="Why it is unreadable.")
    text = models.TextField(blank=True)
    truncated = models.BooleanField(default=False, help_text="Longer than the text limit.")
    # How often a worker started reading it: a document that kills the worker (a crash in
    # a parser) is given up after a few tries instead of being read forever.
    tries = models.PositiveSmallIntegerField(default=0)
    queued_at = models.DateTimeField(auto_now_add=True)
    indexed_at = models.DateTimeField(null=True, blank=True)
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = "document text"
        indexes = [models.Index(fields=["state"], name="search_blobtext_state")]

    def __str__(self) -> str:
        return f"{self.blob_id}: {self.state}"
