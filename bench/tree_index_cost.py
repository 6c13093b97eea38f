"""What each index on files_node costs a tree shift, on PostgreSQL.

Nested sets shift every node to the right of an insert, and PostgreSQL writes a new entry
into every index of every shifted row (lft/rght are indexed, so no update is HOT). This
builds one 10,000-node account, times an upload into its first folder, then drops index
groups one at a time and times it again, all in the same run:

    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh \
        .venv/bin/python bench/tree_index_cost.py
"""

from __future__ import annotations

import io

from _setup import django_setup, median, summary, timed
from tree_scale import build_account

REPEAT = 9
GROUPS = [
    ("name trigram GIN (search)", ["search_node_name_trgm"]),
    (
        "listing by size/modified/type",
        ["files_node_list_size", "files_node_list_modified", "files_node_list_type"],
    ),
    ("redundant single-column tree_id", ["files_node_tree_id_6a5d5afb"]),
]


def main() -> None:
    django_setup()
    from django.db import connection

    from files import services
    from files.ingest import receive_stream
    from files.models import Node

    assert connection.vendor == "postgresql", "run through scripts/with-postgres.sh"
    user = build_account("bench-index-cost", 10_000)
    first = Node.objects.filter(owner=user, level=1).order_by("lft").first()
    counter = iter(range(10**9))

    def upload() -> None:
        n = next(counter)
        content = f"index cost {n}".encode()
        services.file_upload(
            owner=user,
            parent=first,
            name=f"n{n}.txt",
            received=receive_stream(io.BytesIO(content).read, length=len(content)),
        )

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'files_node'")
        (count,) = cursor.fetchone()
    baseline = timed(upload, REPEAT)
    print(f"all {count} indexes:                       {summary(baseline)}")
    for label, names in GROUPS:
        with connection.cursor() as cursor:
            for name in names:
                cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        samples = timed(upload, REPEAT)
        print(
            f"without {label:<34} {summary(samples)}   "
            f"ratio {median(samples) / median(baseline):.2f}"
        )


if __name__ == "__main__":
    main()
