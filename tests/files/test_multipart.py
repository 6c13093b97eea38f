"""Multipart forms (files.ingest.parse_multipart): python-multipart finds the parts, the rules
are Django's (which parts count, file names, limits), every refusal is a clear 400 or 413
and leaves no temp file."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest

from files.errors import IncompleteUpload, InvalidUpload, UploadTooLarge
from files.ingest import CHUNK_SIZE, parse_multipart, sanitize_file_name
from files.models import Node

BOUNDARY = "----fileflow-test-boundary"


def part(headers: list[str], body: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n".encode() + "\r\n".join(headers).encode() + b"\r\n\r\n" + body


def file_part(name: str, content: bytes, *, field: str = "file", extra: str = "") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{field}"; filename="{name}"{extra}'
    return part([disposition, "Content-Type: application/octet-stream"], content)


def field_part(name: str, value: str) -> bytes:
    return part([f'Content-Disposition: form-data; name="{name}"'], value.encode())


def form(*parts: bytes, close: bool = True) -> bytes:
    body = b"\r\n".join(parts)
    return body + (f"\r\n--{BOUNDARY}--\r\n".encode() if close else b"")


def parse(body: bytes, *, length: int | None = None, boundary: str = BOUNDARY) -> Any:
    meta = {
        "CONTENT_TYPE": f"multipart/form-data; boundary={boundary}",
        "CONTENT_LENGTH": str(len(body) if length is None else length),
    }
    return parse_multipart(meta, io.BytesIO(body).read)


def temp_files(settings: Any) -> list[str]:
    return os.listdir(settings.FILE_UPLOAD_TEMP_DIR)


# Line breaks and dashes inside a file: only the real boundary ends it.
TRICKY = f"hello\r\n--{BOUNDARY[:-3]}xyz\r\n--\r\n".encode()


def test_fields_and_files_arrive_hashed_in_order(settings: Any) -> None:
    big = os.urandom(3 * CHUNK_SIZE + 17)  # spans several reads, and holds CR LF now and then
    fields, files = parse(
        form(
            field_part("parent", "12"),
            file_part("a.bin", big),
            file_part("empty.txt", b""),
            field_part("on_conflict", "rename"),
            file_part("b.txt", TRICKY),
        )
    )
    assert fields.dict() == {"parent": "12", "on_conflict": "rename"}
    sent = files.getlist("file")
    assert [item.name for item in sent] == ["a.bin", "empty.txt", "b.txt"]
    assert [item.received.size for item in sent] == [len(big), 0, len(TRICKY)]
    assert sent[0].received.sha256 == hashlib.sha256(big).hexdigest()
    assert Path(sent[2].received.path).read_bytes() == TRICKY
    assert sent[1].content_type == "application/octet-stream"
    for item in sent:
        item.close()
        item.received.discard()
    assert temp_files(settings) == []


def test_an_empty_file_input_and_a_part_without_a_name_are_left_out(settings: Any) -> None:
    """What a browser sends for a form's file input with nothing chosen, as Django skips it."""
    fields, files = parse(
        form(
            file_part("", b""),
            part(["Content-Disposition: form-data"], b"no name"),
            field_part("parent", "3"),
        )
    )
    assert fields.dict() == {"parent": "3"}
    assert files.getlist("file") == []
    assert temp_files(settings) == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("photos/2024/cat.jpg", "cat.jpg"),
        ("C:\\\\Users\\\\me\\\\report.pdf", "report.pdf"),
        ("caf&eacute; menu.txt", "café menu.txt"),
        ("..", None),
        ("tab\there.txt", "tabhere.txt"),
    ],
)
def test_file_names_keep_their_last_component_as_django_does(sent: str, kept: str | None) -> None:
    assert sanitize_file_name(sent) == kept


def test_utf8_and_rfc_2231_file_names_are_read() -> None:
    raw = "Résumé 履歴書.pdf"
    encoded = "".join(f"%{byte:02X}" for byte in raw.encode())
    body = form(
        part(
            [
                f'Content-Disposition: form-data; name="file"; filename="{raw}"',
                "Content-Type: application/pdf",
            ],
            b"%PDF-1.4",
        ),
        part(
            [f"Content-Disposition: form-data; name=\"file\"; filename*=UTF-8''{encoded}"],
            b"x",
        ),
    )
    _, files = parse(body)
    assert [item.name for item in files.getlist("file")] == [raw, raw]
    assert files.getlist("file")[0].content_type == "application/pdf"
    for item in files.getlist("file"):
        item.close()
        item.received.discard()


FIRST = file_part("first.bin", os.urandom(5000))
BASE64 = part(
    [
        'Content-Disposition: form-data; name="file"; filename="a.bin"',
        "Content-Transfer-Encoding: base64",
    ],
    b"YWJj",
)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (form(FIRST, file_part("a.bin", b"abc"), close=False), "ends before its closing boundary"),
        (form(FIRST, BASE64), "Content-Transfer-Encoding: base64"),
        (
            form(
                FIRST,
                part(["Content-Disposition: form-data; name=\"file\"; filename*=nope''a"], b""),
            ),
            "header that could not be read",
        ),
        (form(FIRST, part(["X-Padding: " + "x" * 20_000], b"")), "could not be read"),
        (b"this is not a multipart body at all", "could not be read"),
    ],
)
def test_a_malformed_form_is_a_clear_400_and_leaves_no_temp_file(
    settings: Any, body: bytes, message: str
) -> None:
    with pytest.raises(InvalidUpload, match=message):
        parse(body)
    assert temp_files(settings) == []


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "multipart/form-data", "multipart/form-data; boundary=" + "x" * 300],
)
def test_a_form_without_a_usable_boundary_is_a_400(content_type: str) -> None:
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": "10"}
    with pytest.raises(InvalidUpload, match="could not be read"):
        parse_multipart(meta, io.BytesIO(b"0123456789").read)


def test_too_many_files_fields_or_field_bytes_are_refused(settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    with pytest.raises(InvalidUpload, match="at most 2 files"):
        parse(form(*(file_part(f"{i}.bin", b"x" * 100) for i in range(3))))
    assert temp_files(settings) == []
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 2
    with pytest.raises(InvalidUpload, match="at most 2 form fields"):
        parse(form(file_part("a.bin", b"x"), *(field_part(f"f{i}", "v") for i in range(3))))
    assert temp_files(settings) == []
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    with pytest.raises(InvalidUpload, match="larger than"):
        parse(form(file_part("a.bin", b"x"), field_part("note", "n" * 2000)))
    assert temp_files(settings) == []


def test_a_file_over_the_limit_is_a_413_naming_it(settings: Any) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 1000
    with pytest.raises(UploadTooLarge, match=r"big\.bin"):
        parse(form(file_part("small.bin", b"s" * 900), file_part("big.bin", b"b" * 1001)))
    assert temp_files(settings) == []


def test_a_body_cut_short_is_refused_and_leaves_no_temp_file(settings: Any) -> None:
    body = form(file_part("a.bin", os.urandom(10_000)), file_part("b.bin", b"b"))
    with pytest.raises(IncompleteUpload, match="cut off"):
        parse(body[:6000], length=len(body))
    assert temp_files(settings) == []


@pytest.mark.django_db
def test_upload_many_answers_400_for_a_malformed_form_and_stores_nothing(
    alice: Any, alice_api: Any, settings: Any
) -> None:
    home = Node.objects.get(owner=alice, parent=None)
    body = form(field_part("parent", str(home.pk)), file_part("cut.bin", b"abc"), close=False)
    reply = alice_api.generic(
        "POST",
        "/api/v1/nodes/upload-many/",
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert reply.status_code == 400, reply.content
    assert "closing boundary" in reply.json()["detail"]
    assert not Node.objects.filter(owner=alice, name="cut.bin").exists()
    assert temp_files(settings) == []
