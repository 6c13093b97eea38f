"""``manage.py import_dir``: copy a local directory into a user's files."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError

from fileflow.errors import DomainError
from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand, size
from files.services import ON_CONFLICT_CHOICES


class Command(MaintenanceCommand):
    help = (
        "Import what is inside a local directory into a user's files, folders included, "
        "through the same path as uploads (content is hashed and stored once; the user's "
        "quota applies and a full quota stops the import). Symbolic links and special files "
        "are skipped with a note. Example: "
        "manage.py import_dir /srv/old-share --user alice --into /Imported/share"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("path", metavar="PATH", help="The local directory to import.")
        parser.add_argument(
            "--user", metavar="NAME", required=True, help="The account that gets the files."
        )
        parser.add_argument(
            "--into",
            metavar="FOLDER",
            default="/Imported",
            help="Folder in the account to import into, made if missing (default /Imported; "
            "/ is the home folder).",
        )
        parser.add_argument(
            "--on-conflict",
            choices=ON_CONFLICT_CHOICES,
            default="fail",
            help="When a file of that name exists: fail (report it, keep the existing one; "
            "the default), rename (store as “name (1).ext”) or replace (the existing file "
            "gets the new content as a new version).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = self.owners(options["user"]).get()
        source = Path(options["path"])
        if not source.is_dir():
            raise CommandError(f"{source} is not a directory.")
        try:
            report = maintenance.directory_import(
                owner=owner,
                source=source,
                into=options["into"],
                on_conflict=options["on_conflict"],
                progress=self.progress,
                log=self.log(options["verbosity"]),
            )
        except DomainError as error:
            raise CommandError(f"Cannot import into {options['into']}: {error}") from error
        done = (
            f"Imported {counted(report.files, 'file', 'files')} ({size(report.bytes)}) in "
            f"{counted(report.folders, 'folder', 'folders')} from {report.source} into "
            f"{owner.username}:{report.into}"
        )
        notes = []
        if report.skipped:
            notes.append(f"{len(report.skipped)} skipped (links or special files)")
        if report.failed:
            notes.append(f"{len(report.failed)} failed")
        if notes:
            done += f"; {', '.join(notes)}"
        if report.stopped is not None:
            raise CommandError(
                f"{done}. Stopped at {report.stopped} Nothing after that point was imported. "
                "Make room (or raise the quota), then run the same command again with "
                "--on-conflict replace: files already imported with the same content are "
                "left as they are."
            )
        if report.failed:
            shown = "\n  ".join(report.failed[:5])
            more = f"\n  … and {len(report.failed) - 5} more" if len(report.failed) > 5 else ""
            raise CommandError(f"{done}. Not imported:\n  {shown}{more}")
        self.say(f"{done}.", self.style.SUCCESS)
