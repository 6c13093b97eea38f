"""A link's access limit holds when many visitors arrive at the same moment.

50 real HTTP clients (threads, no cookies) download through a link limited to 10 accesses,
against the live test server and the real database (PostgreSQL in the second run of the
suite; SQLite in WAL mode in the first)."""

from __future__ import annotations

import http.client
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import pytest

from files import services as file_services
from files import tree
from sharing import services
from sharing.models import ShareAccess, ShareLink
from tests.files.conftest import received

pytestmark = pytest.mark.django_db(transaction=True)

VISITORS = 50
LIMIT = 10


def test_exactly_the_limit_of_simultaneous_downloads_succeeds(alice: Any, live_server: Any):
    content = b"one of ten copies\n" * 1000
    node = file_services.file_upload(
        owner=alice, parent=tree.home_of(alice), name="ticket.txt", received=received(content)
    )
    link, token = services.share_create(owner=alice, node=node, max_access_count=LIMIT)
    address = urlsplit(live_server.url)
    barrier = threading.Barrier(VISITORS)

    def download(_: int) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        try:
            barrier.wait(timeout=60)
            connection.request("GET", f"/s/{token}/download/")
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    with ThreadPoolExecutor(VISITORS) as pool:
        results = list(pool.map(download, range(VISITORS)))

    statuses = sorted(status for status, _ in results)
    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(410) == VISITORS - LIMIT, statuses
    assert all(body == content for status, body in results if status == 200)
    assert all(b"one of ten" not in body for status, body in results if status == 410)
    link.refresh_from_db()
    assert link.access_count == LIMIT
    assert link.state == ShareLink.State.USED_UP
    assert ShareAccess.objects.filter(link=link, counted=True).count() == LIMIT
