"""Wording shared by every app's messages."""

from __future__ import annotations

from django.utils.translation import ngettext


def counted(count: int, singular: str, plural: str) -> str:
    """``count`` with its noun in the right number: ``1 blob``, ``0 blobs``, ``2 blobs``."""
    return f"{count} {ngettext(singular, plural, count)}"
