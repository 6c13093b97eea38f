"""Migration 0002 on a populated database: django-mptt's nested sets become paths.

The database is taken back to files 0001 (the last migration with mptt's columns), filled
with a few thousand nodes whose lft/rght/tree_id/level are what mptt would have stored, then
migrated forward; every path must equal the one the parent links give."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from files import tree
from files.models import Node

BEFORE = [("files", "0001_initial")]
AFTER = [("files", "0002_tree_path")]


def nested_sets(home: int, children: dict[int, list[int]]) -> dict[int, tuple[int, int, int]]:
    """(lft, rght, level) by id, numbered depth first from 1 as mptt does."""
    columns: dict[int, tuple[int, int, int]] = {}
    counter = 1
    stack: list[tuple[int, int, bool]] = [(home, 0, False)]
    lefts: dict[int, int] = {}
    while stack:
        pk, level, done = stack.pop()
        if done:
            columns[pk] = (lefts[pk], counter, level)
        else:
            lefts[pk] = counter
            stack.append((pk, level, True))
            stack.extend((child, level + 1, False) for child in reversed(children.get(pk, [])))
        counter += 1
    return columns


def build_old_tree(apps: Any, rng: random.Random) -> dict[int, int | None]:
    """Three users' drive-shaped trees (folders up to 7 deep, files in them), with the
    nested-set columns computed depth first as mptt numbers them. Returns parent by id."""
    User = apps.get_model("accounts", "User")
    OldNode = apps.get_model("files", "Node")
    Blob = apps.get_model("files", "Blob")
    blob = Blob.objects.create(sha256="0" * 64, size=3)
    next_id = 1_000  # explicit ids, so parents are known before anything is written
    parents: dict[int, int | None] = {}
    rows = []
    for number in range(3):
        owner = User.objects.create(username=f"old{number}", email=f"old{number}@example.com")
        children: dict[int, list[int]] = {}
        kinds: dict[int, bool] = {}
        home = next_id
        next_id += 1
        parents[home], kinds[home] = None, True
        folders = [(home, 0)]
        for _ in range(1_000):
            parent, depth = rng.choice(folders)
            is_folder = depth < 7 and rng.random() < 0.3
            pk, next_id = next_id, next_id + 1
            parents[pk], kinds[pk] = parent, is_folder
            children.setdefault(parent, []).append(pk)
            if is_folder:
                folders.append((pk, depth + 1))
        columns = nested_sets(home, children)
        assert columns[home] == (1, 2 * len(columns), 0)
        for pk, (lft, rght, level) in columns.items():
            rows.append(
                OldNode(
                    id=pk,
                    owner=owner,
                    parent_id=parents[pk],
                    name="" if pk == home else f"n{pk}",
                    is_folder=kinds[pk],
                    blob=None if kinds[pk] else blob,
                    size=0 if kinds[pk] else 3,
                    lft=lft,
                    rght=rght,
                    tree_id=number + 1,
                    level=level,
                )
            )
    OldNode.objects.bulk_create(rows, batch_size=500)
    return parents


@pytest.mark.django_db(transaction=True)
def test_migration_fills_every_path_from_the_parent_links_and_drops_mptt():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    parents = build_old_tree(old_apps, random.Random(10))
    assert len(parents) == 3_003

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)

    def expected(pk: int) -> str:
        parent = parents[pk]
        return "" if parent is None else expected(parent) + tree.enc(parent)

    stored = dict(Node.objects.values_list("id", "path"))
    assert stored == {pk: expected(pk) for pk in parents}
    assert max(len(path) for path in stored.values()) == 8 * tree.WIDTH  # files 7 folders down
    columns = {
        c.name
        for c in connection.introspection.get_table_description(connection.cursor(), "files_node")
    }
    assert "path" in columns and not columns & {"lft", "rght", "tree_id", "level"}
    # The rest uses today's code (files.tree reads shares with people, from 0003 on).
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    from accounts.models import User

    for owner in User.objects.filter(username__startswith="old"):
        assert tree.check(owner) == []
    folder = Node.objects.filter(is_folder=True, parent__isnull=False).order_by("-path").first()
    assert folder is not None
    assert tree.subtree_size(folder) == 1 + sum(
        1 for pk in parents if pk != folder.pk and expected(pk).startswith(tree.key(folder))
    )
