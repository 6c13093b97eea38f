"""Relevance and the other sort orders; pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.search.conftest import names, stamp

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(upload, mkdir):
    now = timezone.now()
    made = {}
    for i, (name, size) in enumerate(
        [
            ("Annual report.pdf", 40),
            ("report", 10),
            ("reports 2024", 30),
            ("Report.pdf", 20),
            ("my report.txt", 50),
            ("zz-report", 5),
        ]
    ):
        node = upload(name, b"r" * size)
        made[name] = stamp(node, updated_at=now - timedelta(hours=10 - i))
    made["Reporting"] = mkdir("/Reporting")
    made["other.txt"] = upload("other.txt", b"o")
    return made


def test_relevance_exact_then_prefix_then_contains_ties_by_name(alice_api, reports):
    assert names(alice_api.get("/api/v1/search/", {"q": "report"})) == [
        "report",  # exact
        "Report.pdf",  # starts with the query (ties by name)
        "Reporting",
        "reports 2024",
        "Annual report.pdf",  # contains it
        "my report.txt",
        "zz-report",
    ]


def test_relevance_uses_the_whole_query(alice_api, reports):
    assert names(alice_api.get("/api/v1/search/", {"q": "report annual"})) == ["Annual report.pdf"]
    assert names(alice_api.get("/api/v1/search/", {"q": "my report"}))[0] == "my report.txt"


def test_relevance_without_words_is_by_name(alice_api, reports):
    listed = names(alice_api.get("/api/v1/search/"))
    assert listed == sorted(listed, key=str.lower)
    assert names(alice_api.get("/api/v1/search/", {"ordering": "-relevance"})) == listed


def test_name_order_both_ways(alice_api, reports):
    ascending = names(alice_api.get("/api/v1/search/", {"q": "report", "ordering": "name"}))
    assert ascending == sorted(ascending, key=str.lower)
    assert ascending[0] == "Annual report.pdf"
    descending = names(alice_api.get("/api/v1/search/", {"q": "report", "ordering": "-name"}))
    assert descending == list(reversed(ascending))


def test_size_order(alice_api, reports):
    got = names(
        alice_api.get("/api/v1/search/", {"type": "document,pdf,other", "ordering": "size"})
    )
    assert got == [
        "other.txt",
        "zz-report",
        "report",
        "Report.pdf",
        "reports 2024",
        "Annual report.pdf",
        "my report.txt",
    ]
    largest = names(alice_api.get("/api/v1/search/", {"q": "report", "ordering": "-size"}))
    assert largest[:2] == ["my report.txt", "Annual report.pdf"]


def test_modified_order(alice_api, reports):
    got = names(
        alice_api.get("/api/v1/search/", {"q": "report", "ext": "pdf,txt", "ordering": "modified"})
    )
    assert got == ["Annual report.pdf", "Report.pdf", "my report.txt"]
    got = names(
        alice_api.get("/api/v1/search/", {"q": "report", "ext": "pdf,txt", "ordering": "-modified"})
    )
    assert got == ["my report.txt", "Report.pdf", "Annual report.pdf"]


def test_created_order(alice_api, reports):
    now = timezone.now()
    stamp(reports["zz-report"], created_at=now - timedelta(days=3))
    assert names(alice_api.get("/api/v1/search/", {"q": "report", "ordering": "created"}))[0] == (
        "zz-report"
    )


def test_pages_cover_every_hit_once(alice_api, reports):
    everything = names(alice_api.get("/api/v1/search/", {"q": "report", "limit": 200}))
    seen = []
    url = "/api/v1/search/?q=report&limit=3"
    counts = set()
    while url:
        body = alice_api.get(url).json()
        counts.add(body["count"])
        seen += [hit["name"] for hit in body["results"]]
        url = body["next"]
    assert seen == everything
    assert counts == {len(everything)}


def test_previous_link_and_offset_past_the_end(alice_api, reports):
    body = alice_api.get("/api/v1/search/?q=report&limit=2&offset=2").json()
    assert "limit=2" in body["previous"] and "offset" not in body["previous"]
    assert "offset=4" in body["next"]
    past = alice_api.get("/api/v1/search/?q=report&limit=2&offset=100").json()
    assert past["results"] == [] and past["next"] is None and past["count"] == 7


def test_default_page_size(alice_api, alice, upload):
    for i in range(55):
        upload(f"many-{i:02}.txt", b"x")
    body = alice_api.get("/api/v1/search/?q=many").json()
    assert len(body["results"]) == 50 and body["count"] == 55
    assert body["next"] is not None
