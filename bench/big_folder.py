"""How long a folder of 10,000 entries takes to open in the browser, against folders of 100
and 10 entries measured in the same run (interleaved), through gunicorn, in Chromium.

    FILEFLOW_DATA_DIR=/tmp/ff-bench .venv/bin/python bench/big_folder.py            # SQLite
    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/big_folder.py

Options: --big (10000), --rounds (7). Prints time to DOMContentLoaded per folder (best and
median of the rounds) and the big/small ratio; the page sends only the first 100 rows, so
the ratio should stay near 1 (the suite asserts that structural fact, not the time:
tests/e2e/test_browser_big_folder.py).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import sys
import time

from _setup import django_setup, start_gunicorn

CHROMIUM = os.environ.get("FILEFLOW_CHROMIUM", "/usr/bin/chromium")
BATCH = 250  # commit in batches: one long transaction makes PostgreSQL's updates quadratic


def fill(owner: object, folder: object, count: int) -> None:
    from django.db import transaction

    from files import services, tree
    from files.ingest import receive_stream
    from files.models import Node

    data = b"same bytes everywhere"
    path = f"{tree.path_of(folder)}/file 00000.txt"
    received = receive_stream(io.BytesIO(data).read, length=len(data))
    sample = services.file_upload_to_path(owner=owner, path=path, received=received)
    for start in range(1, count, BATCH):
        with transaction.atomic():
            tree.lock(owner.pk)
            parent = tree.refresh(folder)
            for n in range(start, min(start + BATCH, count)):
                if n % 100 == 0:
                    node = Node(owner=owner, name=f"folder {n:05d}", is_folder=True)
                else:
                    node = Node(
                        owner=owner,
                        name=f"file {n:05d}.txt",
                        blob=sample.blob,
                        size=sample.size,
                        mime_type=sample.mime_type,
                    )
                tree.insert(node, parent)
    services.usage_recompute(owner=owner)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium is needed: apt-get install chromium (looked at {CHROMIUM})")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    django_setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from playwright.sync_api import expect, sync_playwright

    from accounts.models import User
    from files import services

    call_command("collectstatic", interactive=False, verbosity=0)
    user = User.objects.create_user(username=f"bench-big-{time.time_ns()}", password=None)
    sizes = {"big": args.big, "medium": 100, "small": 10}
    started = time.perf_counter()
    folders = {}
    for name, count in sizes.items():
        folders[name] = services.folder_ensure_path(owner=user, path=f"/{name}")
        fill(user, folders[name], count)
    setup = time.perf_counter() - started
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    print(
        f"database: {connection.vendor}   folders of {args.big}, 100 and 10 entries "
        f"(set up in {setup:.0f} s), {args.rounds} interleaved rounds, gunicorn with 2 workers"
    )
    connection.close()

    server, port = start_gunicorn(2)
    base = f"http://127.0.0.1:{port}"
    times: dict[str, list[float]] = {name: [] for name in sizes}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            context = browser.new_context(base_url=base)
            context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
            page = context.new_page()

            def open_time(name: str) -> float:
                page.goto(f"/files/folders/{folders[name].pk}/")
                expect(page.locator("#listing-body .row").first).to_be_visible()
                return float(
                    page.evaluate(
                        "() => { const [n] = performance.getEntriesByType('navigation');"
                        " return (n.domContentLoadedEventEnd - n.startTime) / 1000; }"
                    )
                )

            open_time("small")  # warm up: static files, connections
            for _ in range(args.rounds):
                for name in sizes:
                    times[name].append(open_time(name))
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    for name, count in sizes.items():
        best, middle = min(times[name]), statistics.median(times[name])
        print(f"{count:>7} entries: best {best * 1000:7.1f} ms   median {middle * 1000:7.1f} ms")
    ratio = min(times["big"]) / min(times["small"])
    median_ratio = statistics.median(times["big"]) / statistics.median(times["small"])
    print(f"{args.big} vs 10 entries: {ratio:.2f}x (best), {median_ratio:.2f}x (median)")


if __name__ == "__main__":
    main()
