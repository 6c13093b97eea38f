"""Every operation on the file tree. The only module besides the model that uses mptt.

Rules (see DESIGN.md, "The tree"):
- every write runs inside ``transaction.atomic()`` and first takes the owner's tree lock
  (:func:`lock`), then re-reads the nodes it changes, so writes to one tree are serialised
  and different users never wait on each other;
- tree columns are never written with ``QuerySet.update``, ``bulk_create`` or raw SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import connection, transaction
from django.db.models import QuerySet

from accounts.models import User
from files.models import Node

# Namespace of our PostgreSQL advisory locks (two-int form: namespace, key).
_LOCK_NAMESPACE = 0x46460001  # "FF" + 1
_NEW_TREE_KEY = 0  # tree_id allocation is global: taken when a home folder is created


def _advisory_lock(key: int) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, key])
    # SQLite: the transaction was opened with BEGIN IMMEDIATE (settings), which already
    # holds the database's single write lock until commit.


def lock(owner_id: int) -> None:
    """Take the owner's tree lock for the rest of the current transaction."""
    if not connection.in_atomic_block:
        raise RuntimeError("files.tree.lock() must be called inside transaction.atomic()")
    _advisory_lock(owner_id)


def refresh(node: Node) -> Node:
    """Re-read a node's tree columns and fields after taking the lock."""
    node.refresh_from_db()
    return node


@transaction.atomic
def create_home(owner: User) -> Node:
    """Create the owner's home folder: the root of a new tree."""
    _advisory_lock(_NEW_TREE_KEY)  # mptt gives new trees max(tree_id) + 1
    lock(owner.pk)
    existing = Node.objects.filter(owner=owner, parent__isnull=True).first()
    if existing is not None:
        return existing
    home = Node(owner=owner, name="", is_folder=True)
    Node._tree_manager.insert_node(home, None, save=True)
    return home


def home_of(owner: User) -> Node:
    home = Node.objects.filter(owner=owner, parent__isnull=True).first()
    return home if home is not None else create_home(owner)


def insert(node: Node, parent: Node) -> Node:
    """Save a new node as the last child of ``parent`` (caller holds the lock)."""
    node.parent = parent
    Node._tree_manager.insert_node(node, parent, position="last-child", save=True)
    return node


def insert_copies(
    sources: list[Node], parent: Node, make: Callable[[Node], Node]
) -> dict[int, Node]:
    """Insert copies of a subtree as the last child of ``parent`` (caller holds the lock).

    ``sources`` are the nodes to copy in tree order, the top first; a node whose parent is
    not among them is left out with everything below it. ``make(source)`` returns the
    unsaved copy (its tree columns and parent are set here). Returns copies by source id.

    Inserting the copies one by one would shift every node to the right of ``parent`` once
    per copy and rewrite the ancestors' rows as often; on PostgreSQL each of those rows
    keeps every version until the transaction ends, so a long copy gets slower with every
    node (about 19 s for 2,000 nodes). Here mptt makes room for the whole subtree in one
    shift, and the copies, numbered depth-first into that room, are written one level at a
    time so that each level knows its parents' ids. This and ``insert_leaves`` are the places
    that write tree columns without mptt's ``insert_node``; ``check`` proves the result.
    """
    top = sources[0]
    children: dict[int, list[Node]] = {}
    for source in sources[1:]:
        assert source.parent_id is not None
        children.setdefault(source.parent_id, []).append(source)
    parent = refresh(parent)
    columns: dict[int, tuple[int, int, int]] = {}  # source id -> (lft, rght, level)
    counter = parent.rght  # the copy's top takes the place of parent's old rght
    stack: list[tuple[Node, int, bool]] = [(top, parent.level + 1, False)]
    lefts: dict[int, int] = {}
    while stack:
        node, level, done = stack.pop()
        if done:
            columns[node.pk] = (lefts[node.pk], counter, level)
            counter += 1
            continue
        lefts[node.pk] = counter
        counter += 1
        stack.append((node, level, True))
        stack.extend((child, level + 1, False) for child in reversed(children.get(node.pk, [])))
    count = len(columns)
    Node._tree_manager._create_space(2 * count, parent.rght - 1, parent.tree_id)

    copies: dict[int, Node] = {}
    by_level: dict[int, list[Node]] = {}
    for source in sources:
        if source.pk in columns:
            by_level.setdefault(columns[source.pk][2], []).append(source)
    for level in sorted(by_level):
        batch = []
        for source in by_level[level]:
            copy = make(source)
            copy.lft, copy.rght, copy.level = columns[source.pk]
            copy.tree_id = parent.tree_id
            copy.parent = parent if source.pk == top.pk else copies[source.parent_id]  # type: ignore[index]
            copies[source.pk] = copy
            batch.append(copy)
        _write(batch)
    refresh(parent)
    return copies


def insert_leaves(nodes: list[Node], parent: Node) -> list[Node]:
    """Save new files as the last children of ``parent`` in one shift (caller holds the lock).

    What :func:`insert` does for one node, for many at once: mptt would shift every node to
    the right of ``parent`` once per file; here room for all of them is made once."""
    if not nodes:
        return nodes
    parent = refresh(parent)
    start = parent.rght  # the first new node takes the place of parent's old rght
    Node._tree_manager._create_space(2 * len(nodes), parent.rght - 1, parent.tree_id)
    for index, node in enumerate(nodes):
        node.lft, node.rght = start + 2 * index, start + 2 * index + 1
        node.level, node.tree_id, node.parent = parent.level + 1, parent.tree_id, parent
    _write(nodes)
    refresh(parent)
    return nodes


def _write(nodes: list[Node]) -> None:
    """Insert nodes whose tree columns are set (``insert_copies``, ``insert_leaves``)."""
    Node.objects.bulk_create(nodes, batch_size=500)
    for node in nodes:
        if node.pk is None:  # pragma: no cover - SQLite before 3.35 returns no ids
            raise RuntimeError("the database did not return the ids of the new nodes")
        # What mptt records after a save, so a later save() sees no move.
        Node._mptt_meta.update_mptt_cached_fields(node)


def move(node: Node, new_parent: Node) -> Node:
    """Make ``node`` (with its subtree) the last child of ``new_parent``."""
    Node._tree_manager.move_node(node, new_parent, position="last-child")
    node.refresh_from_db()
    return node


def delete_subtree(node: Node) -> None:
    """Delete a node and everything below it, closing the gap in the tree."""
    node.delete()


def descendants(node: Node, *, include_self: bool = False) -> QuerySet[Node]:
    return node.get_descendants(include_self=include_self)


def ancestors(node: Node, *, include_self: bool = False) -> QuerySet[Node]:
    return node.get_ancestors(include_self=include_self)


def descendants_of_many(nodes: QuerySet[Node], *, include_self: bool = True) -> QuerySet[Node]:
    return Node._tree_manager.get_queryset_descendants(nodes, include_self=include_self)


def is_inside(node: Node, folder: Node, *, include_self: bool = True) -> bool:
    """Is ``node`` ``folder`` itself or somewhere below it?"""
    return node.is_descendant_of(folder, include_self=include_self)


def subtree_filter(folder: Node, *, include_self: bool = False) -> dict[str, int]:
    """Filter kwargs selecting the nodes below ``folder`` (for use in other queries)."""
    if include_self:
        return {"tree_id": folder.tree_id, "lft__gte": folder.lft, "rght__lte": folder.rght}
    return {"tree_id": folder.tree_id, "lft__gt": folder.lft, "rght__lt": folder.rght}


def subtree_size(node: Node) -> int:
    """How many nodes are in the subtree rooted at ``node`` (itself included)."""
    return (node.rght - node.lft + 1) // 2


def path_of(node: Node) -> str:
    """``/Documents/report.pdf`` — derived from the ancestors, never stored."""
    if node.parent_id is None:
        return "/"
    return path_along(list(ancestors(node, include_self=True)))


def path_along(chain: list[Node]) -> str:
    """The path of the last node of ``chain``, its ancestors from the home folder down: for a
    caller that already has them (breadcrumbs), so they are not read twice."""
    return "/" + "/".join(a.name for a in chain if a.parent_id is not None)


def paths_of(nodes: Iterable[Node]) -> dict[int, str]:
    """Paths of many nodes: their ancestors fetched level by level through the parent links
    (one small ``pk IN`` query per level), then walked in memory."""
    nodes = list(nodes)
    folders: dict[int, tuple[str, int | None]] = {}
    pending = {node.parent_id for node in nodes if node.parent_id is not None}
    while pending:
        found = Node.objects.filter(pk__in=pending).values_list("id", "name", "parent_id")
        pending = set()
        for pk, folder_name, folder_parent in found:
            folders[pk] = (folder_name, folder_parent)
            if folder_parent is not None and folder_parent not in folders:
                pending.add(folder_parent)
    result: dict[int, str] = {}
    for node in nodes:
        if node.parent_id is None:
            result[node.pk] = "/"
            continue
        parts = [node.name]
        parent_id: int | None = node.parent_id
        while parent_id is not None and parent_id in folders:
            name, grandparent_id = folders[parent_id]
            if grandparent_id is None:  # the home folder has no name in paths
                break
            parts.append(name)
            parent_id = grandparent_id
        result[node.pk] = "/" + "/".join(reversed(parts))
    return result


def check(owner: User) -> list[str]:
    """Problems in the owner's tree (empty when consistent): the nested-set invariants, then
    mptt's own rebuild compared with what is stored. Reads under the owner's lock, so a
    concurrent write cannot look like damage."""
    with transaction.atomic():
        lock(owner.pk)
        return _problems(owner)


def _problems(owner: User) -> list[str]:
    nodes = list(
        Node.objects.filter(owner=owner).values(
            "id", "parent_id", "tree_id", "lft", "rght", "level"
        )
    )
    problems: list[str] = []
    if not nodes:
        return problems
    by_id = {n["id"]: n for n in nodes}
    roots = [n for n in nodes if n["parent_id"] is None]
    if len(roots) != 1:
        return [f"expected one home folder, found {len(roots)}"]
    tree_id = roots[0]["tree_id"]
    bounds: list[int] = []
    for n in nodes:
        if n["tree_id"] != tree_id:
            problems.append(f"node {n['id']} is in tree {n['tree_id']}, home is in {tree_id}")
        if n["lft"] >= n["rght"]:
            problems.append(f"node {n['id']} has lft {n['lft']} >= rght {n['rght']}")
        bounds += [n["lft"], n["rght"]]
        parent = by_id.get(n["parent_id"]) if n["parent_id"] else None
        if n["parent_id"] and parent is None:
            problems.append(f"node {n['id']} has a parent outside the tree")
        if parent is not None:
            if not (parent["lft"] < n["lft"] and n["rght"] < parent["rght"]):
                problems.append(f"node {n['id']} lies outside its parent {parent['id']}")
            if n["level"] != parent["level"] + 1:
                problems.append(f"node {n['id']} has level {n['level']}, parent {parent['level']}")
    if sorted(bounds) != list(range(1, 2 * len(nodes) + 1)):
        problems.append("lft/rght values are not exactly 1..2n (gaps or duplicates)")
    root = roots[0]
    if root["lft"] != 1 or root["rght"] != 2 * len(nodes):
        problems.append(f"home spans {root['lft']}..{root['rght']}, expected 1..{2 * len(nodes)}")
    if not problems and not _matches_rebuild(tree_id):
        problems.append("mptt's rebuild from the parent links gives different tree columns")
    return problems


class _Rollback(Exception):
    pass


def _matches_rebuild(tree_id: int) -> bool:
    """mptt's own check: rebuilding from the parent links changes nothing (then rolled back)."""

    def columns() -> list[tuple[int, int, int, int]]:
        return list(
            Node.objects.filter(tree_id=tree_id)
            .order_by("pk")
            .values_list("pk", "lft", "rght", "level")
        )

    before = columns()
    try:
        with transaction.atomic():
            Node._tree_manager.partial_rebuild(tree_id)
            after = columns()
            raise _Rollback
    except _Rollback:
        pass
    return before == after


def rebuild(owner: User) -> None:
    """Recompute the owner's tree columns from the parent links (repair)."""
    with transaction.atomic():
        lock(owner.pk)
        home = Node.objects.get(owner=owner, parent__isnull=True)
        # mptt rebuilds one tree_id; a node that lost it would be left out. This repair is
        # the one place that writes a tree column directly, before mptt recomputes the rest.
        Node.objects.filter(owner=owner).exclude(tree_id=home.tree_id).update(tree_id=home.tree_id)
        Node._tree_manager.partial_rebuild(home.tree_id)
