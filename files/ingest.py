"""The one receiving adapter: every transport turns its request into :class:`Received` files.

Bytes go to a temporary file in ``FILE_UPLOAD_TEMP_DIR`` (the data dir's file system, so a
new local blob arrives by rename) in chunks while SHA-256 is computed and bytes are counted:
memory stays flat whatever the size. The upload services then store the result.

- :func:`receive_stream`: any body read in chunks (``read(n) -> bytes``), with or without a
  known length — a raw ``PUT``, a tus ``PATCH``, a WebDAV ``PUT`` whose server decoded a
  chunked body.
- :func:`receive_raw`: a Django request's raw body; ``Content-Length`` is required (411).
- :func:`parse_multipart` / :func:`receive_multipart`: a multipart form, each file streamed
  into its own Receiver by :class:`HashingUploadHandler`.

``FILEFLOW_MAX_UPLOAD_SIZE`` applies to each file, never to a whole request. A body that ends
before its ``Content-Length`` (the client went away) is refused, counted by our own reads.
Whatever is refused, the temp files already written are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.datastructures import MultiValueDict

from accounts.models import User
from files.errors import (
    IncompleteUpload,
    InvalidUpload,
    LengthRequired,
    QuotaExceeded,
    UploadTooLarge,
)
from files.models import Node

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
    head: bytes  # the first HEAD_SIZE bytes: all that MIME detection reads
    # Already copied to remote storage under its content key (see files.blobs.blob_stage).
    staged: bool = False
    # Already in the blob store under this key, assembled there by a resumable upload: a new
    # blob stays where it is, known content drops it (see files.blobs.blobs_for).
    key: str | None = None

    def discard(self) -> None:
        """Remove the temp file (a no-op once storage has taken it by rename)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


@dataclass
class Upload:
    """One file as a transport received it: the name it was sent under and its content."""

    name: str
    received: Received


def discard_all(uploads: list[Upload]) -> None:
    for upload in uploads:
        upload.received.discard()


def max_upload_size() -> int | None:
    return settings.FILEFLOW_MAX_UPLOAD_SIZE


def too_large(name: str, limit: int, size: int | None = None) -> UploadTooLarge:
    """The per-file limit's refusal, naming the file (``size`` when it is known)."""
    what = f"“{name}” is {filesizeformat(size)}" if size is not None else f"“{name}” is too large"
    return UploadTooLarge(
        f"{what}; the largest upload this server accepts is {filesizeformat(limit)} per file.",
        field="file",
    )


class HashBeside:
    """Feeds a hash object from a thread of its own, beside the thread that writes the bytes.

    hashlib releases the GIL while it hashes a big buffer, so receiving and writing the next
    chunk overlaps hashing this one: a big upload costs about the larger of the two instead
    of their sum. The first ``inline`` bytes are hashed in the caller's thread, so a small
    upload starts no thread. At most ``depth`` chunks wait for the hasher (memory stays
    flat); chunks are bytes, never changed once handed over.
    """

    def __init__(self, hasher: Any, *, inline: int = CHUNK_SIZE, depth: int = 1) -> None:
        self._hasher = hasher
        self._inline = inline
        self._depth = depth
        self._queue: queue.Queue[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._error: Exception | None = None

    def update(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            data = bytes(data)  # a buffer its owner may reuse after this call
        if self._queue is None:
            if self._inline >= len(data):
                self._inline -= len(data)
                self._hasher.update(data)
                return
            self._queue = queue.Queue(maxsize=self._depth)
            self._thread = threading.Thread(target=self._run, name="fileflow-hash", daemon=True)
            self._thread.start()
        if data:
            self._queue.put(data)

    def _run(self) -> None:
        assert self._queue is not None
        failed = False
        while data := self._queue.get():  # b"": no more
            if failed:
                continue  # keep draining, so the writer never blocks on a full queue
            try:
                self._hasher.update(data)
            # Whatever fails must reach the writer (by result()), which would otherwise wait
            # on a full queue for ever.
            except Exception as exc:  # noqa: BLE001
                self._error, failed = exc, True

    def _stop(self) -> None:
        if self._queue is not None and self._thread is not None:
            self._queue.put(b"")
            self._thread.join()
            self._queue = self._thread = None

    def result(self) -> Any:
        """The hash object, once every byte handed over is in it."""
        self._stop()
        if self._error is not None:
            raise self._error
        return self._hasher

    def close(self) -> None:
        """Stop the hasher thread (if any); the hash is not wanted any more."""
        self._stop()


class Receiver:
    """Writes chunks to a temp file, hashing and counting them as they pass."""

    def __init__(self, *, name: str = "upload", max_size: int | None = None) -> None:
        directory = settings.FILE_UPLOAD_TEMP_DIR
        try:
            fd, self.path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
        except FileNotFoundError:  # made on the first upload (or removed since)
            os.makedirs(directory, exist_ok=True)
            fd, self.path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
        self._file = os.fdopen(fd, "wb")
        self._hash = HashBeside(hashlib.sha256())
        self._head = bytearray()
        self.name = name
        self.size = 0
        self.max_size = max_size

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.max_size is not None and self.size > self.max_size:
            self.abort()
            raise too_large(self.name, self.max_size)
        if len(self._head) < HEAD_SIZE:
            self._head += chunk[: HEAD_SIZE - len(self._head)]
        self._hash.update(chunk)
        self._file.write(chunk)

    def finish(self) -> Received:
        try:
            self._file.close()
            sha256 = self._hash.result().hexdigest()
        except BaseException:
            self.abort()
            raise
        return Received(path=self.path, size=self.size, sha256=sha256, head=bytes(self._head))

    def abort(self) -> None:
        self._hash.close()
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
    meta: Mapping[str, Any], owner: User, *, visitor: bool = False, uploader: User | None = None
) -> None:
    """Refuse a body that cannot fit in the owner's free space before reading a byte of it.

    ``owner`` owns the folder the upload goes to (whose quota is charged: not the uploader's
    when the folder is shared with them), as loaded with the request; the services check
    again, exactly, when they store. Only the free space is checked here, against the whole
    body: the per-file limit is the Receiver's (a request may carry several files).
    ``visitor``: the uploader has no account (a drop folder), so the message names no
    figure of the owner's account; ``uploader`` someone else than the owner (an editor), so
    the message says whose space is short (but not how much is left)."""
    length = declared_length(meta)
    free = owner.free_bytes
    if length is None or free is None or length <= free + FRAMING_ALLOWANCE:
        return
    if visitor:
        raise QuotaExceeded("There is not enough space left in this folder for this upload.")
    if uploader is not None and uploader.pk != owner.pk:
        # No figure of the owner's account: that is theirs to know (as tus says it).
        raise QuotaExceeded(
            f"Not enough space for this upload: this folder belongs to {owner.username}, "
            "whose quota it counts against, and it cannot hold it."
        )
    raise QuotaExceeded(
        f"Not enough space for this upload: {filesizeformat(free)} is free. "
        "Empty the trash or delete old versions to make room."
    )


def refuse_early_into(meta: Mapping[str, Any], node: Node, uploader: User) -> None:
    """:func:`refuse_early` for an upload by ``uploader`` into ``node`` (the folder it goes
    to, or the file it replaces): against the owner's quota, read only when the node is
    someone else's (a folder shared with the uploader as editor)."""
    owner = uploader if node.owner_id == uploader.pk else node.owner
    refuse_early(meta, owner, uploader=uploader)


def receive_stream(
    read: Callable[[int], bytes], *, length: int | None, name: str = "upload"
) -> Received:
    """Stream a body into a Receiver, ``CHUNK_SIZE`` bytes at a time.

    ``length`` known: exactly that many bytes, and a body that ends sooner is refused
    (nothing is kept). ``length`` None: read until ``read`` returns ``b""`` — for sources
    whose own framing marks the end (a decoded chunked body), never for a WSGI body without
    ``Content-Length`` (see :func:`receive_raw`).
    """
    limit = max_upload_size()
    if length is not None and limit is not None and length > limit:
        raise too_large(name, limit, length)
    receiver = Receiver(name=name, max_size=limit)
    try:
        while length is None or receiver.size < length:
            want = CHUNK_SIZE if length is None else min(CHUNK_SIZE, length - receiver.size)
            chunk = read(want)
            if not chunk:
                if length is None:
                    break
                raise IncompleteUpload(
                    f"The upload stopped after {receiver.size} of {length} bytes; "
                    "nothing was stored. Send it again."
                )
            receiver.write(chunk)
    except BaseException:
        receiver.abort()
        raise
    return receiver.finish()


def receive_raw(request: HttpRequest, *, name: str) -> Received:
    """A request's raw body (a ``PUT``) as one file called ``name``.

    Under WSGI a chunked body reaches Django empty, so a body without ``Content-Length`` is
    refused with 411 rather than stored as an empty file."""
    length = declared_length(request.META)
    if length is None:
        raise length_required()
    return receive_stream(request.read, length=length, name=name)


class ReceivedFile(UploadedFile):
    """What a multipart upload leaves among the files: the file, already hashed."""

    def __init__(self, received: Received, name: str, content_type: str | None) -> None:
        super().__init__(
            file=open(received.path, "rb"),  # noqa: SIM115 - closed with the request
            name=name,
            content_type=content_type,
            size=received.size,
        )
        self.received = received

    def __bool__(self) -> bool:
        # An empty file is still a file (File.__bool__ would say so only by its name).
        return True


class HashingUploadHandler(FileUploadHandler):
    """A multipart upload handler that streams each file into its own Receiver."""

    chunk_size = CHUNK_SIZE

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.receiver: Receiver | None = None
        self.finished: list[Received] = []

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.receiver = Receiver(name=self.file_name or "upload", max_size=max_upload_size())

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
        """Remove every temp file of this request (also those the parser never handed over)."""
        self.upload_interrupted()
        for received in self.finished:
            received.discard()


class _Counted:
    """A body reader that counts what it hands out, so a short body is noticed by us."""

    def __init__(self, read: Callable[..., bytes]) -> None:
        self._read = read
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._read(size)
        self.count += len(chunk)
        return chunk


def parse_multipart(
    meta: Mapping[str, Any], read: Callable[..., bytes], *, encoding: str | None = None
) -> tuple[QueryDict, MultiValueDict]:
    """Parse a multipart body, streaming each file into a Receiver.

    Returns the form fields and the files (:class:`ReceivedFile`). On any refusal — a body
    shorter than its ``Content-Length``, a file over the limit, too many files, a malformed
    body — every temp file written so far is removed before the error goes up."""
    length = declared_length(meta)
    if length is None:
        raise length_required()
    handler = HashingUploadHandler()
    body = _Counted(read)
    try:
        try:
            fields, files = MultiPartParser(
                dict(meta), cast(Any, body), [handler], encoding
            ).parse()
        except TooManyFilesSent:
            most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
            raise InvalidUpload(f"Send at most {most} files at once.", field="file") from None
        except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig) as exc:
            raise InvalidUpload(f"The form could not be read: {exc}", field="file") from None
        if body.count < length:
            raise IncompleteUpload(
                f"The upload was cut off after {body.count} of {length} bytes; "
                "nothing was stored. Send it again."
            )
    except BaseException:
        handler.discard_all()
        raise
    return fields, files


def uploads_in(files: MultiValueDict, field: str = "file") -> list[Upload]:
    """The files sent under ``field``, in order, as :class:`Upload`."""
    return [
        Upload(name=str(item.name or "upload"), received=item.received)
        for item in files.getlist(field)
        if isinstance(item, ReceivedFile)
    ]


def receive_multipart(request: HttpRequest) -> tuple[QueryDict, list[Upload]]:
    """A Django view's multipart form: its fields and its ``file`` parts.

    The body is parsed here (not by ``request.POST``), so call this before anything reads
    it; the fields become ``request.POST``, so a CSRF check afterwards finds its token."""
    fields, files = parse_multipart(request.META, request.read, encoding=request.encoding)
    request.POST = fields  # type: ignore[assignment]  # the parser makes it read-only
    return fields, uploads_in(files)
