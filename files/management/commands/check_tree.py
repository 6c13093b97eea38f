"""``manage.py check_tree``: verify (and optionally rebuild) every user's folder tree."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import ngettext

from fileflow.text import counted
from files import maintenance
from files.management import MaintenanceCommand


class Command(MaintenanceCommand):
    help = (
        "Verify each user's folder tree: one home folder, and every node's path (its "
        "ancestors' ids) in agreement with the parent links; names the nodes that disagree. "
        "Exits with status 1 when a tree is damaged. --repair recomputes the paths of damaged "
        "trees from the parent links (no file or folder is lost; a repair takes that user's "
        "tree lock while it runs)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--user", metavar="NAME", help="Only this user's tree.")
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Rebuild damaged trees; exit with status 1 only if one stays damaged.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = maintenance.tree_audit(
            repair=options["repair"],
            owners=self.owners(options["user"]),
            progress=self.progress,
            log=self.log(options["verbosity"]),
        )
        damaged = len(report.problems)
        if not damaged:
            consistent = ngettext(
                "%(count)d tree is consistent.",
                "All %(count)d trees are consistent.",
                report.owners,
            ) % {"count": report.owners}
            self.say(consistent, self.style.SUCCESS)
            return
        if report.repair and report.healthy:
            self.say(
                f"Repaired {counted(len(report.repaired), 'damaged tree', 'damaged trees')} of "
                f"{report.owners}: {', '.join(report.repaired)}.",
                self.style.WARNING,
            )
            return
        broken = report.unrepaired if report.repair else report.problems
        hint = "" if report.repair else " Run with --repair to rebuild them."
        raise CommandError(
            f"{len(broken)} of {counted(report.owners, 'tree', 'trees')} damaged: "
            f"{', '.join(broken)}.{hint}"
        )
