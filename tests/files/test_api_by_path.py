"""Downloads by path, as scripts that upload with `curl -T` fetch their files back:
`GET /api/v1/files/content/<path>` and `GET /api/v1/files/content/?path=<path>` answer what
`GET /api/v1/nodes/<id>/content/` answers for the item at that path."""

from __future__ import annotations

import io
import zipfile
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from files import services, tree
from sharing.people import person_share_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/files/content/"
REPORT = b"%PDF-1.4 the quarterly report"


@pytest.fixture
def report(upload: Any, mkdir: Any) -> Any:
    return upload("report.pdf", REPORT, parent=mkdir("/Documents"))


def _entries(response: Any) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    return {i.filename: archive.read(i) for i in archive.infolist() if not i.is_dir()}


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("url", [URL + "Documents/report.pdf", URL + "?path=/Documents/report.pdf"])
def test_a_file_downloads_by_its_path_as_by_its_id(alice_api: Any, report: Any, url: str) -> None:
    by_path = alice_api.get(url)
    by_id = alice_api.get(f"/api/v1/nodes/{report.pk}/content/")
    assert by_path.status_code == 200
    assert _body(by_path) == REPORT == _body(by_id)
    for header in ("Content-Type", "Content-Length", "ETag", "Last-Modified"):
        assert by_path[header] == by_id[header], header
    assert by_path["Content-Disposition"] == 'attachment; filename="report.pdf"'


def test_the_query_path_wins_over_the_url_path(alice_api: Any, report: Any, upload: Any) -> None:
    upload("report.pdf", b"the one at the top")
    # curl -O ".../files/content/?path=/Documents/report.pdf" may be sent with a file name
    # appended; an explicit path is what was asked for.
    response = alice_api.get(URL + "report.pdf?path=/Documents/report.pdf")
    assert _body(response) == REPORT


def test_names_with_spaces_and_accents_as_curl_encodes_them(
    alice_api: Any, alice: Any, upload: Any
) -> None:
    folder = services.folder_ensure_path(owner=alice, path="/My Documents/Été")
    upload("résumé final.txt", b"cv", parent=folder)
    in_url = alice_api.get(URL + quote("My Documents/Été/résumé final.txt"))
    assert in_url.status_code == 200 and _body(in_url) == b"cv"
    assert "r%C3%A9sum%C3%A9%20final.txt" in in_url["Content-Disposition"]
    in_query = alice_api.get(URL, {"path": "/My Documents/Été/résumé final.txt"})
    assert _body(in_query) == b"cv"


def test_a_range_gets_206_with_those_bytes(alice_api: Any, report: Any) -> None:
    response = alice_api.get(URL + "Documents/report.pdf", HTTP_RANGE="bytes=4-11")
    assert response.status_code == 206
    assert _body(response) == REPORT[4:12]
    assert response["Content-Range"] == f"bytes 4-11/{len(REPORT)}"
    assert response["Content-Length"] == "8"


def test_a_range_past_the_end_is_416_with_the_size(alice_api: Any, report: Any) -> None:
    response = alice_api.get(URL + "Documents/report.pdf", HTTP_RANGE="bytes=5000-")
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(REPORT)}"


def test_head_describes_the_file_without_its_bytes(alice_api: Any, report: Any) -> None:
    response = alice_api.head(URL + "Documents/report.pdf")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(REPORT))
    assert response["ETag"] == f'"{report.blob.sha256}"'
    assert _body(response) == b""


def test_a_client_that_has_it_gets_304(alice_api: Any, report: Any) -> None:
    response = alice_api.get(
        URL + "Documents/report.pdf", HTTP_IF_NONE_MATCH=f'"{report.blob.sha256}"'
    )
    assert response.status_code == 304
    assert _body(response) == b""


def test_inline_previews_where_it_is_safe(alice_api: Any, upload: Any) -> None:
    upload("notes.txt", b"plain words")
    assert alice_api.get(URL + "notes.txt")["Content-Disposition"].startswith("attachment")
    shown = alice_api.get(URL + "notes.txt?inline=1")
    assert shown["Content-Disposition"].startswith("inline")
    assert shown["X-Content-Type-Options"] == "nosniff"


def test_a_folder_downloads_as_a_zip(alice_api: Any, report: Any, upload: Any) -> None:
    sub = services.folder_ensure_path(owner=report.owner, path="/Documents/Old")
    upload("2025.txt", b"old", parent=sub)
    response = alice_api.get(URL + "Documents/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="Documents.zip"' in response["Content-Disposition"]
    assert _entries(response) == {"Documents/report.pdf": REPORT, "Documents/Old/2025.txt": b"old"}


def test_the_root_path_is_the_home_folder_as_the_id_route_gives_it(
    alice_api: Any, alice: Any, report: Any
) -> None:
    by_path = alice_api.get(URL, {"path": "/"})
    by_id = alice_api.get(f"/api/v1/nodes/{tree.home_of(alice).pk}/content/")
    assert by_path["Content-Disposition"] == by_id["Content-Disposition"]
    assert _entries(by_path) == _entries(by_id) == {"Home/Documents/report.pdf": REPORT}


@pytest.mark.parametrize("url", [URL, URL + "?path="])
def test_no_path_at_all_is_a_400_saying_how(alice_api: Any, url: str) -> None:
    response = alice_api.get(url)
    assert response.status_code == 400
    assert response.json()["field"] == "path"
    assert "Give the path of a file or folder" in response.json()["detail"]


def test_a_path_with_a_bad_name_in_it_is_a_400(alice_api: Any, report: Any) -> None:
    response = alice_api.get(URL, {"path": "/Documents/../report.pdf"})
    assert response.status_code == 400
    assert response.json()["detail"] == "A name cannot be '.' or '..'."


@pytest.mark.parametrize(
    ("path", "missing"),
    [("/Documents/nope.pdf", "“nope.pdf”"), ("/Nowhere/report.pdf", "“Nowhere”")],
)
def test_a_missing_path_is_a_404_naming_the_missing_part(
    alice_api: Any, report: Any, path: str, missing: str
) -> None:
    response = alice_api.get(URL, {"path": path})
    assert response.status_code == 404
    assert response.json()["detail"] == f"Nothing at {path!r}: {missing} does not exist."
    assert response.json()["field"] == "path"


def test_items_in_the_trash_are_not_found_by_path(alice_api: Any, alice: Any, upload: Any) -> None:
    gone = upload("gone.txt", b"x")
    folder = services.folder_ensure_path(owner=alice, path="/Binned")
    upload("inside.txt", b"y", parent=folder)
    services.node_trash(node=gone, actor=alice)
    services.node_trash(node=folder, actor=alice)
    for path in ("/gone.txt", "/Binned/inside.txt", "/Binned"):
        assert alice_api.get(URL, {"path": path}).status_code == 404, path
    # By id its owner still reads it (files.selectors.node_get): the path names live items.
    assert alice_api.get(f"/api/v1/nodes/{gone.pk}/content/").status_code == 200


def test_someone_elses_path_is_a_404_like_one_that_does_not_exist(
    alice_api: Any, mallory: Any, upload: Any
) -> None:
    secret = services.folder_ensure_path(owner=mallory, path="/Secret")
    upload("plan.txt", b"mallory's", parent=secret, owner=mallory)
    theirs = alice_api.get(URL + "Secret/plan.txt")
    services.node_trash(node=secret, actor=mallory)
    nowhere = alice_api.get(URL + "Secret/plan.txt")
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json()


def test_a_file_in_a_folder_shared_with_me_downloads_by_its_path(
    alice_api: Any, alice: Any, mallory: Any, upload: Any
) -> None:
    bob = UserFactory(username="bob", email="bob@example.com")
    team = services.folder_ensure_path(owner=bob, path="/Team")
    plan = upload("plan v2.txt", b"bob's plan", parent=team, owner=bob)
    person_share_create(actor=bob, node=team, user="alice", role="viewer")
    path = "/Shared with me/Team/plan v2.txt"
    response = alice_api.get(URL + quote(path.lstrip("/")))
    assert response.status_code == 200
    assert _body(response) == b"bob's plan"
    assert _body(alice_api.get(URL, {"path": path})) == b"bob's plan"
    assert _entries(alice_api.get(URL, {"path": "/Shared with me/Team"})) == {
        "Team/plan v2.txt": b"bob's plan"
    }
    # Not shared with mallory: the same answer as a path that does not exist.
    other = APIClient()
    other.force_login(mallory)
    assert other.get(URL, {"path": path}).status_code == 404
    # Trashed by its owner: gone for the people it is shared with too.
    services.node_trash(node=plan, actor=bob)
    assert alice_api.get(URL, {"path": path}).status_code == 404


def test_without_credentials_it_is_a_401(api: Any, report: Any) -> None:
    assert api.get(URL + "Documents/report.pdf").status_code == 401
    assert api.get(URL, {"path": "/Documents/report.pdf"}).status_code == 401


def test_a_deep_path_costs_at_most_two_queries_more_than_the_id(
    alice_api: Any, alice: Any, upload: Any, django_assert_max_num_queries: Any
) -> None:
    deep = services.folder_ensure_path(owner=alice, path="/a/b/c/d/e/f/g/h")
    node = upload("deep.txt", b"deep", parent=deep)
    with CaptureQueriesContext(connection) as by_id:
        assert alice_api.get(f"/api/v1/nodes/{node.pk}/content/").status_code == 200
    with django_assert_max_num_queries(len(by_id) + 2):
        response = alice_api.get(URL + "a/b/c/d/e/f/g/h/deep.txt")
    assert _body(response) == b"deep"


def test_the_schema_documents_both_downloads(client: Any) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ids = [op["operationId"] for ops in schema["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    for path, operation_id in [
        ("/api/v1/files/content/", "files_content_get"),
        ("/api/v1/files/content/{url_path}", "files_content_get_at_path"),
    ]:
        get = schema["paths"][path]["get"]
        assert get["operationId"] == operation_id
        assert {"200", "206", "304", "404", "416"} <= set(get["responses"])
        # Upload refusals belong to the PUT next to it, not to a download.
        assert not {"411", "413"} & set(get["responses"])
        assert {"411", "413"} <= set(schema["paths"][path]["put"]["responses"])
