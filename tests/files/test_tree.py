"""The tree engine (files.tree): parent links plus a materialised path of ancestor ids.

What users rely on: a subtree read is one indexed range, an upload or a move touches only
the rows it changes (so its cost does not depend on where in the tree it happens), and after
any mix of operations every path is the one the parent links give."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from files import selectors, services, tree
from files.errors import InvalidMove, NameConflict, NodeNotFound
from files.models import Node
from tests.files.conftest import received


def paths_from_parents(owner: Any) -> dict[int, str]:
    """Every node's path recomputed from the parent links alone (independent of files.tree)."""
    parents = dict(Node.objects.filter(owner=owner).values_list("id", "parent_id"))

    known: dict[int, str] = {}

    def path(pk: int) -> str:
        if pk not in known:
            parent = parents[pk]
            known[pk] = "" if parent is None else path(parent) + base36(parent)
        return known[pk]

    return {pk: path(pk) for pk in parents}


def base36(number: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[digit] + digits
    return digits.rjust(8, "0")


def assert_paths_right(owner: Any) -> None:
    stored = dict(Node.objects.filter(owner=owner).values_list("id", "path"))
    assert stored == paths_from_parents(owner)
    assert tree.check(owner) == []


def updates_and_inserts(queries: CaptureQueriesContext) -> list[str]:
    """The statements that wrote to files_node."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(('UPDATE "files_node" ', 'INSERT INTO "files_node" '))
    ]


# --- the encoding ----------------------------------------------------------------------


@pytest.mark.django_db
def test_ids_are_fixed_width_base36_and_the_database_encodes_them_the_same_way(alice):
    ids = [1, 35, 36, 1295, 1296, 10**6, 36**7, 36**8 - 1]
    assert [tree.enc(pk) for pk in ids] == [base36(pk) for pk in ids]
    assert tree.enc(1) == "00000001" and tree.enc(36**8 - 1) == "zzzzzzzz"
    assert sorted(tree.enc(pk) for pk in ids) == [tree.enc(pk) for pk in sorted(ids)]
    with pytest.raises(ValueError):
        tree.enc(36**8)
    home = tree.home_of(alice)
    for pk in ids:
        in_sql = (
            Node.objects.filter(pk=home.pk)
            .annotate(code=tree.enc_sql(F("id") * 0 + pk))
            .values_list("code", flat=True)
            .get()
        )
        assert in_sql == tree.enc(pk)
    assert tree.ids_in(tree.enc(5) + tree.enc(36**7)) == [5, 36**7]


# --- reads -------------------------------------------------------------------------------


@pytest.fixture
def drive(alice: Any, mkdir: Callable[..., Node], upload: Callable[..., Node]) -> dict[str, Node]:
    deep = mkdir("/A/B/C")
    return {
        "A": Node.objects.get(pk=deep.parent.parent_id),
        "B": deep.parent,
        "C": deep,
        "c.txt": upload("c.txt", parent=deep),
        "a.txt": upload("a.txt", parent=Node.objects.get(pk=deep.parent.parent_id)),
        "Z": mkdir("/Z"),
        "z.txt": upload("z.txt", parent=mkdir("/Z")),
    }


@pytest.mark.django_db
def test_descendants_are_the_subtree_each_folder_before_what_it_holds(drive):
    below = list(tree.descendants(drive["A"]))
    assert {n.name for n in below} == {"B", "C", "c.txt", "a.txt"}
    order = [n.pk for n in below]
    for node in below:
        if node.parent_id != drive["A"].pk:
            assert order.index(node.parent_id) < order.index(node.pk)
    with_self = list(tree.descendants(drive["A"], include_self=True))
    assert with_self[0] == drive["A"] and len(with_self) == 5
    assert tree.subtree_size(drive["A"]) == 5
    assert tree.subtree_size(drive["c.txt"]) == 1
    many = tree.descendants_of_many(Node.objects.filter(pk__in=[drive["C"].pk, drive["Z"].pk]))
    assert {n.name for n in many} == {"C", "c.txt", "Z", "z.txt"}


@pytest.mark.django_db
def test_ancestors_are_one_query_from_the_home_folder_down(drive, django_assert_num_queries):
    with django_assert_num_queries(1):
        chain = list(tree.ancestors(drive["c.txt"], include_self=True))
    assert [n.name for n in chain] == ["", "A", "B", "C", "c.txt"]
    assert tree.depth(drive["c.txt"]) == 4 and drive["c.txt"].depth == 4
    with django_assert_num_queries(1):
        assert tree.path_of(drive["c.txt"]) == "/A/B/C/c.txt"
    with django_assert_num_queries(1):
        paths = tree.paths_of([drive["c.txt"], drive["z.txt"], drive["A"]])
    assert paths == {
        drive["c.txt"].pk: "/A/B/C/c.txt",
        drive["z.txt"].pk: "/Z/z.txt",
        drive["A"].pk: "/A",
    }
    assert tree.is_inside(drive["c.txt"], drive["A"])
    assert not tree.is_inside(drive["z.txt"], drive["A"])
    assert not tree.is_inside(drive["A"], drive["A"], include_self=False)


@pytest.mark.django_db
def test_the_subtree_range_is_read_through_the_path_index(drive):
    query = tree.descendants(drive["A"]).values_list("id", flat=True)
    if connection.vendor == "postgresql":
        # Few rows here, so the planner would rightly scan the table; with scans priced
        # out, a plan on the index proves the range (and the column's collation) fits it.
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            plan = query.explain()
    else:
        plan = query.explain()
    assert "files_node_path" in plan, plan


@pytest.mark.django_db
def test_on_postgresql_paths_compare_bytewise_whatever_the_database_collation(alice):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite compares text bytewise (BINARY) already")  # pragma: no cover
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'files_node' AND column_name = 'path'"
        )
        assert cursor.fetchone() == ("C",)


# --- writes touch only what they change --------------------------------------------------


@pytest.mark.django_db
def test_an_upload_is_one_insert_wherever_it_lands(drive, alice):
    for folder in (drive["A"], drive["C"], drive["Z"]):
        with CaptureQueriesContext(connection) as queries:
            services.file_upload(
                owner=alice, parent=folder, name="new.txt", received=received(b"x")
            )
        writes = updates_and_inserts(queries)
        assert len(writes) == 1 and writes[0].startswith("INSERT"), writes
    assert_paths_right(alice)


@pytest.mark.django_db
def test_a_move_is_one_update_of_the_node_and_one_of_its_subtree(drive, alice, mkdir):
    big = mkdir("/A/B/C/D/E")
    for index in range(20):
        services.file_upload(owner=alice, parent=big, name=f"{index}.txt", received=received(b"x"))
    with CaptureQueriesContext(connection) as queries:
        services.node_move(node=drive["B"], new_parent=drive["Z"])
    writes = updates_and_inserts(queries)
    assert len(writes) == 2 and all(w.startswith("UPDATE") for w in writes), writes
    assert tree.path_of(Node.objects.get(pk=big.pk)) == "/Z/B/C/D/E"
    assert_paths_right(alice)


@pytest.mark.django_db
def test_a_copy_inserts_one_batch_per_level(drive, alice, mkdir):
    mkdir("/A/B/C2")
    with CaptureQueriesContext(connection) as queries:
        copy = services.node_copy(node=drive["A"], new_parent=drive["Z"])
    writes = updates_and_inserts(queries)
    # A; B and a.txt; C and C2; c.txt: four levels, four INSERTs, nothing renumbered.
    assert len(writes) == 4 and all(w.startswith("INSERT") for w in writes), writes
    assert {n.name for n in tree.descendants(copy)} == {"B", "C", "C2", "c.txt", "a.txt"}
    assert_paths_right(alice)


@pytest.mark.django_db
def test_folders_nest_at_most_max_depth_levels(alice, mkdir, settings):
    deepest = mkdir("/".join(f"d{i}" for i in range(tree.MAX_DEPTH)))
    assert deepest.depth == tree.MAX_DEPTH
    with pytest.raises(InvalidMove, match=f"at most {tree.MAX_DEPTH} levels"):
        services.folder_create(owner=alice, parent=deepest, name="one-too-many")
    with pytest.raises(InvalidMove, match="levels"):
        services.file_upload(owner=alice, parent=deepest, name="f.txt", received=received(b"x"))
    # Moving a two-level folder under depth MAX_DEPTH - 1 would make MAX_DEPTH + 1.
    pair = mkdir("/p/q")
    with pytest.raises(InvalidMove, match="levels"):
        services.node_move(node=pair.parent, new_parent=deepest.parent)
    with pytest.raises(InvalidMove, match="levels"):
        services.node_copy(node=pair.parent, new_parent=deepest.parent)
    services.node_move(node=Node.objects.get(pk=pair.pk), new_parent=deepest.parent)
    assert_paths_right(alice)


@pytest.mark.django_db
def test_check_names_the_node_whose_path_disagrees_and_repair_recomputes_it(drive, alice):
    Node.objects.filter(pk=drive["B"].pk).update(path=tree.key(drive["Z"]))
    problems = tree.check(alice)
    assert len(problems) == 1 and f"node {drive['B'].pk} has path" in problems[0], problems
    tree.rebuild(alice)
    assert_paths_right(alice)


# --- property test: random operations, then every path is the one the links give -------


OPERATIONS = (
    *("mkdir", "mkdir", "mkdir", "upload", "upload", "move", "move", "move", "copy"),
    *("trash", "restore", "delete", "into-itself"),
)


@pytest.mark.django_db
def test_random_operations_keep_every_path_equal_to_the_parent_links(alice, mallory):
    rng = random.Random(20261204)
    home = tree.home_of(alice)
    refused = 0
    done: Counter[str] = Counter()
    for step in range(240):
        nodes = list(Node.objects.filter(owner=alice, parent__isnull=False).order_by("id"))
        live = [n for n in nodes if n.trashed_at is None]
        folders = [home] + [n for n in live if n.is_folder]
        entries = [n for n in nodes if n.is_trash_root]
        operation = rng.choice(OPERATIONS)
        try:
            if operation == "mkdir":
                services.folder_create(owner=alice, parent=rng.choice(folders), name=f"d{step}")
            elif operation == "upload":
                services.file_upload(
                    owner=alice,
                    parent=rng.choice(folders),
                    name=f"f{step}.txt",
                    received=received(b"x" * rng.randint(0, 50)),
                )
            elif operation == "move" and live:
                services.node_move(node=rng.choice(live), new_parent=rng.choice(folders))
            elif operation == "copy" and live:
                services.node_copy(node=rng.choice(live), new_parent=rng.choice(folders))
            elif operation == "trash" and live:
                services.node_trash(node=rng.choice(live))
            elif operation == "restore" and entries:
                services.node_restore(node=rng.choice(entries))
            elif operation == "delete" and entries:
                services.node_delete(node=rng.choice(entries))
            elif operation == "into-itself":
                inner = [f for f in folders if f.depth >= 2]
                if inner:
                    target = rng.choice(inner)
                    top = Node.objects.get(pk=tree.ids_in(target.path)[1])
                    with pytest.raises(InvalidMove):
                        services.node_move(node=top, new_parent=target)
        except (InvalidMove, NodeNotFound) as error:  # e.g. moving a folder into itself
            refused += 1
            assert "itself" in str(error) or "trash" in str(error), error
        except NameConflict:
            refused += 1
        else:
            done[operation] += 1
        if step % 40 == 39:
            assert_paths_right(alice)
            alice.refresh_from_db()
            assert alice.used_bytes == selectors.user_usage_bytes(owner=alice)
    assert_paths_right(alice)
    # Every kind ran (refusals aside: "into-itself" is a refusal each time).
    assert min(done.values()) >= 5 and len(done) == 8, (done, refused)
    assert tree.check(mallory) == []


@pytest.mark.django_db
def test_a_path_read_before_its_folder_went_away_is_read_again(drive, alice, home):
    stale = Node.objects.get(pk=drive["c.txt"].pk)  # /A/B/C/c.txt, read now
    services.node_move(node=drive["B"], new_parent=home)
    services.node_delete(node=services.node_trash(node=drive["A"]))
    assert tree.paths_of([stale]) == {stale.pk: "/B/C/c.txt"}
    assert tree.path_of(stale) == "/B/C/c.txt"
