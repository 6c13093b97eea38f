# ruff: noqa: E501 - XML test data reads best on one line
"""Real documents of each kind, made in the tests: a PDF with a text layer written by hand,
office files as the zip + XML their formats are, and hostile ones."""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape


def pdf(*pages: str) -> bytes:
    """A PDF whose pages show ``pages`` in Helvetica (WinAnsi: accents work)."""
    objects: list[bytes] = []
    count = len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    font_number = 3 + 2 * count
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {count} >>".encode())
    for index, text in enumerate(pages):
        content_number = 4 + 2 * index
        objects.append(
            (
                f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                f"/Contents {content_number} 0 R "
                f"/Resources << /Font << /F1 {font_number} 0 R >> >> >>"
            ).encode()
        )
        lines = []
        for number, line in enumerate(text.split("\n")):
            raw = line.encode("cp1252")
            literal = b"".join(
                b"\\" + bytes([c]) if c in b"()\\" else (b"\\%03o" % c if c > 126 else bytes([c]))
                for c in raw
            )
            lines.append(b"BT /F1 12 Tf 72 %d Td (" % (720 - 16 * number) + literal + b") Tj ET")
        stream = b"\n".join(lines)
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def pdf_that_takes_hours(fan: int = 1000, levels: int = 3) -> bytes:
    """A PDF of a few KB whose one page keeps pdfium busy for hours: the page draws a form
    ``fan`` times, which draws the next form ``fan`` times, ``levels`` deep, and the last
    one shows text ``fan`` times (``fan ** (levels + 1)`` text operations; 10^12 by
    default, where 10^6 take about half a second to read and more to draw)."""
    page = b"q " + b"/X Do " * fan + b"Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /XObject << /X 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(page) + page + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for level in range(levels):
        if level < levels - 1:
            body = b"/X Do " * fan
            resources = b"<< /XObject << /X %d 0 R >> >>" % (7 + level)
        else:
            body = b"BT /F1 1 Tf 10 10 Td " + b"(ab) Tj 0.001 0.001 Td " * fan + b"ET"
            resources = b"<< /Font << /F1 5 0 R >> >>"
        objects.append(
            b"<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources "
            + resources
            + b" /Length %d >>\nstream\n" % len(body)
            + body
            + b"\nendstream"
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def _zip(members: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def docx(*paragraphs: str, header: str = "") -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{escape(p)}</w:t></w:r></w:p>" for p in paragraphs)
    members: dict[str, str | bytes] = {
        "[Content_Types].xml": "<Types/>",
        "word/document.xml": f'<?xml version="1.0"?><w:document {W}><w:body>{body}</w:body></w:document>',
    }
    if header:
        members["word/header1.xml"] = (
            f"<w:hdr {W}><w:p><w:r><w:t>{escape(header)}</w:t></w:r></w:p></w:hdr>"
        )
    return _zip(members)


def xlsx(rows: list[list[str | int]]) -> bytes:
    """Text cells as shared strings, numbers as values (which are not text)."""
    strings: list[str] = []
    cells = []
    for r, row in enumerate(rows, start=1):
        out = []
        for c, value in enumerate(row):
            ref = f"{chr(65 + c)}{r}"
            if isinstance(value, int):
                out.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                strings.append(value)
                out.append(f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>')
        cells.append(f'<row r="{r}">{"".join(out)}</row>')
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    return _zip(
        {
            "[Content_Types].xml": "<Types/>",
            "xl/sharedStrings.xml": f"<sst {S}>{shared}</sst>",
            "xl/worksheets/sheet1.xml": f"<worksheet {S}><sheetData>{''.join(cells)}</sheetData></worksheet>",
        }
    )


def pptx(*slides: str) -> bytes:
    members: dict[str, str | bytes] = {"[Content_Types].xml": "<Types/>"}
    for number, text in enumerate(slides, start=1):
        members[f"ppt/slides/slide{number}.xml"] = (
            f'<p:sld {A} xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main">'
            f"<p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p>"
            "</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
        )
    return _zip(members)


_ODF_MIME = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
}


def odf(kind: str, *paragraphs: str) -> bytes:
    """An OpenDocument text, spreadsheet or presentation with ``paragraphs``."""
    ns = (
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"'
    )
    ps = "".join(f"<text:p>{escape(p)}</text:p>" for p in paragraphs)
    if kind == "ods":
        cells = "".join(
            f"<table:table-cell>{'<text:p>' + escape(p) + '</text:p>'}</table:table-cell>"
            for p in paragraphs
        )
        body = f"<office:spreadsheet><table:table><table:table-row>{cells}</table:table-row></table:table></office:spreadsheet>"
    elif kind == "odp":
        body = f"<office:presentation><draw:page><draw:frame><draw:text-box>{ps}</draw:text-box></draw:frame></draw:page></office:presentation>"
    else:
        body = f"<office:text>{ps}</office:text>"
    return _zip(
        {
            "mimetype": _ODF_MIME[kind],
            "content.xml": f'<?xml version="1.0"?><office:document-content {ns}><office:body>{body}</office:body></office:document-content>',
        }
    )


def zip_bomb_docx(megabytes: int = 64) -> bytes:
    """A docx whose document.xml unpacks to ``megabytes`` MB of the same byte (~1000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(f"<w:document {W}><w:body><w:p><w:r><w:t>".encode())
            block = b"A" * (1024 * 1024)
            for _ in range(megabytes):
                member.write(block)
            member.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


def billion_laughs_docx() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
        for i in range(1, 10)
    )
    xml = f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]><w:document {W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>'
    return _zip({"[Content_Types].xml": "<Types/>", "word/document.xml": xml})
