"""Who may do what to a node: the one place that answers it, for every transport.

The owner may do everything. Anyone else reaches a node through live shares
(:class:`files.models.NodeShare`) on the node or one of its ancestors, to them or to one of
their groups; the best role wins. A viewer may see, preview, download and copy; an editor
may also upload, make folders, rename, move within the owner's tree, replace, restore
versions and trash — never delete for good. Re-sharing (links or people) needs a share with
``can_reshare`` and never goes above the role of that share. The trash is the owner's: a
recipient reaches only live items.

Lists start from ``Node.objects.visible_to(user)`` (the same rule as one query); one node is
checked with :func:`access_of` / :func:`can`: one query over the ids in its path. Anything
not allowed is a 404 (:func:`node_for`), as for a node that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from files import tree
from files.errors import NodeNotFound
from files.models import Node, NodeShare

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


def shares_reaching(user: User, node: Node) -> list[NodeShare]:
    """The live shares to ``user`` (or their groups) on ``node`` or one of its ancestors:
    one query with the ids in the node's path."""
    ids = [*tree.ids_in(node.path), node.pk]
    return list(NodeShare.objects.live().to_user(user).filter(node_id__in=ids))


def access_of(user: User | AnonymousUser | None, node: Node) -> Access | None:
    """What ``user`` may do to ``node``, or None if it is not theirs to reach."""
    if user is None or not user.is_authenticated:
        return None
    assert isinstance(user, User)
    if node.owner_id == user.pk:
        return OWNER
    if node.trashed_at is not None:
        return None
    shares = shares_reaching(user, node)
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
    the home folder for the owner, from the shared folder for anyone else."""
    chain = list(tree.ancestors(node, include_self=True))
    if node.owner_id == user.pk:
        return chain
    reached = {share.node_id for share in shares_reaching(user, node)}
    for index, folder in enumerate(chain):
        if folder.pk in reached:
            return chain[index:]
    return chain[-1:]
