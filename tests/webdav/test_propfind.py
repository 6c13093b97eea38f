"""PROPFIND answered by webdav.propfind: the same XML as wsgidav's own path (the fast path
switched off with FILEFLOW_DAV_FAST_PROPFIND), in a constant number of queries."""

from __future__ import annotations

import re
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.webdav.conftest import Dav, content

pytestmark = pytest.mark.django_db

PROPPATCH = (
    '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:E="urn:example">'
    "<D:set><D:prop><E:colour>red &amp; <E:b>blue</E:b></E:colour></D:prop></D:set>"
    "</D:propertyupdate>"
)
LOCK_BODY = (
    '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner>test</D:owner></D:lockinfo>"
)
BODIES = {
    "empty": b"",
    "allprop": b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:allprop/></D:propfind>',
    # RFC 4918's <propname/>: wsgidav 4.4 reads it as an empty <prop> (it looks for
    # <D:name/>, answered here as wsgidav does); both spellings are compared.
    "name": b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:name/></D:propfind>',
    "propname": b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:propname/></D:propfind>',
    "prop": (
        b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:E="urn:example">'
        b"<D:prop><D:resourcetype/><D:getcontentlength/><D:getcontenttype/><D:getetag/>"
        b"<D:getlastmodified/><D:creationdate/><D:displayname/><D:quota-used-bytes/>"
        b"<D:quota-available-bytes/><D:lockdiscovery/><D:supportedlock/><D:nonsense/>"
        b"<E:colour/><E:unknown/><plain xmlns=''/></D:prop></D:propfind>"
    ),
}


MORE = ["/dav/box/b%20%26%20c.bin", "/dav/box/sub%20folder/"]


def canonical(element: Any) -> Any:
    """Tag, text (lock timeouts masked) and children in order; prefixes do not matter."""
    text = re.sub(r"^Second-\d+$", "Second-N", (element.text or "").strip())
    return (element.tag, text, [canonical(child) for child in element])


def build(alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/box")
    alice_dav("MKCOL", "/dav/box/sub folder")
    alice_dav("MKCOL", "/dav/box/(other)")
    alice_dav("PUT", "/dav/box/a.txt", b"hello", **{"Content-Type": "text/plain"})
    alice_dav("PUT", "/dav/box/b & c.bin", b"\x00\x01\x02")
    for path in ("/dav/box", "/dav/box/a.txt", "/dav/box/sub folder"):
        assert alice_dav("PROPPATCH", path, PROPPATCH).status_code == 207
    locked = alice_dav("LOCK", "/dav/box/a.txt", LOCK_BODY, Timeout="Second-600")
    assert locked.status_code == 200


@pytest.mark.parametrize("body", sorted(BODIES))
@pytest.mark.parametrize("depth", ["0", "1"])
@pytest.mark.parametrize("path", ["/dav/box/", "/dav/box/a.txt", "/dav/"])
def test_the_answer_is_wsgidavs(
    alice_dav: Dav, settings: Any, body: str, depth: str, path: str
) -> None:
    build(alice_dav)

    def answer() -> Any:
        response = alice_dav("PROPFIND", path, BODIES[body], Depth=depth)
        assert response.status_code == 207, content(response)
        assert response["Content-Type"] == "application/xml; charset=utf-8"
        return canonical(fromstring(content(response)))

    ours = answer()
    settings.FILEFLOW_DAV_FAST_PROPFIND = False
    theirs = answer()
    assert ours == theirs
    # The comparison sees what matters: the listing, the lock.
    hrefs = [entry[2][0][1] for entry in ours[2]]
    if path == "/dav/box/" and depth == "1":
        assert hrefs == ["/dav/box/", "/dav/box/(other)/", "/dav/box/a.txt", *MORE]
    sees_lock = path == "/dav/box/a.txt" or (path == "/dav/box/" and depth == "1")
    if body in ("allprop", "empty", "prop"):
        assert ("opaquelocktoken" in repr(ours)) == sees_lock


def test_the_fast_path_answers(alice_dav: Dav, settings: Any) -> None:
    """The flag really switches paths (wsgidav declares no xmlns:NS for 404s; we do)."""
    build(alice_dav)
    ours = content(alice_dav("PROPFIND", "/dav/box/", BODIES["prop"], Depth="1"))
    assert b'xmlns:NS="urn:example"' in ours
    settings.FILEFLOW_DAV_FAST_PROPFIND = False
    theirs = content(alice_dav("PROPFIND", "/dav/box/", BODIES["prop"], Depth="1"))
    assert b'xmlns:NS="urn:example"' not in theirs


def test_depth_1_costs_the_same_queries_for_10_or_60_members(alice_dav: Dav) -> None:
    def listing_queries(folder: str, count: int) -> int:
        alice_dav("MKCOL", f"/dav/{folder}")
        for i in range(count):
            alice_dav("PUT", f"/dav/{folder}/f{i}.txt", f"{i}".encode())
            alice_dav("PROPPATCH", f"/dav/{folder}/f{i}.txt", PROPPATCH)
            if i % 5 == 0:
                alice_dav("MKCOL", f"/dav/{folder}/d{i}")
        alice_dav("LOCK", f"/dav/{folder}/f0.txt", LOCK_BODY, Timeout="Second-60")
        with CaptureQueriesContext(connection) as queries:
            response = alice_dav("PROPFIND", f"/dav/{folder}/", b"", Depth="1")
            listing = fromstring(content(response))
        assert response.status_code == 207
        assert len(listing.findall("{DAV:}response")) == count + count // 5 + 1
        assert len(listing.findall(".//{urn:example}colour")) == count
        return len(queries)

    assert listing_queries("small", 10) == listing_queries("large", 60)
