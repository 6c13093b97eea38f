"""The text of a document, for search: bounded in size and time, safe with hostile files.

:func:`document_kind` says whether a file is one we read (PDF, plain text and source code,
Markdown, CSV, HTML, Office Open XML and OpenDocument); :func:`extract_text` reads it from
a binary stream. Everything here is plain Python over the bytes (no database): the task in
:mod:`search.tasks` decides what to read and keeps the result.

The limits:

- at most ``max_bytes`` of text (UTF-8) is kept; reading stops there (``truncated``);
- reading stops with :class:`Unreadable` once ``seconds`` have passed (checked between
  XML chunks and text chunks; a PDF is read by pdfium in a child process that is killed
  when the time is up, since one call into pdfium cannot be interrupted: :mod:`files.pdf`);
- office files are zip archives: at most :data:`ZIP_MAX_MEMBERS` members, and the XML we
  read is decompressed in chunks and counted as it comes (not as the archive claims), at
  most :data:`ZIP_MAX_RATIO` times its compressed size and :data:`ZIP_MAX_BYTES` in all,
  so a zip bomb stops early;
- their XML is parsed by expat with every document type declaration refused (office files
  have none), so no entity is ever declared or expanded, and nothing external is fetched;
- plain text is read from the start only as far as the text limit needs.

A file that breaks a rule or that its parser rejects raises :class:`Unreadable` with a
reason a person can read.
"""

from __future__ import annotations

import codecs
import contextlib
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import BinaryIO, NoReturn
from xml.parsers import expat

from files.pdf import PdfFailed, pdf_page_texts
from search.categories import extension_of

CHUNK = 64 * 1024
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_RATIO = 200
ZIP_MAX_BYTES = 256 * 1024 * 1024

_TEXT_EXTENSIONS = frozenset(
    [
        "txt",
        "text",
        "md",
        "markdown",
        "rst",
        "csv",
        "tsv",
        "log",
        "tex",
        "org",
        "adoc",
        "asciidoc",
        "py",
        "pyi",
        "js",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "jsx",
        "java",
        "kt",
        "kts",
        "scala",
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "cs",
        "go",
        "rs",
        "rb",
        "php",
        "swift",
        "dart",
        "lua",
        "pl",
        "r",
        "sh",
        "bash",
        "zsh",
        "fish",
        "ps1",
        "bat",
        "sql",
        "css",
        "scss",
        "sass",
        "less",
        "json",
        "yaml",
        "yml",
        "toml",
        "xml",
        "ini",
        "cfg",
        "conf",
        "vue",
        "svelte",
        "ex",
        "exs",
        "erl",
        "hs",
        "clj",
        "elm",
    ]
)
_TEXT_MIME_TYPES = frozenset(
    [
        "application/json",
        "application/xml",
        "application/javascript",
        "application/x-sh",
        "application/sql",
        "application/x-yaml",
        "application/toml",
    ]
)
_HTML_EXTENSIONS = frozenset({"html", "htm", "xhtml"})
_OFFICE = {
    "docx": "docx",
    "docm": "docx",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "pptx": "pptx",
    "pptm": "pptx",
    "odt": "odf",
    "ods": "odf",
    "odp": "odf",
}
KINDS = ("pdf", "text", "html", "docx", "xlsx", "pptx", "odf")


class Unreadable(Exception):
    """The document cannot be read; ``reason`` says why, for the person who owns it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Full(Exception):
    """The text limit is reached: stop reading, keep what there is."""


def document_kind(*, name: str, mime_type: str) -> str | None:
    """Which reader a file needs, or None when it is not a document we read.

    The extension decides first (as for search categories); the MIME type only when the
    extension says nothing."""
    ext = extension_of(name)
    if ext == "pdf":
        return "pdf"
    if ext in _OFFICE:
        return _OFFICE[ext]
    if ext in _HTML_EXTENSIONS:
        return "html"
    if ext in _TEXT_EXTENSIONS:
        return "text"
    if ext:
        # A known non-document (photo.jpg, archive.zip) is never read as text because of a
        # loose MIME guess; an unknown extension may still be text by its content.
        from search.categories import KNOWN_EXTENSIONS

        if ext in KNOWN_EXTENSIONS:
            return None
    if mime_type == "application/pdf":
        return "pdf"
    if mime_type == "text/html":
        return "html"
    if mime_type.startswith("text/") or mime_type in _TEXT_MIME_TYPES:
        return "text"
    return None


@dataclass
class Extracted:
    text: str
    truncated: bool


class _Sink:
    """Collects text up to ``max_bytes`` (UTF-8) and enforces the deadline."""

    def __init__(self, *, max_bytes: int, seconds: float) -> None:
        self.max_bytes = max_bytes
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def remaining(self) -> float:
        return max(self.deadline - time.monotonic(), 0.0)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            self.time_is_up()

    def time_is_up(self) -> NoReturn:
        unit = "second" if self.seconds == 1 else "seconds"
        raise Unreadable(f"Reading it took longer than {self.seconds:g} {unit}.")

    def add(self, text: str) -> None:
        self.check_time()
        if not text:
            return
        size = len(text.encode("utf-8", "surrogatepass"))
        if self.size + size > self.max_bytes:
            room = self.max_bytes - self.size
            # Cut on a character boundary within the byte budget.
            self.parts.append(
                text.encode("utf-8", "surrogatepass")[:room].decode("utf-8", "ignore")
            )
            self.size = self.max_bytes
            self.truncated = True
            raise _Full
        self.parts.append(text)
        self.size += size

    def result(self) -> Extracted:
        text = "".join(self.parts).replace("\x00", "")
        # Lone surrogates (from broken UTF-16 in PDFs) cannot be stored.
        text = text.encode("utf-8", "replace").decode("utf-8")
        return Extracted(text=text, truncated=self.truncated)


def extract_text(source: BinaryIO, *, kind: str, max_bytes: int, seconds: float) -> Extracted:
    """The text of ``source`` read as ``kind`` (from :func:`document_kind`)."""
    sink = _Sink(max_bytes=max_bytes, seconds=seconds)
    readers = {
        "pdf": _pdf,
        "text": _plain,
        "html": _html,
        "docx": _docx,
        "xlsx": _xlsx,
        "pptx": _pptx,
        "odf": _odf,
    }
    with contextlib.suppress(_Full):
        readers[kind](source, sink)
    return sink.result()


# --- plain text and HTML -------------------------------------------------------------------


def _decoded_chunks(source: BinaryIO, sink: _Sink) -> Iterable[str]:
    """Text from the start of ``source``: UTF-8 (with or without BOM), UTF-16 with a BOM,
    else Windows-1252. Stops reading once the text limit must be full; refuses binary."""
    head = source.read(CHUNK)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        if b"\x00" in head:
            raise Unreadable("It does not look like text (it holds binary data).")
        encoding = "utf-8-sig"
        try:
            head[: len(head) - 4].decode("utf-8")
        except UnicodeDecodeError:
            encoding = "cp1252"
    decoder = codecs.getincrementaldecoder(encoding)("replace")
    # Never more bytes than could become the allowed text (UTF-16 takes two per character).
    budget = sink.max_bytes * (2 if encoding == "utf-16" else 1) + 4
    chunk = head
    while chunk:
        budget -= len(chunk)
        yield decoder.decode(chunk)
        if budget <= 0:
            sink.truncated = True
            return
        chunk = source.read(min(CHUNK, budget))
    yield decoder.decode(b"", final=True)


def _plain(source: BinaryIO, sink: _Sink) -> None:
    for text in _decoded_chunks(source, sink):
        sink.add(text)


class _HTMLText(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript", "head"})
    _BREAK = frozenset(
        [
            "p",
            "br",
            "div",
            "li",
            "tr",
            "td",
            "th",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "title",
            "section",
            "article",
            "header",
            "footer",
            "pre",
            "blockquote",
            "dt",
            "dd",
            "table",
            "ul",
            "ol",
        ]
    )

    def __init__(self, sink: _Sink) -> None:
        super().__init__(convert_charrefs=True)
        self.sink = sink
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP and tag != "head":
            self.skipping += 1
        elif tag in self._BREAK:
            self.sink.add("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and tag != "head":
            self.skipping = max(self.skipping - 1, 0)
        elif tag in self._BREAK:
            self.sink.add("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.sink.add(data)


def _html(source: BinaryIO, sink: _Sink) -> None:
    parser = _HTMLText(sink)
    for text in _decoded_chunks(source, sink):
        parser.feed(text)
    parser.close()


# --- PDF -------------------------------------------------------------------------------


def _pdf(source: BinaryIO, sink: _Sink) -> None:
    try:
        pages = pdf_page_texts(source, max_bytes=sink.max_bytes, seconds=sink.remaining())
    except PdfFailed as failed:
        if failed.stage == "time":
            sink.time_is_up()
        if failed.stage == "open":
            raise Unreadable(f"It could not be opened as a PDF ({failed.detail}).") from None
        if failed.stage == "crashed":
            raise Unreadable("The PDF reader stopped on it (the file may be damaged).") from None
        raise Unreadable(f"A page of the PDF could not be read ({failed.detail}).") from None
    for text in pages:
        sink.add(text)
        sink.add("\n")


# --- zip + XML (Office Open XML, OpenDocument) -----------------------------------------


class _Archive:
    """The members of an office file, read with the zip-bomb limits."""

    def __init__(self, source: BinaryIO, sink: _Sink) -> None:
        self.sink = sink
        try:
            self.zip = zipfile.ZipFile(source)
            self.infos = self.zip.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
            raise Unreadable(
                "It is not a valid office file (the zip container is damaged)."
            ) from None
        if len(self.infos) > ZIP_MAX_MEMBERS:
            raise Unreadable(
                f"It holds {len(self.infos):,} parts; office files with more than "
                f"{ZIP_MAX_MEMBERS:,} are not read."
            )
        self.names = {info.filename for info in self.infos}
        self.read_total = 0

    @staticmethod
    def _bomb(name: str) -> Unreadable:
        return Unreadable(
            f"Part “{name}” unpacks to more than {ZIP_MAX_RATIO} times its packed size "
            "(a zip bomb?); it was not read."
        )

    def chunks(self, name: str) -> Iterable[bytes]:
        info = self.zip.getinfo(name)
        limit = max(info.compress_size, 1) * ZIP_MAX_RATIO
        if info.file_size > limit:
            raise self._bomb(name)
        read = 0
        try:
            with self.zip.open(info) as member:
                while chunk := member.read(CHUNK):
                    read += len(chunk)
                    self.read_total += len(chunk)
                    # The sizes in the archive may lie: count what actually comes out.
                    if read > limit:
                        raise self._bomb(name)
                    if self.read_total > ZIP_MAX_BYTES:
                        raise Unreadable(
                            f"It unpacks to more than {ZIP_MAX_BYTES // 2**20} MB of text "
                            "parts; it was not read."
                        )
                    yield chunk
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            ValueError,
            NotImplementedError,
            RuntimeError,
        ) as exc:
            raise Unreadable(f"Part “{name}” of the office file is damaged ({exc}).") from None


class _XMLText:
    """Character data of an XML part, through expat, refusing any DTD.

    ``text_in``: local names of the elements whose text is kept (None: all text).
    ``breaks``: local names whose end adds a line break; ``spaces``: a space."""

    def __init__(
        self,
        sink: _Sink,
        *,
        text_in: frozenset[str] | None,
        breaks: frozenset[str],
        spaces: frozenset[str] = frozenset(),
    ) -> None:
        self.sink = sink
        self.text_in = text_in
        self.breaks = breaks
        self.spaces = spaces
        self.depth = 0
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.ExternalEntityRefHandler = self._refuse  # type: ignore[assignment]
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._data
        parser.buffer_text = True
        self.parser = parser

    def _refuse(self, *args: object) -> None:
        raise Unreadable(
            "It declares XML entities or a document type, which office files never do."
        )

    @staticmethod
    def _local(name: str) -> str:
        return name.rsplit(" ", 1)[-1]

    def _start(self, name: str, attrs: object) -> None:
        local = self._local(name)
        if self.text_in is not None and local in self.text_in:
            self.depth += 1
        if local == "tab":
            self.sink.add("\t")

    def _end(self, name: str) -> None:
        local = self._local(name)
        if self.text_in is not None and local in self.text_in:
            self.depth -= 1
        if local in self.breaks:
            self.sink.add("\n")
        elif local in self.spaces:
            self.sink.add(" ")

    def _data(self, data: str) -> None:
        if self.text_in is None or self.depth > 0:
            self.sink.add(data)

    def feed(self, chunks: Iterable[bytes]) -> None:
        try:
            for chunk in chunks:
                self.sink.check_time()
                self.parser.Parse(chunk, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError as exc:
            raise Unreadable(f"A part of the office file is not well-formed XML ({exc}).") from None


def _numbered(names: Iterable[str], pattern: str) -> list[str]:
    """Members matching ``pattern`` (one number group), in numeric order."""
    regex = re.compile(pattern)
    found = [(int(m.group(1)), name) for name in names if (m := regex.fullmatch(name))]
    return [name for _, name in sorted(found)]


def _read_parts(
    archive: _Archive,
    parts: list[str],
    *,
    text_in: frozenset[str] | None,
    breaks: frozenset[str],
    spaces: frozenset[str] = frozenset(),
) -> None:
    for part in parts:
        _XMLText(archive.sink, text_in=text_in, breaks=breaks, spaces=spaces).feed(
            archive.chunks(part)
        )
        archive.sink.add("\n")


def _docx(source: BinaryIO, sink: _Sink) -> None:
    archive = _Archive(source, sink)
    if "word/document.xml" not in archive.names:
        raise Unreadable("It is not a Word document (word/document.xml is missing).")
    parts = ["word/document.xml"]
    parts += _numbered(archive.names, r"word/header(\d+)\.xml")
    parts += _numbered(archive.names, r"word/footer(\d+)\.xml")
    parts += [p for p in ("word/footnotes.xml", "word/endnotes.xml") if p in archive.names]
    _read_parts(archive, parts, text_in=frozenset({"t"}), breaks=frozenset({"p", "br"}))


def _xlsx(source: BinaryIO, sink: _Sink) -> None:
    archive = _Archive(source, sink)
    sheets = _numbered(archive.names, r"xl/worksheets/sheet(\d+)\.xml")
    if not sheets:
        raise Unreadable("It is not an Excel workbook (it has no worksheets).")
    # Cell text lives in the shared strings; inline strings (<is><t>) in the sheets.
    parts = [p for p in ("xl/sharedStrings.xml",) if p in archive.names] + sheets
    _read_parts(
        archive,
        parts,
        text_in=frozenset({"t"}),
        breaks=frozenset({"si", "row"}),
        spaces=frozenset({"c"}),
    )


def _pptx(source: BinaryIO, sink: _Sink) -> None:
    archive = _Archive(source, sink)
    slides = _numbered(archive.names, r"ppt/slides/slide(\d+)\.xml")
    if not slides:
        raise Unreadable("It is not a PowerPoint presentation (it has no slides).")
    notes = _numbered(archive.names, r"ppt/notesSlides/notesSlide(\d+)\.xml")
    _read_parts(archive, slides + notes, text_in=frozenset({"t"}), breaks=frozenset({"p"}))


def _odf(source: BinaryIO, sink: _Sink) -> None:
    archive = _Archive(source, sink)
    if "content.xml" not in archive.names:
        raise Unreadable("It is not an OpenDocument file (content.xml is missing).")
    _read_parts(
        archive,
        ["content.xml"],
        text_in=None,
        breaks=frozenset({"p", "h", "table-row", "list-item", "line-break"}),
        spaces=frozenset({"table-cell", "s"}),
    )
