"""What the files app's maintenance commands share: ``--no-progress``, a progress bar on
stderr that steps aside for printed lines, user selection, sizes for people."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat

from accounts.models import User
from files.progress import Progress


def size(value: int) -> str:
    """``1536`` -> ``1.5 KB (1536 bytes)``: readable, and exact for scripts and tickets."""
    if value < 1024:
        return f"{value} bytes"
    return f"{filesizeformat(value)} ({value} bytes)".replace("\xa0", " ")


class MaintenanceCommand(BaseCommand):
    progress: Progress

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help="Do not draw the progress bar (it is only drawn when stderr is a terminal).",
        )

    def execute(self, *args: Any, **options: Any) -> str | None:
        self.progress = Progress.to(
            options.get("stderr") or sys.stderr,
            enabled=not options.get("no_progress") and options.get("verbosity", 1) > 0,
        )
        try:
            return super().execute(*args, **options)
        finally:
            self.progress.finish()

    def say(self, line: str, style: Callable[[str], str] | None = None) -> None:
        """Print a line on stdout, moving the progress bar out of its way."""
        self.progress.clear()
        self.stdout.write(style(line) if style else line)

    def log(self, verbosity: int) -> Callable[[str], None]:
        """The ``log`` to hand to :mod:`files.maintenance`: item lines unless ``-v 0``."""
        if verbosity < 1:
            return lambda line: None
        return self.say

    def owners(self, username: str | None) -> QuerySet[User]:
        users = User.objects.all()
        if username is None:
            return users
        users = users.filter(username=username)
        if not users.exists():
            raise CommandError(f"There is no user called {username!r}.")
        return users
