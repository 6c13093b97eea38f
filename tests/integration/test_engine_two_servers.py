"""Two app servers (two gunicorn processes on their own ports and data dirs) on one PostgreSQL
database and one S3 bucket (moto's server over real HTTP), as the README's multi-server
deployment runs them: whatever one server does, the other sees at once.

Files are uploaded on server A; server B lists them, downloads them (whole and a range),
opens a share link made on A without logging in, renames, trashes and restores; A then
sees the same folder, the same trash, the same usage and the same link state, and the
bucket holds exactly the blobs the database names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.db import connection

from files.models import Blob
from tests.integration.helpers import (
    SECRET_KEY,
    Bucket,
    LiveServer,
    MiB,
    Multipart,
    Reply,
    pattern,
    pattern_bytes,
    pattern_sha256,
    tail,
)
from tests.utils import fresh_env, run_python

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="several app servers need a shared database server: PostgreSQL only "
        "(runs in the PostgreSQL pass)",
    ),
]

SIZE = 9 * MiB + 123  # above the 8 MiB in-memory limit: a multipart upload to S3
SEED = 41


@pytest.fixture(scope="module")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> None:
    """``manage.py collectstatic``, as a deployment's build step runs it: the public pages
    (DEBUG off) name their CSS and scripts through the collected manifest."""
    data_dir = tmp_path_factory.mktemp("collectstatic")
    done = run_python(
        ["manage.py", "collectstatic", "--no-input", "-v", "0"],
        fresh_env(data_dir, DJANGO_SECRET_KEY=SECRET_KEY),
    )
    assert done.returncode == 0, done.stderr


def call(
    server: LiveServer, method: str, path: str, auth: dict[str, str], payload: Any = None
) -> Reply:
    headers = dict(auth)
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    return server.request(method, path, headers=headers, body=body)


def listing(server: LiveServer, auth: dict[str, str], path: str) -> list[dict[str, Any]]:
    reply = call(server, "GET", f"/api/v1/nodes/?{urlencode({'path': path})}", auth)
    assert reply.status == 200, reply.body
    return list(reply.json()["results"])


def state(server: LiveServer, auth: dict[str, str]) -> dict[str, Any]:
    """What a client sees of the account on ``server``."""
    me = call(server, "GET", "/api/v1/me/", auth)
    trash = call(server, "GET", "/api/v1/trash/", auth)
    shares = call(server, "GET", "/api/v1/shares/", auth)
    assert me.status == trash.status == shares.status == 200
    return {
        "home": listing(server, auth, "/"),
        "docs": listing(server, auth, "/Docs")
        if any(item["name"] == "Docs" for item in listing(server, auth, "/"))
        else None,
        "used_bytes": me.json()["used_bytes"],
        "trash": [(item["id"], item["name"]) for item in trash.json()["results"]],
        "shares": [(item["id"], item["state"]) for item in shares.json()["results"]],
    }


def test_two_app_servers_on_one_database_and_one_bucket_see_the_same_drive(
    collected_static: None,
    start_server: Callable[..., LiveServer],
    s3_bucket: Bucket,
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
) -> None:
    a = start_server(**s3_bucket.env())
    b = start_server(**s3_bucket.env())
    assert a.port != b.port and a.data_dir != b.data_dir
    for server in (a, b):
        health = server.request("GET", "/healthz")
        assert health.status == 200
        assert health.json()["checks"]["storage"] == "ok"
    auth = bearer(alice)

    # Upload on A: a large raw PUT (creating /Docs) and a small multipart form into /Docs.
    reply = a.request(
        "PUT",
        "/api/v1/files/content/?path=/Docs/report.bin",
        headers=auth,
        body=pattern(SEED, SIZE),
        length=SIZE,
    )
    assert reply.status == 201, reply.body
    report = reply.json()
    assert report["sha256"] == pattern_sha256(SEED, SIZE)
    note = b"written on server A\n"
    form = Multipart("note.txt", len(note))
    fields = f'--{form.boundary}\r\nContent-Disposition: form-data; name="parent"\r\n\r\n'
    body = fields.encode() + str(report["parent"]).encode() + b"\r\n" + b"".join(form.body([note]))
    reply = a.request(
        "POST",
        "/api/v1/nodes/upload/",
        headers={**auth, "Content-Type": form.content_type},
        body=body,
    )
    assert reply.status == 201, reply.body
    docs_id = report["parent"]

    # B lists and downloads them: whole, and a range of the large one.
    on_b = {item["name"]: item for item in listing(b, auth, "/Docs")}
    assert set(on_b) == {"report.bin", "note.txt"}
    assert on_b["report.bin"]["size"] == SIZE
    reply = b.request("GET", f"/api/v1/nodes/{report['id']}/content/", headers=auth)
    assert reply.status == 200
    assert hashlib.sha256(reply.body).hexdigest() == report["sha256"]
    first, last = SIZE // 2 - 777, SIZE // 2 + 4321
    reply = b.request(
        "GET",
        f"/api/v1/nodes/{report['id']}/content/",
        headers={**auth, "Range": f"bytes={first}-{last}"},
    )
    assert reply.status == 206
    assert reply.body == pattern_bytes(SEED, first, last + 1)
    reply = b.request("GET", f"/api/v1/nodes/{on_b['note.txt']['id']}/content/", headers=auth)
    assert (reply.status, reply.body) == (200, note)

    # A share link made through A's API opens on B for a visitor without an account.
    reply = call(a, "POST", "/api/v1/shares/", auth, {"node": docs_id, "expires_in_days": 1})
    assert reply.status == 201, reply.body
    share = reply.json()
    link = urlsplit(share["url"]).path
    assert link.startswith("/s/")
    page = b.request("GET", link)
    assert page.status == 200, tail(b.log_path)
    assert b"report.bin" in page.body and b"note.txt" in page.body
    reply = b.request("GET", f"{link}items/{report['id']}/content/")
    assert reply.status == 200
    assert hashlib.sha256(reply.body).hexdigest() == report["sha256"]

    # B renames and trashes; A sees it at once, and the link stops working on A.
    reply = call(b, "PATCH", f"/api/v1/nodes/{on_b['note.txt']['id']}/", auth, {"name": "n.txt"})
    assert reply.status == 200, reply.body
    assert {item["name"] for item in listing(a, auth, "/Docs")} == {"report.bin", "n.txt"}
    reply = call(b, "DELETE", f"/api/v1/nodes/{docs_id}/", auth)
    assert reply.status == 204, reply.body
    trashed = state(a, auth)
    assert trashed == state(b, auth)
    assert trashed["docs"] is None
    assert trashed["trash"] == [(docs_id, "Docs")]
    # The shared folder is in the trash: its link is gone (410) and serves nothing.
    assert a.request("GET", link).status == 410
    gone = a.request("GET", f"{link}items/{report['id']}/content/")
    assert gone.status in (404, 410)
    assert b"report" not in gone.body

    # B restores; both servers see the folder back, and the link works again on A.
    reply = call(b, "POST", f"/api/v1/nodes/{docs_id}/restore/", auth)
    assert reply.status == 200, reply.body
    restored = state(a, auth)
    assert restored == state(b, auth)
    assert restored["trash"] == []
    assert {item["name"] for item in restored["docs"]} == {"report.bin", "n.txt"}
    assert restored["used_bytes"] == SIZE + len(note)
    assert restored["shares"] == [(share["id"], "active")]
    reply = a.request("GET", f"{link}items/{report['id']}/content/")
    assert reply.status == 200
    assert hashlib.sha256(reply.body).hexdigest() == report["sha256"]

    # One bucket: exactly the blobs the database names, nothing on either server's disk.
    keys = sorted(
        f"blobs/{s[:2]}/{s[2:4]}/{s}" for s in Blob.objects.values_list("sha256", flat=True)
    )
    assert s3_bucket.object_keys("blobs/") == keys
    for server in (a, b):
        assert not any(server.blobs_dir.rglob("*"))
