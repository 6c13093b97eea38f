"""``manage.py gc``: delete blobs nothing references, orphan storage objects, stale temp files."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import ngettext

from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand, size


class Command(MaintenanceCommand):
    help = (
        "Garbage-collect file content. Deletes blobs that no file and no kept version refers "
        "to (with their cached thumbnails), storage objects under blobs/, uploads/ and "
        "thumbnails/ that have no blob row (left by uploads that rolled back) and abandoned "
        "upload temp "
        "files in FILE_UPLOAD_TEMP_DIR, each only "
        "when older than the grace period (FILEFLOW_GC_GRACE_HOURS, default 24 h), so an "
        "upload running at the same time never loses its content. Also removes resumable "
        "uploads that expired unfinished (FILEFLOW_UPLOAD_EXPIRY) with their bytes, and first "
        "stores those whose every byte arrived over a minute ago but whose file was never "
        "stored (a server died while storing it), expired or not. Safe to run from cron "
        "while the site is up."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="List what would be deleted and how many bytes that frees; delete nothing.",
        )
        parser.add_argument(
            "--grace-hours",
            type=int,
            metavar="N",
            help="Only touch things older than N hours (at least 1; "
            "default FILEFLOW_GC_GRACE_HOURS).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        hours = options["grace_hours"]
        if hours is None:
            hours = settings.FILEFLOW_GC_GRACE_HOURS
        if hours < 1:
            raise CommandError(
                "--grace-hours must be at least 1: a younger blob may belong to an upload "
                "that is still being stored."
            )
        dry_run = options["dry_run"]
        report = maintenance.blob_gc(
            dry_run=dry_run,
            grace=timedelta(hours=hours),
            progress=self.progress,
            log=self.log(options["verbosity"]),
        )
        verb = "Would remove" if dry_run else "Removed"
        parts = [
            f"{counted(report.blobs, 'blob', 'blobs')} ({size(report.blob_bytes)})",
            f"{counted(report.thumbnails, 'thumbnail', 'thumbnails')} "
            f"({size(report.thumbnail_bytes)})",
            f"{counted(report.orphans, 'orphan object', 'orphan objects')} "
            f"({size(report.orphan_bytes)})",
            f"{counted(report.temp_files, 'temp file', 'temp files')} ({size(report.temp_bytes)})",
            *(
                f"{counted(sweep.count, sweep.label, sweep.plural)} ({size(sweep.bytes)})"
                for sweep in report.swept
            ),
        ]
        summary = (
            f"{verb} {', '.join(parts)}; "
            f"{'would free' if dry_run else 'freed'} {size(report.bytes_freed)}."
        )
        if report.kept:
            summary += " " + ngettext(
                "%(count)d blob was referenced again meanwhile and kept.",
                "%(count)d blobs were referenced again meanwhile and kept.",
                report.kept,
            ) % {"count": report.kept}
        if dry_run:
            summary += " Dry run: nothing was deleted."
        self.say(summary, self.style.SUCCESS)
