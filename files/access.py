"""Who may do what to a node: the one place that answers it, for every transport.

The owner may do everything. Anyone else reaches a node through live shares
(:class:`files.models.NodeShare`) on the node or one of its ancestors, to them or to one of
their groups; the best role wins. A viewer may see, preview, download and copy; an editor
may also upload, make folders, rename, move within the owner's tree, replace, restore
versions and trash — never delete for good. Re-sharing (links or people) needs a share with
``can_reshare`` and never goes above the role of that share. The trash is the owner's: a
recipient reaches only live items.

Lists start from ``Node.objects.visible_to(user)`` (the same rule as one query); searches
over everything a person may see use :func:`visible_filter`, the same rule found from the
shares' side. One node is checked with :func:`access_of` / :func:`can`: one query over the
ids in its path, none for the owner. Anything not allowed is a 404 (:func:`node_for`), as
for a node that does not exist. A member who left a group's share (``NodeShareLeave``) is
not reached by it, in every one of these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, Expression, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from accounts.models import User
from files import tree
from files.errors import NodeNotFound
from files.models import AFTER_KEYS, Node, NodeShare, NodeShareLeave

Action = Literal["view", "edit", "reshare", "delete", "manage"]
ACTIONS: tuple[str, ...] = ("view", "edit", "reshare", "delete", "manage")
_RANK = {NodeShare.Role.VIEWER: 1, NodeShare.Role.EDITOR: 2}


@dataclass(frozen=True)
class Access:
    """What one person may do to one node."""

    role: str  # "owner", "editor" or "viewer"
    # The highest role this person may hand on (None: may not re-share).
    reshare_role: str | None

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def allows(self, action: str) -> bool:
        if self.is_owner:
            return True
        if action == "view":
            return True
        if action == "edit":
            return self.role == NodeShare.Role.EDITOR
        if action == "reshare":
            return self.reshare_role is not None
        return False  # delete for good, manage others' shares: the owner only

    def may_grant(self, role: str) -> bool:
        """May this person give someone ``role`` on the node (a people share or a link)?"""
        if self.is_owner:
            return True
        if self.reshare_role is None:
            return False
        return _RANK[NodeShare.Role(role)] <= _RANK[NodeShare.Role(self.reshare_role)]


OWNER = Access(role="owner", reshare_role="editor")


@dataclass(frozen=True)
class Reach:
    """One live share that reaches a node: on the node itself or on one of its folders."""

    node_id: int
    role: str
    can_reshare: bool


def _aware(value: datetime) -> datetime:
    # SQLite hands back the stored UTC time without its zone; PostgreSQL with it.
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def _to_a_group_not_left(share: str) -> str:
    """SQL: the share row ``share`` (an alias) is to a group the user is in, and the user
    has not left it (:class:`NodeShareLeave`). Two parameters, the user's id each time: the
    one place the hand-written access queries say it (the ORM's: ``to_user``)."""
    member = User.groups.through._meta.db_table
    left = NodeShareLeave._meta.db_table
    # Only table names and an alias are formatted in; the user's id is a parameter.
    return (
        f"({share}.group_id IN (SELECT group_id FROM {member} WHERE user_id = %s) AND NOT EXISTS "  # noqa: S608
        f"(SELECT 1 FROM {left} l WHERE l.share_id = {share}.id AND l.user_id = %s))"
    )


def shares_reaching(user: User, node: Node) -> list[Reach]:
    """The live shares to ``user`` (or their groups) on ``node`` or one of its ancestors:
    one query, ``node_id IN`` the ids in the node's path (the share index on node_id), the
    groups as a sub-select of the user's memberships (index on user_id), less the group
    shares the user has left.

    Written as SQL because it runs on every request that touches someone else's item: the
    ORM took ~0.85 ms to build this query and the database ~0.02 ms to answer it (SQLite,
    bench/people.py). A share's node being in the trash needs no test: the callers ask for
    live nodes only, and a live node's folders are live."""
    ids = [*tree.ids_in(node.path), node.pk]
    marks = ", ".join(["%s"] * len(ids))
    shares = NodeShare._meta.db_table
    # Only table names and placeholders are formatted in; every value is a parameter.
    sql = (
        f"SELECT node_id, role, can_reshare, expires_at FROM {shares} s "  # noqa: S608
        f"WHERE node_id IN ({marks}) AND (s.user_id = %s OR {_to_a_group_not_left('s')})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*ids, user.pk, user.pk, user.pk])
        rows = cursor.fetchall()
    now = timezone.now()
    return [
        Reach(node_id=node_id, role=role, can_reshare=bool(can_reshare))
        for node_id, role, can_reshare, expires_at in rows
        if expires_at is None or _aware(expires_at) > now
    ]


def access_of(user: User | AnonymousUser | None, node: Node) -> Access | None:
    """What ``user`` may do to ``node``, or None if it is not theirs to reach. Free for the
    owner; one query for anyone else (:func:`shares_reaching`)."""
    if user is None or not user.is_authenticated:
        return None
    assert isinstance(user, User)
    if node.owner_id == user.pk:
        return OWNER
    if node.trashed_at is not None:
        return None
    shares = shares_reaching(user, node)
    # Kept on this node object for files.places (where the node is for this person), so
    # the answer's path costs no second look at the shares. Never read back here: every
    # check (one under a lock included) asks the database again.
    setattr(node, _REACHED, (user.pk, frozenset(share.node_id for share in shares)))
    if not shares:
        return None
    best = max(shares, key=lambda share: _RANK[NodeShare.Role(share.role)])
    resharing = [share for share in shares if share.can_reshare]
    reshare_role = (
        max(resharing, key=lambda share: _RANK[NodeShare.Role(share.role)]).role
        if resharing
        else None
    )
    return Access(role=best.role, reshare_role=reshare_role)


_REACHED = "_access_reached"


def reached_on(user: User, node: Node) -> frozenset[int] | None:
    """The ids on ``node``'s way down (itself included) that a live share to ``user`` is
    on, as the last :func:`access_of` on this node object found them; None when it has not
    been checked for ``user``. For showing where the node is, not for deciding access."""
    seen: tuple[int, frozenset[int]] | None = getattr(node, _REACHED, None)
    return seen[1] if seen is not None and seen[0] == user.pk else None


def can(user: User | AnonymousUser | None, node: Node, action: str) -> bool:
    """May ``user`` do ``action`` (view, edit, reshare, delete, manage) to ``node``?"""
    access = access_of(user, node)
    return access is not None and access.allows(action)


def require(user: User, node: Node, action: str) -> Access:
    """The caller's access to ``node`` if it allows ``action``, else a 404 as for a node
    that does not exist. Someone who can see the node is told what their role lacks."""
    access = access_of(user, node)
    if access is None:
        raise NodeNotFound("No such file or folder.")
    if not access.allows(action):
        raise NodeNotFound(_refusal(access, action))
    return access


def _refusal(access: Access, action: str) -> str:
    if action == "edit":
        return "This item is shared with you to view only; you cannot change it."
    if action == "reshare":
        return "You may not share this item onward; ask its owner."
    if action == "delete":
        return "Only the owner can delete this item for good."
    return "Only the owner can do this."


def node_for(user: User, pk: Any, action: str = "view") -> Node:
    """The node ``pk`` if ``user`` may ``action`` it, else a 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NodeNotFound("No such file or folder.") from None
    if not 0 < pk < 2**63:
        raise NodeNotFound("No such file or folder.")
    node = Node.objects.select_related("blob").filter(pk=pk).first()
    if node is None:
        raise NodeNotFound("No such file or folder.")
    require(user, node, action)
    if node.owner_id == user.pk:
        # The owner is the person asking, loaded with the request: callers that go on to
        # act for the owner (an upload charges ``node.owner``) need not read them again.
        node.owner = user
    return node


def crumbs_for(user: User, node: Node) -> list[Node]:
    """The folders from the top the caller reaches down to ``node`` (both included): from
    the home folder for the owner, from the shared folder for anyone else. One query either
    way: the ancestors, each marked when a live share to the caller is on it."""
    chain = tree.ancestors(node, include_self=True)
    if node.owner_id == user.pk:
        return list(chain)
    unexpired = Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    on_it = NodeShare.objects.to_user(user).filter(unexpired, node_id=OuterRef("pk"))
    marked: list[Node] = list(chain.annotate(reached=Exists(on_it)))
    for index, folder in enumerate(marked):
        if getattr(folder, "reached", False):
            return marked[index:]
    return marked[-1:]


# --- everything a person may see, found from the shares ------------------------------------


class _UnionOfIds(Expression):
    """The right-hand side of ``pk__in``: ``(SELECT * FROM (…) UNION ALL SELECT * FROM (…))``
    over subqueries that each select one column, the node ids. Each part is planned on its
    own (with its own index), which one query with OR between them would not be."""

    def __init__(self, *parts: Subquery | RawSQL) -> None:
        super().__init__(output_field=IntegerField())
        self.parts: list[Any] = list(parts)

    def get_source_expressions(self) -> list[Any]:
        return list(self.parts)

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.parts = list(exprs)

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[Any, ...]]:
        sqls: list[str] = []
        params: list[Any] = []
        for number, part in enumerate(self.parts):
            sql, part_params = compiler.compile(part)
            sqls.append(f"SELECT * FROM {sql} p{number}")  # noqa: S608 - compiled SQL
            params.extend(part_params)
        return "(" + " UNION ALL ".join(sqls) + ")", tuple(params)


def _shared_ids(user: User) -> RawSQL:
    """The ids of the nodes ``user`` reaches through unexpired shares to them or one of
    their groups (less the group shares they have left): each shared node and everything
    below it, trashed or not.

    Found from the shares: for each share, one range on ``files_node_path`` (the node's
    key, as in :func:`files.models.shared_with`), so the cost follows what is shared with
    the person, not how many nodes the table holds or how many names match. The shares must
    stay the outer loop: ``CROSS JOIN`` keeps that order on SQLite, and on PostgreSQL a
    ``LATERAL`` subquery the planner may not flatten (``OFFSET 0``) — left to itself, it
    once scanned every node to probe the shares of someone who had none."""
    node = Node._meta.db_table
    share = NodeShare._meta.db_table
    unexpired = "(expires_at IS NULL OR expires_at > %s)"
    shares = (
        f"SELECT node_id, node_key FROM {share} WHERE user_id = %s AND {unexpired} "  # noqa: S608 - our table names only
        f"UNION ALL SELECT node_id, node_key FROM {share} g WHERE {unexpired} AND "
        f"{_to_a_group_not_left('g')}"
    )
    below = f"n.path >= s.node_key AND n.path < s.node_key || '{AFTER_KEYS}'"
    if connection.vendor == "postgresql":
        reach = f"CROSS JOIN LATERAL (SELECT n.id FROM {node} n WHERE {below} OFFSET 0) n"  # noqa: S608
    else:
        reach = f"CROSS JOIN {node} n WHERE {below}"
    sql = (
        f"SELECT n.id AS id FROM ({shares}) s {reach} "  # noqa: S608 - our table names only
        f"UNION ALL SELECT s.node_id AS id FROM ({shares}) s"
    )
    now = timezone.now()
    return RawSQL(sql, [user.pk, now, now, user.pk, user.pk] * 2)  # noqa: S611


def visible_filter(user: User | AnonymousUser, *, own: Sequence[QuerySet[Node]] | None = None) -> Q:
    """The rule of ``Node.objects.visible_to(user)`` as a filter for searches: the caller's
    own nodes and the live nodes shared with them, the shared ones found from the shares
    (:func:`_shared_ids`) instead of testing every node against every share.

    ``own``: the caller's own nodes to consider, as querysets of them (``owned_by`` or
    ``checked_owner``) narrowed each its own way (by name, where an index can serve it; by
    text; by the search's filters); default all of them. Shared nodes are not narrowed: the caller
    filters the whole result further."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    assert isinstance(user, User)
    mine = [Node.objects.owned_by(user)] if own is None else own
    ids = _UnionOfIds(*(Subquery(part.values("pk")) for part in mine), _shared_ids(user))
    # Shared nodes count only while live (the trash is the owner's).
    return Q(pk__in=ids) & (Q(owner=user) | Q(trashed_at__isnull=True))


def shared_roots(user: User | AnonymousUser, nodes: Iterable[Node]) -> dict[int, int]:
    """For each of ``nodes`` that is someone else's, the topmost node on its way down (the
    node itself included) shared with ``user``: the item Shared with me lists it under, as
    :func:`crumbs_for` starts there. One query for all the nodes; a node not reached (or
    the caller's own) is left out."""
    if not user.is_authenticated:
        return {}
    chains = {
        node.pk: [*tree.ids_in(node.path), node.pk] for node in nodes if node.owner_id != user.pk
    }
    return shared_tops(user, chains)


def shared_tops[K](user: User | AnonymousUser, chains: Mapping[K, Sequence[int]]) -> dict[K, int]:
    """:func:`shared_roots` for chains of ids (from the top down) of someone else's tree,
    such as an activity entry's stored path: the first id of each chain a live share to
    ``user`` is on. One query for all; a chain no share reaches is left out."""
    if not user.is_authenticated:
        return {}
    assert isinstance(user, User)
    wanted = {pk for chain in chains.values() for pk in chain}
    if not wanted:
        return {}
    ordered = sorted(wanted)
    reached: set[int] = set()
    for start in range(0, len(ordered), 10_000):  # stay under SQLite's parameter limit
        reached.update(
            NodeShare.objects.live()
            .to_user(user)
            .filter(node_id__in=ordered[start : start + 10_000])
            .values_list("node_id", flat=True)
        )
    roots: dict[K, int] = {}
    for key, chain in chains.items():
        top = next((ancestor for ancestor in chain if ancestor in reached), None)
        if top is not None:
            roots[key] = top
    return roots
