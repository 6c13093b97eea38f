"""Resumable uploads (tus) through gunicorn against the raw PUT of the same file, measured in
the same run on the same machine.

    FILEFLOW_DATA_DIR=/tmp/ff-bench .venv/bin/python bench/tus.py            # SQLite
    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/tus.py

One file (--size-mib, default 1024) goes up as a raw PUT /api/v1/files/content/, then
through /api/v1/uploads/ in PATCHes of 8 MiB and of 64 MiB (--chunks-mib), each a fresh
name; --repeat (default 3) rounds, alternating, and the medians are compared. The worker's
resident memory (VmHWM, one gunicorn worker) is printed after each kind. The goal: tus with
64 MiB chunks at least 0.8 of the PUT's rate, worker memory under 100 MB.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import statistics
import tempfile
import time
from pathlib import Path

from _setup import django_setup, start_gunicorn
from transfer import make_file, memory_kib, memory_text, put_file, worker_pids

MIB = 1024 * 1024


def tus_upload(port: int, token: str, name: str, source: Path, chunk: int) -> float:
    """Seconds to create an upload and send ``source`` in PATCHes of ``chunk`` bytes."""
    size = source.stat().st_size
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MIB)
    started = time.perf_counter()
    meta = "filename " + base64.b64encode(name.encode()).decode()
    meta += ",path " + base64.b64encode(b"/bench-tus").decode()
    conn.request(
        "POST",
        "/api/v1/uploads/",
        headers={**auth, "Upload-Length": str(size), "Upload-Metadata": meta},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 201, (response.status, response.headers)
    location = response.headers["Location"].split(f":{port}", 1)[1]
    offset = 0
    with source.open("rb") as handle:
        while offset < size:
            length = min(chunk, size - offset)
            handle.seek(offset)
            body = _Window(handle, length)
            conn.request(
                "PATCH",
                location,
                body=body,  # type: ignore[arg-type]
                headers={
                    **auth,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(length),
                },
            )
            response = conn.getresponse()
            response.read()
            assert response.status == 204, (response.status, response.headers)
            offset = int(response.headers["Upload-Offset"])
    return time.perf_counter() - started


class _Window:
    """``length`` bytes of an open file from its position, read in 1 MiB blocks."""

    def __init__(self, handle, length: int) -> None:
        self.handle = handle
        self.remaining = length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.handle.read(size)
        self.remaining -= len(data)
        return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--chunks-mib", default="8,64", help="PATCH sizes to measure, in MiB")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data_dir = Path(os.environ.setdefault("FILEFLOW_DATA_DIR", "/tmp/fileflow-bench"))
    data_dir.mkdir(parents=True, exist_ok=True)
    django_setup()
    from django.db import connection

    from accounts.models import User
    from accounts.services import token_create

    user = User.objects.filter(username="bench-tus").first() or User.objects.create_user(
        username="bench-tus", password=None
    )
    _, token = token_create(user=user, name="bench")
    work = Path(tempfile.mkdtemp(prefix="ff-bench-tus-", dir=data_dir))
    source = work / "big.bin"
    size = args.size_mib * MIB
    chunks = [int(value) * MIB for value in args.chunks_mib.split(",")]
    print(
        f"database: {connection.vendor}   data dir: {data_dir}   file: {args.size_mib} MiB   "
        f"rounds: {args.repeat}   gunicorn: 1 worker"
    )
    make_file(source, size)
    connection.close()

    gunicorn, port = start_gunicorn(1)
    try:
        workers = worker_pids(gunicorn.pid)
        rss0, _ = memory_kib(workers)
        times: dict[str, list[float]] = {"PUT": [], **{f"tus {c // MIB} MiB": [] for c in chunks}}
        peaks: dict[str, int] = {}
        for round_ in range(args.repeat):
            # Distinct content per round would cost a new file; the same content is stored
            # once (dedup), which the PUT and tus paths share alike.
            elapsed, status = put_file(port, token, f"/bench-put/r{round_}.bin", source)
            assert status in (200, 201), status
            times["PUT"].append(elapsed)
            peaks["PUT"] = memory_kib(workers)[1]
            for chunk in chunks:
                label = f"tus {chunk // MIB} MiB"
                times[label].append(
                    tus_upload(port, token, f"r{round_}-{chunk}.bin", source, chunk)
                )
                peaks[label] = memory_kib(workers)[1]
        put_rate = size / statistics.median(times["PUT"]) / MIB
        print(f"worker RSS at start: {memory_text(rss0)}")
        for label, samples in times.items():
            rate = size / statistics.median(samples) / MIB
            print(
                f"{label:>12}: median {statistics.median(samples):6.2f} s  {rate:7.0f} MiB/s   "
                f"ratio to PUT {rate / put_rate:.2f}"
            )
            print(f"{'':>14}worker peak so far {memory_text(peaks[label])}")
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        for leftover in work.iterdir():
            leftover.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
