"""``manage.py purge_trash``: delete trash entries past the retention period."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils import timezone

from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand, size


class Command(MaintenanceCommand):
    help = (
        "Empty old trash: for every user, delete for good the trash entries trashed more "
        "than FILEFLOW_TRASH_DAYS days ago (default 30), with everything inside them, and "
        "give their space back. The content itself is removed later by `gc`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--days",
            type=int,
            metavar="N",
            help="Retention in days instead of FILEFLOW_TRASH_DAYS (at least 1).",
        )
        parser.add_argument("--user", metavar="NAME", help="Only this user's trash.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List the entries that would be deleted and their sizes; delete nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = settings.FILEFLOW_TRASH_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1; use the trash page to empty it now.")
        dry_run = options["dry_run"]
        report = maintenance.trash_purge(
            older_than=timezone.now() - timedelta(days=days),
            dry_run=dry_run,
            owners=self.owners(options["user"]),
            progress=self.progress,
            log=self.log(options["verbosity"]),
        )
        verb = "Would delete" if dry_run else "Deleted"
        summary = (
            f"{verb} {counted(report.entries, 'trash entry', 'trash entries')} "
            f"older than {counted(days, 'day', 'days')} from "
            f"{counted(report.owners, 'account', 'accounts')}, "
            f"{'freeing' if not dry_run else 'which would free'} {size(report.bytes)}."
        )
        if dry_run:
            summary += " Dry run: nothing was deleted."
        self.say(summary, self.style.SUCCESS)
