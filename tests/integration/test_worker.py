"""The task worker as operators run it: ``scripts/run.sh`` (what ``serve.sh`` ends in)
starts gunicorn and a real ``manage.py db_worker`` on the test database; an upload through
the API is followed, within a bounded wait, by the work the worker does for it. Several
workers on one queue run each task exactly once."""

from __future__ import annotations

import io
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from PIL import Image

from files import tree
from files.thumbnails import thumbnail_key
from tests.integration.helpers import (
    BIN,
    HOST,
    SECRET_KEY,
    LiveServer,
    children_of,
    database_url_for_tests,
    free_port,
    http_get_status,
    spawn,
    stop,
    tail,
    wait_for,
)
from tests.jobs.tasks import record
from tests.search import documents
from tests.utils import fresh_env

pytestmark = pytest.mark.django_db(transaction=True)

# Bounded waits: the worker polls every second.
WAIT = 60


def _start_run_sh(data_dir: Path) -> LiveServer:
    (data_dir / "blobs").mkdir(parents=True, exist_ok=True)
    (data_dir / "tmp").mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = fresh_env(
        data_dir,
        DATABASE_URL=database_url_for_tests(),
        DJANGO_SECRET_KEY=SECRET_KEY,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        FILEFLOW_HOST=HOST,
        PORT=str(port),
        WEB_CONCURRENCY="1",
        FILEFLOW_TASK_WORKERS="1",
        FILEFLOW_RUN_PYTHON=str(BIN / "python"),
        FILEFLOW_RUN_GUNICORN=str(BIN / "gunicorn"),
    )
    log_path = data_dir / "run.log"
    process = spawn(["scripts/run.sh"], env=env, log_path=log_path)
    server = LiveServer(process, port, data_dir, log_path, env)
    wait_for(
        lambda: process.poll() is not None or http_get_status(HOST, port, "/healthz") == 200,
        timeout=30,
        what="gunicorn to answer",
    )
    assert process.poll() is None, tail(log_path)
    return server


@pytest.fixture
def running(tmp_path: Path, settings: Any) -> Iterator[LiveServer]:
    server = _start_run_sh(tmp_path / "data")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(server.blobs_dir), "base_url": None},
        },
    }
    try:
        yield server
    finally:
        stop(server.process)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), "orange").save(out, format="PNG")
    return out.getvalue()


def _multipart(fields: dict[str, str], name: str, content: bytes) -> tuple[bytes, str]:
    boundary = "fileflowtestboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_an_upload_gets_its_thumbnails_from_the_worker_and_ctrl_c_stops_everything(
    running: LiveServer, alice: Any, bearer: Any
) -> None:
    processes = children_of(running.process.pid)
    commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes]
    assert any(b"db_worker" in command for command in commands), commands
    assert any(b"gunicorn" in command for command in commands), commands

    body, content_type = _multipart({"parent": str(tree.home_of(alice).pk)}, "cat.png", _png())
    reply = running.request(
        "POST",
        "/api/v1/nodes/upload/",
        headers={**bearer(alice), "Content-Type": content_type},
        body=body,
    )
    assert reply.status == 201, reply.body
    sha = reply.json()["sha256"]
    wait_for(
        lambda: default_storage.exists(thumbnail_key(sha, 256)),
        timeout=WAIT,
        interval=0.2,
        what=f"the worker to make the thumbnail\n{tail(running.log_path)}",
    )
    [task] = DBTaskResult.objects.filter(task_path="files.tasks.make_thumbnails")
    assert task.status == TaskResultStatus.SUCCESSFUL

    # A document's words are found once the worker has read it.
    reply = running.request(
        "PUT",
        "/api/v1/files/content/?path=/Notes/birds.docx",
        headers=bearer(alice),
        body=documents.docx("The quetzal migration starts in spring"),
    )
    assert reply.status == 201, reply.body
    document_id = reply.json()["id"]

    headers = bearer(alice)

    def found() -> bool:
        answer = running.request("GET", "/api/v1/search/?q=quetzal", headers=headers)
        hits = answer.json()["results"]
        return [(h["id"], h["found_in"]) for h in hits] == [(document_id, "text")]

    wait_for(found, timeout=WAIT, interval=0.5, what="the worker to index the document")

    # Ctrl+C in the terminal: SIGINT to the whole foreground process group. (Now and then
    # gunicorn's gthread worker ignores it and its master kills it after graceful_timeout,
    # 30 s: hence the longer wait.)
    os.killpg(running.process.pid, signal.SIGINT)
    assert running.process.wait(timeout=60) == 130
    for pid in processes:
        wait_for(
            lambda pid=pid: (
                not Path(f"/proc/{pid}").exists()
                or "Z" in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            ),
            timeout=20,
            what=f"process {pid} to stop",
        )


def test_two_workers_on_one_queue_run_each_task_once(tmp_path: Path) -> None:
    journal = tmp_path / "journal"
    count = 60
    env = fresh_env(tmp_path, DATABASE_URL=database_url_for_tests(), DJANGO_SECRET_KEY=SECRET_KEY)
    logs = [tmp_path / f"worker-{number}.log" for number in (1, 2)]
    workers = [
        spawn(
            [
                str(BIN / "python"),
                "manage.py",
                "db_worker",
                "--no-reload",
                "--no-startup-delay",
                "--interval",
                "0.05",
                "--worker-id",
                f"worker-{number}",
            ],
            env=env,
            log_path=log,
        )
        for number, log in zip((1, 2), logs, strict=True)
    ]
    try:
        # Both are polling before the first task arrives.
        for log in logs:
            wait_for(lambda log=log: "Starting worker" in tail(log), timeout=30, what="a worker")
        ids = [record.enqueue(str(journal), number).id for number in range(count)]
        rows = DBTaskResult.objects.filter(pk__in=ids)
        wait_for(
            lambda: not rows.exclude(status=TaskResultStatus.SUCCESSFUL).exists(),
            timeout=WAIT,
            interval=0.2,
            what="the workers to run every task",
        )
    finally:
        for worker in workers:
            stop(worker)
    lines = journal.read_text().split()
    assert sorted(map(int, lines)) == list(range(count))  # every task ran, none twice
    assert all(len(row.worker_ids) == 1 for row in rows)
    assert {row.worker_ids[0] for row in rows} == {"worker-1", "worker-2"}
