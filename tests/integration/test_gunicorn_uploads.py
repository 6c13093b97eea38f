"""Uploads and downloads through gunicorn over real sockets.

300 MB bodies (a raw PUT and a multipart form) are streamed from generators, so neither
side ever holds them; the gunicorn worker's resident memory is read from /proc before and
after to show that it stays flat. Clients that vanish mid-upload and chunked bodies without
a length must leave nothing behind.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from files.models import Blob, Node
from tests.integration.helpers import (
    LiveServer,
    Memory,
    MiB,
    Multipart,
    file_sha256,
    files_under,
    memory_of,
    pattern,
    pattern_bytes,
    reset_peak,
    wait_for,
)

pytestmark = pytest.mark.django_db(transaction=True)

BIG = 300 * MiB
# The worker streams 1 MiB chunks; anything near the body's size would mean buffering.
MAX_GROWTH = 60 * MiB


def warm_up(server: LiveServer, auth: dict[str, str]) -> None:
    """The first requests import and allocate what later ones reuse: not upload growth."""
    small = b"warm up " * 4096
    reply = server.request(
        "PUT", "/api/v1/files/content/?path=/warm/put.bin", headers=auth, body=small
    )
    assert reply.status == 201, reply.body
    form = Multipart("warm.bin", len(small))
    reply = server.request(
        "POST",
        "/api/v1/nodes/upload/",
        headers={**auth, "Content-Type": form.content_type},
        body=form.body([small]),
        length=form.length,
    )
    assert reply.status == 201, reply.body
    node_id = reply.json()["id"]
    reply = server.request(
        "GET", f"/api/v1/nodes/{node_id}/content/", headers={**auth, "Range": "bytes=1-9"}
    )
    assert reply.status == 206
    assert reply.body == small[1:10]


def report(label: str, before: Memory, after: Memory) -> int:
    growth = after.hwm - before.hwm
    print(
        f"\n[{label}] gunicorn worker before: {before}; after: {after}; "
        f"peak growth {growth / MiB:.1f} MiB (limit {MAX_GROWTH / MiB:.0f} MiB)"
    )
    return growth


def assert_stored(server: LiveServer, sha256: str, size: int) -> None:
    """The blob row exists and its bytes on disk hash to ``sha256``; no temp file is left."""
    blob = Blob.objects.get(sha256=sha256)
    assert blob.size == size
    stored = server.blobs_dir / blob.storage_key
    assert stored.stat().st_size == size
    assert file_sha256(stored) == sha256
    assert files_under(server.tmp_dir) == []


def test_300_mb_raw_put_streams_with_flat_memory_and_a_middle_range_comes_back(
    gunicorn_server: LiveServer, alice: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    server = gunicorn_server
    auth = bearer(alice)
    warm_up(server, auth)
    worker = server.worker_pid()
    reset_peak(worker)
    before = memory_of(worker)

    sent = hashlib.sha256()
    reply = server.request(
        "PUT",
        "/api/v1/files/content/?path=/big/put.bin",
        headers={**auth, "Content-Type": "application/octet-stream"},
        body=pattern(1, BIG, hasher=sent),
        length=BIG,
    )

    assert reply.status == 201, reply.body
    after_upload = memory_of(worker)
    node = reply.json()
    assert node["size"] == BIG
    assert node["sha256"] == sent.hexdigest()
    assert node["path"] == "/big/put.bin"
    assert_stored(server, sent.hexdigest(), BIG)
    assert report("300 MB raw PUT", before, after_upload) < MAX_GROWTH

    # A range from the middle, not aligned to anything the writer used.
    first = BIG // 2 - 12_345
    last = first + 8 * MiB + 76
    reply = server.request(
        "GET",
        f"/api/v1/nodes/{node['id']}/content/",
        headers={**auth, "Range": f"bytes={first}-{last}"},
    )
    assert reply.status == 206
    assert reply.headers["Content-Range"] == f"bytes {first}-{last}/{BIG}"
    assert int(reply.headers["Content-Length"]) == last - first + 1
    assert reply.body == pattern_bytes(1, first, last + 1)
    after_range = memory_of(worker)
    assert report("300 MB raw PUT, then an 8 MiB range of it", before, after_range) < MAX_GROWTH


def test_a_worker_gives_back_the_memory_a_big_upload_used(
    gunicorn_server: LiveServer, alice: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    """The pieces of a big body leave holes in the heap that would stay resident (and that
    the next big upload does not reuse): after such a request the worker trims its heap
    (fileflow/gunicorn.conf.py, post_request)."""
    server = gunicorn_server
    auth = bearer(alice)
    warm_up(server, auth)
    # Binary content: MIME detection loads libmagic's database (~6 MiB, kept) now, not below.
    reply = server.request(
        "PUT",
        "/api/v1/files/content/?path=/warm/noise.bin",
        headers=auth,
        body=pattern_bytes(5, 0, 64 * 1024),
    )
    assert reply.status == 201, reply.body
    worker = server.worker_pid()
    before = memory_of(worker)
    size = 64 * MiB

    reply = server.request(
        "PUT",
        "/api/v1/files/content/?path=/big/trimmed.bin",
        headers={**auth, "Content-Type": "application/octet-stream"},
        body=pattern(4, size),
        length=size,
    )

    assert reply.status == 201, reply.body
    # The hook runs once the answer is sent: give it a moment.
    deadline = time.monotonic() + 5
    while (after := memory_of(worker)).rss - before.rss >= 3 * MiB and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"\n[64 MiB raw PUT] worker before: {before}; after: {after}")
    assert after.hwm - before.rss >= 3 * MiB  # it did use memory for the body on the way
    assert after.rss - before.rss < 3 * MiB


def test_300_mb_multipart_upload_streams_with_flat_memory(
    gunicorn_server: LiveServer, alice: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    server = gunicorn_server
    auth = bearer(alice)
    warm_up(server, auth)
    worker = server.worker_pid()
    reset_peak(worker)
    before = memory_of(worker)

    sent = hashlib.sha256()
    form = Multipart("big form.bin", BIG)
    reply = server.request(
        "POST",
        "/api/v1/nodes/upload/",
        headers={**auth, "Content-Type": form.content_type},
        body=form.body(pattern(2, BIG, hasher=sent)),
        length=form.length,
    )

    assert reply.status == 201, reply.body
    after = memory_of(worker)
    node = reply.json()
    assert node["name"] == "big form.bin"
    assert node["size"] == BIG
    assert node["sha256"] == sent.hexdigest()
    assert_stored(server, sent.hexdigest(), BIG)
    assert report("300 MB multipart POST", before, after) < MAX_GROWTH


def request_head(server: LiveServer, method: str, path: str, headers: dict[str, str]) -> bytes:
    """The request line and headers of an HTTP/1.1 request, as a client sends them."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {server.host}:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.mark.parametrize("transport", ["put", "multipart"])
def test_client_that_disconnects_mid_upload_leaves_nothing(
    gunicorn_server: LiveServer,
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
    transport: str,
) -> None:
    server = gunicorn_server
    auth = bearer(alice)
    declared, sent = 50 * MiB, 5 * MiB
    if transport == "put":
        path = "/api/v1/files/content/?path=/cut/put.bin"
        method = "PUT"
        head = request_head(
            server,
            method,
            path,
            {**auth, "Content-Type": "application/octet-stream", "Content-Length": str(declared)},
        )
        body = pattern(3, declared)
    else:
        path = "/api/v1/nodes/upload/"
        method = "POST"
        form = Multipart("cut.bin", declared)
        head = request_head(
            server,
            method,
            path,
            {**auth, "Content-Type": form.content_type, "Content-Length": str(form.length)},
        )
        body = form.body(pattern(3, declared))

    with server.raw_socket() as sock:
        sock.sendall(head)
        total = 0
        for chunk in body:
            piece = chunk[: sent - total]
            sock.sendall(piece)
            total += len(piece)
            if total >= sent:
                break
        # The server really is receiving into a temp file before the client goes away.
        wait_for(lambda: files_under(server.tmp_dir), timeout=10, what="the upload's temp file")

    wait_for(
        lambda: f'"{method} {path} HTTP/1.1"' in server.log(),
        timeout=20,
        what="gunicorn to finish the cut-off request",
    )
    wait_for(
        lambda: files_under(server.tmp_dir) == [],
        timeout=5,
        what="the temp upload dir to be empty",
    )
    assert not Node.objects.filter(is_folder=False).exists()
    assert not Node.objects.filter(name__in=["cut", "put.bin", "cut.bin"]).exists()
    assert Blob.objects.count() == 0
    assert files_under(server.blobs_dir) == []


@pytest.mark.parametrize("transport", ["put", "multipart"])
def test_chunked_upload_without_length_is_refused_with_411(
    gunicorn_server: LiveServer,
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
    transport: str,
) -> None:
    server = gunicorn_server
    auth = bearer(alice)
    chunked = {"Transfer-Encoding": "chunked", "Connection": "close"}
    if transport == "put":
        head = request_head(
            server,
            "PUT",
            "/api/v1/files/content/?path=/chunked.bin",
            {**auth, "Content-Type": "application/octet-stream", **chunked},
        )
        chunks = [b"hello ", b"world"]
    else:
        form = Multipart("chunked.bin", 11)
        head = request_head(
            server,
            "POST",
            "/api/v1/nodes/upload/",
            {**auth, "Content-Type": form.content_type, **chunked},
        )
        chunks = list(form.body([b"hello world"]))
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"

    with server.raw_socket() as sock:
        sock.sendall(head + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = response.read()

    # Whatever the status, nothing may be stored: above all not an empty file.
    assert 400 <= response.status < 500
    assert not Node.objects.filter(is_folder=False).exists()
    assert Blob.objects.count() == 0
    assert files_under(server.blobs_dir) == []
    assert files_under(server.tmp_dir) == []
    assert response.status == 411, answer
    assert response.headers["Content-Type"] == "application/json"
    payload = json.loads(answer)
    assert payload["code"] == "length_required"
    assert "Content-Length" in payload["detail"]
