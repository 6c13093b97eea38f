"""Where an item is, as the person asking sees it: the one helper every surface uses.

The owner sees their own items from their home folder (``/Projects/Q3/report.pdf``). Anyone
else reaches an item through a share, and sees it under Shared with me, from the item
shared with them down (``Shared with me/Q3/report.pdf``): the owner's folders above the
shared item never show, and the folder "holding" a shared item itself is none (it sits in
Shared with me). Pages, the API, search, activity, ZIP names and share links all ask here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from files import access, tree
from files.models import Activity, Node

# As on the web page and in WebDAV.
SHARED_WITH_ME = "Shared with me"


@dataclass(frozen=True)
class Place:
    """An item's place for one person."""

    # "/Docs/a.pdf" for one's own (from the home folder, "/" for it); "Shared with me/Q3/a.pdf"
    # for someone else's item, from the item shared with the person down.
    path: str
    # Someone else's item, reached through a share.
    shared: bool
    # The folder holding it that the person can open; None for the home folder and for an
    # item shared with them itself (it is in Shared with me).
    parent_id: int | None

    @property
    def folder_path(self) -> str:
        """The path of the folder holding it ("/" for an own item at the top)."""
        head = self.path.rsplit("/", 1)[0]
        return head if head or self.shared else "/"

    def below(self, node: Node) -> Place:
        """The place of ``node``, a child of the item at this place (no query)."""
        path = self.path.rstrip("/") + "/" + node.name
        return Place(path=path, shared=self.shared, parent_id=node.parent_id)


def _shared_path(names: Sequence[str]) -> str:
    return "/".join([SHARED_WITH_ME, *names])


def place_along(user: User | AnonymousUser, crumbs: Sequence[Node]) -> Place:
    """The place of the last of ``crumbs`` from the crumbs themselves (no query): the folders
    :func:`files.access.crumbs_for` gives, from the home folder for the owner, from the item
    shared with the caller for anyone else."""
    node = crumbs[-1]
    if node.owner_id == user.pk:
        return Place(path=tree.path_along(list(crumbs)), shared=False, parent_id=node.parent_id)
    return Place(
        path=_shared_path([crumb.name for crumb in crumbs]),
        shared=True,
        parent_id=node.parent_id if len(crumbs) > 1 else None,
    )


def place_of(user: User, node: Node) -> Place:
    """The place of one node. The owner's: the names of the folders above it (one query,
    none at the top). Anyone else's: from the shares the access check on this node object
    found (:func:`files.access.reached_on`), the names of the folders between the shared
    one and the node — a part of the owner's, so never a query more than the owner pays;
    without that check, its ancestors as the breadcrumbs read them (one query)."""
    if node.owner_id == user.pk:
        # paths_of re-reads a path a concurrent move has changed; crumbs would not.
        return Place(path=tree.path_of(node), shared=False, parent_id=node.parent_id)
    reached = access.reached_on(user, node)
    chain = [*tree.ids_in(node.path), node.pk]
    top = (
        next((index for index, pk in enumerate(chain) if pk in reached), None) if reached else None
    )
    if top is not None:
        between = chain[top:-1]
        names = (
            dict(Node.objects.filter(pk__in=between).values_list("id", "name")) if between else {}
        )
        if len(names) == len(between):  # else moved meanwhile: read the crumbs instead
            return Place(
                path=_shared_path([*(names[pk] for pk in between), node.name]),
                shared=True,
                parent_id=node.parent_id if between else None,
            )
    return place_along(user, access.crumbs_for(user, node))


def places_of(user: User | AnonymousUser, nodes: Iterable[Node]) -> dict[int, Place]:
    """The places of many nodes: at most three queries however many (the shares reaching
    the others' nodes, :func:`files.access.shared_roots`; the names of the folders between;
    the own nodes' paths). A node of someone else's that the caller does not reach is left
    out: the caller checks access first."""
    nodes = list(nodes)
    roots = access.shared_roots(user, nodes)
    places: dict[int, Place] = {}
    own = [node for node in nodes if node.owner_id == user.pk]
    own_paths = tree.paths_of(own) if own else {}
    for node in own:
        places[node.pk] = Place(path=own_paths[node.pk], shared=False, parent_id=node.parent_id)
    chains: dict[int, list[int]] = {}
    for node in nodes:
        if node.pk in roots:
            chain = [*tree.ids_in(node.path), node.pk]
            chains[node.pk] = chain[chain.index(roots[node.pk]) : -1]
    wanted = sorted({pk for chain in chains.values() for pk in chain})
    names = dict(Node.objects.filter(pk__in=wanted).values_list("id", "name")) if wanted else {}
    for node in nodes:
        if node.pk in chains:
            parts = [names[pk] for pk in chains[node.pk] if pk in names]
            places[node.pk] = Place(
                path=_shared_path([*parts, node.name]),
                shared=True,
                parent_id=node.parent_id if node.pk != roots[node.pk] else None,
            )
    return places


# --- activity entries ----------------------------------------------------------------------

# How a move's entry names where the item was (files.services.node_move): "from /A/B", and
# after a hand-over to another tree ", handed over to <owner>".
_MOVED_FROM = "from "
_HANDED_OVER = ", handed over to "
_ELSEWHERE = "a folder not shared with you"


def as_seen_by(user: User | AnonymousUser, entries: Sequence[Activity]) -> Sequence[Activity]:
    """Activity entries with "where it was" (``where``, and a move's "from …" in ``detail``)
    as ``user`` sees it: unchanged for the owner's own entries; under Shared with me for an
    entry about an item shared with them, never naming the owner's folders above the share.
    One query for the whole page (the shares on the entries' stored paths); the entries are
    changed in memory only."""
    others = [entry for entry in entries if entry.owner_id != user.pk]
    chains: dict[int, list[int]] = {}
    for entry in others:
        chains[entry.pk] = [*tree.ids_in(entry.path), *([entry.node_id] if entry.node_id else [])]
    tops = access.shared_tops(user, chains) if others else {}
    for entry in others:
        above = tree.ids_in(entry.path)  # the home folder first, then the folders named in where
        parts = [part for part in entry.where.split("/") if part]
        top = tops.get(entry.pk)
        # The entry is about the shared item itself (or no share is left to place it, or its
        # path no longer lines up with its names): Shared with me, and no more.
        seen, owners, shown = SHARED_WITH_ME, "", None
        if top is not None and top in above:
            levels = len(above) - above.index(top)  # folders from the shared one down
            if 0 < levels <= len(parts):
                shown = parts[len(parts) - levels :]
                seen = _shared_path(shown)
                owners = "/" + "/".join(parts[: len(parts) - levels + 1])
        entry.where = seen
        if entry.kind == Activity.Kind.MOVE and entry.detail.startswith(_MOVED_FROM):
            entry.detail = _moved_from(entry.detail, owners, shown)
    return entries


def _moved_from(detail: str, owners: str, shown: list[str] | None) -> str:
    """A move's "from /A/B[, handed over to x]" with the path as the recipient sees it: under
    the shared folder (``owners`` is its path in the owner's files, ``shown`` its name onward
    as seen), or "a folder not shared with you" for anywhere else."""
    rest = detail[len(_MOVED_FROM) :]
    origin, handed, owner = rest.partition(_HANDED_OVER)
    seen = _ELSEWHERE
    if shown is not None and owners and (origin == owners or origin.startswith(owners + "/")):
        seen = _shared_path([shown[0], *[p for p in origin[len(owners) :].split("/") if p]])
    return _MOVED_FROM + seen + handed + owner
