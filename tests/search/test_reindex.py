"""``manage.py reindex``: existing files become searchable by their words."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from files.models import Node
from search.models import BlobText
from tests.search import documents
from tests.search.conftest import ids

pytestmark = pytest.mark.django_db


def reindex(*args: str) -> str:
    out = io.StringIO()
    call_command("reindex", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_files_from_before_are_read_once(
    alice: Any, mallory: Any, alice_api: Any, upload: Callable[..., Node]
) -> None:
    # Uploaded without the worker's hook (as before search read documents).
    report = upload("report.docx", documents.docx("old budget with gnus"))
    upload("photo.jpg", b"\xff\xd8\xff\xe0")
    upload("theirs.txt", b"mallory's gnus", owner=mallory)
    upload("same.docx", documents.docx("old budget with gnus"), owner=mallory)
    assert not BlobText.objects.exists()
    assert ids(alice_api.get("/api/v1/search/", {"q": "gnus"})) == set()

    assert "Would read 1 document. Dry run" in reindex("--user", "alice", "--dry-run")
    assert not BlobText.objects.exists()
    assert "Read 1 document: 1 indexed, 0 unreadable." in reindex("--user", "alice")
    assert ids(alice_api.get("/api/v1/search/", {"q": "gnus"})) == {report.pk}
    # mallory's identical docx shares the content: already read.
    assert "Read 1 document: 1 indexed" in reindex()
    assert "Read 0 documents:" in reindex()
    assert "Read 2 documents: 2 indexed" in reindex("--again")


def test_unreadable_documents_are_counted(alice: Any, upload: Callable[..., Node]) -> None:
    upload("broken.pdf", b"%PDF-1.4 broken")
    assert "1 unreadable" in reindex()
    assert BlobText.objects.get().state == BlobText.State.UNREADABLE


def test_an_unknown_user_is_refused(db: None) -> None:
    with pytest.raises(CommandError, match="no user called 'nobody'"):
        reindex("--user", "nobody")
