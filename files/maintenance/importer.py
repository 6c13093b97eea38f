"""Import a local directory into an account through the upload path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from accounts.models import User
from fileflow.errors import DomainError
from files import services
from files.errors import QuotaExceeded
from files.ingest import Received, receive_stream
from files.maintenance.common import Log, quiet
from files.models import Node
from files.progress import Progress
from files.services import OnConflict


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


def _receive_file(path: str, name: str, progress: Progress) -> Received:
    """Stream a local file through the receiving adapter, like any upload: hashed as it
    is read, the per-file size limit applied."""
    # O_NOFOLLOW: a file swapped for a symlink after the scan is refused, not followed.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with open(fd, "rb") as handle:

        def read(size: int) -> bytes:
            chunk = handle.read(size)
            progress.advance(len(chunk))
            return chunk

        # Read to the end: the file may have changed size since the scan.
        return receive_stream(read, length=None, name=name)


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
            received = _receive_file(entry.path, entry.parts[-1], self.progress)
        except OSError as error:
            self.fail(entry.parts, f"cannot be read ({error.strerror or error})")
            return
        except DomainError as error:  # over the per-file size limit
            self.fail(entry.parts, str(error))
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
    log = log or quiet
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
