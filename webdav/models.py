"""What WebDAV keeps beside the file tree: dead properties and locks.

Dead properties belong to a node: a rename or move anywhere (web page, API, WebDAV) takes
them along, a trashed node keeps them for its restore, and they go when the node is deleted
for good. Locks are keyed, as wsgidav keys them, by a resource's reference URL
(``/<owner id>/<quoted path>``, see :mod:`webdav.provider`), and a lock on one of the
owner's own items also records the item: a rename or move made outside WebDAV (web page,
API) takes the lock along, so its holder's next write at the new URL still needs the token
and the old URL is free (a WebDAV ``MOVE`` releases the source's locks, RFC 4918 §7.6). Both
live in the database so that every worker and app server sees the same ones.
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
    root = models.TextField()
    # The locked item, when it is the lock owner's own: ``root`` is then read from the
    # item's current path (webdav.storage), wherever it has moved since.
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
