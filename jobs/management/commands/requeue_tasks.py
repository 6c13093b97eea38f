"""``manage.py requeue_tasks``: put failed (or stuck) background tasks back in the queue."""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fileflow.text import counted
from jobs.services import failed_tasks, stale_running_tasks, tasks_requeue


class Command(BaseCommand):
    help = (
        "Re-queue background tasks that failed after their last try (FILEFLOW_TASK_MAX_ATTEMPTS), "
        "so the worker runs them again with a fresh count of tries. With --stuck-minutes N, "
        "also tasks marked running for more than N minutes (their worker died)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--task",
            metavar="PATH",
            help="Only tasks with this path, e.g. search.tasks.extract_text.",
        )
        parser.add_argument(
            "--stuck-minutes",
            type=int,
            metavar="N",
            help="Also re-queue tasks running for more than N minutes.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be re-queued; change nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        tasks = failed_tasks()
        minutes = options["stuck_minutes"]
        if minutes is not None:
            if minutes < 1:
                raise CommandError("--stuck-minutes must be at least 1.")
            tasks = tasks | stale_running_tasks(older_than=timedelta(minutes=minutes))
        if options["task"]:
            tasks = tasks.filter(task_path=options["task"])
        if options["dry_run"]:
            found = counted(tasks.count(), "task", "tasks")
            self.stdout.write(f"Would re-queue {found}. Dry run: nothing changed.")
            return
        count = tasks_requeue(tasks=tasks)
        self.stdout.write(f"Re-queued {counted(count, 'task', 'tasks')}.")
