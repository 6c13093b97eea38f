"""The rules a file or folder name must follow, checked in one place."""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

from files.errors import InvalidName

MAX_NAME_LENGTH = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def clean_name(name: object) -> str:
    """Return the NFC-normalised name, or raise InvalidName saying which rule it breaks."""
    if not isinstance(name, str):
        raise InvalidName("A name must be text.", field="name")
    # Spaces at either end are trimmed, not kept: Windows and macOS cannot hold such names,
    # and every transport (page, API, WebDAV, uploads) comes through here.
    given = unicodedata.normalize("NFC", name)
    name = given.strip(" ")
    if given and not name:
        raise InvalidName("A name cannot be only spaces.", field="name")
    if name == "":
        raise InvalidName("A name cannot be empty.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(
            f"A name can be at most {MAX_NAME_LENGTH} characters; this one has {len(name)}.",
            field="name",
        )
    if "/" in name:
        raise InvalidName("A name cannot contain '/'.", field="name")
    if _CONTROL.search(name):
        raise InvalidName(
            "A name cannot contain control characters (such as NUL, tab or newline).",
            field="name",
        )
    if name in {".", ".."}:
        raise InvalidName("A name cannot be '.' or '..'.", field="name")
    if name.strip() == "":
        raise InvalidName("A name cannot be only blank characters.", field="name")
    return name


def split_path(path: str) -> list[str]:
    """``/a/b/c.txt`` → ``["a", "b", "c.txt"]``, each part checked as a name."""
    if not isinstance(path, str) or not path.strip():
        raise InvalidName("Give a path such as /Documents/report.pdf.", field="path")
    return [clean_name(part) for part in path.strip("/").split("/") if part != ""]


def numbered(name: str, n: int) -> str:
    """``report.pdf``, 1 → ``report (1).pdf``; keeps the extension, stays within the limit."""
    pure = PurePosixPath(name)
    suffix = pure.suffix if pure.stem and len(pure.suffix) <= 16 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    tag = f" ({n})"
    stem = stem[: MAX_NAME_LENGTH - len(tag) - len(suffix)]
    return f"{stem}{tag}{suffix}"
