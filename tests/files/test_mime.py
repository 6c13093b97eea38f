"""MIME detection reads only the head of a file (files.ingest.HEAD_SIZE bytes)."""

from __future__ import annotations

import gzip
import os
from typing import Any

import pytest

from files.ingest import HEAD_SIZE
from files.mime import sniff
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


def test_only_the_head_is_read(upload: Any) -> None:
    words = (b"a log line of plain words\n" * 1000)[:HEAD_SIZE]
    garbage = b"\x00\xff" + os.urandom(2 * 1024 * 1024)  # binary from byte 8193 on
    assert upload("server-log", words + garbage).mime_type == "text/plain"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert upload("picture", png + b"<html><script>" * 100_000).mime_type == "image/png"


def test_the_receiver_keeps_exactly_the_head() -> None:
    content = os.urandom(HEAD_SIZE * 3)
    item = received(content)
    try:
        assert item.head == content[:HEAD_SIZE]
    finally:
        item.discard()


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\xef\xbb\xbf  <!DOCTYPE html><p>hi", "notes", "text/html"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "x", "image/svg+xml"),
        (b"{\\rtf1\\ansi", "letter", "application/rtf"),
        (b"GIF89a" + b"\x01\x00" * 8, "anim.txt", "image/gif"),
        (gzip.compress(b"hello"), "backup", "application/gzip"),  # found by libmagic
        (b"", "empty.txt", "text/plain"),
        (b"", "empty", "application/octet-stream"),
        (b"col1,col2\n1,2\n", "table.csv", "text/csv"),
        (b"\x00\x01\x02", "notes.txt", "application/octet-stream"),  # the name may not say text
    ],
)
def test_content_decides_and_the_name_falls_back(head: bytes, name: str, expected: str) -> None:
    assert sniff(head, name) == expected
