"""bob uploads into alice's shared folder while alice moves that folder around: every write
goes under alice's tree lock, so her tree, her usage and bob's files stay exact.

Real threads with their own database connections (PostgreSQL: advisory locks; SQLite:
IMMEDIATE transactions)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from files import selectors, services, tree
from files.models import Node
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.files.conftest import received

pytestmark = pytest.mark.django_db(transaction=True)

UPLOADS = 12
MOVES = 12


def test_bob_uploads_while_alice_moves_the_shared_folder():
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    home = tree.home_of(alice)
    team = services.folder_ensure_path(owner=alice, path="/Team/Inbox")
    team_top = team.parent
    archive = services.folder_create(owner=alice, parent=home, name="Archive")
    person_share_create(actor=alice, node=team_top, user="bob", role="editor")
    barrier = threading.Barrier(2)

    def bob_uploads() -> int:
        try:
            barrier.wait(timeout=30)
            for i in range(UPLOADS):
                inbox = selectors.folder_get(bob, team.pk, "edit")
                services.file_upload(
                    owner=inbox.owner,
                    parent=inbox,
                    name=f"bob-{i}.txt",
                    received=received(f"upload {i}".encode()),
                    actor=bob,
                )
            return UPLOADS
        finally:
            connection.close()

    def alice_moves() -> int:
        try:
            barrier.wait(timeout=30)
            for i in range(MOVES):
                target = archive if i % 2 == 0 else home
                services.node_move(node=Node.objects.get(pk=team_top.pk), new_parent=target)
            return MOVES
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        done = [f.result(timeout=120) for f in [pool.submit(bob_uploads), pool.submit(alice_moves)]]
    assert done == [UPLOADS, MOVES]
    assert tree.check(alice) == []
    inbox = Node.objects.get(pk=team.pk)
    uploaded = Node.objects.filter(name__startswith="bob-")
    assert uploaded.count() == UPLOADS
    assert {n.parent_id for n in uploaded} == {inbox.pk}
    assert all(n.path == tree.key(inbox) and n.owner_id == alice.pk for n in uploaded)
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert (
        alice.used_bytes == selectors.user_usage_bytes(owner=alice) == sum(n.size for n in uploaded)
    )
    assert bob.used_bytes == 0
    # bob still reaches everything through the share, wherever the folder went
    assert set(Node.objects.visible_to(bob).values_list("pk", flat=True)) >= {
        inbox.pk,
        *uploaded.values_list("pk", flat=True),
    }
