"""What content search's speed rests on (issue 15's benchmark), asserted as structure: the
snippets are made for the page's rows only, the text rows stay narrow on PostgreSQL, and a
wrong ``FILEFLOW_SEARCH_CONFIG`` is reported by a system check and refused clearly."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from files.models import Node
from search.checks import search_config_check
from search.engine import SearchQuery, search
from tests.search.conftest import on_postgresql

pytestmark = pytest.mark.django_db

API = "/api/v1/search/"
SNIPPET_SQL = re.compile(r"ts_headline\(|snippet\(")
IN_LIST = re.compile(r"\bIN \(([^()]*)\)")


def test_snippets_are_made_for_the_rows_of_the_page_only(
    alice: Any, document: Callable[..., Node]
) -> None:
    for number in range(6):
        document(alice, f"note {number}.txt", f"the wombat count is {number}".encode())
    with CaptureQueriesContext(connection) as queries:
        page = search(user=alice, query=SearchQuery(q="wombat"), limit=2)
    assert len(page.hits) == 2 and page.has_more
    assert all(hit.snippet_html and "<mark>wombat</mark>" in hit.snippet_html for hit in page.hits)
    [snippet_sql] = [q["sql"] for q in queries.captured_queries if SNIPPET_SQL.search(q["sql"])]
    # One query makes the snippets, for the page's two documents by id (not for all six).
    [ids] = IN_LIST.findall(snippet_sql)
    assert sorted(int(pk) for pk in ids.split(",")) == sorted(h.node.blob_id for h in page.hits)


@on_postgresql
def test_text_rows_keep_their_text_and_vector_out_of_line(
    alice: Any, document: Callable[..., Node]
) -> None:
    """The GIN index's matches are read from the heap for their blob id only: a document's
    row must hold pointers, not its ~1.5 KB of text, or every matching row costs a heap page
    (migration search.0005). Both values must be found in the table's TOAST relation."""
    rng = random.Random(15)
    text = " ".join(
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 10)))
        for _ in range(200)
    )
    node = document(alice, "note.txt", text.encode())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT octet_length(text), pg_column_size(text), pg_column_size(search_vector) "
            "FROM search_blobtext WHERE blob_id = %s",
            [node.blob_id],
        )
        length, stored_text, stored_vector = cursor.fetchone()
        cursor.execute(
            "SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = 'search_blobtext'"
        )
        [toast] = cursor.fetchone()
        cursor.execute(f"SELECT coalesce(sum(octet_length(chunk_data)), 0) FROM {toast}")  # noqa: S608
        [in_toast] = cursor.fetchone()
    assert 1000 < length < 2000 and stored_vector
    assert in_toast >= stored_text + stored_vector, "the text is stored in the row"


@on_postgresql
def test_a_wrong_search_config_is_reported_by_the_check_and_refused_clearly(
    settings: Any, alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    node = document(alice, "notes.txt", b"the pangolin notes")
    for wrong in ("klingon", "public.english", "english; drop table x", ""):
        settings.FILEFLOW_SEARCH_CONFIG = wrong
        [error] = search_config_check(databases=["default"])
        assert error.id == "search.E001"
        assert f"FILEFLOW_SEARCH_CONFIG “{wrong}”" in error.msg
        with pytest.raises(SystemCheckError, match=r"search\.E001"):
            call_command("check", databases=["default"])
        response = alice_api.get(API, {"q": "pangolin"})
        assert response.status_code == 503, response.content
        assert response.json()["code"] == "search_unavailable"
        assert f"FILEFLOW_SEARCH_CONFIG “{wrong}”" in response.json()["detail"]
        browser = Client()
        browser.force_login(alice)
        shown = browser.get(reverse("search:results"), {"q": "pangolin"})
        assert shown.status_code == 503
        assert "FILEFLOW_SEARCH_CONFIG" in shown.content.decode()
    # Names are case-folded as in SQL, and may name the schema.
    for right in ("English", "pg_catalog.simple", "simple"):
        settings.FILEFLOW_SEARCH_CONFIG = right
        assert search_config_check(databases=["default"]) == []
    response = alice_api.get(API, {"q": "pangolin"})
    assert [hit["id"] for hit in response.json()["results"]] == [node.pk]


def test_the_search_config_check_is_silent_where_it_is_not_used(settings: Any) -> None:
    settings.FILEFLOW_SEARCH_CONFIG = "klingon"
    expected = 1 if connection.vendor == "postgresql" else 0
    assert len(search_config_check(databases=["default"])) == expected
    assert search_config_check(databases=None) == []


def test_the_schema_documents_the_503_of_searches_in_text() -> None:
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    searching = ["/api/v1/search/", "/api/v1/search-profiles/{id}/results/"]
    for path in searching:
        assert "503" in paths[path]["get"]["responses"], path
    assert "503" not in paths["/api/v1/search-profiles/"]["get"]["responses"]
