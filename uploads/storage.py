"""Where an unfinished upload's bytes wait: one class per backend.

Local disk (:class:`LocalChunks`): the chunks append to one file,
``<FILE_UPLOAD_TEMP_DIR>/tus/<id>.part`` (the data dir's file system, so the finished file
moves into blob storage by rename). The SHA-256 of the content so far is carried from one
``PATCH`` to the next in a per-process cache keyed by upload id and offset (hash objects
cannot be stored): when the chunks arrive in order at one server the finished file is never
read again. After a restart, or on another app server, the cache misses and the bytes
already stored are hashed again from the file.

A write to an upload holds an exclusive ``flock`` on its file, so two requests never write
the same upload at once; the offset is committed (``commit``) while it is held, once the
bytes are written to the file (unbuffered): a killed server process loses nothing it
acknowledged. Like every stored blob they are not ``fsync``ed (that cost a third of the
throughput with 64 MiB chunks, bench/tus.py): after a power cut an upload whose file came
back shorter than its offset answers 410 and starts again.

S3: see :class:`MultipartChunks`.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from files.errors import IncompleteUpload
from files.ingest import CHUNK_SIZE, HEAD_SIZE, HashBeside, Received
from files.store import BlobStore, blob_store
from uploads.errors import ChecksumMismatch, InvalidTusRequest, UploadBusy, UploadLost
from uploads.models import TusUpload

CHECKSUM_ALGORITHMS = ("sha1", "sha256")

_CACHE_SIZE = 512
_hashers: OrderedDict[tuple[str, int], Any] = OrderedDict()
_hashers_lock = threading.Lock()


def _keep_hasher(upload_id: str, offset: int, hasher: Any) -> None:
    with _hashers_lock:
        _hashers[(upload_id, offset)] = hasher
        while len(_hashers) > _CACHE_SIZE:
            _hashers.popitem(last=False)


def _take_hasher(upload_id: str, offset: int) -> Any | None:
    with _hashers_lock:
        return _hashers.pop((upload_id, offset), None)


def _peek_hasher(upload_id: str, offset: int) -> Any | None:
    """A copy of the carried hash, which stays carried (a finish that fails is retried)."""
    with _hashers_lock:
        hasher = _hashers.get((upload_id, offset))
        return hasher.copy() if hasher is not None else None


def forget_hashers(upload_id: str) -> None:
    with _hashers_lock:
        for key in [key for key in _hashers if key[0] == upload_id]:
            del _hashers[key]


def hasher_cached(upload_id: str, offset: int) -> bool:
    """Whether this process carries the hash of ``upload_id``'s first ``offset`` bytes."""
    with _hashers_lock:
        return (upload_id, offset) in _hashers


@dataclass(frozen=True)
class Checksum:
    """An ``Upload-Checksum`` header: the chunk's digest by one algorithm."""

    algorithm: str
    digest: bytes

    @classmethod
    def parse(cls, header: str) -> Checksum:
        algorithm, _, encoded = header.strip().partition(" ")
        algorithm = algorithm.lower()
        if algorithm not in CHECKSUM_ALGORITHMS:
            raise InvalidTusRequest(
                f"Upload-Checksum: the algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}, "
                f"not {algorithm!r}.",
                field="Upload-Checksum",
            )
        try:
            digest = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            digest = b""
        if len(digest) != hashlib.new(algorithm).digest_size:
            raise InvalidTusRequest(
                f"Upload-Checksum: give the chunk's {algorithm} digest in base64 "
                "after the algorithm's name.",
                field="Upload-Checksum",
            )
        return cls(algorithm, digest)


Read = Callable[[int], bytes]
# Records the new offset (and backend fields) if the upload is still where this request
# found it; raises OffsetMismatch otherwise.
Commit = Callable[..., None]


def _lost() -> UploadLost:
    return UploadLost(
        "The bytes received so far for this upload were lost (the server restarted "
        "uncleanly); start the upload again."
    )


def _gone() -> UploadLost:
    return UploadLost(
        "The bytes received for this upload are gone from the server's storage (removed "
        "outside FileFlow), so it cannot be finished. Start a new upload."
    )


def _rehash(handle: Any, upto: int) -> Any:
    """The SHA-256 of the first ``upto`` bytes of an open file, read again."""
    hasher = hashlib.sha256()
    handle.seek(0)
    remaining = upto
    while remaining > 0:
        block = handle.read(min(CHUNK_SIZE * 8, remaining))
        if not block:
            raise _lost()
        hasher.update(block)
        remaining -= len(block)
    return hasher


class LocalChunks:
    """An upload's bytes in one file on the data dir's file system."""

    def _path(self, upload: TusUpload) -> str:
        return os.path.join(settings.FILE_UPLOAD_TEMP_DIR, "tus", f"{upload.id}.part")

    def create(self, upload: TusUpload) -> None:
        path = self._path(upload)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "xb"):
            pass
        _keep_hasher(upload.id, 0, hashlib.sha256())

    def append(
        self,
        upload: TusUpload,
        read: Read,
        *,
        count: int,
        checksum: Checksum | None,
        commit: Commit,
    ) -> tuple[int, Exception | None]:
        """Append up to ``count`` bytes read from ``read`` at ``upload.offset``.

        Bytes that arrived before the client went away are kept (and committed), unless a
        checksum was sent: then the chunk is all or nothing. Returns the bytes kept and the
        error that cut the chunk short, if any."""
        start = upload.offset
        try:
            handle = open(self._path(upload), "r+b", buffering=0)  # noqa: SIM115
        except FileNotFoundError:
            raise _gone() from None
        with handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UploadBusy(
                    "Another request is writing to this upload; wait for it to end, ask for "
                    "the offset (HEAD) and continue from there."
                ) from None
            if os.fstat(handle.fileno()).st_size < start:
                raise _lost()
            # Bytes past the committed offset belong to a request that died before
            # committing them (a killed worker): they were never acknowledged.
            handle.truncate(start)
            hasher = _take_hasher(upload.id, start) or _rehash(handle, start)
            handle.seek(start)
            check = hashlib.new(checksum.algorithm) if checksum else None
            written = 0
            cut: Exception | None = None
            beside = HashBeside(hasher)  # hashed in a thread while the next block arrives
            try:
                while written < count:
                    block = read(min(CHUNK_SIZE, count - written))
                    if not block:
                        cut = IncompleteUpload(
                            f"The chunk stopped after {written} of {count} bytes."
                        )
                        break
                    handle.write(block)
                    beside.update(block)
                    if check is not None:
                        check.update(block)
                    written += len(block)
            except OSError as exc:  # the client went away mid-body
                cut = exc
            finally:
                beside.close()
            hasher = beside.result()
            if (
                check is not None
                and checksum is not None
                and (cut is not None or check.digest() != checksum.digest)
            ):
                handle.truncate(start)
                if cut is not None:
                    return 0, cut
                raise ChecksumMismatch(
                    f"The chunk's {checksum.algorithm} does not match Upload-Checksum; it was "
                    f"discarded. Send it again from offset {start}."
                )
            if written:
                commit(start + written)
            _keep_hasher(upload.id, start + written, hasher)
            return written, cut

    def finish(self, upload: TusUpload) -> Received:
        """The complete file as a :class:`Received`, ready for the upload service."""
        assert upload.length is not None
        path = self._path(upload)
        try:
            handle = open(path, "rb")  # noqa: SIM115
        except FileNotFoundError:
            raise _gone() from None
        with handle:
            head = handle.read(HEAD_SIZE)
            hasher = _peek_hasher(upload.id, upload.length)
            if hasher is None:
                hasher = _rehash(handle, upload.length)
                _keep_hasher(upload.id, upload.length, hasher.copy())
        return Received(path=path, size=upload.length, sha256=hasher.hexdigest(), head=head)

    def forget(self, upload: TusUpload) -> None:
        """The upload is over: drop what this process carried for it."""
        forget_hashers(upload.id)

    def discard(self, upload: TusUpload) -> int:
        """Remove the bytes; returns how many there were."""
        forget_hashers(upload.id)
        path = self._path(upload)
        try:
            size = os.stat(path).st_size
            os.unlink(path)
        except FileNotFoundError:
            return 0
        return size


MiB = 1024 * 1024
# S3 parts: at least 5 MiB (but the last); bigger for huge files (at most 10,000 parts).
PART_SIZE = 8 * MiB
MAX_PARTS = 10_000


def _part_size(length: int | None) -> int:
    if length is None:
        return PART_SIZE
    needed = -(-length // (MAX_PARTS - 1))
    return max(PART_SIZE, -(-needed // MiB) * MiB)


class MultipartChunks:
    """An upload's bytes as the parts of a multipart upload in the blob store (S3).

    Every full part goes to the store as soon as it has arrived; what is left over (less
    than a part) is kept in the upload's row, ``tail``, so the offset a client is told is
    durably stored and any app server can continue. The finished object is put together by
    the store at the upload's ``key`` (:func:`files.blobs.upload_key` when it was created;
    ``uploads/<id>`` for one started before that) and stays there: the new blob keeps that key
    (no copy); known content drops it (one DELETE). When the content's hash was not carried
    here (another server took earlier chunks), the joined object is read back once to hash
    it.
    """

    def __init__(self, store: BlobStore) -> None:
        self.store = store

    @staticmethod
    def key(upload: TusUpload) -> str:
        """Where the parts are joined: fixed on the row when the upload was created."""
        return upload.key

    def create(self, upload: TusUpload) -> None:
        _keep_hasher(upload.id, 0, hashlib.sha256())

    def append(
        self,
        upload: TusUpload,
        read: Read,
        *,
        count: int,
        checksum: Checksum | None,
        commit: Commit,
    ) -> tuple[int, Exception | None]:
        start = upload.offset
        hasher = _take_hasher(upload.id, start)
        check = hashlib.new(checksum.algorithm) if checksum else None
        size = _part_size(upload.length)
        buffer = bytearray(upload.tail)
        etags = list(upload.parts)
        multipart_id = upload.multipart_id
        started_here = False
        written = 0
        cut: Exception | None = None

        def send(data: bytes) -> None:
            nonlocal multipart_id, started_here
            if not multipart_id:
                multipart_id = self.store.multipart_start(self.key(upload))
                started_here = True
            try:
                etag = self.store.multipart_put(
                    self.key(upload), multipart_id, len(etags) + 1, data
                )
            except Exception:
                # The parts stored so far are gone (a lifecycle rule aborted the multipart
                # upload) only if S3 says so when asked; else this error is raised as it is.
                if not self.store.multipart_exists(self.key(upload), multipart_id):
                    raise _gone() from None
                raise
            etags.append(etag)

        try:
            while written < count:
                block = read(min(CHUNK_SIZE, count - written))
                if not block:
                    cut = IncompleteUpload(f"The chunk stopped after {written} of {count} bytes.")
                    break
                if hasher is not None:
                    hasher.update(block)
                if check is not None:
                    check.update(block)
                buffer += block
                written += len(block)
                if check is None and len(buffer) >= size:
                    send(bytes(buffer[:size]))
                    del buffer[:size]
            if check is not None and checksum is not None:
                if cut is not None:
                    return 0, cut
                if check.digest() != checksum.digest:
                    raise ChecksumMismatch(
                        f"The chunk's {checksum.algorithm} does not match Upload-Checksum; it "
                        f"was discarded. Send it again from offset {start}."
                    )
                # Verified: only now do its parts go out (a refused chunk leaves no part).
                while len(buffer) >= size:
                    send(bytes(buffer[:size]))
                    del buffer[:size]
        except OSError as exc:
            cut = exc
        if written:
            try:
                commit(
                    start + written,
                    parts=etags,
                    tail=bytes(buffer),
                    multipart_id=multipart_id,
                )
            except BaseException:
                if started_here:
                    self.store.multipart_abort(self.key(upload), multipart_id)
                raise
            upload.parts = etags
            upload.tail = bytes(buffer)
            upload.multipart_id = multipart_id
        if hasher is not None:
            _keep_hasher(upload.id, start + written, hasher)
        return written, cut

    def finish(self, upload: TusUpload) -> Received:
        assert upload.length is not None
        key = self.key(upload)
        hasher = _peek_hasher(upload.id, upload.length)
        tail = bytes(upload.tail)
        if not upload.parts:
            # Smaller than one part: an ordinary temp file, stored the ordinary way.
            if upload.multipart_id:
                self.store.multipart_abort(key, upload.multipart_id)
            directory = settings.FILE_UPLOAD_TEMP_DIR
            os.makedirs(directory, exist_ok=True)
            fd, path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=directory)
            with os.fdopen(fd, "wb") as handle:
                handle.write(tail)
            return Received(
                path=path,
                size=len(tail),
                sha256=hashlib.sha256(tail).hexdigest(),
                head=tail[:HEAD_SIZE],
            )
        # Assembled already when a request that finished it died before storing the file
        # (a killed worker): the client's next request (an empty PATCH) stores it now.
        if not self._assembled(key, upload.length):
            try:
                etags = list(upload.parts)
                if tail:
                    etags.append(
                        self.store.multipart_put(key, upload.multipart_id, len(etags) + 1, tail)
                    )
                self.store.multipart_complete(key, upload.multipart_id, etags)
            except Exception:
                # Joined meanwhile by another request finishing the same upload (a client's
                # HEAD while its last PATCH was being stored; gc): the object is there. If
                # not, and S3 says it knows no such multipart upload, the object and the
                # parts are both gone (deleted out of band, a lifecycle rule): no retry can
                # bring them back. Else (S3 did not answer, or answered an error that says
                # nothing of them) the caller keeps the upload for a retry.
                if not self._assembled(key, upload.length):
                    if not self.store.multipart_exists(key, upload.multipart_id):
                        raise _gone() from None
                    raise
        with self.store.open_range(key, length=min(HEAD_SIZE, upload.length)) as reader:
            head = reader.read()
        if hasher is None:
            hasher = hashlib.sha256()
            with self.store.open_range(key) as reader:
                while block := reader.read(CHUNK_SIZE * 8):
                    hasher.update(block)
            _keep_hasher(upload.id, upload.length, hasher.copy())  # for a retry
        # Already in the store: nothing on disk to move (files.blobs keeps it or drops it).
        missing = os.path.join(settings.FILE_UPLOAD_TEMP_DIR, f"{upload.id}.stored")
        return Received(
            path=missing, size=upload.length, sha256=hasher.hexdigest(), head=head, key=key
        )

    def forget(self, upload: TusUpload) -> None:
        forget_hashers(upload.id)

    def _assembled(self, key: str, length: int) -> bool:
        # Only this upload's multipart upload writes to its key.
        try:
            return self.store.size(key) == length
        except FileNotFoundError:
            return False

    def discard(self, upload: TusUpload) -> int:
        """Abort the multipart upload and remove what it assembled. The caller has deleted
        the upload's row under the owner's lock: no finishing request can be making a blob
        of that object meanwhile."""
        forget_hashers(upload.id)
        if upload.multipart_id:
            self.store.multipart_abort(self.key(upload), upload.multipart_id)
        self.store.delete(self.key(upload))
        return upload.offset


def chunks_for(upload: TusUpload) -> LocalChunks | MultipartChunks:
    """Where an upload's bytes wait: parts in the blob store when it takes them (S3), else
    one file on the data dir's disk."""
    store = blob_store()
    return MultipartChunks(store) if store.multipart else LocalChunks()
