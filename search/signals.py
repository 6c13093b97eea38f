"""Search listens for new content in files (sent by the task worker once the upload has
committed)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from files.models import Node
from files.signals import StoredFile, content_stored
from search.documents import text_queue_stored


@receiver(content_stored, sender=Node, dispatch_uid="search_queue_texts")
def queue_texts(sender: Any, files: list[StoredFile], **kwargs: Any) -> None:
    text_queue_stored(files=files)
