"""The one receiving adapter: every transport turns its request into :class:`Received` files.

Bytes go to a temporary file in ``FILE_UPLOAD_TEMP_DIR`` (the data dir's file system, so a
new local blob arrives by a hard link or a rename) in chunks while SHA-256 is computed and
bytes are counted: memory stays flat whatever the size. The upload services then store the result.

- :func:`receive_stream`: any body read in chunks (``read(n) -> bytes``), with or without a
  known length — a raw ``PUT``, a tus ``PATCH``, a WebDAV ``PUT`` whose server decoded a
  chunked body.
- :func:`receive_raw`: a Django request's raw body; ``Content-Length`` is required (411).
- :func:`parse_multipart` / :func:`receive_multipart`: a multipart form, each file streamed
  into its own Receiver as python-multipart finds the parts (:class:`_Form`).

``FILEFLOW_MAX_UPLOAD_SIZE`` applies to each file, never to a whole request. A body that ends
before its ``Content-Length`` (the client went away) is refused, counted by our own reads.
Whatever is refused, the temp files already written are removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import queue
import re
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, QueryDict
from django.template.defaultfilters import filesizeformat
from django.utils.datastructures import MultiValueDict
from django.utils.http import parse_header_parameters
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from accounts.models import User
from files.errors import (
    IncompleteUpload,
    InvalidUpload,
    LengthRequired,
    QuotaExceeded,
    UploadTooLarge,
)
from files.models import Node

if TYPE_CHECKING:  # a type python-multipart declares for type checkers only
    from python_multipart.multipart import MultipartCallbacks

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
    # Already in the store under its content key (see files.blobs.blob_stage).
    staged: bool = False
    # Already in the blob store under this key, assembled there by a resumable upload: a new
    # blob stays where it is, known content drops it (see files.blobs.blobs_for).
    key: str | None = None

    def discard(self) -> None:
        """Remove the temp file (a no-op once storage has taken it by rename; after a hard
        link, only this name goes)."""
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


# What Django's own parser accepts as a boundary (RFC 2046 §5.1.1: 1–70 characters; Django
# allows up to 201 printable ASCII ones, the last not a space).
_BOUNDARY = re.compile(r"[ -~]{0,200}[!-~]")
# Bytes of one part's headers (Content-Disposition with a long name, Content-Type).
MAX_PART_HEADER_SIZE = 16 * 1024
# Transfer encodings a part may declare: RFC 7578 §4.7 says senders do not use any other
# (Django decoded base64; no browser or HTTP library sends it).
_IDENTITY_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})


def _header_parameters(value: bytes) -> tuple[str, dict[str, str]]:
    """A part header's value and parameters (from its UTF-8 bytes), as Django reads them.
    python-multipart's reader is used unless the header has an RFC 2231 parameter
    (``filename*=``), which only Django's reads (it took ~8 µs a header, a fifth of a small
    file's parsing)."""
    if b"*" in value:
        try:
            return parse_header_parameters(value.decode())
        except (ValueError, LookupError) as exc:  # an RFC 2231 charset Python does not know
            raise InvalidUpload(
                f"A part of the form has a header that could not be read: {exc}", field="file"
            ) from None
    main, params = parse_options_header(value)  # the same bytes back, unquoted
    return main.decode(), {key.decode().lower(): param.decode() for key, param in params.items()}


def sanitize_file_name(name: str) -> str | None:
    """The last path component of a part's file name, as Django's parser keeps it (HTML
    entities unescaped, unprintable characters dropped); None when nothing is left."""
    name = html.unescape(name).rsplit("/")[-1].rsplit("\\")[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return None if name in {"", ".", ".."} else name


class _Form:
    """One multipart body as python-multipart reports it: each file part streamed into its
    own Receiver, the other parts kept as form fields.

    python-multipart finds the parts (~40 µs a 4 KiB file where Django's parser took ~90,
    our Receiver's work included: bench/transfer.py, upload-many); the rules are those of
    Django's own parser: part headers read as Django reads them, a part without a name is
    ignored, a file part with an empty name too (an empty file input of a form), and
    ``DATA_UPLOAD_MAX_NUMBER_FILES``, ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` and
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (all the fields' bytes) apply."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.fields = QueryDict(mutable=True, encoding=encoding)
        self.files: MultiValueDict[str, ReceivedFile] = MultiValueDict()
        self.finished: list[Received] = []
        self.ended = False
        self._receiver: Receiver | None = None
        self._field_bytes = 0
        self._fields = 0
        self._files = 0
        self._part_begin()

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self._headers: dict[str, bytes] = {}
        self._hname = bytearray()
        self._hvalue = bytearray()
        self._kind = "skip"
        self._name = ""
        self._value = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def _header_end(self) -> None:
        try:  # as Django reads a part's header line; one that is not UTF-8 is ignored
            name = self._hname.decode().strip().lower()
            self._hvalue.decode()
        except UnicodeDecodeError:
            name = ""
        if name:
            self._headers[name] = bytes(self._hvalue).strip()
        self._hname, self._hvalue = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        encoding = self._headers.get("content-transfer-encoding", b"").decode().lower()
        if encoding not in _IDENTITY_ENCODINGS:
            raise InvalidUpload(
                f"A part of the form is sent with Content-Transfer-Encoding: {encoding}; "
                "send its bytes as they are (RFC 7578).",
                field="file",
            )
        _, disposition = _header_parameters(self._headers.get("content-disposition", b""))
        name = disposition.get("name", "").strip()
        if not name:
            return  # no name: nothing a form field or file can be (Django ignores it too)
        self._name = name
        if "filename" not in disposition:
            self._fields += 1
            most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            if most is not None and self._fields > most:
                raise InvalidUpload(f"Send at most {most} form fields.", field="file")
            self._kind = "field"
            return
        self._files += 1
        most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        if most is not None and self._files > most:
            raise InvalidUpload(f"Send at most {most} files at once.", field="file")
        file_name = sanitize_file_name(disposition["filename"])
        if file_name is None:
            return
        self._file_name = file_name
        self._content_type = _header_parameters(self._headers.get("content-type", b""))[0]
        self._receiver = Receiver(name=file_name, max_size=max_upload_size())
        self._kind = "file"

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._kind == "file":
            assert self._receiver is not None
            self._receiver.write(data[start:end])
        elif self._kind == "field":
            self._field_bytes += end - start
            most = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            if most is not None and self._field_bytes > most:
                raise InvalidUpload(
                    f"The form's fields are larger than {filesizeformat(most)}.", field="file"
                )
            self._value += data[start:end]

    def _part_end(self) -> None:
        if self._kind == "file":
            assert self._receiver is not None
            received = self._receiver.finish()
            self._receiver = None
            self.finished.append(received)
            self.files.appendlist(
                self._name, ReceivedFile(received, self._file_name, self._content_type)
            )
        elif self._kind == "field":
            # Counted like a urlencoded body's "name=value&" (as Django counts them).
            self._field_bytes += len(self._name) + 2
            value = self._value.decode(self.encoding, errors="replace")
            self.fields.appendlist(self._name, value)
        self._part_begin()

    def _end(self) -> None:
        self.ended = True

    def discard_all(self) -> None:
        """Remove every temp file of this body (also one a refusal stopped half-way)."""
        if self._receiver is not None:
            self._receiver.abort()
            self._receiver = None
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


def _boundary(meta: Mapping[str, Any]) -> bytes:
    content_type = str(meta.get("CONTENT_TYPE", ""))
    if not content_type.startswith("multipart/") or not content_type.isascii():
        raise InvalidUpload(
            f"The form could not be read: send it as multipart/form-data (got "
            f"{content_type[:100]!r}).",
            field="file",
        )
    boundary = parse_header_parameters(content_type)[1].get("boundary", "")
    if not _BOUNDARY.fullmatch(boundary):
        raise InvalidUpload(
            "The form could not be read: its Content-Type names no valid boundary.",
            field="file",
        )
    return boundary.encode("ascii")


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
    form = _Form(encoding or settings.DEFAULT_CHARSET)
    if length == 0:
        return form.fields, form.files
    parser = MultipartParser(
        _boundary(meta), form.callbacks(), max_header_size=MAX_PART_HEADER_SIZE
    )
    body = _Counted(read)
    try:
        try:
            while body.count < length and (
                chunk := body.read(min(CHUNK_SIZE, length - body.count))
            ):
                parser.write(chunk)
        except MultipartParseError as exc:
            raise InvalidUpload(f"The form could not be read: {exc}", field="file") from None
        if body.count < length:
            raise IncompleteUpload(
                f"The upload was cut off after {body.count} of {length} bytes; "
                "nothing was stored. Send it again."
            )
        if not form.ended:
            raise InvalidUpload(
                "The form could not be read: it ends before its closing boundary.",
                field="file",
            )
    except BaseException:
        form.discard_all()
        raise
    return form.fields, form.files


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
