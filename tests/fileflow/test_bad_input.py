"""Whatever a query string or form holds, the answer is a 4xx that says what was wrong, never
a 500: the pages and API endpoints that read numbers, dates, ids and choices from the caller."""

from __future__ import annotations

import io
from typing import Any

import pytest

from files import services
from sharing import services as sharing_services

pytestmark = pytest.mark.django_db

BAD = [
    "",
    "x",
    "-1",
    "1e400",
    "99999999999999999999999",
    "\x00",
    "%00",
    "[]",
    "null",
    "2026-13-45",
    "../..",
    "a" * 3000,
]


def _named(name: str) -> io.BytesIO:
    part = io.BytesIO(b"x")
    part.name = name or "n"
    return part


@pytest.mark.parametrize("bad", BAD)
def test_bad_values_get_a_4xx_not_a_500(alice_api: Any, alice: Any, bad: str) -> None:
    folder = services.folder_ensure_path(owner=alice, path="/F")
    link, _ = sharing_services.share_create(owner=alice, node=folder)
    search = "&".join(
        f"{name}={bad}"
        for name in [
            "q",
            "type",
            "size_min",
            "size_max",
            "size_min_unit",
            "modified_after",
            "created_before",
            "tag",
            "in",
            "trash",
            "ordering",
            "favorite",
            "page",
        ]
    )
    pages = [
        f"/search/?{search}",
        f"/api/v1/search/?q={bad}&in={bad}&ordering={bad}&limit={bad}&offset={bad}",
        f"/shares/?state={bad}&node={bad}&page={bad}",
        f"/shares/{link.pk}/?page={bad}",
        f"/api/v1/shares/?state={bad}&node={bad}&limit={bad}",
        f"/files/folders/{folder.pk}/?sort={bad}&order={bad}&cursor={bad}&view={bad}&tag={bad}",
        f"/api/v1/nodes/?parent={bad}&sort={bad}&cursor={bad}&limit={bad}",
        f"/files/favourites/?page={bad}",
        f"/files/trash/?page={bad}",
    ]
    for url in pages:
        response = alice_api.get(url)
        assert response.status_code < 500, (url, response.status_code)
    posts = [
        ("/api/v1/nodes/upload-many/", {"file": [_named(bad)], "parent": bad, "on_conflict": bad}),
        ("/api/v1/nodes/upload-many/", {"file": [_named(bad)], "parent": folder.pk}),
    ]
    for url, data in posts:
        response = alice_api.post(url, data, format="multipart")
        assert response.status_code < 500, (url, response.content)
    bodies = [
        ("/api/v1/shares/", {"node": bad, "permission": bad, "expires_at": bad, "password": bad}),
        ("/api/v1/shares/", {"node": folder.pk, "expires_in_days": bad, "max_access_count": bad}),
        ("/api/v1/search-profiles/", {"name": bad, "query": bad, "types": [bad], "scope": bad}),
    ]
    for url, body in bodies:
        response = alice_api.post(url, body, format="json")
        assert response.status_code < 500, (url, response.content)
    change = {"expires_in_days": bad, "max_access_count": bad, "permission": bad}
    response = alice_api.patch(f"/api/v1/shares/{link.pk}/", change, format="json")
    assert response.status_code < 500, response.content


@pytest.mark.parametrize("url", ["/files/trash/", "/files/favourites/", "/search/?q=a"])
def test_a_page_number_past_any_listing_is_refused_saying_so(alice_api: Any, url: str) -> None:
    joiner = "&" if "?" in url else "?"
    response = alice_api.get(f"{url}{joiner}page=99999999999999999999999")
    assert response.status_code == 400
    assert "must be a whole number from 1 to" in response.content.decode()


@pytest.mark.parametrize("value", [str(2**63), str(2**64 + 5), "1001", "-1", "x", "1.5"])
@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_every_api_listing_refuses_a_limit_or_offset_out_of_range(
    alice_api: Any, alice: Any, parameter: str, value: str
) -> None:
    folder = services.folder_ensure_path(owner=alice, path="/F")
    link, _ = sharing_services.share_create(owner=alice, node=folder)
    if parameter == "offset" and value == "1001":
        value = str(10**9 + 1)
    listings = [
        "/api/v1/search-profiles/",
        "/api/v1/shares/",
        f"/api/v1/shares/{link.pk}/accesses/",
        "/api/v1/trash/",
    ]
    for url in listings:
        response = alice_api.get(f"{url}?{parameter}={value}")
        assert response.status_code == 400, (url, response.status_code, response.content[:200])
        body = response.json()
        assert body["field"] == parameter, url
        assert body["detail"].startswith(f"{parameter} must be"), (url, body)


def test_api_listings_page_with_limit_and_offset(alice_api: Any, alice: Any) -> None:
    for name in ("a", "b", "c"):
        services.node_trash(node=services.folder_ensure_path(owner=alice, path=f"/{name}"))
    first = alice_api.get("/api/v1/trash/?limit=2").json()
    assert first["count"] == 3 and len(first["results"]) == 2
    assert first["previous"] is None and "offset=2" in first["next"]
    rest = alice_api.get(first["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    seen = {entry["name"] for entry in first["results"] + rest["results"]}
    assert seen == {"a", "b", "c"}


CURSORS = [*BAD, "1" * 30, str(2**63), "100", "0", "eyJzIjoibmFtZSJ9:bad:sig"]


@pytest.mark.parametrize("cursor", CURSORS)
def test_every_cursor_parameter_refuses_a_bad_cursor_with_a_400(
    alice_api: Any, alice: Any, cursor: str
) -> None:
    """Every listing that pages with a cursor: the folder page (with and without a tag
    filter, home and a folder), the API listing and a shared folder's page."""
    folder = services.folder_ensure_path(owner=alice, path="/F")
    services.node_set_tags(node=folder, names=["t"])
    services.node_set_tags(node=services.folder_ensure_path(owner=alice, path="/G"), names=["t"])
    _, token = sharing_services.share_create(owner=alice, node=folder)
    urls = [
        "/?cursor={}",
        "/?tag=t&cursor={}",
        f"/files/folders/{folder.pk}/?cursor={{}}",
        f"/files/folders/{folder.pk}/?tag=t&sort=size&cursor={{}}",
        "/api/v1/nodes/?cursor={}",
        f"/s/{token}/?cursor={{}}",
    ]
    for url in urls:
        response = alice_api.get(url.format(cursor))
        if cursor == "":
            assert response.status_code == 200, url  # no cursor: the first page
        else:
            assert response.status_code == 400, (url, response.status_code)
            assert "cursor" in response.content.decode().lower(), url


def test_the_tag_filtered_folder_page_pages_with_the_keyset_cursor(
    alice_api: Any, alice: Any, monkeypatch: Any
) -> None:
    from files.views import browser

    folder = services.folder_ensure_path(owner=alice, path="/F")
    for name in ("a", "b", "c", "d", "e"):
        node = services.folder_ensure_path(owner=alice, path=f"/F/{name}")
        services.node_set_tags(node=node, names=["t"] if name != "c" else ["other"])
    seen: list[str] = []
    url = f"/files/folders/{folder.pk}/?tag=t"
    monkeypatch.setattr(browser, "PAGE_SIZE", 2)
    while url:
        response = alice_api.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        seen += [n for n in "abcde" if f'data-name="{n}"' in html]
        next_url = response.context["next_url"]
        url = f"/files/folders/{folder.pk}/{next_url}" if next_url else ""
    assert seen == ["a", "b", "d", "e"]
