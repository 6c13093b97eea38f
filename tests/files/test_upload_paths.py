"""Every upload transport through the one receiving adapter and the one batch service:
the same rules everywhere (the per-file limit per file, empty files, short bodies, 411)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.test import Client, RequestFactory

from accounts.services import token_create
from files import services, tree
from files.api.views import FileContentView, NodeUploadManyView
from files.models import Node
from sharing import services as share_services

pytestmark = pytest.mark.django_db

KB = 1000

# A transport: (the files to send as (name, bytes)) -> (status code, message text).
Send = Callable[[list[tuple[str, bytes]]], tuple[int, str]]


def named(name: str, content: bytes) -> io.BytesIO:
    part = io.BytesIO(content)
    part.name = name
    return part


@pytest.fixture
def web(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bearer(alice: Any) -> str:
    _, raw = token_create(user=alice, name="test")
    return f"Bearer {raw}"


@pytest.fixture
def drop(alice: Any) -> tuple[Client, str, str]:
    """A visitor on an upload-only link to alice's /Drop: (browser, url, CSRF token)."""
    folder = services.folder_ensure_path(owner=alice, path="/Drop")
    _, token = share_services.share_create(owner=alice, node=folder, permission="upload")
    visitor = Client()
    url = f"/s/{token}/"
    visitor.get(url)
    return visitor, url, visitor.cookies["csrftoken"].value


def _answer(response: Any) -> tuple[int, str]:
    if response.get("Content-Type", "").startswith("application/json"):
        return response.status_code, str(response.json())
    return response.status_code, response.content.decode(errors="replace")


def _one_at_a_time(send_one: Callable[[str, bytes], tuple[int, str]]) -> Send:
    """A transport that takes one file a request: the batch goes as one request each."""

    def send(files: list[tuple[str, bytes]]) -> tuple[int, str]:
        answers = [send_one(name, content) for name, content in files]
        return next((a for a in answers if a[0] >= 300), answers[-1])

    return send


@pytest.fixture
def transports(web: Client, alice: Any, drop: tuple[Client, str, str]) -> dict[str, Send]:
    visitor, url, csrf = drop
    home = tree.home_of(alice)

    def api_single(name: str, content: bytes) -> tuple[int, str]:
        return _answer(web.post("/api/v1/nodes/upload/", {"file": named(name, content)}))

    def api_many(files: list[tuple[str, bytes]]) -> tuple[int, str]:
        data = {"file": [named(n, c) for n, c in files]}
        return _answer(web.post("/api/v1/nodes/upload-many/", data))

    def raw_put(name: str, content: bytes) -> tuple[int, str]:
        return _answer(
            web.put(
                f"/api/v1/files/content/?path=/{name}",
                content,
                content_type="application/octet-stream",
                CONTENT_LENGTH=str(len(content)),  # the test client leaves it out when 0
            )
        )

    def no_script(files: list[tuple[str, bytes]]) -> tuple[int, str]:
        data = {"file": [named(n, c) for n, c in files], "on_conflict": "rename"}
        return _answer(web.post(f"/files/folders/{home.pk}/upload/", data))

    def drop_put(name: str, content: bytes) -> tuple[int, str]:
        return _answer(
            visitor.put(
                f"{url}upload/?name={name}",
                content,
                content_type="application/octet-stream",
                headers={"X-CSRFToken": csrf},
                CONTENT_LENGTH=str(len(content)),
            )
        )

    def drop_form(files: list[tuple[str, bytes]]) -> tuple[int, str]:
        data = {"file": [named(n, c) for n, c in files]}
        return _answer(visitor.post(f"{url}upload/", data))

    return {
        "api upload": _one_at_a_time(api_single),
        "api upload-many": api_many,
        "raw PUT": _one_at_a_time(raw_put),
        "no-script form": no_script,
        "drop page PUT": _one_at_a_time(drop_put),
        "drop page form": drop_form,
    }


TRANSPORTS = [
    "api upload",
    "api upload-many",
    "raw PUT",
    "no-script form",
    "drop page PUT",
    "drop page form",
]


def _stored(alice: Any, *names: str) -> dict[str, int]:
    nodes = Node.objects.filter(owner=alice, name__in=names, trashed_at__isnull=True)
    return {node.name: node.size for node in nodes}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_size_limit_is_per_file_on_every_transport(
    transports: dict[str, Send], alice: Any, settings: Any, transport: str
) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 100 * KB
    send = transports[transport]
    three = [(f"part{n}.bin", os.urandom(60 * KB)) for n in range(3)]  # 180 KB in all
    status, _ = send(three)
    assert status < 400, transport
    assert _stored(alice, *(name for name, _ in three)) == {name: 60 * KB for name, _ in three}

    status, message = send([("small.txt", b"fine"), ("huge.bin", os.urandom(150 * KB))])
    assert status == 413, transport
    assert "“huge.bin”" in message and "per file" in message
    assert not _stored(alice, "huge.bin")
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_empty_files_are_files_on_every_transport(
    transports: dict[str, Send], alice: Any, transport: str
) -> None:
    status, message = transports[transport]([("__init__.py", b""), ("notes.txt", b"words")])
    assert status < 400, (transport, message)
    assert _stored(alice, "__init__.py", "notes.txt") == {"__init__.py": 0, "notes.txt": 5}
    empty = Node.objects.get(owner=alice, name="__init__.py")
    assert empty.blob is not None and empty.blob.size == 0
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_upload_many_keeps_a_batch_with_an_empty_file(alice_api: Any, alice: Any) -> None:
    files = [named(".gitkeep", b""), *(named(f"{n}.txt", b"x") for n in range(3))]
    response = alice_api.post("/api/v1/nodes/upload-many/", {"file": files}, format="multipart")
    assert response.status_code == 201, response.content
    assert [item["size"] for item in response.json()["results"]] == [0, 1, 1, 1]


# --- bodies that end early or have no length -----------------------------------------------


def _short_request(
    method: str, path: str, body: bytes, *, declared: int, bearer: str, content_type: str
) -> WSGIRequest:
    """A request whose client promised ``declared`` bytes and sent only ``body``."""
    environ = RequestFactory().generic(method, path, b"", content_type=content_type).environ
    environ.update(
        {
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(declared),
            "CONTENT_TYPE": content_type,
            "HTTP_AUTHORIZATION": bearer,
        }
    )
    return WSGIRequest(environ)


def test_a_raw_put_cut_short_stores_nothing(alice: Any, bearer: str, settings: Any) -> None:
    request = _short_request(
        "PUT",
        "/api/v1/files/content/?path=/cut.bin",
        b"x" * 3000,
        declared=10_000,
        bearer=bearer,
        content_type="application/octet-stream",
    )
    response = FileContentView.as_view()(request)
    assert response.status_code == 400
    assert "3000 of 10000 bytes" in response.data["detail"]
    assert not Node.objects.filter(name="cut.bin").exists()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_a_multipart_batch_cut_short_stores_nothing(alice: Any, bearer: str, settings: Any) -> None:
    """Django's parser drops a file whose closing boundary never came; without counting
    the body, the batch would be stored one file short."""
    boundary = "b0undary"
    parts = b"".join(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + b"y" * 50_000
        + b"\r\n"
        for name in ("first.bin", "second.bin")
    )
    body = parts + f"--{boundary}--\r\n".encode()
    request = _short_request(
        "POST",
        "/api/v1/nodes/upload-many/",
        body[:80_000],  # the second file is half there
        declared=len(body),
        bearer=bearer,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    response = NodeUploadManyView.as_view()(request)
    assert response.status_code == 400
    assert "cut off" in response.data["detail"]
    assert not Node.objects.filter(name__in=["first.bin", "second.bin"]).exists()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_a_put_without_a_length_is_411_never_an_empty_file(alice: Any, bearer: str) -> None:
    environ = (
        RequestFactory()
        .generic("PUT", "/api/v1/files/content/?path=/chunked.bin", b"", HTTP_AUTHORIZATION=bearer)
        .environ
    )
    environ.pop("CONTENT_LENGTH", None)
    environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    response = FileContentView.as_view()(WSGIRequest(environ))
    assert response.status_code == 411
    assert not Node.objects.filter(name="chunked.bin").exists()


def test_a_stream_without_a_length_is_read_to_its_end() -> None:
    """For sources whose own framing ends the body (a decoded chunked body: WebDAV, tus)."""
    from files.ingest import receive_stream

    content = os.urandom(3 * 1024 * 1024 + 7)
    received = receive_stream(io.BytesIO(content).read, length=None, name="any.bin")
    try:
        assert received.size == len(content)
        with open(received.path, "rb") as handle:
            assert handle.read() == content
    finally:
        received.discard()


def test_a_put_finds_the_callers_own_live_folder_by_its_path(
    alice: Any, mallory: Any, web: Client
) -> None:
    odd = 'it\'s "odd"; DROP TABLE x; --'
    mine = services.folder_ensure_path(owner=alice, path=f"/Docs/{odd}")
    theirs = services.folder_ensure_path(owner=mallory, path=f"/Docs/{odd}")

    def put(path: str) -> Any:
        return web.put(
            f"/api/v1/files/content/?path={path}", b"x", content_type="application/octet-stream"
        )

    assert put(f"/Docs/{odd}/a.txt").status_code == 201
    assert Node.objects.get(name="a.txt").parent == mine
    assert not Node.objects.filter(parent=theirs).exists()
    assert put(f"/Docs/{odd}/a.txt").status_code == 409  # the name is taken there

    services.node_trash(node=Node.objects.get(owner=alice, name="Docs"))
    assert put(f"/Docs/{odd}/a.txt").status_code == 201  # into a new, live /Docs
    fresh = Node.objects.get(owner=alice, name="a.txt", trashed_at__isnull=True)
    assert fresh.parent != mine and fresh.parent.trashed_at is None

    refused = put("/Docs/" + odd + "/a.txt/b.txt")
    assert refused.status_code == 400
    assert "is a file" in refused.json()["detail"]


@pytest.mark.parametrize("depth", [1, 8, 9, 12, 30])
def test_a_put_reaches_folders_at_any_depth(alice: Any, web: Client, depth: int) -> None:
    """Up to 8 levels the folder is found in one query; deeper, one level at a time."""
    path = "/" + "/".join(f"level {n}" for n in range(depth))
    folder = services.folder_ensure_path(owner=alice, path=path)
    for expected in (201, 409):
        response = web.put(
            f"/api/v1/files/content/?path={path}/deep.txt",
            b"x",
            content_type="application/octet-stream",
        )
        assert response.status_code == expected
    assert Node.objects.get(name="deep.txt").parent == folder
