"""The blob store: content addressed by SHA-256, kept once whoever uploads it.

Where the bytes live (local disk or S3) is :mod:`files.store`'s business; this module
decides when content is stored and keeps the Blob rows.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection
from typing import IO, Any, BinaryIO

from django.core.files.storage import Storage
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from files.ingest import Received
from files.models import Blob
from files.store import blob_store


def storage() -> Storage:
    """The Django storage that holds blobs (``STORAGES["default"]``)."""
    return blob_store().storage


def upload_key(name: str) -> str:
    """Where a resumable upload called ``name`` assembles its content in the blob store (S3
    multipart). A new blob stays there (``Blob.key``) instead of being copied to its
    content's key; under ``blobs/``, so garbage collection walks it with the rest."""
    return f"blobs/uploads/{name}"


# The folders of the blob store that hold blobs' content: ``blobs/``, and ``uploads/``
# where resumable uploads started before 2026-12 assemble (kept there as their blob's key).
# Garbage collection walks them for objects no blob holds.
CONTENT_FOLDERS = ("blobs", "uploads")


def blob_drop(received: Received) -> None:
    """Remove content that is not going to be stored: its temp file, or the object a
    resumable upload assembled in the blob store (one DELETE)."""
    if received.key is not None:
        blob_store().delete(received.key)
        received.key = None
    received.discard()


def _put(received: Received, key: str) -> None:
    """Move the temp file into storage (a rename on local disk, an upload elsewhere); when
    it was staged, only the temp file goes, once the transaction has committed (outside the
    lock; a caller that rolls back still has it to try again)."""
    if received.staged:
        transaction.on_commit(received.discard)
        return
    blob_store().commit(received.path, key)


def blob_stage(received: Received) -> None:
    """Before the write transaction: put new content in the store.

    On S3 an upload takes as long as the bytes take to travel; on local disk the temp file
    gets a second name at its key (a hard link). Doing it here keeps the tree lock (and, on
    SQLite, the database write lock) free meanwhile. The key depends only on the content,
    so a staged object whose upload then fails (quota, conflict) is harmless: garbage
    collection removes it after the grace period.
    """
    if received.staged or received.key is not None:
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

    Known content is not stored again, nor content sent twice in one batch; new content a
    resumable upload already put in the store stays under its key. The rows are
    locked until the caller commits, so garbage collection cannot remove a blob from under
    a new reference. One statement, however many uploads."""
    found, store = blobs_find_or_create(received)
    store()
    return found


def blobs_find_or_create(received: list[Received]) -> tuple[dict[str, Blob], Callable[[], None]]:
    """:func:`blobs_for` in two steps: the locked rows now, and a function that stores the
    new content, to call once the caller is sure it keeps them (the temp files stay until
    then, so a caller that rolls back can try again with them)."""
    unique: dict[str, Received] = {}
    duplicates: list[Received] = []
    for item in received:
        if item.sha256 in unique:
            duplicates.append(item)  # the same content twice in one batch: stored once
        else:
            unique[item.sha256] = item
    found, new = _find_or_create(list(unique.values()))

    def store() -> None:
        for item in duplicates:
            blob_drop(item)
        for sha256, item in unique.items():
            if sha256 not in new:
                blob_drop(item)
            elif item.key is not None:
                _keep_where_uploaded(found[sha256], item.key)
            else:
                # Always write: an object left behind by a rolled-back upload has the same
                # bytes.
                _put(item, Blob.key_for(sha256))

    return found, store


def _keep_where_uploaded(blob: Blob, key: str) -> None:
    """A new blob whose content is already in the store under ``key``: it stays there."""
    Blob.objects.filter(pk=blob.pk).update(key=key)
    blob.key = key


# Rows per upsert statement (three parameters each), well within SQLite's parameter limit.
_ROWS_AT_ONCE = 500


def _find_or_create(received: list[Received]) -> tuple[dict[str, Blob], set[str]]:
    """The locked Blob rows for ``received`` (created as needed) and which are new: one
    upsert (per 500) that takes every row, known or new, and says which it inserted."""
    table = connection.ops.quote_name(Blob._meta.db_table)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    inserted_sql, inserted_params = _inserted(now)
    answer: list[tuple[int, str, int, str | None, bool]] = []
    for start in range(0, len(received), _ROWS_AT_ONCE):
        chunk = received[start : start + _ROWS_AT_ONCE]
        params: list[Any] = []
        for item in chunk:
            params += [item.sha256, item.size, now]
        rows = ", ".join(["(%s, %s, %s)"] * len(chunk))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (sha256, size, created_at) VALUES {rows} "  # noqa: S608 - no user text
                "ON CONFLICT (sha256) DO UPDATE SET size = EXCLUDED.size "
                f"RETURNING id, sha256, size, key, {inserted_sql} AS inserted",
                [*params, *inserted_params],
            )
            answer += cursor.fetchall()
    # created_at is left to be read when asked for (the upload never needs it).
    fields = ["id", "sha256", "size", "key"]
    found = {row[1]: Blob.from_db(connection.alias, fields, row[:4]) for row in answer}
    return found, {row[1] for row in answer if row[4]}


def _inserted(now: Any) -> tuple[str, list[Any]]:
    """SQL (and its parameters), in the upsert's RETURNING, true for a row it inserted.

    PostgreSQL: a row it inserted has no ``xmax``; one it updated carries this transaction's.
    SQLite: the row has the ``created_at`` just given (``now``). A row made by another
    upload in the same microsecond would count as new too, which only writes its bytes
    again (the same bytes, under the same key); SQLite's writers are serialised, so that
    upload has committed them."""
    if connection.vendor == "postgresql":
        return "(xmax = 0)", []
    return "(created_at = %s)", [now]


def keys_in_use(keys: Collection[str]) -> set[str]:
    """Which of these storage keys hold a blob's content (its ``storage_key``): one query.
    Anything else under ``blobs/`` is an orphan, for garbage collection."""
    if not keys:
        return set()
    shas = {posixpath.basename(key) for key in keys}
    rows = Blob.objects.filter(Q(sha256__in=shas, key__isnull=True) | Q(key__in=keys))
    return {blob.storage_key for blob in rows.only("sha256", "key")} & set(keys)


def open_blob(blob: Blob) -> IO[bytes]:
    """A seekable file of the blob (on S3 downloaded to a temp file on disk first)."""
    return blob_store().open_seekable(blob.storage_key)


def read_stored(key: str, *, first: int = 0, length: int | None = None) -> BinaryIO:
    """A forward-only reader of stored bytes from ``first``, ``length`` of them (or to the
    end), streamed as it is read (see :meth:`files.store.BlobStore.open_range`).
    Raises FileNotFoundError when the object is gone."""
    return blob_store().open_range(key, first=first, length=length)
