"""WebDAV against real gunicorn: chunked PUTs as Finder and davfs2 send them (curl), Range
GETs, a 1 GiB PUT (sent from a generator) with flat worker memory; litmus and rclone against
two workers.

litmus and rclone run once, on PostgreSQL (several workers on one database is the setup they
prove); the curl cases run on both databases.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from files import tree
from files.models import Blob, FileVersion, Node
from tests.integration.helpers import (
    LiveServer,
    MiB,
    memory_of,
    pattern,
    pattern_bytes,
    reset_peak,
)
from tests.utils import tool
from tests.webdav.conftest import basic

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="litmus and rclone run once, against PostgreSQL (two workers on one database)",
)

BIG = 1024 * MiB  # 1 GiB, produced one MiB at a time as it is sent
MAX_GROWTH = 60 * MiB


def token_for(user: Any) -> str:
    from accounts.services import token_create

    _token, raw = token_create(user=user, name="webdav server test")
    return str(raw)


def curl(server: LiveServer, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [tool("curl"), "-sS", *args], capture_output=True, timeout=120, check=False
    )


def live(user: Any, path: str) -> Node | None:
    node = tree.home_of(user)
    for part in path.strip("/").split("/"):
        found = Node.objects.filter(parent=node, name=part, trashed_at__isnull=True).first()
        if found is None:
            return None
        node = found
    return node


# --- curl ---------------------------------------------------------------------------------


def test_chunked_put_and_range_get_with_curl(
    gunicorn_server: LiveServer, alice: Any, tmp_path: Path
) -> None:
    server = gunicorn_server
    credentials = f"alice:{token_for(alice)}"
    body = random.Random(13).randbytes(3 * MiB + 17)
    source = tmp_path / "source.bin"
    source.write_bytes(body)

    put = curl(
        server,
        "-u", credentials,
        "-T", str(source),
        "-H", "Transfer-Encoding: chunked",
        "-w", "%{http_code}",
        "-o", "/dev/null",
        f"{server.url}/dav/chunked.bin",
    )  # fmt: skip
    assert put.stdout == b"201", put.stderr
    node = live(alice, "/chunked.bin")
    assert node is not None
    assert node.size == len(body)
    assert node.sha256 == hashlib.sha256(body).hexdigest()

    ranged = curl(server, "-u", credentials, "-r", "1000-2999", f"{server.url}/dav/chunked.bin")
    assert ranged.stdout == body[1000:3000]
    whole = curl(server, "-u", credentials, f"{server.url}/dav/chunked.bin")
    assert whole.stdout == body


def test_chunked_put_of_an_empty_body_stores_an_empty_file(
    gunicorn_server: LiveServer, alice: Any, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    put = curl(
        gunicorn_server,
        "-u", f"alice:{token_for(alice)}",
        "-X", "PUT",
        "--data-binary", f"@{empty}",  # curl -T waits forever on an empty chunked body
        "-H", "Transfer-Encoding: chunked",
        "-w", "%{http_code}",
        "-o", "/dev/null",
        f"{gunicorn_server.url}/dav/empty.txt",
    )  # fmt: skip
    assert put.stdout == b"201", put.stderr
    node = live(alice, "/empty.txt")
    assert node is not None and node.size == 0


def test_1_gib_put_streams_with_flat_memory_and_comes_back(
    gunicorn_server: LiveServer, alice: Any
) -> None:
    server = gunicorn_server
    auth = {"Authorization": basic("alice", token_for(alice))}
    warm = server.request("PUT", "/dav/warm.bin", headers=auth, body=b"warm" * 4096)
    assert warm.status == 201
    assert server.request("PROPFIND", "/dav/", headers={**auth, "Depth": "1"}).status == 207
    worker = server.worker_pid()
    reset_peak(worker)
    before = memory_of(worker)

    sent = hashlib.sha256()
    reply = server.request(
        "PUT", "/dav/big.bin", headers=auth, body=pattern(7, BIG, hasher=sent), length=BIG
    )
    assert reply.status == 201, reply.body
    after = memory_of(worker)
    growth = after.hwm - before.hwm
    print(f"\n[1 GiB WebDAV PUT] worker before {before}, after {after}")
    assert growth < MAX_GROWTH
    blob = Blob.objects.get(sha256=sent.hexdigest())
    assert blob.size == BIG

    first = BIG // 3
    part = server.request(
        "GET", "/dav/big.bin", headers={**auth, "Range": f"bytes={first}-{first + MiB}"}
    )
    assert part.status == 206
    assert part.body == pattern_bytes(7, first, first + MiB + 1)


# --- litmus -------------------------------------------------------------------------------


@on_postgresql
def test_litmus_passes_every_suite_against_two_workers(
    start_server: Callable[..., LiveServer], make_user: Any, tmp_path: Path
) -> None:
    server = start_server(WEB_CONCURRENCY="2")
    user = make_user(username="litmus")
    result = subprocess.run(
        [tool("litmus"), "-k", f"{server.url}/dav/", "litmus", token_for(user)],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=tmp_path,
        check=False,
    )
    output = result.stdout + result.stderr
    print(output)
    summaries = [line for line in output.splitlines() if "<- summary for" in line]
    assert [re.search(r"summary for `(\w+)'", line)[1] for line in summaries] == [
        "basic",
        "copymove",
        "props",
        "locks",
        "http",
    ], output
    assert all(" 0 failed" in line for line in summaries), output
    assert result.returncode == 0, output
    # The one warning that remains is listed, with its reason, in the README.
    warnings = [line for line in output.splitlines() if "WARNING:" in line]
    assert len(warnings) <= 1 and all("fragment" in line for line in warnings), warnings


# --- rclone -------------------------------------------------------------------------------


def make_tree(root: Path, count: int) -> None:
    rng = random.Random(1000)
    sizes = [0, 1, 100, 1000, 4096, 10_000, 40_000]
    for i in range(count):
        folder = root / f"dir{i % 7}" / f"sub{i % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{i:04}.bin").write_bytes(rng.randbytes(sizes[i % len(sizes)]))


def same_tree(a: Path, b: Path) -> bool:
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all(
        (a / rel).read_bytes() == (b / rel).read_bytes() for rel in files_a
    )


@on_postgresql
def test_rclone_syncs_a_1000_file_tree_up_changes_only_what_changed_and_back(
    start_server: Callable[..., LiveServer], make_user: Any, tmp_path: Path
) -> None:
    server = start_server(WEB_CONCURRENCY="2")
    user = make_user(username="rclone")
    rclone = tool("rclone")
    obscured = subprocess.run(
        [rclone, "obscure", token_for(user)], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {
        **os.environ,
        "RCLONE_CONFIG": str(tmp_path / "none.conf"),
        "RCLONE_CONFIG_FF_TYPE": "webdav",
        "RCLONE_CONFIG_FF_URL": f"{server.url}/dav/",
        "RCLONE_CONFIG_FF_VENDOR": "other",
        "RCLONE_CONFIG_FF_USER": "rclone",
        "RCLONE_CONFIG_FF_PASS": obscured,
    }

    def run(*args: str) -> str:
        done = subprocess.run(
            [rclone, *args, "--transfers", "8", "--checkers", "8", "--stats-log-level", "NOTICE"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,  # a loaded 2-core machine needed ~150 s for the first sync
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stderr

    local = tmp_path / "local"
    make_tree(local, 1000)
    run("sync", str(local), "ff:backup", "--stats", "1h")
    assert Node.objects.filter(owner=user, is_folder=False, trashed_at__isnull=True).count() == 1000

    # Change ten files (sizes change: a WebDAV server without modification times is compared
    # by size), and sync again: only those ten travel.
    changed = sorted(local.rglob("*.bin"))[::100]
    for path in changed:
        path.write_bytes(path.read_bytes() + b"changed")
    stats = run("sync", str(local), "ff:backup", "--stats", "1h")
    assert re.search(r"Transferred:\s+10 / 10, 100%", stats), stats
    # Server side: ten new versions (one per replaced file), no file added or lost.
    assert FileVersion.objects.filter(node__owner=user).count() == 10
    assert Node.objects.filter(owner=user, is_folder=False, trashed_at__isnull=True).count() == 1000

    down = tmp_path / "down"
    down.mkdir()
    run("sync", "ff:backup", str(down))
    assert same_tree(local, down)
    check = run("check", str(local), "ff:backup")
    assert "0 differences found" in check, check
