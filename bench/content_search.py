"""Search inside documents: extraction throughput, content search at scale, index size.

PostgreSQL, 100,000 indexed documents (goal: median <= 50 ms):
    FILEFLOW_DATA_DIR=/tmp/ff-bench-text scripts/with-postgres.sh \\
        .venv/bin/python bench/content_search.py
SQLite, 10,000 indexed documents (goal: median <= 100 ms):
    FILEFLOW_DATA_DIR=/tmp/ff-bench-text DATABASE_URL=sqlite:////tmp/ff-bench-text/bench.sqlite3 \\
        .venv/bin/python bench/content_search.py
Options: --docs N --users N --repeat N --words N (words of text per document), --extract N
(documents of each kind read in part 1, default 40).

1. Extraction (no database): a generated corpus of each kind (PDF of 5 pages, docx, xlsx,
   pptx, odt, HTML, plain text; built as the tests build them), read with
   ``search.extract.extract_text``; documents/s and MB of text/s per kind.
2. Content search: ``--docs`` documents over ``--users`` users, each document's text made of
   ``--words`` words from a 5,000-word vocabulary (Zipf-like), plus a common word in ~5% of
   documents and a rare one in ~1 of 5,000. What is timed is one call of
   ``search.engine.search`` (a page of 50 hits with tags, paths and snippets) for the word,
   users in turn, against the same page made the naive way in the same run and interleaved
   with it: the caller's live nodes whose text ``icontains`` the word, ordered by name.
3. Index size: bytes of index per document (PostgreSQL: the tsvector column and its GIN
   index; SQLite: the FTS5 shadow tables), next to the bytes of text.

Set-up (not timed): files are created through ``files.services.file_upload_batch`` (1,000
per call, the real ingest path, content in local storage); their text rows are then written
in bulk as the worker would leave them (state indexed; on PostgreSQL one set-based UPDATE
computes the tsvectors; on SQLite the FTS5 triggers index each row). A database holding
this data set is reused; one holding anything else is refused.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import sys
import time
from pathlib import Path

from _setup import summary
from search_names import django_setup, percentile

PREFIX = "bench-text-"
PAGE = 50
COMMON, RARE = "quarterly", "zanzibar"


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 10))))
    return sorted(words - {COMMON, RARE})


def make_text(rng: random.Random, words: list[str], weights: list[float], count: int) -> str:
    chosen = rng.choices(words, weights=weights, k=count)
    if rng.random() < 0.05:
        chosen[rng.randrange(count)] = COMMON
    if rng.random() < 0.0002:
        chosen[rng.randrange(count)] = RARE
    return " ".join(chosen)


# --- 1. extraction --------------------------------------------------------------------------


def extraction(rng: random.Random, words: list[str], weights: list[float], each: int) -> None:
    from search.extract import extract_text
    from tests.search import documents

    def text(n: int) -> str:
        return make_text(rng, words, weights, n)

    corpus = {
        "pdf (5 pages)": (
            "pdf",
            [
                documents.pdf(*("\n".join(text(12) for _ in range(25)) for _ in range(5)))
                for _ in range(each)
            ],
        ),
        "docx": ("docx", [documents.docx(*(text(100) for _ in range(15))) for _ in range(each)]),
        "xlsx": (
            "xlsx",
            [
                documents.xlsx([[text(3) for _ in range(5)] for _ in range(100)])
                for _ in range(each)
            ],
        ),
        "pptx": ("pptx", [documents.pptx(*(text(60) for _ in range(20))) for _ in range(each)]),
        "odt": (
            "odf",
            [documents.odf("odt", *(text(100) for _ in range(15))) for _ in range(each)],
        ),
        "html": (
            "html",
            [
                ("<html><body>" + "".join(f"<p>{text(100)}</p>" for _ in range(15))).encode()
                for _ in range(each)
            ],
        ),
        "txt": ("text", [text(1500).encode() for _ in range(each)]),
    }
    print(f"\n1. Extraction: {each} generated documents per kind, one process, read from memory")
    print(f"{'kind':15} {'docs/s':>9} {'MB text/s':>10} {'KB text/doc':>12}")
    all_docs = all_bytes = 0
    all_seconds = 0.0
    for label, (kind, items) in corpus.items():
        started = time.perf_counter()
        produced = 0
        for item in items:
            produced += len(
                extract_text(
                    io.BytesIO(item), kind=kind, max_bytes=1_000_000, seconds=30
                ).text.encode()
            )
        seconds = time.perf_counter() - started
        all_docs += len(items)
        all_bytes += produced
        all_seconds += seconds
        print(
            f"{label:15} {len(items) / seconds:9.0f} {produced / seconds / 1e6:10.2f} "
            f"{produced / len(items) / 1000:12.1f}"
        )
    print(f"{'all':15} {all_docs / all_seconds:9.0f} {all_bytes / all_seconds / 1e6:10.2f}")


# --- 2. data set -----------------------------------------------------------------------------


def load(
    docs: int,
    users: int,
    words_per_doc: int,
    rng: random.Random,
    words: list[str],
    weights: list[float],
) -> None:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from accounts.models import User
    from files import services, tree
    from files.ingest import Upload, receive_stream
    from search.models import BlobText

    started = time.perf_counter()
    accounts = [
        User.objects.create(username=f"{PREFIX}{u:03d}", password=make_password(None))
        for u in range(users)
    ]
    per_user = docs // users
    for number, user in enumerate(accounts):
        folder = services.folder_create(owner=user, parent=tree.home_of(user), name="Documents")
        for start in range(0, per_user, 1000):
            texts = [
                make_text(rng, words, weights, words_per_doc)
                for _ in range(min(1000, per_user - start))
            ]
            batch = []
            for offset, text in enumerate(texts):
                content = f"{number}-{start + offset}\n{text}".encode()
                batch.append(
                    Upload(
                        name=f"note {start + offset:06d}.txt",
                        received=receive_stream(io.BytesIO(content).read, length=len(content)),
                    )
                )
            nodes = services.file_upload_batch(owner=user, parent=folder, files=batch).nodes
            now = timezone.now()
            BlobText.objects.bulk_create(
                [
                    BlobText(
                        blob_id=node.blob_id,
                        state=BlobText.State.INDEXED,
                        kind="text",
                        text=f"{number}-{start + offset}\n{text}",
                        indexed_at=now,
                    )
                    for offset, (node, text) in enumerate(zip(nodes, texts, strict=True))
                ],
                batch_size=500,
                # Upload queued them (pending) for the worker: written here instead.
                update_conflicts=True,
                unique_fields=["blob"],
                update_fields=["state", "kind", "text", "indexed_at"],
            )
        print(f"  loaded {number + 1}/{users} users ({time.perf_counter() - started:.0f} s)")
    # The tasks the uploads queued (thumbnails, texts) are not needed: no worker runs here.
    DBTaskResult.objects.all().delete()
    if connection.vendor == "postgresql":
        vector_started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE search_blobtext SET search_vector = "
                "to_tsvector(%s::regconfig, f_unaccent(text))",
                [settings.FILEFLOW_SEARCH_CONFIG],
            )
            # As autovacuum would soon: the rows' first versions (text, no vector) are dead.
            cursor.execute("VACUUM ANALYZE search_blobtext")
            cursor.execute("ANALYZE files_node")
        print(f"  tsvectors computed in {time.perf_counter() - vector_started:.0f} s")
    print(f"  load took {time.perf_counter() - started:.0f} s")


def prepare(
    args: argparse.Namespace, rng: random.Random, words: list[str], weights: list[float]
) -> list:
    from accounts.models import User
    from files.models import Node
    from search.models import BlobText

    accounts = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    expected = (args.docs // args.users) * args.users
    present = BlobText.objects.count()
    if accounts and (len(accounts) != args.users or present != expected):
        sys.exit(
            f"This database holds another data set ({len(accounts)} bench users, {present} "
            "texts): use an empty database, or the same --docs/--users as before."
        )
    if not accounts:
        if Node.objects.exists():
            sys.exit("This database already holds files that are not benchmark data: refusing.")
        print(f"Loading {expected:,} documents for {args.users} users …")
        load(args.docs, args.users, args.words, rng, words, weights)
        accounts = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    else:
        print(f"Reusing the {present:,} documents already loaded.")
    return accounts


def baseline(user, term: str) -> list:
    """The naive page: the caller's live nodes whose text contains the word, by name."""
    from django.db.models.functions import Lower

    from files import tree
    from files.models import Node

    rows = list(
        Node.objects.visible_to(user)
        .filter(parent__isnull=False, trashed_at__isnull=True, blob__text__text__icontains=term)
        .order_by(Lower("name"), "id")
        .prefetch_related("tags")[: PAGE + 1]
    )[:PAGE]
    tree.paths_of(rows)
    return rows


def index_size() -> None:
    from django.db import connection

    from search.models import BlobText

    count = BlobText.objects.count()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT sum(pg_column_size(search_vector)), sum(octet_length(text)) "
                "FROM search_blobtext"
            )
            vectors, text = cursor.fetchone()
            cursor.execute("SELECT pg_relation_size('search_blobtext_vector_gin')")
            gin = cursor.fetchone()[0]
            cursor.execute(
                "SELECT pg_relation_size(oid), pg_relation_size(reltoastrelid) FROM pg_class "
                "WHERE relname = 'search_blobtext'"
            )
            heap, toast = cursor.fetchone()
            print(
                f"\n3. Index size per document: text {text / count:,.0f} B, tsvector "
                f"{vectors / count:,.0f} B, GIN index {gin / count:,.0f} B; "
                f"search_blobtext heap {heap / count:,.0f} B + TOAST {toast / count:,.0f} B"
            )
        else:
            cursor.execute("SELECT sum(length(CAST(text AS BLOB))) FROM search_blobtext")
            text = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            page_size = cursor.fetchone()[0]
            try:
                cursor.execute(
                    "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_blobtext_fts%'"
                )
                fts = cursor.fetchone()[0]
            except Exception:  # noqa: BLE001 - dbstat is optional in SQLite builds
                fts = None
            shown = f"{fts / count:,.0f} B" if fts else f"n/a (no dbstat; page size {page_size})"
            print(f"\n3. Index size per document: text {text / count:,.0f} B, FTS5 tables {shown}")


def main() -> None:
    django_setup()
    from django.conf import settings
    from django.db import connection

    from search.engine import SearchQuery, build_queryset, search

    postgres = connection.vendor == "postgresql"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000 if postgres else 10_000)
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--seed", type=int, default=20261204)
    parser.add_argument("--extract", type=int, default=40, help="documents per kind in part 1")
    parser.add_argument(
        "--explain", action="store_true", help="PostgreSQL: EXPLAIN (ANALYZE, BUFFERS)"
    )
    args = parser.parse_args()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(Path(os.environ["FILEFLOW_DATA_DIR"]) / "blobs")},
        },
    }

    rng = random.Random(args.seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if postgres else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    print(f"Database: {connection.vendor} {version.split(' on ')[0]}")
    print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")

    extraction(rng, words, weights, args.extract)

    accounts = prepare(args, rng, words, weights)
    print(
        f"\n2. Content search: {args.docs:,} indexed documents of ~{args.words} words, "
        f"{len(accounts)} users; page of {PAGE}; {args.repeat} timed searches per query and "
        "method, users in turn, after 5 warm-up rounds"
    )
    results = {}
    for term in (COMMON, RARE):
        query = SearchQuery(q=term)
        hits = [build_queryset(user=u, query=query).count() for u in accounts]
        print(f"query {term!r}: on average {statistics.mean(hits):.1f} hits per user")
        if postgres:
            plan = build_queryset(user=accounts[0], query=query).explain()
            scans = [line.strip() for line in plan.splitlines() if "Scan" in line]
            print("  plan: " + " | ".join(s.split("  (")[0] for s in scans))
            if args.explain:
                page = build_queryset(user=accounts[0], query=query)[:PAGE]
                print(page.explain(analyze=True, buffers=True))
        engine_ms: list[float] = []
        naive_ms: list[float] = []
        for round_ in range(args.repeat + 5):
            user = accounts[round_ % len(accounts)]
            steps = [
                (engine_ms, lambda u=user, q=query: search(user=u, query=q, limit=PAGE)),
                (naive_ms, lambda u=user, t=term: baseline(u, t)),
            ]
            if round_ % 2:
                steps.reverse()
            for samples, call in steps:
                started = time.perf_counter()
                call()
                if round_ >= 5:
                    samples.append((time.perf_counter() - started) * 1000)
        results[term] = (engine_ms, naive_ms)
        print(f"  engine (page + snippets)    {summary(engine_ms)}")
        print(f"  plain icontains scan (page) {summary(naive_ms)}")
        print(
            "  ratio of medians: "
            f"{statistics.median(engine_ms) / statistics.median(naive_ms):.3f}; "
            f"p95 engine {percentile(engine_ms, 0.95):.1f} ms"
        )
    index_size()
    print(f"\nLoad average {os.getloadavg()[0]:.1f} at the end (other work shares this machine)")
    goal = 50 if postgres else 100
    worst = max(statistics.median(r[0]) for r in results.values())
    print(f"Goal: median <= {goal} ms; worst engine median here: {worst:.2f} ms")


if __name__ == "__main__":
    main()
