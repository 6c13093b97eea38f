"""Query plans that must hold however stale PostgreSQL's statistics are: an account that
has just received many nodes is not in them yet (its owner looks like it has one node)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from files import selectors, services, tree
from files.ingest import Upload
from files.models import Blob, Node
from tests.files.conftest import received

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's planner and statistics"
    ),
]


def many_nodes(owner: Any, folders: int, files_each: int) -> list[Node]:
    """``folders`` folders of ``files_each`` files in ``owner``'s home, written in bulk."""
    home = tree.home_of(owner)
    blob, _ = Blob.objects.get_or_create(sha256="0" * 64, defaults={"size": 1})
    made = Node.objects.bulk_create(
        Node(owner=owner, parent=home, name=f"f{i:03d}", is_folder=True, path=tree.key(home))
        for i in range(folders)
    )
    Node.objects.bulk_create(
        (
            Node(
                owner=owner,
                parent=folder,
                name=f"{j:05d}.txt",
                blob=blob,
                size=1,
                path=tree.key(folder),
            )
            for folder in made
            for j in range(files_each)
        ),
        batch_size=5000,
    )
    return made


def test_an_upload_finds_its_folder_by_id_in_an_account_the_statistics_do_not_know(
    alice: Any,
) -> None:
    with connection.cursor() as cursor:
        # Rolled back with the test, as is the ANALYZE (the pending foreign-key checks of
        # the fixtures' rows are run first: a table with pending ones cannot be altered).
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE files_node SET (autovacuum_enabled = false)")
        cursor.execute("ANALYZE files_node")
    newcomer = User.objects.create_user(username="newcomer", password=None)
    folders = many_nodes(newcomer, folders=20, files_each=1000)
    with CaptureQueriesContext(connection) as queries:
        # By the folder (the API's parent, the web page) and by its path (a raw PUT).
        services.file_upload(
            owner=newcomer, parent=folders[3], name="probe.txt", received=received(b"hello")
        )
        services.file_upload_batch(
            owner=newcomer, path="f005", files=[Upload(name="put.txt", received=received(b"x"))]
        )
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("WITH folder")]
    assert len(inserts) == 2
    for insert in inserts:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + insert)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "files_node_pkey" in plan, plan
        assert "owner_id_" not in plan, plan  # the owner's index would read all 20,020 nodes


def rows_read_of_files_node() -> int:
    """Table rows this transaction has read from files_node, by scans and by index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(seq_tup_read, 0) + COALESCE(idx_tup_fetch, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = 'files_node'"
        )
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize("sort", ["name", "size", "modified", "type"])
def test_a_page_of_a_big_folder_the_statistics_do_not_know_reads_only_that_page(
    alice: Any, sort: str
) -> None:
    """Not every entry of the folder sorted for each page: PostgreSQL took a folder that
    had arrived since its last ANALYZE for an average one (~100 entries) and sorted them
    all (72-88 ms a page of 100,000, bench/tree_scale.py)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE files_node SET (autovacuum_enabled = false)")
        many_nodes(alice, folders=300, files_each=20)  # the average folder: a few dozen
        cursor.execute("ANALYZE files_node")
    hoarder = User.objects.create_user(username="hoarder")
    [big] = many_nodes(hoarder, folders=1, files_each=20_000)
    before = rows_read_of_files_node()
    page = selectors.children_page(folder=big, sort=sort, limit=100)
    read = rows_read_of_files_node() - before
    assert len(page.items) == 100 and page.next_cursor
    assert read < 1000, f"{read} rows read for a page of 100"
    before = rows_read_of_files_node()
    second = selectors.children_page(folder=big, sort=sort, limit=100, cursor=page.next_cursor)
    assert not {n.pk for n in second.items} & {n.pk for n in page.items}
    assert rows_read_of_files_node() - before < 1000


def test_a_page_read_inside_a_transaction_leaves_its_sorting_as_it_was(alice: Any) -> None:
    """The pager switches sorting off for its own statements only."""
    selectors.children_page(folder=tree.home_of(alice), limit=10)
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_sort")
        assert cursor.fetchone() == ("on",)
