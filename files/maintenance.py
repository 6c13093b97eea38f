"""Operator maintenance: blob garbage collection, scrubbing, trash retention, usage and
tree audits, importing a local directory.

The management commands and the admin call these functions; they only parse arguments
and print. Every function is keyword-only, reports through a returned dataclass, narrates
through an optional ``log`` callable (one line per thing done) and draws an optional
:class:`~files.progress.Progress`. Writes to the tree go through :mod:`files.services`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import posixpath
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Exists, OuterRef, ProtectedError, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from fileflow.errors import DomainError
from files import services, tree
from files.blobs import storage
from files.errors import QuotaExceeded
from files.ingest import CHUNK_SIZE, Received, Receiver
from files.models import Blob, FileVersion, Node
from files.progress import Progress
from files.services import OnConflict

Log = Callable[[str], None]

BATCH_SIZE = 500
SHA256_PREFIX = re.compile(r"[0-9a-f]{1,64}")


def _quiet(line: str) -> None:
    return None


def batched[M: models.Model](queryset: QuerySet[M], *, size: int = BATCH_SIZE) -> Iterator[M]:
    """Rows in primary-key order, fetched ``size`` at a time by keyset (no OFFSET, no
    long-lived server-side cursor), so a run over millions of rows stays flat."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:size])
        if not rows:
            return
        yield from rows
        last = rows[-1].pk


# --- garbage collection --------------------------------------------------------------


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
    log = log or _quiet
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


# --- scrub ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScrubProblem:
    sha256: str
    kind: Literal["missing", "size", "hash"]
    detail: str


@dataclass
class ScrubReport:
    blobs: int = 0
    bytes: int = 0
    problems: list[ScrubProblem] = field(default_factory=list)

    @property
    def damaged(self) -> bool:
        return bool(self.problems)


def _scrub_one(store: Storage, blob: Blob, progress: Progress) -> tuple[ScrubProblem | None, int]:
    digest = hashlib.sha256()
    read = 0
    try:
        handle = store.open(blob.storage_key, "rb")
    except FileNotFoundError:
        progress.advance(blob.size)
        return ScrubProblem(blob.sha256, "missing", f"{blob.storage_key} is missing"), 0
    with handle:
        for chunk in handle.chunks(CHUNK_SIZE):
            digest.update(chunk)
            read += len(chunk)
            progress.advance(len(chunk))
    if read < blob.size:
        progress.advance(blob.size - read)
    if read != blob.size:
        detail = f"expected {blob.size} bytes, found {read}"
        return ScrubProblem(blob.sha256, "size", detail), read
    if digest.hexdigest() != blob.sha256:
        detail = f"content hashes to {digest.hexdigest()}"
        return ScrubProblem(blob.sha256, "hash", detail), read
    return None, read


def blob_scrub(
    *,
    sha_prefix: str = "",
    blobs: QuerySet[Blob] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> ScrubReport:
    """Re-read every blob (or those whose hash starts with ``sha_prefix``) from storage in
    1 MiB chunks and compare its size and SHA-256 with the row."""
    progress = progress or Progress.off()
    log = log or _quiet
    if sha_prefix and not SHA256_PREFIX.fullmatch(sha_prefix):
        raise ValueError("A SHA-256 prefix is 1 to 64 lowercase hexadecimal characters.")
    selected = Blob.objects.all() if blobs is None else blobs
    if sha_prefix:
        selected = selected.filter(sha256__startswith=sha_prefix)
    store = storage()
    report = ScrubReport()
    total = selected.aggregate(total=Sum("size"))["total"] or 0
    progress.start("Scrubbing", total, unit="bytes")
    for blob in batched(selected.only("pk", "sha256", "size")):
        problem, read = _scrub_one(store, blob, progress)
        missing = problem is not None and problem.kind == "missing"
        if missing and not Blob.objects.filter(pk=blob.pk).exists():
            continue  # collected by gc while we ran: not damage
        report.blobs += 1
        report.bytes += read
        if problem is not None:
            report.problems.append(problem)
            log(f"{problem.kind.upper():8} {problem.sha256}: {problem.detail}")
    progress.finish()
    return report


# --- trash retention -----------------------------------------------------------------


@dataclass
class PurgeReport:
    dry_run: bool
    older_than: datetime
    owners: int = 0
    entries: int = 0
    bytes: int = 0


def trash_entry_bytes(entry: Node) -> int:
    """What deleting this trash entry for good frees: the files trashed with it and their
    versions (items trashed on their own earlier are separate entries and not counted)."""
    batch = tree.descendants(entry, include_self=True).filter(
        trashed_at=entry.trashed_at, is_folder=False
    )
    files = batch.aggregate(total=Sum("size"))["total"] or 0
    versions = FileVersion.objects.filter(node__in=batch.values("pk")).aggregate(total=Sum("size"))[
        "total"
    ]
    return files + (versions or 0)


def trash_entry_label(entry: Node) -> str:
    """``/Documents/report.pdf``: where the entry was when it was trashed."""
    return posixpath.join(entry.trashed_from or "/", entry.name)


def trash_purge(
    *,
    older_than: datetime,
    dry_run: bool,
    owners: QuerySet[User] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> PurgeReport:
    """Delete, for every owner, the trash entries trashed before ``older_than``."""
    progress = progress or Progress.off()
    log = log or _quiet
    expired = Node.objects.filter(is_trash_root=True, trashed_at__lt=older_than)
    selected = (User.objects.all() if owners is None else owners).filter(
        Exists(expired.filter(owner=OuterRef("pk")))
    )
    report = PurgeReport(dry_run=dry_run, older_than=older_than)
    progress.start("Accounts", selected.count())
    for owner in batched(selected):
        progress.advance()
        report.owners += 1
        if dry_run:
            for entry in expired.filter(owner=owner).order_by("trashed_at", "pk"):
                size = trash_entry_bytes(entry)
                report.entries += 1
                report.bytes += size
                log(
                    f"Would delete {owner.username}: {trash_entry_label(entry)} "
                    f"(trashed {entry.trashed_at:%Y-%m-%d %H:%M}, {size} bytes)"
                )
            continue
        count, freed = services.trash_empty(owner=owner, older_than=older_than)
        report.entries += count
        report.bytes += freed
        if count:
            log(f"{owner.username}: deleted {count} trash entries, {freed} bytes freed")
    progress.finish()
    return report


# --- usage ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageMismatch:
    username: str
    recorded: int
    actual: int


@dataclass
class UsageReport:
    fixed: bool
    owners: int = 0
    mismatches: list[UsageMismatch] = field(default_factory=list)


def _usage_read(owner: User) -> tuple[int, int]:
    """(recorded, actual) read under the owner's tree lock, so an upload committing
    between the two reads is never mistaken for drift."""
    with transaction.atomic():
        tree.lock(owner.pk)
        recorded = User.objects.values_list("used_bytes", flat=True).get(pk=owner.pk)
        return recorded, services.usage_of(owner)


def usage_audit(
    *,
    fix: bool,
    owners: QuerySet[User] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> UsageReport:
    """Compare each owner's ``used_bytes`` with what their files add up to; with ``fix``,
    correct it (:func:`files.services.usage_recompute`)."""
    progress = progress or Progress.off()
    log = log or _quiet
    selected = User.objects.all() if owners is None else owners
    report = UsageReport(fixed=fix)
    progress.start("Accounts", selected.count())
    for owner in batched(selected):
        progress.advance()
        if fix:
            recorded, actual = services.usage_recompute(owner=owner)
        else:
            recorded, actual = _usage_read(owner)
        report.owners += 1
        if recorded != actual:
            report.mismatches.append(UsageMismatch(owner.username, recorded, actual))
            verb = "fixed" if fix else "recorded"
            log(f"{owner.username}: {verb} {recorded} bytes, files add up to {actual} bytes")
    progress.finish()
    return report


# --- tree consistency ----------------------------------------------------------------


@dataclass
class TreeReport:
    repair: bool
    owners: int = 0
    problems: dict[str, list[str]] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)
    # Problems still there after a repair (or that a rebuild cannot fix, e.g. two homes).
    unrepaired: dict[str, list[str]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not (self.unrepaired if self.repair else self.problems)


def tree_audit(
    *,
    repair: bool,
    owners: QuerySet[User] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> TreeReport:
    """Check each owner's paths against the parent links (:func:`files.tree.check`); with
    ``repair``, recompute a damaged tree's paths from its parent links
    (:func:`files.tree.rebuild`)."""
    progress = progress or Progress.off()
    log = log or _quiet
    selected = User.objects.all() if owners is None else owners
    report = TreeReport(repair=repair)
    progress.start("Trees", selected.count())
    for owner in batched(selected):
        progress.advance()
        report.owners += 1
        with transaction.atomic():
            # Under the owner's tree lock no write commits halfway through the check, so live
            # sites get no false alarm.
            tree.lock(owner.pk)
            problems = tree.check(owner)
        if not problems:
            continue
        report.problems[owner.username] = problems
        for problem in problems:
            log(f"{owner.username}: {problem}")
        if not repair:
            continue
        try:
            tree.rebuild(owner)
        except (Node.DoesNotExist, Node.MultipleObjectsReturned):
            remaining = problems
        else:
            remaining = tree.check(owner)
        if remaining:
            report.unrepaired[owner.username] = remaining
            log(f"{owner.username}: could not be repaired by a rebuild")
        else:
            report.repaired.append(owner.username)
            log(f"{owner.username}: repaired (rebuilt from parent links)")
    progress.finish()
    return report


# --- import a local directory --------------------------------------------------------


@dataclass
class ImportReport:
    source: str
    into: str
    folders: int = 0
    files: int = 0
    bytes: int = 0
    skipped: list[str] = field(default_factory=list)  # symlinks, special files
    failed: list[str] = field(default_factory=list)  # "path: reason"
    # Set when the import stopped early (the account's quota is full): where and why.
    stopped: str | None = None


@dataclass(frozen=True)
class _Entry:
    kind: Literal["dir", "file", "skip"]
    path: str
    parts: tuple[str, ...]
    size: int = 0
    reason: str = ""


def _entries(directory: str, parts: tuple[str, ...] = ()) -> Iterator[_Entry]:
    """What is in ``directory``, depth first and sorted, without following symlinks."""
    with os.scandir(directory) as scan:
        found = sorted(scan, key=lambda entry: entry.name)
    for entry in found:
        rel = (*parts, entry.name)
        if entry.is_symlink():
            yield _Entry("skip", entry.path, rel, reason="symbolic link, not followed")
        elif entry.is_dir(follow_symlinks=False):
            yield _Entry("dir", entry.path, rel)
        elif entry.is_file(follow_symlinks=False):
            size = entry.stat(follow_symlinks=False).st_size
            yield _Entry("file", entry.path, rel, size=size)
        else:
            yield _Entry("skip", entry.path, rel, reason="not a regular file")


def _walk(directory: str, parts: tuple[str, ...] = ()) -> Iterator[_Entry]:
    for entry in _entries(directory, parts):
        yield entry
        if entry.kind == "dir":
            yield from _walk(entry.path, entry.parts)


def _receive_file(path: str, progress: Progress) -> Received:
    """Stream a local file into the ingest path, 1 MiB at a time."""
    receiver = Receiver()
    try:
        # O_NOFOLLOW: a file swapped for a symlink after the scan is refused, not followed.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with open(fd, "rb") as handle:
            while chunk := handle.read(CHUNK_SIZE):
                receiver.write(chunk)
                progress.advance(len(chunk))
    except BaseException:
        receiver.abort()
        raise
    return receiver.finish()


class _Importer:
    def __init__(
        self,
        *,
        owner: User,
        on_conflict: OnConflict,
        report: ImportReport,
        progress: Progress,
        log: Log,
    ) -> None:
        self.owner = owner
        self.on_conflict = on_conflict
        self.report = report
        self.progress = progress
        self.log = log

    def fail(self, parts: tuple[str, ...], reason: str) -> None:
        line = f"{'/'.join(parts)}: {reason}"
        self.report.failed.append(line)
        self.log(f"Failed  {line}")

    def folder(self, directory: str, parts: tuple[str, ...], folder: Node) -> None:
        for entry in _entries(directory, parts):
            if self.report.stopped is not None:
                return
            name = entry.parts[-1]
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                self.fail(entry.parts, "the name is not valid UTF-8; rename it and import again")
                continue
            if entry.kind == "skip":
                line = f"{'/'.join(entry.parts)}: {entry.reason}"
                self.report.skipped.append(line)
                self.log(f"Skipped {line}")
            elif entry.kind == "dir":
                try:
                    child = services.folder_ensure_path(owner=self.owner, path=[name], base=folder)
                except DomainError as error:
                    self.fail(entry.parts, f"{error} (nothing inside it was imported)")
                    continue
                self.report.folders += 1
                self.folder(entry.path, entry.parts, child)
            else:
                self.file(entry, folder)

    def file(self, entry: _Entry, folder: Node) -> None:
        try:
            received = _receive_file(entry.path, self.progress)
        except OSError as error:
            self.fail(entry.parts, f"cannot be read ({error.strerror or error})")
            return
        try:
            services.file_upload(
                owner=self.owner,
                parent=folder,
                name=entry.parts[-1],
                received=received,
                on_conflict=self.on_conflict,
            )
        except QuotaExceeded as error:
            self.report.stopped = f"{'/'.join(entry.parts)}: {error}"
            return
        except DomainError as error:
            self.fail(entry.parts, str(error))
            return
        self.report.files += 1
        self.report.bytes += received.size
        self.log(f"Stored  {'/'.join(entry.parts)} ({received.size} bytes)")


def directory_import(
    *,
    owner: User,
    source: Path,
    into: str = "/Imported",
    on_conflict: OnConflict = "fail",
    progress: Progress | None = None,
    log: Log | None = None,
) -> ImportReport:
    """Copy what is inside the local directory ``source`` into the owner's folder ``into``
    (made as needed), folders included, through the same ingest path as uploads.

    Symbolic links and special files are skipped with a note; a file that cannot be
    stored (bad name, a conflict under ``fail``, unreadable) is reported and the rest go
    on. A full quota stops the import; the report says where.
    """
    progress = progress or Progress.off()
    log = log or _quiet
    root = os.fspath(source)
    if not os.path.isdir(root):
        raise NotADirectoryError(f"{root} is not a directory.")
    report = ImportReport(source=root, into=into)
    target = services.folder_ensure_path(owner=owner, path=into)
    total = sum(entry.size for entry in _walk(root) if entry.kind == "file")
    importer = _Importer(
        owner=owner, on_conflict=on_conflict, report=report, progress=progress, log=log
    )
    progress.start("Importing", total, unit="bytes")
    importer.folder(root, (), target)
    progress.finish()
    return report
