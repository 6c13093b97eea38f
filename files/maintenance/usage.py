"""Usage audit: compare each account's ``used_bytes`` with what its files add up to."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from files import services, tree
from files.maintenance.common import Log, batched, quiet
from files.progress import Progress


@dataclass(frozen=True)
class UsageMismatch:
    username: str
    recorded: int
    actual: int


@dataclass
class UsageReport:
    fixed: bool
    owners: int = 0
    mismatches: list[UsageMismatch] = field(default_factory=list)


def _usage_read(owner: User) -> tuple[int, int]:
    """(recorded, actual) read under the owner's tree lock, so an upload committing
    between the two reads is never mistaken for drift."""
    with transaction.atomic():
        tree.lock(owner.pk)
        recorded = User.objects.values_list("used_bytes", flat=True).get(pk=owner.pk)
        return recorded, services.usage_of(owner)


def usage_audit(
    *,
    fix: bool,
    owners: QuerySet[User] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> UsageReport:
    """Compare each owner's ``used_bytes`` with what their files add up to; with ``fix``,
    correct it (:func:`files.services.usage_recompute`)."""
    progress = progress or Progress.off()
    log = log or quiet
    selected = User.objects.all() if owners is None else owners
    report = UsageReport(fixed=fix)
    progress.start("Accounts", selected.count())
    for owner in batched(selected):
        progress.advance()
        if fix:
            recorded, actual = services.usage_recompute(owner=owner)
        else:
            recorded, actual = _usage_read(owner)
        report.owners += 1
        if recorded != actual:
            report.mismatches.append(UsageMismatch(owner.username, recorded, actual))
            verb = "fixed" if fix else "recorded"
            log(f"{owner.username}: {verb} {recorded} bytes, files add up to {actual} bytes")
    progress.finish()
    return report
