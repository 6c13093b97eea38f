"""django-tasks-db's backend, with an ``enqueue`` that writes the task's row in one plain
INSERT.

Every upload queues one task in its own transaction (``files.signals.announce_content``),
so on SQLite the write lock, and on PostgreSQL the owner's tree lock, is held while the row
is written. The library's ``enqueue`` writes it through ``QuerySet.create()``: ~0.35 ms of
Python for one row, 12% of a small ``PUT``'s CPU (py-spy, bench/transfer.py's request).
This one writes the same row (the model's own defaults, its ``pre_save`` receivers, such as
the library's ``run_after`` for "as soon as possible", and its ``post_save`` ones) through
:func:`fileflow.rows.insert_rows`, and answers like the library's: the same task result,
the same ``task_enqueued`` signal. The worker, the admin and pruning are the library's own.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.tasks import Task
from django.tasks.signals import task_enqueued
from django.utils.json import normalize_json
from django_tasks_db import DatabaseBackend as LibraryBackend
from django_tasks_db.backend import TaskResult
from django_tasks_db.models import DBTaskResult

from fileflow.rows import insert_rows


class DatabaseBackend(LibraryBackend):
    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        self.validate_task(task)
        row: DBTaskResult[Any, Any] = DBTaskResult(
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,  # type: ignore[misc]  # None: the pre_save receiver's
            backend_name=self.alias,
        )
        using = connection.alias
        pre_save.send(DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
        insert_rows([row])
        post_save.send(
            DBTaskResult, instance=row, created=True, raw=False, using=using, update_fields=None
        )
        result: TaskResult = row.task_result
        task_enqueued.send(type(self), task_result=result)
        return result
