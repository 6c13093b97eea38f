"""The search pages with Django's test client: the results page without JavaScript, its
filters going through the search engine, refusals shown next to their field with a 4xx,
saved searches (save, run, rename, refine, delete) in the sidebar, and alice never seeing
mallory's files or saved searches."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from files import services
from files.models import Node
from search import services as search_services
from search.models import SearchProfile

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


def text(response: Any) -> str:
    return response.content.decode()


def names_in(response: Any) -> list[str]:
    """The item names of the results listing, in order (not the scripts' empty template)."""
    page = text(response).split('<template id="row-template">')[0]
    return re.findall(r'class="name-link" href="[^"]*"[^>]*>([^<]*)</a>', page)


def field_error(response: Any, field: str) -> str:
    """The message shown under a field (the element its input points to), or ""."""
    match = re.search(
        rf'<div class="field-error" id="id_{field}_error" role="alert">(.*?)</div>',
        text(response),
        re.S,
    )
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def sidebar(response: Any) -> str:
    match = re.search(r'<nav class="sidebar".*?</nav>', text(response), re.S)
    assert match, "no sidebar on the page"
    return match.group(0)


# --- the results page -------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    for url in ["/search/", "/search/?q=a", "/search/saved/1/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/account/login/")
    assert client.post("/search/saved/", {"name": "x"}).status_code == 302


def test_the_bare_page_shows_the_form_and_what_to_try(web: Client, upload: Any) -> None:
    upload("report.pdf")
    response = web.get("/search/")
    assert response.status_code == 200
    assert names_in(response) == []
    assert 'id="search-intro"' in text(response)
    assert "Type part of its name" in text(response)
    # One search box: the page's own (with its filters), not the header's as well.
    assert text(response).count('type="search" name="q"') == 1
    assert 'id="topsearch"' not in text(response)


def test_words_find_names_and_show_where_they_are(web: Client, upload: Any, mkdir: Any) -> None:
    reports = mkdir("/Work/Finance")
    upload("Annual report 2025.pdf", parent=reports)
    upload("report-draft.txt")
    upload("holiday.jpg")
    response = web.get("/search/", {"q": "report"})
    assert response.status_code == 200
    assert sorted(names_in(response)) == ["Annual report 2025.pdf", "report-draft.txt"]
    page = text(response)
    # Where each one is, linking to that folder's page.
    home = reports.parent.parent
    finance = f'href="/files/folders/{reports.pk}/">Your files/Work/Finance</a>'
    assert f'in <a class="location-link" {finance}' in page
    assert f'in <a class="location-link" href="/files/folders/{home.pk}/">Your files</a>' in page
    assert "2 results for “report”" in page
    # The page's box keeps the words, so the next search starts from them.
    assert re.search(r'<input type="search" name="q" value="report"', page)
    # Rows are the browser's own: the scripts open, preview and act on them by these.
    assert 'data-name="holiday.jpg"' not in page
    assert re.search(r'class="row" role="row" aria-selected="false" data-id="\d+"', page)


def test_filters_narrow_the_results(web: Client, upload: Any, favorite: Any, tag: Any) -> None:
    upload("small.png", b"x" * 500)
    big = upload("big.png", b"x" * 5000)
    upload("big.pdf", b"x" * 5000)
    tag(big, "holiday")
    favorite(big)
    response = web.get("/search/", {"type": "image", "size_min": "2", "size_min_unit": "KB"})
    assert response.status_code == 200
    assert names_in(response) == ["big.png"]
    # The filter panel opens by itself and shows what was chosen.
    assert 'id="search-filters" open' in text(response)
    assert 'value="image" id="id_type_1" checked' in text(response) or re.search(
        r'value="image"[^>]*checked', text(response)
    )
    assert names_in(web.get("/search/", {"tag": "HOLIDAY"})) == ["big.png"]
    assert names_in(web.get("/search/", {"favorite": "true"})) == ["big.png"]
    assert names_in(web.get("/search/", {"ext": "pdf"})) == ["big.pdf"]
    assert names_in(web.get("/search/", {"q": "big", "ordering": "-name"})) == [
        "big.png",
        "big.pdf",
    ]


def test_the_page_and_the_api_give_the_same_hits(web: Client, upload: Any, mkdir: Any) -> None:
    """One engine: an API query string on the results page finds exactly the API's hits."""
    docs = mkdir("/Docs")
    for name in ["a.pdf", "b.png", "c.png", "notes.txt"]:
        upload(name, b"x" * 2000, parent=docs)
    upload("d.png", b"x" * 10)
    query = f"type=image,pdf&size_min=1KB&in={docs.pk}&ordering=-name"
    api = web.get(f"/api/v1/search/?{query}").json()
    page = web.get(f"/search/?{query}")
    assert [hit["name"] for hit in api["results"]] == names_in(page) == ["c.png", "b.png", "a.pdf"]
    # 1KB from the URL shows as 1 in the box and KB in the unit list.
    assert re.search(r'<option value="KB" selected>', text(page))


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"size_min": "-5"}, "size_min", "Minimum size cannot be negative."),
        ({"size_max": "lots"}, "size_max", "must be a size in bytes"),
        (
            {"size_min": "10", "size_min_unit": "MB", "size_max": "1", "size_max_unit": "MB"},
            "size_min",
            "Minimum size cannot be larger than maximum size.",
        ),
        ({"modified_after": "2026-02-30"}, "modified_after", "“2026-02-30” is not a real date"),
        ({"created_before": "yesterday"}, "created_before", "must be a date"),
        (
            {"modified_after": "2026-03-01", "modified_before": "2026-01-01"},
            "modified_after",
            "cannot be later than modified before",
        ),
        ({"type": "spaceship"}, "type", "“spaceship” is not a file type"),
        ({"ext": "p/d/f"}, "ext", "is not an extension"),
        ({"ordering": "colour"}, "ordering", "is not a sort order"),
        ({"trash": "sometimes"}, "trash", "must be one of exclude"),
        ({"tag_mode": "most"}, "tag_mode", "must be “any” or “all”"),
        ({"q": " ".join(f"w{n}" for n in range(11))}, "q", "at most 10 words"),
        ({"size_min_unit": "parsecs", "size_min": "3"}, "size_min_unit", "Select a valid choice"),
    ],
)
def test_bad_values_are_refused_next_to_their_field(
    web: Client, upload: Any, params: dict[str, str], field: str, message: str
) -> None:
    upload("report.pdf")
    response = web.get("/search/", {"q": "report", **params})
    assert response.status_code == 400
    assert message in field_error(response, field)
    assert 'aria-invalid="true"' in text(response)
    assert names_in(response) == []
    # The filter panel is open, so the message can be seen without a script.
    assert 'id="search-filters" open' in text(response)


def test_an_unknown_folder_or_page_is_a_clear_4xx(web: Client, mallory: Any, mkdir: Any) -> None:
    theirs = mkdir("/Private", owner=mallory)
    response = web.get("/search/", {"q": "x", "in": theirs.pk})
    assert response.status_code == 404
    assert "No such folder to search in" in field_error(response, "in")
    response = web.get("/search/", {"q": "x", "page": "two"})
    assert response.status_code == 400
    assert "Page must be a whole number" in text(response)


def test_results_are_paged(web: Client, upload: Any) -> None:
    for n in range(53):
        upload(f"photo {n:02}.jpg", b"x")
    first = web.get("/search/", {"q": "photo", "ordering": "name"})
    assert len(names_in(first)) == 50
    assert "53 results" in text(first)
    assert 'href="?q=photo&amp;ordering=name&amp;page=2" rel="next"' in text(first)
    second = web.get("/search/", {"q": "photo", "ordering": "name", "page": "2"})
    assert names_in(second) == ["photo 50.jpg", "photo 51.jpg", "photo 52.jpg"]
    assert 'href="?q=photo&amp;ordering=name" rel="prev"' in text(second)


def test_nothing_found_says_what_to_try(web: Client, upload: Any) -> None:
    upload("report.pdf")
    response = web.get("/search/", {"q": "invoice", "type": "image"})
    assert response.status_code == 200
    assert names_in(response) == []
    page = text(response)
    assert "Nothing matches “invoice”" in page
    assert "try fewer or shorter words" in page
    assert 'href="/search/?q=invoice">search without filters</a>' in page


def test_the_trash_is_left_out_unless_asked_for(web: Client, upload: Any) -> None:
    old = upload("old report.pdf")
    upload("new report.pdf")
    services.node_trash(node=old)
    assert names_in(web.get("/search/", {"q": "report"})) == ["new report.pdf"]
    only = web.get("/search/", {"q": "report", "trash": "only"})
    assert names_in(only) == ["old report.pdf"]
    assert "in Your files (in the trash)" in text(only)
    # A trashed item opens on its details page, which offers to restore it.
    assert f'href="/files/items/{old.pk}/" title="old report.pdf">old report.pdf' in text(only)


# --- saved searches ------------------------------------------------------------------------


def test_save_a_search_and_run_it_from_the_sidebar(
    web: Client, alice: Any, upload: Any, mkdir: Any
) -> None:
    photos = mkdir("/Photos")
    upload("beach.jpg", b"x" * 3000, parent=photos)
    upload("tiny.jpg", b"x", parent=photos)
    upload("beach.txt", b"x" * 3000, parent=photos)
    params = {"q": "", "type": "image", "size_min": "2", "size_min_unit": "KB", "in": photos.pk}
    results = web.get("/search/", params)
    assert names_in(results) == ["beach.jpg"]
    # The save form carries the search along as hidden inputs.
    assert '<input type="hidden" name="type" value="image">' in text(results)

    response = web.post("/search/saved/", {"name": "  Big   photos ", **params})
    profile = SearchProfile.objects.get(owner=alice)
    assert response.status_code == 302
    assert response["Location"] == f"/search/saved/{profile.pk}/"
    assert (profile.name, profile.file_types, profile.size_min) == ("Big photos", ["image"], 2000)
    assert profile.scope == photos

    saved = web.get(f"/search/saved/{profile.pk}/")
    assert saved.status_code == 200
    assert names_in(saved) == ["beach.jpg"]
    page = text(saved)
    assert "Saved “Big photos”" in page
    assert '<h1 class="page-title" id="search-title">Big photos</h1>' in page
    assert f'href="/search/saved/{profile.pk}/" aria-current="page"' in sidebar(saved)
    # The form is filled in from the saved search, ready to be refined.
    assert re.search(r'value="image"[^>]*checked', page)
    assert re.search(rf'<option value="{photos.pk}" selected>/Photos</option>', page)
    assert f'<input type="hidden" name="saved" value="{profile.pk}">' in page

    home = web.get("/")
    assert f'href="/search/saved/{profile.pk}/"' in sidebar(home)
    assert "Big photos" in sidebar(home)


def test_a_taken_name_is_refused_next_to_the_name(web: Client, alice: Any) -> None:
    search_services.profile_create(owner=alice, name="Reports", query="report")
    response = web.post("/search/saved/", {"name": "reports", "q": "invoice"})
    assert response.status_code == 409
    assert "You already have a saved search named “reports”" in field_error(response, "name")
    assert 'id="save-search" open' in text(response)
    assert SearchProfile.objects.filter(owner=alice).count() == 1
    empty = web.post("/search/saved/", {"name": "  ", "q": "invoice"})
    assert empty.status_code == 400
    assert field_error(empty, "name") == "Give the saved search a name."


def test_filters_a_saved_search_cannot_keep_are_refused_by_name(web: Client, alice: Any) -> None:
    response = web.post("/search/saved/", {"name": "New", "q": "a", "created_after": "2026-01-01"})
    assert response.status_code == 400
    assert "cannot keep creation dates" in field_error(response, "created_after")
    response = web.post("/search/saved/", {"name": "New", "q": "a", "trash": "only"})
    assert response.status_code == 400
    assert "leaves out the trash" in field_error(response, "trash")
    response = web.post("/search/saved/", {"name": "New", "size_min": "-1"})
    assert response.status_code == 400
    assert "cannot be negative" in field_error(response, "size_min")
    # Braces in a refused value are text, never a format string.
    response = web.post("/search/saved/", {"name": "New", "size_min": "1", "size_min_unit": "{0}"})
    assert response.status_code == 400
    assert "{0} is not one of the available choices" in field_error(response, "size_min_unit")
    assert not SearchProfile.objects.filter(owner=alice).exists()


def test_rename_refine_and_delete_a_saved_search(web: Client, alice: Any, upload: Any) -> None:
    upload("cat.png", b"x" * 10)
    upload("cat.pdf", b"x" * 10)
    profile = search_services.profile_create(owner=alice, name="Cats", query="cat")
    search_services.profile_create(owner=alice, name="Dogs", query="dog")

    response = web.post(f"/search/saved/{profile.pk}/rename/", {"name": "dogs"})
    assert response.status_code == 409
    assert "already have a saved search named “dogs”" in field_error(response, "name")
    response = web.post(f"/search/saved/{profile.pk}/rename/", {"name": "Kittens"})
    assert response.status_code == 302
    profile.refresh_from_db()
    assert profile.name == "Kittens"
    assert profile.query == "cat"

    # Refining: the results page knows which saved search it came from.
    refined = web.get("/search/", {"q": "cat", "type": "image", "saved": profile.pk})
    assert names_in(refined) == ["cat.png"]
    assert "Save changes to “Kittens”" in text(refined)
    response = web.post(
        f"/search/saved/{profile.pk}/update/", {"q": "cat", "type": "image", "ordering": "-size"}
    )
    assert response.status_code == 302
    profile.refresh_from_db()
    assert (profile.name, profile.file_types, profile.sort) == ("Kittens", ["image"], "-size")
    assert names_in(web.get(f"/search/saved/{profile.pk}/")) == ["cat.png"]

    response = web.post(f"/search/saved/{profile.pk}/delete/")
    assert response.status_code == 302
    assert not SearchProfile.objects.filter(pk=profile.pk).exists()
    assert "Kittens" not in sidebar(web.get("/"))
    assert web.get(f"/search/saved/{profile.pk}/").status_code == 404


def test_a_saved_search_whose_folder_is_gone_says_so(
    web: Client, alice: Any, upload: Any, mkdir: Any
) -> None:
    folder = mkdir("/Projects/Old")
    upload("plan.txt", parent=folder)
    profile = search_services.profile_create(owner=alice, name="Old plans", scope=folder)
    assert names_in(web.get(f"/search/saved/{profile.pk}/")) == ["plan.txt"]

    services.node_trash(node=folder)
    response = web.get(f"/search/saved/{profile.pk}/")
    assert response.status_code == 200
    assert "looks in is in the trash" in text(response)
    assert names_in(response) == []

    services.node_delete(node=Node.objects.get(pk=folder.pk))
    response = web.get(f"/search/saved/{profile.pk}/")
    assert response.status_code == 200
    assert "“/Projects/Old” this saved search looks in was deleted" in text(response)
    # It can still be renamed (or refined to look elsewhere) and deleted.
    assert web.post(f"/search/saved/{profile.pk}/rename/", {"name": "Gone"}).status_code == 302
    assert web.post(f"/search/saved/{profile.pk}/delete/").status_code == 302


# --- alice and mallory ----------------------------------------------------------------------


def test_results_never_show_another_users_files(
    web: Client, alice: Any, mallory: Any, upload: Any
) -> None:
    expected_visible = {upload("budget alice.xlsx").name}
    expected_hidden = {upload("budget mallory.xlsx", owner=mallory).name}
    shown = set(names_in(web.get("/search/", {"q": "budget"})))
    assert shown == expected_visible
    assert not shown & expected_hidden


def test_another_users_saved_search_is_a_404(web: Client, alice: Any, mallory: Any) -> None:
    theirs = search_services.profile_create(owner=mallory, name="Mallory's secrets", query="x")
    search_services.profile_create(owner=alice, name="Mine", query="y")
    assert web.get(f"/search/saved/{theirs.pk}/").status_code == 404
    assert web.get("/search/", {"q": "x", "saved": theirs.pk}).status_code == 404
    assert web.post(f"/search/saved/{theirs.pk}/rename/", {"name": "pwned"}).status_code == 404
    assert web.post(f"/search/saved/{theirs.pk}/update/", {"q": "z"}).status_code == 404
    assert web.post(f"/search/saved/{theirs.pk}/delete/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.query) == ("Mallory's secrets", "x")
    page = sidebar(web.get("/"))
    assert "Mine" in page
    assert "Mallory" not in page


def test_a_saved_search_cannot_point_at_another_users_folder(
    web: Client, alice: Any, mallory: Any, mkdir: Any
) -> None:
    theirs = mkdir("/Private", owner=mallory)
    response = web.post("/search/saved/", {"name": "Snoop", "in": theirs.pk})
    assert response.status_code == 404
    assert "No such folder to search in" in field_error(response, "in")
    assert not SearchProfile.objects.exists()
