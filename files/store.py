"""Where blob bytes live: one small interface, one implementation per backend.

Everything that differs between local disk and S3 is here, behind :class:`BlobStore`:
committing a finished upload, staging it before the write transaction, reading a byte
range, handing a download to the server, listing and deleting for garbage collection, and
the health probe. Callers get the configured store from :func:`blob_store` and never ask
which one they have.

Keys are storage names such as ``blobs/ab/cd/<sha256>`` and ``thumbnails/<sha256>/256.webp``
(made by FileFlow, never by users; a blob's is always ``Blob.storage_key``); on S3 the
configured ``location`` prefix is added in front, as django-storages does for everything it
stores.
"""

from __future__ import annotations

import contextlib
import io
import os
import posixpath
import secrets
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, BinaryIO, ClassVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages


@dataclass(frozen=True)
class Stat:
    size: int
    modified: datetime


@dataclass(frozen=True)
class InternalRedirect:
    """Let the web server in front send the file from ``path`` (nginx ``X-Accel-Redirect``)."""

    path: str


@dataclass(frozen=True)
class ExternalRedirect:
    """Send the client to ``url``, where the object store serves the bytes itself."""

    url: str


Handoff = InternalRedirect | ExternalRedirect


class BlobStore(ABC):
    """The operations FileFlow needs from a place that keeps bytes under keys."""

    # open_range() returns real OS files (the server may sendfile them), and a missing key
    # is cheap to detect before a response starts.
    real_files: ClassVar[bool]
    # The multipart_* methods work: content may arrive in parts over many requests (and app
    # servers) straight into the store. Otherwise it gathers in a file on the data dir.
    multipart: ClassVar[bool] = False

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # --- writing ------------------------------------------------------------------------

    @abstractmethod
    def commit(self, path: str, key: str) -> None:
        """Store the finished temp file at ``path`` under ``key``; the temp file is gone
        afterwards. Inside the write transaction: on local disk this is a rename."""

    @abstractmethod
    def stage(self, path: str, key: str, *, stored: Callable[[], bool]) -> bool:
        """Before the write transaction: put the temp file's content at ``key`` (a network
        upload unless ``stored()`` says the content is known already; a hard link on local
        disk). Returns whether it did; the temp file stays either way. Content staged for an
        upload that then fails is an orphan for garbage collection (after the grace period);
        it is never removed here, as another upload of the same content may own it."""

    @abstractmethod
    def put_bytes(self, key: str, data: bytes) -> None:
        """Write small derived data (a thumbnail) under exactly ``key``, never half-written."""

    # --- reading ------------------------------------------------------------------------

    @abstractmethod
    def open_range(self, key: str, *, first: int = 0, length: int | None = None) -> BinaryIO:
        """A forward-only reader of ``length`` bytes from ``first`` (or to the end), streamed
        as it is read. Raises FileNotFoundError when the key is missing."""

    @abstractmethod
    def open_seekable(self, key: str) -> IO[bytes]:
        """A seekable file of the whole object (for decoders that jump around), never held
        in memory. Raises FileNotFoundError."""

    @abstractmethod
    def handoff(self, key: str, *, content_type: str, disposition: str | None) -> Handoff | None:
        """How to let something else send this object, when the operator set that up
        (``FILEFLOW_X_ACCEL_REDIRECT_PREFIX``, ``FILEFLOW_S3_PRESIGNED_REDIRECT``); None to
        stream it through the app. Raises FileNotFoundError when it is known missing."""

    @abstractmethod
    def check_present(self, keys: Iterable[str]) -> None:
        """Raise FileNotFoundError for the first missing key where checking is cheap (a
        stat); a remote store checks nothing here and a missing object fails when read."""

    def exists(self, key: str) -> bool:
        return self.storage.exists(key)

    @abstractmethod
    def stat(self, key: str) -> Stat:
        """Size and modification time; FileNotFoundError when missing."""

    def size(self, key: str) -> int:
        return self.stat(key).size

    # --- listing and deleting -----------------------------------------------------------

    def delete(self, key: str) -> None:
        """Delete ``key``; a missing key is not an error."""
        self.storage.delete(key)

    @abstractmethod
    def delete_unless(self, key: str, *, keep: Callable[[Stat], bool]) -> int | None:
        """Delete ``key`` unless ``keep(stat)`` says otherwise, deciding as close to the
        deletion as the backend allows. Returns the size deleted, or None when kept or
        missing."""

    def prune(self, prefix: str) -> None:  # noqa: B027 - most stores have no folders
        """Remove folders under ``prefix`` left empty by deletions (where there are any)."""

    @abstractmethod
    def walk(self, top: str) -> Iterator[str]:
        """Every key under the folder ``top``."""

    def folders(self, top: str) -> list[str]:
        """The names of the folders directly under ``top``, sorted."""
        try:
            return sorted(self.storage.listdir(top)[0])
        except FileNotFoundError:
            return []

    @abstractmethod
    def probe(self) -> None:
        """Raise unless the store answers and can take writes (``/healthz``)."""

    # --- multipart uploads over many requests (where ``multipart`` is True) ----------------

    def multipart_start(self, key: str) -> str:
        """Begin a multipart upload to ``key``; returns its id."""
        raise NotImplementedError(f"{type(self).__name__} keeps no multipart uploads")

    def multipart_put(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Store part ``number`` (from 1); returns its ETag."""
        raise NotImplementedError(f"{type(self).__name__} keeps no multipart uploads")

    def multipart_complete(self, key: str, upload_id: str, etags: list[str]) -> None:
        """Join the parts (in order, numbered from 1) into the object at ``key``."""
        raise NotImplementedError(f"{type(self).__name__} keeps no multipart uploads")

    def multipart_abort(self, key: str, upload_id: str) -> None:
        """Drop an unfinished multipart upload and its parts; an unknown one is no error."""
        raise NotImplementedError(f"{type(self).__name__} keeps no multipart uploads")

    def multipart_exists(self, key: str, upload_id: str) -> bool:
        """Whether the store still knows the multipart upload (False only when it says so;
        an error reaching it is raised)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no multipart uploads")


# --- local disk -----------------------------------------------------------------------------


def _put_back(aside: str, path: str) -> None:
    """Return a file renamed aside, unless an upload has stored that name again since."""
    try:
        os.link(aside, path)
    except FileExistsError:
        pass  # the upload's file is there now: keep it
    except OSError:
        os.replace(aside, path)  # a file system without hard links
        return
    os.unlink(aside)


class _Window(io.RawIOBase):
    """At most ``length`` bytes of an open file from its current offset; ``fileno()`` is the
    file's own, so a server can still ``sendfile`` from that offset."""

    def __init__(self, file: BinaryIO, length: int) -> None:
        self._file = file
        self._remaining = length

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > self._remaining:
            size = self._remaining
        data = self._file.read(size) if size else b""
        self._remaining -= len(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()
        super().close()


class LocalStore(BlobStore):
    """Blobs as files under the storage's location (``<data dir>/blobs``)."""

    storage: FileSystemStorage
    real_files = True

    def _path(self, key: str) -> str:
        return self.storage.path(key)

    def commit(self, path: str, key: str) -> None:
        target = self._path(key)
        # Readable by the owner and the group (a web server serving X-Accel-Redirect).
        os.chmod(path, 0o640)
        try:
            os.replace(path, target)
        except FileNotFoundError:  # the key's folder is new (checking first cost ~60 µs)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(path, target)

    def stage(self, path: str, key: str, *, stored: Callable[[], bool]) -> bool:
        # A second name for the temp file, at its key: the write lock then holds no file
        # system work for new content (the rename inside the transaction was up to a sixth
        # of a small upload's CPU on a busy disk, bench/transfer.py). A name already there
        # is left to the transaction: it is the content itself, or a leftover that garbage
        # collection may be removing right now, which the commit's rename replaces.
        # ``stored`` is not asked: trying the link costs less than the query.
        target = self._path(key)
        os.chmod(path, 0o640)  # readable by the group: a web server serving X-Accel-Redirect
        try:
            try:
                os.link(path, target)
            except FileNotFoundError:  # the key's folder is new
                os.makedirs(os.path.dirname(target), exist_ok=True)
                os.link(path, target)
        except FileExistsError:
            return False
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        # Written beside its place and renamed over it: a concurrent reader sees the old
        # file or the new, and two racing writes of the same bytes are harmless.
        target = self._path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(temp, 0o640)
            os.replace(temp, target)
        except BaseException:
            os.unlink(temp)
            raise

    def open_range(self, key: str, *, first: int = 0, length: int | None = None) -> BinaryIO:
        # The real file, positioned: gunicorn's sendfile starts at the descriptor's offset.
        handle = open(self._path(key), "rb")  # noqa: SIM115 - the caller closes it
        if first:
            handle.seek(first)
        if length is None:
            return handle
        return cast(BinaryIO, _Window(handle, length))

    def open_seekable(self, key: str) -> IO[bytes]:
        return open(self._path(key), "rb")

    def handoff(self, key: str, *, content_type: str, disposition: str | None) -> Handoff | None:
        prefix = settings.FILEFLOW_X_ACCEL_REDIRECT_PREFIX
        if not prefix:
            return None
        self.check_present([key])
        return InternalRedirect(f"{prefix.rstrip('/')}/{key}")

    def check_present(self, keys: Iterable[str]) -> None:
        for key in keys:
            if not os.path.isfile(self._path(key)):
                raise FileNotFoundError(key)

    def stat(self, key: str) -> Stat:
        found = os.stat(self._path(key))
        return Stat(found.st_size, datetime.fromtimestamp(found.st_mtime, tz=UTC))

    def delete_unless(self, key: str, *, keep: Callable[[Stat], bool]) -> int | None:
        # Renamed aside first, atomically, then checked: an upload that stores this key
        # meanwhile either renamed a fresh file over it before us (the moved file is young:
        # put back) or after us (its file is a new one we do not touch).
        path = self._path(key)
        aside = f"{path}.gc-{secrets.token_hex(4)}"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return None
        found = os.stat(aside)
        if keep(Stat(found.st_size, datetime.fromtimestamp(found.st_mtime, tz=UTC))):
            _put_back(aside, path)
            return None
        os.unlink(aside)
        return found.st_size

    def prune(self, prefix: str) -> None:
        # Deepest first; a folder refilled meanwhile is not empty and stays.
        for root, _dirs, _files in os.walk(self._path(prefix), topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(root)

    def walk(self, top: str) -> Iterator[str]:
        """Depth first, files before folders, each sorted."""
        try:
            with os.scandir(self._path(top)) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        folders = []
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            else:
                yield posixpath.join(top, entry.name)
        for name in folders:
            yield from self.walk(posixpath.join(top, name))

    def probe(self) -> None:
        location = self.storage.location
        os.makedirs(location, exist_ok=True)
        if not os.access(location, os.W_OK | os.X_OK):
            raise OSError(f"{location} is not writable")


# --- S3 -------------------------------------------------------------------------------------


def _is_missing(error: Exception) -> bool:
    response: dict[str, Any] = getattr(error, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or code in {"NoSuchKey", "NotFound", "404"}


class _Stream(io.RawIOBase):
    """A streamed object body offering only reading: no ``fileno()``, so no server mistakes
    the HTTP connection underneath for the file."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data: bytes = self._body.read(None if size is None or size < 0 else size)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Store(BlobStore):
    """Blobs as objects in an S3 (or S3-compatible) bucket, through django-storages'
    ``S3Storage`` and boto3's public API."""

    # django-storages' S3Storage: its connection, bucket name and location are public.
    storage: Any
    real_files = False

    def _key(self, key: str) -> str:
        """The object key: the storage's ``location`` prefix, then ``key``."""
        location = str(self.storage.location or "").strip("/")
        return f"{location}/{key}" if location else key

    def _client(self) -> Any:
        return self.storage.connection.meta.client

    def _upload(self, path: str, key: str) -> None:
        # Storage.save hands the file to boto3's upload_fileobj, which switches to a
        # multipart upload for large files, with the storage's object parameters.
        with open(path, "rb") as handle:
            saved = self.storage.save(key, File(handle, name=key))
        if saved != key:
            self.storage.delete(saved)
            raise ImproperlyConfigured(
                "The S3 storage renamed an object on upload: FileFlow needs "
                "file_overwrite=True (fileflow.config sets it)."
            )

    def commit(self, path: str, key: str) -> None:
        self._upload(path, key)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)

    def stage(self, path: str, key: str, *, stored: Callable[[], bool]) -> bool:
        # The upload takes as long as the bytes take to travel: done before the
        # transaction, it keeps the tree lock (and SQLite's write lock) free meanwhile.
        if stored():
            return False
        self._upload(path, key)
        return True

    def put_bytes(self, key: str, data: bytes) -> None:
        saved = self.storage.save(key, ContentFile(data))
        if saved != key:  # a race lost to another writer of the same bytes
            self.storage.delete(saved)

    def open_range(self, key: str, *, first: int = 0, length: int | None = None) -> BinaryIO:
        # A ranged GetObject streamed as the client reads: the first byte goes out at once,
        # and a small range of a big object fetches only that range.
        from botocore.exceptions import ClientError

        if length == 0:
            self.stat(key)  # nothing to read; only whether the object is there
            return cast(BinaryIO, io.BytesIO(b""))
        request: dict[str, Any] = {"Bucket": self.storage.bucket_name, "Key": self._key(key)}
        if first or length is not None:
            last = "" if length is None else str(first + length - 1)
            request["Range"] = f"bytes={first}-{last}"
        try:
            answer = self._client().get_object(**request)
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from None
            raise
        return cast(BinaryIO, _Stream(answer["Body"]))

    def open_seekable(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        # On disk in the upload temp dir, whatever the object's size.
        spool = tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
        try:
            self._client().download_fileobj(
                self.storage.bucket_name,
                self._key(key),
                spool,
                Config=self.storage.transfer_config,
            )
        except ClientError as error:
            spool.close()
            if _is_missing(error):
                raise FileNotFoundError(key) from None
            raise
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        return spool

    def handoff(self, key: str, *, content_type: str, disposition: str | None) -> Handoff | None:
        if not settings.FILEFLOW_S3_PRESIGNED_REDIRECT:
            return None
        # S3 overrides the stored headers with these response-content-* parameters.
        parameters = {"ResponseContentType": content_type}
        if disposition:
            parameters["ResponseContentDisposition"] = disposition
        url = self.storage.url(
            key, parameters=parameters, expire=settings.FILEFLOW_S3_PRESIGNED_SECONDS
        )
        return ExternalRedirect(str(url))

    def check_present(self, keys: Iterable[str]) -> None:
        return None  # a request per key is not cheap: a missing object fails when read

    def stat(self, key: str) -> Stat:
        from botocore.exceptions import ClientError

        try:
            head = self._client().head_object(Bucket=self.storage.bucket_name, Key=self._key(key))
        except ClientError as error:
            if _is_missing(error):
                raise FileNotFoundError(key) from None
            raise
        return Stat(int(head["ContentLength"]), head["LastModified"])

    def delete_unless(self, key: str, *, keep: Callable[[Stat], bool]) -> int | None:
        # No atomic rename on S3: the checks run just before the delete, which leaves a
        # window of one request for an upload storing this key again.
        try:
            found = self.stat(key)
        except FileNotFoundError:
            return None
        if keep(found):
            return None
        self.delete(key)
        return found.size

    def walk(self, top: str) -> Iterator[str]:
        """In key order, one listing request per 1,000 keys."""
        prefix = self._key(top).rstrip("/") + "/"
        location = self._key("")
        pages = self._client().get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=self.storage.bucket_name, Prefix=prefix):
            for entry in page.get("Contents", ()):
                yield str(entry["Key"])[len(location) :]

    def probe(self) -> None:
        # HeadBucket: an error when the endpoint does not answer, the bucket does not exist
        # or our credentials may not use it.
        self._client().head_bucket(Bucket=self.storage.bucket_name)

    # --- multipart uploads over many requests (resumable uploads) ---------------------------
    # Parts other than the last must be at least 5 MiB (S3's rule).

    multipart = True

    def multipart_start(self, key: str) -> str:
        """Begin a multipart upload to ``key``; returns its id."""
        answer = self._client().create_multipart_upload(
            Bucket=self.storage.bucket_name, Key=self._key(key)
        )
        return str(answer["UploadId"])

    def multipart_put(self, key: str, upload_id: str, number: int, data: bytes) -> str:
        """Store part ``number`` (from 1); returns its ETag."""
        answer = self._client().upload_part(
            Bucket=self.storage.bucket_name,
            Key=self._key(key),
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )
        return str(answer["ETag"])

    def multipart_complete(self, key: str, upload_id: str, etags: list[str]) -> None:
        """Join the parts (in order, numbered from 1) into the object at ``key``."""
        self._client().complete_multipart_upload(
            Bucket=self.storage.bucket_name,
            Key=self._key(key),
            UploadId=upload_id,
            MultipartUpload={
                "Parts": [
                    {"PartNumber": number, "ETag": etag}
                    for number, etag in enumerate(etags, start=1)
                ]
            },
        )

    def multipart_abort(self, key: str, upload_id: str) -> None:
        """Drop an unfinished multipart upload and its parts; an unknown one is no error."""
        from botocore.exceptions import ClientError

        try:
            self._client().abort_multipart_upload(
                Bucket=self.storage.bucket_name, Key=self._key(key), UploadId=upload_id
            )
        except ClientError as error:
            code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
            if code != "NoSuchUpload" and not _is_missing(error):
                raise

    def multipart_exists(self, key: str, upload_id: str) -> bool:
        """Whether S3 still knows the multipart upload: ListParts, one part. Only S3's
        NoSuchUpload is a no (completed, aborted, or removed by a lifecycle rule); a refused
        connection, a 5xx or a missing bucket is raised, since it says nothing about it."""
        from botocore.exceptions import ClientError

        try:
            self._client().list_parts(
                Bucket=self.storage.bucket_name, Key=self._key(key), UploadId=upload_id, MaxParts=1
            )
        except ClientError as error:
            code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
            if code == "NoSuchUpload":
                return False
            raise
        return True


# --- the configured store -------------------------------------------------------------------

_current: BlobStore | None = None


def _store_for(storage: Storage) -> BlobStore:
    if isinstance(storage, FileSystemStorage):
        return LocalStore(storage)
    from storages.backends.s3 import S3Storage

    if isinstance(storage, S3Storage):
        return S3Store(storage)
    kind = f"{type(storage).__module__}.{type(storage).__qualname__}"
    raise ImproperlyConfigured(
        f"FileFlow keeps blobs on local disk or in S3; STORAGES['default'] is {kind}."
    )


def blob_store() -> BlobStore:
    """The store for ``STORAGES["default"]``, made again whenever that storage changes
    (Django rebuilds it when the setting changes, e.g. in tests)."""
    global _current
    storage = storages["default"]
    current = _current
    if current is None or current.storage is not storage:
        current = _current = _store_for(storage)
    return current
