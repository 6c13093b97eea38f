"""Every operation on the file tree: parent links plus a materialised path of ancestor ids.

Each node keeps ``parent`` and ``path``: its ancestors' ids from the home folder down, each
written as 8 base-36 characters (:func:`enc`), the node itself not included; the home folder
has ``""``. So:

- the descendants of folder F are the range ``[key(F), key(F) with its last id + 1)`` where
  ``key(F) = F.path + enc(F.id)``: one range scan on the ``(path, id)`` index. Fixed width
  makes the range exact without pattern matching; on PostgreSQL the column uses the "C"
  collation, so comparisons are bytewise on both databases;
- the ancestors are the ids in the path, read with one ``pk IN`` query; depth is
  ``len(path) // 8``;
- an insert is one INSERT; a move is one UPDATE of the node and one of its subtree's paths;
- ordering by ``(path, id)`` puts every folder before what it holds.

Rules (see DESIGN.md, "The tree"):
- every write runs inside ``transaction.atomic()`` and first takes the owner's tree lock
  (:func:`lock`), then re-reads the nodes it changes, so writes to one tree are serialised
  and different users never wait on each other;
- ``parent`` and ``path`` are written only here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    CharField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, Concat, Length, Mod, Substr
from django.utils import timezone

from accounts.models import User
from files.errors import InvalidMove
from files.models import AFTER_KEYS, Node, NodeShare

DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
WIDTH = 8  # 36**8 ≈ 2.8e12 ids
# Node.path holds at most this many ancestors (its max_length is 2048 = 256 * 8); the
# limit leaves room so that a clear error comes before the column's limit.
MAX_DEPTH = 250


def enc(pk: int) -> str:
    """``pk`` as 8 base-36 digits: ``enc(1) == "00000001"``; fixed width, so the strings sort
    like the numbers."""
    if not 0 < pk < 36**WIDTH:
        raise ValueError(f"node id {pk} does not fit in {WIDTH} base-36 digits")
    digits = []
    for _ in range(WIDTH):
        pk, digit = divmod(pk, 36)
        digits.append(DIGITS[digit])
    return "".join(reversed(digits))


def enc_sql(pk: Combinable) -> Concat:
    """:func:`enc` as a database expression (both databases): one digit per power of 36
    (integer division and MOD, then SUBSTR of the digit string)."""
    pk = ExpressionWrapper(pk, output_field=BigIntegerField())
    digits = [
        Substr(
            Value(DIGITS),
            Cast(Mod(pk / Value(36**power), Value(36)) + Value(1), IntegerField()),
            Value(1),
        )
        for power in range(WIDTH - 1, -1, -1)
    ]
    return Concat(*digits, output_field=CharField())


def depth_first() -> Concat:
    """An ordering expression: each folder directly followed by its subtree (the full key of
    each node, its path plus its own id). Not indexed: for short lists such as the admin's
    pages; ``order_by("path", "id")`` is the indexed "a folder before what it holds"."""
    return Concat("path", enc_sql(F("id")), output_field=CharField())


def ids_in(path: str) -> list[int]:
    """The ancestor ids a path holds, from the home folder down."""
    return [int(path[i : i + WIDTH], 36) for i in range(0, len(path), WIDTH)]


def depth(node: Node) -> int:
    return len(node.path) // WIDTH


def key(node: Node) -> str:
    """The path of ``node``'s children; every descendant's path starts with it."""
    return node.path + enc(node.pk)


def _range(node: Node) -> tuple[str, str]:
    """``[low, high)``: the paths of everything below ``node``."""
    return key(node), node.path + enc(node.pk + 1)


def lock(owner_id: int) -> None:
    """Take the owner's tree lock for the rest of the current transaction.

    On PostgreSQL the lock is the owner's row in ``accounts_user``, locked ``FOR NO KEY
    UPDATE``: the very lock any UPDATE of that row takes, so a write that first charges
    the owner's usage (a conditional UPDATE of the row that matched it) already holds the
    tree lock, with no statement of its own (:func:`files.services._store_new_files`).
    Inserts elsewhere that refer to the user (``FOR KEY SHARE``) never wait for it.
    On SQLite the transaction was opened with ``BEGIN IMMEDIATE`` (settings), which
    already holds the database's single write lock until commit."""
    if not connection.in_atomic_block:
        raise RuntimeError("files.tree.lock() must be called inside transaction.atomic()")
    if connection.vendor == "postgresql":
        locked = User.objects.select_for_update(no_key=True).filter(pk=owner_id)
        list(locked.values_list("pk", flat=True))


def refresh(node: Node) -> Node:
    """Re-read a node's tree columns and fields after taking the lock."""
    node.refresh_from_db()
    return node


@transaction.atomic
def create_home(owner: User) -> Node:
    """Create the owner's home folder: the root of a new tree."""
    lock(owner.pk)
    existing = Node.objects.filter(owner=owner, parent__isnull=True).first()
    if existing is not None:
        return existing
    return Node.objects.create(owner=owner, name="", is_folder=True, path="")


def home_of(owner: User) -> Node:
    home = Node.objects.filter(owner=owner, parent__isnull=True).first()
    return home if home is not None else create_home(owner)


def _check_depth(parent: Node, levels: int) -> None:
    """Refuse to put ``levels`` more levels below ``parent`` past :data:`MAX_DEPTH`."""
    if depth(parent) + levels > MAX_DEPTH:
        raise InvalidMove(
            f"Folders can be nested at most {MAX_DEPTH} levels deep; "
            f"this would make {depth(parent) + levels}.",
            field="parent",
        )


def insert(node: Node, parent: Node) -> Node:
    """Save a new node as a child of ``parent`` (caller holds the lock): one INSERT."""
    _check_depth(parent, 1)
    node.parent = parent
    node.path = key(parent)
    node.save(force_insert=True)
    return node


def insert_leaves(nodes: list[Node], parent: Node) -> list[Node]:
    """Save new files as children of ``parent`` (caller holds the lock), in bulk."""
    if not nodes:
        return nodes
    _check_depth(parent, 1)
    for node in nodes:
        node.parent, node.path = parent, key(parent)
    _write(nodes)
    return nodes


def enc_sql_text(column: str) -> str:
    """:func:`enc` of the integer ``column`` as SQL text, for the raw statements here (both
    databases; the expression form for querysets is :func:`enc_sql`). ``%%`` is the
    modulo operator escaped for the parameter style of ``cursor.execute``."""
    return " || ".join(
        f"SUBSTR('{DIGITS}', CAST(({column} / {36**power}) %% 36 + 1 AS INTEGER), 1)"
        for power in range(WIDTH - 1, -1, -1)
    )


class NewLeaves:
    """New files for one folder, their INSERT built before the transaction opens, so the
    lock is held only while it runs (:meth:`insert`). The folder is found by the INSERT
    itself: ``folder_id_sql`` (with ``params``) selects its id."""

    def __init__(
        self, nodes: list[Node], *, owner_id: int, folder_id_sql: str, params: Sequence[object]
    ) -> None:
        if not nodes:
            raise ValueError("NewLeaves needs at least one node")
        self.nodes = nodes
        table = connection.ops.quote_name(Node._meta.db_table)
        fields = [
            field
            for field in Node._meta.concrete_fields
            if field.name not in {"id", "parent", "path", "blob"}
        ]
        # One time for the whole batch (what pre_save would give each node a moment apart),
        # so that it is one of the values the rows share.
        now = timezone.now()
        for node in nodes:
            for field in fields:
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    setattr(node, field.attname, now)
        # A column no node has a value for is left to its NULL (PostgreSQL would otherwise
        # read a bare NULL as text). A value every row has (owner, times, flags, often the
        # type) is prepared and sent once, in the SELECT list; the rest, then the blob (given
        # to insert()), go in a VALUES list whose columns are column1, column2, … on both
        # databases. PostgreSQL planned the former UNION ALL of one SELECT per row in ~20 ms
        # for 50 rows, 10 times longer than it took to run, and psycopg spent ~1.3 ms
        # writing their ~700 parameters into the statement (bench/transfer.py, upload-many).
        shared: list[int] = []
        shared_values: list[Any] = []
        vary: list[int] = []
        columns_of_rows: list[list[Any]] = []
        for i, field in enumerate(fields):
            values = [getattr(node, field.attname) for node in nodes]
            first = values[0]
            if all(value == first for value in values):
                if first is not None:
                    shared.append(i)
                    shared_values.append(field.get_db_prep_save(first, connection))
            elif any(value is not None for value in values):
                vary.append(i)
                columns_of_rows.append([field.get_db_prep_save(v, connection) for v in values])
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(fields[i].column)) for i in shared + vary)
        row = "(" + ", ".join(["%s"] * (len(vary) + 1)) + ")"
        key_sql = f"folder.path || {enc_sql_text('folder.id')}"
        names = ", ".join(["%s"] * len(nodes))
        constants = "".join("%s, " for _ in shared)
        # The folder is found by its id; its owner is only checked (the unary plus keeps
        # the owner's index out of the plan, on both databases). Statistics taken before a
        # new account's nodes arrived say it has none, so PostgreSQL estimated one row for
        # the owner and read the owner's index instead of the primary key: every upload
        # into an account of 1,000,000 nodes scanned them all, ~130 ms (bench/tree_scale.py
        # --million, right after the account was made; ~3 ms once ANALYZE had run).
        # The names are looked for in the folder by ``+f.id`` likewise: compared with the
        # folder's id itself, a folder made since the last ANALYZE looked empty, and the
        # parent's index (with a name test on each of its entries) looked as good as the
        # (parent, name) index: 1,000 rows read for an upload into a new folder of 1,000
        # (tests/files/test_plans.py).
        self._sql = (
            f"WITH folder AS (SELECT f.id, f.path FROM {table} f "  # noqa: S608 - no user text
            f"WHERE f.id = ({folder_id_sql}) AND +f.owner_id = %s AND f.is_folder = %s "
            "AND f.trashed_at IS NULL AND LENGTH(f.path) <= %s "
            f"AND NOT EXISTS (SELECT 1 FROM {table} c WHERE c.parent_id = +f.id "
            f"AND c.name IN ({names}) AND c.trashed_at IS NULL)) "
            f"INSERT INTO {table} ({columns}, blob_id, parent_id, path) "
            f"SELECT {constants}v.*, folder.id, {key_sql} "
            f"FROM folder, (VALUES {', '.join([row] * len(nodes))}) v "
            "RETURNING id, name, parent_id, path"
        )
        self._head: list[Any] = [
            *params,
            owner_id,
            True,
            (MAX_DEPTH - 1) * WIDTH,
            *(node.name for node in nodes),
            *shared_values,
        ]
        self._rows = [list(row) for row in zip(*columns_of_rows, strict=True)] or [
            [] for _ in nodes
        ]

    def insert(self, blob_ids: Sequence[int]) -> bool:
        """Save the files, the i-th with the content ``blob_ids[i]``, in one statement (the
        caller holds the lock): only when the folder is a live folder of the owner, one more
        level fits below it, and none of its live children has one of the files' names.
        False (nothing inserted) otherwise. The nodes get their ids, blob, parent and path,
        as :func:`insert_leaves` gives them."""
        values = list(self._head)
        for row, blob_id in zip(self._rows, blob_ids, strict=True):
            values += row
            values.append(blob_id)
        with connection.cursor() as cursor:
            cursor.execute(self._sql, values)
            inserted = {name: (pk, parent_id, path) for pk, name, parent_id, path in cursor}
        if not inserted:
            return False
        if len(inserted) != len(self.nodes):  # pragma: no cover - the folder is one row or none
            raise RuntimeError("the database inserted only some of the new nodes")
        for node, blob_id in zip(self.nodes, blob_ids, strict=True):
            node.pk, node.parent_id, node.path = inserted[node.name]
            node.blob_id = blob_id
            node._state.adding = False  # documented Model._state: the row exists now
            node._state.db = connection.alias
        return True


def insert_copies(
    sources: list[Node], parent: Node, make: Callable[[Node], Node]
) -> dict[int, Node]:
    """Insert copies of a subtree as a child of ``parent`` (caller holds the lock).

    ``sources`` are the nodes to copy, the top first; a node whose parent is not among them
    is left out with everything below it. ``make(source)`` returns the unsaved copy (its
    parent and path are set here). Returns copies by source id. The copies are written one
    level at a time with ``bulk_create``, so that each level knows its parents' new ids."""
    top = sources[0]
    by_depth: dict[int, list[Node]] = {}
    for source in sources:
        by_depth.setdefault(depth(source), []).append(source)
    _check_depth(parent, max(by_depth) - depth(top) + 1)
    copies: dict[int, Node] = {}
    for level in sorted(by_depth):
        batch = []
        for source in by_depth[level]:
            if source.pk == top.pk:
                copy_parent = parent
            elif source.parent_id in copies:
                copy_parent = copies[source.parent_id]
            else:
                continue  # its folder was left out (or is not among the sources)
            copy = make(source)
            copy.parent, copy.path = copy_parent, key(copy_parent)
            copies[source.pk] = copy
            batch.append(copy)
        _write(batch)
    return copies


def _write(nodes: list[Node]) -> None:
    Node.objects.bulk_create(nodes, batch_size=500)
    for node in nodes:
        if node.pk is None:  # pragma: no cover - SQLite before 3.35 returns no ids
            raise RuntimeError("the database did not return the ids of the new nodes")


def move(node: Node, new_parent: Node) -> Node:
    """Make ``node`` (with its subtree) a child of ``new_parent`` (caller holds the lock and
    has checked that ``new_parent`` is not inside ``node``): one UPDATE of the node, one of
    its subtree's paths, in the caller's transaction."""
    old_key = key(node)
    low, high = _range(node)
    node.parent = new_parent
    node.path = key(new_parent)
    new_key = key(node)
    below = Node.objects.filter(path__gte=low, path__lt=high)
    levels = 1  # the node itself, then as many as its subtree holds below it
    if node.is_folder and len(new_key) > len(old_key):
        deepest = below.aggregate(deepest=Max(Length("path")))["deepest"]
        if deepest is not None:
            levels += (deepest - len(old_key)) // WIDTH + 1
    _check_depth(new_parent, levels)
    node.save(update_fields=["parent", "path", "updated_at"])
    if new_key != old_key:
        if node.is_folder:
            below.update(path=Concat(Value(new_key), Substr("path", len(old_key) + 1)))
        # Shares with people on the node or below it keep their node's key.
        NodeShare.objects.filter(node_key__gte=old_key, node_key__lt=old_key + AFTER_KEYS).update(
            node_key=Concat(Value(new_key), Substr("node_key", len(old_key) + 1))
        )
    return node


def delete_subtree(node: Node) -> None:
    """Delete a node and everything below it."""
    Node.objects.filter(subtree_filter(node, include_self=True)).delete()


def subtree_filter(folder: Node, *, include_self: bool = False) -> Q:
    """A filter selecting the nodes below ``folder`` (for use in other queries)."""
    low, high = _range(folder)
    below = Q(path__gte=low, path__lt=high)
    return below | Q(pk=folder.pk) if include_self else below


def descendants(node: Node, *, include_self: bool = False) -> QuerySet[Node]:
    """Everything below ``node``, each folder before what it holds."""
    return Node.objects.filter(subtree_filter(node, include_self=include_self)).order_by(
        "path", "id"
    )


def ancestors(node: Node, *, include_self: bool = False) -> QuerySet[Node]:
    """The folders above ``node``, from the home folder down: the ids in its path."""
    ids = ids_in(node.path) + ([node.pk] if include_self else [])
    # Each ancestor's path is a prefix of the next one's, so path order is top-down.
    return Node.objects.filter(pk__in=ids).order_by("path")


def descendants_of_many(nodes: QuerySet[Node], *, include_self: bool = True) -> QuerySet[Node]:
    """Everything below any of ``nodes``: one range per node."""
    match = Q(pk__in=[])
    for node in nodes.only("id", "path"):
        match |= subtree_filter(node, include_self=include_self)
    return Node.objects.filter(match).order_by("path", "id")


def is_inside(node: Node, folder: Node, *, include_self: bool = True) -> bool:
    """Is ``node`` ``folder`` itself or somewhere below it? (No query: read from the path.)"""
    if node.pk == folder.pk:
        return include_self
    return node.path.startswith(key(folder))


def subtree_size(node: Node) -> int:
    """How many nodes are in the subtree rooted at ``node`` (itself included)."""
    return 1 + Node.objects.filter(subtree_filter(node)).count()


def path_of(node: Node) -> str:
    """``/Documents/report.pdf`` — derived from the ancestors, never stored."""
    return paths_of([node])[node.pk]


def path_along(chain: list[Node]) -> str:
    """The path of the last node of ``chain``, its ancestors from the home folder down: for a
    caller that already has them (breadcrumbs), so they are not read twice."""
    return "/" + "/".join(a.name for a in chain if a.parent_id is not None)


def paths_of(nodes: Iterable[Node]) -> dict[int, str]:
    """Paths of many nodes: the folders named in their ``path`` columns, read in one
    ``pk IN`` query (the home folder, first in every path, has no name in paths).

    A node read before a concurrent move or delete may name a folder that is gone: its path
    is read again (one more query, only then), so no path names a missing folder."""
    nodes = list(nodes)
    stored = {node.pk: node.path for node in nodes}
    names = _names_of({pk for path in stored.values() for pk in ids_in(path)[1:]})
    stale = [pk for pk, path in stored.items() if any(a not in names for a in ids_in(path)[1:])]
    if stale:
        stored.update(Node.objects.filter(pk__in=stale).values_list("id", "path"))
        missing = {pk for pk in stale for pk in ids_in(stored[pk])[1:]} - names.keys()
        names.update(_names_of(missing))
    result: dict[int, str] = {}
    for node in nodes:
        if node.parent_id is None:
            result[node.pk] = "/"
            continue
        parts = [names[pk] for pk in ids_in(stored[node.pk])[1:] if pk in names]
        result[node.pk] = "/" + "/".join([*parts, node.name])
    return result


def _names_of(ids: set[int]) -> dict[int, str]:
    wanted = sorted(ids)
    names: dict[int, str] = {}
    for start in range(0, len(wanted), 10_000):  # stay under SQLite's parameter limit
        chunk = wanted[start : start + 10_000]
        names.update(Node.objects.filter(pk__in=chunk).values_list("id", "name"))
    return names


def check(owner: User) -> list[str]:
    """Problems in the owner's tree (empty when consistent): one home folder with an empty
    path, and every other node's path equal to its parent's path plus the parent's id, which
    by induction from the home is the path its parent links give. Reads under the owner's
    lock, so a concurrent write cannot look like damage."""
    with transaction.atomic():
        lock(owner.pk)
        homes = list(
            Node.objects.filter(owner=owner, parent__isnull=True).values_list("id", "path")
        )
        if len(homes) != 1:
            return [f"expected one home folder, found {len(homes)}"]
        problems = []
        if homes[0][1] != "":
            problems.append(f"the home folder {homes[0][0]} has path {homes[0][1]!r}, not ''")
        elsewhere = list(
            Node.objects.filter(owner=owner)
            .exclude(parent__owner=owner)
            .exclude(parent__isnull=True)
            .order_by("id")
            .values_list("id", flat=True)
        )
        if elsewhere:
            listed = ", ".join(str(pk) for pk in elsewhere[:50])
            problems.append(f"nodes whose folder belongs to another user: {listed}")
        # Cheap first pass in SQL: a node whose path is not its parent's key. That includes
        # the children of a wrong folder, whose own paths may be right.
        suspects = dict(
            Node.objects.filter(owner=owner, parent__isnull=False)
            .annotate(expected=Concat(F("parent__path"), enc_sql(F("parent_id"))))
            .exclude(path=F("expected"))
            .values_list("id", "path")
        )
        wrong = []
        for pk, (stored, expected) in sorted(_paths_from_links(suspects).items()):
            if expected is None:
                wrong.append(f"node {pk} is not below the home folder (a loop in its parents)")
            elif stored != expected:
                wrong.append(f"node {pk} has path {stored!r}, its parent links give {expected!r}")
        shown = 50
        problems += wrong[:shown]
        if len(wrong) > shown:
            problems.append(f"… and {len(wrong) - shown} more nodes with a wrong path")
        stale = list(
            NodeShare.objects.filter(node__owner=owner)
            .annotate(expected=Concat(F("node__path"), enc_sql(F("node_id"))))
            .exclude(node_key=F("expected"))
            .values_list("id", flat=True)[:shown]
        )
        if stale:
            listed = ", ".join(str(pk) for pk in stale)
            problems.append(f"shares with people whose node key is stale: {listed}")
        return problems


def _paths_from_links(stored: dict[int, str]) -> dict[int, tuple[str, str | None]]:
    """For nodes and their stored paths: (stored, the path their parent links give, or None
    when the links lead in a loop), walking up the links one ``pk IN`` query per level."""
    parents: dict[int, int | None] = {}
    pending = set(stored)
    while pending:
        rows = Node.objects.filter(pk__in=pending).values_list("id", "parent_id")
        parents.update(rows)
        pending = {p for _, p in rows if p is not None and p not in parents}
    result: dict[int, tuple[str, str | None]] = {}
    for pk, path in stored.items():
        chain: list[int] = []
        current = parents.get(pk)
        while current is not None and len(chain) <= len(parents):
            chain.append(current)
            current = parents.get(current)
        looped = len(chain) > len(parents)
        result[pk] = (path, None if looped else "".join(enc(p) for p in reversed(chain)))
    return result


def rebuild(owner: User) -> None:
    """Recompute the owner's paths from the parent links, level by level from the home
    folder (repair). Nodes that no parent link leads to from the home stay as they were;
    :func:`check` still reports them."""
    with transaction.atomic():
        lock(owner.pk)
        home = Node.objects.get(owner=owner, parent__isnull=True)
        Node.objects.filter(pk=home.pk).update(path="")
        parent_key = Node.objects.filter(pk=OuterRef("parent_id")).values(
            key=Concat("path", enc_sql(F("id")))
        )[:1]
        level = [home.pk]
        seen = {home.pk}
        while level:
            below: list[int] = []
            for start in range(0, len(level), 500):
                parents = level[start : start + 500]
                children = Node.objects.filter(owner=owner, parent_id__in=parents)
                children.update(path=Subquery(parent_key))
                below += children.values_list("id", flat=True)
            level = [pk for pk in below if pk not in seen]
            seen.update(level)
        node_key = Node.objects.filter(pk=OuterRef("node_id")).values(
            key=Concat("path", enc_sql(F("id")))
        )[:1]
        NodeShare.objects.filter(node__owner=owner).update(node_key=Subquery(node_key))
