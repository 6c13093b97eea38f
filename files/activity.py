"""The activity log: who did what to which item, where it was, and when.

Services call :func:`activity_record` inside the transaction of the change they make, so
there is no change without its record and no record of a change that rolled back. Other
apps (share links) record their changes through the same function. Reads start from
:func:`activity_visible_to`: the owner sees their items' activity, a person an item is
shared with sees the activity of what they can reach.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from django.db import connection, transaction
from django.db.models import OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from fileflow.errors import DomainError
from fileflow.rows import BATCH, column, insert_rows
from files import tree
from files.models import Activity, Node, NodeShare, shared_with

Kind = Activity.Kind


class InvalidFilter(DomainError):
    code = "invalid_filter"


def _in_the_changes_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("activity_record() must run inside the change's transaction")


def activity_record(
    *,
    kind: str,
    node: Node,
    actor: User | None = None,
    link_label: str = "",
    detail: str = "",
) -> Activity:
    """Record one change to ``node``, made by ``actor`` (a person) or by the visitor of the
    link ``link_label``. Must run inside the change's transaction."""
    where = tree.path_of(node.parent) if node.parent_id is not None and node.parent else "/"
    [row] = activity_record_many(
        kind=kind, nodes=[node], where=where, actor=actor, link_label=link_label, detail=detail
    )
    return row


def activity_record_many(
    *,
    kind: str,
    nodes: list[Node],
    where: str,
    actor: User | None = None,
    link_label: str = "",
    detail: str = "",
) -> list[Activity]:
    """Record the same change to several nodes of one folder, whose path the caller already
    knows (``where``): one INSERT however many nodes, no look-up of the folder's ancestors.
    Must run inside the change's transaction."""
    _in_the_changes_transaction()
    if kind not in Kind.values:
        raise ValueError(f"unknown activity kind {kind!r}")
    rows = [
        Activity(
            kind=kind,
            owner_id=node.owner_id,
            actor=actor,
            link_label=link_label[:200],
            node=node,
            node_name=node.name or "Your files",
            where=where,
            path=node.path,
            detail=detail[:500],
        )
        for node in nodes
    ]
    insert_rows(rows)  # one plain INSERT: every upload writes these (fileflow/rows.py)
    return rows


def activity_record_new_files(
    *,
    nodes: list[Node],
    where: str,
    actor: User | None = None,
    link_label: str = "",
) -> None:
    """Record the upload of ``nodes``, files of one folder inserted in this transaction,
    as :func:`activity_record_many` would: one ``INSERT … SELECT`` over their ids, no row
    built in Python (an upload of 50 files spent ~2 ms building them, under the owner's
    lock, bench/transfer.py). Must run inside the upload's transaction."""
    _in_the_changes_transaction()
    at = Activity._meta.get_field("created_at").get_db_prep_save(timezone.now(), connection)
    head = [Kind.UPLOAD, actor.pk if actor else None, link_label[:200], where, at]
    with connection.cursor() as cursor:
        for start in range(0, len(nodes), BATCH):
            ids = [node.pk for node in nodes[start : start + BATCH]]
            cursor.execute(_new_files_sql(len(ids)), head + ids)


@cache
def _new_files_sql(count: int) -> str:
    quote = connection.ops.quote_name
    into = ", ".join(
        column(Activity, name)
        for name in (
            "kind", "actor", "link_label", "where", "created_at",
            "owner", "node", "node_name", "path", "detail",
        )
    )  # fmt: skip
    nodes = quote(Node._meta.db_table)
    # A person or NULL: typed, as PostgreSQL reads an untyped NULL in a SELECT list as text.
    actor = f"CAST(%s AS {Activity._meta.get_field('actor').db_type(connection)})"
    return (
        f"INSERT INTO {quote(Activity._meta.db_table)} ({into}) "  # noqa: S608 - names only
        f"SELECT %s, {actor}, %s, %s, %s, n.owner_id, n.id, n.name, n.path, '' FROM {nodes} n "
        f"WHERE n.id IN ({', '.join(['%s'] * count)}) ORDER BY n.id"
    )


def _below(folder: Node) -> Q:
    """Entries about ``folder`` itself or anything that was below it when recorded."""
    low = tree.key(folder)
    high = folder.path + tree.enc(folder.pk + 1)
    return Q(node_id=folder.pk) | Q(path__gte=low, path__lt=high)


def activity_visible_to(user: User) -> QuerySet[Activity]:
    """What ``user`` may read: their own items' activity, and that of items shared with
    them (recorded on the shared item or below it while it is shared). The shares are
    matched by the one access rule (:func:`files.models.shared_with`) against the entry's
    node and path, counting only shares of items that are not in the trash, and only
    entries recorded in the item owner's tree (an item handed over to a folder's owner
    keeps its earlier, private history)."""
    if not user.is_authenticated:
        return Activity.objects.none()
    shares = NodeShare.objects.filter(
        node__trashed_at__isnull=True, node__owner_id=OuterRef("owner_id")
    )
    match = Q(owner=user) | shared_with(user, node="node_id", path="path", shares=shares)
    return Activity.objects.filter(match).select_related("actor")


def activity_feed(
    *,
    user: User,
    node: Node | None = None,
    person: User | None = None,
    kind: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Activity]:
    """The entries ``user`` may read, newest first, filtered: ``node`` (that item and
    everything below it), ``person`` (who did it), ``kind``, ``since``."""
    entries = activity_visible_to(user)
    if node is not None:
        entries = entries.filter(Q(owner_id=node.owner_id) & _below(node))
    if person is not None:
        entries = entries.filter(actor=person)
    if kind:
        if kind not in Kind.values:
            raise InvalidFilter(f"kind must be one of {', '.join(Kind.values)}.", field="kind")
        entries = entries.filter(kind=kind)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    return entries.order_by("-created_at", "-id")
