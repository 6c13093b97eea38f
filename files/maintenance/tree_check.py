"""Tree audit: check each account's tree, repair it from the parent links."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from files import tree
from files.maintenance.common import Log, batched, quiet
from files.models import Node
from files.progress import Progress


@dataclass
class TreeReport:
    repair: bool
    owners: int = 0
    problems: dict[str, list[str]] = field(default_factory=dict)
    repaired: list[str] = field(default_factory=list)
    # Problems still there after a repair (or that a rebuild cannot fix, e.g. two homes).
    unrepaired: dict[str, list[str]] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not (self.unrepaired if self.repair else self.problems)


def tree_audit(
    *,
    repair: bool,
    owners: QuerySet[User] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> TreeReport:
    """Check each owner's paths against the parent links (:func:`files.tree.check`); with
    ``repair``, recompute a damaged tree's paths from its parent links
    (:func:`files.tree.rebuild`)."""
    progress = progress or Progress.off()
    log = log or quiet
    selected = User.objects.all() if owners is None else owners
    report = TreeReport(repair=repair)
    progress.start("Trees", selected.count())
    for owner in batched(selected):
        progress.advance()
        report.owners += 1
        with transaction.atomic():
            # Under the owner's tree lock no write commits halfway through the check, so live
            # sites get no false alarm.
            tree.lock(owner.pk)
            problems = tree.check(owner)
        if not problems:
            continue
        report.problems[owner.username] = problems
        for problem in problems:
            log(f"{owner.username}: {problem}")
        if not repair:
            continue
        try:
            tree.rebuild(owner)
        except (Node.DoesNotExist, Node.MultipleObjectsReturned):
            remaining = problems
        else:
            remaining = tree.check(owner)
        if remaining:
            report.unrepaired[owner.username] = remaining
            log(f"{owner.username}: could not be repaired by a rebuild")
        else:
            report.repaired.append(owner.username)
            log(f"{owner.username}: repaired (rebuilt from parent links)")
    progress.finish()
    return report
