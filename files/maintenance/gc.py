"""Garbage collection: unreferenced blobs and their thumbnails, orphan storage objects and
thumbnails, abandoned upload temp files."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, ProtectedError, QuerySet
from django.utils import timezone

from fileflow.text import counted
from files.blobs import CONTENT_FOLDERS, keys_in_use
from files.maintenance.common import BATCH_SIZE, Log, batched, quiet
from files.models import Blob, FileVersion, Node
from files.progress import Progress
from files.store import BlobStore, Stat, blob_store


@dataclass
class Sweep:
    """What a registered sweep removed (or would remove): how many things, how many bytes."""

    label: str  # what one of them is called ("expired upload")
    plural: str  # and more than one ("expired uploads")
    count: int = 0
    bytes: int = 0


# Apps that keep leftovers of their own (resumable uploads) register a sweep here from their
# AppConfig.ready(); files never imports them. Called as sweep(dry_run=..., log=...).
SweepFunction = Callable[..., Sweep]
_sweeps: list[SweepFunction] = []


def register_sweep(sweep: SweepFunction) -> None:
    """Have ``gc`` run ``sweep`` after its own work (once, however often registered)."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)


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
    # What the registered sweeps removed.
    swept: list[Sweep] = field(default_factory=list)

    @property
    def bytes_freed(self) -> int:
        return (
            self.blob_bytes
            + self.thumbnail_bytes
            + self.orphan_bytes
            + self.temp_bytes
            + sum(sweep.bytes for sweep in self.swept)
        )


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


def _thumbnails(
    store: BlobStore, sha256: str, *, older_than: datetime | None = None
) -> list[tuple[str, int]]:
    """Cached thumbnails of a content (``thumbnails/<sha256>/...``) with their sizes."""
    found = []
    for name in store.walk(f"thumbnails/{sha256}"):
        try:
            stat = store.stat(name)
        except FileNotFoundError:
            continue
        if older_than is not None and stat.modified >= older_than:
            continue
        found.append((name, stat.size))
    return found


def _remove_thumbnails(store: BlobStore, sha256: str, names: list[str]) -> None:
    for name in names:
        store.delete(name)
    store.prune(f"thumbnails/{sha256}")


def _collect_blob(blob_id: int, *, cutoff: datetime, store: BlobStore, report: GcReport) -> str:
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
    store: BlobStore,
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


def _remove_orphan(store: BlobStore, name: str, *, cutoff: datetime) -> int | None:
    """Delete a storage object with no Blob row if it is still old and still unowned;
    returns its size, or None when it was kept (see :meth:`BlobStore.delete_unless` for
    how close to the deletion each store decides)."""

    def keep(stat: Stat) -> bool:
        return stat.modified >= cutoff or bool(keys_in_use([name]))

    return store.delete_unless(name, keep=keep)


def _gc_orphans(
    *,
    cutoff: datetime,
    dry_run: bool,
    store: BlobStore,
    report: GcReport,
    progress: Progress,
    log: Log,
) -> None:
    """Objects under ``blobs/`` (and ``uploads/``, see :data:`files.blobs.CONTENT_FOLDERS`)
    that hold no Blob's content: left by uploads that rolled back (also resumable ones,
    assembled under ``blobs/uploads/``)."""
    progress.start("Storage objects")

    def sweep(names: list[str]) -> None:
        known = keys_in_use(names)
        for name in names:
            progress.advance()
            if name in known:
                continue
            if dry_run:
                try:
                    stat = store.stat(name)
                except FileNotFoundError:
                    continue
                if stat.modified >= cutoff:
                    continue
                size = stat.size
                log(f"Would remove orphan object {name} ({size} bytes)")
            else:
                removed = _remove_orphan(store, name, cutoff=cutoff)
                if removed is None:
                    continue
                size = removed
                log(f"Removed orphan object {name} ({size} bytes)")
            report.orphans += 1
            report.orphan_bytes += size

    for folder in CONTENT_FOLDERS:
        names: list[str] = []
        for name in store.walk(folder):
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
    store: BlobStore,
    report: GcReport,
    progress: Progress,
    log: Log,
) -> None:
    """Thumbnails of content that has no Blob row (made while gc removed the blob).
    They are derived data: removing one only means it is drawn again when asked for."""
    shas = store.folders("thumbnails")
    if not shas:
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
            found = counted(len(thumbnails), "orphan thumbnail", "orphan thumbnails")
            log(f"{verb} {found} of {sha} ({freed} bytes)")
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
    row, abandoned upload temp files; before them the registered sweeps (expired resumable
    uploads, whose own expiry decides, not ``grace``)."""
    progress = progress or Progress.off()
    log = log or quiet
    cutoff = timezone.now() - grace
    store = blob_store()
    report = GcReport(dry_run=dry_run, cutoff=cutoff)
    # First: a sweep may store content that is waiting in the store (a resumable upload
    # whose every byte arrived), which must not be taken for an orphan below.
    for sweep in _sweeps:
        report.swept.append(sweep(dry_run=dry_run, log=log))
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
