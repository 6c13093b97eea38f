"""Names-only search at scale: the search engine against a plain ``icontains`` scan.

PostgreSQL, 1,000,000 nodes over 100 users (goal: median <= 50 ms):
    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/search_names.py
SQLite, 100,000 nodes over 100 users (goal: median <= 100 ms):
    FILEFLOW_DATA_DIR=/tmp/ff-bench DATABASE_URL=sqlite:////tmp/ff-bench/bench.sqlite3 \\
        .venv/bin/python bench/search_names.py
Options: --nodes N --users N --repeat N (defaults by database as above).

What is timed ("server time"): one call of ``search.engine.search`` for a user's own nodes —
build the query, fetch a page of 50 hits with their tags and paths — for a common word
(in ~5% of names) and a rare one (~1 in 5,000 names), each user in turn. The baseline, in
the same run and interleaved with it, is the same page built the naive way: the same
filters with ``name__icontains`` instead of the engine's name filter, ordered by name.

Set-up (not timed): the database is migrated here (``call_command("migrate")``), then each
user's tree is written in bulk (bulk_create for users, homes and folders; COPY on
PostgreSQL / executemany on SQLite for the files) with the tree paths computed by this
script — a service call per node for a million nodes would take far too long. Only a
benchmark may do that: each tree is a home folder (path "") holding folders (path: the
home's id) of files (path: the home's and the folder's ids), and ``files.tree.check``
verifies sampled trees before anything is measured. On PostgreSQL the
trigram index is dropped for the load and re-created afterwards from its own definition
(one index build is far faster than a million index inserts), then the table is ANALYZEd.
Users' ``used_bytes`` are not maintained (nothing here reads them). A database that already
holds this data set is reused; one that holds anything else is refused.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "bench-search-"
FOLDERS_PER_USER = 20
PAGE = 50
COMMON, RARE = "report", "zanzibar"

# Name parts: the common word is in ~5% of names, the rare one in 1 of 5,000.
NOUNS = str.split(
    "invoice photo holiday budget draft scan notes meeting contract letter summary plan "
    "review backup export minutes agenda receipt slides résumé café thesis chart diagram "
    "poster recording interview podcast timeline roadmap proposal schedule inventory "
    "estimate quote memo brief checklist manual guide spec design mockup logo banner"
)
ADJECTIVES = str.split(
    "annual final old new quarterly weekly monthly shared private signed scanned draft "
    "reviewed approved team project client personal family école été"
)
EXTENSIONS = ("pdf", "docx", "xlsx", "pptx", "jpg", "png", "mp4", "mp3", "txt", "md", "zip", "csv")


def ensure_database() -> None:
    """with-postgres.sh starts an empty cluster: create the database DATABASE_URL names."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    params = {
        "host": parts.hostname,
        "port": parts.port,
        "user": parts.username,
        "password": parts.password,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")
    os.environ.setdefault("FILEFLOW_DATA_DIR", "/tmp/ff-bench")
    ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_name(rng: random.Random, serial: int) -> str:
    words = [rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    if rng.random() < 0.05:
        words[rng.randrange(2)] = COMMON.capitalize() if rng.random() < 0.5 else COMMON
    if rng.random() < 0.0002:
        words.insert(1, RARE)
    return f"{' '.join(words)} {serial} {2000 + serial % 26}.{rng.choice(EXTENSIONS)}"


def insert_rows(rows: list) -> None:
    """Insert many new Node rows as they are (COPY on PostgreSQL, executemany on SQLite):
    several times faster than bulk_create, which kept a 1M-node load over the time budget.
    Like bulk_create it skips save(), so the paths given are written as is."""
    from django.db import connection

    from files.models import Node

    fields = [f for f in Node._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(Node._meta.db_table)
    values = (
        tuple(f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields)
        for row in rows
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
        else:
            marks = ", ".join(["%s"] * len(fields))
            insert = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - our names
            cursor.executemany(insert, list(values))


def load(nodes: int, users: int, seed: int) -> None:
    """Write ``users`` trees of ``nodes // users`` nodes each (home, folders, files)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import User
    from files import tree
    from files.models import Blob, Node

    per_user = nodes // users
    folders = min(FOLDERS_PER_USER, max(per_user // 10, 1))
    files = per_user - 1 - folders
    rng = random.Random(seed)
    blob, _ = Blob.objects.get_or_create(sha256="b" * 64, defaults={"size": 1})

    index_sql = None
    if connection.vendor == "postgresql":
        from search.engine import TRIGRAM_INDEX

        with connection.cursor() as cursor:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX])
            index_sql = cursor.fetchone()[0]
            cursor.execute(f"DROP INDEX {TRIGRAM_INDEX}")

    started = time.perf_counter()
    now = timezone.now()
    accounts = User.objects.bulk_create(
        [User(username=f"{PREFIX}{u:04d}", password=make_password(None)) for u in range(users)]
    )
    serial = 0
    for number, user in enumerate(accounts):
        with transaction.atomic():
            [home] = Node.objects.bulk_create([Node(owner=user, name="", is_folder=True)])
            sizes = [files // folders + (1 if i < files % folders else 0) for i in range(folders)]
            folder_rows = []
            for i in range(len(sizes)):
                folder_rows.append(
                    Node(
                        owner=user,
                        parent=home,
                        name=f"{rng.choice(NOUNS)} folder {i:02d}",
                        is_folder=True,
                        path=tree.key(home),
                    )
                )
            Node.objects.bulk_create(folder_rows)
            file_rows = []
            for folder, size in zip(folder_rows, sizes, strict=True):
                for _ in range(size):
                    serial += 1
                    file_rows.append(
                        Node(
                            owner=user,
                            parent=folder,
                            name=make_name(rng, serial),
                            is_folder=False,
                            blob=blob,
                            size=rng.randrange(1, 10_000_000),
                            mime_type="application/octet-stream",
                            created_at=now,
                            updated_at=now,
                            path=tree.key(folder),
                        )
                    )
            insert_rows(file_rows)
        if (number + 1) % 10 == 0:
            print(f"  loaded {number + 1}/{users} users ({time.perf_counter() - started:.0f} s)")
    if index_sql:
        index_started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(index_sql)
        print(f"  trigram index built in {time.perf_counter() - index_started:.1f} s")
    print(f"  load took {time.perf_counter() - started:.0f} s")


def prepare(nodes: int, users: int, seed: int) -> list:
    from django.db import connection

    from accounts.models import User
    from files import tree
    from files.models import Node

    accounts = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    present = Node.objects.count()
    expected = (nodes // users) * users
    if accounts and (len(accounts) != users or present != expected):
        sys.exit(
            f"This database holds another data set ({len(accounts)} bench users, {present} "
            "nodes): use an empty database, or the same --nodes/--users as before."
        )
    if not accounts:
        if present:
            sys.exit("This database already holds nodes that are not benchmark data: refusing.")
        print(f"Loading {expected:,} nodes for {users} users …")
        load(nodes, users, seed)
        accounts = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
    else:
        print(f"Reusing the {present:,} nodes already loaded.")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE files_node")
    for user in (accounts[0], accounts[len(accounts) // 2], accounts[-1]):
        problems = tree.check(user)
        if problems:
            sys.exit(f"tree of {user.username} is not valid: {problems[:3]}")
    print("  tree.check: ok for 3 sampled users")
    return accounts


def baseline(user, term: str):
    """The naive page: same filters, ``name__icontains``, ordered by name, tags, paths."""
    from django.db.models.functions import Lower

    from files import tree
    from files.models import Node

    rows = list(
        Node.objects.visible_to(user)
        .filter(parent__isnull=False, trashed_at__isnull=True, name__icontains=term)
        .order_by(Lower("name"), "id")
        .prefetch_related("tags")[: PAGE + 1]
    )[:PAGE]
    return tree.paths_of(rows)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    django_setup()
    from django.db import connection

    from search.engine import SearchQuery, build_queryset, search

    postgres = connection.vendor == "postgresql"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000 if postgres else 100_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=100, help="timed searches per query")
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()" if postgres else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    print(f"Database: {connection.vendor} {version.split(' on ')[0]}")
    print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    accounts = prepare(args.nodes, args.users, args.seed)

    from files.models import Node

    total = Node.objects.count()
    print(
        f"Data: {total:,} nodes, {len(accounts)} users, {total // len(accounts):,} per user "
        f"(home, {FOLDERS_PER_USER} folders, files); page size {PAGE}; {args.repeat} timed "
        "searches per query and method, users in turn, after 5 warm-up rounds"
    )
    results = {}
    for term in (COMMON, RARE):
        query = SearchQuery(q=term)
        matches = [
            build_queryset(user=u, query=query).count() for u in accounts[: min(10, len(accounts))]
        ]
        print(
            f"\nquery {term!r}: on average {statistics.mean(matches):.1f} hits per user "
            f"({statistics.mean(matches) / (total / len(accounts)):.3%} of their nodes)"
        )
        if postgres:
            plan = build_queryset(user=accounts[0], query=query).explain()
            scans = [line.strip() for line in plan.splitlines() if "Scan" in line]
            print("  plan: " + " | ".join(s.split("  (")[0] for s in scans))
        rows_ms: list[float] = []
        engine_ms: list[float] = []
        counted_ms: list[float] = []
        naive_ms: list[float] = []
        for round_ in range(args.repeat + 5):
            user = accounts[round_ % len(accounts)]
            steps = [
                (
                    rows_ms,
                    lambda u=user, q=query: list(build_queryset(user=u, query=q)[: PAGE + 1]),
                ),
                (engine_ms, lambda u=user, q=query: search(user=u, query=q, limit=PAGE)),
                (
                    counted_ms,
                    lambda u=user, q=query: search(user=u, query=q, limit=PAGE, with_total=True),
                ),
                (naive_ms, lambda u=user, t=term: baseline(u, t)),
            ]
            if round_ % 2:
                steps.reverse()
            for samples, call in steps:
                started = time.perf_counter()
                call()
                elapsed = (time.perf_counter() - started) * 1000
                if round_ >= 5:
                    samples.append(elapsed)
        results[term] = (rows_ms, engine_ms, counted_ms, naive_ms)

    print(f"\n{'query':10} {'method':33} {'median ms':>10} {'p95 ms':>10} {'vs icontains':>14}")
    for term, (rows_ms, engine_ms, counted_ms, naive_ms) in results.items():
        naive_median = statistics.median(naive_ms)
        for label, samples in (
            ("engine rows only (no tags/paths)", rows_ms),
            ("engine (page)", engine_ms),
            ("engine (page + total count)", counted_ms),
            ("plain icontains scan (page)", naive_ms),
        ):
            median = statistics.median(samples)
            print(
                f"{term:10} {label:33} {median:10.2f} {percentile(samples, 0.95):10.2f} "
                f"{median / naive_median:13.2f}x"
            )
    print(f"Load average {os.getloadavg()[0]:.1f} at the end (other work shares this machine)")
    goal = 50 if postgres else 100
    worst = max(statistics.median(r[1]) for r in results.values())
    print(f"\nGoal: median <= {goal} ms; worst engine median here: {worst:.2f} ms")


if __name__ == "__main__":
    main()
