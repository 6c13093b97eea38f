"""Text per content: queued after an upload commits, read once whoever owns it, states with
reasons, never retried forever."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from files import services, tree
from files.ingest import Upload
from files.models import Node
from search.documents import MAX_TRIES, text_extract, text_state_of
from search.models import BlobText
from search.tasks import extract_texts
from tests.files.conftest import announce_stored, received
from tests.search import documents

pytestmark = pytest.mark.django_db


@pytest.fixture
def store(django_capture_on_commit_callbacks: Any) -> Callable[..., Node]:
    """Upload as the web and API do, committing, and announce it as the worker does (so the
    text is queued)."""

    def _store(owner: Any, name: str, content: bytes) -> Node:
        with django_capture_on_commit_callbacks(execute=True):
            node = services.file_upload(
                owner=owner, parent=tree.home_of(owner), name=name, received=received(content)
            )
        announce_stored()  # as the worker does first
        return node

    return _store


def queued_blob_ids() -> list[int]:
    return [
        blob_id
        for task in DBTaskResult.objects.filter(task_path=extract_texts.module_path)
        for blob_id in task.args_kwargs["args"][0]
    ]


def run_queued() -> None:
    for task in DBTaskResult.objects.filter(task_path=extract_texts.module_path):
        extract_texts.call(*task.args_kwargs["args"])


def test_a_new_document_is_pending_then_indexed(alice: Any, store: Callable[..., Node]) -> None:
    node = store(alice, "letter.docx", documents.docx("Dear aardvark", "yours"))
    assert queued_blob_ids() == [node.blob_id]
    assert BlobText.objects.get(pk=node.blob_id).state == BlobText.State.PENDING
    assert text_state_of(user=alice, node_id=node.pk).state == "pending"  # type: ignore[union-attr]
    run_queued()
    row = BlobText.objects.get(pk=node.blob_id)
    assert row.state == BlobText.State.INDEXED
    assert row.kind == "docx"
    assert "Dear aardvark" in row.text
    assert text_state_of(user=alice, node_id=node.pk).state == "indexed"  # type: ignore[union-attr]


def test_identical_content_is_read_once_whoever_owns_it(
    alice: Any, mallory: Any, store: Callable[..., Node]
) -> None:
    content = documents.pdf("shared words")
    first = store(alice, "a.pdf", content)
    run_queued()
    second = store(mallory, "copy of a.pdf", content)
    assert first.blob_id == second.blob_id
    assert queued_blob_ids() == [first.blob_id]  # not queued again
    assert BlobText.objects.count() == 1


def test_pictures_and_archives_are_not_read(alice: Any, store: Callable[..., Node]) -> None:
    node = store(alice, "photo.jpg", b"\xff\xd8\xff\xe0 not much of a jpeg")
    assert queued_blob_ids() == []
    assert not BlobText.objects.exists()
    state = text_state_of(user=alice, node_id=node.pk)
    assert state is not None and state.state == "none"


def test_a_damaged_document_is_unreadable_with_its_reason_and_the_others_are_read(
    alice: Any, store: Callable[..., Node], django_capture_on_commit_callbacks: Any
) -> None:
    good = documents.pdf("good words")
    with django_capture_on_commit_callbacks(execute=True):
        nodes = services.file_upload_batch(
            owner=alice,
            parent=tree.home_of(alice),
            files=[
                Upload(name="broken.pdf", received=received(good[: len(good) // 3])),
                Upload(name="bomb.docx", received=received(documents.zip_bomb_docx(8))),
                Upload(name="good.pdf", received=received(good)),
            ],
        ).nodes
    assert announce_stored() == 1  # one task for the batch, and one for its texts
    assert DBTaskResult.objects.filter(task_path=extract_texts.module_path).count() == 1
    run_queued()
    broken, bomb, fine = (BlobText.objects.get(pk=node.blob_id) for node in nodes)
    assert broken.state == BlobText.State.UNREADABLE
    assert "PDF" in broken.reason
    assert bomb.state == BlobText.State.UNREADABLE
    assert "zip bomb" in bomb.reason
    assert fine.state == BlobText.State.INDEXED
    state = text_state_of(user=alice, node_id=nodes[0].pk)
    assert state is not None and state.state == "unreadable" and "PDF" in state.reason


def test_a_document_that_keeps_killing_the_worker_is_given_up(
    alice: Any, store: Callable[..., Node]
) -> None:
    node = store(alice, "poison.txt", b"innocent looking")
    # Each start of a read is counted before reading: as if the worker died MAX_TRIES times.
    BlobText.objects.filter(pk=node.blob_id).update(tries=MAX_TRIES)
    assert text_extract(blob_id=node.blob_id) == BlobText.State.UNREADABLE
    row = BlobText.objects.get(pk=node.blob_id)
    assert "stopped the worker" in row.reason
    assert text_extract(blob_id=node.blob_id) is None  # not tried again


def test_a_text_longer_than_the_limit_is_cut_and_says_so(
    alice: Any, settings: Any, store: Callable[..., Node]
) -> None:
    settings.FILEFLOW_TEXT_MAX_BYTES = 1000
    node = store(alice, "long.txt", b"word " * 10_000)
    run_queued()
    row = BlobText.objects.get(pk=node.blob_id)
    assert row.truncated and len(row.text) == 1000
    state = text_state_of(user=alice, node_id=node.pk)
    assert state is not None and state.truncated and "1,000 bytes" in state.label


def test_nobody_learns_the_state_of_another_persons_file(
    alice: Any, mallory: Any, store: Callable[..., Node]
) -> None:
    node = store(alice, "secret.txt", b"secret")
    assert text_state_of(user=mallory, node_id=node.pk) is None


def test_the_admin_lists_unreadable_documents_and_reads_them_again(
    alice: Any, admin_client: Any, store: Callable[..., Node]
) -> None:
    node = store(alice, "broken.pdf", b"%PDF-1.4 broken")
    run_queued()
    page = admin_client.get("/admin/search/blobtext/?state__exact=unreadable")
    assert page.status_code == 200
    assert "could not be opened as a PDF" in page.content.decode()
    admin_client.post(
        "/admin/search/blobtext/",
        {"action": "read_again", "_selected_action": [str(node.blob_id)]},
    )
    row = BlobText.objects.get(pk=node.blob_id)
    assert row.state == BlobText.State.PENDING and row.tries == 0
