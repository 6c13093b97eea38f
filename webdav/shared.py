"""The "Shared with me" collection at the root of the WebDAV drive.

It lists what other people share with the caller, the same items as the Shared with me page
(:func:`sharing.people.shared_with_me`), each under its own name; when two of them have the
same name (compared without case: Finder and Explorer cannot hold both), the later ones get
the owner's user name as a suffix, ``Report.pdf (alice)``, then a number. The earliest shared
item (by name, then id) keeps its plain name, so names stay put when more arrive.

When the caller has an item of their own named "Shared with me" at the top of their files,
theirs wins at that path and the collection is called "Shared with me (from others)".
"""

from __future__ import annotations

import unicodedata
from typing import Any

from accounts.models import User
from files.models import Node
from sharing.people import shared_with_me

SHARED_NAME = "Shared with me"  # as on the web page
SHARED_FALLBACK_NAME = "Shared with me (from others)"

ENTRIES_KEY = "fileflow.dav.shared_entries"
ROOT_KEY = "fileflow.dav.shared_root"


def shared_root_name(user: User) -> str:
    """The collection's name at the root: the page's name unless one of the caller's own
    items has it."""
    taken = Node.objects.filter(
        owner=user, parent__parent__isnull=True, name=SHARED_NAME, trashed_at__isnull=True
    ).exists()
    return SHARED_FALLBACK_NAME if taken else SHARED_NAME


def shared_entries(user: User) -> dict[str, Node]:
    """Name -> item for everything shared with ``user`` (each item once, however many
    shares reach it)."""
    nodes: dict[int, Node] = {}
    for share in shared_with_me(user):
        if share.node.trashed_at is None:
            nodes.setdefault(share.node_id, share.node)
    entries: dict[str, Node] = {}
    taken: set[str] = set()
    for node in sorted(nodes.values(), key=lambda node: (node.name, node.pk)):
        name = node.name
        if name.casefold() in taken:
            name = f"{node.name} ({node.owner.get_username()})"
            number = 2
            while name.casefold() in taken:
                name = f"{node.name} ({node.owner.get_username()}, {number})"
                number += 1
        taken.add(name.casefold())
        entries[name] = node
    return entries


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
