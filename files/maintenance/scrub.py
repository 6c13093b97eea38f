"""Scrub: re-hash every blob from storage and report missing objects and damage."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Literal

from django.db.models import QuerySet, Sum

from files.ingest import CHUNK_SIZE
from files.maintenance.common import Log, batched, quiet
from files.models import Blob
from files.progress import Progress
from files.store import BlobStore, blob_store

SHA256_PREFIX = re.compile(r"[0-9a-f]{1,64}")


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


def _scrub_one(store: BlobStore, blob: Blob, progress: Progress) -> tuple[ScrubProblem | None, int]:
    digest = hashlib.sha256()
    read = 0
    try:
        handle = store.open_range(blob.storage_key)
    except FileNotFoundError:
        progress.advance(blob.size)
        return ScrubProblem(blob.sha256, "missing", f"{blob.storage_key} is missing"), 0
    with handle:
        while chunk := handle.read(CHUNK_SIZE):
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
    log = log or quiet
    if sha_prefix and not SHA256_PREFIX.fullmatch(sha_prefix):
        raise ValueError("A SHA-256 prefix is 1 to 64 lowercase hexadecimal characters.")
    selected = Blob.objects.all() if blobs is None else blobs
    if sha_prefix:
        selected = selected.filter(sha256__startswith=sha_prefix)
    store = blob_store()
    report = ScrubReport()
    total = selected.aggregate(total=Sum("size"))["total"] or 0
    progress.start("Scrubbing", total, unit="bytes")
    for blob in batched(selected.only("pk", "sha256", "size", "key")):
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
