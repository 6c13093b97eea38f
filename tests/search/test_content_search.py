"""Search inside documents through the API and the page: words in the text are found next to
name matches, with a snippet; every filter and saved searches still apply; only what the
person may see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from files import services, tree
from files.models import Node
from search.models import BlobText
from tests.files.conftest import announce_stored, received
from tests.search import documents
from tests.search.conftest import ids

pytestmark = pytest.mark.django_db

API = "/api/v1/search/"


def hit(response: Any, node: Node) -> dict[str, Any]:
    assert response.status_code == 200, response.content
    [found] = [h for h in response.json()["results"] if h["id"] == node.pk]
    return found


def test_words_in_every_kind_of_document_are_found_with_a_snippet(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    made = {
        "report.pdf": document(alice, "report.pdf", documents.pdf("intro", "The pangolin budget")),
        "letter.docx": document(alice, "letter.docx", documents.docx("Dear pangolin keeper")),
        "sheet.xlsx": document(alice, "sheet.xlsx", documents.xlsx([["pangolin", "count"]])),
        "slides.pptx": document(alice, "slides.pptx", documents.pptx("Pangolin facts")),
        "notes.odt": document(alice, "notes.odt", documents.odf("odt", "a pangolin note")),
        "table.ods": document(alice, "table.ods", documents.odf("ods", "pangolin cell")),
        "deck.odp": document(alice, "deck.odp", documents.odf("odp", "pangolin slide")),
        "page.html": document(alice, "page.html", b"<p>the <b>pangolin</b> page</p>"),
        "notes.md": document(alice, "notes.md", b"# Pangolin\n\nnotes"),
        "main.py": document(alice, "main.py", b"pangolin = 1\n"),
        "data.csv": document(alice, "data.csv", b"animal,count\npangolin,3\n"),
    }
    document(alice, "other.txt", b"nothing to see here")
    response = alice_api.get(API, {"q": "pangolin"})
    assert ids(response) == {node.pk for node in made.values()}
    for node in made.values():
        found = hit(response, node)
        assert found["found_in"] == "text"
        assert "<mark>" in found["snippet"].lower(), found
        assert "pangolin</mark>" in found["snippet"].lower()


def test_name_matches_come_first_then_text_matches(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    by_text = document(alice, "minutes.txt", b"we discussed the walrus at length")
    by_name = document(alice, "walrus.txt", b"nothing relevant")
    response = alice_api.get(API, {"q": "walrus"})
    assert [h["id"] for h in response.json()["results"]] == [by_name.pk, by_text.pk]
    assert hit(response, by_name)["found_in"] == "name"
    assert hit(response, by_name)["snippet"] is None
    assert hit(response, by_text)["found_in"] == "text"


def test_text_matches_are_ranked_by_how_well_they_match(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    once = document(alice, "a.txt", b"narwhal " + b"filler words here " * 50)
    often = document(alice, "b.txt", b"narwhal narwhal narwhal tusk narwhal")
    response = alice_api.get(API, {"q": "narwhal"})
    assert [h["id"] for h in response.json()["results"]] == [often.pk, once.pk]


def test_phrases_or_and_minus(alice: Any, alice_api: Any, document: Callable[..., Node]) -> None:
    red_fox = document(alice, "a.txt", b"the quick red fox jumps")
    fox_red = document(alice, "b.txt", b"a fox that is red")
    badger = document(alice, "c.txt", b"an honest badger")
    assert ids(alice_api.get(API, {"q": '"red fox"'})) == {red_fox.pk}
    assert ids(alice_api.get(API, {"q": "red fox"})) == {red_fox.pk, fox_red.pk}
    assert ids(alice_api.get(API, {"q": "badger OR jumps"})) == {badger.pk, red_fox.pk}
    assert ids(alice_api.get(API, {"q": "fox -quick"})) == {fox_red.pk}


def test_case_and_accents_are_ignored(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    node = document(alice, "menu.txt", "Crème brûlée au CAFÉ".encode())
    assert ids(alice_api.get(API, {"q": "creme brulee"})) == {node.pk}
    assert ids(alice_api.get(API, {"q": "café"})) == {node.pk}


def test_query_syntax_never_breaks_the_search(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    document(alice, "a.txt", b"plain words")
    for q in ['"', '"unclosed phrase', "OR", "-", "- -x", "NEAR(a b)", "a:b", "*", "(", "AND NOT"]:
        response = alice_api.get(API, {"q": q})
        assert response.status_code == 200, (q, response.content)


def test_alice_never_finds_mallorys_words(
    alice: Any, mallory: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    theirs = document(mallory, "diary.txt", b"mallory's secret plan with zeppelins")
    mine = document(alice, "notes.txt", b"my own zeppelin notes")
    expected_visible, expected_hidden = {mine.pk}, {theirs.pk}
    found = ids(alice_api.get(API, {"q": "zeppelins"})) | ids(alice_api.get(API, {"q": "zeppelin"}))
    assert expected_visible <= found
    assert not found & expected_hidden
    assert ids(alice_api.get(API, {"q": "secret plan"})) == set()
    # The same content owned by both: each finds only their own file.
    shared = documents.docx("identical quokka content")
    alices = document(alice, "mine.docx", shared)
    document(mallory, "theirs.docx", shared)
    assert ids(alice_api.get(API, {"q": "quokka"})) == {alices.pk}


def test_text_matches_obey_every_filter(
    alice: Any, alice_api: Any, document: Callable[..., Node], mkdir: Callable[..., Node]
) -> None:
    folder = mkdir("/Work")
    inside = document(alice, "in.txt", b"the ocelot report", parent=folder)
    outside = document(alice, "out.pdf", documents.pdf("the ocelot report"))
    trashed = document(alice, "old.txt", b"an ocelot long ago")
    services.node_trash(node=trashed)
    services.node_set_tags(node=outside, names=["zoo"])
    assert ids(alice_api.get(API, {"q": "ocelot"})) == {inside.pk, outside.pk}
    assert ids(alice_api.get(API, {"q": "ocelot", "in": folder.pk})) == {inside.pk}
    assert ids(alice_api.get(API, {"q": "ocelot", "type": "pdf"})) == {outside.pk}
    assert ids(alice_api.get(API, {"q": "ocelot", "tag": "zoo"})) == {outside.pk}
    assert ids(alice_api.get(API, {"q": "ocelot", "trash": "only"})) == {trashed.pk}
    assert ids(alice_api.get(API, {"q": "ocelot", "size_min": "1MB"})) == set()


def test_a_saved_search_finds_words_in_the_text(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    node = document(alice, "minutes.docx", documents.docx("agreed on the axolotl budget"))
    created = alice_api.post(
        "/api/v1/search-profiles/", {"name": "Axolotls", "query": "axolotl"}, format="json"
    )
    assert created.status_code == 201, created.content
    response = alice_api.get(f"/api/v1/search-profiles/{created.json()['id']}/results/")
    assert ids(response) == {node.pk}
    assert hit(response, node)["found_in"] == "text"


def test_documents_not_read_yet_are_found_by_name_only(
    alice: Any, alice_api: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        node = services.file_upload(
            owner=alice,
            parent=tree.home_of(alice),
            name="capybara notes.txt",
            received=received(b"the capybara and the tapir"),
        )
    announce_stored()
    assert BlobText.objects.get(pk=node.blob_id).state == BlobText.State.PENDING
    assert ids(alice_api.get(API, {"q": "tapir"})) == set()
    assert ids(alice_api.get(API, {"q": "capybara"})) == {node.pk}


def test_snippets_are_escaped_html(
    alice: Any, alice_api: Any, document: Callable[..., Node]
) -> None:
    node = document(alice, "x.txt", b"tapir & <script>alert(1)</script> co")
    found = hit(alice_api.get(API, {"q": "tapir"}), node)
    assert "<script>" not in found["snippet"]
    assert "&amp;" in found["snippet"]
    assert "<mark>tapir</mark>" in found["snippet"]


def test_the_text_state_endpoint(
    alice: Any, mallory: Any, alice_api: Any, document: Callable[..., Node], api: Any
) -> None:
    good = document(alice, "a.txt", b"words")
    bad = document(alice, "b.pdf", b"%PDF-1.4 broken")
    picture = document(alice, "c.jpg", b"\xff\xd8\xff\xe0")
    assert alice_api.get(f"/api/v1/search/text/{good.pk}/").json()["state"] == "indexed"
    body = alice_api.get(f"/api/v1/search/text/{bad.pk}/").json()
    assert body["state"] == "unreadable" and "PDF" in body["reason"]
    assert alice_api.get(f"/api/v1/search/text/{picture.pk}/").json()["state"] == "none"
    api.force_login(mallory)
    assert api.get(f"/api/v1/search/text/{good.pk}/").status_code == 404
    assert alice_api.get("/api/v1/search/text/99999999999999999999/").status_code == 404


def test_the_results_page_shows_text_matches_with_their_snippet(
    alice: Any, document: Callable[..., Node]
) -> None:
    document(alice, "minutes.txt", b"the board approved the wombat budget")
    web = Client()
    web.force_login(alice)
    page = web.get("/search/", {"q": "wombat"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "minutes.txt" in text
    assert "Found in the text:" in text
    assert "<mark>wombat</mark>" in text


def test_the_schema_documents_the_snippet(alice_api: Any) -> None:
    schema = alice_api.get("/api/schema/", {"format": "json"}).json()
    hit_schema = schema["components"]["schemas"]["SearchHit"]["properties"]
    assert "snippet" in hit_schema and "found_in" in hit_schema
    assert "/api/v1/search/text/{node_id}/" in schema["paths"]
