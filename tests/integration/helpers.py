"""Helpers for tests that talk to real servers: gunicorn running FileFlow, moto's S3.

Nothing here is FileFlow code: processes, sockets, HTTP and /proc, so the tests can drive
the app the way a client and an operator would see it.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config

from tests.utils import ROOT, fresh_env

HOST = "127.0.0.1"
BIN = Path(sys.executable).parent
SECRET_KEY = "integration-tests-only-" + "x" * 40
MiB = 1024 * 1024

# Fake credentials for moto; its server accepts any.
S3_ACCESS_KEY = "testing-access-key"
S3_SECRET_KEY = "testing-secret-key"
S3_REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for(
    predicate: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(interval)


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if the test process dies, the server gets SIGTERM.
    And Ctrl+C reaches it as it does a command started in a terminal: a suite started in
    the background of a script (``… &``) inherits SIGINT ignored, a shell cannot trap a
    signal ignored when it starts, and scripts/run.sh then left Ctrl+C to its children and
    exited 0, not 130 (tests/integration/test_worker.py)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(args: list[str], *, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Start a server process in its own process group, its output going to ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def stop(process: subprocess.Popen[bytes], *, timeout: float = 20) -> None:
    """SIGTERM a server we started (gunicorn stops its workers); SIGKILL its group if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    # Workers left by a master that died first are in the same (our own) process group.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


def tail(path: Path, lines: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_get_status(url_host: str, port: int, path: str, timeout: float = 2) -> int | None:
    """The status of ``GET path``, or None while nothing answers."""
    connection = http.client.HTTPConnection(url_host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


@dataclass
class LiveServer:
    """FileFlow under gunicorn, on 127.0.0.1, against the test database."""

    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log_path: Path
    env: dict[str, str] = field(repr=False)

    host = HOST

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    def connection(self, timeout: float = 120) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: bytes | Iterable[bytes] | None = None,
        length: int | None = None,
    ) -> Reply:
        """One request on a fresh connection; an iterable body is sent as it is produced."""
        headers = dict(headers or {})
        if length is not None:
            headers["Content-Length"] = str(length)
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            connection.close()

    def raw_socket(self) -> socket.socket:
        return socket.create_connection((self.host, self.port), timeout=60)

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def worker_pid(self) -> int:
        pids = self.worker_pids()
        assert len(pids) == 1, f"expected one gunicorn worker, found {pids}"
        return pids[0]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def database_url_for_tests() -> str:
    """A DATABASE_URL naming the database this test process uses (after test DB setup)."""
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        # Another process opens it: it must be a file on disk, not an in-memory database.
        assert Path(settings["NAME"]).is_file(), "the SQLite test database must be a file"
        return f"sqlite:///{settings['NAME']}"
    assert connection.vendor == "postgresql", connection.vendor
    credentials = quote(settings.get("USER") or "", safe="")
    if settings.get("PASSWORD"):
        credentials += ":" + quote(settings["PASSWORD"], safe="")
    host = settings.get("HOST") or "localhost"
    port = f":{settings['PORT']}" if settings.get("PORT") else ""
    at = "@" if credentials else ""
    return f"postgres://{credentials}{at}{host}{port}/{quote(settings['NAME'], safe='')}"


def start_gunicorn(data_dir: Path, **overrides: str) -> LiveServer:
    """Start FileFlow under gunicorn with ``data_dir`` and wait until /healthz answers 200."""
    (data_dir / "blobs").mkdir(parents=True, exist_ok=True)
    (data_dir / "tmp").mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "gunicorn.log"
    last_error = ""
    for _attempt in range(3):  # a port picked as free can be taken before gunicorn binds it
        port = free_port()
        settings = {
            "DATABASE_URL": database_url_for_tests(),
            "DJANGO_SECRET_KEY": SECRET_KEY,
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_DEBUG": "false",
            "FILEFLOW_HOST": HOST,
            "WEB_CONCURRENCY": "1",
            "FILEFLOW_THREADS": "4",
            **overrides,  # e.g. WEB_CONCURRENCY="2", or FILEFLOW_STORAGE=s3 and its bucket
            "PORT": str(port),
        }
        env = fresh_env(data_dir, **settings)
        process = spawn(
            [str(BIN / "gunicorn"), "-c", "fileflow/gunicorn.conf.py", "fileflow.wsgi"],
            env=env,
            log_path=log_path,
        )
        server = LiveServer(process, port, data_dir, log_path, env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if http_get_status(HOST, port, "/healthz") == 200:
                return server
            time.sleep(0.1)
        stop(process)
        last_error = tail(log_path)
        if "Address already in use" not in last_error:
            break
    raise AssertionError(f"gunicorn did not answer 200 on /healthz:\n{last_error}")


# --- S3 ---------------------------------------------------------------------------------


def s3_client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
        config=Config(s3={"addressing_style": "path"}),
    )


@dataclass
class Bucket:
    """A bucket on the moto server, looked at directly with boto3 (not through the app)."""

    name: str
    endpoint: str
    client: Any

    def object_keys(self, prefix: str = "") -> list[str]:
        keys = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
            keys += [item["Key"] for item in page.get("Contents", [])]
        return sorted(keys)

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())

    def head(self, key: str) -> dict[str, Any]:
        return dict(self.client.head_object(Bucket=self.name, Key=key))

    def env(self) -> dict[str, str]:
        """FileFlow's environment variables for this bucket (FILEFLOW_STORAGE=s3)."""
        return {
            "FILEFLOW_STORAGE": "s3",
            "AWS_STORAGE_BUCKET_NAME": self.name,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_S3_REGION_NAME": S3_REGION,
            "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
            "AWS_S3_ADDRESSING_STYLE": "path",
        }


def start_moto(log_path: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start moto's standalone server (all of S3, over real HTTP); returns it and its URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    for _attempt in range(3):  # as for gunicorn: the free port may be taken meanwhile
        port = free_port()
        process = spawn(
            [str(BIN / "moto_server"), "-H", HOST, "-p", str(port)], env=env, log_path=log_path
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and process.poll() is None:
            if http_get_status(HOST, port, "/moto-api/") == 200:
                return process, f"http://{HOST}:{port}"
            time.sleep(0.1)
        stop(process)
    raise AssertionError(f"moto_server did not start:\n{tail(log_path)}")


# --- processes and memory -----------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (gunicorn's workers, for its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name (field 2) is in parentheses and may hold spaces.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


@dataclass(frozen=True)
class Memory:
    """Resident memory of a process, in bytes: now and its high-water mark."""

    rss: int
    hwm: int

    def __str__(self) -> str:
        return f"VmRSS {self.rss / MiB:.1f} MiB, VmHWM {self.hwm / MiB:.1f} MiB"


def reset_peak(pid: int) -> None:
    """Start ``pid``'s VmHWM afresh from its current VmRSS (Linux 4.0+: clear_refs "5")."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def memory_of(pid: int) -> Memory:
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024  # reported in kB
    return Memory(rss=values["VmRSS"], hwm=values["VmHWM"])


# --- content ------------------------------------------------------------------------------

# One MiB of noise, made once; each block of a pattern starts with its own seed and index,
# so blocks (and patterns with different seeds) differ while costing one copy to make.
_NOISE = random.Random(20260101).randbytes(MiB)


def _block(seed: int, index: int) -> bytes:
    return struct.pack(">QQ", seed, index) + _NOISE[16:]


def pattern(seed: int, size: int, *, hasher: Any = None) -> Iterator[bytes]:
    """``size`` deterministic bytes, one MiB at a time (fed to ``hasher`` on the way)."""
    index = 0
    remaining = size
    while remaining > 0:
        block = _block(seed, index)[:remaining]
        if hasher is not None:
            hasher.update(block)
        yield block
        remaining -= len(block)
        index += 1


def pattern_bytes(seed: int, start: int, stop: int) -> bytes:
    """The bytes ``[start, stop)`` of ``pattern(seed, …)``."""
    out = bytearray()
    index = start // MiB
    offset = start - index * MiB
    while len(out) < stop - start:
        out += _block(seed, index)[offset:]
        offset = 0
        index += 1
    return bytes(out[: stop - start])


def pattern_sha256(seed: int, size: int) -> str:
    hasher = hashlib.sha256()
    for _ in pattern(seed, size, hasher=hasher):
        pass
    return hasher.hexdigest()


def file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(MiB):
            hasher.update(chunk)
    return hasher.hexdigest()


@dataclass(frozen=True)
class Multipart:
    """A multipart/form-data body with one file field, produced as it is sent."""

    filename: str
    size: int
    boundary: str = "----fileflow-integration-boundary-7d1f0c"

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self) -> bytes:
        return (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{self.filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()

    def _tail(self) -> bytes:
        return f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def length(self) -> int:
        return len(self._head()) + self.size + len(self._tail())

    def body(self, content: Iterable[bytes]) -> Iterator[bytes]:
        yield self._head()
        yield from content
        yield self._tail()


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []
