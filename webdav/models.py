"""What WebDAV keeps beside the file tree: dead properties and locks.

Dead properties belong to a node: a rename or move anywhere (web page, API, WebDAV) takes
them along, a trashed node keeps them for its restore, and they go when the node is deleted
for good. A lock records the item it locks (and the reference URL it was taken at,
``/<user id>/<quoted path>``, see :mod:`webdav.provider`): wsgidav is shown it at the item's
current path as each caller sees it (:mod:`webdav.storage`), so a rename or move made
outside WebDAV (web page, API) takes the lock along, its holder's next write at the new URL
still needs the token and the old URL is free (a WebDAV ``MOVE`` releases the source's
locks, RFC 4918 §7.6), and a lock taken under Shared with me binds the owner and the other
people the item is shared with too. Both live in the database so that every worker and app
server sees the same ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from files.models import Node


class DeadProperty(models.Model):
    """A property a client stored with PROPPATCH (name in Clark notation, value as XML)."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="dav_properties")
    name = models.TextField()
    value = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "name"], name="webdav_deadproperty_node_name"),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} {self.name}"


class DavLock(models.Model):
    """A WebDAV write lock (RFC 4918 §6), shared by every worker through the database."""

    token = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dav_locks"
    )
    # The reference URL the lock was taken at, in the namespace of ``owner`` (its holder):
    # used as it is only for a lock on no item; else the root is the item's current path.
    root = models.TextField()
    # The locked item, the holder's own or one shared with them: the lock's root is read
    # from its current path as each caller sees it (webdav.storage), wherever it has moved.
    node = models.ForeignKey(
        Node, null=True, blank=True, on_delete=models.CASCADE, related_name="dav_locks"
    )
    depth = models.CharField(max_length=10)
    scope = models.CharField(max_length=10)
    type = models.CharField(max_length=10)
    principal = models.CharField(max_length=150)
    # The <D:owner> XML the client sent, repeated back in lockdiscovery.
    lock_owner = models.TextField(blank=True)
    timeout = models.FloatField()
    # Seconds since the epoch, as wsgidav counts them.
    expire = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["owner", "root"], name="webdav_lock_owner_root")]

    def __str__(self) -> str:
        return f"{self.scope} lock on {self.root}"
