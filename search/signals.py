"""Search listens for new content in files (sent once the upload has committed)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from files.models import Node
from files.signals import content_stored
from search.documents import text_queue


@receiver(content_stored, sender=Node, dispatch_uid="search_queue_texts")
def queue_texts(sender: Any, blob_ids: list[int], **kwargs: Any) -> None:
    text_queue(blob_ids=blob_ids)
