"""The "Shared with me" collection at the root of the WebDAV drive.

It lists what other people share with the caller, the same items as the Shared with me page,
named as :func:`files.selectors.shared_entries` names them (the API's ``?path=`` resolves
the same names): each under its own name; when two of them have the same name (compared
without case: Finder and Explorer cannot hold both), the later ones get the owner's user
name as a suffix, ``Report.pdf (alice)``, then a number.

When the caller has an item of their own named "Shared with me" at the top of their files,
theirs wins at that path and the collection is called "Shared with me (from others)".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from accounts.models import User
from files.models import Node
from files.selectors import SHARED_FALLBACK_NAME, SHARED_NAME, shared_entries, shared_root_name

__all__ = [
    "SHARED_FALLBACK_NAME",
    "SHARED_NAME",
    "entries_in",
    "entry_named",
    "root_name_in",
    "shared_entries",
    "shared_root_name",
]

ENTRIES_KEY = "fileflow.dav.shared_entries"
ROOT_KEY = "fileflow.dav.shared_root"


def root_name_in(environ: dict[str, Any], user: User) -> str:
    """:func:`shared_root_name`, once per request."""
    if ROOT_KEY not in environ:
        environ[ROOT_KEY] = shared_root_name(user)
    name: str = environ[ROOT_KEY]
    return name


def entries_in(environ: dict[str, Any], user: User) -> dict[str, Node]:
    """:func:`shared_entries`, once per request."""
    if ENTRIES_KEY not in environ:
        environ[ENTRIES_KEY] = shared_entries(user)
    entries: dict[str, Node] = environ[ENTRIES_KEY]
    return entries


def entry_named(environ: dict[str, Any], user: User, name: str) -> Node | None:
    return entries_in(environ, user).get(unicodedata.normalize("NFC", name))
