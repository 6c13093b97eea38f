"""Reading the text of documents: every kind, bounded, and hostile files refused cleanly."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest

from search.extract import Unreadable, document_kind, extract_text
from tests.search import documents
from tests.utils import without_hanging

MB = 1_000_000


def read(content: bytes, kind: str, *, max_bytes: int = MB, seconds: float = 30) -> str:
    return extract_text(io.BytesIO(content), kind=kind, max_bytes=max_bytes, seconds=seconds).text


@pytest.mark.parametrize(
    ("name", "mime_type", "kind"),
    [
        ("report.pdf", "application/pdf", "pdf"),
        ("notes.txt", "text/plain", "text"),
        ("README.md", "text/markdown", "text"),
        ("main.py", "text/x-python", "text"),
        ("data.csv", "text/csv", "text"),
        ("page.html", "text/html", "html"),
        ("letter.docx", "application/zip", "docx"),
        ("sheet.xlsx", "application/zip", "xlsx"),
        ("slides.pptx", "application/zip", "pptx"),
        ("letter.odt", "application/zip", "odf"),
        ("sheet.ods", "application/zip", "odf"),
        ("slides.odp", "application/zip", "odf"),
        ("LICENSE", "text/plain", "text"),
        ("photo.jpg", "image/jpeg", None),
        ("photo.svg", "image/svg+xml", None),
        ("archive.zip", "application/zip", None),
        ("blob.bin", "application/octet-stream", None),
        ("old.doc", "application/msword", None),
    ],
)
def test_document_kind(name: str, mime_type: str, kind: str | None) -> None:
    assert document_kind(name=name, mime_type=mime_type) == kind


def test_pdf_text_layer_every_page_with_accents() -> None:
    text = read(documents.pdf("Quarterly zebra report", "Café crème (page two)"), "pdf")
    assert "Quarterly zebra report" in text
    assert "Café crème (page two)" in text


def test_plain_text_utf8_and_windows_1252_and_utf16() -> None:
    assert read("naïve résumé".encode(), "text") == "naïve résumé"
    assert read("naïve résumé".encode("cp1252"), "text") == "naïve résumé"
    assert read("naïve résumé".encode("utf-16"), "text") == "naïve résumé"
    assert read(b"\xef\xbb\xbfwith bom", "text") == "with bom"


def test_html_keeps_text_and_drops_tags_scripts_and_styles() -> None:
    page = (
        b"<html><head><title>Ignored title</title><style>p{color:red}</style></head>"
        b"<body><h1>Walrus&amp;Carpenter</h1><script>var secret = 'nope';</script>"
        b"<p>Oysters<br>at <b>noon</b></p></body></html>"
    )
    text = read(page, "html")
    assert "Walrus&Carpenter" in text
    assert "Oysters" in text and "noon" in text
    assert "secret" not in text and "color" not in text and "<" not in text


def test_office_open_xml() -> None:
    text = read(documents.docx("Dear aardvark,", "regards", header="ACME letterhead"), "docx")
    assert "Dear aardvark," in text and "regards" in text and "ACME letterhead" in text
    text = read(documents.xlsx([["Budget", "lemurs"], ["total", 12345]]), "xlsx")
    assert "Budget" in text and "lemurs" in text
    assert "12345" not in text  # numbers are values, not words
    text = read(documents.pptx("First slide narwhal", "Second slide"), "pptx")
    assert "narwhal" in text and "Second slide" in text


@pytest.mark.parametrize("kind", ["odt", "ods", "odp"])
def test_opendocument(kind: str) -> None:
    text = read(documents.odf(kind, "Okapi sighting", "second paragraph"), "odf")
    assert "Okapi sighting" in text and "second paragraph" in text


def test_text_is_cut_at_the_limit_on_a_character_boundary() -> None:
    extracted = extract_text(
        io.BytesIO(("é" * 1000).encode()), kind="text", max_bytes=101, seconds=30
    )
    assert extracted.truncated
    assert extracted.text == "é" * 50


def test_a_2_gb_sparse_text_file_is_read_only_as_far_as_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with open(path, "wb") as handle:
        handle.write(b"needle in a haystack " * 100_000)  # 2.1 MB of text
        handle.truncate(2 * 1024**3)  # then 2 GB of holes
    started = time.monotonic()
    with open(path, "rb") as handle:
        extracted = extract_text(handle, kind="text", max_bytes=MB, seconds=30)
        assert handle.tell() <= MB + 64 * 1024
    assert extracted.truncated
    assert len(extracted.text.encode()) == MB
    assert extracted.text.startswith("needle in a haystack")
    assert os.path.getsize(path) == 2 * 1024**3
    assert time.monotonic() - started < 20  # bounded: a safety net, not a benchmark


def test_binary_data_is_not_text() -> None:
    with pytest.raises(Unreadable, match="binary"):
        read(b"\x00\x01\x02garbage" * 100, "text")


def test_a_truncated_pdf_is_unreadable_with_a_reason() -> None:
    whole = documents.pdf("some words")
    with pytest.raises(Unreadable, match="PDF"):
        read(whole[: len(whole) // 3], "pdf")
    with pytest.raises(Unreadable, match="PDF"):
        read(b"%PDF-1.4 not really", "pdf")


def test_a_zip_bomb_docx_stops_early() -> None:
    bomb = documents.zip_bomb_docx()
    assert len(bomb) < 1_000_000
    started = time.monotonic()
    with pytest.raises(Unreadable, match="zip bomb"):
        read(bomb, "docx", max_bytes=100 * MB)
    assert time.monotonic() - started < 20


def test_entity_declarations_are_refused() -> None:
    with pytest.raises(Unreadable, match="entities"):
        read(documents.billion_laughs_docx(), "docx")


def test_a_damaged_office_file_is_unreadable() -> None:
    with pytest.raises(Unreadable, match="zip container is damaged"):
        read(b"PK\x03\x04 nothing more", "docx")
    with pytest.raises(Unreadable, match="not a Word document"):
        read(documents.xlsx([["a"]]), "docx")
    broken = documents.docx("fine").replace(b"word/document.xml", b"word/documenX.xml")
    with pytest.raises(Unreadable):
        read(broken, "docx")


def test_an_office_file_with_too_many_parts_is_not_read() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("ppt/slides/slide1.xml", "<sld/>")
        for number in range(10_001):
            archive.writestr(f"x/{number}", b"")
    with pytest.raises(Unreadable, match="10,002 parts"):
        read(out.getvalue(), "pptx")


def test_reading_stops_at_the_time_limit() -> None:
    with pytest.raises(Unreadable, match="longer than"):
        read(documents.pdf(*["page"] * 50), "pdf", seconds=0)


def test_a_pdf_that_keeps_pdfium_busy_for_hours_stops_at_the_time_limit() -> None:
    """One call into pdfium (this page's text: 10^12 operations) cannot be interrupted, so
    a PDF is read in a child process that is killed when the time is up; the next PDF is
    read as usual."""
    with pytest.raises(Unreadable, match=r"^Reading it took longer than 1 second\.$"):
        without_hanging(lambda: read(documents.pdf_that_takes_hours(), "pdf", seconds=1))
    assert read(documents.pdf("read after it"), "pdf").strip() == "read after it"
