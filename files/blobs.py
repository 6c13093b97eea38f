"""The blob store: content addressed by SHA-256, kept once whoever uploads it.

Where the bytes live (local disk or S3) is :mod:`files.store`'s business; this module
decides when content is stored and keeps the Blob rows.
"""

from __future__ import annotations

from typing import IO, BinaryIO

from django.core.files.storage import Storage

from files.ingest import Received
from files.models import Blob
from files.store import blob_store


def storage() -> Storage:
    """The Django storage that holds blobs (``STORAGES["default"]``)."""
    return blob_store().storage


def _put(received: Received, key: str) -> None:
    """Move the temp file into storage (a rename on local disk, an upload elsewhere)."""
    if received.staged:
        received.discard()
        return
    blob_store().commit(received.path, key)


def blob_stage(received: Received) -> None:
    """Before the write transaction: send new content to remote storage.

    On S3 an upload takes as long as the bytes take to travel; doing it here keeps the tree
    lock (and, on SQLite, the database write lock) free meanwhile. The object's key depends
    only on the content, so a staged object whose upload then fails (quota, conflict) is
    harmless: garbage collection removes it after the grace period. Local disk needs no
    staging: the move into place is a rename inside the transaction.
    """
    if received.staged:
        return
    received.staged = blob_store().stage(
        received.path,
        Blob.key_for(received.sha256),
        stored=lambda: Blob.objects.filter(sha256=received.sha256).exists(),
    )


def blob_for(received: Received) -> Blob:
    """Find or create the Blob for ``received``, inside the caller's transaction."""
    return blobs_for([received])[received.sha256]


def blobs_for(received: list[Received]) -> dict[str, Blob]:
    """Find or create the Blobs for several uploads (by SHA-256), in the caller's transaction.

    Known content is not stored again, nor content sent twice in one batch. The rows are
    locked until the caller commits, so garbage collection cannot remove a blob from under
    a new reference. Three queries, however many uploads.
    """
    locked = Blob.objects.select_for_update()
    found = {blob.sha256: blob for blob in locked.filter(sha256__in={r.sha256 for r in received})}
    new: dict[str, Blob] = {}
    for item in received:
        if item.sha256 in found or item.sha256 in new:
            item.discard()
            continue
        # Always write: an object left behind by a rolled-back upload has the same bytes.
        _put(item, Blob.key_for(item.sha256))
        new[item.sha256] = Blob(sha256=item.sha256, size=item.size)
    if new:
        # A concurrent upload of the same content may create a row first: it is then used.
        Blob.objects.bulk_create(new.values(), ignore_conflicts=True)
        found.update((blob.sha256, blob) for blob in locked.filter(sha256__in=list(new)))
    return found


def open_blob(blob: Blob) -> IO[bytes]:
    """A seekable file of the blob (on S3 downloaded to a temp file on disk first)."""
    return blob_store().open_seekable(blob.storage_key)


def read_stored(key: str, *, first: int = 0, length: int | None = None) -> BinaryIO:
    """A forward-only reader of stored bytes from ``first``, ``length`` of them (or to the
    end), streamed as it is read (see :meth:`files.store.BlobStore.open_range`).
    Raises FileNotFoundError when the object is gone."""
    return blob_store().open_range(key, first=first, length=length)
