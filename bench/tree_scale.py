"""Tree at scale (issue 10): what a write costs in accounts of 1k, 10k and 100k nodes
(1M with --million, PostgreSQL only), and the big-subtree operations.

    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/tree_scale.py
    DATABASE_URL=sqlite:////tmp/ff-bench/tree.sqlite3 .venv/bin/python bench/tree_scale.py
    ... bench/tree_scale.py --million      (adds a 1,000,000-node account; PostgreSQL only)

Options (defaults measure the issue's figures; smaller ones only prove the script runs):
--sizes (1000,10000,100000: accounts, in nodes), --subtree (10000: nodes of the big
subtree, made in accounts of at least 10 times that), --flat (100000: entries of the big
folder listed), --repeat (21).

Each account is home → 100 top folders → files, and the largest account's first folder
holds a 10,000-node subtree (10 subfolders of 999 files) and its second a 2,000-node one.
Set-up writes the trees with bulk_create and paths computed here — far faster than a
service call per node — then proves each consistent with files.tree.check. Every measured
operation goes through the real services and selectors:

- upload (one small file, files.services.file_upload) into the first, middle and last top
  folder: median of 21, the positions interleaved; the first ÷ last ratio should be ~1
  (nothing is renumbered);
- move the 10k-node folder there and back; copy the 2,000-node folder; trash and restore
  the 10k-node folder; the first page (100) of a folder of 100,000 files against a folder of
  1,000 in the same run.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import uuid

from _setup import django_setup, median, summary, timed

FOLDERS = 100
GOALS = {
    "upload": 10.0,
    "first/last": 1.5,
    "move 10k": 500.0,
    "copy 2k": 500.0,
    "trash+restore 10k": 1000.0,
    "first page 100k": 30.0,
}


def file_node(user, folder, name: str, blob):
    """A 1-byte text file ``name`` in ``folder``, not saved (for bulk_create)."""
    from files import tree
    from files.models import Node

    return Node(
        owner=user,
        parent=folder,
        name=name,
        blob=blob,
        size=1,
        mime_type="text/plain",
        path=tree.key(folder),
    )


def bulk_tree(user, parent, spec, blob):
    """Write ``spec`` below ``parent`` level by level: a list of (name, spec-or-file-count)
    for folders. Returns the created top folders. ``blob``: every file's content, or None
    for a content of its own each (as real files mostly have: the planner reads blob_id's
    statistics)."""
    from files import tree
    from files.models import Blob, Node

    def write(files: list) -> None:
        if blob is None:
            made = Blob.objects.bulk_create(
                (Blob(sha256=uuid.uuid4().hex * 2, size=1) for _ in files), batch_size=5000
            )
            for node, own in zip(files, made, strict=True):
                node.blob = own
        Node.objects.bulk_create(files, batch_size=5000)

    folders = [
        Node(owner=user, parent=parent, name=name, is_folder=True, path=tree.key(parent))
        for name, _ in spec
    ]
    Node.objects.bulk_create(folders, batch_size=2000)
    files = []
    for folder, (_, inside) in zip(folders, spec, strict=True):
        if isinstance(inside, int):
            files += [file_node(user, folder, f"file-{j:06d}.txt", blob) for j in range(inside)]
            if len(files) >= 20_000:
                write(files)
                files = []
        else:
            bulk_tree(user, folder, inside, blob)
    write(files)
    return folders


def build_account(
    username: str,
    total: int,
    *,
    flat: bool = False,
    subtree: int = 10_000,
    distinct_blobs: bool = False,
):
    """An account of ``total`` nodes. ``flat``: one folder holding all the files. An account
    of at least 10 times ``subtree`` nodes has a ``subtree``-node folder and one a fifth of it.
    The files share one content unless ``distinct_blobs``."""
    from django.db import transaction

    from accounts.models import User
    from files import tree
    from files.models import Blob

    user = User.objects.create_user(username=username, password=None)
    User.objects.filter(pk=user.pk).update(quota_bytes=None)
    home = tree.home_of(user)
    blob, _ = Blob.objects.get_or_create(sha256="0" * 64, defaults={"size": 1})
    if flat:
        spec: list = [("flat", total - 2)]
    else:
        special: list = []
        if total >= 10 * subtree:
            special = [
                # 1 + 10 + 9,990 nodes for 10k
                ("big-10k", [(f"sub-{i}", subtree // 10 - 1) for i in range(10)]),
                # 1 + 10 + 1,990 nodes for 10k
                ("copy-2k", [(f"sub-{i}", subtree // 50 - 1) for i in range(10)]),
            ]
        # home and the two subtrees
        used = 1 + (subtree + 1 + subtree // 5 + 1 if special else 0)
        plain = FOLDERS - len(special)
        files_total = total - used - plain
        spec = special + [
            (f"folder-{i:03d}", files_total // plain + (1 if i < files_total % plain else 0))
            for i in range(plain)
        ]
    with transaction.atomic():
        tree.lock(user.pk)
        bulk_tree(user, home, spec, None if distinct_blobs else blob)
    problems = tree.check(user)
    assert problems == [], problems
    return user


def add_account_arguments(parser: argparse.ArgumentParser, *, sizes: str) -> None:
    parser.add_argument("--million", action="store_true", help="add a 1M-node account")
    parser.add_argument("--sizes", default=sizes, help="accounts, in nodes")


def account_sizes(args: argparse.Namespace) -> list[int]:
    """The accounts asked for, in nodes: --sizes, and 1,000,000 with --million."""
    from django.db import connection

    sizes = [int(size) for size in args.sizes.split(",")]
    if args.million:
        assert connection.vendor == "postgresql", "the 1M-node account is for PostgreSQL"
        sizes.append(1_000_000)
    return sizes


def verdict(value: float, goal: str, *, lower_is_better: bool = True) -> str:
    ok = value <= GOALS[goal] if lower_is_better else value >= GOALS[goal]
    return f"goal ≤ {GOALS[goal]:g}: {'ok' if ok else 'MISSED'}"


def baselines(user, big, small) -> tuple[float, float]:
    """What the database alone needs, in this run: rewrite the 10k subtree's rows once (an
    UPDATE of an indexed column, like a move or a trash), and write 2,001 new rows with
    bulk_create (like a copy; names as long as the copied ones, for the trigram index).
    Medians in ms."""
    from django.db import transaction
    from django.db.models.functions import Now

    from files import tree
    from files.models import Node

    def rewrite() -> None:
        with transaction.atomic():
            Node.objects.filter(tree.subtree_filter(big, include_self=True)).update(
                updated_at=Now()
            )

    rows = list(tree.descendants(small, include_self=True))

    def insert() -> None:
        with transaction.atomic():
            fresh = Node.objects.create(
                owner=user,
                parent=small.parent,
                name="baseline",
                is_folder=True,
                path=small.path,
            )
            copies = [
                Node(
                    owner=user,
                    parent=fresh,
                    name=f"{r.name}-{r.pk}",
                    is_folder=r.is_folder,
                    blob_id=r.blob_id,
                    size=r.size,
                    mime_type=r.mime_type,
                    path=tree.key(fresh),
                )
                for r in rows
            ]
            Node.objects.bulk_create(copies, batch_size=500)
            transaction.set_rollback(True)

    return median(timed(rewrite, 3)), median(timed(insert, 3))


def measure_subtrees(user) -> None:
    from files import services, tree
    from files.models import Node

    home = tree.home_of(user)
    big = Node.objects.get(owner=user, parent=home, name="big-10k")
    small = Node.objects.get(owner=user, parent=home, name="copy-2k")
    target = Node.objects.get(owner=user, parent=home, name="folder-050")
    size, copied = tree.subtree_size(big), tree.subtree_size(small)
    rewrite, insert = baselines(user, big, small)
    print(
        f"baseline: one UPDATE of the {size:,} rows {rewrite:.0f} ms; "
        f"bulk_create of {copied:,} rows {insert:.0f} ms"
    )

    def move_there_and_back() -> None:
        services.node_move(node=big, new_parent=target)
        services.node_move(node=big, new_parent=home)

    samples = [s / 2 for s in timed(move_there_and_back, 3)]
    print(
        f"move a {size:,}-node folder:             {summary(samples)}  "
        f"{verdict(median(samples), 'move 10k')}   ÷ baseline {median(samples) / rewrite:.2f}"
    )
    copies = timed(lambda: services.node_copy(node=small, new_parent=target), 3)
    print(
        f"copy a {copied:,}-node folder:              {summary(copies)}  "
        f"{verdict(median(copies), 'copy 2k')}   ÷ baseline {median(copies) / insert:.2f}"
    )

    def trash_and_restore() -> None:
        services.node_restore(node=services.node_trash(node=big))

    samples = timed(trash_and_restore, 3)
    print(
        f"trash + restore a {size:,}-node folder:  {summary(samples)}  "
        f"{verdict(median(samples), 'trash+restore 10k')}   "
        f"÷ 2 baselines {median(samples) / (2 * rewrite):.2f}"
    )
    assert tree.check(user) == []


def measure_first_page(flat_user, baseline_user, repeat: int) -> None:
    from files import selectors
    from files.models import Node

    flat = Node.objects.get(owner=flat_user, name="flat")
    small = Node.objects.filter(owner=baseline_user, name="folder-000").get()
    entries = Node.objects.filter(parent=flat).count()
    small_entries = Node.objects.filter(parent=small).count()
    big = timed(lambda: selectors.children_page(folder=flat, limit=100), repeat)
    base = timed(lambda: selectors.children_page(folder=small, limit=100), repeat)
    print(
        f"first page of a {entries:,}-entry folder:   {summary(big)}  "
        f"{verdict(median(big), 'first page 100k')}"
    )
    print(
        f"first page of a {small_entries:,}-entry folder (baseline): {summary(base)}   "
        f"ratio {median(big) / median(base):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_account_arguments(parser, sizes="1000,10000,100000")
    parser.add_argument("--subtree", type=int, default=10_000, help="nodes of the big subtree")
    parser.add_argument("--flat", type=int, default=100_000, help="entries of the big folder")
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    if args.subtree < 100 or args.subtree % 50:
        parser.error("--subtree must be a multiple of 50, at least 100")
    django_setup()
    from django.db import connection

    from files import services, tree
    from files.ingest import receive_stream
    from files.models import Node

    sizes = account_sizes(args)
    print(
        f"database: {connection.vendor}   folders per account: {FOLDERS}   repeat: {args.repeat}   "
        f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    counter = iter(range(10**9))

    def upload_into(user, folder):
        def go() -> None:
            content = f"bench upload {next(counter)}".encode()
            services.file_upload(
                owner=user,
                parent=folder,
                name=f"new-{next(counter)}.txt",
                received=receive_stream(io.BytesIO(content).read, length=len(content)),
            )

        return go

    accounts = {}
    all_medians: dict[int, float] = {}
    measured = False  # the subtree operations, in the first account big enough for them
    for total in sizes:
        user = accounts[total] = build_account(f"bench{total}", total, subtree=args.subtree)
        home = tree.home_of(user)
        folders = list(Node.objects.filter(parent=home).order_by("name"))
        positions = {
            "first": folders[0],
            "middle": folders[len(folders) // 2],
            "last": folders[-1],
        }
        for folder in positions.values():  # warm-up, not measured
            upload_into(user, folder)()
        # Interleaved (first, middle, last, first, …) so that the machine's load, which
        # changes from second to second here, falls on every position alike.
        samples: dict[str, list[float]] = {label: [] for label in positions}
        for _ in range(args.repeat):
            for label, folder in positions.items():
                samples[label] += timed(upload_into(user, folder), 1)
        medians = {label: median(values) for label, values in samples.items()}
        for label, values in samples.items():
            print(
                f"upload into {total:>9,}-node account, {label:<6} folder: {summary(values)}  "
                f"{verdict(medians[label], 'upload')}"
            )
        ratio = medians["first"] / medians["last"]
        all_medians[total] = median(list(medians.values()))
        print(
            f"  first ÷ last: {ratio:.2f}  {verdict(ratio, 'first/last')}   "
            f"÷ the 1k account: {all_medians[total] / all_medians[sizes[0]]:.2f}"
        )
        if total >= 10 * args.subtree and not measured:
            measure_subtrees(user)
            measured = True
        assert tree.check(user) == []
    flat = build_account("bench-flat", args.flat + 2, flat=True)
    measure_first_page(flat, accounts[sizes[min(1, len(sizes) - 1)]], args.repeat)


if __name__ == "__main__":
    sys.exit(main())
