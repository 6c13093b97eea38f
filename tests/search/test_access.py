"""Whose nodes a search sees, where it looks (scope) and the trash."""

from __future__ import annotations

import pytest

from files import services, tree
from search.engine import SearchQuery, build_queryset
from tests.search.conftest import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_drives(alice, mallory, upload, mkdir):
    """alice and mallory both have a "plan" file, a "Shared plans" folder and more."""
    alice_docs = mkdir("/Docs")
    mallory_docs = mkdir("/Docs", owner=mallory)
    return {
        "alice": {
            upload("plan.txt", b"a", parent=alice_docs),
            upload("plan-b.txt", b"a"),
            mkdir("/Shared plans"),
            alice_docs,
        },
        "mallory": {
            upload("plan.txt", b"m", parent=mallory_docs, owner=mallory),
            upload("mallory plan.txt", b"m", owner=mallory),
            mkdir("/Shared plans", owner=mallory),
            mallory_docs,
        },
    }


def test_alice_sees_only_her_own_nodes(alice_api, two_drives):
    expected_visible = {n.pk for n in two_drives["alice"]}
    expected_hidden = {n.pk for n in two_drives["mallory"]}
    for params in ({}, {"q": "plan"}, {"q": "plan", "trash": "include"}, {"type": "document"}):
        found = ids(alice_api.get("/api/v1/search/", params))
        assert found <= expected_visible
        assert not found & expected_hidden
    assert ids(alice_api.get("/api/v1/search/")) == expected_visible


def test_mallory_sees_only_hers(mallory, two_drives, api):
    api.force_login(mallory)
    expected_visible = {n.pk for n in two_drives["mallory"]}
    expected_hidden = {n.pk for n in two_drives["alice"]}
    found = ids(api.get("/api/v1/search/", {"q": "plan"}))
    assert found == {n.pk for n in two_drives["mallory"] if "plan" in n.name.lower()}
    assert found <= expected_visible and not found & expected_hidden


def test_home_folders_are_never_hits(alice, mallory, two_drives):
    homes = {tree.home_of(alice).pk, tree.home_of(mallory).pk}
    for user in (alice, mallory):
        found = set(
            build_queryset(user=user, query=SearchQuery(trash="include")).values_list(
                "pk", flat=True
            )
        )
        assert not found & homes


def test_anonymous_user_finds_nothing(two_drives):
    from django.contrib.auth.models import AnonymousUser

    assert not build_queryset(user=AnonymousUser(), query=SearchQuery()).exists()


def test_another_users_folder_as_scope_is_a_404(alice_api, mallory, two_drives):
    mallory_docs = next(n for n in two_drives["mallory"] if n.name == "Docs")
    response = alice_api.get("/api/v1/search/", {"in": mallory_docs.pk})
    assert response.status_code == 404
    assert response.json()["field"] == "in"
    assert "mallory" not in response.content.decode().lower()


# --- scope ----------------------------------------------------------------------------


@pytest.fixture
def projects(alice, upload, mkdir):
    a = mkdir("/Projects/Alpha")
    deep = mkdir("/Projects/Alpha/Deep/Deeper")
    b = mkdir("/Projects/Beta")
    return {
        "projects": a.parent,
        "alpha": a,
        "beta": b,
        "alpha_file": upload("budget.txt", b"1", parent=a),
        "deep_file": upload("budget-deep.txt", b"2", parent=deep),
        "beta_file": upload("budget.txt", b"3", parent=b),
        "home_file": upload("budget.txt", b"4"),
    }


def test_scope_includes_subfolders_and_excludes_siblings(alice_api, projects):
    found = ids(alice_api.get("/api/v1/search/", {"q": "budget", "in": projects["alpha"].pk}))
    assert found == {projects["alpha_file"].pk, projects["deep_file"].pk}
    assert projects["beta_file"].pk not in found and projects["home_file"].pk not in found


def test_scope_never_includes_the_folder_itself(alice_api, projects):
    found = ids(alice_api.get("/api/v1/search/", {"in": projects["projects"].pk}))
    assert projects["projects"].pk not in found
    assert {projects["alpha"].pk, projects["beta"].pk, projects["deep_file"].pk} <= found


def test_scope_of_the_home_folder_is_everything(alice_api, alice, projects):
    everything = ids(alice_api.get("/api/v1/search/"))
    assert ids(alice_api.get("/api/v1/search/", {"in": tree.home_of(alice).pk})) == everything


def test_scope_must_be_a_live_folder(alice_api, projects):
    response = alice_api.get("/api/v1/search/", {"in": projects["alpha_file"].pk})
    assert response.status_code == 404
    services.node_trash(node=projects["beta"])
    response = alice_api.get("/api/v1/search/", {"in": projects["beta"].pk})
    assert response.status_code == 404
    assert "trash" in response.json()["detail"]
    response = alice_api.get("/api/v1/search/", {"in": 10**12})
    assert response.status_code == 404


def test_scope_follows_moves(alice_api, alice, projects):
    services.node_move(node=projects["beta"], new_parent=projects["alpha"])
    found = ids(alice_api.get("/api/v1/search/", {"q": "budget", "in": projects["alpha"].pk}))
    assert projects["beta_file"].pk in found


# --- trash ----------------------------------------------------------------------------


@pytest.fixture
def with_trash(alice, upload, mkdir):
    old = mkdir("/Old")
    inside = upload("invoice-old.pdf", b"%PDF-1.4 old", parent=old)
    alone = upload("invoice-draft.pdf", b"%PDF-1.4 draft")
    live = upload("invoice.pdf", b"%PDF-1.4 live")
    services.node_trash(node=old)
    services.node_trash(node=alone)
    return {"old": old, "inside": inside, "alone": alone, "live": live}


def test_trash_is_excluded_by_default(alice_api, with_trash):
    assert ids(alice_api.get("/api/v1/search/", {"q": "invoice"})) == {with_trash["live"].pk}
    assert ids(alice_api.get("/api/v1/search/", {"q": "invoice", "trash": "exclude"})) == {
        with_trash["live"].pk
    }


def test_trash_include_and_only(alice_api, with_trash):
    trashed = {with_trash["inside"].pk, with_trash["alone"].pk, with_trash["old"].pk}
    found = ids(alice_api.get("/api/v1/search/", {"trash": "include"}))
    assert found == trashed | {with_trash["live"].pk}
    assert ids(alice_api.get("/api/v1/search/", {"trash": "only"})) == trashed
    hits = alice_api.get("/api/v1/search/", {"trash": "only", "q": "old.pdf"}).json()["results"]
    assert [h["path"] for h in hits] == ["/Old/invoice-old.pdf"]
    assert hits[0]["trashed_at"] is not None


def test_restored_items_are_found_again(alice_api, with_trash):
    services.node_restore(node=with_trash["old"])
    found = ids(alice_api.get("/api/v1/search/", {"q": "invoice"}))
    assert found == {with_trash["live"].pk, with_trash["inside"].pk}
