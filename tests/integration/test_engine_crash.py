"""kill -9 the whole server (gunicorn's master and worker) while large raw PUTs are arriving.

20 uploads of 20–50 MB go up in five rounds of four at once; in each round every client
stops at its own point of the body (nothing sent yet, a little, most of it, all but the last
byte, or all of it so the server is hashing and storing when it dies) and the server is
killed. After a restart on the same data dir and database, from outside the engine:

- an upload that was not sent whole left no file, and one that was is either absent or
  complete (its size, and its bytes downloaded through the API hash to what was sent);
- ``scrub`` finds no damage; ``gc`` (once the files are older than its grace period)
  removes every abandoned upload temp file and every stored object without a blob row;
- ``used_bytes`` is exactly the size of the files that exist (``recompute_usage --check``
  agrees).

Run once, in the SQLite pass: a crash test exercises the processes and the disk, and SQLite
is the database whose recovery after a kill happens in FileFlow's own processes (WAL).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum

from accounts.models import User
from files.models import Blob, Node
from tests.integration.helpers import (
    LiveServer,
    MiB,
    files_under,
    pattern,
    pattern_sha256,
    start_gunicorn,
    stop,
    tail,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="crash test: runs once, in the SQLite pass (the database's own recovery "
        "after kill -9 happens in FileFlow's processes there)",
    ),
]

ROUNDS = 5
AT_ONCE = 4
SEED = 20261205


@dataclass
class Upload:
    number: int
    size: int
    stop_at: int  # bytes of the body sent before the server is killed

    @property
    def name(self) -> str:
        return f"upload-{self.number:02d}.bin"

    @property
    def seed(self) -> int:
        return SEED + self.number

    @property
    def whole(self) -> bool:
        return self.stop_at == self.size


def plan() -> list[Upload]:
    rng = random.Random(SEED)
    uploads = []
    for number in range(ROUNDS * AT_ONCE):
        size = rng.randrange(20 * MiB, 50 * MiB)
        stop_at = [
            0,
            rng.randrange(1, size // 2),
            rng.randrange(size // 2, size - MiB),
            size - 1,
            size,
        ][number % 5]
        uploads.append(Upload(number, size, stop_at))
    return uploads


def send(
    server: LiveServer,
    upload: Upload,
    auth: dict[str, str],
    reached: threading.Barrier,
    killed: threading.Event,
) -> None:
    """Send the request head and ``stop_at`` bytes of the body, then hold the connection
    open until the server is killed."""
    query = urlencode({"path": f"/crash/{upload.name}"})
    head = "\r\n".join(
        [
            f"PUT /api/v1/files/content/?{query} HTTP/1.1",
            f"Host: {server.host}:{server.port}",
            *(f"{name}: {value}" for name, value in auth.items()),
            "Content-Type: application/octet-stream",
            f"Content-Length: {upload.size}",
            "",
            "",
        ]
    ).encode()
    with contextlib.ExitStack() as stack:
        sock = stack.enter_context(server.raw_socket())
        try:
            sock.sendall(head)
            sent = 0
            for chunk in pattern(upload.seed, upload.size):
                piece = chunk[: upload.stop_at - sent]
                if not piece:
                    break
                sock.sendall(piece)
                sent += len(piece)
        finally:
            reached.wait(timeout=120)
        killed.wait(timeout=120)


def kill(server: LiveServer) -> None:
    """SIGKILL gunicorn's master and workers at once (their own process group)."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def use_storage_of(settings: Any, data_dir: Path) -> None:
    """This process's blob storage and temp dir are the server's, for the operator commands."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(data_dir / "blobs"), "base_url": None},
        },
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(data_dir / "tmp")


def command(name: str, *args: str) -> str:
    stdout = io.StringIO()
    call_command(name, *args, "--no-progress", stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def age(paths: list[Path], seconds: float) -> None:
    """Make files look ``seconds`` old, as if the operator ran gc the next day."""
    then = time.time() - seconds
    for path in paths:
        os.utime(path, (then, then))


@pytest.fixture
def servers() -> Iterator[list[LiveServer]]:
    started: list[LiveServer] = []
    yield started
    for server in started:
        stop(server.process)


def test_kill_9_during_large_puts_leaves_no_partial_file_and_gc_cleans_up(
    servers: list[LiveServer],
    tmp_path: Path,
    settings: Any,
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
) -> None:
    started = time.monotonic()
    data_dir = tmp_path / "server"
    use_storage_of(settings, data_dir)
    auth = bearer(alice)
    uploads = plan()
    servers.append(start_gunicorn(data_dir))
    reply = servers[-1].request(
        "PUT", "/api/v1/files/content/?path=/crash/before.txt", headers=auth, body=b"before"
    )
    assert reply.status == 201, reply.body

    pause = random.Random(SEED)
    for start in range(0, len(uploads), AT_ONCE):
        server = servers[-1]
        batch = uploads[start : start + AT_ONCE]
        reached = threading.Barrier(len(batch) + 1)
        killed = threading.Event()
        clients = [
            threading.Thread(target=send, args=(server, upload, auth, reached, killed))
            for upload in batch
        ]
        for client in clients:
            client.start()
        reached.wait(timeout=120)
        # All bodies are where they should be; the server is reading, hashing or storing.
        time.sleep(pause.uniform(0, 0.3))
        kill(server)
        killed.set()
        for client in clients:
            client.join(timeout=30)
        assert "Traceback" not in tail(server.log_path, 400), tail(server.log_path)
        servers.append(start_gunicorn(data_dir))
    server = servers[-1]
    print(f"\n{len(uploads)} PUTs killed in {time.monotonic() - started:.1f} s")

    # What the API shows: the file from before, and only whole uploads, each complete.
    reply = server.request("GET", "/api/v1/nodes/?path=/crash&limit=1000", headers=auth)
    assert reply.status == 200, reply.body
    listed = {item["name"]: item for item in reply.json()["results"]}
    assert "before.txt" in listed
    by_name = {upload.name: upload for upload in uploads}
    survivors = [by_name[name] for name in listed if name != "before.txt"]
    assert set(listed) - {"before.txt"} <= set(by_name)
    assert all(upload.whole for upload in survivors), [u.name for u in survivors]
    for upload in survivors:
        item = listed[upload.name]
        assert item["size"] == upload.size
        sent = pattern_sha256(upload.seed, upload.size)
        assert item["sha256"] == sent
        reply = server.request("GET", f"/api/v1/nodes/{item['id']}/content/", headers=auth)
        assert reply.status == 200
        assert hashlib.sha256(reply.body).hexdigest() == sent
    # Nothing half-made anywhere else in the account either.
    files = Node.objects.filter(owner=alice, is_folder=False)
    assert files.count() == len(survivors) + 1
    print(f"whole uploads that survived the kill: {len(survivors)} of 4 sent whole")

    # Stored content is intact.
    assert "No damage found" in command("scrub")

    # gc leaves young leftovers alone, and removes them once past its grace period.
    temp_files = files_under(data_dir / "tmp")
    stored = files_under(data_dir / "blobs")
    command("gc", "--grace-hours", "1")
    assert files_under(data_dir / "tmp") == temp_files
    age(temp_files + stored, seconds=2 * 3600)
    report = command("gc", "--grace-hours", "1")
    print(f"before gc: {len(temp_files)} temp file(s), {len(stored)} stored object(s); {report}")
    assert files_under(data_dir / "tmp") == []
    # Every stored object is named by the SHA-256 of a blob row, and there is one per row.
    objects = [path.name for path in files_under(data_dir / "blobs")]
    assert sorted(objects) == sorted(Blob.objects.values_list("sha256", flat=True))
    assert "No damage found" in command("scrub")

    # Usage is exact: what the files that exist add up to.
    assert "correct" in command("recompute_usage", "--check")
    total = files.aggregate(total=Sum("size"))["total"]
    assert (
        User.objects.get(pk=alice.pk).used_bytes
        == total
        == 6 + sum(upload.size for upload in survivors)
    )
    print(f"whole test {time.monotonic() - started:.1f} s")
