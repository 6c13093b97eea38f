"""WebDAV (/dav/) against baselines measured in the same run on the same machine.

    FILEFLOW_DATA_DIR=/tmp/ff-bench-dav .venv/bin/python bench/webdav.py            # SQLite
    FILEFLOW_DATA_DIR=/tmp/ff-bench-dav scripts/with-postgres.sh .venv/bin/python bench/webdav.py

1. `rclone copy` of --small (1000) x 4 KiB files to FileFlow's WebDAV and to
   `rclone serve webdav` (a plain directory behind rclone's own server): files/s and ratio.
2. A --size-mib (1024) PUT and GET through WebDAV against the same through the raw API
   (PUT /api/v1/files/content/, GET /api/v1/nodes/<id>/content/): MiB/s and ratios.
3. PROPFIND Depth 1 (allprop) of a folder of --entries (10,000) files: median of 5.

gunicorn runs as deployed (fileflow/gunicorn.conf.py) with --workers (2).
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from pathlib import Path

from _setup import django_setup, free_port, start_gunicorn, wait_for
from transfer import MIB, download, make_file, put_file


def rclone_copy(source: Path, remote_env: dict[str, str], target: str, transfers: int) -> float:
    started = time.perf_counter()
    subprocess.run(
        ["rclone", "copy", str(source), target, "--transfers", str(transfers), "-q"],
        env={**os.environ, **remote_env},
        check=True,
    )
    return time.perf_counter() - started


def dav_put(port: int, auth: str, path: str, source: Path) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MIB)
    size = source.stat().st_size
    started = time.perf_counter()
    with source.open("rb") as body:
        conn.request(
            "PUT", path, body=body, headers={"Authorization": auth, "Content-Length": str(size)}
        )
        response = conn.getresponse()
        response.read()
    return time.perf_counter() - started, response.status


def propfind(port: int, auth: str, path: str) -> tuple[float, int]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    headers = {"Depth": "1", **({"Authorization": auth} if auth else {})}
    conn.request("PROPFIND", path, headers=headers)
    response = conn.getresponse()
    body = response.read()
    assert response.status == 207, response.status
    return time.perf_counter() - started, len(body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--transfers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not shutil.which("rclone"):
        sys.exit("rclone is needed: apt-get install rclone")

    data_dir = Path(os.environ.setdefault("FILEFLOW_DATA_DIR", "/tmp/ff-bench-dav"))
    data_dir.mkdir(parents=True, exist_ok=True)
    django_setup()
    from django.db import connection

    from accounts.models import User
    from accounts.services import token_create
    from files import services
    from files.ingest import Upload, receive_stream

    username = f"bench-dav-{os.getpid()}"
    user = User.objects.create_user(username=username, password=None)
    _, token = token_create(user=user, name="bench")
    auth = "Basic " + b64encode(f"{username}:{token}".encode()).decode()
    work = Path(tempfile.mkdtemp(prefix="ff-bench-dav-", dir=data_dir))
    print(
        f"database: {connection.vendor}   gunicorn workers: {args.workers}   "
        f"cores: {os.cpu_count()}"
    )

    # A folder of many entries, made through the batch service (1000 files a transaction).
    big_folder = services.folder_ensure_path(owner=user, path="/many")
    for start in range(0, args.entries, 1000):
        batch = [
            Upload(
                name=f"entry-{i:06d}.txt",
                received=receive_stream(io.BytesIO(f"{i}".encode()).read, length=None),
            )
            for i in range(start, min(start + 1000, args.entries))
        ]
        services.file_upload_batch(owner=user, parent=big_folder, files=batch)
    connection.close()

    gunicorn, port = start_gunicorn(args.workers)
    rclone = None
    try:
        # 1. small files with rclone
        small = work / "small"
        small.mkdir()
        for i in range(args.small):
            (small / f"f{i:05d}.bin").write_bytes(os.urandom(4096))
        obscured = subprocess.run(
            ["rclone", "obscure", token], capture_output=True, text=True, check=True
        ).stdout.strip()
        ours_env = {
            "RCLONE_CONFIG": str(work / "none.conf"),
            "RCLONE_CONFIG_FF_TYPE": "webdav",
            "RCLONE_CONFIG_FF_URL": f"http://127.0.0.1:{port}/dav/",
            "RCLONE_CONFIG_FF_VENDOR": "other",
            "RCLONE_CONFIG_FF_USER": username,
            "RCLONE_CONFIG_FF_PASS": obscured,
        }
        dav_dir = work / "rclone-serve"
        dav_dir.mkdir()
        # The same big folder for rclone's PROPFIND, made before it starts (it caches listings).
        many = dav_dir / "many"
        many.mkdir()
        for i in range(args.entries):
            (many / f"entry-{i:06d}.txt").write_bytes(f"{i}".encode())
        dav_port = free_port()
        rclone = subprocess.Popen(
            ["rclone", "serve", "webdav", str(dav_dir), "--addr", f"127.0.0.1:{dav_port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(dav_port)
        theirs_env = {
            "RCLONE_CONFIG": str(work / "none.conf"),
            "RCLONE_CONFIG_RS_TYPE": "webdav",
            "RCLONE_CONFIG_RS_URL": f"http://127.0.0.1:{dav_port}/",
            "RCLONE_CONFIG_RS_VENDOR": "other",
        }
        theirs = rclone_copy(small, theirs_env, "rs:small", args.transfers)
        ours = rclone_copy(small, ours_env, "ff:small", args.transfers)
        print(
            f"rclone copy {args.small} x 4 KiB ({args.transfers} transfers): "
            f"FileFlow {args.small / ours:6.0f} files/s   rclone serve webdav "
            f"{args.small / theirs:6.0f} files/s   ratio {theirs / ours:.2f}"
        )

        # 2. one big file, PUT and GET, WebDAV against the raw API
        source = work / "big.bin"
        size = args.size_mib * MIB
        make_file(source, size)
        # Interleaved, so that load drifting on a shared machine hits both sides alike.
        api_puts, dav_puts = [], []
        for _ in range(2):
            elapsed, status = put_file(port, token, "/api-big.bin", source)
            assert status in (200, 201), status
            api_puts.append(elapsed)
            elapsed, status = dav_put(port, auth, "/dav/dav-big.bin", source)
            assert status in (201, 204), status
            dav_puts.append(elapsed)
        api_put, dav_put_s = statistics.median(api_puts), statistics.median(dav_puts)
        print(
            f"{args.size_mib} MiB PUT:  raw API {size / api_put / MIB:6.0f} MiB/s   "
            f"WebDAV {size / dav_put_s / MIB:6.0f} MiB/s   ratio {api_put / dav_put_s:.2f}"
            "   (median of 2 each, interleaved)"
        )
        from files.models import Node

        node = Node.objects.get(owner=user, name="api-big.bin", trashed_at__isnull=True)
        bearer = {"Authorization": f"Bearer {token}"}
        api_get, dav_get = [], []
        for _ in range(5):
            api_get.append(download(port, f"/api/v1/nodes/{node.pk}/content/", bearer))
            dav_get.append(download(port, "/dav/dav-big.bin", {"Authorization": auth}))
        assert all(total == size for _, total in api_get + dav_get)
        api_s = statistics.median(t for t, _ in api_get)
        dav_s = statistics.median(t for t, _ in dav_get)
        print(
            f"{args.size_mib} MiB GET:  raw API {size / api_s / MIB:6.0f} MiB/s   "
            f"WebDAV {size / dav_s / MIB:6.0f} MiB/s   ratio {api_s / dav_s:.2f}"
            "   (median of 5 each, interleaved)"
        )

        # 3. PROPFIND Depth 1 (allprop) of a big folder, and of the same folder in rclone's
        propfind(port, auth, "/dav/many/")  # warm
        runs = [propfind(port, auth, "/dav/many/") for _ in range(5)]
        theirs_runs = [propfind(dav_port, "", "/many/") for _ in range(5)]
        ours_ms = statistics.median(t for t, _ in runs) * 1000
        theirs_ms = statistics.median(t for t, _ in theirs_runs) * 1000
        print(
            f"PROPFIND Depth 1 of {args.entries} entries: FileFlow median {ours_ms:.0f} ms "
            f"({runs[0][1] / MIB:.1f} MiB of XML)   rclone serve webdav {theirs_ms:.0f} ms "
            f"({theirs_runs[0][1] / MIB:.1f} MiB)   ratio {theirs_ms / ours_ms:.2f}"
        )
        print(f"load average during the run: {os.getloadavg()}")
    finally:
        for process in (rclone, gunicorn):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
