"""Garbage collection: unreferenced blobs and their thumbnails, orphan storage objects and
thumbnails, abandoned upload temp files."""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, ProtectedError, QuerySet
from django.utils import timezone

from files.blobs import storage
from files.maintenance.common import BATCH_SIZE, Log, batched, quiet
from files.models import Blob, FileVersion, Node
from files.progress import Progress


@dataclass
class GcReport:
    dry_run: bool
    cutoff: datetime
    blobs: int = 0
    blob_bytes: int = 0
    # Cached thumbnails, of collected blobs and of content that no longer exists.
    thumbnails: int = 0
    thumbnail_bytes: int = 0
    orphans: int = 0
    orphan_bytes: int = 0
    temp_files: int = 0
    temp_bytes: int = 0
    # Candidates that turned out to be referenced (or locked by an upload) at the last moment.
    kept: int = 0

    @property
    def bytes_freed(self) -> int:
        return self.blob_bytes + self.thumbnail_bytes + self.orphan_bytes + self.temp_bytes


def unreferenced_blobs() -> QuerySet[Blob]:
    """Blobs no file and no kept version points at."""
    return Blob.objects.filter(
        ~Exists(Node.objects.filter(blob=OuterRef("pk"))),
        ~Exists(FileVersion.objects.filter(blob=OuterRef("pk"))),
    )


def _is_referenced(blob_id: int) -> bool:
    return (
        Node.objects.filter(blob_id=blob_id).exists()
        or FileVersion.objects.filter(blob_id=blob_id).exists()
    )


def walk_storage(store: Storage, top: str) -> Iterator[str]:
    """Every object name under ``top`` (depth first, sorted), via ``listdir``."""
    try:
        directories, files = store.listdir(top)
    except FileNotFoundError:
        return
    for name in sorted(files):
        yield posixpath.join(top, name)
    for directory in sorted(directories):
        yield from walk_storage(store, posixpath.join(top, directory))


def _thumbnails(
    store: Storage, sha256: str, *, older_than: datetime | None = None
) -> list[tuple[str, int]]:
    """Cached thumbnails of a content (``thumbnails/<sha256>/...``) with their sizes."""
    found = []
    for name in walk_storage(store, f"thumbnails/{sha256}"):
        try:
            if older_than is not None and store.get_modified_time(name) >= older_than:
                continue
            found.append((name, store.size(name)))
        except FileNotFoundError:
            continue
    return found


def _remove_thumbnails(store: Storage, sha256: str, names: list[str]) -> None:
    for name in names:
        store.delete(name)
    if isinstance(store, FileSystemStorage):
        # Local disk keeps emptied folders; remove them, deepest first (not if refilled).
        for root, _dirs, _files in os.walk(store.path(f"thumbnails/{sha256}"), topdown=False):
            with contextlib.suppress(OSError):
                os.rmdir(root)


def _collect_blob(blob_id: int, *, cutoff: datetime, store: Storage, report: GcReport) -> str:
    """Delete one unreferenced blob if it still is one; returns what happened.

    The row is locked first. An upload that reuses this content locks the same row
    (:func:`files.blobs.blob_for`): on PostgreSQL we skip a row an upload holds (it is about
    to be referenced); an upload arriving after us waits, finds no row and stores the
    content again. On SQLite the IMMEDIATE transaction already excludes every other writer.
    The row goes first (in a savepoint, so a late reference only skips it), then the bytes,
    all before commit: a failure at any step leaves the row and its content together.
    """
    with transaction.atomic():
        rows = Blob.objects.filter(pk=blob_id, created_at__lt=cutoff)
        blob = rows.select_for_update(skip_locked=connection.vendor == "postgresql").first()
        if blob is None:
            return "gone"
        if _is_referenced(blob.pk):
            return "referenced"
        try:
            with transaction.atomic():
                blob.delete()
        except (ProtectedError, IntegrityError):
            return "referenced"
        store.delete(blob.storage_key)
        thumbnails = _thumbnails(store, blob.sha256)
        _remove_thumbnails(store, blob.sha256, [name for name, _size in thumbnails])
        report.blobs += 1
        report.blob_bytes += blob.size
        report.thumbnails += len(thumbnails)
        report.thumbnail_bytes += sum(size for _name, size in thumbnails)
        return "deleted"


def _gc_blobs(
    *,
    cutoff: datetime,
    dry_run: bool,
    store: Storage,
    report: GcReport,
    progress: Progress,
    log: Log,
) -> None:
    candidates = unreferenced_blobs().filter(created_at__lt=cutoff)
    progress.start("Unreferenced blobs", candidates.count())
    for blob in batched(candidates.only("pk", "sha256", "size")):
        progress.advance()
        if dry_run:
            if not _is_referenced(blob.pk):
                thumbnails = _thumbnails(store, blob.sha256)
                report.blobs += 1
                report.blob_bytes += blob.size
                report.thumbnails += len(thumbnails)
                report.thumbnail_bytes += sum(size for _name, size in thumbnails)
                log(f"Would remove blob {blob.sha256} ({blob.size} bytes)")
            continue
        outcome = _collect_blob(blob.pk, cutoff=cutoff, store=store, report=report)
        if outcome == "deleted":
            log(f"Removed blob {blob.sha256} ({blob.size} bytes)")
        elif outcome == "referenced":
            report.kept += 1
    progress.finish()


def _known_keys(names: list[str]) -> set[str]:
    """Which of these storage names are the key of an existing Blob row."""
    shas = {posixpath.basename(name) for name in names}
    found = Blob.objects.filter(sha256__in=shas).values_list("sha256", flat=True)
    return {Blob.key_for(sha) for sha in found}


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


def _remove_orphan(store: Storage, name: str, *, cutoff: datetime) -> int | None:
    """Delete a storage object with no Blob row if it is still old and still unowned;
    returns its size, or None when it was kept.

    On local disk the object is first renamed aside, atomically, then its age and the
    database are checked again: an upload that stored this content in the meantime either
    renamed a fresh file over it before us (the moved file is young: put back) or after us
    (its file is a new one we do not touch). Elsewhere (S3, no atomic rename) the same
    checks run just before the delete, which leaves a window of one request.
    """
    sha = posixpath.basename(name)
    if isinstance(store, FileSystemStorage):
        path = store.path(name)
        aside = f"{path}.gc-{secrets.token_hex(4)}"
        try:
            os.rename(path, aside)
        except FileNotFoundError:
            return None
        stat = os.stat(aside)
        modified = datetime.fromtimestamp(stat.st_mtime, tz=UTC)
        if modified >= cutoff or (
            Blob.key_for(sha) == name and Blob.objects.filter(sha256=sha).exists()
        ):
            _put_back(aside, path)
            return None
        os.unlink(aside)
        return stat.st_size
    try:
        size = store.size(name)
        if store.get_modified_time(name) >= cutoff:
            return None
    except FileNotFoundError:
        return None
    if Blob.objects.filter(sha256=sha).exists() and Blob.key_for(sha) == name:
        return None
    store.delete(name)
    return size


def _gc_orphans(
    *,
    cutoff: datetime,
    dry_run: bool,
    store: Storage,
    report: GcReport,
    progress: Progress,
    log: Log,
) -> None:
    """Objects under ``blobs/`` with no Blob row: left by uploads that rolled back."""
    progress.start("Storage objects")

    def sweep(names: list[str]) -> None:
        known = _known_keys(names)
        for name in names:
            progress.advance()
            if name in known:
                continue
            if dry_run:
                try:
                    if store.get_modified_time(name) >= cutoff:
                        continue
                    size = store.size(name)
                except FileNotFoundError:
                    continue
                log(f"Would remove orphan object {name} ({size} bytes)")
            else:
                removed = _remove_orphan(store, name, cutoff=cutoff)
                if removed is None:
                    continue
                size = removed
                log(f"Removed orphan object {name} ({size} bytes)")
            report.orphans += 1
            report.orphan_bytes += size

    names: list[str] = []
    for name in walk_storage(store, "blobs"):
        names.append(name)
        if len(names) >= BATCH_SIZE:
            sweep(names)
            names = []
    sweep(names)
    progress.finish()


def _gc_orphan_thumbnails(
    *,
    cutoff: datetime,
    dry_run: bool,
    store: Storage,
    report: GcReport,
    progress: Progress,
    log: Log,
) -> None:
    """Thumbnails of content that has no Blob row (made while gc removed the blob).
    They are derived data: removing one only means it is drawn again when asked for."""
    try:
        shas = sorted(store.listdir("thumbnails")[0])
    except FileNotFoundError:
        return
    progress.start("Thumbnails", len(shas))
    for start in range(0, len(shas), BATCH_SIZE):
        chunk = shas[start : start + BATCH_SIZE]
        known = set(Blob.objects.filter(sha256__in=chunk).values_list("sha256", flat=True))
        for sha in chunk:
            progress.advance()
            if sha in known:
                continue
            thumbnails = _thumbnails(store, sha, older_than=cutoff)
            if not thumbnails:
                continue
            if not dry_run:
                _remove_thumbnails(store, sha, [name for name, _size in thumbnails])
            freed = sum(size for _name, size in thumbnails)
            report.thumbnails += len(thumbnails)
            report.thumbnail_bytes += freed
            verb = "Would remove" if dry_run else "Removed"
            log(f"{verb} {len(thumbnails)} orphan thumbnail(s) of {sha} ({freed} bytes)")
    progress.finish()


def _gc_temp_files(
    *, cutoff: datetime, dry_run: bool, report: GcReport, progress: Progress, log: Log
) -> None:
    """Files in ``FILE_UPLOAD_TEMP_DIR`` nobody wrote to within the grace period: uploads
    that died without cleaning up (a killed worker, a crash)."""
    directory = settings.FILE_UPLOAD_TEMP_DIR
    if not directory or not os.path.isdir(directory):
        return
    limit = cutoff.timestamp()
    with os.scandir(directory) as scan:
        entries = [entry for entry in scan if entry.is_file(follow_symlinks=False)]
    progress.start("Temp files", len(entries))
    for entry in entries:
        progress.advance()
        try:
            stat = entry.stat(follow_symlinks=False)
            if stat.st_mtime >= limit:
                continue
            if not dry_run:
                os.unlink(entry.path)
        except FileNotFoundError:
            continue
        report.temp_files += 1
        report.temp_bytes += stat.st_size
        verb = "Would remove" if dry_run else "Removed"
        log(f"{verb} temp file {entry.path} ({stat.st_size} bytes)")
    progress.finish()


def blob_gc(
    *,
    dry_run: bool,
    grace: timedelta,
    progress: Progress | None = None,
    log: Log | None = None,
) -> GcReport:
    """Delete what nothing references any more and is older than ``grace``: Blob rows and
    their content with their cached thumbnails, storage objects and thumbnails without a
    row, abandoned upload temp files."""
    progress = progress or Progress.off()
    log = log or quiet
    cutoff = timezone.now() - grace
    store = storage()
    report = GcReport(dry_run=dry_run, cutoff=cutoff)
    _gc_blobs(
        cutoff=cutoff, dry_run=dry_run, store=store, report=report, progress=progress, log=log
    )
    _gc_orphans(
        cutoff=cutoff, dry_run=dry_run, store=store, report=report, progress=progress, log=log
    )
    _gc_orphan_thumbnails(
        cutoff=cutoff, dry_run=dry_run, store=store, report=report, progress=progress, log=log
    )
    _gc_temp_files(cutoff=cutoff, dry_run=dry_run, report=report, progress=progress, log=log)
    return report
