"""The node admin's search box (operators): words of the name, as the search matches them,
or a user name for that person's items; on PostgreSQL answered from the trigram index, not
by reading every node of the instance."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.urls import reverse

from files import services, tree
from search.engine import TRIGRAM_INDEX
from tests.search.test_postgres import PER_USER, USERS, _fill

pytestmark = pytest.mark.django_db

NODES = reverse("admin:files_node_changelist")


def found(admin_client: Any, q: str) -> set[str]:
    response = admin_client.get(NODES, {"q": q})
    assert response.status_code == 200
    return {node.name for node in response.context["cl"].result_list}


def test_words_of_the_name_in_any_case_and_order(
    admin_client: Any, alice: Any, mallory: Any, upload: Any
) -> None:
    upload("Quarterly Report.pdf", b"%PDF-1.4 q")
    upload("report-draft.txt", b"draft")
    upload("budget.xlsx", b"numbers")
    upload("quarterly report (mallory).pdf", b"%PDF-1.4 m", owner=mallory)
    assert found(admin_client, "REPORT quarterly") == {
        "Quarterly Report.pdf",
        "quarterly report (mallory).pdf",
    }
    assert found(admin_client, "report") == {
        "Quarterly Report.pdf",
        "report-draft.txt",
        "quarterly report (mallory).pdf",
    }
    assert found(admin_client, "nothing-like-it") == set()


def test_a_user_name_keeps_that_persons_items(
    admin_client: Any, alice: Any, mallory: Any, upload: Any
) -> None:
    upload("report.pdf", b"%PDF-1.4 a")
    upload("notes.txt", b"a")
    upload("report.pdf", b"%PDF-1.4 m", owner=mallory)
    home = tree.home_of(mallory)
    services.folder_create(owner=mallory, parent=home, name="Mallory's folder")
    assert found(admin_client, "MALLORY") == {"", "report.pdf", "Mallory's folder"}
    assert found(admin_client, "alice report") == {"report.pdf"}
    [node] = admin_client.get(NODES, {"q": "alice report"}).context["cl"].result_list
    assert node.owner_id == alice.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigram index")
def test_a_name_search_takes_the_trigram_index(admin_client: Any) -> None:
    _fill(users=USERS, per_user=PER_USER)
    response = admin_client.get(NODES, {"q": "zanzibar"})
    changelist = response.context["cl"]
    assert TRIGRAM_INDEX in changelist.queryset.explain()
    names = [node.name for node in changelist.result_list]
    assert len(names) == USERS * PER_USER // 500
    assert all("zanzibar" in name for name in names)
