"""Activity retention: delete log entries older than a cut-off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from files.models import Activity


@dataclass
class ActivityPruneReport:
    dry_run: bool
    older_than: datetime
    entries: int = 0


def activity_prune(*, older_than: datetime, dry_run: bool) -> ActivityPruneReport:
    """Delete (or, with ``dry_run``, count) the entries recorded before ``older_than``."""
    old = Activity.objects.filter(created_at__lt=older_than)
    report = ActivityPruneReport(dry_run=dry_run, older_than=older_than)
    if dry_run:
        report.entries = old.count()
    else:
        report.entries, _ = old.delete()
    return report
