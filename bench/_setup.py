"""Shared set-up for the benchmarks: Django against the database in DATABASE_URL."""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")
    os.environ.setdefault("FILEFLOW_DATA_DIR", "/tmp/fileflow-bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    """Milliseconds of each of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered):8.2f} ms   p95 {p95:8.2f} ms   (n={len(ordered)})"


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, path: str = "/", timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def start_gunicorn(workers: int) -> tuple[subprocess.Popen, int]:
    """FileFlow under gunicorn as deployed (fileflow/gunicorn.conf.py), on a free port,
    against the same database and data dir; returns once /healthz answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update({"PORT": str(port), "WEB_CONCURRENCY": str(workers), "FILEFLOW_THREADS": "8"})
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "fileflow/gunicorn.conf.py",
            "fileflow.wsgi",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(port, "/healthz")
    except BaseException:
        server.terminate()
        raise
    if workers > 1:
        # /healthz answered from the first worker ready. Connections opened before the others
        # have loaded the app all go to that one and, kept alive, stay there: a benchmark
        # would then measure one worker of several (seen with 4 clients on 2 workers).
        time.sleep(3)
    return server, port
