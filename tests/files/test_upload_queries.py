"""A small file's PUT is lean: its query count, authentication and transaction included."""

from __future__ import annotations

from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from accounts.services import token_create
from files import services
from files.models import Activity, Node
from files.tasks import announce_stored_content

# transaction=True: the request's own transaction (BEGIN IMMEDIATE on SQLite, the owner's
# row lock on PostgreSQL) is counted as in production, not hidden in a test's savepoint.
pytestmark = pytest.mark.django_db(transaction=True)


def _put_client(alice: Any) -> Any:
    services.folder_ensure_path(owner=alice, path="/Documents/2026")
    _, raw = token_create(user=alice, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    def put(name: str) -> Any:
        return client.generic(
            "PUT",
            f"/api/v1/files/content/?path=/Documents/2026/{name}",
            name.encode().ljust(4096, b"."),  # 4 KiB, new content each time
            content_type="application/octet-stream",
        )

    assert put("warm-up.bin").status_code == 201  # the token's last use is recorded once
    return put


def test_a_small_put_into_an_existing_folder_costs_at_most_8_queries(
    alice: Any, django_assert_max_num_queries: Any
) -> None:
    """Issue 10 §4: authentication; BEGIN; the usage charge (on PostgreSQL that UPDATE of
    the owner's row is the owner's tree lock; SQLite's BEGIN IMMEDIATE is it); the blob's
    upsert; the node's INSERT, which finds the folder through its ancestors' names and
    checks the name is free in the same statement; the activity row (issue 14: in the
    change's transaction, its folder path known from the PUT's path); COMMIT; one task row
    for everything after the upload (thumbnails, text: decided by the worker)."""
    put = _put_client(alice)
    DBTaskResult.objects.all().delete()
    with django_assert_max_num_queries(8):
        response = put("report.bin")
    assert response.status_code == 201
    body = response.json()
    assert (body["path"], body["size"], body["tags"]) == ("/Documents/2026/report.bin", 4096, [])
    node = Node.objects.select_related("parent", "blob").get(name="report.bin")
    assert (node.parent.name, node.blob.size, node.size) == ("2026", 4096, 4096)
    alice.refresh_from_db()
    assert alice.used_bytes == 2 * 4096  # the warm-up and this one
    assert Activity.objects.filter(node=node, kind=Activity.Kind.UPLOAD).get().where == (
        "/Documents/2026"
    )
    [task] = DBTaskResult.objects.all()
    assert task.task_path == announce_stored_content.module_path
    [announced] = task.args_kwargs["args"][0]
    assert (announced["node_id"], announced["name"]) == (body["id"], "report.bin")
