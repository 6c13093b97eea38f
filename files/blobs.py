"""The blob store: content addressed by SHA-256, kept once whoever uploads it."""

from __future__ import annotations

import os

from django.core.files import File
from django.core.files.storage import FileSystemStorage, Storage, default_storage
from django.db import IntegrityError, transaction

from files.ingest import Received
from files.models import Blob


def storage() -> Storage:
    return default_storage


def _put(received: Received, key: str) -> None:
    """Move the temp file into storage: a rename on local disk, an upload elsewhere."""
    store = storage()
    if isinstance(store, FileSystemStorage):
        target = store.path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.chmod(received.path, 0o640)
        os.replace(received.path, target)
        return
    # S3: django-storages hands the file to boto3's upload_fileobj, which switches to a
    # multipart upload for large files. file_overwrite keeps the key exactly as given.
    with open(received.path, "rb") as handle:
        store.save(key, File(handle, name=key))
    received.discard()


def blob_for(received: Received) -> Blob:
    """Find or create the Blob for ``received``, inside the caller's transaction.

    Known content is not stored again. The row of an existing blob is locked until the
    caller commits, so garbage collection cannot remove it from under a new reference.
    """
    blob = Blob.objects.select_for_update().filter(sha256=received.sha256).first()
    if blob is not None:
        received.discard()
        return blob
    key = Blob.key_for(received.sha256)
    # Always write: an object left behind by a rolled-back upload has the same bytes.
    _put(received, key)
    try:
        with transaction.atomic():
            return Blob.objects.create(sha256=received.sha256, size=received.size)
    except IntegrityError:
        # A concurrent upload of the same content created the row first.
        return Blob.objects.select_for_update().get(sha256=received.sha256)


def open_blob(blob: Blob) -> File:
    return storage().open(blob.storage_key, "rb")
