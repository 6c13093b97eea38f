"""MIME types from content (magic numbers), the file name only as a fallback.

Only the head of a file is ever read (``files.ingest.HEAD_SIZE``, 8 KiB): the upload's
Receiver keeps it as the bytes pass, so detection costs no extra read. Binary content goes
to libmagic (Debian's ``libmagic1`` through python-magic): a known format is found in about
10 µs. Text goes through a few markup and document signatures of our own instead, because
libmagic's text classifiers take about 1 ms on a few KiB of text.
"""

from __future__ import annotations

import functools
import mimetypes

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


# The commonest binary formats, answered without libmagic (which also insists on more of
# the file than the signature: a PNG without its IHDR chunk is "data" to it).
_BINARY_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
)


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
    for signature, mime_type in _BINARY_SIGNATURES:
        if head.startswith(signature):
            return mime_type
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
