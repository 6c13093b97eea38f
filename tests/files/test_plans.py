"""Query plans that must hold however stale PostgreSQL's statistics are: an account that
has just received many nodes is not in them yet (its owner looks like it has one node)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from files import selectors, services, tree
from files.ingest import Upload
from files.models import Blob, Node
from sharing.people import person_share_create
from tests.files.conftest import received

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="PostgreSQL's planner and statistics"
    ),
]


def many_nodes(
    owner: Any, folders: int, files_each: int, *, distinct_blobs: bool = False
) -> list[Node]:
    """``folders`` folders of ``files_each`` files in ``owner``'s home, written in bulk; the
    files share one content unless ``distinct_blobs`` (as real files mostly do not: the
    planner reads blob_id's statistics)."""
    home = tree.home_of(owner)
    made = Node.objects.bulk_create(
        Node(owner=owner, parent=home, name=f"f{i:03d}", is_folder=True, path=tree.key(home))
        for i in range(folders)
    )
    count = folders * files_each
    if distinct_blobs:
        start = Blob.objects.count()
        blobs = Blob.objects.bulk_create(
            (Blob(sha256=f"{start + i:064x}", size=1) for i in range(count)), batch_size=5000
        )
    else:
        blobs = [Blob.objects.get_or_create(sha256="0" * 64, defaults={"size": 1})[0]] * count
    Node.objects.bulk_create(
        (
            Node(
                owner=owner,
                parent=folder,
                name=f"{j:05d}.txt",
                blob=blobs[i * files_each + j],
                size=1,
                path=tree.key(folder),
            )
            for i, folder in enumerate(made)
            for j in range(files_each)
        ),
        batch_size=5000,
    )
    return made


def test_an_upload_finds_its_folder_by_id_in_an_account_the_statistics_do_not_know(
    alice: Any,
) -> None:
    stale_statistics()
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
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("WITH folder")]
    assert len(inserts) == 2
    for insert in inserts:
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN " + insert["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "owner_id_" not in plan, plan  # the owner's index would read all 20,020 nodes
    # Run again (the names are taken now: nothing is inserted), they read a few rows: the
    # folder by its id, the name in it (not every folder of the instance, not the account).
    assert rows_scanned(inserts) < 100


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


def stale_statistics() -> None:
    """The statistics of an instance in use (three people of 2,100 nodes each, one share
    between them), taken before the test's big account is written: ANALYZE now (rolled
    back with the test)."""
    others = [User.objects.create_user(username=f"other{i}") for i in range(3)]
    for other in others:
        folders = many_nodes(other, folders=20, files_each=100, distinct_blobs=True)
    person_share_create(actor=others[2], node=folders[0], user=others[0].username)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE files_node SET (autovacuum_enabled = false)")
        cursor.execute("ANALYZE")


def rows_scanned(queries: CaptureQueriesContext | list[dict[str, str]]) -> int:
    """Rows of files_node that the statements ``queries`` captured read, each run again under
    EXPLAIN ANALYZE: every scan's rows, those its filters removed included, times its
    loops. (The transaction's counters in pg_stat_xact_user_tables can still hold earlier
    transactions' counts that the server has not flushed yet.)"""

    def scanned(plan: dict[str, Any]) -> int:
        own = 0
        if plan.get("Relation Name") == "files_node":
            rows = plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)
            own = (rows + plan.get("Rows Removed by Index Recheck", 0)) * plan["Actual Loops"]
        return own + sum(scanned(child) for child in plan.get("Plans", []))

    total = 0
    captured = queries.captured_queries if isinstance(queries, CaptureQueriesContext) else queries
    for query in captured:
        if query["sql"].startswith(("SELECT", "WITH")) and "files_node" in query["sql"]:
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
                [[plan]] = cursor.fetchone()
            total += scanned(plan["Plan"])
    return total


def test_favourites_are_read_without_the_owners_other_nodes(alice: Any) -> None:
    """The favourites page read every node of the owner to find the few starred ones (85 ms
    in a 1M-node account after ANALYZE, 158 ms before, bench/account_scale.py)."""
    stale_statistics()
    folders = many_nodes(alice, folders=20, files_each=1000)
    starred = Node.objects.filter(parent=folders[7]).order_by("name")[:3]
    for node in starred:
        services.node_set_favorite(node=node, is_favorite=True)
    client = Client()
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("files:favorites"))
    read = rows_scanned(queries)
    assert page.status_code == 200
    assert all(node.name in page.content.decode() for node in starred)
    assert read < 1000, f"{read} rows of files_node read for 3 favourites"


def test_the_folders_to_search_in_are_read_without_the_files(alice: Any, mallory: Any) -> None:
    """The search page's "Search in" list read every node the person may see: 3.7 s in a
    1M-node account (bench/account_scale.py)."""
    stale_statistics()
    folders = many_nodes(alice, folders=20, files_each=1000)
    shared = many_nodes(mallory, folders=5, files_each=1000)
    person_share_create(actor=mallory, node=shared[2], user=alice.username)
    with CaptureQueriesContext(connection) as queries:
        found = selectors.live_folders(alice, limit=500)
    read = rows_scanned(queries)
    assert [node.pk for node in found] == [node.pk for node in folders] + [shared[2].pk]
    assert read < 1000, f"{read} rows of files_node read for 21 folders"


def test_webdavs_shared_with_me_name_is_checked_without_reading_the_account(alice: Any) -> None:
    """Whether the person has an item of their own named "Shared with me" (every WebDAV
    request asks): by the owner, it read all their nodes (96-128 ms in a 1M-node account)."""
    stale_statistics()
    many_nodes(alice, folders=20, files_each=1000)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.shared_root_name(alice) == selectors.SHARED_NAME
    assert rows_scanned(queries) < 50


def test_a_page_of_the_one_person_holding_every_node_reads_only_what_it_shows(
    alice: Any,
) -> None:
    """A one-person instance: the statistics say every node is hers, so "someone else's
    item" (Shared with me, in every page's side bar) looked like no row at all, and
    PostgreSQL read all her nodes to count the shares to her (none)."""
    folders = many_nodes(alice, folders=20, files_each=1000)
    services.node_set_favorite(
        node=Node.objects.filter(parent=folders[3]).first(), is_favorite=True
    )
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ANALYZE")
    client = Client()
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("files:favorites")).status_code == 200
    assert rows_scanned(queries) < 500


def test_a_tag_the_trash_and_a_search_read_what_they_find_not_the_account(alice: Any) -> None:
    """Statistics that predate the account made its owner look like one of a handful of
    nodes, and PostgreSQL found three tagged files, or a name, by reading all the account's
    nodes through the owner's index (a tag's page 1.1 s, a search 0.6 s in a 1M-node
    account, bench/account_scale.py). The owner is now only checked on what the tag, the
    name or the text finds."""
    stale_statistics()
    newcomer = User.objects.create_user(username="newcomer", password=None)
    folders = many_nodes(newcomer, folders=20, files_each=1000, distinct_blobs=True)
    tagged = list(Node.objects.filter(parent=folders[7]).order_by("name")[:3])
    for node in tagged:
        services.node_set_tags(node=node, names=["receipts"])
    client = Client()
    client.force_login(newcomer)
    tag = newcomer.tags.get()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("files:tag", args=[tag.pk])).content.decode()
    shown = {int(pk) for pk in re.findall(r'data-id="(\d+)"', page)}
    assert shown - {0} == {node.pk for node in tagged}  # 0: the rows' template
    assert rows_scanned(queries) < 500
    for node in Node.objects.filter(parent=folders[9]).order_by("name")[:2]:
        services.node_trash(node=node)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("files:trash")).status_code == 200
        assert client.get("/api/v1/trash/").json()["count"] == 2
    assert rows_scanned(queries) < 500
    with CaptureQueriesContext(connection) as queries:
        found = client.get("/api/v1/search/", {"q": "00012"}).json()
        assert client.get(reverse("search:results"), {"q": "00012"}).status_code == 200
    assert found["count"] == 20
    assert rows_scanned(queries) < 1000


def test_a_search_for_favourites_without_words_reads_the_favourites(alice: Any) -> None:
    """Without words, every node id of the account was gathered before the filters applied:
    0.6-1.1 s for the favourites of a 1M-node account (bench/account_scale.py)."""
    stale_statistics()
    newcomer = User.objects.create_user(username="newcomer", password=None)
    folders = many_nodes(newcomer, folders=20, files_each=1000, distinct_blobs=True)
    starred = list(Node.objects.filter(parent=folders[4]).order_by("name")[:3])
    for node in starred:
        services.node_set_favorite(node=node, is_favorite=True)
    client = Client()
    client.force_login(newcomer)
    with CaptureQueriesContext(connection) as queries:
        found = client.get("/api/v1/search/", {"favorite": "true"}).json()
    assert {hit["id"] for hit in found["results"]} == {node.pk for node in starred}
    assert rows_scanned(queries) < 500
