"""Concurrent writers: the per-owner tree lock keeps trees and quotas exact.

Real threads, each with its own database connection, against the real database (SQLite in
WAL mode with IMMEDIATE transactions, or PostgreSQL, where the tree lock is the owner's row
locked ``FOR NO KEY UPDATE`` and an upload's usage charge takes it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from fileflow.errors import DomainError
from files import selectors, services, tree
from files.models import Node
from tests.files.conftest import received

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 8


def run_together(work: Callable[[int], Any], n: int = WORKERS) -> list[Any]:
    """Run ``work(i)`` in n threads released at the same moment."""
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_quota_is_exact_under_concurrent_uploads(alice):
    home = tree.home_of(alice)
    alice.quota_bytes = 5 * 1000
    alice.save()

    def upload(i: int) -> str:
        try:
            services.file_upload(
                owner=alice, parent=home, name=f"f{i}.bin", received=received(bytes([i]) * 1000)
            )
        except DomainError as exc:
            return type(exc).__name__
        return "stored"

    results = run_together(upload)
    assert results.count("stored") == 5
    assert results.count("QuotaExceeded") == 3
    alice.refresh_from_db()
    assert alice.used_bytes == 5000 == selectors.user_usage_bytes(owner=alice)
    assert Node.objects.filter(owner=alice, is_folder=False).count() == 5


def test_uploads_of_one_name_race_to_one_file(alice):
    folder = services.folder_ensure_path(owner=alice, path="/In")

    def upload(i: int) -> str:
        try:
            services.file_upload_to_path(
                owner=alice, path="/In/same.bin", received=received(bytes([i]) * 10)
            )
        except DomainError as exc:
            return type(exc).__name__
        return "stored"

    results = run_together(upload)
    assert sorted(results) == ["NameConflict"] * (WORKERS - 1) + ["stored"]
    assert Node.objects.filter(parent=folder).count() == 1
    alice.refresh_from_db()
    assert alice.used_bytes == 10 == selectors.user_usage_bytes(owner=alice)


def test_an_upload_waits_for_a_move_that_holds_the_tree_lock(alice):
    """The upload's INSERT computes the new file's path from its folder's. On PostgreSQL
    its usage charge takes the tree lock, so it waits for a move of that folder to commit,
    then reads the folder where the move put it. (SQLite serialises all writers with
    BEGIN IMMEDIATE, so no upload can run beside the move there.)"""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises every writer with its write lock")  # pragma: no cover
    moving = services.folder_ensure_path(owner=alice, path="/P/moving")
    other = services.folder_ensure_path(owner=alice, path="/Q")
    uploaded = threading.Event()
    moved = threading.Event()

    def waiting_for_a_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            return cursor.fetchone()[0] > 0

    def move() -> None:
        try:
            with transaction.atomic():
                tree.lock(alice.pk)
                services.node_move(node=Node.objects.get(pk=moving.pk), new_parent=other)
                moved.set()
                # Commit once the upload waits for the lock (or, were it not to, has ended).
                for _ in range(1000):
                    if uploaded.is_set() or waiting_for_a_lock():
                        break
                    threading.Event().wait(0.01)
        finally:
            connection.close()

    def upload() -> Node:
        try:
            moved.wait(timeout=30)
            return services.file_upload(
                owner=alice, parent=moving, name="new.txt", received=received(b"x")
            )
        finally:
            uploaded.set()
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        mover = pool.submit(move)
        node = pool.submit(upload).result(timeout=60)
        mover.result(timeout=60)
    assert tree.path_of(node) == "/Q/moving/new.txt"
    assert tree.check(alice) == []


def test_concurrent_writers_leave_one_tree_consistent(alice):
    home = tree.home_of(alice)
    shared = services.folder_ensure_path(owner=alice, path="/shared/deep")

    def writer(i: int) -> list[str]:
        errors: list[str] = []
        mine = services.folder_create(owner=alice, parent=home, name=f"w{i}")
        for j in range(4):
            sub = services.folder_ensure_path(owner=alice, path=f"/w{i}/s{j}")
            services.file_upload(
                owner=alice, parent=sub, name="f.txt", received=received(f"{i}-{j}".encode())
            )
        try:
            services.node_move(
                node=Node.objects.get(owner=alice, name="s0", parent=mine), new_parent=shared
            )
        except DomainError as exc:  # another writer's s0 got there first
            errors.append(type(exc).__name__)
        services.node_copy(
            node=Node.objects.get(owner=alice, name="s1", parent=mine), new_parent=shared
        )
        trashed = Node.objects.get(owner=alice, name="s2", parent=mine)
        services.node_trash(node=trashed)
        services.node_restore(node=trashed)
        services.node_trash(node=Node.objects.get(owner=alice, name="s3", parent=mine))
        return errors

    errors = run_together(writer)
    assert all(set(e) <= {"NameConflict"} for e in errors)
    assert tree.check(alice) == []
    alice.refresh_from_db()
    assert alice.used_bytes == selectors.user_usage_bytes(owner=alice)
    # Every writer's four folders are somewhere in the tree, none lost.
    assert Node.objects.filter(owner=alice, name="f.txt").count() == WORKERS * 4 + WORKERS


def test_different_users_do_not_disturb_each_other(make_user):
    users = [make_user() for _ in range(WORKERS)]

    def work(i: int) -> None:
        user = users[i]
        for j in range(5):
            services.folder_ensure_path(owner=user, path=f"/a{j}/b")

    run_together(work)
    for user in users:
        assert tree.check(user) == []
        assert Node.objects.filter(owner=user).count() == 11


def test_concurrent_signups_each_get_their_own_tree(db):
    from accounts.services import user_create

    users = run_together(
        lambda i: user_create(
            username=f"u{i}", email=f"u{i}@example.com", password="pw-long-enough-1"
        )
    )
    homes = {tree.home_of(user).pk for user in users}
    assert len(homes) == WORKERS
    for user in users:
        assert tree.check(user) == []
