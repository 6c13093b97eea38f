"""MIME types from content (magic numbers), the file name only as a fallback."""

from __future__ import annotations

import mimetypes

import puremagic

# Content signatures too generic to beat what the name says (a .docx is a zip, a .py is text).
_GENERIC = {"application/zip", "application/octet-stream", "text/plain", "application/x-zip"}


# puremagic answers a few names that are not registered MIME types.
_NOT_MIME_TYPES = {"text/ascii": "text/plain", "text/utf-8": "text/plain"}


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


def sniff(head: bytes, name: str) -> str:
    """The MIME type of a file whose first bytes are ``head``."""
    try:
        found: str | None = puremagic.from_string(head, mime=True) if head else None
    except (puremagic.PureError, ValueError):
        found = None
    if found in _NOT_MIME_TYPES:
        found = _NOT_MIME_TYPES[found]
    by_name = _by_name(name)
    if found and (found not in _GENERIC or not by_name):
        return found
    if by_name:
        # The name may only say "text" when the bytes really are text.
        if by_name.startswith("text/") or by_name in {"application/json", "application/xml"}:
            return by_name if _looks_like_text(head) or not head else "application/octet-stream"
        return by_name
    if found:
        return found
    return "text/plain" if _looks_like_text(head) else "application/octet-stream"
