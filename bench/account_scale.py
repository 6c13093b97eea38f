"""Everyday reads in big accounts (issue 10: accounts of a million files must feel like
accounts of a hundred): every page and API call a person, a script or a WebDAV client makes
daily, timed in an account of 1k nodes and in bigger ones, through Django's test client
(middleware, views, templates, serializers; no HTTP server).

    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/account_scale.py
    DATABASE_URL=sqlite:////tmp/ff-bench/reads.sqlite3 .venv/bin/python bench/account_scale.py
    ... bench/account_scale.py --million      (adds a 1,000,000-node account; PostgreSQL only)

Options: --sizes (1000,100000: accounts, in nodes; the first is the baseline), --repeat (11).

The accounts are bench/tree_scale.py's (home → 100 top folders → files; the 100k account
has 1,000 files a folder, the 1M one 10,000; each file a content of its own, as real files
mostly have), each with the same few extras made through the services: 100 more files in
folder-050 (so that its first page is full in every account), one of its files renamed
"needle-quarterly-report.txt", 10 favourites, a tag on them, 6 items in the trash, a folder
shared with a reader and a link.

Statistics: ANALYZE runs once the baseline account exists and before the big ones are
written, as after a big import that autovacuum has not analysed yet (on PostgreSQL the
planner then takes the new owner for one with a handful of nodes: the worst case). Each
request is timed in that state, then again after ANALYZE. The figure that matters is each
request's median ÷ the same request's in the baseline account; a request whose work does
not depend on the account's size should stay near 1 (goal ≤ 1.5).
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
from collections.abc import Callable

from _setup import django_setup, median, timed
from tree_scale import account_sizes, add_account_arguments, build_account, file_node

GOAL = 1.5
NEEDLE = "needle-quarterly-report.txt"


def add_extras(user, reader):
    """The extras every account gets (see the module's docstring); returns what the
    requests need: the needle, a top folder, the tag."""
    from files import services, tree
    from files.models import Node
    from files.store import blob_store
    from sharing import people
    from sharing import services as sharing_services

    home = tree.home_of(user)
    blob = Node.objects.filter(owner=user, is_folder=False).first().blob
    folders = {node.name: node for node in Node.objects.filter(parent=home)}
    middle = folders["folder-050"]
    # A page of its own in every account, so that its first page holds as many rows in all.
    Node.objects.bulk_create(file_node(user, middle, f"more-{j:03d}.txt", blob) for j in range(100))
    needle = Node.objects.filter(parent=middle).order_by("name").first()
    needle = services.node_rename(node=needle, name=NEEDLE)
    blob_store().put_bytes(needle.blob.storage_key, b"0")  # tree_scale's files have no content
    files = list(Node.objects.filter(parent=folders["folder-010"]).order_by("name")[:5])
    files += Node.objects.filter(parent=folders["folder-090"]).order_by("name")[:5]
    for node in files:
        services.node_set_favorite(node=node, is_favorite=True)
        services.node_set_tags(node=node, names=["receipts"])
    for name in ("folder-020", "folder-060"):
        for node in Node.objects.filter(parent=folders[name]).order_by("name")[:3]:
            services.node_trash(node=node)
    people.person_share_create(actor=user, node=folders["folder-001"], user=reader.username)
    sharing_services.share_create(owner=user, node=folders["folder-002"])
    tag = user.tags.get(name="receipts")
    return {"needle": needle, "folder": middle, "home": home, "tag": tag}


def requests_of(user, token, reader, extras) -> dict[str, Callable[[], None]]:
    """label → a call that makes the request and checks its answer."""
    from django.test import Client
    from django.urls import reverse

    page = Client(HTTP_HOST="localhost")
    page.force_login(user)
    as_reader = Client(HTTP_HOST="localhost")
    as_reader.force_login(reader)
    admin = Client(HTTP_HOST="localhost")
    admin.force_login(extras["admin"])
    api = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    basic = base64.b64encode(f"{user.username}:{token}".encode()).decode()
    dav = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Basic {basic}")
    needle, folder, tag = extras["needle"], extras["folder"], extras["tag"]
    needle_path = f"/folder-050/{NEEDLE}"

    def get(client, url: str, status: int = 200, **headers) -> Callable[[], None]:
        def call() -> None:
            response = client.get(url, **headers)
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert response.status_code == status, (url, response.status_code, body[:300])

        return call

    def propfind(url: str, depth: str) -> Callable[[], None]:
        def call() -> None:
            response = dav.generic("PROPFIND", url, headers={"Depth": depth})
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert response.status_code == 207, (url, response.status_code, body[:300])

        return call

    return {
        "page: home folder (100 folders)": get(page, reverse("home")),
        "page: a top folder (first page)": get(page, reverse("files:folder", args=[folder.pk])),
        "page: a file's details": get(page, reverse("files:node", args=[needle.pk])),
        "page: download a file": get(page, reverse("files:download", args=[needle.pk])),
        "page: favourites": get(page, reverse("files:favorites")),
        "page: a tag": get(page, reverse("files:tag", args=[tag.pk])),
        "page: trash": get(page, reverse("files:trash")),
        "page: activity": get(page, reverse("files:activity")),
        "page: search a name": get(page, reverse("search:results") + "?q=needle+quarterly"),
        "page: search PDFs (no words)": get(page, reverse("search:results") + "?type=pdf"),
        "api: search favourites (no words)": get(api, "/api/v1/search/?favorite=true"),
        "page: links shared": get(page, reverse("sharing:list")),
        "page: account (usage)": get(page, reverse("accounts:account")),
        "page: reader's shared with me": get(as_reader, reverse("sharing:shared-with-me")),
        "api: list a top folder": get(api, f"/api/v1/nodes/?parent={folder.pk}"),
        "api: an item": get(api, f"/api/v1/nodes/{needle.pk}/"),
        "api: list a top folder by path": get(api, "/api/v1/nodes/?path=/folder-050"),
        "api: download a file": get(api, f"/api/v1/nodes/{needle.pk}/content/"),
        "api: download a file by path": get(api, f"/api/v1/files/content{needle_path}"),
        "api: trash": get(api, "/api/v1/trash/"),
        "api: activity": get(api, "/api/v1/activity/"),
        "dav: PROPFIND a file": propfind(f"/dav{needle_path}", "0"),
        "dav: PROPFIND home, depth 1": propfind("/dav/", "1"),
        "admin: nodes, search a name": get(admin, "/admin/files/node/?q=needle"),
        "admin: users": get(admin, "/admin/accounts/user/"),
    }


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_account_arguments(parser, sizes="1000,100000")
    parser.add_argument("--repeat", type=int, default=11)
    args = parser.parse_args()
    django_setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("collectstatic", interactive=False, verbosity=0)  # the pages' stylesheets

    from accounts.models import User
    from accounts.services import token_create

    sizes = account_sizes(args)
    print(
        f"database: {connection.vendor}   accounts: {', '.join(f'{s:,}' for s in sizes)} nodes"
        f"   repeat: {args.repeat}   load average: " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    )
    admin = User.objects.create_superuser(username="bench-admin", password=None)
    reader = User.objects.create_user(username="bench-reader", password=None)
    calls: dict[int, dict[str, Callable[[], None]]] = {}
    for index, total in enumerate(sizes):
        # No big subtrees (tree_scale makes them in accounts of 10 times the size given).
        user = build_account(f"reads{total}", total, subtree=total, distinct_blobs=True)
        extras = add_extras(user, reader) | {"admin": admin}
        _, token = token_create(user=user, name="bench")
        calls[total] = requests_of(user, token, reader, extras)
        if index == 0:
            analyze()  # the big accounts come after: statistics that predate them
    for state in ("statistics older than the big accounts", "after ANALYZE"):
        if state == "after ANALYZE":
            analyze()
        print(f"\n{state}: median ms (each request {args.repeat} times, accounts in turn)")
        print(f"{'request':<36}" + "".join(f"{s:>12,}" for s in sizes) + "   worst ÷ base")
        for label in calls[sizes[0]]:
            for total in sizes:  # warm-up
                calls[total][label]()
            samples: dict[int, list[float]] = {total: [] for total in sizes}
            for _ in range(args.repeat):
                for total in sizes:
                    samples[total] += timed(calls[total][label], 1)
            medians = [median(samples[total]) for total in sizes]
            worst = max(medians[1:], default=medians[0]) / medians[0]
            mark = "" if worst <= GOAL else f"   > {GOAL}"
            print(
                f"{label:<36}"
                + "".join(f"{value:12.2f}" for value in medians)
                + f"   {worst:10.2f}{mark}"
            )


if __name__ == "__main__":
    sys.exit(main())
