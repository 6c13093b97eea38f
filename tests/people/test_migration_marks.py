"""Migration files 0007 on a populated database: the unread marker and pin move from the share
to a per-person row. A share to one person keeps its state; a group share's state, which no
one member can be said to have set, is dropped (each member sees it as new once more)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("files", "0006_activity_fk_indexes")]
AFTER = [("files", "0007_nodesharemark")]
SEEN = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_direct_shares_keep_their_marks_and_group_shares_start_afresh() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        apps = executor.loader.project_state(BEFORE).apps
        User = apps.get_model("accounts", "User")
        Group = apps.get_model("auth", "Group")
        Node = apps.get_model("files", "Node")
        NodeShare = apps.get_model("files", "NodeShare")
        alice, bob, carol, dave = (
            User.objects.create(username=name, email=f"{name}@example.com")
            for name in ("alice", "bob", "carol", "dave")
        )
        family = Group.objects.create(name="family")
        carol.groups.add(family)
        dave.groups.add(family)
        home = Node.objects.create(owner=alice, name="", is_folder=True, path="")
        shares = {}
        for name, grantee, seen_at, pinned in [
            ("seen", {"user": bob}, SEEN, False),
            ("pinned", {"user": carol}, None, True),
            ("both", {"user": dave}, SEEN, True),
            ("neither", {"user": bob}, None, False),
            ("group", {"group": family}, SEEN, True),
        ]:
            node = Node.objects.create(owner=alice, parent=home, name=name, is_folder=True)
            shares[name] = NodeShare.objects.create(
                node=node, created_by=alice, seen_at=seen_at, pinned=pinned, **grantee
            ).pk

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        apps = executor.loader.project_state(AFTER).apps
        marks = {
            (share, user): (seen_at, pinned)
            for share, user, seen_at, pinned in apps.get_model(
                "files", "NodeShareMark"
            ).objects.values_list("share_id", "user__username", "seen_at", "pinned")
        }
        assert marks == {
            (shares["seen"], "bob"): (SEEN, False),
            (shares["pinned"], "carol"): (None, True),
            (shares["both"], "dave"): (SEEN, True),
        }
        columns = {
            column.name
            for column in connection.introspection.get_table_description(
                connection.cursor(), "files_nodeshare"
            )
        }
        assert not columns & {"seen_at", "pinned"}

        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(BEFORE)
        apps = executor.loader.project_state(BEFORE).apps
        back = dict(
            apps.get_model("files", "NodeShare")
            .objects.filter(pk__in=[shares["both"], shares["group"]])
            .values_list("pk", "pinned")
        )
        assert back == {shares["both"]: True, shares["group"]: False}
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
