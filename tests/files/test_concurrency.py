"""Concurrent writers: the per-owner tree lock keeps trees and quotas exact.

Real threads, each with its own database connection, against the real database (SQLite in
WAL mode with IMMEDIATE transactions, or PostgreSQL with advisory locks)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection

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
