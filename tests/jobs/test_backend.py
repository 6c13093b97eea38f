"""jobs.backend: the queue's enqueue writes the row django-tasks-db's own would, in one
INSERT, and the library's worker runs it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db.models.signals import post_save
from django.tasks import TaskResultStatus, task_backends
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django_tasks_db import DatabaseBackend as LibraryBackend
from django_tasks_db.models import DBTaskResult

from jobs.backend import DatabaseBackend
from tests.jobs.tasks import record

pytestmark = pytest.mark.django_db

# What a row says about its task; the id and the time it was queued differ by nature.
COMPARED = [
    field.name
    for field in DBTaskResult._meta.concrete_fields
    if field.name not in {"id", "enqueued_at"}
]


def test_the_configured_backend_is_ours() -> None:
    assert isinstance(task_backends["default"], DatabaseBackend)


@pytest.mark.parametrize("run_after", [None, timedelta(hours=1)])
def test_a_row_is_the_one_the_library_writes(run_after: timedelta | None) -> None:
    task = record.using(
        priority=7,
        run_after=timezone.now() + run_after if run_after else None,
    )
    library = LibraryBackend("default", {"QUEUES": ["default"]})
    theirs = library.enqueue(task, ["/x", 1], {})
    ours = task.enqueue("/x", 1)
    mine, reference = DBTaskResult.objects.get(pk=ours.id), DBTaskResult.objects.get(pk=theirs.id)
    assert [getattr(mine, name) for name in COMPARED] == [
        getattr(reference, name) for name in COMPARED
    ]
    assert mine.enqueued_at >= reference.enqueued_at
    # What enqueue answers is the stored task, as the library would answer it.
    assert ours.status == TaskResultStatus.READY
    assert ours.args == ["/x", 1] and ours.kwargs == {}
    assert ours.task.priority == 7
    assert ours.task.run_after == task.run_after
    fetched = task_backends["default"].get_result(ours.id)
    assert fetched.id == ours.id and fetched.enqueued_at == ours.enqueued_at


def test_enqueue_sends_the_signals_the_library_sends() -> None:
    heard: list[str] = []

    def saved(sender: Any, instance: DBTaskResult, created: bool, **kwargs: Any) -> None:
        heard.append(f"saved {instance.pk} created={created}")

    def enqueued(sender: Any, task_result: Any, **kwargs: Any) -> None:
        heard.append(f"enqueued {task_result.id}")

    post_save.connect(saved, sender=DBTaskResult)
    task_enqueued.connect(enqueued)
    try:
        result = record.enqueue("/x", 2)
    finally:
        post_save.disconnect(saved, sender=DBTaskResult)
        task_enqueued.disconnect(enqueued)
    assert heard == [f"saved {result.id} created=True", f"enqueued {result.id}"]


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_what_it_queued(tmp_path: Path, run_worker: Callable[[], None]) -> None:
    out = tmp_path / "ran"
    result = record.enqueue(str(out), 42)
    run_worker()
    assert out.read_text() == "42\n"
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 42


def test_one_statement_writes_the_row(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        record.enqueue("/x", 3)
