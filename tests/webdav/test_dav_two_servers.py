"""WebDAV under two app servers (two gunicorn processes on their own ports) sharing one
PostgreSQL database and one data dir (local blob storage both can read): a file written on
A is served by B with the same bytes and ETag; a lock taken on A holds on B (a PUT without
its token is refused with 423, one with it succeeds) and is released on B; a MOVE on B and a
dead property set on A are seen by the other server at once.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from django.db import connection

from tests.integration.helpers import LiveServer, Reply, start_gunicorn, stop, tail
from tests.webdav.conftest import basic

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="several app servers need a shared database server: PostgreSQL only "
        "(runs in the PostgreSQL pass)",
    ),
]

DAV = "{DAV:}"
LOCKINFO = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    b"<D:locktype><D:write/></D:locktype><D:owner>server A</D:owner></D:lockinfo>"
)
PROPPATCH = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:propertyupdate xmlns:D="DAV:" xmlns:F="urn:fileflow-test:">'
    b"<D:set><D:prop><F:colour>teal, set on A</F:colour></D:prop></D:set></D:propertyupdate>"
)
PROPFIND_COLOUR = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<D:propfind xmlns:D="DAV:" xmlns:F="urn:fileflow-test:">'
    b"<D:prop><F:colour/><D:getetag/></D:prop></D:propfind>"
)


@pytest.fixture
def two_servers(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two gunicorn servers on one data dir (so one blob store) and the test database."""
    data_dir: Path = tmp_path_factory.mktemp("shared-data")
    a = start_gunicorn(data_dir)
    try:
        b = start_gunicorn(data_dir)
    except BaseException:
        stop(a.process)
        raise
    try:
        yield a, b
    finally:
        stop(a.process)
        stop(b.process)


def propfind(server: LiveServer, auth: dict[str, str], path: str, depth: str = "0") -> Reply:
    return server.request(
        "PROPFIND",
        path,
        headers={**auth, "Depth": depth, "Content-Type": "application/xml"},
        body=PROPFIND_COLOUR,
    )


def found_props(reply: Reply) -> dict[str, dict[str, str | None]]:
    """href → {property: text} for every property a 207 answer reports with 200 OK."""
    assert reply.status == 207, reply.body
    result: dict[str, dict[str, str | None]] = {}
    for response in fromstring(reply.body).iter(f"{DAV}response"):
        href = response.findtext(f"{DAV}href") or ""
        values: dict[str, str | None] = {}
        for propstat in response.iter(f"{DAV}propstat"):
            if "200" not in (propstat.findtext(f"{DAV}status") or ""):
                continue
            for prop in propstat.iter(f"{DAV}prop"):
                for child in prop:
                    values[child.tag] = child.text
        result[href] = values
    return result


def test_two_app_servers_share_files_locks_moves_and_dead_properties_over_webdav(
    two_servers: tuple[LiveServer, LiveServer], alice: Any, mallory: Any
) -> None:
    from accounts.services import token_create

    a, b = two_servers
    assert a.port != b.port and a.data_dir == b.data_dir
    assert a.process.pid != b.process.pid
    _token, raw = token_create(user=alice, name="two servers")
    auth = {"Authorization": basic("alice", str(raw))}

    # PUT on A; B lists it (same ETag) and serves the same bytes with the same ETag.
    body = b"written on server A\n" * 5000
    sha = hashlib.sha256(body).hexdigest()
    reply = a.request("PUT", "/dav/report.txt", headers=auth, body=body)
    assert reply.status == 201, reply.body
    on_a = found_props(propfind(a, auth, "/dav/report.txt"))["/dav/report.txt"]
    on_b = found_props(propfind(b, auth, "/dav/report.txt"))["/dav/report.txt"]
    assert on_a[f"{DAV}getetag"] == on_b[f"{DAV}getetag"]
    assert sha in (on_b[f"{DAV}getetag"] or "")
    got_a = a.request("GET", "/dav/report.txt", headers=auth)
    got_b = b.request("GET", "/dav/report.txt", headers=auth)
    assert (got_b.status, got_b.body) == (200, body), tail(b.log_path)
    assert got_b.headers["ETag"] == got_a.headers["ETag"]
    assert sha in got_b.headers["ETag"]

    # LOCK on A: B refuses a PUT without the token, takes one with it, and unlocks.
    lock = a.request(
        "LOCK",
        "/dav/report.txt",
        headers={**auth, "Content-Type": "application/xml", "Timeout": "Second-600"},
        body=LOCKINFO,
    )
    assert lock.status == 200, lock.body
    token = lock.headers["Lock-Token"].strip("<>")
    assert token
    refused = b.request("PUT", "/dav/report.txt", headers=auth, body=b"no token, from B\n")
    assert refused.status == 423, refused.body
    assert b.request("DELETE", "/dav/report.txt", headers=auth).status == 423
    assert b.request("GET", "/dav/report.txt", headers=auth).body == body
    with_token = b"with the token, from B\n"
    accepted = b.request(
        "PUT", "/dav/report.txt", headers={**auth, "If": f"(<{token}>)"}, body=with_token
    )
    assert accepted.status in (200, 204), accepted.body
    assert a.request("GET", "/dav/report.txt", headers=auth).body == with_token
    unlock = b.request("UNLOCK", "/dav/report.txt", headers={**auth, "Lock-Token": f"<{token}>"})
    assert unlock.status == 204, unlock.body
    after = b"after the unlock, from A\n"
    assert a.request("PUT", "/dav/report.txt", headers=auth, body=after).status in (200, 204)

    # MOVE on B; A sees the new name and not the old one.
    moved = b.request(
        "MOVE",
        "/dav/report.txt",
        headers={**auth, "Destination": f"{b.url}/dav/moved.txt", "Overwrite": "F"},
    )
    assert moved.status == 201, moved.body
    listing = found_props(propfind(a, auth, "/dav/", depth="1"))
    assert "/dav/moved.txt" in listing and "/dav/report.txt" not in listing
    assert a.request("GET", "/dav/moved.txt", headers=auth).body == after
    assert a.request("PROPFIND", "/dav/report.txt", headers={**auth, "Depth": "0"}).status == 404

    # PROPPATCH a dead property on A; B reads it back.
    patched = a.request(
        "PROPPATCH",
        "/dav/moved.txt",
        headers={**auth, "Content-Type": "application/xml"},
        body=PROPPATCH,
    )
    assert patched.status == 207, patched.body
    assert re.search(rb"HTTP/1.1 200", patched.body), patched.body
    on_b = found_props(propfind(b, auth, "/dav/moved.txt"))["/dav/moved.txt"]
    assert on_b.get("{urn:fileflow-test:}colour") == "teal, set on A"

    # Another user sees none of it on either server.
    _token, other = token_create(user=mallory, name="two servers")
    intruder = {"Authorization": basic("mallory", str(other))}
    for server in (a, b):
        assert server.request("GET", "/dav/moved.txt", headers=intruder).status == 404
