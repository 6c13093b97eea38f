"""The one ingest path: every transport streams into a :class:`Receiver`.

Bytes go to a temporary file in ``FILE_UPLOAD_TEMP_DIR`` (the data dir's file system, so a
new local blob arrives by rename) in chunks while SHA-256 is computed and bytes are counted:
memory stays flat whatever the size. The services then store the result as a Blob.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from files.errors import IncompleteUpload, LengthRequired, QuotaExceeded, UploadTooLarge

CHUNK_SIZE = 1024 * 1024
HEAD_SIZE = 8192
# What a multipart body may carry beyond its files (boundaries, headers, small fields).
FRAMING_ALLOWANCE = 64 * 1024


@dataclass
class Received:
    """Content that has fully arrived and waits, in a temp file, to be stored."""

    path: str
    size: int
    sha256: str
    head: bytes
    # Already copied to remote storage under its content key (see files.blobs.blob_stage).
    staged: bool = False

    def discard(self) -> None:
        """Remove the temp file (a no-op once storage has taken it by rename)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def max_upload_size() -> int | None:
    return settings.FILEFLOW_MAX_UPLOAD_SIZE


def too_large(size: int, limit: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"This file is {filesizeformat(size)}; the largest upload this server accepts is "
        f"{filesizeformat(limit)}."
    )


class Receiver:
    """Writes chunks to a temp file, hashing and counting them as they pass."""

    def __init__(self, *, max_size: int | None = None) -> None:
        directory = settings.FILE_UPLOAD_TEMP_DIR
        os.makedirs(directory, exist_ok=True)
        fd, self.path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self._head = bytearray()
        self.size = 0
        self.max_size = max_size

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_size is not None and self.size > self.max_size:
            self.abort()
            raise too_large(self.size, self.max_size)
        if len(self._head) < HEAD_SIZE:
            self._head += chunk[: HEAD_SIZE - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> Received:
        self._file.close()
        return Received(
            path=self.path, size=self.size, sha256=self._hash.hexdigest(), head=bytes(self._head)
        )

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


def length_required() -> LengthRequired:
    return LengthRequired(
        "Send the file with a Content-Length header; chunked uploads without a length "
        "are not accepted."
    )


def declared_length(meta: Mapping[str, Any]) -> int | None:
    """The body's ``Content-Length``; None when it is missing, malformed or the body is
    chunked (under WSGI a chunked body reaches Django empty)."""
    raw = meta.get("CONTENT_LENGTH")
    if "chunked" in str(meta.get("HTTP_TRANSFER_ENCODING", "")).lower() or raw in (None, ""):
        return None
    try:
        length = int(raw)
    except (TypeError, ValueError):
        return None
    return length if length >= 0 else None


def refuse_early(
    meta: Mapping[str, Any], owner: User, *, visitor: bool = False, one_file: bool = True
) -> None:
    """Refuse a body that cannot fit — over the upload limit or the owner's free space —
    before reading a byte of it. The services check again, exactly, when they store it.

    ``visitor``: the uploader is not the owner (a drop folder), so the message names no
    figure of the owner's account. ``one_file=False``: the body carries several files, so
    the per-file limit is left to the Receiver of each."""
    length = declared_length(meta)
    if length is None:
        return
    limit = max_upload_size()
    if one_file and limit is not None and length > limit + FRAMING_ALLOWANCE:
        raise too_large(length, limit)
    owner.refresh_from_db(fields=["quota_bytes", "used_bytes"])
    free = owner.free_bytes
    if free is None or length <= free + FRAMING_ALLOWANCE:
        return
    if visitor:
        raise QuotaExceeded("There is not enough space left in this folder for this upload.")
    raise QuotaExceeded(
        f"Not enough space for this upload: {filesizeformat(free)} is free. "
        "Empty the trash or delete old versions to make room."
    )


def receive_body(read: Callable[[int], bytes], *, length: int | None) -> Received:
    """Stream a raw request body of ``length`` bytes (a ``PUT``) into a Receiver.

    A body without ``Content-Length`` is refused: under WSGI a chunked body reaches Django
    empty, and storing it would silently make an empty file.
    """
    if length is None:
        raise length_required()
    limit = max_upload_size()
    if limit is not None and length > limit:
        raise too_large(length, limit)
    receiver = Receiver(max_size=limit)
    try:
        remaining = length
        while remaining > 0:
            chunk = read(min(CHUNK_SIZE, remaining))
            if not chunk:
                raise IncompleteUpload(
                    f"The upload stopped after {length - remaining} of {length} bytes; "
                    "nothing was stored. Send it again."
                )
            receiver.write(chunk)
            remaining -= len(chunk)
    except BaseException:
        receiver.abort()
        raise
    return receiver.finish()


class ReceivedFile(UploadedFile):
    """What a multipart upload leaves in ``request.FILES``: the file, already hashed."""

    def __init__(self, received: Received, name: str, content_type: str | None) -> None:
        super().__init__(
            file=open(received.path, "rb"),  # noqa: SIM115 - closed by Django with the request
            name=name,
            content_type=content_type,
            size=received.size,
        )
        self.received = received


class HashingUploadHandler(FileUploadHandler):
    """A multipart upload handler that streams each file into a Receiver.

    Install it before the body is read:
    ``request.upload_handlers = [HashingUploadHandler(request)]``.
    """

    chunk_size = CHUNK_SIZE

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.receiver: Receiver | None = None
        self.finished: list[Received] = []

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.receiver = Receiver(max_size=max_upload_size())

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        assert self.receiver is not None
        self.receiver.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> ReceivedFile | None:
        if self.receiver is None:
            return None
        received = self.receiver.finish()
        self.receiver = None
        self.finished.append(received)
        return ReceivedFile(received, self.file_name or "upload", self.content_type)

    def upload_interrupted(self) -> None:
        if self.receiver is not None:
            self.receiver.abort()
            self.receiver = None

    def discard_all(self) -> None:
        """Remove every temp file of this request: for a request refused before storing
        (also when the parse itself was cut short and Django never handed the files over)."""
        self.upload_interrupted()
        for received in self.finished:
            received.discard()


def discard_uploads(request: HttpRequest) -> None:
    """Remove the temp files of a multipart request whose files will not be stored."""
    for handler in request.upload_handlers:
        if isinstance(handler, HashingUploadHandler):
            handler.discard_all()
        else:
            handler.upload_interrupted()
