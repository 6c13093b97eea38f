"""Signals of the files app.

Every account gets its home folder when it is created, whichever way it is created.

When new content lands in files, :func:`announce_content` queues one task
(``files.tasks.announce_stored_content``) in the same transaction, carrying what the
listeners need to know of each file (node and blob ids, name, MIME type, size). The task
worker sends :data:`content_stored` with it: the files app queues the thumbnails, and other
apps (the search index) listen without the files app knowing them. So the request itself
pays one INSERT for everything that follows an upload, however many listeners there are;
whether a thumbnail or a text is needed is decided in the worker.

The task is a row of the same database (django-tasks' database backend), written in the
upload's own transaction: it commits with the content or not at all, so a rolled-back
upload queues nothing, a crash right after the commit loses no task, the worker cannot
see the task before the files, and the upload pays no second write transaction (~1 ms of
a small ``PUT``, bench/transfer.py). A queue that cannot take tasks (misconfigured) is
logged and the upload goes on; a database error fails the upload like any other.
"""

import logging
from collections.abc import Iterable
from typing import Any, TypedDict

from django.conf import settings
from django.db import DatabaseError
from django.db.models.signals import post_save
from django.dispatch import Signal, receiver

from files import tree
from files.models import Node

logger = logging.getLogger(__name__)

# Sent by the task worker once content is committed: ``node_ids`` (files), ``blob_ids`` (their
# content) and ``files`` (one :class:`StoredFile` per file, so listeners need not read them).
content_stored = Signal()


class StoredFile(TypedDict):
    node_id: int
    blob_id: int
    name: str
    mime_type: str
    size: int


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="files_create_home")
def create_home_folder(
    sender: Any, instance: Any, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        tree.create_home(instance)


def announce_content(nodes: Iterable[Node]) -> None:
    """Call inside the transaction that gave ``nodes`` new content."""
    files: list[StoredFile] = [
        StoredFile(
            node_id=node.pk,
            blob_id=node.blob_id,
            name=node.name,
            mime_type=node.mime_type,
            size=node.size,
        )
        for node in nodes
        if not node.is_folder and node.blob_id is not None
    ]
    if not files:
        return
    from files.tasks import announce_stored_content

    try:
        announce_stored_content.enqueue(files)
    except DatabaseError:
        raise  # the transaction is broken: the upload must fail, not commit half-done
    except Exception:
        logger.exception("Could not queue the work that follows an upload of %d files", len(files))


def content_stored_send(files: list[StoredFile]) -> None:
    """Tell the listeners (in the task worker) about ``files``; raises the first error.

    Every listener runs even when one fails; the error then fails the task, so that it is
    tried again (listeners do nothing twice: what they queue checks what is done)."""
    responses = content_stored.send_robust(
        sender=Node,
        node_ids=[item["node_id"] for item in files],
        blob_ids=sorted({item["blob_id"] for item in files}),
        files=files,
    )
    for _, response in responses:
        if isinstance(response, Exception):
            raise response


@receiver(content_stored, sender=Node, dispatch_uid="files_queue_thumbnails")
def queue_thumbnails(sender: Any, files: list[StoredFile], **kwargs: Any) -> None:
    from files.tasks import make_thumbnails
    from files.thumbnails import IMAGE_FORMATS, PDF_TYPES

    wanted = sorted(
        item["node_id"]
        for item in files
        if item["mime_type"] in IMAGE_FORMATS or item["mime_type"] in PDF_TYPES
    )
    if wanted:
        make_thumbnails.enqueue(wanted)
