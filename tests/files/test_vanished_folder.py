"""A target folder deleted for good between the request's look-up and the service's lock
(another request emptied it from the trash) is a 404 naming the folder, not a 500.

Found by tests/integration/test_engine_concurrent_writers.py: ``POST /api/v1/nodes/``
answered 500 (``Node.DoesNotExist`` from re-reading the parent under the lock). These tests
hand each service the stale folder object such a request holds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from files import services
from files.errors import NodeNotFound
from files.models import Node
from tests.files.conftest import received


@pytest.fixture
def vanished(mkdir: Callable[..., Node]) -> Node:
    """A folder as a request read it, then deleted for good by someone else."""
    folder = mkdir("/gone")
    stale = Node.objects.get(pk=folder.pk)
    services.node_trash(node=folder)
    services.node_delete(node=Node.objects.get(pk=folder.pk))
    assert not Node.objects.filter(pk=folder.pk).exists()
    return stale


def refused(call: Callable[[], Any]) -> NodeNotFound:
    with pytest.raises(NodeNotFound) as caught:
        call()
    assert caught.value.field == "parent"
    assert "no longer exists" in str(caught.value)
    return caught.value


def test_new_folder_in_a_vanished_folder(alice: Any, vanished: Node) -> None:
    refused(lambda: services.folder_create(owner=alice, parent=vanished, name="x"))
    refused(lambda: services.folder_ensure_path(owner=alice, path="a/b", base=vanished))


def test_upload_into_a_vanished_folder(alice: Any, vanished: Node) -> None:
    refused(
        lambda: services.file_upload(
            owner=alice, parent=vanished, name="x.txt", received=received(b"x")
        )
    )
    assert not Node.objects.filter(is_folder=False).exists()


def test_move_and_copy_into_a_vanished_folder(
    alice: Any, vanished: Node, upload: Callable[..., Node]
) -> None:
    note = upload("note.txt")
    refused(lambda: services.node_move(node=note, new_parent=vanished))
    refused(lambda: services.node_copy(node=note, new_parent=vanished))
    assert Node.objects.filter(is_folder=False).count() == 1
