"""Many small files uploaded from the web page: the browser's own uploader as shipped (small
files 50 to a request) against the same page with grouping turned off (a PUT per file), in
the same run, through gunicorn, in Debian's Chromium.

    FILEFLOW_DATA_DIR=/tmp/ff-bench .venv/bin/python bench/web_upload.py            # SQLite
    FILEFLOW_DATA_DIR=/tmp/ff-bench scripts/with-postgres.sh .venv/bin/python bench/web_upload.py

Options: --files (300), --size (2000 bytes each), --rounds (2, alternating the two ways).
The files go into a new subfolder, as when a folder is dropped.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import time

from _setup import ROOT, django_setup, start_gunicorn

CHROMIUM = os.environ.get("FILEFLOW_CHROMIUM", "/usr/bin/chromium")
# The start of upload.js's rule for which files may go up together (batchable()).
GROUPING = "    return !item.single && "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--size", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium is needed: apt-get install chromium (looked at {CHROMIUM})")

    # Playwright's sync API runs an event loop in this thread; the ORM calls here are synchronous.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    django_setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from playwright.sync_api import expect, sync_playwright

    from accounts.models import User
    from files import services

    call_command("collectstatic", interactive=False, verbosity=0)
    user = User.objects.filter(username="bench-web").first() or User.objects.create_user(
        username="bench-web", password=None
    )
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value
    shipped = (ROOT / "static/js/upload.js").read_text()
    one_by_one = shipped.replace(GROUPING, GROUPING.replace("return ", "return false && "))
    assert shipped.count(GROUPING) == 1, (
        "the grouping rule in upload.js has changed; update GROUPING"
    )
    print(
        f"database: {connection.vendor}   {args.files} files of {args.size} bytes into a new "
        f"subfolder, {args.rounds} rounds each way, gunicorn with 2 workers"
    )
    connection.close()

    server, port = start_gunicorn(2)
    results: dict[str, list[float]] = {"a PUT per file": [], "50 to a request": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            base = f"http://127.0.0.1:{port}"
            for _ in range(args.rounds):
                for label, script in [
                    ("a PUT per file", one_by_one),
                    ("50 to a request", shipped),
                ]:
                    folder = services.folder_ensure_path(
                        owner=user, path=f"/bench-web-{time.time_ns()}"
                    )
                    connection.close()
                    context = browser.new_context(base_url=base)
                    context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
                    page = context.new_page()

                    def serve(text: str):
                        return lambda route: route.fulfill(
                            body=text, content_type="text/javascript"
                        )

                    page.route("**/static/js/upload*.js", serve(script))
                    page.goto(f"/files/folders/{folder.pk}/")
                    started = time.perf_counter()
                    page.evaluate(
                        """([n, size]) => {
                            const files = [];
                            for (let i = 0; i < n; i++) {
                                const text = `file ${i} `.padEnd(size, "x");
                                files.push({ file: new File([text], `f${i}.txt`),
                                             relativePath: `dropped/f${i}.txt` });
                            }
                            FF.upload.enqueue(files);
                        }""",
                        [args.files, args.size],
                    )
                    expect(page.locator("#upload-total-text")).to_contain_text(
                        f"{args.files} of {args.files} files uploaded", timeout=600_000
                    )
                    results[label].append(time.perf_counter() - started)
                    context.close()
            browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    for label, seconds in results.items():
        best = statistics.median(seconds)
        print(
            f"{label:>16}: median {best:6.1f} s   {args.files / best:6.0f} files/s   "
            f"(runs: {', '.join(f'{s:.1f}' for s in seconds)} s)"
        )
    ratio = statistics.median(results["a PUT per file"]) / statistics.median(
        results["50 to a request"]
    )
    print(f"grouped is {ratio:.1f}x as fast as a PUT per file")


if __name__ == "__main__":
    main()
