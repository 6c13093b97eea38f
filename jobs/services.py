"""The task queue's rules that django-tasks-db leaves to us: bounded retries and re-queueing.

django-tasks-db runs each task once: a task that raises stays FAILED. Here a failed task
is made READY again, after a pause that doubles each time, until it has been tried
``FILEFLOW_TASK_MAX_ATTEMPTS`` times; operators can re-queue what is still failed (or a
task left RUNNING by a worker that died) with ``manage.py requeue_tasks``. How often a task
was tried is the number of workers that claimed it (``worker_ids``: each claim appends its
worker's id), so no extra bookkeeping is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult


class UnknownJob(ValueError):
    """A maintenance job name that is not one."""


# The first retry waits this long; each further one twice as long as the one before.
RETRY_BASE_DELAY = timedelta(seconds=10)


def retry_delay(attempts: int) -> timedelta:
    return RETRY_BASE_DELAY * 2 ** max(attempts - 1, 0)


def task_retry_if_allowed(*, result_id: str, now: datetime | None = None) -> bool:
    """Make a failed task READY again if it may be tried once more; True if it was."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            DBTaskResult.objects.select_for_update()
            .filter(pk=result_id, status=TaskResultStatus.FAILED)
            .first()
        )
        if row is None:
            return False
        attempts = len(row.worker_ids)
        if attempts >= settings.FILEFLOW_TASK_MAX_ATTEMPTS:
            return False
        row.status = TaskResultStatus.READY
        row.run_after = now + retry_delay(attempts)
        row.finished_at = None
        row.save(update_fields=["status", "run_after", "finished_at"])
    return True


def failed_tasks() -> QuerySet[DBTaskResult]:
    return DBTaskResult.objects.failed()


def stale_running_tasks(*, older_than: timedelta) -> QuerySet[DBTaskResult]:
    """Tasks marked RUNNING for longer than ``older_than``: their worker most likely died."""
    return DBTaskResult.objects.running().filter(started_at__lt=timezone.now() - older_than)


def tasks_requeue(*, tasks: QuerySet[DBTaskResult]) -> int:
    """Put ``tasks`` back in the queue to run now, with a fresh count of tries.

    The error of the last try stays visible until the task runs again."""
    with transaction.atomic():
        ids = list(
            tasks.select_for_update()
            .filter(status__in=[TaskResultStatus.FAILED, TaskResultStatus.RUNNING])
            .values_list("pk", flat=True)
        )
        return DBTaskResult.objects.filter(pk__in=ids).update(
            status=TaskResultStatus.READY,
            run_after=timezone.now(),
            started_at=None,
            finished_at=None,
            worker_ids=[],
        )


def _maintenance_jobs() -> dict[str, Any]:
    from files.tasks import collect_garbage, purge_trash
    from sharing.tasks import forget_share_addresses

    # In the order a nightly run should do them: a purged trash frees blobs for gc.
    return {
        "forget_share_addresses": forget_share_addresses,
        "purge_trash": purge_trash,
        "gc": collect_garbage,
    }


def maintenance_enqueue(*, only: Sequence[str] | None = None) -> tuple[list[str], list[str]]:
    """Queue the scheduled jobs (all, or ``only`` these); (queued, skipped as still pending).

    Raises :class:`UnknownJob` for a name that is not a job."""
    jobs = _maintenance_jobs()
    for name in only or ():
        if name not in jobs:
            raise UnknownJob(
                f"There is no maintenance job {name!r}; choose from {', '.join(jobs)}."
            )
    queued: list[str] = []
    skipped: list[str] = []
    for name, job in jobs.items():
        if only and name not in only:
            continue
        pending = DBTaskResult.objects.filter(
            task_path=job.module_path,
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
        )
        if pending.exists():
            skipped.append(name)
            continue
        job.enqueue()
        queued.append(name)
    return queued, skipped
