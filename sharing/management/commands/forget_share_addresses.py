"""``manage.py forget_share_addresses``: erase visitors' addresses past the retention."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from fileflow.text import counted
from sharing import services
from sharing.models import SharingPolicy


class Command(BaseCommand):
    help = (
        "Erase the IP addresses kept in share-link access logs, and on drop-folder uploads "
        "still under way, once they are older than the sharing policy's retention (admin → "
        "Sharing policy, default 7 days). The rest of each log line (time, action, item, "
        "coarse client) stays. Run it daily from cron."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be erased; erase nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = SharingPolicy.current().ip_retention_days
        if options["dry_run"]:
            found = counted(services.addresses_to_forget_count(), "address", "addresses")
            self.stdout.write(
                f"Would erase {found} older than {counted(days, 'day', 'days')}. "
                "Dry run: nothing was erased."
            )
            return
        erased = counted(services.addresses_forget(), "address", "addresses")
        self.stdout.write(f"Erased {erased} older than {counted(days, 'day', 'days')}.")
