"""MIME types from content (magic numbers), the file name only as a fallback.

Only the head of a file is ever read (``files.ingest.HEAD_SIZE``, 8 KiB): the upload's
Receiver keeps it as the bytes pass, so detection costs no extra read. Binary content is
first matched against the signatures of the common formats (a few µs); what is left goes
to libmagic (Debian's ``libmagic1`` through python-magic), which costs about 0.2 ms of CPU
per call, so a head that looks compressed or encrypted from its start (:func:`_opaque`)
skips it. Text goes through a few markup and document signatures of our own instead,
because libmagic's text classifiers take about 1 ms on a few KiB of text.
``bench/mime.py`` measures each case.
"""

from __future__ import annotations

import functools
import math
import mimetypes
from dataclasses import dataclass

import magic

# Content signatures too generic to beat what the name says (a .docx is a zip, a .py is text).
_GENERIC = {"application/zip", "application/octet-stream", "text/plain", "application/x-zip"}

# libmagic's answers for "nothing recognised".
_NOTHING = {"application/octet-stream", "application/x-empty", "data"}

# Formats whose signature is plain text, checked at the start of the (stripped) head.
_TEXT_SIGNATURES = (
    (b"%pdf-", "application/pdf"),
    (b"%!ps", "application/postscript"),
    (b"{\\rtf", "application/rtf"),
    (b"<svg", "image/svg+xml"),
    (b"<!doctype html", "text/html"),
    (b"<html", "text/html"),
    (b"<head", "text/html"),
    (b"<body", "text/html"),
    (b"<script", "text/html"),
)


@dataclass(frozen=True)
class _Signature:
    """A binary format known by its first bytes: ``start``, then each ``(offset, bytes)``
    of ``at``; ``near``, if given, somewhere in the first 64 bytes."""

    start: bytes
    mime_type: str
    at: tuple[tuple[int, bytes], ...] = ()
    near: bytes = b""

    def matches(self, head: bytes) -> bool:
        return (
            head.startswith(self.start)
            and all(head.startswith(part, offset) for offset, part in self.at)
            and (not self.near or self.near in head[:64])
        )


def _ftyp(brand: bytes, mime_type: str) -> _Signature:
    """An ISO media file (MP4, QuickTime, HEIF...): its major brand decides the type."""
    return _Signature(b"", mime_type, at=((4, b"ftyp" + brand),))


# The common binary formats, answered without libmagic and with libmagic's answers (a test
# holds them to it). They include every common format whose content is compressed right
# after its header, because such a head is not shown to libmagic (see _opaque). libmagic
# also insists on more of the file than the signature: a PNG without its IHDR chunk is
# "data" to it.
_BINARY_SIGNATURES = (
    _Signature(b"\x89PNG\r\n\x1a\n", "image/png"),
    _Signature(b"\xff\xd8\xff", "image/jpeg"),
    _Signature(b"GIF87a", "image/gif"),
    _Signature(b"GIF89a", "image/gif"),
    _Signature(b"RIFF", "image/webp", at=((8, b"WEBP"),)),
    _Signature(b"II*\x00", "image/tiff"),
    _Signature(b"MM\x00*", "image/tiff"),
    _Signature(b"8BPS", "image/vnd.adobe.photoshop"),
    _Signature(b"%PDF-", "application/pdf"),
    _Signature(b"PK\x03\x04", "application/zip"),
    _Signature(b"PK\x05\x06", "application/zip"),
    _Signature(b"\x1f\x8b\x08", "application/gzip"),
    _Signature(b"BZh", "application/x-bzip2", at=((4, b"1AY&SY"),)),
    _Signature(b"\xfd7zXZ\x00", "application/x-xz"),
    _Signature(b"\x28\xb5\x2f\xfd", "application/zstd"),
    _Signature(b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    _Signature(b"Rar!\x1a\x07", "application/x-rar"),
    _Signature(b"SQLite format 3\x00", "application/vnd.sqlite3"),
    _Signature(b"\x00asm", "application/wasm"),
    _Signature(b"wOFF", "font/woff"),
    _Signature(b"wOF2", "font/woff2"),
    _Signature(b"fLaC", "audio/flac"),
    _Signature(b"\xff\xfb", "audio/mpeg"),
    _Signature(b"\xff\xf3", "audio/mpeg"),
    _Signature(b"RIFF", "audio/x-wav", at=((8, b"WAVE"),)),
    _Signature(b"RIFF", "video/x-msvideo", at=((8, b"AVI "),)),
    _Signature(b"\x1a\x45\xdf\xa3", "video/webm", near=b"\x42\x82\x84webm"),
    _Signature(b"\x1a\x45\xdf\xa3", "video/x-matroska", near=b"\x42\x82\x88matroska"),
    *(
        _ftyp(brand, "video/mp4")
        for brand in (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"dash")
    ),
    _ftyp(b"qt  ", "video/quicktime"),
    _ftyp(b"M4A ", "audio/x-m4a"),
    _ftyp(b"M4V ", "video/x-m4v"),
    _ftyp(b"heic", "image/heic"),
    _ftyp(b"heix", "image/heic"),
    _ftyp(b"mif1", "image/heif"),
    _ftyp(b"avif", "image/avif"),
    _ftyp(b"3gp4", "video/3gpp"),
    _ftyp(b"3gp5", "video/3gpp"),
)


def _binary_signature(head: bytes) -> str | None:
    for signature in _BINARY_SIGNATURES:
        if signature.matches(head):
            return signature.mime_type
    return None


# How much of the head _opaque looks at, and the least of it worth looking at.
_SAMPLE = 1024
_SHORTEST_SAMPLE = 256
_EVERY_BYTE = bytes(range(256))


def _opaque(head: bytes) -> bool:
    """Whether ``head`` looks compressed or encrypted from its first byte on: its first KiB
    holds nearly as many different byte values as random bytes would (about 251 of 256).

    Such content has a type only through a signature at its very start, and the common
    ones are in the table above. libmagic would spend about 0.2 ms of CPU on it whatever
    it is (its thousands of rules are tried one by one; none of its MAGIC_NO_CHECK_* flags
    or limits changes that by more than a few per cent) to find nothing. Structured
    binary content (executables, databases, office files, archives like tar) repeats byte
    values, zeros above all, and still goes to libmagic. (A byte count cannot tell a table
    of every value in turn from random bytes; such content at a file's start is rare, and
    only libmagic's opinion of it is lost: its name still counts.)"""
    sample = head[:_SAMPLE]
    if len(sample) < _SHORTEST_SAMPLE:
        return False
    expected = 256 * (1 - math.exp(-len(sample) / 256))  # different values in random bytes
    # The values it holds: the 256 there are, less the ones missing from it (what is left
    # of them once its own are deleted): ~3 µs against ~8 µs for len(set(sample)).
    different = 256 - len(_EVERY_BYTE.translate(None, sample))
    return different >= 0.9 * expected


@functools.cache
def _libmagic() -> magic.Magic:
    # Thread-safe: python-magic serialises calls on one cookie with its own lock.
    return magic.Magic(mime=True)


def _by_name(name: str) -> str | None:
    guessed, _ = mimetypes.guess_type(name, strict=False)
    # ".bin" and the like say nothing about the content.
    return None if guessed == "application/octet-stream" else guessed


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3
    return True


def _text_signature(head: bytes) -> str | None:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:512].lower()
    if start.startswith(b"<?xml"):
        # An XML prologue may lead into an SVG image, which browsers run scripts in.
        return "image/svg+xml" if b"<svg" in start else "application/xml"
    for signature, mime_type in _TEXT_SIGNATURES:
        if start.startswith(signature):
            return mime_type
    return None


def _content_type(head: bytes, *, text: bool) -> str | None:
    if not head:
        return None
    if text:
        return _text_signature(head)
    known = _binary_signature(head)
    if known is not None:
        return known
    if _opaque(head):
        return None
    found = _libmagic().from_buffer(head)
    return None if found in _NOTHING else found


def sniff(head: bytes, name: str) -> str:
    """The MIME type of a file whose first bytes are ``head`` (only they are read)."""
    text = _looks_like_text(head)
    found = _content_type(head, text=text)
    by_name = _by_name(name)
    if found and (found not in _GENERIC or not by_name):
        return found
    if by_name:
        # The name may only say "text" when the bytes really are text.
        if by_name.startswith("text/") or by_name in {"application/json", "application/xml"}:
            return by_name if text or not head else "application/octet-stream"
        return by_name
    if found:
        return found
    return "text/plain" if text else "application/octet-stream"
