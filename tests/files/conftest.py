"""Fixtures for the files app: homes, uploads through the real ingest path."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from files import services, tree
from files.ingest import Received, receive_stream
from files.models import Node


def announce_stored() -> int:
    """What the task worker does first after uploads commit: run the one task each queued
    (``announce_stored_content``), which queues the thumbnails and texts. How many ran."""
    from django_tasks_db.models import DBTaskResult

    from files.tasks import announce_stored_content

    ran = 0
    for task in DBTaskResult.objects.filter(
        task_path=announce_stored_content.module_path, status="READY"
    ).order_by("enqueued_at"):
        announce_stored_content.call(*task.args_kwargs["args"])
        DBTaskResult.objects.filter(pk=task.pk).update(status="SUCCESSFUL")
        ran += 1
    return ran


def received(content: bytes) -> Received:
    """Bytes as they arrive from a transport: streamed, hashed and counted."""
    return receive_stream(io.BytesIO(content).read, length=len(content))


@pytest.fixture
def home(alice: Any) -> Node:
    return tree.home_of(alice)


@pytest.fixture
def upload(alice: Any) -> Callable[..., Node]:
    def _upload(
        name: str,
        content: bytes = b"hello",
        *,
        parent: Node | None = None,
        owner: Any = None,
        on_conflict: str = "fail",
    ) -> Node:
        owner = owner or alice
        return services.file_upload(
            owner=owner,
            parent=parent or tree.home_of(owner),
            name=name,
            received=received(content),
            on_conflict=on_conflict,  # type: ignore[arg-type]
        )

    return _upload


@pytest.fixture
def mkdir(alice: Any) -> Callable[..., Node]:
    def _mkdir(path: str, *, owner: Any = None) -> Node:
        return services.folder_ensure_path(owner=owner or alice, path=path)

    return _mkdir
