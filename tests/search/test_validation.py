"""Bad values answer 400 (404 for a folder) naming the parameter; no input causes a 500."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.search.conftest import names

pytestmark = pytest.mark.django_db

BAD = [
    ("size_min=-1", "size_min", "negative"),
    ("size_max=-5", "size_max", "negative"),
    ("size_min=abc", "size_min", "size in bytes"),
    ("size_max=10XB", "size_max", "size in bytes"),
    ("size_min=1e9", "size_min", "size in bytes"),
    ("size_min=99999999999999999999999", "size_min", "too large"),
    ("size_min=10&size_max=5", "size_min", "larger than size_max"),
    ("modified_after=2026-02-30", "modified_after", "not a real date"),
    ("modified_before=2026-13-01", "modified_before", "not a real date"),
    ("created_after=0000-01-01", "created_after", "not a real date"),
    ("created_before=yesterday", "created_before", "must be a date"),
    ("modified_after=2026-01-31T25:00:00", "modified_after", "date"),
    ("modified_after=0001-01-01T00:00:00%2B01:00", "modified_after", "out of range"),
    ("modified_after=2026-03-01&modified_before=2026-02-01", "modified_after", "later than"),
    ("created_after=2026-03-01&created_before=2026-02-01", "created_after", "later than"),
    ("type=pictures", "type", "not a file type"),
    ("type=image,executable", "type", "not a file type"),
    ("ext=tar.gz", "ext", "not an extension"),
    ("ext=../../etc", "ext", "not an extension"),
    ("tag_mode=some", "tag_mode", "any"),
    ("favorite=maybe", "favorite", "true or false"),
    ("trash=never", "trash", "exclude"),
    ("ordering=owner", "ordering", "not a sort order"),
    ("ordering=--name", "ordering", "not a sort order"),
    ("limit=0", "limit", "between 1 and 200"),
    ("limit=1000", "limit", "between 1 and 200"),
    ("limit=ten", "limit", "whole number"),
    ("offset=-1", "offset", "whole number"),
    ("offset=" + "9" * 40, "offset", "whole number"),
    ("q=" + "x" * 300, "q", "at most 255 characters"),
    ("q=" + "+".join(f"w{i}" for i in range(11)), "q", "at most 10 words"),
    ("q=a%00b", "q", "control characters"),
    ("tag=a%00b", "tag", "control characters"),
    ("tag=" + "t" * 65, "tag", "64 characters"),
    ("type=" + ",".join(["image"] * 3 + [f"x{i}" for i in range(30)]), "type", "at most 20"),
]


@pytest.mark.parametrize(("query", "field", "words"), BAD)
def test_bad_value_is_a_400_naming_the_parameter(alice_api, query, field, words):
    response = alice_api.get(f"/api/v1/search/?{query}")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field
    assert field in body["detail"]
    assert words in body["detail"]


@pytest.mark.parametrize("value", ["abc", "-5", "0", "1.5", "9" * 40, "%00", "\uff11\uff12"])
def test_bad_folder_is_a_404(alice_api, value):
    response = alice_api.get(f"/api/v1/search/?in={value}")
    assert response.status_code == 404
    assert response.json()["field"] == "in"


HOSTILE = [
    "'; DROP TABLE files_node; --",
    "%' OR 1=1 --",
    "\\",
    "\\%",
    "'",
    '"',
    "%%%%",
    "____",
    "[a-z]*",
    "😀 ünïcødé 名前",
    "\u202eevil",
    "\ufeff",
    "x" * 255,
    "a b c d e f g h i j",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_queries_are_just_text(alice_api, upload, value):
    upload("plain.txt", b"x")
    response = alice_api.get(f"/api/v1/search/?q={quote(value)}&ordering=-name")
    assert response.status_code == 200
    assert names(response) == []


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("type[]=image", 200),  # an unknown parameter is ignored
        ("q[]=x&q=y", 200),
        ("in=1&in=", 200),  # the last value counts, and empty is absent
        ("ordering=name&ordering=size", 200),
        ("size_min=%ED%A0%80", 400),
        ("modified_after=%FF%FE", 400),
        ("tag=" + "&tag=".join(f"t{i}" for i in range(20)), 200),
        ("ext=" + quote("\uff50\uff44\uff46"), 400),  # full-width "pdf"
        ("trash=ONLY", 200),
        ("favorite=", 200),
        ("q=&type=&ext=&size_min=&size_max=&modified_after=&tag=&in=&trash=&ordering=", 200),
    ],
)
def test_odd_but_harmless_parameters_never_500(alice_api, query, status):
    response = alice_api.get(f"/api/v1/search/?{query}")
    assert response.status_code == status, response.content[:200]
    if response.status_code != 200:
        assert response.json()["field"]


def test_empty_parameters_count_as_absent(alice_api, upload):
    upload("a.txt", b"x")
    response = alice_api.get(
        "/api/v1/search/?q=&type=&ext=&size_min=&size_max=&modified_after=&tag=&in=&trash="
        "&ordering=&favorite=&tag_mode="
    )
    assert names(response) == ["a.txt"]


def test_anonymous_callers_are_refused(api):
    assert api.get("/api/v1/search/?q=a").status_code == 401
    assert api.get("/api/v1/search-profiles/").status_code == 401
