"""Resumable uploads through gunicorn over real sockets, driven by tuspy (a third-party tus
client): connections cut mid-chunk, a worker killed with SIGKILL mid-PATCH, two app servers
sharing one upload, and two uploads racing for a quota that holds one.

Connections are cut by a small TCP proxy between tuspy and gunicorn (nothing of ours is
mocked): after a given number of bytes it closes both sides, as a dropped Wi-Fi would.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tusclient import client as tus_client

from files.models import Blob, Node
from tests.integration.helpers import (
    BIN,
    HOST,
    Bucket,
    LiveServer,
    MiB,
    file_sha256,
    files_under,
    start_gunicorn,
    stop,
    wait_for,
)
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db(transaction=True)

TUS = {"Tus-Resumable": "1.0.0"}


class CuttingProxy:
    """Forwards TCP connections to ``target``; once the bytes sent towards the server pass
    each of ``cuts`` (running totals), the connection carrying them is closed both ways."""

    def __init__(self, target: tuple[str, int], cuts: list[int]) -> None:
        self.target = target
        self.cuts = sorted(cuts)
        self.sent = 0
        self.cut_count = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server((HOST, 0))
        self.port = self._listener.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                downstream, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._pump_up, args=(downstream, upstream), daemon=True).start()
            threading.Thread(
                target=self._pump_down, args=(upstream, downstream), daemon=True
            ).start()

    def _allowance(self, size: int) -> int | None:
        """How much of ``size`` bytes may pass before the next cut (None: all of it)."""
        with self._lock:
            if not self.cuts or self.sent + size < self.cuts[0]:
                self.sent += size
                return None
            allowed = self.cuts.pop(0) - self.sent
            self.sent += allowed
            self.cut_count += 1
            return max(allowed, 0)

    def _pump_up(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(256 * 1024):
                allowed = self._allowance(len(data))
                if allowed is not None:
                    sink.sendall(data[:allowed])
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def _pump_down(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(256 * 1024):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_RDWR)


def make_file(path: Path, size: int) -> str:
    """``size`` random bytes in a file; returns their SHA-256."""
    hasher = hashlib.sha256()
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            block = os.urandom(min(4 * MiB, remaining))
            handle.write(block)
            hasher.update(block)
            remaining -= len(block)
    return hasher.hexdigest()


def uploader(base: str, auth: dict[str, str], path: Path, name: str, **options: Any) -> Any:
    client = tus_client.TusClient(f"{base}/api/v1/uploads/", headers=dict(auth))
    return client.uploader(
        str(path),
        chunk_size=options.pop("chunk_size", 4 * MiB),
        metadata={"filename": name, **options.pop("metadata", {})},
        retries=options.pop("retries", 10),
        retry_delay=options.pop("retry_delay", 1),
        **options,
    )


@pytest.fixture(params=["local", "s3"])
def tus_server(
    request: pytest.FixtureRequest,
) -> tuple[LiveServer, Callable[[str], bytes], Bucket | None]:
    """gunicorn on local disk or on S3 (moto), with a reader of a stored blob's bytes and
    the bucket (None on local disk)."""
    if request.param == "s3":
        bucket = request.getfixturevalue("s3_storage")
        server = request.getfixturevalue("start_server")(**bucket.env())
        return server, bucket.read, bucket
    server = request.getfixturevalue("gunicorn_server")
    return server, lambda key: (server.blobs_dir / key).read_bytes(), None


def s3_parts(bucket: Bucket) -> list[int]:
    """The numbers of the parts stored for the multipart uploads under way in the bucket."""
    found = []
    for upload in bucket.client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []):
        parts = bucket.client.list_parts(
            Bucket=bucket.name, Key=upload["Key"], UploadId=upload["UploadId"]
        )
        found += [part["PartNumber"] for part in parts.get("Parts", [])]
    return found


def test_tuspy_resumes_a_64_mb_upload_through_three_cut_connections(
    tus_server: tuple[LiveServer, Callable[[str], bytes], Bucket | None],
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
    tmp_path: Path,
) -> None:
    server, read_blob, _bucket = tus_server
    size = 64 * MiB
    source = tmp_path / "video.bin"
    sha = make_file(source, size)
    proxy = CuttingProxy((HOST, server.port), cuts=[10 * MiB, 30 * MiB, 50 * MiB])
    try:
        upload = uploader(
            proxy.url, bearer(alice), source, "video.bin", metadata={"path": "/Videos"}
        )
        upload.upload()
    finally:
        proxy.close()
    assert proxy.cut_count == 3
    node = Node.objects.get(owner=alice, name="video.bin")
    assert node.size == size
    assert node.blob.sha256 == sha
    assert hashlib.sha256(read_blob(node.blob.storage_key)).hexdigest() == sha
    assert TusUpload.objects.count() == 0
    assert files_under(server.tmp_dir) == []


def test_tuspy_with_checksums(
    gunicorn_server: LiveServer, alice: Any, bearer: Callable[[Any], dict[str, str]], tmp_path: Path
) -> None:
    source = tmp_path / "a.bin"
    sha = make_file(source, 3 * MiB + 17)
    uploader(
        gunicorn_server.url, bearer(alice), source, "a.bin", chunk_size=MiB, upload_checksum=True
    ).upload()
    assert Node.objects.get(owner=alice, name="a.bin").blob.sha256 == sha


def test_sigkill_of_the_worker_mid_patch_then_resume(
    tus_server: tuple[LiveServer, Callable[[str], bytes], Bucket | None],
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
    tmp_path: Path,
) -> None:
    server, read_blob, bucket = tus_server
    auth = bearer(alice)
    size = 24 * MiB
    source = tmp_path / "big.bin"
    sha = make_file(source, size)
    first = uploader(server.url, auth, source, "big.bin", chunk_size=8 * MiB)
    first.upload(stop_at=8 * MiB)  # one chunk acknowledged
    url = first.url
    path = url.split(str(server.port), 1)[1]
    # The next chunk, 12 MiB announced: headers and 9 MiB of the body, then the worker dies,
    # having stored bytes it never acknowledged (on disk: appended to the part file; on S3:
    # the second 8 MiB part, uploaded before the body ended).
    worker = server.worker_pid()
    sock = server.raw_socket()
    headers = (
        f"PATCH {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {auth['Authorization']}\r\n"
        "Tus-Resumable: 1.0.0\r\nUpload-Offset: 8388608\r\n"
        "Content-Type: application/offset+octet-stream\r\n"
        f"Content-Length: {12 * MiB}\r\n\r\n"
    )
    sock.sendall(headers.encode())
    with open(source, "rb") as handle:
        handle.seek(8 * MiB)
        sock.sendall(handle.read(9 * MiB))
    if bucket is None:
        part = next((server.tmp_dir / "tus").iterdir())
        wait_for(lambda: part.stat().st_size > 8 * MiB, timeout=30, what="the worker writing")
    else:
        wait_for(lambda: len(s3_parts(bucket)) == 2, timeout=30, what="a second part in S3")
    os.kill(worker, 9)
    sock.close()
    wait_for(
        lambda: (pids := server.worker_pids()) and worker not in pids,
        timeout=30,
        what="gunicorn to start a new worker",
    )
    # Nothing of the unacknowledged chunk counts; tuspy resumes from the offset it is told.
    offset = server.request("HEAD", path, headers={**auth, **TUS}).headers["Upload-Offset"]
    assert offset == str(8 * MiB)
    again = uploader(server.url, auth, source, "big.bin", chunk_size=8 * MiB, url=url)
    assert again.offset == 8 * MiB
    again.upload()
    node = Node.objects.get(owner=alice, name="big.bin")
    assert node.blob.sha256 == sha
    assert hashlib.sha256(read_blob(node.blob.storage_key)).hexdigest() == sha
    assert TusUpload.objects.count() == 0
    if bucket is not None:
        # The part sent twice was stored once: one object, no multipart upload left over.
        assert bucket.object_keys() == [node.blob.storage_key]
        assert bucket.client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []) == []


def test_quota_race_of_two_uploads_lets_exactly_one_start(
    gunicorn_server: LiveServer, alice: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    alice.quota_bytes = 100 * MiB
    alice.save()
    auth = bearer(alice)
    for round_ in range(4):
        start = threading.Barrier(2)
        statuses: list[int] = []

        def create(
            name: str, start: threading.Barrier = start, statuses: list[int] = statuses
        ) -> None:
            encoded = base64.b64encode(name.encode()).decode()
            start.wait()
            reply = gunicorn_server.request(
                "POST",
                "/api/v1/uploads/",
                headers={
                    **auth,
                    **TUS,
                    "Upload-Length": str(60 * MiB),
                    "Upload-Metadata": f"filename {encoded}",
                },
            )
            statuses.append(reply.status)

        threads = [threading.Thread(target=create, args=(f"{round_}-{n}.bin",)) for n in (1, 2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 413]
        TusUpload.objects.all().delete()


@pytest.fixture
def two_servers(
    django_db_setup: None,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    settings: Any,
) -> Iterator[tuple[LiveServer, LiveServer, Path | None]]:
    """Two gunicorn app servers on one database: on S3 (one bucket), or on local disk
    sharing one data dir."""
    env: dict[str, str] = {}
    if request.param == "s3":
        env = request.getfixturevalue("s3_storage").env()
        first = start_gunicorn(tmp_path_factory.mktemp("app-a"), **env)
        second = start_gunicorn(tmp_path_factory.mktemp("app-b"), **env)
        blobs = None
    else:
        shared = tmp_path_factory.mktemp("shared-data")
        first = start_gunicorn(shared)
        second = start_gunicorn(shared)
        blobs = shared / "blobs"
    try:
        yield first, second, blobs
    finally:
        stop(first.process)
        stop(second.process)


@pytest.mark.parametrize("two_servers", ["local", "s3"], indirect=True)
def test_an_upload_started_on_one_server_finishes_on_the_other(
    two_servers: tuple[LiveServer, LiveServer, Path | None],
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
    tmp_path: Path,
) -> None:
    first, second, blobs = two_servers
    auth = bearer(alice)
    size = 21 * MiB + 5
    source = tmp_path / "moved.bin"
    sha = make_file(source, size)
    start = uploader(first.url, auth, source, "moved.bin", chunk_size=6 * MiB)
    start.upload(stop_at=12 * MiB)
    path = start.url.split(str(first.port), 1)[1]
    rest = uploader(
        second.url, auth, source, "moved.bin", chunk_size=6 * MiB, url=second.url + path
    )
    assert rest.offset == 12 * MiB
    rest.upload()
    node = Node.objects.get(owner=alice, name="moved.bin")
    assert node.blob.sha256 == sha
    assert Blob.objects.get(sha256=sha).size == size
    if blobs is not None:
        assert file_sha256(blobs / node.blob.storage_key) == sha
    assert TusUpload.objects.count() == 0


@contextlib.contextmanager
def final_store_blocked(backend: str, alice: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """An app server whose next final store of a tus upload blocks at a real resource
    outside it, until released: on S3 its own moto server is stopped (SIGSTOP) so the
    store's requests hang; on local disk (PostgreSQL) this test holds alice's tree lock,
    which the store takes in its transaction. Yields the server, the bucket (None on local
    disk), ``block()``, ``release()`` and ``blocked()`` (the worker waits inside the store)."""
    from django.db import connection

    from files.tree import _LOCK_NAMESPACE
    from tests.integration.helpers import s3_client, start_moto

    if backend == "s3":
        moto, endpoint = start_moto(tmp_path / "moto.log")
        bucket = Bucket(name="crash", endpoint=endpoint, client=s3_client(endpoint))
        bucket.client.create_bucket(Bucket=bucket.name)
        server = start_gunicorn(tmp_path / "app", **bucket.env())

        def block() -> None:
            os.kill(moto.pid, signal.SIGSTOP)

        def release() -> None:
            os.kill(moto.pid, signal.SIGCONT)

        def blocked() -> bool:
            return True  # the worker's first request to S3 cannot be answered

        try:
            yield {
                "server": server,
                "bucket": bucket,
                "block": block,
                "release": release,
                "blocked": blocked,
            }
        finally:
            release()
            stop(server.process)
            stop(moto)
        return
    if connection.vendor != "postgresql":
        pytest.skip(
            "on SQLite the tree lock is the database's one write lock, which also holds the "
            "offset's commit before the store: nothing outside can stop the worker between "
            "them (the S3 case runs on SQLite)"
        )
    server = start_gunicorn(tmp_path / "app")
    arguments = [_LOCK_NAMESPACE, alice.pk]

    def hold() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", arguments)

    def free() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", arguments)

    def waiting() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND classid = %s AND objid = %s",
                arguments,
            )
            return bool(cursor.fetchone()[0])

    held = False

    def block() -> None:
        nonlocal held
        hold()
        held = True

    def release() -> None:
        nonlocal held
        if held:
            free()
            held = False

    try:
        yield {
            "server": server,
            "bucket": None,
            "block": block,
            "release": release,
            "blocked": waiting,
        }
    finally:
        release()
        stop(server.process)


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_sigkill_during_the_final_store_then_tuspy_resumes_and_the_file_appears_once(
    backend: str, alice: Any, bearer: Callable[[Any], dict[str, str]], tmp_path: Path
) -> None:
    """Every byte arrived and was acknowledged as stored (offset = length), then the worker
    storing the file is killed. tuspy, resuming, asks HEAD: that request stores the file and
    tuspy ends there; the file exists once, nothing is left over."""
    if backend == "s3" and not (BIN / "moto_server").exists():
        pytest.fail("moto_server is not installed (pip install -r requirements-dev.txt)")
    with final_store_blocked(backend, alice, tmp_path) as setup:
        server, bucket = setup["server"], setup["bucket"]
        auth = bearer(alice)
        size = 9 * MiB + 5
        source = tmp_path / "film.bin"
        sha = make_file(source, size)
        first = uploader(server.url, auth, source, "film.bin", chunk_size=8 * MiB)
        first.upload(stop_at=8 * MiB)  # one chunk acknowledged (on S3: one part)
        url = first.url
        path = url.split(str(server.port), 1)[1]
        worker = server.worker_pid()
        setup["block"]()
        sock = server.raw_socket()
        rest = size - 8 * MiB
        sock.sendall(
            (
                f"PATCH {path} HTTP/1.1\r\nHost: {HOST}\r\n"
                f"Authorization: {auth['Authorization']}\r\nTus-Resumable: 1.0.0\r\n"
                f"Upload-Offset: {8 * MiB}\r\nContent-Type: application/offset+octet-stream\r\n"
                f"Content-Length: {rest}\r\n\r\n"
            ).encode()
        )
        with open(source, "rb") as handle:
            handle.seek(8 * MiB)
            sock.sendall(handle.read())
        upload_id = path.rstrip("/").rsplit("/", 1)[1]
        wait_for(
            lambda: TusUpload.objects.get(pk=upload_id).offset == size,
            timeout=30,
            what="the last chunk's offset committed",
        )
        wait_for(setup["blocked"], timeout=30, what="the worker inside the final store")
        os.kill(worker, signal.SIGKILL)
        sock.close()
        wait_for(
            lambda: (pids := server.worker_pids()) and worker not in pids,
            timeout=30,
            what="gunicorn to start a new worker",
        )
        setup["release"]()
        assert not Node.objects.filter(name="film.bin").exists()
        assert TusUpload.objects.filter(pk=upload_id).exists()

        again = uploader(server.url, auth, source, "film.bin", chunk_size=8 * MiB, url=url)
        assert again.offset == size
        again.upload()
        nodes = Node.objects.filter(owner=alice, name="film.bin")
        assert nodes.count() == 1
        node = nodes.get()
        assert node.blob.sha256 == sha
        assert TusUpload.objects.count() == 0
        if bucket is None:
            assert file_sha256(server.blobs_dir / node.blob.storage_key) == sha
            assert files_under(server.tmp_dir) == []
        else:
            assert hashlib.sha256(bucket.read(node.blob.storage_key)).hexdigest() == sha
            assert bucket.object_keys() == [node.blob.storage_key]
            assert bucket.client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []) == []
        alice.refresh_from_db()
        assert (alice.used_bytes, alice.reserved_bytes) == (size, 0)
