"""WebDAV at /dav/ through Django's test client: every method, names, quota, dead properties,
locks, PROPFIND's bounded queries. Real-server cases (chunked bodies, litmus, rclone) are in
test_dav_servers.py."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import pytest
from defusedxml.ElementTree import fromstring
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wsgidav.dav_provider import DAVNonCollection

from files import services as file_services
from files import tree
from files.models import FileVersion, Node
from tests.webdav.conftest import Dav, content, props
from webdav.app import dav_app
from webdav.models import DavLock, DeadProperty
from webdav.provider import USER_KEY

pytestmark = pytest.mark.django_db

D = "{DAV:}"


def live(user: Any, path: str) -> Node | None:
    node = tree.home_of(user)
    for part in path.strip("/").split("/"):
        found = Node.objects.filter(parent=node, name=part, trashed_at__isnull=True).first()
        if found is None:
            return None
        node = found
    return node


def propfind(dav: Dav, path: str, *names: str, depth: str = "0") -> dict[str, dict[str, Any]]:
    """href -> {property name: element} of the 200 propstats."""
    response = dav("PROPFIND", path, props(*names), Depth=depth, **{"Content-Type": "text/xml"})
    assert response.status_code == 207, content(response)
    found: dict[str, dict[str, Any]] = {}
    for entry in fromstring(content(response)).iter(f"{D}response"):
        href = entry.findtext(f"{D}href")
        assert href is not None
        values: dict[str, Any] = {}
        for propstat in entry.iter(f"{D}propstat"):
            if "200" in (propstat.findtext(f"{D}status") or ""):
                prop_element = propstat.find(f"{D}prop")
                for prop in prop_element if prop_element is not None else []:
                    values[prop.tag] = prop
        found[href] = values
    return found


# --- authentication -----------------------------------------------------------------------


def test_no_credentials_get_a_basic_challenge(alice: Any) -> None:
    response = Dav("alice", "x")("PROPFIND", "/dav/", Depth="0", Authorization="")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="FileFlow WebDAV"')
    assert b"personal access token" in content(response)


def test_token_and_password_sign_in_and_a_wrong_secret_does_not(
    alice: Any, password: str, token_of: Any
) -> None:
    assert Dav("alice", token_of(alice))("PROPFIND", "/dav/", Depth="0").status_code == 207
    assert Dav("alice", password)("PROPFIND", "/dav/", Depth="0").status_code == 207
    wrong = Dav("alice", "not-the-password")("PROPFIND", "/dav/", Depth="0")
    assert wrong.status_code == 401
    assert b"Wrong user name or token" in content(wrong)


def test_a_token_only_signs_in_its_own_user(alice: Any, mallory: Any, token_of: Any) -> None:
    assert Dav("mallory", token_of(alice))("PROPFIND", "/dav/", Depth="0").status_code == 401


def test_password_can_be_switched_off(
    alice: Any, password: str, token_of: Any, settings: Any
) -> None:
    settings.FILEFLOW_DAV_ALLOW_PASSWORD = False
    refused = Dav("alice", password)("PROPFIND", "/dav/", Depth="0")
    assert refused.status_code == 401
    assert b"(or your password)" not in content(refused)
    assert Dav("alice", token_of(alice))("PROPFIND", "/dav/", Depth="0").status_code == 207


@pytest.mark.parametrize("allow_password", [True, False])
def test_failures_are_throttled_like_log_ins(
    alice: Any, password: str, token_of: Any, settings: Any, allow_password: bool
) -> None:
    settings.FILEFLOW_DAV_ALLOW_PASSWORD = allow_password
    settings.AXES_FAILURE_LIMIT = 3
    guesser = Dav("alice", "guess")
    statuses = [guesser("PROPFIND", "/dav/", Depth="0").status_code for _ in range(4)]
    assert statuses[:2] == [401, 401]
    assert statuses[3] == 429
    locked = Dav("alice", password)("PROPFIND", "/dav/", Depth="0")
    assert locked.status_code == 429
    assert b"log-in is paused" in content(locked)


# --- files and folders --------------------------------------------------------------------


def test_mkcol_put_get_with_delivery_headers_range_and_conditionals(
    alice: Any, alice_dav: Dav
) -> None:
    assert alice_dav("MKCOL", "/dav/docs").status_code == 201
    body = b"hello webdav " * 100
    sha = hashlib.sha256(body).hexdigest()
    put = alice_dav("PUT", "/dav/docs/a.txt", body)
    assert put.status_code == 201
    assert put.headers["ETag"] == f'"{sha}"'
    node = live(alice, "/docs/a.txt")
    assert node is not None and node.size == len(body) and node.sha256 == sha

    got = alice_dav("GET", "/dav/docs/a.txt")
    assert got.status_code == 200
    assert content(got) == body
    assert got.headers["ETag"] == f'"{sha}"'
    assert got.headers["Last-Modified"]
    assert got.headers["X-Content-Type-Options"] == "nosniff"

    part = alice_dav("GET", "/dav/docs/a.txt", Range="bytes=6-11")
    assert part.status_code == 206
    assert content(part) == body[6:12]
    assert part.headers["Content-Range"] == f"bytes 6-11/{len(body)}"
    assert alice_dav("GET", "/dav/docs/a.txt", Range="bytes=99999-").status_code == 416
    assert alice_dav("GET", "/dav/docs/a.txt", **{"If-None-Match": f'"{sha}"'}).status_code == 304

    head = alice_dav("HEAD", "/dav/docs/a.txt")
    assert head.status_code == 200
    assert head.headers["Content-Length"] == str(len(body))


def test_put_over_a_file_keeps_the_old_content_as_a_version(alice: Any, alice_dav: Dav) -> None:
    assert alice_dav("PUT", "/dav/a.txt", b"one").status_code == 201
    assert alice_dav("PUT", "/dav/a.txt", b"two").status_code == 204
    node = live(alice, "/a.txt")
    assert node is not None
    assert content(alice_dav("GET", "/dav/a.txt")) == b"two"
    assert [v.size for v in FileVersion.objects.filter(node=node)] == [3]


def test_put_if_none_match_star_does_not_overwrite(alice_dav: Dav) -> None:
    assert alice_dav("PUT", "/dav/a.txt", b"one").status_code == 201
    assert alice_dav("PUT", "/dav/a.txt", b"two", **{"If-None-Match": "*"}).status_code == 412
    assert content(alice_dav("GET", "/dav/a.txt")) == b"one"


def test_put_into_a_missing_folder_is_a_conflict(alice_dav: Dav) -> None:
    assert alice_dav("PUT", "/dav/nowhere/a.txt", b"x").status_code == 409


def test_empty_put_stores_an_empty_file(alice: Any, alice_dav: Dav) -> None:
    response = alice_dav.client.generic(
        "PUT", "/dav/empty", CONTENT_LENGTH="0", headers={"Authorization": alice_dav.authorization}
    )
    assert response.status_code == 201
    node = live(alice, "/empty")
    assert node is not None and node.size == 0


def test_delete_moves_to_the_trash(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/docs")
    alice_dav("PUT", "/dav/docs/a.txt", b"x")
    assert alice_dav("DELETE", "/dav/docs").status_code == 204
    assert live(alice, "/docs") is None
    trashed = Node.objects.get(owner=alice, name="docs")
    assert trashed.trashed_at is not None and trashed.is_trash_root
    assert Node.objects.get(owner=alice, name="a.txt").trashed_at is not None
    assert alice_dav("GET", "/dav/docs/a.txt").status_code == 404


def test_the_home_folder_cannot_be_deleted(alice_dav: Dav) -> None:
    refused = alice_dav("DELETE", "/dav/")
    assert refused.status_code == 400
    assert "“Your files” cannot be trashed" in content(refused).decode()


def test_move_renames_and_moves_and_overwrite_f_refuses(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/a")
    alice_dav("MKCOL", "/dav/b")
    alice_dav("PUT", "/dav/a/x.txt", b"x")
    alice_dav("PUT", "/dav/b/y.txt", b"y")
    moved = alice_dav("MOVE", "/dav/a/x.txt", Destination="http://testserver/dav/b/z.txt")
    assert moved.status_code == 201
    assert live(alice, "/a/x.txt") is None
    assert content(alice_dav("GET", "/dav/b/z.txt")) == b"x"

    kept = alice_dav(
        "MOVE", "/dav/b/z.txt", Destination="http://testserver/dav/b/y.txt", Overwrite="F"
    )
    assert kept.status_code == 412
    replaced = alice_dav("MOVE", "/dav/b/z.txt", Destination="http://testserver/dav/b/y.txt")
    assert replaced.status_code == 204
    assert content(alice_dav("GET", "/dav/b/y.txt")) == b"x"
    # The file it replaced went to the trash, not away.
    assert Node.objects.filter(owner=alice, name="y.txt", trashed_at__isnull=False).count() == 1


def test_copy_of_a_folder_copies_its_members_and_shares_blobs(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/a")
    alice_dav("MKCOL", "/dav/a/sub")
    alice_dav("PUT", "/dav/a/sub/f.txt", b"payload")
    copied = alice_dav("COPY", "/dav/a", Destination="http://testserver/dav/c")
    assert copied.status_code == 201
    original, copy = live(alice, "/a/sub/f.txt"), live(alice, "/c/sub/f.txt")
    assert original is not None and copy is not None
    assert copy.pk != original.pk and copy.blob_id == original.blob_id
    alice.refresh_from_db()
    assert alice.used_bytes == 2 * len(b"payload")


def test_copy_depth_0_of_a_folder_copies_only_the_folder(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/a")
    alice_dav("PUT", "/dav/a/f.txt", b"x")
    copied = alice_dav("COPY", "/dav/a", Destination="http://testserver/dav/c", Depth="0")
    assert copied.status_code in (201, 204)  # wsgidav answers a copy it did not do with 204
    assert live(alice, "/c") is not None
    assert live(alice, "/c/f.txt") is None


def test_destination_on_another_server_is_refused(alice_dav: Dav) -> None:
    alice_dav("PUT", "/dav/a.txt", b"x")
    refused = alice_dav("COPY", "/dav/a.txt", Destination="http://elsewhere.example/dav/b.txt")
    assert refused.status_code == 502
    assert b"same host" in content(refused)


def test_move_into_itself_is_refused(alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/a")
    assert (
        alice_dav("MOVE", "/dav/a", Destination="http://testserver/dav/a/inside").status_code == 403
    )


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/dav/bad%01name", b"control characters"),
        ("/dav/" + "n" * 256, b"255"),
    ],
)
def test_bad_names_are_refused_with_the_rule(alice_dav: Dav, path: str, reason: bytes) -> None:
    for method in ("MKCOL", "PUT"):
        refused = alice_dav(method, path, b"x" if method == "PUT" else b"")
        assert refused.status_code == 400, (method, content(refused))
        assert reason in content(refused)


def test_bad_destination_name_is_refused(alice_dav: Dav) -> None:
    alice_dav("PUT", "/dav/a.txt", b"x")
    refused = alice_dav("MOVE", "/dav/a.txt", Destination="http://testserver/dav/b%01c")
    assert refused.status_code == 400
    assert b"control characters" in content(refused)


def test_names_are_stored_nfc(alice: Any, alice_dav: Dav) -> None:
    decomposed = "e\u0301t\u00e9.txt"  # "été" with a combining accent first
    assert alice_dav("PUT", "/dav/" + decomposed, b"x").status_code == 201
    assert live(alice, "/\u00e9t\u00e9.txt") is not None


# --- limits -------------------------------------------------------------------------------


def test_quota_refuses_with_507_and_the_reason(alice: Any, alice_dav: Dav) -> None:
    alice.quota_bytes = 10
    alice.save()
    refused = alice_dav("PUT", "/dav/big.bin", b"x" * 100)
    assert refused.status_code == 507
    assert b"quota-not-exceeded" in content(refused)
    assert live(alice, "/big.bin") is None


def test_the_per_file_limit_is_a_413(alice: Any, alice_dav: Dav, settings: Any) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 50
    refused = alice_dav("PUT", "/dav/big.bin", b"x" * 100)
    assert refused.status_code == 413
    assert b"big.bin" in content(refused)


@pytest.mark.parametrize("limit", ["quota", "file size"])
def test_ordinary_put_refusals_log_at_info_without_a_traceback(
    alice: Any, alice_dav: Dav, settings: Any, caplog: Any, limit: str
) -> None:
    if limit == "quota":
        alice.quota_bytes = 10
        alice.save()
    else:
        settings.FILEFLOW_MAX_UPLOAD_SIZE = 50
    with caplog.at_level(logging.INFO):
        refused = alice_dav("PUT", "/dav/big.bin", b"x" * 100)
    assert refused.status_code in (413, 507)
    # (django.request reports every 5xx status, 507 included, as it does for the API.)
    dav_records = [r for r in caplog.records if r.name.startswith(("wsgidav", "webdav"))]
    assert [r.getMessage() for r in dav_records if r.levelno >= logging.WARNING] == []
    assert all(r.exc_info is None for r in caplog.records)
    assert any(r.levelno == logging.INFO and "big.bin" in r.getMessage() for r in caplog.records)


def test_huge_xml_bodies_are_refused(alice_dav: Dav) -> None:
    refused = alice_dav("PROPFIND", "/dav/", b"<" * (1024 * 1024 + 1), Depth="0")
    assert refused.status_code == 413


# --- properties ---------------------------------------------------------------------------


def test_propfind_live_properties(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/docs")
    alice_dav("PUT", "/dav/docs/a.txt", b"hello", **{"Content-Type": "text/plain"})
    found = propfind(
        alice_dav,
        "/dav/docs/a.txt",
        "getcontentlength",
        "getcontenttype",
        "getetag",
        "creationdate",
        "getlastmodified",
        "displayname",
        "resourcetype",
    )["/dav/docs/a.txt"]
    assert found[f"{D}getcontentlength"].text == "5"
    assert found[f"{D}getcontenttype"].text == "text/plain"
    assert found[f"{D}getetag"].text == f'"{hashlib.sha256(b"hello").hexdigest()}"'
    assert found[f"{D}displayname"].text == "a.txt"
    assert found[f"{D}creationdate"].text
    assert found[f"{D}getlastmodified"].text.endswith("GMT")
    assert len(found[f"{D}resourcetype"]) == 0

    listing = propfind(alice_dav, "/dav/docs/", "resourcetype", depth="1")
    assert set(listing) == {"/dav/docs/", "/dav/docs/a.txt"}
    assert listing["/dav/docs/"][f"{D}resourcetype"][0].tag == f"{D}collection"


def test_quota_properties(alice: Any, alice_dav: Dav) -> None:
    alice.quota_bytes = 1000
    alice.save()
    alice_dav("PUT", "/dav/a.bin", b"x" * 100)
    found = propfind(alice_dav, "/dav/", "quota-used-bytes", "quota-available-bytes")["/dav/"]
    assert found[f"{D}quota-used-bytes"].text == "100"
    assert found[f"{D}quota-available-bytes"].text == "900"


@pytest.mark.parametrize("depth", [{"Depth": "infinity"}, {}])
def test_propfind_depth_infinity_is_refused(alice_dav: Dav, depth: dict[str, str]) -> None:
    response = alice_dav.client.generic(
        "PROPFIND", "/dav/", headers={"Authorization": alice_dav.authorization, **depth}
    )
    assert response.status_code == 403
    assert b"propfind-finite-depth" in content(response)


PROPPATCH = (
    '<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:example">'
    "<D:set><D:prop><Z:colour>blue</Z:colour></D:prop></D:set></D:propertyupdate>"
)


def test_dead_properties_are_stored_and_follow_a_move(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/a")
    alice_dav("PUT", "/dav/a/f.txt", b"x")
    patched = alice_dav("PROPPATCH", "/dav/a/f.txt", PROPPATCH, **{"Content-Type": "text/xml"})
    assert patched.status_code == 207
    stored = DeadProperty.objects.get(name="{urn:example}colour")
    assert stored.node == live(alice, "/a/f.txt")
    assert "blue" in stored.value

    alice_dav("MOVE", "/dav/a", Destination="http://testserver/dav/b")
    body = (
        '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:example">'
        "<D:prop><Z:colour/></D:prop></D:propfind>"
    )
    response = alice_dav("PROPFIND", "/dav/b/f.txt", body, Depth="0")
    assert response.status_code == 207
    colour = fromstring(content(response)).find(".//{urn:example}colour")
    assert colour is not None and colour.text == "blue"


COLOUR_PROPFIND = (
    '<?xml version="1.0"?><D:propfind xmlns:D="DAV:" xmlns:Z="urn:example">'
    "<D:prop><Z:colour/></D:prop></D:propfind>"
)


def colour_of(dav: Dav, path: str) -> str | None:
    response = dav("PROPFIND", path, COLOUR_PROPFIND, Depth="0")
    assert response.status_code == 207, content(response)
    found = propfind_200(content(response))
    return found.get("{urn:example}colour")


def propfind_200(body: bytes) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for propstat in fromstring(body).iter(f"{D}propstat"):
        if "200" in (propstat.findtext(f"{D}status") or ""):
            prop_element = propstat.find(f"{D}prop")
            for prop in prop_element if prop_element is not None else []:
                values[prop.tag] = prop.text
    return values


def test_dead_properties_follow_a_rename_and_move_made_outside_webdav(
    alice: Any, alice_dav: Dav
) -> None:
    alice_dav("MKCOL", "/dav/a")
    alice_dav("MKCOL", "/dav/b")
    alice_dav("PUT", "/dav/a/f.txt", b"x")
    alice_dav("PROPPATCH", "/dav/a/f.txt", PROPPATCH, **{"Content-Type": "text/xml"})
    alice_dav("PROPPATCH", "/dav/a", PROPPATCH, **{"Content-Type": "text/xml"})
    node, folder = live(alice, "/a/f.txt"), live(alice, "/a")
    assert node is not None and folder is not None

    # The web page and the API rename and move through the same services.
    file_services.node_rename(node=node, name="g.txt")
    file_services.node_move(node=folder, new_parent=live(alice, "/b"))

    assert colour_of(alice_dav, "/dav/b/a/g.txt") == "blue"
    assert colour_of(alice_dav, "/dav/b/a") == "blue"
    # A new file at the old path starts with no properties of its own.
    alice_dav("MKCOL", "/dav/a")
    alice_dav("PUT", "/dav/a/f.txt", b"y")
    assert colour_of(alice_dav, "/dav/a/f.txt") is None
    assert colour_of(alice_dav, "/dav/a") is None


def test_dead_properties_survive_the_trash_and_go_when_deleted_for_good(
    alice: Any, alice_dav: Dav
) -> None:
    alice_dav("MKCOL", "/dav/a")
    alice_dav("PUT", "/dav/a/f.txt", b"x")
    alice_dav("PROPPATCH", "/dav/a/f.txt", PROPPATCH, **{"Content-Type": "text/xml"})
    folder = live(alice, "/a")
    assert folder is not None
    assert alice_dav("DELETE", "/dav/a").status_code == 204
    assert DeadProperty.objects.count() == 1  # in the trash, restorable with the folder
    file_services.node_restore(node=folder)
    assert colour_of(alice_dav, "/dav/a/f.txt") == "blue"
    assert alice_dav("DELETE", "/dav/a").status_code == 204

    file_services.trash_empty(owner=alice)
    assert not Node.objects.filter(pk=folder.pk).exists()
    assert DeadProperty.objects.count() == 0


def test_a_files_property_names_are_wsgidavs_own(alice: Any, alice_dav: Dav) -> None:
    """The provider lists a file's properties without wsgidav's generic probing: same list."""
    alice_dav("PUT", "/dav/f.txt", b"x", **{"Content-Type": "text/plain"})
    alice_dav("PROPPATCH", "/dav/f.txt", PROPPATCH, **{"Content-Type": "text/xml"})
    provider = dav_app("/dav").provider_map["/"]
    environ = {USER_KEY: alice, "wsgidav.provider": provider}
    resource = provider.get_resource_inst("/f.txt", environ)
    for is_allprop in (True, False):
        generic = DAVNonCollection.get_property_names(resource, is_allprop=is_allprop)
        assert "{urn:example}colour" in generic
        assert resource.get_property_names(is_allprop=is_allprop) == generic


def test_propfind_depth_1_costs_the_same_queries_for_10_or_60_members(
    alice: Any, alice_dav: Dav
) -> None:
    def listing_queries(folder: str, count: int) -> int:
        alice_dav("MKCOL", f"/dav/{folder}")
        for i in range(count):
            alice_dav("PUT", f"/dav/{folder}/f{i}.txt", f"{i}".encode())
            alice_dav("PROPPATCH", f"/dav/{folder}/f{i}.txt", PROPPATCH)
        alice_dav("LOCK", f"/dav/{folder}/f0.txt", LOCK_BODY, Timeout="Second-60")
        with CaptureQueriesContext(connection) as queries:
            response = alice_dav("PROPFIND", f"/dav/{folder}/", b"", Depth="1")
        assert response.status_code == 207
        listing = fromstring(content(response))
        assert len(listing.findall(f"{D}response")) == count + 1
        assert len(listing.findall(".//{urn:example}colour")) == count
        return len(queries)

    small, large = listing_queries("small", 10), listing_queries("large", 60)
    assert small == large
    assert large <= 12


# --- locks --------------------------------------------------------------------------------

LOCK_BODY = (
    '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
    "<D:locktype><D:write/></D:locktype><D:owner>test</D:owner></D:lockinfo>"
)


def lock(dav: Dav, path: str) -> str:
    response = dav("LOCK", path, LOCK_BODY, Timeout="Second-600", **{"Content-Type": "text/xml"})
    assert response.status_code in (200, 201), content(response)
    assert b"activelock" in content(response)
    return str(response.headers["Lock-Token"]).strip("<>")


def test_a_lock_is_kept_in_the_database_and_refuses_writes_without_its_token(
    alice: Any, alice_dav: Dav
) -> None:
    alice_dav("PUT", "/dav/a.txt", b"one")
    token = lock(alice_dav, "/dav/a.txt")
    assert DavLock.objects.get(token=token).owner == alice

    assert alice_dav("PUT", "/dav/a.txt", b"two").status_code == 423
    assert alice_dav("DELETE", "/dav/a.txt").status_code == 423
    assert alice_dav("PUT", "/dav/a.txt", b"two", If=f"(<{token}>)").status_code == 204
    assert alice_dav("UNLOCK", "/dav/a.txt", **{"Lock-Token": f"<{token}>"}).status_code == 204
    assert not DavLock.objects.filter(token=token).exists()
    assert alice_dav("DELETE", "/dav/a.txt").status_code == 204


def _api(user: Any) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_lock_follows_its_file_when_renamed_or_moved_elsewhere(
    alice: Any, alice_dav: Dav
) -> None:
    """A rename or move on the web page or in the API takes the lock along: the holder's next
    write at the new URL needs the token, and the old URL is free for a new file."""
    alice_dav("PUT", "/dav/a.txt", b"one")
    token = lock(alice_dav, "/dav/a.txt")
    node = live(alice, "/a.txt")
    assert node is not None
    api = _api(alice)
    assert api.patch(f"/api/v1/nodes/{node.pk}/", {"name": "b.txt"}).status_code == 200

    assert alice_dav("PUT", "/dav/b.txt", b"two").status_code == 423
    assert alice_dav("PUT", "/dav/b.txt", b"two", If=f"(<{token}>)").status_code == 204
    assert alice_dav("PUT", "/dav/a.txt", b"new").status_code == 201
    assert alice_dav("PUT", "/dav/a.txt", b"newer").status_code == 204  # not locked
    found = propfind(alice_dav, "/dav/b.txt", "lockdiscovery")["/dav/b.txt"]
    active = found[f"{D}lockdiscovery"].find(f"{D}activelock")
    assert active is not None
    assert active.findtext(f"{D}lockroot/{D}href") == "/dav/b.txt"

    # moved into a folder (the web page's and the API's move are one service)
    assert alice_dav("MKCOL", "/dav/docs").status_code == 201
    docs = live(alice, "/docs")
    assert docs is not None
    assert api.patch(f"/api/v1/nodes/{node.pk}/", {"parent": docs.pk}).status_code == 200
    assert alice_dav("PUT", "/dav/docs/b.txt", b"three").status_code == 423
    assert alice_dav("PUT", "/dav/b.txt", b"free").status_code == 201
    unlock = alice_dav("UNLOCK", "/dav/docs/b.txt", **{"Lock-Token": f"<{token}>"})
    assert unlock.status_code == 204
    assert alice_dav("PUT", "/dav/docs/b.txt", b"three").status_code == 204


def test_a_locked_folder_stays_locked_below_its_new_name(alice: Any, alice_dav: Dav) -> None:
    alice_dav("MKCOL", "/dav/box")
    alice_dav("PUT", "/dav/box/in.txt", b"x")
    response = alice_dav(
        "LOCK",
        "/dav/box",
        LOCK_BODY,
        Timeout="Second-600",
        Depth="infinity",
        **{"Content-Type": "text/xml"},
    )
    assert response.status_code == 200, content(response)
    token = str(response.headers["Lock-Token"]).strip("<>")
    box = live(alice, "/box")
    assert box is not None
    assert _api(alice).patch(f"/api/v1/nodes/{box.pk}/", {"name": "crate"}).status_code == 200
    assert alice_dav("PUT", "/dav/crate/in.txt", b"y").status_code == 423
    assert alice_dav("PUT", "/dav/crate/new.txt", b"y").status_code == 423
    assert alice_dav("PUT", "/dav/crate/in.txt", b"y", If=f"(<{token}>)").status_code == 204
    assert alice_dav("MKCOL", "/dav/box").status_code == 201  # the old name is free
    assert alice_dav("PUT", "/dav/box/in.txt", b"z").status_code == 201


def test_a_lock_goes_with_its_file_to_the_trash(alice: Any, alice_dav: Dav) -> None:
    alice_dav("PUT", "/dav/a.txt", b"one")
    token = lock(alice_dav, "/dav/a.txt")
    node = live(alice, "/a.txt")
    assert node is not None
    assert _api(alice).delete(f"/api/v1/nodes/{node.pk}/").status_code == 204
    assert alice_dav("PUT", "/dav/a.txt", b"new").status_code == 201
    # WebDAV's own DELETE and MOVE release the locks they had (RFC 4918 §7.6)
    token = lock(alice_dav, "/dav/a.txt")
    move = alice_dav(
        "MOVE", "/dav/a.txt", If=f"(<{token}>)", Destination="http://testserver/dav/c.txt"
    )
    assert move.status_code == 201, content(move)
    assert not DavLock.objects.filter(token=token).exists()
    assert alice_dav("PUT", "/dav/c.txt", b"free").status_code == 204
    token = lock(alice_dav, "/dav/c.txt")
    assert alice_dav("DELETE", "/dav/c.txt", If=f"(<{token}>)").status_code == 204
    assert not DavLock.objects.filter(token=token).exists()


def test_lock_on_an_unmapped_url_makes_an_empty_file(alice: Any, alice_dav: Dav) -> None:
    lock(alice_dav, "/dav/new.txt")
    node = live(alice, "/new.txt")
    assert node is not None and node.size == 0


# --- alice and mallory --------------------------------------------------------------------


def test_another_users_paths_are_404_on_every_method(
    alice: Any, alice_dav: Dav, mallory_dav: Dav
) -> None:
    alice_dav("MKCOL", "/dav/private")
    alice_dav("PUT", "/dav/private/secret.txt", b"alice's secret")
    alice_token = lock(alice_dav, "/dav/private/secret.txt")
    path = "/dav/private/secret.txt"
    destination = {"Destination": "http://testserver/dav/stolen.txt"}

    expected_404 = {
        "GET": mallory_dav("GET", path),
        "HEAD": mallory_dav("HEAD", path),
        "PROPFIND": mallory_dav("PROPFIND", path, Depth="0"),
        "PROPPATCH": mallory_dav("PROPPATCH", path, PROPPATCH),
        "DELETE": mallory_dav("DELETE", path),
        "MOVE": mallory_dav("MOVE", path, **destination),
        "COPY": mallory_dav("COPY", path, **destination),
        "UNLOCK": mallory_dav("UNLOCK", path, **{"Lock-Token": f"<{alice_token}>"}),
    }
    assert {method: r.status_code for method, r in expected_404.items()} == dict.fromkeys(
        expected_404, 404
    )
    # Writes land in mallory's own tree (whose /private does not exist), never in alice's.
    assert mallory_dav("PUT", path, b"mallory").status_code == 409
    assert mallory_dav("MKCOL", "/dav/private").status_code == 201
    assert mallory_dav("PUT", path, b"mallory").status_code == 201
    # alice's lock on the same path does not lock mallory's file, nor the reverse.
    mallory_token = lock(mallory_dav, path)
    assert mallory_dav("UNLOCK", path, **{"Lock-Token": f"<{alice_token}>"}).status_code == 409
    assert content(alice_dav("GET", path)) == b"alice's secret"
    assert content(mallory_dav("GET", path)) == b"mallory"
    assert DavLock.objects.get(token=alice_token).owner == alice
    assert DavLock.objects.filter(token=mallory_token).exists()


# --- the account page ---------------------------------------------------------------------


@pytest.mark.parametrize("allow_password", [True, False])
def test_the_account_page_says_how_to_connect(
    alice: Any, client: Any, settings: Any, allow_password: bool
) -> None:
    settings.FILEFLOW_DAV_ALLOW_PASSWORD = allow_password
    client.force_login(alice)
    page = client.get("/account/").content.decode()
    assert 'value="http://testserver/dav/"' in page
    assert "dav://testserver/dav/" in page
    assert "<code>alice</code>" in page
    assert ("your account password works too" in page) is allow_password
