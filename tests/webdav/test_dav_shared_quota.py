"""RFC 4331 quota inside Shared with me answers "how much can I put here": the figures of the
folder's owner, whose quota a write there counts against — on wsgidav's path and on ours
(webdav.propfind), which answer alike for shared folders too."""

from __future__ import annotations

from typing import Any

import pytest
from defusedxml.ElementTree import fromstring

from tests.webdav.conftest import content
from tests.webdav.test_dav import propfind
from tests.webdav.test_dav_shared import TEAM, world  # noqa: F401 - the fixture
from tests.webdav.test_propfind import BODIES, LOCK_BODY, PROPPATCH, canonical

pytestmark = pytest.mark.django_db

D = "{DAV:}"
QUOTA = ("quota-used-bytes", "quota-available-bytes")


def _figures(found: dict[str, Any], href: str) -> tuple[str, str]:
    return (found[href][f"{D}quota-used-bytes"].text, found[href][f"{D}quota-available-bytes"].text)


@pytest.mark.parametrize("fast", [True, False], ids=["ours", "wsgidav"])
def test_quota_in_a_shared_folder_is_the_owners(
    world: dict[str, Any],  # noqa: F811
    settings: Any,
    fast: bool,
) -> None:
    settings.FILEFLOW_DAV_FAST_PROPFIND = fast
    alice, bob = world["alice"], world["bob"]
    alice.refresh_from_db()
    alice.quota_bytes = alice.used_bytes + 5000
    alice.save()
    bob.quota_bytes = 1000
    bob.save()
    dav = world["dav"]["bob"]
    assert dav("PUT", "/dav/mine.bin", b"x" * 100).status_code == 201
    assert dav("MKCOL", TEAM + "/Sub").status_code == 201
    alice.refresh_from_db()
    alice_figures = (str(alice.used_bytes), "5000")
    found = propfind(dav, TEAM + "/", *QUOTA, depth="1")
    assert _figures(found, TEAM + "/") == alice_figures
    assert _figures(found, TEAM + "/Sub/") == alice_figures
    # bob's own files still answer with his
    assert _figures(propfind(dav, "/dav/", *QUOTA), "/dav/") == ("100", "900")


@pytest.mark.parametrize("body", sorted(BODIES))
@pytest.mark.parametrize("depth", ["0", "1"])
def test_our_answer_for_a_shared_folder_is_wsgidavs(
    world: dict[str, Any],  # noqa: F811
    settings: Any,
    body: str,
    depth: str,
) -> None:
    alice = world["alice"]
    alice.quota_bytes = 10**9
    alice.save()
    dav = world["dav"]["bob"]
    assert dav("MKCOL", TEAM + "/Sub").status_code == 201
    assert dav("PROPPATCH", TEAM + "/plan.txt", PROPPATCH).status_code == 207
    locked = dav("LOCK", TEAM + "/plan.txt", LOCK_BODY, Timeout="Second-600")
    assert locked.status_code == 200, content(locked)

    def answer() -> tuple[Any, bytes]:
        response = dav("PROPFIND", TEAM + "/", BODIES[body], Depth=depth)
        assert response.status_code == 207, content(response)
        raw = content(response)
        return canonical(fromstring(raw)), raw

    ours, raw = answer()
    if body == "prop":  # answered by our path (wsgidav declares no xmlns:NS for 404s)
        assert b'xmlns:NS="urn:example"' in raw
    if body in ("allprop", "empty", "prop"):
        assert (b"opaquelocktoken" in raw) == (depth == "1")  # bob's lock on plan.txt
    settings.FILEFLOW_DAV_FAST_PROPFIND = False
    assert ours == answer()[0]
