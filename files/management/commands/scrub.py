"""``manage.py scrub``: re-hash every blob from storage and report damage."""

from __future__ import annotations

from argparse import ArgumentParser
from collections import Counter
from typing import Any

from django.core.management.base import CommandError

from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand, size


class Command(MaintenanceCommand):
    help = (
        "Verify stored content: read every blob back from storage (streamed, 1 MiB at a "
        "time), recompute its SHA-256 and compare size and hash with the database. Reports "
        "missing objects, size mismatches and hash mismatches, and exits with status 1 when "
        "it finds any. Reads only; it never changes or deletes anything."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--sha",
            metavar="PREFIX",
            default="",
            help="Only blobs whose SHA-256 starts with PREFIX (lowercase hex), "
            "e.g. --sha 3fa9 or a full hash.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        prefix = options["sha"].strip().lower()
        if prefix and not maintenance.SHA256_PREFIX.fullmatch(prefix):
            raise CommandError("--sha takes 1 to 64 hexadecimal characters (0-9, a-f).")
        report = maintenance.blob_scrub(
            sha_prefix=prefix, progress=self.progress, log=self.log(options["verbosity"])
        )
        checked = f"Checked {counted(report.blobs, 'blob', 'blobs')}, {size(report.bytes)} read."
        if not report.damaged:
            self.say(f"{checked} No damage found.", self.style.SUCCESS)
            return
        kinds = Counter(problem.kind for problem in report.problems)
        names = {"missing": "missing", "size": "size mismatch", "hash": "hash mismatch"}
        found = ", ".join(f"{count} {names[kind]}" for kind, count in sorted(kinds.items()))
        self.say(checked)
        raise CommandError(
            f"Damage found in {counted(len(report.problems), 'blob', 'blobs')}: {found}. "
            "Restore those objects "
            "from a backup (the expected SHA-256 is the object's name)."
        )
