"""Usage audit: compare each account's ``used_bytes`` with what its files add up to, and
its ``reserved_bytes`` with what its unfinished uploads hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from accounts.models import User
from files import selectors, services, tree
from files.maintenance.common import Log, batched, quiet
from files.progress import Progress


@dataclass(frozen=True)
class UsageMismatch:
    username: str
    recorded: int
    actual: int
    # "used" (files and versions) or "reserved" (unfinished resumable uploads).
    kind: str = "used"


@dataclass
class UsageReport:
    fixed: bool
    owners: int = 0
    mismatches: list[UsageMismatch] = field(default_factory=list)


def _usage_read(owner: User) -> tuple[tuple[int, int], tuple[int, int]]:
    """(recorded, actual) of used and of reserved bytes, read under the owner's tree lock,
    so an upload committing between the reads is never mistaken for drift."""
    with transaction.atomic():
        tree.lock(owner.pk)
        used, reserved = User.objects.values_list("used_bytes", "reserved_bytes").get(pk=owner.pk)
        actual_used = selectors.user_usage_bytes(owner=owner)
        actual_reserved = selectors.user_reserved_bytes(owner=owner)
        return (used, actual_used), (reserved, actual_reserved)


def usage_audit(
    *,
    fix: bool,
    owners: QuerySet[User] | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> UsageReport:
    """Compare each owner's ``used_bytes`` with what their files add up to, and
    ``reserved_bytes`` with what their unfinished uploads hold; with ``fix``, correct them
    (:func:`files.services.usage_recompute`, :func:`files.services.reserved_recompute`)."""
    progress = progress or Progress.off()
    log = log or quiet
    selected = User.objects.all() if owners is None else owners
    report = UsageReport(fixed=fix)
    progress.start("Accounts", selected.count())
    for owner in batched(selected):
        progress.advance()
        if fix:
            used = services.usage_recompute(owner=owner)
            reserved = services.reserved_recompute(owner=owner)
        else:
            used, reserved = _usage_read(owner)
        report.owners += 1
        verb = "fixed" if fix else "recorded"
        recorded, actual = used
        if recorded != actual:
            report.mismatches.append(UsageMismatch(owner.username, recorded, actual))
            log(f"{owner.username}: {verb} {recorded} bytes, files add up to {actual} bytes")
        recorded, actual = reserved
        if recorded != actual:
            report.mismatches.append(UsageMismatch(owner.username, recorded, actual, "reserved"))
            log(
                f"{owner.username}: {verb} {recorded} bytes reserved, unfinished uploads hold "
                f"{actual} bytes"
            )
    progress.finish()
    return report
