"""Trash retention: delete trash entries older than a cut-off."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef, QuerySet, Sum

from accounts.models import User
from files import services, tree
from files.maintenance.common import Log, batched, quiet
from files.models import FileVersion, Node
from files.progress import Progress


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
    log = log or quiet
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
