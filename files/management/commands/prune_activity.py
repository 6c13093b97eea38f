"""``manage.py prune_activity``: delete activity entries past the retention period."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Forget old activity: delete the activity log's entries recorded more than "
        "FILEFLOW_ACTIVITY_DAYS days ago (default 365)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--days",
            type=int,
            metavar="N",
            help="Retention in days instead of FILEFLOW_ACTIVITY_DAYS (at least 1).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the entries; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.FILEFLOW_ACTIVITY_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1.")
        report = maintenance.activity_prune(
            older_than=timezone.now() - timedelta(days=days), dry_run=options["dry_run"]
        )
        verb = "Would delete" if report.dry_run else "Deleted"
        entries = counted(report.entries, "activity entry", "activity entries")
        summary = f"{verb} {entries} older than {counted(days, 'day', 'days')}."
        if report.dry_run:
            summary += " Dry run: nothing was deleted."
        self.say(summary, self.style.SUCCESS)
