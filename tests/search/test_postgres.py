"""Accent-insensitive matching and the trigram index (PostgreSQL), and the SQLite fallback."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from files import tree
from files.models import Node
from search.engine import TRIGRAM_INDEX, SearchQuery, build_queryset
from tests.factories import UserFactory
from tests.search.conftest import names, on_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture
def accented(upload):
    for name in ("Résumé.pdf", "resume-old.txt", "ÉCOLE primaire.docx", "Ångström.csv", "cafe"):
        upload(name, b"x")


@on_postgresql
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("resume", {"Résumé.pdf", "resume-old.txt"}),
        ("RÉSUMÉ", {"Résumé.pdf", "resume-old.txt"}),
        ("résumé", {"Résumé.pdf", "resume-old.txt"}),
        ("ecole", {"ÉCOLE primaire.docx"}),
        ("école PRIMAIRE", {"ÉCOLE primaire.docx"}),
        ("angstrom", {"Ångström.csv"}),
        ("café", {"cafe"}),
    ],
)
def test_accents_and_case_are_ignored_on_postgresql(alice_api, accented, q, expected):
    assert set(names(alice_api.get("/api/v1/search/", {"q": q}))) == expected


@on_postgresql
def test_accent_insensitive_relevance(alice_api, upload):
    for name in ("Crème brûlée", "creme brulee.txt", "la crème brûlée"):
        upload(name, b"x")
    assert names(alice_api.get("/api/v1/search/", {"q": "creme brulee"})) == [
        "Crème brûlée",  # exact, ignoring accents and case
        "creme brulee.txt",  # prefix
        "la crème brûlée",  # contains
    ]


def test_same_spelling_matches_on_every_database(alice_api, accented):
    assert names(alice_api.get("/api/v1/search/", {"q": "Résumé.p"})) == ["Résumé.pdf"]
    assert names(alice_api.get("/api/v1/search/", {"q": "RESUME-OLD"})) == ["resume-old.txt"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="documents the SQLite fallback")
def test_sqlite_fallback_is_ascii_case_insensitive_only(alice_api, accented):
    assert names(alice_api.get("/api/v1/search/", {"q": "resume"})) == ["resume-old.txt"]
    assert names(alice_api.get("/api/v1/search/", {"q": "CAFE"})) == ["cafe"]


WORDS = [
    "report",
    "invoice",
    "photo",
    "holiday",
    "budget",
    "draft",
    "final",
    "scan",
    "notes",
    "meeting",
    "contract",
    "letter",
    "summary",
    "plan",
    "review",
    "backup",
    "export",
    "minutes",
    "agenda",
    "receipt",
]


def _fill(users: int, per_user: int) -> list[User]:
    """Users with one flat folder of ``per_user`` sub-folders each, named from WORDS with a
    rare "zanzibar" every 500 names.

    Made with one bulk_create for speed (a service call per node would blow this test's time
    budget). The tree column (``path``) is written here directly — only tests and benchmarks
    may do that — and ``tree.check`` proves every tree valid. The trigram index is dropped
    for the load and re-created from its own definition (inside the test's transaction, so
    rolled back with it): building it once is much faster than updating it row by row."""
    rng = random.Random(7)
    owners = [UserFactory(username=f"bulk{u}") for u in range(users)]
    rows = []
    for owner in owners:
        home = tree.home_of(owner)
        for i in range(per_user):
            words = rng.sample(WORDS, 3)
            if i % 500 == 0:
                words[1] = "zanzibar"
            rows.append(
                Node(
                    owner=owner,
                    parent=home,
                    name=f"{' '.join(words)} {i}",
                    is_folder=True,
                    path=tree.key(home),
                )
            )
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX])
        [definition] = cursor.fetchone()
        cursor.execute(f"DROP INDEX {TRIGRAM_INDEX}")
        Node.objects.bulk_create(rows, batch_size=5000)
        # The inserts left deferred foreign-key checks pending, which CREATE INDEX refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("ANALYZE files_node")
    for owner in owners:
        assert tree.check(owner) == []
    return owners


# Per owner, the planner weighs scanning all of that owner's nodes (owner_id index and
# f_unaccent on each) against the trigram index, so what matters is nodes per owner.
# Measured on this set-up: 8 owners x 1,500 nodes still scan for a rare word; 3 x 3,000
# take the index for every rare query (2 x 5,000 even for the common "report"), and so do
# the 1M-node benchmark's 100 x 10,000.
USERS, PER_USER = 3, 3000


@on_postgresql
def test_name_search_uses_the_trigram_index(alice):
    """The structural fact (the plan takes the trigram index); timings belong to
    bench/search_names.py."""
    owners = _fill(users=USERS, per_user=PER_USER)
    for owner in owners:
        for q in ("zanzibar", "zanzibar report", "Zanzíbar"):
            queryset = build_queryset(user=owner, query=SearchQuery(q=q))
            plan = queryset.explain()
            assert TRIGRAM_INDEX in plan, plan
            found = list(queryset.values_list("name", flat=True))
            assert all("zanzibar" in name for name in found)
            assert all("report" in name for name in found) or "report" not in q
            if " " not in q:
                assert len(found) == PER_USER // 500


@on_postgresql
def test_index_expression_is_the_engine_expression():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX])
        [(definition,)] = cursor.fetchall()
        cursor.execute("SELECT provolatile FROM pg_proc WHERE proname = 'f_unaccent'")
        [(volatility,)] = cursor.fetchall()
    assert "gin" in definition and "gin_trgm_ops" in definition
    assert "f_unaccent(lower((name)::text))" in definition
    assert volatility == "i"  # IMMUTABLE, or it could not be indexed


@on_postgresql
def test_fast_twin_agrees_and_is_inlined():
    samples = ["Résumé", "ÉCOLE", "Ångström", "naïve café", "straße", "plain", "", "ǅ"]
    with connection.cursor() as cursor:
        for text in samples:
            cursor.execute("SELECT f_unaccent(%s), f_unaccent_fast(%s)", [text, text])
            slow, fast = cursor.fetchone()
            assert slow == fast
        cursor.execute("EXPLAIN VERBOSE SELECT f_unaccent_fast(name) FROM files_node")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Inlined: the plan calls unaccent() itself, not the SQL wrapper.
    assert "f_unaccent_fast" not in plan and "unaccent(" in plan


@on_postgresql
def test_the_indexed_function_is_plpgsql_and_agrees_with_unaccent():
    """Migration search.0006: PL/pgSQL, a third of the cost of a non-inlined SQL body on the
    rows the search re-checks; the same answers as unaccent() itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.lanname, p.provolatile FROM pg_proc p JOIN pg_language l "
            "ON l.oid = p.prolang WHERE p.proname = 'f_unaccent'"
        )
        assert cursor.fetchall() == [("plpgsql", "i")]
        for text in ("Résumé", "ÉCOLE", "Ångström", "straße", "plain", ""):
            cursor.execute("SELECT f_unaccent(%s), unaccent(%s)", [text, text])
            mine, theirs = cursor.fetchone()
            assert mine == theirs


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_migration_reverses_and_reapplies():
    def state() -> tuple[int, int]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX])
            indexes = cursor.fetchone()[0]
            cursor.execute(
                "SELECT count(*) FROM pg_proc WHERE proname IN ('f_unaccent', 'f_unaccent_fast')"
            )
            return indexes, cursor.fetchone()[0]

    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("search")
    assert state() == (1, 2)
    executor.migrate([("search", "0001_initial")])
    assert state() == (0, 0)
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    assert state() == (1, 2)


@pytest.mark.skipif(connection.vendor == "postgresql", reason="checks the no-op elsewhere")
def test_migration_does_nothing_on_sqlite():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        indexes = {row[0] for row in cursor.fetchall()}
    assert TRIGRAM_INDEX not in indexes
