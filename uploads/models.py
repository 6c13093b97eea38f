"""Resumable (tus) uploads on their way in: where the bytes are, where the file will go.

An upload is not a file: it never shows in a listing. When its last byte arrives it goes
through :func:`files.services.file_upload_batch` and the row is deleted. Until then its
``reserved_bytes`` count against the owner's quota (see :mod:`uploads.services`).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q


def new_upload_id() -> str:
    """128 random bits: an upload URL cannot be guessed."""
    return secrets.token_hex(16)


class TusUploadQuerySet(models.QuerySet["TusUpload"]):
    def expired(self, now: object) -> TusUploadQuerySet:
        return self.filter(expires_at__lte=now)

    def complete(self) -> TusUploadQuerySet:
        """Every byte arrived (the file is being stored, or its storing died)."""
        return self.filter(length__isnull=False, offset=models.F("length"))


class TusUpload(models.Model):
    id = models.CharField(primary_key=True, max_length=32, default=new_upload_id, editable=False)
    # Who pays (quota) and whose tree the file lands in.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tus_uploads"
    )
    # Who may continue it: the signed-in creator, or, for a share link's drop folder, the
    # holders of that link (``scope`` = "share:<link id>", ``creator`` empty).
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    scope = models.CharField(max_length=64, blank=True, default="")
    # That link's visitor, as its access log keeps them (no address when the operator's
    # policy keeps none): the log entry for the stored file names them, whether their own
    # request stores it or ``gc`` does after a crash. Goes with the row; the address is
    # erased once older than the policy's retention (counted from ``created_at``).
    visitor_client = models.CharField(max_length=100, blank=True, default="")
    visitor_address = models.GenericIPAddressField(null=True, blank=True)
    filename = models.CharField(max_length=255)
    parent = models.ForeignKey(
        "files.Node", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    folder_path = models.CharField(max_length=4096, blank=True, default="")
    on_conflict = models.CharField(max_length=16, default="fail")
    # Null until a creation-defer-length upload says how long it is.
    length = models.BigIntegerField(null=True, blank=True)
    offset = models.BigIntegerField(default=0)
    reserved_bytes = models.BigIntegerField(default=0)
    # S3: the object the parts are joined into, which then becomes the blob (``Blob.key``).
    # Fixed when the upload is created, so an upload keeps its key across upgrades that
    # change where new ones go (those started before 2026-12 assemble at ``uploads/<id>``).
    key = models.CharField(max_length=1024, blank=True, default="")
    # S3: the multipart upload the parts go to, the parts sent so far and the tail that is
    # too short to be a part yet (kept here, so another app server can continue).
    multipart_id = models.CharField(max_length=1024, blank=True, default="")
    parts = models.JSONField(default=list, blank=True)
    tail = models.BinaryField(default=b"", blank=True)
    # Upload-Metadata as the client sent it, given back on HEAD.
    metadata = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    objects = TusUploadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(offset__gte=0), name="uploads_offset_gte_0"),
            models.CheckConstraint(
                condition=Q(length__isnull=True) | Q(offset__lte=models.F("length")),
                name="uploads_offset_lte_length",
            ),
            models.CheckConstraint(
                condition=Q(reserved_bytes__gte=0), name="uploads_reserved_gte_0"
            ),
        ]
        indexes = [
            # Addresses past the sharing policy's retention are erased by start time
            # (sharing.services.addresses_forget, on every access-log write): only the rows
            # that still hold one are indexed.
            models.Index(
                fields=["created_at"],
                name="uploads_visitor_address",
                condition=Q(visitor_address__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.offset}/{self.length if self.length is not None else '?'})"

    @property
    def is_complete(self) -> bool:
        return self.length is not None and self.offset == self.length
