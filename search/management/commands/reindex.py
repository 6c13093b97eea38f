"""``manage.py reindex``: read the text of documents for search inside documents."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from fileflow.text import counted
from files.management import MaintenanceCommand
from search.documents import text_reindex


class Command(MaintenanceCommand):
    help = (
        "Read the text of documents (PDF, text and code, HTML, Word, Excel, PowerPoint, "
        "OpenDocument) whose text search does not have yet: files uploaded before search "
        "read documents, or still waiting for the task worker. Runs here, with a progress "
        "bar; each content is read once, whoever owns it. --again reads every document "
        "again (after changing FILEFLOW_SEARCH_CONFIG)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--user", metavar="NAME", help="Only this user's files.")
        parser.add_argument(
            "--again", action="store_true", help="Read documents already read, too."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count the documents to read; read nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owners = self.owners(options["user"]) if options["user"] else None
        report = text_reindex(
            owners=owners,
            again=options["again"],
            dry_run=options["dry_run"],
            progress=self.progress,
        )
        documents = counted(report.documents, "document", "documents")
        if report.dry_run:
            self.say(f"Would read {documents}. Dry run: nothing was read.")
            return
        self.say(
            f"Read {documents}: {report.indexed} indexed, {report.unreadable} unreadable.",
            self.style.SUCCESS,
        )
