"""A failed task is tried again (bounded): see :mod:`jobs.services`."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver
from django.tasks import TaskResultStatus
from django.tasks.signals import task_finished

from jobs.services import task_retry_if_allowed

logger = logging.getLogger("fileflow.jobs")


@receiver(task_finished, dispatch_uid="jobs_retry_failed")
def retry_failed(sender: Any, task_result: Any, **kwargs: Any) -> None:
    # Only tasks of the database backend have a row to put back (others are not found).
    if task_result.status != TaskResultStatus.FAILED:
        return
    if task_retry_if_allowed(result_id=task_result.id):
        logger.warning("Task %s failed; it will be tried again.", task_result.id)
