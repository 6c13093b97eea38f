"""A recipient never sees the owner's folders above a share (issue 14).

alice keeps /alice-private-XYZ/Projects-private-XYZ/Team (shared with bob as editor who may
re-share, and with carol's group "family" as viewer) and /alice-private-XYZ/memo.txt (shared
with both the same way). "private-XYZ" is only in the names of alice's folders above the shares:
it must never reach bob or carol, on any surface; alice keeps seeing her own paths."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.services import token_create
from files import services, tree
from files.models import Node
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.people.conftest import api_for, png, put, web_for
from tests.uploads.conftest import create, patch
from tests.webdav.conftest import Dav, content, props

pytestmark = pytest.mark.django_db

# Hyphenated: random tokens on a page (letters and digits) can hold "XYZ" by chance (a copy
# page failed so once in a long PostgreSQL run).
MARK = "private-XYZ"
ABOVE = "/alice-private-XYZ/Projects-private-XYZ"


@dataclass
class Place:
    alice: Any
    bob: Any
    carol: Any
    private: Node  # /alice-private-XYZ
    team: Node  # …/Projects-private-XYZ/Team, shared
    sub: Node  # …/Team/Sub
    deep: Node  # …/Team/Sub/deep.txt
    photo: Node  # …/Team/photo.png
    memo: Node  # /alice-private-XYZ/memo.txt, shared itself


@pytest.fixture
def place(db: None) -> Place:
    alice = UserFactory(username="alice", email="alice@example.com")
    bob = UserFactory(username="bob", email="bob@example.com")
    carol = UserFactory(username="carol", email="carol@example.com")
    family = Group.objects.create(name="family")
    carol.groups.add(family)
    alice.groups.add(family)
    home = tree.home_of(alice)
    private = services.folder_create(owner=alice, parent=home, name="alice-private-XYZ")
    projects = services.folder_create(owner=alice, parent=private, name="Projects-private-XYZ")
    other = services.folder_create(owner=alice, parent=private, name="Other")
    team = services.folder_create(owner=alice, parent=projects, name="Team")
    sub = services.folder_create(owner=alice, parent=team, name="Sub")
    deep = put(alice, sub, "deep.txt", b"deep words")
    photo = put(alice, team, "photo.png", png())
    memo = put(alice, private, "memo.txt", b"memo words")
    notes = put(alice, team, "notes.txt", b"notes")
    plan = put(alice, other, "plan.txt", b"plan")
    for node in (team, memo):
        person_share_create(actor=alice, node=node, user="bob", role="editor", can_reshare=True)
        person_share_create(actor=alice, node=node, group="family", role="viewer")
    # Moves recorded with where they came from: within the share, and from outside it.
    services.node_move(node=notes, new_parent=sub, actor=alice)
    services.node_move(node=plan, new_parent=team, actor=alice)
    services.node_rename(node=memo, name="memo.txt", actor=alice)
    return Place(alice, bob, carol, private, team, sub, deep, photo, memo)


def _text(response: Any) -> str:
    """Everything a client gets: status line's headers and the body (a ZIP's names too)."""
    body = content(response)
    headers = "\n".join(f"{key}: {value}" for key, value in response.items())
    return headers + "\n" + body.decode("utf-8", "replace")


def _clean(response: Any, what: str) -> str:
    assert response.status_code < 400, (what, response.status_code, content(response)[:300])
    text = _text(response)
    assert MARK not in text, f"{what} shows the owner's folders: {text[:2000]}"
    return text


def _get_urls(p: Place) -> list[str]:
    urls = [
        "/api/v1/shared-with-me/",
        "/api/v1/activity/",
        f"/api/v1/activity/?node={p.team.pk}",
        f"/api/v1/activity/?node={p.memo.pk}",
        "/api/v1/search/?q=txt",
        f"/api/v1/nodes/?parent={p.team.pk}",
        f"/api/v1/nodes/?parent={p.sub.pk}",
        f"/api/v1/nodes/{p.deep.pk}/versions/",
        f"/api/v1/nodes/{p.team.pk}/people/",
        f"/api/v1/nodes/zip/?ids={p.memo.pk}",
        f"/api/v1/nodes/zip/?ids={p.team.pk}",
        f"/api/v1/nodes/zip/?ids={p.photo.pk},{p.sub.pk}",
        f"/api/v1/nodes/{p.team.pk}/content/",
        "/shared-with-me/",
        "/files/activity/",
        f"/files/activity/?folder={p.team.pk}",
        f"/files/folders/{p.team.pk}/",
        f"/files/folders/{p.sub.pk}/",
        f"/files/items/{p.memo.pk}/copy/",
        f"/files/items/{p.deep.pk}/copy/",
        f"/files/items/{p.deep.pk}/copy/?to={p.team.pk}",
        "/search/?q=txt",
    ]
    for node in (p.team, p.sub, p.deep, p.photo, p.memo):
        urls += [f"/api/v1/nodes/{node.pk}/", f"/files/items/{node.pk}/"]
    return urls


def _client(user: Any, url: str) -> Any:
    return api_for(user) if url.startswith("/api/") else web_for(user)


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_no_surface_shows_a_recipient_the_folders_above_the_share(place: Place, who: str):
    user = getattr(place, who)
    leaks = []
    for url in _get_urls(place):
        response = _client(user, url).get(url)
        assert response.status_code == 200, (url, response.status_code)
        if MARK in _text(response):
            leaks.append(url)
    assert leaks == []


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_the_api_gives_the_recipients_paths_and_parents(place: Place, who: str):
    client = api_for(getattr(place, who))
    expected = {
        place.team: ("Shared with me/Team", None),
        place.sub: ("Shared with me/Team/Sub", place.team.pk),
        place.deep: ("Shared with me/Team/Sub/deep.txt", place.sub.pk),
        place.memo: ("Shared with me/memo.txt", None),
    }
    for node, (path, parent) in expected.items():
        body = client.get(f"/api/v1/nodes/{node.pk}/").json()
        assert (body["path"], body["parent"], body["shared"]) == (path, parent, True)
    listing = client.get(f"/api/v1/nodes/?parent={place.team.pk}").json()
    assert (listing["folder"]["path"], listing["folder"]["parent"]) == ("Shared with me/Team", None)
    paths = {row["name"]: (row["path"], row["parent"]) for row in listing["results"]}
    assert paths["Sub"] == ("Shared with me/Team/Sub", place.team.pk)
    assert paths["photo.png"] == ("Shared with me/Team/photo.png", place.team.pk)
    zipped = client.get(f"/api/v1/nodes/zip/?ids={place.photo.pk},{place.sub.pk}")
    archive = zipfile.ZipFile(io.BytesIO(content(zipped)))
    assert sorted(archive.namelist()) == ["Sub/", "Sub/deep.txt", "Sub/notes.txt", "photo.png"]
    assert "Team.zip" in zipped["Content-Disposition"]
    # memo.txt's folder is alice's: the ZIP is not named after it.
    lone = client.get(f"/api/v1/nodes/zip/?ids={place.memo.pk}")
    assert "FileFlow download.zip" in lone["Content-Disposition"]


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_activity_says_where_as_the_recipient_sees_it(place: Place, who: str):
    entries = api_for(getattr(place, who)).get("/api/v1/activity/").json()["results"]
    seen = {(e["kind"], e["node_name"]): (e["where"], e["detail"]) for e in entries}
    assert seen[("upload", "deep.txt")] == ("Shared with me/Team/Sub", "")
    assert seen[("upload", "photo.png")] == ("Shared with me/Team", "")
    assert seen[("move", "notes.txt")] == ("Shared with me/Team/Sub", "from Shared with me/Team")
    elsewhere = "from a folder not shared with you"
    assert seen[("move", "plan.txt")] == ("Shared with me/Team", elsewhere)
    assert seen[("upload", "memo.txt")] == ("Shared with me", "")
    page = web_for(getattr(place, who)).get("/files/activity/").content.decode()
    assert "Shared with me/Team/Sub" in page


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_pages_start_the_breadcrumbs_at_shared_with_me(place: Place, who: str):
    web = web_for(getattr(place, who))
    for url in (f"/files/folders/{place.sub.pk}/", f"/files/items/{place.deep.pk}/"):
        page = web.get(url).content.decode()
        start = page.index('aria-label="Folder path"')
        crumbs = page[start : page.index("</nav>", start)]
        assert 'href="/shared-with-me/">Shared with me</a>' in crumbs
        assert crumbs.index("Shared with me") < crumbs.index(">Team<")
    item = web.get(f"/files/items/{place.deep.pk}/").content.decode()
    assert "Shared with me/Team/Sub/deep.txt" in item
    memo = web.get(f"/files/items/{place.memo.pk}/").content.decode()
    assert "Shared with me/memo.txt" in memo


def test_the_owner_keeps_her_own_paths(place: Place):
    client = api_for(place.alice)
    body = client.get(f"/api/v1/nodes/{place.deep.pk}/").json()
    assert (body["path"], body["parent"], body["shared"]) == (
        f"{ABOVE}/Team/Sub/deep.txt",
        place.sub.pk,
        False,
    )
    memo = client.get(f"/api/v1/nodes/{place.memo.pk}/").json()
    assert (memo["path"], memo["parent"]) == ("/alice-private-XYZ/memo.txt", place.private.pk)
    listing = client.get(f"/api/v1/nodes/?parent={place.team.pk}").json()
    assert listing["folder"]["path"] == f"{ABOVE}/Team"
    assert {row["path"] for row in listing["results"]} >= {f"{ABOVE}/Team/Sub"}
    entries = client.get("/api/v1/activity/").json()["results"]
    moves = {e["node_name"]: e["detail"] for e in entries if e["kind"] == "move"}
    assert moves["notes.txt"] == f"from {ABOVE}/Team"
    assert moves["plan.txt"] == "from /alice-private-XYZ/Other"
    lone = client.get(f"/api/v1/nodes/zip/?ids={place.memo.pk}")
    assert "alice-private-XYZ.zip" in lone["Content-Disposition"]
    page = web_for(place.alice).get(f"/files/items/{place.deep.pk}/").content.decode()
    assert f"{ABOVE}/Team/Sub/deep.txt" in page
    assert 'href="/shared-with-me/">Shared with me</a>' not in page


def test_what_an_editor_writes_is_answered_in_their_places(place: Place):
    bob = place.bob
    client = api_for(bob)
    made = client.post("/api/v1/nodes/", {"parent": place.sub.pk, "name": "New"}, format="json")
    assert _clean(made, "mkdir") and made.json()["path"] == "Shared with me/Team/Sub/New"
    renamed = client.patch(f"/api/v1/nodes/{place.memo.pk}/", {"name": "memo 2.txt"}, format="json")
    assert _clean(renamed, "rename") and renamed.json()["path"] == "Shared with me/memo 2.txt"
    assert renamed.json()["parent"] is None
    # A name taken next to memo.txt in alice's folder: refused without naming that folder.
    put(place.alice, place.private, "taken.txt", b"t")
    clash = client.patch(f"/api/v1/nodes/{place.memo.pk}/", {"name": "taken.txt"}, format="json")
    assert clash.status_code == 409 and MARK not in _text(clash), _text(clash)
    copied = client.post(
        f"/api/v1/nodes/{place.deep.pk}/copy/", {"parent": place.team.pk}, format="json"
    )
    assert _clean(copied, "copy") and copied.json()["path"] == "Shared with me/Team/deep.txt"
    upload = client.post(
        "/api/v1/nodes/upload/",
        {"file": SimpleUploadedFile("x.txt", b"up"), "parent": place.sub.pk, "name": "up.txt"},
        format="multipart",
    )
    assert _clean(upload, "upload") and upload.json()["path"] == "Shared with me/Team/Sub/up.txt"
    many = client.post(
        "/api/v1/nodes/upload-many/",
        {
            "file": [SimpleUploadedFile("a.txt", b"a"), SimpleUploadedFile("b.txt", b"b")],
            "parent": place.team.pk,
        },
        format="multipart",
    )
    _clean(many, "upload-many")
    assert {row["path"].rsplit("/", 1)[0] for row in many.json()["results"]} == {
        "Shared with me/Team"
    }
    # tus: the answers carry no path at all; the stored file is where bob sees it.
    created = create(client, 5, filename="big.bin", parent=str(place.sub.pk))
    url = _clean(created, "tus create") and created["Location"].removeprefix("http://testserver")
    _clean(patch(client, url, 0, b"12"), "tus patch")
    _clean(client.head(url, HTTP_TUS_RESUMABLE="1.0.0"), "tus head")
    done = patch(client, url, 2, b"345")
    _clean(done, "tus patch")
    stored = client.get(f"/api/v1/nodes/{done['FileFlow-Node-Id']}/").json()
    assert stored["path"] == "Shared with me/Team/Sub/big.bin"


def test_a_link_made_by_a_re_sharer_shows_their_path(place: Place):
    bob = api_for(place.bob)
    made = bob.post("/api/v1/shares/", {"node": place.sub.pk}, format="json")
    assert _clean(made, "link create").count("Shared with me/Team/Sub")
    link = made.json()
    assert link["node_path"] == "Shared with me/Team/Sub"
    listed = bob.get("/api/v1/shares/")
    assert _clean(listed, "links").count("Shared with me/Team/Sub")
    web = web_for(place.bob)
    for url in ("/shares/", f"/shares/{link['id']}/", f"/shares/?node={place.sub.pk}"):
        assert "Shared with me/Team/Sub" in _clean(web.get(url), url)
    public = link["url"].removeprefix("http://testserver")
    _clean(Client().get(public), "the link's page")
    # The owner sees bob's link on her item where it is in her files.
    mine = api_for(place.alice).get(f"/api/v1/shares/?node={place.sub.pk}").json()["results"]
    assert [row["node_path"] for row in mine] in ([], [f"{ABOVE}/Team/Sub"])


@pytest.mark.parametrize("who", ["bob", "carol"])
def test_webdav_puts_shared_items_under_shared_with_me(place: Place, who: str):
    _token, raw = token_create(user=getattr(place, who), name="dav")
    dav = Dav(who, str(raw))
    shared = "/dav/" + quote("Shared with me")
    for path in (shared + "/", shared + "/Team/", shared + "/Team/Sub/"):
        answer = dav("PROPFIND", path, props("displayname"), Depth="1")
        assert answer.status_code == 207
        assert MARK not in content(answer).decode()
    assert dav("GET", shared + "/Team/Sub/deep.txt").status_code == 200
    if who == "bob":  # an editor's lock: its root is where bob sees the file
        lock = (
            '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/>'
            "</D:lockscope><D:locktype><D:write/></D:locktype></D:lockinfo>"
        )
        locked = dav("LOCK", shared + "/Team/Sub/deep.txt", lock, Timeout="Second-60")
        assert locked.status_code == 200, content(locked)
        assert MARK not in _text(locked)
        found = dav("PROPFIND", shared + "/Team/Sub/", props("lockdiscovery"), Depth="1")
        assert found.status_code == 207 and MARK not in content(found).decode()


@pytest.mark.parametrize("folder", ["team", "sub"])
@pytest.mark.parametrize("kind", ["api", "page"])
def test_a_shared_listing_costs_the_owners_plus_the_check_whatever_its_length(
    place: Place, folder: str, kind: str
):
    pk = getattr(place, folder).pk
    url = f"/api/v1/nodes/?parent={pk}" if kind == "api" else f"/files/folders/{pk}/"

    def cost(user: Any) -> int:
        client = _client(user, url)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    few = {who: cost(getattr(place, who)) for who in ("alice", "bob", "carol")}
    for n in range(25):
        put(place.alice, getattr(place, folder), f"more {n}.txt", b"x")
    many = {who: cost(getattr(place, who)) for who in ("alice", "bob", "carol")}
    assert few == many, (few, many)
    # The recipient's paths come from the shares the access check read and the names of
    # the folders between the share and the listing (a part of the owner's path): no query
    # more than the owner's listing and the check (tests/people/test_access_cost.py).
    for who in ("bob", "carol"):
        assert many[who] <= many["alice"] + 1, many


def test_an_editor_trashing_a_shared_item_goes_back_to_shared_with_me(place: Place):
    answer = web_for(place.bob).post(f"/files/items/{place.memo.pk}/trash/")
    assert (answer.status_code, answer["Location"]) == (302, "/shared-with-me/")
    inside = web_for(place.bob).post(f"/files/items/{place.deep.pk}/trash/")
    assert inside["Location"] == f"/files/folders/{place.sub.pk}/"


def test_a_hand_over_records_where_it_was_as_the_new_owner_sees_it(place: Place):
    bob = api_for(place.bob)
    mine = tree.home_of(place.bob)
    secret = services.folder_create(owner=place.bob, parent=mine, name="bob-secret-QRS")
    own = put(place.bob, secret, "mine.txt", b"mine")
    # Out of the share into bob's files (he may re-share): his now, from where he saw it.
    taken = bob.patch(f"/api/v1/nodes/{place.deep.pk}/", {"parent": secret.pk}, format="json")
    assert taken.status_code == 200 and taken.json()["path"] == "/bob-secret-QRS/deep.txt"
    # Into alice's shared folder: hers now, and bob's folders are not hers to see.
    given = bob.patch(f"/api/v1/nodes/{own.pk}/", {"parent": place.team.pk}, format="json")
    assert given.status_code == 200 and given.json()["path"] == "Shared with me/Team/mine.txt"

    def moves(user: Any) -> dict[str, str]:
        entries = api_for(user).get("/api/v1/activity/?kind=move").json()["results"]
        return {e["node_name"]: e["detail"] for e in entries}

    assert moves(place.bob)["deep.txt"] == "from Shared with me/Team/Sub, handed over to bob"
    assert moves(place.alice)["mine.txt"] == "from bob's files, handed over to alice"
    assert (
        moves(place.carol)["mine.txt"] == "from a folder not shared with you, handed over to alice"
    )
    for who in ("alice", "bob", "carol"):
        text = _text(api_for(getattr(place, who)).get("/api/v1/activity/"))
        assert MARK not in text or who == "alice"
        assert "QRS" not in text or who == "bob"
