"""``manage.py enqueue_maintenance``: queue the scheduled maintenance jobs for the worker."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from jobs.services import UnknownJob, maintenance_enqueue


class Command(BaseCommand):
    help = (
        "Queue the maintenance jobs for the task worker: forget old share-link visitor "
        "addresses, purge old trash, collect unreferenced content. A job still waiting or "
        "running from an earlier call is not queued twice. Run it from cron (e.g. nightly)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            metavar="JOB",
            help="Only this job (repeatable): forget_share_addresses, purge_trash, gc.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            queued, skipped = maintenance_enqueue(only=options["only"])
        except UnknownJob as exc:
            raise CommandError(str(exc)) from None
        for name in queued:
            self.stdout.write(f"Queued {name}.")
        for name in skipped:
            self.stdout.write(f"Not queued {name}: it is still waiting or running.")
