"""Reads for share links: the owner's links, and what a link lets a visitor reach."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import User
from files import access, tree
from files import places as files_places
from files.models import Node
from sharing import tokens
from sharing.errors import ShareNotFound, ShareUnavailable
from sharing.models import ShareAccess, ShareLink, ShareLinkQuerySet


def links_for(
    user: User, *, state: str | None = None, node: Node | None = None
) -> ShareLinkQuerySet:
    links = ShareLink.objects.visible_to(user).select_related("node")
    if state:
        links = links.in_state(state)
    if node is not None:
        links = links.filter(node=node)
    return links


def node_paths(user: User, nodes: Iterable[Node]) -> dict[int, str]:
    """Where each item (of a link) is, by node id, as ``user`` sees it (:mod:`files.places`):
    in their own files from the home folder (a trash entry where it was); for a link a
    re-sharer made, under Shared with me, never the owner's folders above the share. An
    item the caller no longer reaches shows its name only. At most three queries."""
    nodes = list(nodes)
    places = files_places.places_of(user, nodes)
    paths: dict[int, str] = {}
    for node in nodes:
        pk = node.pk
        if node.owner_id == user.pk and node.trashed_at is not None and node.is_trash_root:
            paths[pk] = node.trashed_from.rstrip("/") + "/" + node.name
        elif pk in places:
            paths[pk] = places[pk].path
        else:
            paths[pk] = node.name
    return paths


def link_get(user: User, pk: Any) -> ShareLink:
    """The caller's own link; anything else (another user's, malformed id) is a 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ShareNotFound("No such link.") from None
    link = links_for(user).filter(pk=pk).first()
    if link is None:
        raise ShareNotFound("No such link.")
    return link


def accesses_of(link: ShareLink) -> QuerySet[ShareAccess]:
    return link.accesses.all()


def public_url(link: ShareLink, request: HttpRequest | None = None) -> str | None:
    """The link's public address, derived again from its seed (the owner's "copy link"),
    the one that works: with the key the link was made with, current or a fallback. None
    when that key is gone (the link no longer opens). Absolute when the request is known."""
    token = tokens.working_token(link.seed, link.token_hash)
    if token is None:
        return None
    path = reverse("sharing:public", args=[token])
    return request.build_absolute_uri(path) if request is not None else path


def link_by_token(token: str) -> ShareLink:
    """The link a visitor's token names, whatever its state (404 if there is none)."""
    if not tokens.looks_like_token(token):
        raise ShareNotFound("There is no shared item at this address. Check the link.")
    link = (
        ShareLink.objects.select_related("node", "created_by")
        .filter(token_hash=tokens.token_hash(token))
        .first()
    )
    if link is None or not tokens.derives_from_a_key(token, link.seed):
        # No such link, or one made with a secret key this server no longer has.
        raise ShareNotFound("There is no shared item at this address. Check the link.")
    return link


UNAVAILABLE = {
    ShareLink.State.EXPIRED: "This link has expired.",
    ShareLink.State.REVOKED: "This link was switched off by the person who shared it.",
    ShareLink.State.USED_UP: "This link has been used as many times as it may be.",
}


def check_open(link: ShareLink, *, counted_before: bool = False) -> None:
    """Refuse a link that no longer opens (410), saying why. A visitor already counted in
    this visit may go on after the limit is reached by others, not after expiry or revoke."""
    state = link.state
    if state == ShareLink.State.USED_UP and counted_before:
        state = ShareLink.State.ACTIVE
    if state != ShareLink.State.ACTIVE:
        raise ShareUnavailable(UNAVAILABLE[ShareLink.State(state)])
    if link.node.trashed_at is not None:
        raise ShareUnavailable("The shared item is no longer available.")
    if link.created_by_id != link.node.owner_id and not access.can(
        link.created_by, link.node, "reshare"
    ):
        # A link made by a re-sharer dies with their access to the item.
        raise ShareUnavailable("The person who shared this no longer has access to it.")


def inside_share(link: ShareLink, node: Node) -> bool:
    """Is ``node`` the shared item or below it, and alive? Moved out or trashed: no."""
    root = link.node
    if node.owner_id != root.owner_id or node.trashed_at is not None:
        return False
    return node.pk == root.pk or tree.is_inside(node, root, include_self=False)


def _within(link: ShareLink) -> QuerySet[Node]:
    """The nodes a link reaches, as one query: :func:`inside_share` for many at once."""
    root = link.node
    return Node.objects.filter(
        tree.subtree_filter(root, include_self=True),
        owner_id=root.owner_id,
        trashed_at__isnull=True,
    )


def shared_node(link: ShareLink, pk: Any) -> Node:
    """A node reached through the link: the shared item or something alive below it.
    Anything else — above, beside, trashed, another user's, a bad id — is a 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise ShareNotFound("No such item in this share.") from None
    node = Node.objects.select_related("blob").filter(pk=pk).first()
    if node is None or not inside_share(link, node):
        raise ShareNotFound("No such item in this share.")
    return node


def shared_nodes(link: ShareLink, ids: list[int]) -> list[Node]:
    """Several nodes of the share (a ZIP of a selection, ids from
    :func:`files.selectors.parse_ids`), in one query; any id the link does not reach is a 404."""
    found = {node.pk: node for node in _within(link).filter(pk__in=ids).select_related("blob")}
    if len(found) != len(ids):
        raise ShareNotFound("No such item in this share.", field="ids")
    return [found[pk] for pk in ids]


def crumbs_within(link: ShareLink, folder: Node) -> list[Node]:
    """The folders from the shared folder down to ``folder`` (both included)."""
    root = link.node
    return [n for n in tree.ancestors(folder, include_self=True) if n.depth >= root.depth]


def path_within(link: ShareLink, node: Node) -> str:
    """``/sub/file.txt`` relative to the shared folder (the visitor never sees more)."""
    names = [n.name for n in crumbs_within(link, node)][1:]
    return "/" + "/".join(names)
