"""``manage.py recompute_usage``: prove (or fix) every account's used and reserved bytes."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Recompute each account's storage usage from its files (trash and kept versions "
        "included), and the space its unfinished resumable uploads reserve, and correct the "
        "stored figures where they differ. With --check, only "
        "report differences and exit with status 1 if there are any."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--user", metavar="NAME", help="Only this user.")
        parser.add_argument(
            "--check",
            action="store_true",
            help="Change nothing; exit with status 1 when a stored figure is wrong.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        check = options["check"]
        report = maintenance.usage_audit(
            fix=not check,
            owners=self.owners(options["user"]),
            progress=self.progress,
            log=self.log(options["verbosity"]),
        )
        wrong = len(report.mismatches)
        accounts = counted(report.owners, "account", "accounts")
        if not wrong:
            self.say(f"Usage is correct for {accounts}.", self.style.SUCCESS)
        elif check:
            raise CommandError(
                f"Usage is wrong for {wrong} of {accounts}; "
                "run `manage.py recompute_usage` to fix it."
            )
        else:
            self.say(f"Fixed usage of {wrong} of {accounts}.", self.style.WARNING)
