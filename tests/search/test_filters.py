"""Each search filter alone, then several together, through the API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from files import services
from tests.search.conftest import ids, names, stamp

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


@pytest.fixture
def drive(alice, upload, mkdir):
    """A small drive; returns {name: node}."""
    docs, photos, code, music = (mkdir(p) for p in ("/Documents", "/Photos", "/Code", "/Music"))
    nodes = {n.name: n for n in (docs, photos, code, music)}
    files = [
        ("Annual Report 2025.pdf", b"%PDF-1.4 annual", docs),
        ("report.docx", b"a word document", docs),
        ("notes.txt", b"some notes", docs),
        ("README", b"read me first", None),
        ("beach.jpg", JPEG, photos),
        ("Reporting.png", PNG, photos),
        ("IMG_0001", JPEG, photos),
        ("app.ts", b"export const x = 1;", code),
        ("song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00", music),
        ("budget.xlsx", b"spreadsheet bytes", None),
        ("slides.pptx", b"presentation bytes", None),
        ("backup.zip", b"z" * 2000, None),
        ("movie.mp4", b"m" * 5000, None),
        ("data.bin", b"\x00\x01\x02\x03\x04", None),
    ]
    for name, content, parent in files:
        nodes[name] = upload(name, content, parent=parent)
    return nodes


def search(client, **params):
    return client.get("/api/v1/search/", params)


def test_no_filter_lists_every_node_but_the_home_folder(alice_api, drive, home):
    found = ids(search(alice_api))
    assert found == {n.pk for n in drive.values()}
    assert home.pk not in found


def test_q_matches_part_of_the_name_ignoring_case(alice_api, drive):
    assert set(names(search(alice_api, q="REPORT"))) == {
        "Annual Report 2025.pdf",
        "report.docx",
        "Reporting.png",
    }
    assert names(search(alice_api, q="eac")) == ["beach.jpg"]
    assert names(search(alice_api, q="nothing-like-this")) == []


def test_every_word_of_q_must_match(alice_api, drive):
    assert names(search(alice_api, q="report annual")) == ["Annual Report 2025.pdf"]
    assert names(search(alice_api, q="  2025   REPORT ")) == ["Annual Report 2025.pdf"]
    assert names(search(alice_api, q="report beach")) == []


def test_q_wildcards_are_literal(alice_api, upload, drive):
    upload("50%_off.txt", b"x")
    assert names(search(alice_api, q="%")) == ["50%_off.txt"]
    assert set(names(search(alice_api, q="_"))) == {"50%_off.txt", "IMG_0001"}
    assert names(search(alice_api, q="50%_")) == ["50%_off.txt"]
    assert names(search(alice_api, q="5_%")) == []


CATEGORIES = {
    "folder": {"Documents", "Photos", "Code", "Music"},
    "pdf": {"Annual Report 2025.pdf"},
    "document": {"report.docx", "notes.txt", "README"},  # README: text/plain, no extension
    "image": {"beach.jpg", "Reporting.png", "IMG_0001"},  # IMG_0001: JPEG bytes, no extension
    "code": {"app.ts"},  # .ts is guessed as a Qt translation MIME type: the extension wins
    "audio": {"song.mp3"},
    "spreadsheet": {"budget.xlsx"},
    "presentation": {"slides.pptx"},
    "archive": {"backup.zip"},
    "video": {"movie.mp4"},
    "other": {"data.bin"},
}


def test_type_category(alice_api, drive):
    # One drive for every category (building it is the slow part of these tests).
    for category, expected in CATEGORIES.items():
        response = search(alice_api, type=category)
        assert set(names(response)) == expected, category
        assert {hit["category"] for hit in response.json()["results"]} == {category}


def test_several_types_widen_the_search(alice_api, drive):
    expected = {"beach.jpg", "Reporting.png", "IMG_0001", "Annual Report 2025.pdf"}
    assert set(names(search(alice_api, type="image,pdf"))) == expected
    assert set(names(alice_api.get("/api/v1/search/?type=image&type=PDF"))) == expected


def test_extension_filter(alice_api, drive, mkdir):
    mkdir("/folder.pdf")  # folders are never matched by extension
    assert set(names(search(alice_api, ext="pdf,docx"))) == {
        "Annual Report 2025.pdf",
        "report.docx",
    }
    assert names(search(alice_api, ext=".PNG")) == ["Reporting.png"]
    assert names(search(alice_api, ext="exe")) == []


def test_size_range(alice_api, drive):
    assert set(names(search(alice_api, size_min=1000))) == {"backup.zip", "movie.mp4"}
    assert set(names(search(alice_api, size_min=1000, size_max=4999))) == {"backup.zip"}
    assert set(names(search(alice_api, size_min="2KB", size_max="5kb"))) == {
        "backup.zip",
        "movie.mp4",
    }
    small = set(names(search(alice_api, size_max=5, type="other,audio,folder")))
    assert small == {"data.bin", "Documents", "Photos", "Code", "Music"}


def test_modified_range(alice_api, drive):
    now = timezone.now()
    stamp(drive["notes.txt"], updated_at=now - timedelta(days=40))
    stamp(drive["budget.xlsx"], updated_at=now - timedelta(days=10))
    for node in drive.values():
        if node.name not in ("notes.txt", "budget.xlsx"):
            stamp(node, updated_at=now - timedelta(days=1))
    day = (now - timedelta(days=10)).date().isoformat()
    assert names(search(alice_api, modified_before=day)) == ["budget.xlsx", "notes.txt"]
    assert names(search(alice_api, modified_after=day, modified_before=day)) == ["budget.xlsx"]
    old = (now - timedelta(days=30)).isoformat()
    assert "notes.txt" not in names(search(alice_api, modified_after=old))
    assert names(search(alice_api, modified_before=old)) == ["notes.txt"]


def test_created_range(alice_api, drive):
    now = timezone.now()
    stamp(drive["slides.pptx"], created_at=now - timedelta(days=400))
    cutoff = (now - timedelta(days=100)).date().isoformat()
    assert names(search(alice_api, created_before=cutoff)) == ["slides.pptx"]
    assert "slides.pptx" not in names(search(alice_api, created_after=cutoff))


def test_tags_any_and_all(alice_api, drive, tag):
    tag(drive["report.docx"], "Work", "2025")
    tag(drive["notes.txt"], "work")
    tag(drive["beach.jpg"], "holiday", "2025")
    assert set(names(search(alice_api, tag="work"))) == {"report.docx", "notes.txt"}
    both = alice_api.get("/api/v1/search/?tag=WORK&tag=2025")
    assert set(names(both)) == {"report.docx", "notes.txt", "beach.jpg"}
    every = alice_api.get("/api/v1/search/?tag=work&tag=2025&tag_mode=all")
    assert names(every) == ["report.docx"]
    assert names(search(alice_api, tag="work,unknown", tag_mode="all")) == []
    assert names(search(alice_api, tag="unknown")) == []


def test_favorites(alice_api, drive, favorite):
    favorite(drive["song.mp3"])
    favorite(drive["Photos"])
    assert set(names(search(alice_api, favorite="true"))) == {"song.mp3", "Photos"}
    not_favorite = set(names(search(alice_api, favorite="false")))
    assert "song.mp3" not in not_favorite and "beach.jpg" in not_favorite


def test_filters_combine(alice_api, drive, tag, favorite):
    tag(drive["Annual Report 2025.pdf"], "work")
    tag(drive["report.docx"], "work")
    tag(drive["Reporting.png"], "work")
    favorite(drive["report.docx"])
    favorite(drive["Reporting.png"])
    response = search(
        alice_api,
        q="report",
        type="document,image",
        tag="work",
        favorite="true",
        size_max=100,
        **{"in": drive["Documents"].pk},
    )
    assert names(response) == ["report.docx"]
    response = search(alice_api, q="report", type="pdf,image", tag="work", ext="png")
    assert names(response) == ["Reporting.png"]


def test_hits_carry_path_and_node_fields(alice_api, drive, tag, django_assert_max_num_queries):
    tag(drive["beach.jpg"], "holiday")
    response = search(alice_api, q="beach")
    [hit] = response.json()["results"]
    node = drive["beach.jpg"]
    assert hit["path"] == "/Photos/beach.jpg"
    assert hit["parent"] == drive["Photos"].pk
    assert hit["is_folder"] is False
    assert hit["size"] == len(JPEG)
    assert hit["mime_type"] == "image/jpeg"
    assert hit["tags"] == ["holiday"]
    assert hit["is_favorite"] is False
    assert hit["trashed_at"] is None
    assert set(hit) >= {"id", "name", "created_at", "updated_at", "category"}
    assert hit["id"] == node.pk


def test_query_count_does_not_grow_with_hits(alice, drive, tag):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search.engine import SearchQuery, search

    for node in drive.values():
        tag(node, "everything")
    tag(drive["beach.jpg"], "everything", "one")
    counts = {}
    for wanted in ("one", "everything"):
        with CaptureQueriesContext(connection) as queries:
            page = search(user=alice, query=SearchQuery(tags=(wanted,)), with_total=True)
        counts[len(page.hits)] = len(queries)
    assert set(counts) == {1, len(drive)}
    # Paths cost one query per folder level, never one per hit.
    assert counts[len(drive)] <= counts[1] <= 6


def test_deep_paths(alice_api, alice, mkdir, upload):
    deep = services.folder_ensure_path(owner=alice, path="/a/b/c/d")
    upload("deep-file.txt", b"x", parent=deep)
    [hit] = search(alice_api, q="deep-file").json()["results"]
    assert hit["path"] == "/a/b/c/d/deep-file.txt"
