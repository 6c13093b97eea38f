"""Folders leave as ZIP archives streamed while they are built.

:class:`zipfile.ZipFile` writes into a sink that cannot seek, so it puts each entry's CRC
and sizes in a data descriptor after the entry's bytes instead of going back to patch the
header; every byte written is handed to the client at once. Memory stays flat whatever the
size: one read chunk of content, plus the archive's directory (one small record per entry,
which the ZIP format needs at the end anyway). There is no size cap: a large entry gets
ZIP64 fields, and zipfile switches the end of the archive to ZIP64 when offsets or the
entry count need it (checked once by hand with a 4.3 GiB entry followed by another, read
back by zipfile and ``unzip -t``).

Entries are stored, not compressed: most large files (photos, video, archives) are
compressed already, and storing keeps the CPU out of the way of the network.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from files import tree
from files.blobs import read_stored
from files.delivery import missing_blob, secure_user_content
from files.models import Blob, Node
from files.store import blob_store

CHUNK_SIZE = 1024 * 1024
# Entries from this size on are written with ZIP64 fields. zipfile's limit (2 GiB - 1) is
# on the safe side of the format's 4 GiB; it also applies it by itself from the declared size.
ZIP64_FROM = zipfile.ZIP64_LIMIT

# Characters that let a name climb out of, or below, the folder it is extracted into on
# some system: "\\" is a separator on Windows, NUL and controls end or garble names, a
# leading "X:" names a Windows drive.
_UNSAFE_CHARS = re.compile(r"[\\/\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^([A-Za-z]):")


@dataclass(frozen=True)
class ZipEntry:
    """One member of the archive: a folder (``blob`` is None) or a file."""

    name: str
    is_folder: bool
    size: int
    updated_at: datetime
    blob: Blob | None = None


def safe_part(name: str) -> str:
    """One path component that stays one component wherever the archive is extracted."""
    part = _DRIVE.sub(r"\1_", _UNSAFE_CHARS.sub("_", name))
    if part in ("", ".", ".."):
        # Only reachable for names older than the current rules; keep them visible.
        part = part.replace(".", "_") or "_"
    return part


def _unique(path: str, taken: set[str], *, is_folder: bool) -> str:
    """``path`` or ``path (n)`` — never a name already in the archive, ignoring case:
    ``Inbox`` and ``inbox`` would overwrite each other when unpacked on Windows or macOS,
    so the second becomes ``inbox (1)``. ``taken`` holds case-folded paths."""
    if path.casefold() not in taken:
        taken.add(path.casefold())
        return path
    head, _, last = path.rpartition("/")
    stem, dot, ext = last.rpartition(".")
    if is_folder or not dot or not stem:
        stem, dot, ext = last, "", ""
    n = 1
    while True:
        candidate = f"{stem} ({n}){dot}{ext}"
        candidate = f"{head}/{candidate}" if head else candidate
        if candidate.casefold() not in taken:
            taken.add(candidate.casefold())
            return candidate
        n += 1


def zip_entries(nodes: Iterable[Node]) -> list[ZipEntry]:
    """The archive's members for a selection: each selected node at the top, folders with
    everything live below them, parents before their children.

    Names are relative to the selection and made of :func:`safe_part` components, so none
    can escape the folder the archive is extracted into. The caller passes the nodes the
    user may download; below a live folder only live nodes count, below a trashed one
    (its owner's download from the trash) only what was trashed with it.
    """
    entries: list[ZipEntry] = []
    taken: set[str] = set()
    for node in nodes:
        top = _unique(safe_part(node.name or "Home"), taken, is_folder=node.is_folder)
        if not node.is_folder:
            entries.append(
                ZipEntry(
                    name=top,
                    is_folder=False,
                    size=node.size,
                    updated_at=node.updated_at,
                    blob=node.blob,
                )
            )
            continue
        entries.append(ZipEntry(name=top, is_folder=True, size=0, updated_at=node.updated_at))
        folders = {node.pk: top}
        # Below a live folder, what is alive; below a trashed one (its owner may download
        # it), what was trashed with it — not what had been trashed on its own before.
        below = (
            tree.descendants(node)
            .filter(trashed_at=node.trashed_at)
            .select_related("blob")
            .only("id", "parent_id", "name", "is_folder", "size", "updated_at", "blob")
        )
        for child in below:  # tree order: a folder comes before what it holds
            parent = folders.get(child.parent_id) if child.parent_id else None
            if parent is None:
                continue
            path = _unique(f"{parent}/{safe_part(child.name)}", taken, is_folder=child.is_folder)
            if child.is_folder:
                folders[child.pk] = path
            entries.append(
                ZipEntry(
                    name=path,
                    is_folder=child.is_folder,
                    size=child.size,
                    updated_at=child.updated_at,
                    blob=child.blob,
                )
            )
    return entries


class _Sink:
    """Where zipfile writes: collects bytes until the generator hands them on."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        parts, self.parts = self.parts, []
        if len(parts) > 1:
            yield b"".join(parts)  # headers and descriptors: a few small writes
        elif parts:
            yield parts[0]


def _zip_info(entry: ZipEntry) -> zipfile.ZipInfo:
    local = timezone.localtime(entry.updated_at)
    # DOS timestamps cover 1980–2107 in local time, two-second steps.
    year = min(max(local.year, 1980), 2107)
    date_time = (year, local.month, local.day, local.hour, local.minute, local.second)
    name = entry.name + "/" if entry.is_folder else entry.name
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.compress_type = zipfile.ZIP_STORED
    info.CRC = info.compress_size = 0  # a folder's final values; a file's are set as written
    info.external_attr = ((0o40755 << 16) | 0x10) if entry.is_folder else (0o100644 << 16)
    # The "UT" extra field gives unzip, 7-Zip and macOS the exact UTC time, whatever the
    # time zone the archive was made in (the DOS time above is local and ambiguous).
    stamp = int(entry.updated_at.timestamp())
    if -(2**31) <= stamp < 2**31:
        info.extra = struct.pack("<HHBl", 0x5455, 5, 1, stamp)
    return info


def zip_stream(entries: list[ZipEntry], *, zip64_from: int = ZIP64_FROM) -> Iterator[bytes]:
    """The bytes of a ZIP of ``entries``, produced as they are written.

    An entry of ``zip64_from`` bytes or more is written with ZIP64 fields (sizes known
    from the Node, so its header is right before the first byte of content).
    """
    sink = _Sink()
    archive = zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True)
    for entry in entries:
        info = _zip_info(entry)
        if entry.is_folder:
            archive.mkdir(info)
            yield from sink.drain()
            continue
        assert entry.blob is not None
        # Declared before the header is written: zipfile decides on ZIP64 from it too.
        info.file_size = entry.size
        try:
            source = read_stored(entry.blob.storage_key)
        except FileNotFoundError:
            # Headers are sent already: all that is left is to cut the archive off.
            raise missing_blob(entry.blob.storage_key) from None
        with source, archive.open(info, mode="w", force_zip64=entry.size >= zip64_from) as target:
            yield from sink.drain()
            while chunk := source.read(CHUNK_SIZE):
                target.write(chunk)
                del chunk  # the sink holds it until sent; do not keep two chunks alive
                yield from sink.drain()
        yield from sink.drain()
    archive.close()
    yield from sink.drain()


def _check_present(entries: list[ZipEntry]) -> None:
    """Where the store can tell cheaply (a stat on local disk), a missing blob fails the
    download before it starts, with a clear 404, rather than cutting the archive off
    half-way."""
    try:
        blob_store().check_present(
            entry.blob.storage_key for entry in entries if entry.blob is not None
        )
    except FileNotFoundError as missing:
        raise missing_blob(str(missing)) from None


def zip_response(
    request: HttpRequest, *, nodes: list[Node], filename: str
) -> StreamingHttpResponse:
    """A download of ``nodes`` as one ZIP named ``filename``, always an attachment.

    The listing is read now (one query per selected folder), so errors surface as a proper
    response; content is read while the client downloads.
    """
    entries = zip_entries(nodes)
    _check_present(entries)
    body: Iterable[bytes] = [] if request.method == "HEAD" else zip_stream(entries)
    response = StreamingHttpResponse(body, content_type="application/zip")
    response.headers["Content-Disposition"] = content_disposition_header(True, filename) or ""
    # The archive is made afresh each time, so there is no validator to revalidate with.
    response.headers["Cache-Control"] = "private, no-store"
    # Reverse proxies must pass bytes on as they come rather than buffer the archive.
    response.headers["X-Accel-Buffering"] = "no"
    secure_user_content(response, inline=False)
    return response
