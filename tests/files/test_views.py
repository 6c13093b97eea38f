"""The file browser's pages with Django's test client: everything that must work without
JavaScript, another user's ids answering 404 everywhere, and bad input answering a 4xx that
says what to do (never a 500)."""

from __future__ import annotations

import hashlib
import os
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from files import selectors, services, tree
from files.models import FileVersion, Node
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def names_in(response: Any) -> list[str]:
    """The item names of a listing, in the order shown (not the scripts' empty template)."""
    page = response.content.decode().split('<template id="row-template">')[0]
    return re.findall(r'class="name-link" href="[^"]*"[^>]*>([^<]*)</a>', page)


def text(response: Any) -> str:
    return response.content.decode()


# --- browsing ------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    for url in ["/", "/files/folders/1/", "/files/trash/", "/files/favourites/", "/files/tags/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/login/")


def test_home_lists_folders_first_with_breadcrumbs(web: Client, upload: Any, mkdir: Any) -> None:
    upload("b.txt", b"bb")
    upload("A.txt", b"a")
    mkdir("Zeta")
    docs = mkdir("Docs")
    upload("inner.txt", parent=docs)
    response = web.get("/")
    assert response.status_code == 200
    assert names_in(response) == ["Docs", "Zeta", "A.txt", "b.txt"]
    assert (
        '<h1 class="crumb-current" aria-current="page" id="folder-title" title="Your files">'
        "Your files</h1>" in text(response)
    )

    response = web.get(f"/files/folders/{docs.pk}/")
    assert names_in(response) == ["inner.txt"]
    page = text(response)
    assert 'href="/"' in page and ">Docs</h1>" in page
    # The home folder's own id redirects to "/".
    assert web.get(f"/files/folders/{tree.home_of(docs.owner).pk}/")["Location"] == "/"


def test_sort_links_and_orders(web: Client, upload: Any) -> None:
    upload("small.txt", b"1")
    upload("large.txt", b"1" * 100)
    upload("medium.txt", b"1" * 10)
    assert names_in(web.get("/?sort=size&order=desc")) == ["large.txt", "medium.txt", "small.txt"]
    assert names_in(web.get("/?sort=name")) == ["large.txt", "medium.txt", "small.txt"]
    page = text(web.get("/?sort=size&order=asc"))
    # The active column says so, and its link flips the order.
    assert 'aria-sort="ascending"' in page
    assert "sort=size&amp;order=desc" in page


def test_an_empty_folder_says_how_to_add_files(web: Client) -> None:
    page = text(web.get("/"))
    assert "This folder is empty" in page
    assert "Drag files or whole folders here, or use <strong>Upload</strong>" in page


def test_a_big_folder_renders_one_page_and_links_to_the_next(web: Client, alice: Any) -> None:
    folder = services.folder_create(owner=alice, parent=tree.home_of(alice), name="Big")
    content = received(b"same")
    for n in range(130):
        services.file_upload(owner=alice, parent=folder, name=f"f{n:03d}.txt", received=content)
    first = web.get(f"/files/folders/{folder.pk}/")
    assert names_in(first)[:2] == ["f000.txt", "f001.txt"]
    assert len(names_in(first)) == 100
    link = re.search(r'href="(\?[^"]*cursor=[^"]*)" id="load-more-link"', text(first))
    assert link is not None
    second = web.get(f"/files/folders/{folder.pk}/" + link.group(1).replace("&amp;", "&"))
    assert names_in(second) == [f"f{n:03d}.txt" for n in range(100, 130)]
    assert "Back to the first page" in text(second)
    assert 'id="load-more-link"' not in text(second)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=colour", "sort: Select a valid choice"),
        ("order=sideways", "order: Select a valid choice"),
        ("view=carousel", "view: Select a valid choice"),
        ("cursor=not-a-cursor", "The cursor is not valid; start again without it."),
    ],
)
def test_a_bad_listing_query_is_a_400_with_a_message(web: Client, query: str, message: str) -> None:
    response = web.get(f"/?{query}")
    assert response.status_code == 400
    assert message in text(response)


def test_the_view_choice_is_remembered(web: Client, upload: Any) -> None:
    upload("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    response = web.get("/?view=grid")
    assert response.cookies["fileflow-view"].value == "grid"
    assert 'class="listing grid"' in text(response)
    assert "/thumbnail/?size=256" in text(response)
    assert 'class="listing grid"' in text(web.get("/"))


def test_names_are_escaped(web: Client, upload: Any) -> None:
    upload("<img src=x onerror=alert(1)>.html", b"<script>alert(1)</script>")
    page = text(web.get("/"))
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;.html" in page


# --- folders and uploads without script -------------------------------------------------------


def test_new_folder(web: Client, alice: Any, mkdir: Any) -> None:
    docs = mkdir("Docs")
    response = web.post(f"/files/folders/{docs.pk}/new-folder/", {"name": "2026"})
    assert response.status_code == 302
    assert response["Location"] == f"/files/folders/{docs.pk}/"
    assert selectors.node_at_path(alice, "/Docs/2026").is_folder
    assert "Folder “2026” created." in text(web.get(response["Location"]))


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("Docs", 409, "A folder named “Docs” already exists in “Your files”."),
        ("a/b", 400, "A name cannot contain &#x27;/&#x27;."),
        ("..", 400, "A name cannot be &#x27;.&#x27; or &#x27;..&#x27;."),
        ("", 400, "This field is required."),
        ("x" * 300, 400, "A name can be at most 255 characters; this one has 300."),
    ],
)
def test_new_folder_refused_next_to_the_field(
    web: Client, alice: Any, mkdir: Any, name: str, status: int, message: str
) -> None:
    mkdir("Docs")
    home = tree.home_of(alice)
    response = web.post(f"/files/folders/{home.pk}/new-folder/", {"name": name})
    assert response.status_code == status
    page = text(response)
    assert message in page
    # The form is open and the error sits under the name field.
    assert '<details class="popover" id="new-folder" open>' in page
    assert 'class="field has-error"' in page


def _upload_files(*files: tuple[str, bytes]) -> list[SimpleUploadedFile]:
    return [SimpleUploadedFile(name, content) for name, content in files]


def test_plain_upload_of_several_files(web: Client, alice: Any, mkdir: Any, settings: Any) -> None:
    docs = mkdir("Docs")
    big = os.urandom(3 * 1024 * 1024)  # over Django's in-memory limit: streamed to disk
    response = web.post(
        f"/files/folders/{docs.pk}/upload/",
        {"file": _upload_files(("a.txt", b"alpha"), ("big.bin", big)), "on_conflict": "rename"},
    )
    assert response.status_code == 302
    a = selectors.node_at_path(alice, "/Docs/a.txt")
    stored = selectors.node_at_path(alice, "/Docs/big.bin")
    assert stored.size == len(big)
    assert stored.blob is not None
    assert stored.blob.sha256 == hashlib.sha256(big).hexdigest()
    assert a.mime_type == "text/plain"
    assert "Uploaded 2 files to Docs." in text(web.get(response["Location"]))
    # Nothing is left behind in the upload temp dir.
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.parametrize(
    ("choice", "expected_names", "content", "versions"),
    [
        ("rename", ["a (1).txt", "a.txt"], b"old", 0),
        ("replace", ["a.txt"], b"new", 1),
        ("skip", ["a.txt"], b"old", 0),
    ],
)
def test_plain_upload_conflict_choices(
    web: Client,
    alice: Any,
    upload: Any,
    choice: str,
    expected_names: list[str],
    content: bytes,
    versions: int,
) -> None:
    existing = upload("a.txt", b"old")
    home = tree.home_of(alice)
    response = web.post(
        f"/files/folders/{home.pk}/upload/",
        {"file": _upload_files(("a.txt", b"new")), "on_conflict": choice},
        follow=True,
    )
    assert response.status_code == 200
    assert sorted(
        Node.objects.filter(owner=alice, is_folder=False).values_list("name", flat=True)
    ) == (expected_names)
    existing.refresh_from_db()
    assert existing.size == len(content)
    assert FileVersion.objects.filter(node=existing).count() == versions
    if choice == "skip":
        assert "Skipped because a file with the same name exists: “a.txt”." in text(response)


def test_plain_upload_checks_csrf(alice: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    home = tree.home_of(alice)
    url = f"/files/folders/{home.pk}/upload/"
    refused = client.post(url, {"file": _upload_files(("a.txt", b"a"))})
    assert refused.status_code == 403
    assert not Node.objects.filter(name="a.txt").exists()

    client.get("/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(
        url, {"file": _upload_files(("a.txt", b"a")), "csrfmiddlewaretoken": token}
    )
    assert accepted.status_code == 302
    assert Node.objects.filter(name="a.txt").exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"on_conflict": "rename"}, "Choose one or more files first."),
        ({"on_conflict": "explode", "file": "x"}, "Select a valid choice."),
    ],
)
def test_plain_upload_bad_input(
    web: Client, alice: Any, data: dict, message: str, settings: Any
) -> None:
    home = tree.home_of(alice)
    if "file" in data:
        data["file"] = _upload_files(("a.txt", b"a"), ("b.txt", b"b"))
    response = web.post(f"/files/folders/{home.pk}/upload/", data)
    assert response.status_code == 400
    assert message in text(response)
    assert '<details class="popover" id="upload-popover" open>' in text(response)
    assert not Node.objects.filter(name="a.txt").exists()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []  # every file's, not the last one's


def test_plain_upload_over_quota_is_refused_with_a_message(
    web: Client, alice: Any, settings: Any
) -> None:
    alice.quota_bytes = 1000
    alice.save()
    home = tree.home_of(alice)
    response = web.post(
        f"/files/folders/{home.pk}/upload/", {"file": _upload_files(("big.bin", b"x" * 5000))}
    )
    assert response.status_code == 413
    assert "Not enough space" in text(response)
    assert not Node.objects.filter(name="big.bin").exists()
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


def test_plain_upload_over_the_size_limit(web: Client, alice: Any, settings: Any) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 100
    home = tree.home_of(alice)
    response = web.post(
        f"/files/folders/{home.pk}/upload/", {"file": _upload_files(("big.bin", b"x" * 200_000))}
    )
    assert response.status_code == 413
    assert "the largest upload this server accepts is 100" in text(response)
    assert not Node.objects.filter(name="big.bin").exists()


# --- one item --------------------------------------------------------------------------------


def test_the_detail_page_shows_the_facts(web: Client, alice: Any, upload: Any) -> None:
    upload("essay.txt", b"v1")
    node = upload("essay.txt", b"version two", on_conflict="replace")
    services.node_set_tags(node=node, names=["school"])
    page = text(web.get(f"/files/items/{node.pk}/"))
    assert node.blob is not None
    for fact in ["/essay.txt", "text/plain", "11 bytes", node.blob.sha256, "school", "Versions"]:
        assert fact in page
    assert page.count("/versions/") >= 3  # download, restore, delete of the one version


def test_rename(web: Client, alice: Any, upload: Any) -> None:
    node = upload("old.txt")
    upload("taken.txt")
    response = web.post(f"/files/items/{node.pk}/rename/", {"name": "taken.txt"})
    assert response.status_code == 409
    assert "A file named “taken.txt” already exists in “Your files”." in text(response)
    response = web.post(f"/files/items/{node.pk}/rename/", {"name": "bad\tname"})
    assert response.status_code == 400
    assert "control characters" in text(response)
    response = web.post(f"/files/items/{node.pk}/rename/", {"name": "new.txt", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    node.refresh_from_db()
    assert node.name == "new.txt"
    # An outside "next" is ignored.
    response = web.post(
        f"/files/items/{node.pk}/rename/", {"name": "n.txt", "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/files/items/{node.pk}/"


def test_move_picker_and_move(web: Client, alice: Any, upload: Any, mkdir: Any) -> None:
    archive = mkdir("Archive")
    inner = mkdir("Archive/2025")
    node = upload("letter.txt")
    page = text(web.get(f"/files/items/{node.pk}/move/?to={archive.pk}"))
    assert ">2025</a>" in page
    assert "Move into “Archive”" in page
    response = web.post(f"/files/items/{node.pk}/move/", {"parent": inner.pk})
    assert response.status_code == 302
    assert response["Location"] == f"/files/folders/{inner.pk}/"
    assert selectors.node_at_path(alice, "/Archive/2025/letter.txt").pk == node.pk


def test_a_folder_cannot_move_into_itself(web: Client, mkdir: Any) -> None:
    archive = mkdir("Archive")
    inner = mkdir("Archive/2025")
    response = web.post(f"/files/items/{archive.pk}/move/", {"parent": inner.pk})
    assert response.status_code == 400
    assert "cannot be moved into itself or one of its own subfolders" in text(response)
    page = text(web.get(f"/files/items/{archive.pk}/move/?to={inner.pk}"))
    assert "disabled" in page and "cannot go into itself" in page


def test_move_bad_input(web: Client, upload: Any) -> None:
    node = upload("a.txt")
    assert web.post(f"/files/items/{node.pk}/move/", {}).status_code == 400
    assert web.post(f"/files/items/{node.pk}/move/", {"parent": "abc"}).status_code == 400
    response = web.post(f"/files/items/{node.pk}/move/", {"parent": node.pk})
    assert response.status_code == 400
    assert "is a file, not a folder" in text(response)


def test_copy(web: Client, alice: Any, upload: Any, mkdir: Any) -> None:
    backup = mkdir("Backup")
    node = upload("a.txt", b"abc")
    response = web.post(f"/files/items/{node.pk}/copy/", {"parent": backup.pk})
    assert response.status_code == 302
    assert selectors.node_at_path(alice, "/Backup/a.txt").size == 3
    assert selectors.node_at_path(alice, "/a.txt").pk == node.pk


def test_trash_restore_and_delete_forever(web: Client, alice: Any, upload: Any, mkdir: Any) -> None:
    docs = mkdir("Docs")
    node = upload("a.txt", parent=docs)
    response = web.post(f"/files/items/{node.pk}/trash/")
    assert response["Location"] == f"/files/folders/{docs.pk}/"
    node.refresh_from_db()
    assert node.trashed_at is not None
    # In the trash it cannot be renamed or moved, only restored.
    assert web.post(f"/files/items/{node.pk}/rename/", {"name": "b"}).status_code == 404
    trash = text(web.get("/files/trash/"))
    assert "a.txt" in trash and "/Docs" in trash

    response = web.post("/files/trash/act/", {"restore": node.pk})
    assert response["Location"] == "/files/trash/"
    node.refresh_from_db()
    assert node.trashed_at is None

    services.node_trash(node=node)
    other = upload("b.txt")
    services.node_trash(node=other)
    response = web.post("/files/trash/act/", {"action": "delete", "ids": [node.pk, other.pk]})
    assert "2 items deleted for good" in text(web.get(response["Location"]))
    assert not Node.objects.filter(pk__in=[node.pk, other.pk]).exists()


def test_trash_says_where_items_came_from_in_the_pages_words(
    web: Client, upload: Any, mkdir: Any
) -> None:
    services.node_trash(node=upload("top.txt"))
    services.node_trash(node=upload("deep.txt", parent=mkdir("Docs")))
    page = text(web.get("/files/trash/"))
    froms = re.findall(r'<td class="mono from">([^<]*)</td>', page)
    assert sorted(froms) == ["Your files", "Your files/Docs"]
    # Moments are <time> in UTC for the browser to show in its zone, readable without script.
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\dZ">\d+ \w{3} \d{4}, \d\d:\d\d UTC</time>', page
    )


def test_empty_trash_grammar_follows_the_count(web: Client, upload: Any, mkdir: Any) -> None:
    services.node_trash(node=mkdir("Old"))
    assert "1 item in the trash will be deleted for good, with everything inside it." in text(
        web.get("/files/trash/empty/")
    )
    services.node_trash(node=upload("a.txt"))
    assert "2 items in the trash will be deleted for good, with everything inside them." in text(
        web.get("/files/trash/empty/")
    )


def test_trash_page_states_the_retention(web: Client, settings: Any) -> None:
    settings.FILEFLOW_TRASH_DAYS = 9
    assert "deleted for good after <strong>9 days</strong>" in text(web.get("/files/trash/"))
    assert "The trash is empty" in text(web.get("/files/trash/"))


def test_empty_trash_asks_first(web: Client, alice: Any, upload: Any) -> None:
    services.node_trash(node=upload("a.txt"))
    services.node_trash(node=upload("b.txt"))
    page = text(web.get("/files/trash/empty/"))
    assert "2 items in the trash will be deleted for good" in page
    assert Node.objects.filter(owner=alice, is_trash_root=True).count() == 2
    response = web.post("/files/trash/empty/")
    assert "Trash emptied: 2 items deleted for good" in text(web.get(response["Location"]))
    assert not Node.objects.filter(owner=alice, is_trash_root=True).exists()


def test_trash_actions_bad_input(web: Client, upload: Any) -> None:
    node = upload("alive.txt")
    assert web.post("/files/trash/act/", {"action": "explode", "ids": [1]}).status_code == 400
    response = web.post("/files/trash/act/", {"action": "restore", "ids": ["x"]}, follow=True)
    assert "The selection is not valid" in text(response)
    response = web.post("/files/trash/act/", {"action": "restore"}, follow=True)
    assert "Select at least one item first." in text(response)
    response = web.post("/files/trash/act/", {"restore": node.pk})
    assert response.status_code == 400
    assert "Only items in the trash can be restored." in text(response)


def test_favourite_and_tags(web: Client, alice: Any, upload: Any) -> None:
    node = upload("invoice.pdf", b"%PDF-1.4")
    upload("other.txt")
    web.post(f"/files/items/{node.pk}/favorite/", {"favorite": "1"})
    web.post(f"/files/items/{node.pk}/tags/", {"tags": "invoices, 2026 ,"})
    node.refresh_from_db()
    assert node.is_favorite
    assert sorted(t.name for t in node.tags.all()) == ["2026", "invoices"]
    assert names_in(web.get("/files/favourites/")) == ["invoice.pdf"]
    assert names_in(web.get("/?tag=INVOICES")) == ["invoice.pdf"]
    assert "Nothing here is tagged “nope”" in text(web.get("/?tag=nope"))
    tag = node.tags.get(name="invoices")
    assert names_in(web.get(f"/files/tags/{tag.pk}/")) == ["invoice.pdf"]
    assert "1 item" in text(web.get("/files/tags/"))

    assert web.post(f"/files/items/{node.pk}/favorite/", {"favorite": "maybe"}).status_code == 400
    response = web.post(f"/files/items/{node.pk}/tags/", {"tags": "x" * 70})
    assert response.status_code == 400
    assert "A tag can be at most 64 characters" in text(response)


def test_versions_restore_and_delete(web: Client, alice: Any, upload: Any) -> None:
    upload("a.txt", b"one")
    node = upload("a.txt", b"two!", on_conflict="replace")
    version = FileVersion.objects.get(node=node)
    response = web.post(f"/files/items/{node.pk}/versions/{version.pk}/restore/")
    assert response.status_code == 302
    node.refresh_from_db()
    assert node.size == 3
    newest = FileVersion.objects.filter(node=node).first()
    assert newest is not None
    response = web.post(f"/files/items/{node.pk}/versions/{newest.pk}/delete/")
    assert response.status_code == 302
    assert FileVersion.objects.filter(node=node).count() == 1
    assert web.post(f"/files/items/{node.pk}/versions/999999/delete/").status_code == 404


def test_download_is_an_attachment(web: Client, upload: Any, mkdir: Any) -> None:
    node = upload("<img src=x onerror=alert(1)>.html", b"<script>alert(1)</script>")
    response = web.get(f"/files/items/{node.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"
    folder = mkdir("Docs")
    upload("d.txt", parent=folder)
    response = web.get(f"/files/items/{folder.pk}/download/")
    assert response["Content-Type"] == "application/zip"
    assert 'filename="Docs.zip"' in response["Content-Disposition"]


def test_selection_without_script(web: Client, alice: Any, upload: Any) -> None:
    a, b = upload("a.txt"), upload("b.txt")
    response = web.post("/files/selection/", {"ids": [a.pk, b.pk], "action": "download"})
    assert response.status_code == 302
    assert response["Location"] == f"/api/v1/nodes/zip/?ids={a.pk}%2C{b.pk}"
    response = web.post("/files/selection/", {"ids": [a.pk, b.pk], "action": "trash", "next": "/"})
    assert response["Location"] == "/"
    assert Node.objects.filter(pk__in=[a.pk, b.pk], trashed_at__isnull=False).count() == 2
    assert web.post("/files/selection/", {"action": "trash"}).status_code == 400
    assert web.post("/files/selection/", {"ids": [a.pk], "action": "x"}).status_code == 400


def test_only_post_changes_things(web: Client, upload: Any) -> None:
    node = upload("a.txt")
    for url in [
        f"/files/items/{node.pk}/rename/",
        f"/files/items/{node.pk}/trash/",
        "/files/trash/act/",
        "/files/selection/",
    ]:
        assert web.get(url).status_code == 405
    node.refresh_from_db()
    assert node.trashed_at is None


# --- another user's things: 404 everywhere, nothing changes -------------------------------------


@pytest.fixture
def alices_things(alice: Any, upload: Any, mkdir: Any) -> dict[str, Any]:
    folder = mkdir("private")
    file = upload("secret.txt", b"v1", parent=folder)
    upload("secret.txt", b"v2", parent=folder, on_conflict="replace")
    trashed = upload("old.txt")
    services.node_trash(node=trashed)
    tag = services.node_set_tags(node=file, names=["secret"]).tags.get()
    return {
        "folder": folder,
        "file": file,
        "trashed": trashed,
        "version": FileVersion.objects.get(node=file),
        "tag": tag,
        "home": tree.home_of(alice),
    }


def web_endpoints(t: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    f, d, x, v, g, h = (t[k].pk for k in ("file", "folder", "trashed", "version", "tag", "home"))
    return [
        ("get", f"/files/folders/{d}/", {}),
        ("get", f"/files/folders/{h}/", {}),
        ("post", f"/files/folders/{d}/new-folder/", {"name": "x"}),
        ("post", f"/files/folders/{d}/upload/", {"file": _upload_files(("x.txt", b"x"))}),
        ("get", f"/files/items/{f}/", {}),
        ("get", f"/files/items/{x}/", {}),
        ("get", f"/files/items/{f}/download/", {}),
        ("get", f"/files/items/{d}/download/", {}),
        ("post", f"/files/items/{f}/rename/", {"name": "mine.txt"}),
        ("get", f"/files/items/{f}/move/", {}),
        ("post", f"/files/items/{f}/move/", {"parent": "MALLORY_HOME"}),
        ("post", f"/files/items/{f}/copy/", {"parent": "MALLORY_HOME"}),
        ("post", f"/files/items/{f}/trash/", {}),
        ("post", f"/files/items/{f}/favorite/", {"favorite": "1"}),
        ("post", f"/files/items/{f}/tags/", {"tags": "mine"}),
        ("post", f"/files/items/{f}/versions/{v}/restore/", {}),
        ("post", f"/files/items/{f}/versions/{v}/delete/", {}),
        ("post", "/files/selection/", {"ids": [f], "action": "trash"}),
        ("get", f"/files/tags/{g}/", {}),
        ("post", "/files/trash/act/", {"restore": x}),
        ("post", "/files/trash/act/", {"action": "delete", "ids": [x]}),
    ]


def snapshot(alice: Any) -> Any:
    return sorted(
        Node.objects.filter(owner=alice).values_list(
            "id", "name", "parent_id", "trashed_at", "is_favorite", "size", "path"
        )
    ), FileVersion.objects.filter(node__owner=alice).count()


def test_mallory_gets_404_in_every_web_view_and_changes_nothing(
    alice: Any, alices_things: dict[str, Any], mallory: Any
) -> None:
    before = snapshot(alice)
    client = Client()
    client.force_login(mallory)
    mallory_home = tree.home_of(mallory).pk
    for method, url, data in web_endpoints(alices_things):
        data = {k: (mallory_home if v == "MALLORY_HOME" else v) for k, v in data.items()}
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert "secret" not in text(response) if hasattr(response, "content") else True
    # Mallory's own folder cannot receive alice's file either.
    f = alices_things["file"].pk
    assert client.post(f"/files/items/{f}/move/", {"parent": mallory_home}).status_code == 404
    assert snapshot(alice) == before


def test_alice_cannot_target_mallorys_folder(
    web: Client, alice: Any, alices_things: dict[str, Any], mallory: Any
) -> None:
    theirs = services.folder_create(owner=mallory, parent=tree.home_of(mallory), name="theirs")
    f = alices_things["file"].pk
    assert web.post(f"/files/items/{f}/move/", {"parent": theirs.pk}).status_code == 404
    assert web.post(f"/files/items/{f}/copy/", {"parent": theirs.pk}).status_code == 404
    assert not Node.objects.filter(parent=theirs).exists()


def test_listings_show_only_the_callers_things(
    alice: Any, alices_things: dict[str, Any], mallory: Any
) -> None:
    services.node_set_favorite(node=alices_things["file"], is_favorite=True)
    theirs = services.folder_create(owner=mallory, parent=tree.home_of(mallory), name="theirs")
    client = Client()
    client.force_login(mallory)
    expected_visible = {"theirs"}
    expected_hidden = {"private", "secret.txt", "old.txt"}
    for url in ["/", "/files/favourites/", "/files/trash/", "/files/tags/"]:
        page = text(client.get(url))
        assert not any(name in page for name in expected_hidden), url
    assert set(names_in(client.get("/"))) == expected_visible
    assert theirs.pk


def test_a_folder_page_costs_the_same_queries_however_many_rows_it_shows(
    web: Client, alice: Any, upload: Any, mkdir: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(folder: Node) -> int:
        web.get(f"/files/folders/{folder.pk}/")  # warm: session, caches
        with CaptureQueriesContext(connection) as captured:
            assert web.get(f"/files/folders/{folder.pk}/").status_code == 200
        return len(captured)

    few, many = mkdir("/few/deep"), mkdir("/many/deep")
    for folder, count in ((few, 2), (many, 60)):
        for n in range(count):
            node = upload(f"f{n}.txt", b"x", parent=folder)
            services.node_set_tags(node=node, names=["a", "b"])
        mkdir(f"{tree.path_of(folder)}/sub")
    assert queries_for(many) == queries_for(few)
