"""gunicorn's two workers share kept-alive connections (fileflow/server.py).

With gunicorn's own threaded worker, whichever worker called ``accept()`` first took a new
connection, and clients that keep their connections (rclone, a reverse proxy) often all
landed on one worker, whose one CPU core then capped the server (bench/transfer.py). A worker
that already holds a connection now lets an idle sibling take the next one.
"""

from __future__ import annotations

import http.client
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.helpers import LiveServer, start_gunicorn, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    server = start_gunicorn(tmp_path, WEB_CONCURRENCY="2")
    try:
        deadline = time.monotonic() + 30
        while len(server.worker_pids()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(server.worker_pids()) == 2
        yield server
    finally:
        stop(server.process)


def sockets_of(pid: int) -> set[str]:
    """The sockets a process has open (``socket:[inode]``)."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:"):
            found.add(target)
    return found


def holder(server: LiveServer, before: dict[int, set[str]]) -> int:
    """The worker that has one more socket than ``before`` (the connection just opened)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        grown = [pid for pid in before if sockets_of(pid) - before[pid]]
        if len(grown) == 1:
            return grown[0]
        time.sleep(0.02)
    raise AssertionError(f"no single worker took the connection: {grown}")


def kept_alive(server: LiveServer) -> http.client.HTTPConnection:
    connection = server.connection(timeout=10)
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    assert response.status == 200
    return connection  # open: gunicorn keeps it for the next request


def back_to(pids: list[int], idle: dict[int, set[str]]) -> dict[int, set[str]]:
    """Each worker's sockets once it holds no more than when idle (closed ones gone)."""
    deadline = time.monotonic() + 10
    while True:
        now = {pid: sockets_of(pid) for pid in pids}
        if all(len(now[pid]) <= len(idle[pid]) for pid in pids) or time.monotonic() > deadline:
            return now
        time.sleep(0.05)


def test_a_second_kept_alive_connection_goes_to_the_idle_worker(two_workers: LiveServer) -> None:
    server = two_workers
    pids = server.worker_pids()
    idle = {pid: sockets_of(pid) for pid in pids}
    # Three rounds: with gunicorn's own worker each round is a coin toss (1 in 8 to pass).
    for _round in range(3):
        before = back_to(pids, idle)
        first = kept_alive(server)
        first_worker = holder(server, before)
        after_first = {pid: sockets_of(pid) for pid in pids}
        second = kept_alive(server)
        second_worker = holder(server, after_first)
        assert second_worker != first_worker, "both connections went to one worker"
        # Both still answer on their connections.
        for connection in (first, second):
            connection.request("GET", "/healthz")
            reply = connection.getresponse()
            reply.read()
            assert reply.status == 200
            connection.close()
