"""Tree at scale: uploads into accounts of 1k, 10k and 100k nodes, moving a 10k-node folder,
listing the first page of a 10k-entry folder.

Run on PostgreSQL (what the goal is stated for):
    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/tree_scale.py
or on SQLite:
    DATABASE_URL=sqlite:////tmp/ff-bench/tree.sqlite3 .venv/bin/python bench/tree_scale.py

Set-up writes each account's tree with bulk_create and nested-set values computed here (a
home folder holding folders of files) — far faster than inserting 100k nodes one by one —
then proves every tree consistent with files.tree.check before measuring. Every measured
operation goes through the real services (files.services) and selectors.
"""

from __future__ import annotations

import io
import sys

from _setup import django_setup, median, summary, timed

FOLDERS = 100
REPEAT = 15


def build_account(username: str, total: int, *, big_folder: int = 0):
    """An account whose tree has ``total`` nodes: home, FOLDERS folders, files spread over
    them; with ``big_folder`` the first folder holds that many files itself."""
    from django.db import transaction

    from accounts.models import User
    from files import tree
    from files.models import Blob, Node

    user = User.objects.create_user(username=username, password=None)
    home = tree.home_of(user)
    blob, _ = Blob.objects.get_or_create(sha256="0" * 64, defaults={"size": 1})
    files_total = total - 1 - FOLDERS
    sizes = [0] * FOLDERS
    if big_folder:
        sizes[0] = big_folder
        rest = files_total - big_folder
        for i in range(1, FOLDERS):
            sizes[i] = rest // (FOLDERS - 1) + (1 if i <= rest % (FOLDERS - 1) else 0)
    else:
        for i in range(FOLDERS):
            sizes[i] = files_total // FOLDERS + (1 if i < files_total % FOLDERS else 0)
    with transaction.atomic():
        tree.lock(user.pk)
        cursor = 2
        folders = []
        for i in range(FOLDERS):
            lft = cursor
            rght = lft + 2 * sizes[i] + 1
            folders.append(
                Node(
                    owner=user,
                    parent=home,
                    name=f"folder-{i:03d}",
                    is_folder=True,
                    tree_id=home.tree_id,
                    lft=lft,
                    rght=rght,
                    level=1,
                )
            )
            cursor = rght + 1
        Node.objects.bulk_create(folders, batch_size=1000)
        created = Node.objects.filter(owner=user, level=1).order_by("lft")
        batch = []
        for folder, count in zip(created, sizes, strict=True):
            for j in range(count):
                lft = folder.lft + 1 + 2 * j
                batch.append(
                    Node(
                        owner=user,
                        parent=folder,
                        name=f"file-{j:06d}.txt",
                        is_folder=False,
                        blob=blob,
                        size=1,
                        mime_type="text/plain",
                        tree_id=home.tree_id,
                        lft=lft,
                        rght=lft + 1,
                        level=2,
                    )
                )
                if len(batch) >= 5000:
                    Node.objects.bulk_create(batch)
                    batch = []
        Node.objects.bulk_create(batch)
        Node.objects.filter(pk=home.pk).update(rght=cursor)
    problems = tree.check(user)
    assert problems == [], problems
    return user


def measure_big_folder(user, folders) -> None:
    from files import selectors, services, tree
    from files.models import Node

    big, target, small = folders[0], folders[-1], folders[1]
    size = tree.subtree_size(big)

    def move_there_and_back() -> None:
        services.node_move(node=big, new_parent=target)
        services.node_move(node=big, new_parent=tree.home_of(user))

    samples = [s / 2 for s in timed(move_there_and_back, 5)]
    print(f"move a {size:,}-node folder (100k account):        {summary(samples)}")
    entries_big = Node.objects.filter(parent=big).count()
    entries_small = Node.objects.filter(parent=small).count()
    first_big = timed(lambda: selectors.children_page(folder=big, limit=100), REPEAT)
    first_small = timed(lambda: selectors.children_page(folder=small, limit=100), REPEAT)
    print(f"first page of a {entries_big:,}-entry folder:           {summary(first_big)}")
    print(f"first page of a {entries_small:,}-entry folder (baseline): {summary(first_small)}")
    print(f"  ratio big / small folder: {median(first_big) / median(first_small):.2f}")


def main() -> None:
    django_setup()
    from django.db import connection

    from files import services, tree
    from files.ingest import receive_stream
    from files.models import Node

    print(f"database: {connection.vendor}   folders per account: {FOLDERS}   repeat: {REPEAT}")
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

    results = {}
    for total in (1_000, 10_000, 100_000):
        user = build_account(f"bench{total}", total, big_folder=10_000 if total == 100_000 else 0)
        folders = list(Node.objects.filter(owner=user, level=1).order_by("lft"))
        for label, folder in (
            ("first", folders[0]),
            ("middle", folders[len(folders) // 2]),
            ("last", folders[-1]),
        ):
            samples = timed(upload_into(user, folder), REPEAT)
            results[(total, label)] = median(samples)
            print(f"upload into {total:>7,}-node account, {label:<6} folder: {summary(samples)}")
        if total == 100_000:
            measure_big_folder(user, folders)
        assert tree.check(user) == []
    base = results[(1_000, "first")]
    for total in (10_000, 100_000):
        print(
            f"upload ratio {total:,}-node account first folder / 1k account first folder: "
            f"{results[(total, 'first')] / base:.1f}x"
        )
    print("goal: upload into the 100k account <= 50 ms median; first page <= 30 ms")


if __name__ == "__main__":
    sys.exit(main())
