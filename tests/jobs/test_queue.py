"""The task queue: what an upload queues (in the upload's own transaction, never breaking the
upload),
bounded retries, re-queueing, maintenance jobs, the admin."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

from files import services, tree
from files.models import Node
from files.tasks import PREPARED_SIZES, announce_stored_content, make_thumbnails
from files.thumbnails import thumbnail_key
from tests.files.conftest import announce_stored, received
from tests.jobs.tasks import fail_always


def png(size: tuple[int, int] = (300, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, format="PNG")
    return out.getvalue()


def thumbnail_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=make_thumbnails.module_path))


@pytest.mark.django_db
def test_an_upload_queues_one_task_and_it_queues_the_thumbnails(alice: Any, alice_api: Any) -> None:
    home = tree.home_of(alice)
    reply = alice_api.post(
        "/api/v1/nodes/upload/",
        {"file": io.BytesIO(png()), "parent": home.pk, "name": "cat.png"},
        format="multipart",
    )
    assert reply.status_code == 201, reply.content
    # The request queues one task, telling the worker what it needs about the file ...
    [announced] = DBTaskResult.objects.all()
    assert announced.task_path == announce_stored_content.module_path
    assert announced.status == TaskResultStatus.READY
    node = reply.json()
    assert announced.args_kwargs["args"] == [
        [
            {
                "node_id": node["id"],
                "blob_id": Node.objects.get(pk=node["id"]).blob_id,
                "name": "cat.png",
                "mime_type": "image/png",
                "size": node["size"],
            }
        ]
    ]
    assert thumbnail_tasks() == []
    # ... and the worker, running it, queues the thumbnails.
    assert announce_stored() == 1
    [queued] = thumbnail_tasks()
    assert queued.status == TaskResultStatus.READY
    assert queued.args_kwargs["args"] == [[node["id"]]]


@pytest.mark.django_db
def test_text_files_queue_no_thumbnails(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.file_upload(
            owner=alice, parent=tree.home_of(alice), name="a.txt", received=received(b"hi")
        )
    assert announce_stored() == 1
    assert thumbnail_tasks() == []


@pytest.mark.django_db
def test_the_task_is_written_in_the_uploads_own_transaction(alice: Any) -> None:
    """It commits with the files or not at all (a crash right after the commit loses no
    task), and the worker cannot see it before the files."""
    with transaction.atomic():
        node = services.file_upload(
            owner=alice, parent=tree.home_of(alice), name="cat.png", received=received(png())
        )
        [queued] = DBTaskResult.objects.all()  # before anything has committed
        assert queued.args_kwargs["args"][0][0]["node_id"] == node.pk


@pytest.mark.django_db
def test_a_rolled_back_upload_queues_nothing(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.file_upload(
            owner=alice, parent=tree.home_of(alice), name="cat.png", received=received(png())
        )
        raise RuntimeError("the request failed after the upload")
    assert not Node.objects.filter(name="cat.png").exists()
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_an_upload_succeeds_when_the_queue_cannot_take_tasks(
    alice: Any, alice_api: Any, settings: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "no.such.Backend"}}
    reply = alice_api.post(
        "/api/v1/nodes/upload/",
        {"file": io.BytesIO(png()), "parent": tree.home_of(alice).pk, "name": "cat.png"},
        format="multipart",
    )
    assert reply.status_code == 201, reply.content
    assert Node.objects.filter(name="cat.png", owner=alice).exists()
    assert DBTaskResult.objects.count() == 0


@pytest.mark.django_db
def test_a_batch_upload_queues_one_task_for_its_pictures(
    alice: Any, alice_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        reply = alice_api.post(
            "/api/v1/nodes/upload-many/",
            {
                "parent": tree.home_of(alice).pk,
                "file": [
                    _named(png(), "a.png"),
                    _named(png((10, 10)), "b.png"),
                    _named(b"text", "c.txt"),
                ],
            },
            format="multipart",
        )
    assert reply.status_code == 201, reply.content
    assert announce_stored() == 1  # one task for the whole batch
    [queued] = thumbnail_tasks()
    ids = {hit["name"]: hit["id"] for hit in reply.json()["results"]}
    assert sorted(queued.args_kwargs["args"][0]) == sorted([ids["a.png"], ids["b.png"]])


def _named(content: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(content)
    handle.name = name
    return handle


# --- with the worker ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_makes_the_thumbnails_the_pages_show(
    alice: Any, run_worker: Callable[[], None]
) -> None:
    node = services.file_upload(
        owner=alice, parent=tree.home_of(alice), name="cat.png", received=received(png())
    )
    sha = node.blob.sha256
    assert not default_storage.exists(thumbnail_key(sha, 64))
    run_worker()
    [done] = thumbnail_tasks()
    assert done.status == TaskResultStatus.SUCCESSFUL, done.traceback
    assert done.return_value == len(PREPARED_SIZES)
    for size in PREPARED_SIZES:
        assert default_storage.exists(thumbnail_key(sha, size))


@pytest.mark.django_db(transaction=True)
def test_a_damaged_picture_gets_no_thumbnail_and_the_task_does_not_fail(
    alice: Any, run_worker: Callable[[], None]
) -> None:
    node = services.file_upload(
        owner=alice,
        parent=tree.home_of(alice),
        name="broken.png",
        received=received(png()[:60]),
    )
    assert node.mime_type == "image/png"
    run_worker()
    [done] = thumbnail_tasks()
    assert done.status == TaskResultStatus.SUCCESSFUL, done.traceback
    assert done.return_value == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_task_is_retried_a_bounded_number_of_times(
    settings: Any, run_worker: Callable[[], None]
) -> None:
    settings.FILEFLOW_TASK_MAX_ATTEMPTS = 3
    result = fail_always.enqueue("disk on fire")
    row = DBTaskResult.objects.get(pk=result.id)
    for attempt in range(1, 4):
        run_worker()
        row.refresh_from_db()
        assert len(row.worker_ids) == attempt
        if attempt < 3:
            # Put back, to run after a pause that grows.
            assert row.status == TaskResultStatus.READY
            assert row.run_after > timezone.now() + timedelta(seconds=5 * attempt)
            DBTaskResult.objects.filter(pk=row.pk).update(run_after=timezone.now())
    assert row.status == TaskResultStatus.FAILED
    assert "disk on fire" in row.traceback
    run_worker()
    row.refresh_from_db()
    assert len(row.worker_ids) == 3  # no fourth try


@pytest.mark.django_db(transaction=True)
def test_requeue_tasks_puts_failures_back(settings: Any, run_worker: Callable[[], None]) -> None:
    settings.FILEFLOW_TASK_MAX_ATTEMPTS = 1
    failed = fail_always.enqueue("once")
    run_worker()
    assert DBTaskResult.objects.get(pk=failed.id).status == TaskResultStatus.FAILED
    out = io.StringIO()
    call_command("requeue_tasks", "--dry-run", stdout=out)
    assert "Would re-queue 1 task. Dry run" in out.getvalue()
    assert DBTaskResult.objects.get(pk=failed.id).status == TaskResultStatus.FAILED
    call_command("requeue_tasks", stdout=out)
    row = DBTaskResult.objects.get(pk=failed.id)
    assert row.status == TaskResultStatus.READY
    assert row.worker_ids == []
    run_worker()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.FAILED
    assert len(row.worker_ids) == 1


@pytest.mark.django_db
def test_requeue_tasks_takes_tasks_left_running_by_a_dead_worker() -> None:
    result = fail_always.enqueue("stuck")
    DBTaskResult.objects.filter(pk=result.id).update(
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - timedelta(hours=2),
        worker_ids=["dead"],
    )
    fresh = fail_always.enqueue("still running")
    DBTaskResult.objects.filter(pk=fresh.id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now(), worker_ids=["alive"]
    )
    call_command("requeue_tasks", "--stuck-minutes", "30", stdout=io.StringIO())
    assert DBTaskResult.objects.get(pk=result.id).status == TaskResultStatus.READY
    assert DBTaskResult.objects.get(pk=fresh.id).status == TaskResultStatus.RUNNING


@pytest.mark.django_db(transaction=True)
def test_maintenance_jobs_are_queued_once_and_run_by_the_worker(
    alice: Any, settings: Any, run_worker: Callable[[], None]
) -> None:
    settings.FILEFLOW_TRASH_DAYS = 30
    old = services.file_upload(
        owner=alice, parent=tree.home_of(alice), name="old.txt", received=received(b"old")
    )
    services.node_trash(node=old)
    Node.objects.filter(pk=old.pk).update(trashed_at=timezone.now() - timedelta(days=31))
    DBTaskResult.objects.all().delete()  # what the upload queued (its text)
    out = io.StringIO()
    call_command("enqueue_maintenance", stdout=out)
    assert out.getvalue().count("Queued") == 3
    out = io.StringIO()
    call_command("enqueue_maintenance", stdout=out)
    assert out.getvalue().count("still waiting or running") == 3
    assert DBTaskResult.objects.count() == 3
    run_worker()
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {
        TaskResultStatus.SUCCESSFUL
    }
    assert not Node.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_enqueue_maintenance_names_an_unknown_job() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no maintenance job 'vacuum'"):
        call_command("enqueue_maintenance", "--only", "vacuum", stdout=io.StringIO())


@pytest.mark.django_db
def test_the_admin_shows_failures_with_their_error_and_requeues_them(
    admin_client: Any,
) -> None:
    result = fail_always.enqueue("x")
    row = DBTaskResult.objects.get(pk=result.id)
    row.claim("worker-1")
    row.set_failed(RuntimeError("the printer is on fire"))
    page = admin_client.get("/admin/django_tasks_database/dbtaskresult/?status__exact=FAILED")
    assert page.status_code == 200
    text = page.content.decode()
    assert "RuntimeError: the printer is on fire" in text
    assert "fail_always" in text
    reply = admin_client.post(
        "/admin/django_tasks_database/dbtaskresult/",
        {"action": "requeue", "_selected_action": [str(row.pk)]},
        follow=True,
    )
    assert "1 task put back in the queue." in reply.content.decode()
    row.refresh_from_db()
    assert row.status == TaskResultStatus.READY


@pytest.mark.django_db
def test_a_failing_listener_does_not_stop_the_others_and_fails_the_task(
    alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.dispatch import receiver

    from files.signals import content_stored

    calls: list[str] = []

    @receiver(content_stored, sender=Node, dispatch_uid="test_broken_listener")
    def broken(sender: Any, **kwargs: Any) -> None:
        calls.append("broken")
        raise RuntimeError("listener on fire")

    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.file_upload(
                owner=alice, parent=tree.home_of(alice), name="cat.png", received=received(png())
            )
        [task] = DBTaskResult.objects.filter(task_path=announce_stored_content.module_path)
        with pytest.raises(RuntimeError, match="listener on fire"):
            announce_stored_content.call(*task.args_kwargs["args"])
    finally:
        content_stored.disconnect(dispatch_uid="test_broken_listener", sender=Node)
    assert calls == ["broken"]
    # The thumbnails were queued all the same; the task's failure makes the worker retry it.
    assert len(thumbnail_tasks()) == 1
