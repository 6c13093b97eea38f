"""The one delivery path: validators, 304s, ranges, dispositions and the headers that keep
user content from acting on our origin. Real uploads, real storage in a temp dir."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_finished
from django.db import close_old_connections
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.test import RequestFactory
from django.utils.http import http_date

from files.delivery import (
    CORK_FROM,
    BlobMissing,
    FileWindow,
    parse_range,
    serve_blob,
    serve_node,
)

pytestmark = pytest.mark.django_db

CONTENT = b"0123456789abcdefghij"  # 20 bytes, every offset recognisable
rf = RequestFactory()


@pytest.fixture(autouse=True)
def _responses_close_like_in_the_test_client() -> Iterator[None]:
    """Closing a response fires request_finished, whose close_old_connections would drop
    the test's database connection (it is inside a transaction); Django's test client
    disconnects it the same way while it handles a request."""
    request_finished.disconnect(close_old_connections)
    yield
    request_finished.connect(close_old_connections)


def fetch(node: Any, method: str = "get", as_attachment: bool | None = None, **headers: str):
    """Serve ``node`` to a request with ``headers``; returns (response, body)."""
    request = getattr(rf, method)("/download", headers=headers)
    response = serve_node(request, node, as_attachment=as_attachment)
    try:
        body = b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        response.close()
    return response, body


@pytest.fixture
def digits(upload: Any) -> Any:
    node = upload("digits.bin", CONTENT)
    assert node.mime_type.startswith("text/")  # sniffed as text, whatever the name says
    return node


def directives(response: Any) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        parsed[name] = value
    return parsed


# --- validators and conditional requests ------------------------------------------------


def test_full_download_carries_validators_and_private_caching(digits: Any) -> None:
    response, body = fetch(digits)
    assert response.status_code == 200
    assert body == CONTENT
    assert response["ETag"] == f'"{digits.blob.sha256}"'
    assert response["Last-Modified"] == http_date(digits.updated_at.timestamp())
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "if_none_match",
    ["{etag}", "W/{etag}", '"something-else", {etag}', "*"],
)
def test_if_none_match_answers_304(digits: Any, if_none_match: str) -> None:
    etag = f'"{digits.blob.sha256}"'
    response, body = fetch(digits, If_None_Match=if_none_match.format(etag=etag))
    assert response.status_code == 304
    assert body == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "private, no-cache"


def test_if_modified_since_answers_304_and_a_later_change_answers_200(digits: Any) -> None:
    now = http_date(digits.updated_at.timestamp())
    response, _ = fetch(digits, If_Modified_Since=now)
    assert response.status_code == 304

    earlier = http_date((digits.updated_at - timedelta(minutes=5)).timestamp())
    response, body = fetch(digits, If_Modified_Since=earlier)
    assert response.status_code == 200
    assert body == CONTENT


def test_if_none_match_wins_over_if_modified_since(digits: Any) -> None:
    future = http_date((digits.updated_at + timedelta(days=1)).timestamp())
    # A stale tag with a date that alone would mean "not modified": the tag decides.
    response, body = fetch(digits, If_None_Match='"stale"', If_Modified_Since=future)
    assert response.status_code == 200
    assert body == CONTENT
    # And a matching tag with a date that alone would mean "modified": still 304.
    past = http_date((digits.updated_at - timedelta(days=1)).timestamp())
    etag = f'"{digits.blob.sha256}"'
    response, _ = fetch(digits, If_None_Match=etag, If_Modified_Since=past)
    assert response.status_code == 304


def test_head_describes_the_whole_file_without_a_body(digits: Any) -> None:
    response, body = fetch(digits, method="head", Range="bytes=0-3")
    assert response.status_code == 200
    assert body == b""
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["ETag"] == f'"{digits.blob.sha256}"'
    assert response["Accept-Ranges"] == "bytes"


# --- ranges -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-3", 0, 3),  # the first bytes
        ("bytes=5-9", 5, 9),  # the middle
        ("bytes=-4", 16, 19),  # a suffix
        ("bytes=15-", 15, 19),  # open-ended
        ("bytes=10-1000", 10, 19),  # past the end: cut to the end
        ("bytes=-1000", 0, 19),  # a suffix longer than the file: all of it
        ("BYTES = 2 - 4", 2, 4),  # unit case and spaces are tolerated
    ],
)
def test_single_range_answers_206(digits: Any, header: str, first: int, last: int) -> None:
    response, body = fetch(digits, Range=header)
    assert response.status_code == 206
    assert body == CONTENT[first : last + 1]
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(CONTENT)}"
    assert response["Content-Length"] == str(last - first + 1)
    assert response["ETag"] == f'"{digits.blob.sha256}"'


@pytest.mark.parametrize("header", ["bytes=20-", "bytes=100-200", "bytes=-0"])
def test_unsatisfiable_range_answers_416(digits: Any, header: str) -> None:
    response, body = fetch(digits, Range=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(CONTENT)}"
    assert body == b""


@pytest.mark.parametrize(
    "header",
    [
        "bytes=0-1,5-6",  # several ranges: ignored (RFC 9110 allows it)
        "bytes=abc",  # malformed
        "items=0-3",  # a unit we do not know
        "bytes=9-2",  # last before first: an invalid range-spec
        "bytes=-",
        "bytes=1-2-3",
    ],
)
def test_multiple_or_malformed_ranges_get_the_whole_file(digits: Any, header: str) -> None:
    response, body = fetch(digits, Range=header)
    assert response.status_code == 200
    assert body == CONTENT
    assert "Content-Range" not in response


def test_if_range_with_the_current_etag_or_date_keeps_the_range(digits: Any) -> None:
    etag = f'"{digits.blob.sha256}"'
    response, body = fetch(digits, Range="bytes=0-3", If_Range=etag)
    assert (response.status_code, body) == (206, CONTENT[:4])
    date = http_date(digits.updated_at.timestamp())
    response, body = fetch(digits, Range="bytes=0-3", If_Range=date)
    assert (response.status_code, body) == (206, CONTENT[:4])


@pytest.mark.parametrize("if_range", ['"changed"', "W/{etag}", "Mon, 01 Jan 2024 00:00:00 GMT"])
def test_if_range_that_no_longer_matches_gets_the_whole_file(digits: Any, if_range: str) -> None:
    etag = f'"{digits.blob.sha256}"'
    response, body = fetch(digits, Range="bytes=0-3", If_Range=if_range.format(etag=etag))
    assert response.status_code == 200
    assert body == CONTENT


def test_huge_numbers_in_a_range_do_not_break_parsing() -> None:
    assert parse_range("bytes=" + "9" * 5000 + "-", 20) == "unsatisfiable"
    assert parse_range("bytes=3-" + "9" * 5000, 20) == (3, 19)
    assert parse_range("bytes=0-0", 0) is None  # an empty file is always sent whole


def test_a_206_on_local_disk_hands_the_server_a_real_file_at_the_range_start(
    digits: Any,
) -> None:
    """gunicorn's sendfile sends Content-Length bytes from the descriptor's offset."""
    request = rf.get("/download", headers={"Range": "bytes=5-9"})
    response = serve_node(request, digits)
    try:
        window = response.file_to_stream
        assert isinstance(window, FileWindow)
        assert os.lseek(window.fileno(), 0, os.SEEK_CUR) == 5
        assert response["Content-Length"] == "5"
        # Served without sendfile, the body still stops at the end of the range.
        assert b"".join(response.streaming_content) == CONTENT[5:10]
    finally:
        response.close()


def test_an_empty_file_downloads(upload: Any) -> None:
    empty = upload("empty.txt", b"")
    response, body = fetch(empty, Range="bytes=0-")
    assert response.status_code == 200
    assert body == b""
    assert response["Content-Length"] == "0"


def test_a_large_file_streams_in_blocks_not_all_at_once(upload: Any) -> None:
    content = os.urandom(3 * 1024 * 1024 + 17)
    node = upload("big.bin", content)
    request = rf.get("/download", headers={"Range": "bytes=1000-"})
    response = serve_node(request, node)
    try:
        blocks = list(response.streaming_content)
    finally:
        response.close()
    assert b"".join(blocks) == content[1000:]
    assert len(blocks) > 1
    assert max(len(block) for block in blocks) <= 256 * 1024


@pytest.fixture
def tcp_connection() -> Iterator[socket.socket]:
    """The server's end of a real loopback TCP connection (what gunicorn hands the app)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
        with client, server:
            yield server


def corked(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CORK))


def test_a_big_download_corks_the_connection_until_the_response_is_closed(
    upload: Any, tcp_connection: socket.socket
) -> None:
    """Full TCP segments while the server sends the file; the last partial one leaves as
    soon as the response is closed (a corked socket would hold it back for 200 ms)."""
    content = os.urandom(CORK_FROM)
    node = upload("big.bin", content)
    request = rf.get("/download")
    request.META["gunicorn.socket"] = tcp_connection
    response = serve_node(request, node)
    assert corked(tcp_connection)
    try:
        assert b"".join(response.streaming_content) == content
    finally:
        response.close()
    assert not corked(tcp_connection)


def test_small_downloads_and_other_servers_leave_the_connection_alone(
    upload: Any, tcp_connection: socket.socket
) -> None:
    small = upload("small.bin", os.urandom(CORK_FROM - 1))
    request = rf.get("/download")
    request.META["gunicorn.socket"] = tcp_connection
    fetch_response = serve_node(request, small)
    assert not corked(tcp_connection)
    fetch_response.close()
    # No socket in the environ (runserver, the test client): the download still works.
    big = upload("big.bin", os.urandom(CORK_FROM))
    response, body = fetch(big)
    assert response.status_code == 200 and len(body) == CORK_FROM


# --- names and dispositions ---------------------------------------------------------------


def test_non_ascii_names_use_rfc_6266_filename_star(upload: Any) -> None:
    node = upload("Résumé 2026 — 東京.pdf", b"%PDF-1.4 not really")
    response, _ = fetch(node, as_attachment=True)
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''R%C3%A9sum%C3%A9%202026%20%E2%80%94%20%E6%9D%B1%E4%BA%AC.pdf"
    )


def test_quotes_and_backslashes_in_ascii_names_are_escaped(upload: Any) -> None:
    node = upload('say "hi" \\ bye.bin', b"\x00\x01")
    response, _ = fetch(node)
    assert response["Content-Disposition"] == 'attachment; filename="say \\"hi\\" \\\\ bye.bin"'


def test_a_hostile_html_name_is_an_attachment_with_a_quoted_name(upload: Any) -> None:
    node = upload("<img src=x onerror=alert(1)>.html", b"<img src=x onerror=alert(1)>")
    response, body = fetch(node, as_attachment=False)
    assert response["Content-Disposition"] == (
        'attachment; filename="<img src=x onerror=alert(1)>.html"'
    )
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in directives(response)
    assert body == b"<img src=x onerror=alert(1)>"


@pytest.mark.parametrize(
    ("name", "content", "stored_type"),
    [
        ("page.html", b"<html><body><script>alert(1)</script></body></html>", "text/html"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "image/svg+xml"),
        ("feed.xml", b'<?xml version="1.0"?><a/>', "application/xml"),
        ("app.js", b"alert(document.cookie)", "text/javascript"),
        ("thing.xyz", b"\x00\x01\x02\x03", None),
        ("archive.zip", b"PK\x05\x06" + b"\x00" * 18, "application/zip"),
    ],
)
def test_active_and_unknown_types_are_always_attachments(
    upload: Any, name: str, content: bytes, stored_type: str | None
) -> None:
    node = upload(name, content)
    if stored_type:
        assert node.mime_type == stored_type
    for wish in (None, False):
        response, body = fetch(node, as_attachment=wish)
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        policy = directives(response)
        assert policy["default-src"] == "'none'"
        assert "sandbox" in policy
        assert policy["frame-ancestors"] == "'none'"
        assert body == content
    if stored_type in ("text/html", "image/svg+xml", "application/xml", "text/javascript"):
        assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.md", b"# Notes\n<script>alert(1)</script>"),
        ("tool.py", b"print('hello')\n"),
        ("data.json", b'{"a": 1}'),
        ("style.css", b"body { color: red }"),
        ("table.csv", b"a,b\n1,2\n"),
        ("readme.txt", b"plain words"),
    ],
)
def test_text_and_code_are_shown_inline_as_plain_text(
    upload: Any, name: str, content: bytes
) -> None:
    node = upload(name, content)
    response, body = fetch(node)
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("inline;")
    assert "sandbox" in directives(response)
    assert body == content
    # Asked for as a download, it is one.
    response, _ = fetch(node, as_attachment=True)
    assert response["Content-Disposition"].startswith("attachment;")


def test_images_show_inline_framable_only_by_our_pages(upload: Any) -> None:
    node = upload("pixel.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16)
    response, _ = fetch(node)
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="pixel.png"'
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    policy = directives(response)
    assert policy["frame-ancestors"] == "'self'"
    assert policy["img-src"] == "'self'"
    assert "sandbox" in policy
    response, _ = fetch(node, as_attachment=True)
    assert response["Content-Disposition"] == 'attachment; filename="pixel.png"'
    assert response["X-Frame-Options"] == "DENY"


def test_pdfs_show_inline_without_sandbox_but_locked_down(upload: Any) -> None:
    node = upload("paper.pdf", b"%PDF-1.4\n%%EOF\n")
    response, _ = fetch(node)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    policy = directives(response)
    assert "sandbox" not in policy
    assert policy["default-src"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'self'"


def test_the_site_middleware_keeps_the_user_content_policy(upload: Any) -> None:
    node = upload("page.html", b"<html><script>alert(1)</script></html>")
    request = rf.get("/download")

    def view(request: Any) -> Any:
        return serve_node(request, node)

    response = XFrameOptionsMiddleware(ContentSecurityPolicyMiddleware(view))(request)
    response.close()
    assert "sandbox" in directives(response)
    assert directives(response)["default-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"


# --- other modes and failures ------------------------------------------------------------


def test_x_accel_redirect_hands_the_file_to_nginx(settings: Any, digits: Any) -> None:
    settings.FILEFLOW_X_ACCEL_REDIRECT_PREFIX = "/_protected/"
    response, body = fetch(digits, as_attachment=True, Range="bytes=0-3")
    assert response.status_code == 200  # nginx applies the range itself
    assert body == b""
    assert response["X-Accel-Redirect"] == f"/_protected/{digits.blob.storage_key}"
    assert response["ETag"] == f'"{digits.blob.sha256}"'
    assert response["Content-Disposition"] == 'attachment; filename="digits.bin"'
    assert response["X-Content-Type-Options"] == "nosniff"
    # Conditional requests are still answered here, before nginx is involved.
    response, _ = fetch(digits, If_None_Match=f'"{digits.blob.sha256}"')
    assert response.status_code == 304
    assert "X-Accel-Redirect" not in response


def test_content_missing_from_storage_is_a_clear_404(
    digits: Any, caplog: pytest.LogCaptureFixture
) -> None:
    default_storage.delete(digits.blob.storage_key)
    with (
        caplog.at_level(logging.ERROR, logger="files.delivery"),
        pytest.raises(BlobMissing) as raised,
    ):
        fetch(digits)
    assert raised.value.status_code == 404
    assert raised.value.code == "blob_missing"
    assert "missing from storage" in raised.value.message
    assert digits.blob.storage_key in caplog.text
    with pytest.raises(BlobMissing):
        fetch(digits, method="head")


def test_serve_blob_serves_an_earlier_version_under_its_own_name(alice: Any, upload: Any) -> None:
    first = upload("report.txt", b"first draft")
    upload("report.txt", b"second draft", on_conflict="replace")
    version = first.versions.get()
    request = rf.get("/download")
    response = serve_blob(
        request,
        blob=version.blob,
        filename="report (first draft).txt",
        mime_type=version.mime_type,
        last_modified=version.created_at,
    )
    body = b"".join(response.streaming_content)
    response.close()
    assert body == b"first draft"
    assert response["ETag"] == f'"{version.blob.sha256}"'


# --- S3 (moto's server over real HTTP) ------------------------------------------------------


def test_s3_ranges_are_read_through_storage(s3_storage: Any, upload: Any) -> None:
    node = upload("digits.bin", CONTENT)
    response, body = fetch(node, Range="bytes=5-9")
    assert response.status_code == 206
    assert body == CONTENT[5:10]
    assert response["Content-Range"] == "bytes 5-9/20"
    response, body = fetch(node)
    assert (response.status_code, body) == (200, CONTENT)


def test_s3_presigned_redirect_names_the_file_for_the_bucket(
    s3_storage: Any, settings: Any, upload: Any
) -> None:
    import urllib.request

    settings.FILEFLOW_S3_PRESIGNED_REDIRECT = True
    settings.FILEFLOW_S3_PRESIGNED_SECONDS = 60
    node = upload("Résumé.html", b"<html>hi</html>")
    response, _ = fetch(node, as_attachment=False)
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    assert location.startswith(f"{s3_storage.endpoint}/{s3_storage.name}/")
    assert "Expires=" in location or "X-Amz-Expires=60" in location
    with urllib.request.urlopen(location, timeout=10) as fetched:  # noqa: S310 - local moto
        assert fetched.read() == b"<html>hi</html>"
        # Even asked inline, HTML goes out as a download from the bucket too.
        assert fetched.headers["Content-Disposition"] == (
            "attachment; filename*=utf-8''R%C3%A9sum%C3%A9.html"
        )
        assert fetched.headers["Content-Type"] == "application/octet-stream"
    # A client that has it already is told so without a redirect.
    response, _ = fetch(node, If_None_Match=f'"{node.blob.sha256}"')
    assert response.status_code == 304
