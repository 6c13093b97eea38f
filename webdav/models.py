"""What WebDAV keeps beside the file tree: dead properties and locks.

Both are keyed, as wsgidav keys them, by a resource's reference URL, which the provider
builds as ``/<owner id>/<quoted path>`` (see :mod:`webdav.provider`), so that one user's
``/a`` never meets another's. They live in the database so that every worker and app server
sees the same locks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DeadProperty(models.Model):
    """A property a client stored with PROPPATCH (name in Clark notation, value as XML)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dav_properties"
    )
    url = models.TextField()
    name = models.TextField()
    value = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "url", "name"], name="webdav_deadproperty_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.url} {self.name}"


class DavLock(models.Model):
    """A WebDAV write lock (RFC 4918 §6), shared by every worker through the database."""

    token = models.CharField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dav_locks"
    )
    root = models.TextField()
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
