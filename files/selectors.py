"""Reads of the file tree.

Reads that depend on who asks start from ``visible_to``. The reads the services make
(under the owner's tree lock, inside their transaction) are at the end: they take
what the service has already checked and do not ask again who may see it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any, Literal

from django.core import signing
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower

from accounts.models import User
from fileflow.errors import DomainError
from files import access, tree
from files.errors import NodeNotFound, NotAFolder
from files.models import AFTER_KEYS, FileVersion, Node, NodeShare, Tag
from files.names import numbered
from files.places import SHARED_WITH_ME

SortKey = Literal["name", "size", "modified", "type"]
SORT_KEYS: dict[str, Any] = {
    "name": Lower("name"),
    "size": F("size"),
    "modified": F("updated_at"),
    "type": F("mime_type"),
}
MAX_PAGE_SIZE = 1000
_CURSOR_SALT = "files.children-cursor"


class InvalidListing(DomainError):
    code = "invalid_listing"


def nodes_for(user: User) -> QuerySet[Node]:
    return Node.objects.visible_to(user)


def node_get(user: User, pk: Any, action: str = "view") -> Node:
    """A node the caller may ``action`` (:mod:`files.access`), or 404 — never 403:
    existence does not leak.

    The one rule for reading one's own items: what is in the trash can still be opened,
    previewed, downloaded (a folder with what was trashed with it) and thumbnailed by its
    owner, on the pages and in the API alike; changing it means restoring it first. People
    an item is shared with reach it only while it is alive. Share links never reach trashed
    items (``sharing.selectors.inside_share``)."""
    return access.node_for(user, pk, action)


MAX_SELECTION = 1000
# Ids are database keys: anything past a signed 64-bit integer cannot be one (and would
# overflow the query).
_MAX_ID = 2**63 - 1


def parse_ids(values: Iterable[str], *, most: int = MAX_SELECTION) -> list[int]:
    """The one parser of a selection of ids, for every transport: ``ids=1,2,3``, repeated
    ``ids=1&ids=2``, or both; in order, without repeats. Anything else is a 400 on ``ids``."""
    parts = [part.strip() for value in values for part in str(value).split(",") if part.strip()]
    if not parts:
        raise InvalidListing("Select at least one item first.", field="ids")
    if len(parts) > most:
        raise InvalidListing(f"Select at most {most} items at once.", field="ids")
    try:
        ids = list(dict.fromkeys(int(part) for part in parts))
    except ValueError:
        ids = []
    if not ids or not all(1 <= pk <= _MAX_ID for pk in ids):
        raise InvalidListing(
            "The selection is not valid: ids are whole numbers separated by commas.", field="ids"
        )
    return ids


def nodes_by_ids(user: User, ids: list[int]) -> list[Node]:
    """The caller's live nodes with these ids, in that order; any unknown id is a 404."""
    found = {
        node.pk: node
        for node in nodes_for(user)
        .filter(pk__in=ids, trashed_at__isnull=True)
        .select_related("blob", "parent")
    }
    if len(found) != len(ids):
        raise NodeNotFound("Some of these items do not exist (or are in the trash).", field="ids")
    return [found[pk] for pk in ids]


def folder_get(user: User, pk: Any, action: str = "view") -> Node:
    folder = node_get(user, pk, action)
    if not folder.is_folder:
        raise NotAFolder(f"“{folder.name}” is a file, not a folder.", field="parent")
    if folder.trashed_at is not None:
        raise NodeNotFound(f"The folder “{folder.name}” is in the trash.", field="parent")
    return folder


def move_get(user: User, pk: Any, parent_pk: Any) -> tuple[Node, Node]:
    """The item and the folder of a move the caller may make: into a folder they may edit;
    within one tree only what they may edit; across trees what they may see (the move
    service hands it over when they may re-share it, else copies it)."""
    target = folder_get(user, parent_pk, "edit")
    node = node_get(user, pk)
    if node.owner_id == target.owner_id:
        access.require(user, node, "edit")
    return node, target


SHARED_NAME = SHARED_WITH_ME  # as on the web page and in the API's paths
SHARED_FALLBACK_NAME = "Shared with me (from others)"


def live_folders(user: User, *, limit: int) -> list[Node]:
    """Up to ``limit`` live folders ``user`` may see (not their home folder): their own in
    path order (a folder before what it holds), then those shared with them (the shared
    folders and what they hold). Read by path ranges on ``files_node_live_folders``, which
    holds only live folders: the home folder's range, and each share's. Filtered through
    every node the person may see, this took 3.7 s in a 1M-node account."""
    folders = Node.objects.filter(is_folder=True, trashed_at__isnull=True).order_by("path", "id")
    found = list(folders.filter(tree.subtree_filter(tree.home_of(user)))[:limit])
    if len(found) < limit:
        ranges = [
            Q(pk=node_id) | Q(path__gte=key, path__lt=key + AFTER_KEYS)
            for node_id, key in NodeShare.objects.received_by(user)
            .values_list("node_id", "node_key")
            .distinct()
        ]
        if ranges:
            found += folders.filter(reduce(or_, ranges))[: limit - len(found)]
    return found


def shared_root_name(user: User) -> str:
    """The name of the Shared with me collection at the top of ``user``'s paths: the page's
    name unless one of their own items has it (theirs wins at that path)."""
    # Found by (parent, name) under the home folder. By the owner and the parent's parent,
    # PostgreSQL read every node of the owner: 96-128 ms a WebDAV request in a 1M-node
    # account (bench/account_scale.py).
    home = Node.objects.filter(owner=user, parent__isnull=True).values("pk")
    taken = Node.objects.filter(parent__in=home, name=SHARED_NAME, trashed_at__isnull=True).exists()
    return SHARED_FALLBACK_NAME if taken else SHARED_NAME


def shared_entries(user: User) -> dict[str, Node]:
    """Name -> item for everything Shared with me lists for ``user`` (each item once,
    however many shares reach it), as paths under the collection name them. Each goes by
    its own name; when two have the same name (compared without case: Finder and Explorer
    cannot hold both), the later ones get the owner's user name as a suffix, ``Report.pdf
    (alice)``, then a number. The earliest (by name, then id) keeps its plain name, so names
    stay put when more arrive."""
    nodes: dict[int, Node] = {}
    shares = NodeShare.objects.received_by(user).select_related("node", "node__owner")
    for share in shares.order_by("-created_at", "-pk"):
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


def node_at_path(user: User, path: str, *, shared: bool = True) -> Node:
    """Resolve ``/a/b/c`` among the caller's live nodes; with ``shared``, also a path under
    their Shared with me collection, ``/Shared with me/<shared item>/…``, named as WebDAV
    names it (:func:`shared_entries`). Their own items win at the top, as there.

    One query, with the content, for a path to one of their own items, however deep (a
    download by path costs what one by id does); a path that is not there is walked again
    a step at a time, to say which part is missing."""
    from files.names import split_path

    parts = split_path(path) if path.strip("/") else []
    if parts and not (shared and parts[0] in {SHARED_NAME, SHARED_FALLBACK_NAME}):
        # The names are parameters; only the table name is written into the SQL.
        node_id = RawSQL(*folder_id_at_path_sql(owner_id=user.pk, parts=parts))  # noqa: S611
        found = Node.objects.select_related("blob").filter(pk=node_id).first()
        if found is not None:
            return found
    node = tree.home_of(user)
    for depth, part in enumerate(parts):
        # Below the caller's own folder everything is theirs: no owner condition, which
        # PostgreSQL could answer from the owner's index when its statistics do not know
        # the account yet (see files.tree.NewLeaves).
        child = Node.objects.filter(parent=node, name=part, trashed_at__isnull=True).first()
        if child is None and depth == 0 and shared and part == shared_root_name(user):
            return _shared_node_at(user, path, parts[1:])
        if child is None:
            raise NodeNotFound(f"Nothing at {path!r}: “{part}” does not exist.", field="path")
        node = child
    return node


def _shared_node_at(user: User, path: str, parts: list[str]) -> Node:
    """The item at ``parts`` below the Shared with me collection, through what ``user``
    reaches (``visible_to``)."""
    if not parts:
        raise NodeNotFound(
            f"{path!r} is the list of what others share with you, not a folder: read it at "
            "/api/v1/shared-with-me/, or give a path below one of its items.",
            field="path",
        )
    node = shared_entries(user).get(parts[0])
    if node is None:
        raise NodeNotFound(
            f"Nothing at {path!r}: nothing shared with you is called “{parts[0]}”.", field="path"
        )
    for part in parts[1:]:
        child = (
            Node.objects.visible_to(user)
            .filter(parent=node, name=part, trashed_at__isnull=True)
            .first()
        )
        if child is None:
            raise NodeNotFound(f"Nothing at {path!r}: “{part}” does not exist.", field="path")
        node = child
    return node


@contextmanager
def _in_index_order(wanted: bool) -> Iterator[None]:
    """On PostgreSQL, read a page of a folder along the index of its order (the
    ``files_node_list_*`` indexes: the first rows of a range scan), never by sorting all the
    folder's entries.

    PostgreSQL estimates a folder it has no statistics for (one filled since the last
    ``ANALYZE``, or simply not among the most common) at the average folder's size, ~100
    entries; sorting 100 rows looks as cheap as reading an index in order, so it read all
    100,000 entries of a new big folder and sorted them: 72–88 ms a page instead of ~7
    (bench/tree_scale.py --million). Sorting is switched off for these statements only
    (``SET LOCAL`` in a transaction or savepoint of their own; a rollback undoes it too).
    A page filtered by a tag joins other tables, where a sort can be the better plan."""
    if not wanted or connection.vendor != "postgresql":
        yield
        return
    enclosed = connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
        yield
        if enclosed:  # the enclosing transaction goes on sorting as before (a COMMIT resets)
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort TO DEFAULT")


@dataclass
class Page:
    items: list[Node]
    next_cursor: str | None


def _encode_cursor(node: Node, sort: str) -> str:
    value = getattr(node, "sort_value", None)
    if isinstance(value, datetime):
        value = value.isoformat()
    return signing.dumps(
        {"f": node.is_folder, "v": value, "i": node.pk, "s": sort}, salt=_CURSOR_SALT, compress=True
    )


def _decode_cursor(cursor: str, sort: str) -> tuple[bool, Any, int]:
    try:
        data = signing.loads(cursor, salt=_CURSOR_SALT)
        if data["s"] != sort:
            raise InvalidListing(
                "This cursor belongs to another sort order; start again without it.", field="cursor"
            )
        value = data["v"]
        if sort == "modified":
            value = datetime.fromisoformat(value)
        return bool(data["f"]), value, int(data["i"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidListing(
            "The cursor is not valid; start again without it.", field="cursor"
        ) from None


def children_page(
    *,
    folder: Node,
    sort: str = "name",
    descending: bool = False,
    cursor: str | None = None,
    limit: int = 100,
    tag: Tag | None = None,
) -> Page:
    """One page of a folder's live children (only those tagged ``tag`` if given): folders
    first, then files, each sorted. The one pager of a folder, for the API and the page.

    Keyset pagination on (sort value, id) within each kind, so the first page of a folder
    of 100,000 entries costs what it costs for 100 (one index range scan per kind).
    """
    if sort not in SORT_KEYS:
        raise InvalidListing(f"sort must be one of {', '.join(SORT_KEYS)}.", field="sort")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidListing(f"limit must be between 1 and {MAX_PAGE_SIZE}.", field="limit")
    after: tuple[bool, Any, int] | None = _decode_cursor(cursor, sort) if cursor else None
    base = (
        Node.objects.filter(
            parent=folder, trashed_at__isnull=True, **({"tags": tag} if tag else {})
        )
        .annotate(sort_value=SORT_KEYS[sort])
        .select_related("blob")
        .prefetch_related("tags")
    )
    direction = "-" if descending else ""
    items: list[Node] = []
    phases = [True, False] if after is None or after[0] else [False]
    with _in_index_order(tag is None):
        for is_folder in phases:
            rows = base.filter(is_folder=is_folder)
            if after is not None and after[0] == is_folder:
                _, value, pk = after
                beyond = "lt" if descending else "gt"
                rows = rows.filter(
                    Q(**{f"sort_value__{beyond}": value})
                    | Q(sort_value=value, **{f"pk__{beyond}": pk})
                )
            want = limit + 1 - len(items)
            items += list(rows.order_by(f"{direction}sort_value", f"{direction}pk")[:want])
            if len(items) > limit:
                break
    has_more = len(items) > limit
    items = items[:limit]
    return Page(
        items=items, next_cursor=_encode_cursor(items[-1], sort) if has_more and items else None
    )


def trash_entries(user: User) -> QuerySet[Node]:
    return (
        Node.objects.owned_by(user)
        .filter(is_trash_root=True)
        .select_related("blob")
        .order_by("-trashed_at", "-pk")
    )


def versions_of(node: Node) -> QuerySet[FileVersion]:
    return node.versions.select_related("blob", "author").order_by("-created_at", "-pk")


def version_get(user: User, node_pk: Any, pk: Any, action: str = "view") -> FileVersion:
    node = node_get(user, node_pk, action)
    try:
        return versions_of(node).get(pk=int(pk))
    except (FileVersion.DoesNotExist, TypeError, ValueError):
        raise NodeNotFound("No such version of this file.") from None


# --- reads the services make ----------------------------------------------------------


def node_live_child(*, parent: Node, name: str, exclude: Node | None = None) -> Node | None:
    """The live item named ``name`` in ``parent`` (other than ``exclude``), if any."""
    children = Node.objects.alive().filter(parent=parent, name=name)
    if exclude is not None:
        children = children.exclude(pk=exclude.pk)
    return children.first()


def node_live_children(*, folder: Node, names: Collection[str]) -> QuerySet[Node]:
    """The live items of ``folder`` with any of ``names``."""
    return Node.objects.alive().filter(parent=folder, name__in=names)


def node_free_name(*, parent: Node, name: str, also_taken: Collection[str] = ()) -> str:
    """``name`` if unused among the folder's live children (and ``also_taken``), else
    ``name (n)``."""
    if name not in also_taken and node_live_child(parent=parent, name=name) is None:
        return name
    taken = set(
        Node.objects.alive()
        .filter(parent=parent, name__startswith=numbered(name, 1).split(" (1)")[0])
        .values_list("name", flat=True)
    )
    taken.update(also_taken)
    n = 1
    while numbered(name, n) in taken:
        n += 1
    return numbered(name, n)


def node_subtree_bytes(*, node: Node, only: Q | None = None) -> int:
    """Bytes a subtree accounts for: its files' sizes plus their kept versions."""
    nodes = tree.descendants(node, include_self=True).filter(is_folder=False)
    if only is not None:
        nodes = nodes.filter(only)
    files = nodes.aggregate(total=Sum("size"))["total"] or 0
    versions = (
        FileVersion.objects.filter(node__in=nodes.values("pk")).aggregate(total=Sum("size"))[
            "total"
        ]
        or 0
    )
    return files + versions


def node_subtree_ids(*, node: Node) -> list[int]:
    """The ids of ``node`` and everything below it."""
    return list(tree.descendants(node, include_self=True).values_list("pk", flat=True))


def node_copy_sources(*, node: Node) -> list[Node]:
    """What a copy of ``node`` takes: it and its live descendants, each folder before what
    it holds, with their tags."""
    return list(
        tree.descendants(node, include_self=True)
        .filter(trashed_at__isnull=True)
        # Only what a copy takes: reading thousands of timestamps is half a copy's time.
        .only("owner", "parent", "path", "name", "is_folder", "blob", "size", "mime_type")
        .prefetch_related("tags")
    )


def folder_id_at_path_sql(*, owner_id: int, parts: Sequence[str]) -> tuple[str, list[object]]:
    """SQL selecting the id of the live node at ``parts`` below the owner's home folder (no
    row when there is none), with its parameters: nested look-ups from the home folder
    down, each one step on the (parent, name) index of live nodes. Written in SQL because
    it runs under the tree lock (on SQLite, the database's write lock) on every small
    ``PUT``: the ORM took ~15 times longer to build it than the database takes to answer
    it. The common upload case inserts its files with it (``files.tree``)."""
    table = connection.ops.quote_name(Node._meta.db_table)
    folder_id = f"SELECT id FROM {table} WHERE owner_id = %s AND parent_id IS NULL"  # noqa: S608
    params: list[object] = [owner_id]
    for part in parts:
        folder_id = (
            f"SELECT id FROM {table} WHERE parent_id = ({folder_id}) "  # noqa: S608
            "AND name = %s AND trashed_at IS NULL"
        )
        params.append(part)
    return folder_id, params


def folder_at_path(*, owner: User, parts: list[str], names: list[str]) -> Node | None:
    """The live node at ``parts`` below the owner's home folder, with ``taken``: whether
    any of ``names`` is among its live children; None when there is none (one query)."""
    table = connection.ops.quote_name(Node._meta.db_table)
    folder_id, params = folder_id_at_path_sql(owner_id=owner.pk, parts=parts)
    marks = ", ".join(["%s"] * len(names))
    query = (
        f"SELECT n.*, EXISTS (SELECT 1 FROM {table} c WHERE c.parent_id = n.id "  # noqa: S608
        f"AND c.name IN ({marks}) AND c.trashed_at IS NULL) AS taken "
        f"FROM {table} n WHERE n.id = ({folder_id})"
    )
    return next(iter(Node.objects.raw(query, [*names, *params])), None)


def trash_roots_inside(*, node: Node) -> QuerySet[Node]:
    """Trash entries below ``node`` trashed on their own (before it was)."""
    return tree.descendants(node).filter(is_trash_root=True).exclude(trashed_at=node.trashed_at)


def trash_roots_deepest_first(*, owner: User, older_than: datetime | None = None) -> QuerySet[Node]:
    """The owner's trash entries (those trashed before ``older_than`` if given), an entry
    inside a trashed folder before that folder."""
    entries = Node.objects.filter(owner=owner, is_trash_root=True)
    if older_than is not None:
        entries = entries.filter(trashed_at__lt=older_than)
    return entries.order_by("-path", "-id")


def version_of_node(*, version: FileVersion, node: Node) -> FileVersion | None:
    """``version`` read again, with its blob, if it is still one of ``node``'s versions."""
    return FileVersion.objects.select_related("blob").filter(pk=version.pk, node=node).first()


def tag_find(*, owner_id: int, name: str) -> Tag | None:
    """The owner's tag called ``name``, matched ignoring case."""
    return Tag.objects.filter(owner_id=owner_id, name__iexact=name).first()


def user_space(*, owner_id: int) -> User:
    """The owner with only the figures of their space: quota, used and reserved bytes."""
    return User.objects.only("quota_bytes", "used_bytes", "reserved_bytes").get(pk=owner_id)


def user_usage_bytes(*, owner: User) -> int:
    """What ``used_bytes`` must be: every file (trash included) plus every kept version."""
    files = (
        Node.objects.filter(owner=owner, is_folder=False).aggregate(total=Sum("size"))["total"] or 0
    )
    versions = (
        FileVersion.objects.filter(node__owner=owner).aggregate(total=Sum("size"))["total"] or 0
    )
    return files + versions


# How to count what an owner's ``reserved_bytes`` must be (for the usage audit): apps that
# reserve space (resumable uploads) register here; files never imports those apps.
_reservation_counters: list[Callable[[int], int]] = []


def register_reservation_counter(count: Callable[[int], int]) -> None:
    """Have the usage audit prove ``reserved_bytes`` against ``count(owner_id)`` (summed)."""
    if count not in _reservation_counters:
        _reservation_counters.append(count)


def user_reserved_bytes(*, owner: User) -> int:
    """What ``reserved_bytes`` must be: what the registered apps' unfinished uploads hold."""
    return sum(count(owner.pk) for count in _reservation_counters)
