"""The blob store: content addressed by SHA-256, kept once whoever uploads it."""

from __future__ import annotations

import os
from typing import BinaryIO, cast

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage

from files.ingest import Received
from files.models import Blob


def storage() -> Storage:
    return default_storage


def _put(received: Received, key: str) -> None:
    """Move the temp file into storage: a rename on local disk, an upload elsewhere."""
    store = storage()
    if received.staged:
        received.discard()
        return
    if isinstance(store, FileSystemStorage):
        target = store.path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.chmod(received.path, 0o640)
        os.replace(received.path, target)
        return
    _upload(store, received, key)
    received.discard()


def _upload(store: Storage, received: Received, key: str) -> None:
    # S3: django-storages hands the file to boto3's upload_fileobj, which switches to a
    # multipart upload for large files. file_overwrite keeps the key exactly as given.
    with open(received.path, "rb") as handle:
        store.save(key, File(handle, name=key))


def blob_stage(received: Received) -> None:
    """Before the write transaction: send new content to remote storage.

    On S3 an upload takes as long as the bytes take to travel; doing it here keeps the tree
    lock (and, on SQLite, the database write lock) free meanwhile. The object's key depends
    only on the content, so a staged object whose upload then fails (quota, conflict) is
    harmless: garbage collection removes it after the grace period. Local disk needs no
    staging: the move into place is a rename inside the transaction.
    """
    store = storage()
    if isinstance(store, FileSystemStorage) or received.staged:
        return
    if Blob.objects.filter(sha256=received.sha256).exists():
        return
    _upload(store, received, Blob.key_for(received.sha256))
    received.staged = True


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


def open_blob(blob: Blob) -> File:
    """A seekable file of the blob (on S3 django-storages spools it to a temp file first)."""
    return storage().open(blob.storage_key, "rb")


def read_stored(key: str, *, first: int = 0, length: int | None = None) -> BinaryIO:
    """A forward-only reader of stored bytes from ``first``, ``length`` of them (or to the end).

    On local disk: the real file, positioned (so gunicorn can ``sendfile`` it). On S3: the
    body of a ranged ``GetObject``, streamed as the client reads, so the first byte goes out
    at once and a small range of a big object fetches only that range. (django-storages'
    own file object would download the whole object to a temp file before the first read.)
    Raises FileNotFoundError when the object is gone.
    """
    store = storage()
    if isinstance(store, FileSystemStorage):
        handle = open(store.path(key), "rb")  # noqa: SIM115 - the caller closes it
        if first:
            handle.seek(first)
        return handle
    client = getattr(store, "connection", None)
    if client is None:  # another backend: fall back to its own file object
        generic = store.open(key, "rb")
        if first:
            generic.seek(first)
        return cast(BinaryIO, generic)
    from botocore.exceptions import ClientError

    byte_range = f"bytes={first}-" + (str(first + length - 1) if length is not None else "")
    try:
        answer = client.meta.client.get_object(
            # django-storages' own key mapping (adds the configured location prefix).
            Bucket=store.bucket_name,  # type: ignore[attr-defined]
            Key=store._normalize_name(key),  # type: ignore[attr-defined]
            Range=byte_range,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404", "InvalidRange"}:
            raise FileNotFoundError(key) from None
        raise
    return cast(BinaryIO, answer["Body"])
