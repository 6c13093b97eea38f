"""Signals of the files app.

Every account gets its home folder when it is created, whichever way it is created.

When new content lands in files, :func:`announce_content` waits for the transaction to
commit, then sends :data:`content_stored`: the files app queues the thumbnails, and other
apps (the search index) listen without the files app knowing them. A rolled-back upload
announces nothing, and an upload never waits for, or fails because of, what happens next:
errors there are logged, never raised into the request.
"""

from collections.abc import Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from files import tree
from files.models import Node

# Sent once the content is committed: ``node_ids`` (files) and ``blob_ids`` (their content).
content_stored = Signal()


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="files_create_home")
def create_home_folder(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        tree.create_home(instance)


def announce_content(nodes: Iterable[Node]) -> None:
    """Call inside the transaction that gave ``nodes`` new content."""
    files = [node for node in nodes if not node.is_folder and node.blob_id is not None]
    if not files:
        return
    node_ids = [node.pk for node in files]
    blob_ids = sorted({node.blob_id for node in files if node.blob_id is not None})
    transaction.on_commit(partial(_after_commit, node_ids, blob_ids), robust=True)


def _after_commit(node_ids: list[int], blob_ids: list[int]) -> None:
    content_stored.send_robust(sender=Node, node_ids=node_ids, blob_ids=blob_ids)


@receiver(content_stored, sender=Node, dispatch_uid="files_queue_thumbnails")
def queue_thumbnails(sender: Any, node_ids: list[int], **kwargs: Any) -> None:
    from files.tasks import make_thumbnails
    from files.thumbnails import IMAGE_FORMATS, PDF_TYPES

    wanted = list(
        Node.objects.filter(pk__in=node_ids, mime_type__in=[*IMAGE_FORMATS, *PDF_TYPES])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if wanted:
        make_thumbnails.enqueue(wanted)
