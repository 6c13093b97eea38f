"""PROPFIND Depth 1 (allprop) of a folder of 10,000 entries, in-process (Django's test
client, no HTTP server): our answer (webdav.propfind) against wsgidav's own path
(FILEFLOW_DAV_FAST_PROPFIND=False) measured in the same run, interleaved.

    FILEFLOW_DATA_DIR=/tmp/ff-bench-pf .venv/bin/python bench/propfind.py            # SQLite
    FILEFLOW_DATA_DIR=/tmp/ff-bench-pf scripts/with-postgres.sh .venv/bin/python bench/propfind.py

Options: --entries (10000, 1% of them folders), --rounds (5). Prints the median and best of
each path in ms and their ratio.
"""

from __future__ import annotations

import argparse
import base64
import statistics
import time

from _setup import django_setup
from big_folder import fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    django_setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings

    from accounts.models import User
    from accounts.services import token_create
    from files import services

    call_command("collectstatic", interactive=False, verbosity=0)  # for an error page
    user = User.objects.create_user(username=f"bench-pf-{time.time_ns()}", password=None)
    folder = services.folder_ensure_path(owner=user, path="/many")
    started = time.perf_counter()
    fill(user, folder, args.entries)
    setup = time.perf_counter() - started
    _token, raw = token_create(user=user, name="bench")
    auth = "Basic " + base64.b64encode(f"{user.username}:{raw}".encode()).decode()
    client = Client(SERVER_NAME="localhost")

    def propfind() -> float:
        began = time.perf_counter()
        response = client.generic(
            "PROPFIND", "/dav/many/", headers={"Authorization": auth, "Depth": "1"}
        )
        body = b"".join(response.streaming_content) if response.streaming else response.content
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 207, (response.status_code, body[:300])
        assert (
            body.count(b"<D:response") == args.entries + 1
            or body.count(b"response>") >= args.entries
        )
        return elapsed

    times: dict[str, list[float]] = {"ours": [], "wsgidav": []}
    propfind()  # warm both paths
    with override_settings(FILEFLOW_DAV_FAST_PROPFIND=False):
        propfind()
    for _ in range(args.rounds):
        times["ours"].append(propfind())
        with override_settings(FILEFLOW_DAV_FAST_PROPFIND=False):
            times["wsgidav"].append(propfind())
    print(
        f"database: {connection.vendor}   PROPFIND Depth 1 (allprop) of {args.entries} entries "
        f"(set up in {setup:.0f} s), {args.rounds} interleaved rounds, in-process"
    )
    medians = {name: statistics.median(samples) for name, samples in times.items()}
    for name, samples in times.items():
        print(f"  {name:8} median {medians[name]:7.0f} ms   best {min(samples):7.0f} ms")
    print(f"  wsgidav/ours: {medians['wsgidav'] / medians['ours']:.1f}x")


if __name__ == "__main__":
    main()
