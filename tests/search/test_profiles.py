"""Saved searches: CRUD, running them, a scope folder that goes away, the admin."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from files import services as file_services
from search import services
from search.errors import InvalidSearch, SearchFolderNotFound
from search.models import SearchProfile
from tests.search.conftest import stamp

pytestmark = pytest.mark.django_db

URL = "/api/v1/search-profiles/"


@pytest.fixture
def photos(alice, upload, mkdir):
    folder = mkdir("/Photos/2025")
    return {
        "folder": folder,
        "beach": upload("beach.jpg", b"\xff\xd8\xff\xe0beach", parent=folder),
        "notes": upload("beach notes.txt", b"notes", parent=folder),
        "elsewhere": upload("beach.jpg", b"\xff\xd8\xff\xe0elsewhere"),
    }


def test_create_read_list_update_delete(alice_api, photos):
    created = alice_api.post(
        URL,
        {
            "name": "  Beach   photos ",
            "query": "beach",
            "file_types": ["image"],
            "extensions": [".JPG"],
            "size_max": 1000,
            "date_from": "2025-01-01",
            "tags": ["holiday"],
            "tag_mode": "all",
            "favorites_only": False,
            "scope": photos["folder"].pk,
            "sort": "-modified",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Beach photos"
    assert body["extensions"] == ["jpg"]
    assert body["scope"] == photos["folder"].pk
    assert body["scope_path"] == "/Photos/2025"
    assert body["scope_missing"] is False
    pk = body["id"]

    assert alice_api.get(f"{URL}{pk}/").json()["query"] == "beach"
    assert [p["name"] for p in alice_api.get(URL).json()["results"]] == ["Beach photos"]

    renamed = alice_api.patch(f"{URL}{pk}/", {"name": "Beach"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert renamed.json()["name"] == "Beach"
    assert renamed.json()["sort"] == "-modified"  # untouched fields stay
    assert renamed.json()["scope"] == photos["folder"].pk

    replaced = alice_api.put(f"{URL}{pk}/", {"name": "Beach", "query": "notes"}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["query"] == "notes"

    assert alice_api.delete(f"{URL}{pk}/").status_code == 204
    assert not SearchProfile.objects.filter(pk=pk).exists()


def test_names_are_unique_per_owner_ignoring_case(alice_api, mallory, api):
    assert alice_api.post(URL, {"name": "Work"}, format="json").status_code == 201
    again = alice_api.post(URL, {"name": "work"}, format="json")
    assert again.status_code == 409
    assert again.json()["field"] == "name"
    other = alice_api.post(URL, {"name": "Other"}, format="json").json()
    clash = alice_api.patch(f"{URL}{other['id']}/", {"name": "WORK"}, format="json")
    assert clash.status_code == 409
    api.force_login(mallory)
    assert api.post(URL, {"name": "Work"}, format="json").status_code == 201


def test_alice_and_mallory_see_only_their_own_profiles(alice, mallory, alice_api, api):
    mine = {services.profile_create(owner=alice, name=n).pk for n in ("A", "B")}
    theirs = {services.profile_create(owner=mallory, name=n).pk for n in ("A", "C")}
    expected_visible, expected_hidden = mine, theirs
    listed = {p["id"] for p in alice_api.get(URL).json()["results"]}
    assert listed == expected_visible and not listed & expected_hidden
    for pk in expected_hidden:
        assert alice_api.get(f"{URL}{pk}/").status_code == 404
        assert alice_api.get(f"{URL}{pk}/results/").status_code == 404
        assert alice_api.patch(f"{URL}{pk}/", {"name": "x"}, format="json").status_code == 404
        assert alice_api.delete(f"{URL}{pk}/").status_code == 404
    assert SearchProfile.objects.filter(pk__in=expected_hidden).count() == 2
    api.force_login(mallory)
    assert {p["id"] for p in api.get(URL).json()["results"]} == theirs


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"name": ""}, "name", 400),
        ({"name": "   "}, "name", 400),
        ({"name": "x" * 101}, "name", 400),
        ({"name": "a\x00b"}, "name", 400),
        ({"name": "p", "size_min": -1}, "size_min", 400),
        ({"name": "p", "size_min": 10, "size_max": 5}, "size_min", 400),
        ({"name": "p", "date_from": "2026-02-01", "date_to": "2026-01-01"}, "date_from", 400),
        ({"name": "p", "date_from": "2026-02-30"}, "date_from", 400),
        ({"name": "p", "file_types": ["bogus"]}, "file_types", 400),
        ({"name": "p", "file_types": "image"}, "file_types", 400),
        ({"name": "p", "extensions": ["tar.gz"]}, "extensions", 400),
        ({"name": "p", "tags": ["t" * 65]}, "tags", 400),
        ({"name": "p", "tag_mode": "most"}, "tag_mode", 400),
        ({"name": "p", "sort": "owner"}, "sort", 400),
        ({"name": "p", "query": "q\x00"}, "query", 400),
        ({"name": "p", "query": " ".join(f"w{i}" for i in range(11))}, "query", 400),
        ({"name": "p", "scope": 10**12}, "scope", 404),
        ({"name": "p", "scope": "abc"}, "scope", 400),
        ({"name": "p", "favorites_only": "perhaps"}, "favorites_only", 400),
    ],
)
def test_bad_profile_values(alice_api, payload, field, status):
    response = alice_api.post(URL, payload, format="json")
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body if "field" not in body else body["field"] == field
    if "detail" in body:
        assert field in body["detail"] or field == "name"


def test_scope_must_be_my_live_folder(alice_api, mallory, photos, mkdir):
    theirs = mkdir("/Theirs", owner=mallory)
    for scope in (theirs.pk, photos["beach"].pk):
        response = alice_api.post(URL, {"name": "p", "scope": scope}, format="json")
        assert response.status_code == 404
        assert response.json()["field"] == "scope"
    file_services.node_trash(node=photos["folder"])
    response = alice_api.post(URL, {"name": "p", "scope": photos["folder"].pk}, format="json")
    assert response.status_code == 404
    assert "trash" in response.json()["detail"]


def test_services_validate_with_the_search_rules(alice, mallory, photos, mkdir):
    with pytest.raises(InvalidSearch) as raised:
        services.profile_create(owner=alice, name="x", file_types=["bogus"])
    assert raised.value.field == "file_types"
    with pytest.raises(InvalidSearch) as raised:
        services.profile_create(
            owner=alice, name="x", date_from=date(2026, 2, 1), date_to=date(2026, 1, 1)
        )
    assert raised.value.field == "date_from"
    assert "date_to" in raised.value.message
    with pytest.raises(SearchFolderNotFound):
        services.profile_create(owner=alice, name="x", scope=mkdir("/M", owner=mallory))
    profile = services.profile_create(owner=alice, name="x", scope=photos["folder"])
    updated = services.profile_update(profile=profile, query="beach")
    assert (updated.query, updated.scope_id, updated.name) == ("beach", photos["folder"].pk, "x")
    cleared = services.profile_update(profile=profile, scope=None)
    assert cleared.scope_id is None and cleared.scope_path == "" and not cleared.scope_missing


def _results(client, pk, **params):
    response = client.get(f"{URL}{pk}/results/", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_running_a_profile_is_the_same_search(alice_api, alice, photos, tag, favorite):
    tag(photos["beach"], "holiday")
    favorite(photos["beach"])
    tag(photos["elsewhere"], "holiday")
    stamp(photos["notes"], updated_at=timezone.now() - timedelta(days=30))
    profile = alice_api.post(
        URL,
        {
            "name": "Holiday",
            "query": "beach",
            "scope": photos["folder"].pk,
            "date_from": (timezone.now() - timedelta(days=5)).date().isoformat(),
        },
        format="json",
    ).json()
    body = _results(alice_api, profile["id"])
    assert [h["path"] for h in body["results"]] == ["/Photos/2025/beach.jpg"]
    assert body["scope_missing"] is False and body["notice"] is None and body["count"] == 1
    same = alice_api.get(
        "/api/v1/search/",
        {
            "q": "beach",
            "in": photos["folder"].pk,
            "modified_after": (timezone.now() - timedelta(days=5)).date().isoformat(),
        },
    ).json()
    assert same["results"] == body["results"]

    alice_api.patch(
        f"{URL}{profile['id']}/",
        {"scope": None, "date_from": None, "tags": ["HOLIDAY"], "favorites_only": True},
        format="json",
    )
    assert [h["id"] for h in _results(alice_api, profile["id"])["results"]] == [photos["beach"].pk]
    alice_api.patch(
        f"{URL}{profile['id']}/", {"favorites_only": False, "sort": "-name"}, format="json"
    )
    assert len(_results(alice_api, profile["id"])["results"]) == 2


def test_results_are_paginated(alice_api, upload):
    for i in range(5):
        upload(f"page-{i}.txt", b"x")
    pk = alice_api.post(URL, {"name": "Pages", "query": "page"}, format="json").json()["id"]
    first = _results(alice_api, pk, limit=2)
    assert [h["name"] for h in first["results"]] == ["page-0.txt", "page-1.txt"]
    assert first["count"] == 5 and "offset=2" in first["next"]
    assert alice_api.get(f"{URL}{pk}/results/", {"limit": 0}).status_code == 400


def test_deleted_scope_is_reported_not_a_failure(alice_api, alice, photos):
    pk = alice_api.post(
        URL, {"name": "Photos 2025", "scope": photos["folder"].pk}, format="json"
    ).json()["id"]
    file_services.node_trash(node=photos["folder"])
    trashed = _results(alice_api, pk)
    assert trashed["scope_missing"] is True and trashed["results"] == []
    assert "/Photos/2025" in trashed["notice"] and "trash" in trashed["notice"]

    file_services.node_delete(node=photos["folder"])
    profile = alice_api.get(f"{URL}{pk}/").json()
    assert profile["scope"] is None and profile["scope_missing"] is True
    assert profile["scope_path"] == "/Photos/2025"
    gone = _results(alice_api, pk)
    assert gone["scope_missing"] is True and gone["results"] == [] and gone["count"] == 0
    assert "“/Photos/2025”" in gone["notice"] and "deleted" in gone["notice"]

    # The owner can still rename it, and fix it by clearing or choosing a folder.
    assert alice_api.patch(f"{URL}{pk}/", {"name": "Old photos"}, format="json").status_code == 200
    fixed = alice_api.patch(f"{URL}{pk}/", {"scope": None}, format="json").json()
    assert fixed["scope_missing"] is False
    left = _results(alice_api, pk)["results"]
    assert [h["path"] for h in left] == ["/beach.jpg", "/Photos"]


def test_restored_scope_works_again(alice_api, photos):
    pk = alice_api.post(URL, {"name": "P", "scope": photos["folder"].pk}, format="json").json()[
        "id"
    ]
    file_services.node_trash(node=photos["folder"].parent)
    assert _results(alice_api, pk)["scope_missing"] is True
    file_services.node_restore(node=photos["folder"].parent)
    body = _results(alice_api, pk)
    assert body["scope_missing"] is False and body["count"] == 2


def test_deleting_the_owner_deletes_their_profiles(alice, photos):
    services.profile_create(owner=alice, name="x", scope=photos["folder"])
    alice.delete()
    assert not SearchProfile.objects.exists()


def test_admin_lists_profiles_filterable_by_owner(admin_client, alice, mallory):
    mine = services.profile_create(owner=alice, name="Alice's search")
    services.profile_create(owner=mallory, name="Mallory's search")
    page = admin_client.get("/admin/search/searchprofile/")
    assert page.status_code == 200
    assert "Alice&#x27;s search" in page.content.decode()
    filtered = admin_client.get(f"/admin/search/searchprofile/?owner__id__exact={alice.pk}")
    html = filtered.content.decode()
    assert "Alice&#x27;s search" in html and "Mallory&#x27;s search" not in html
    assert admin_client.get(f"/admin/search/searchprofile/{mine.pk}/change/").status_code == 200
    response = admin_client.post(
        "/admin/search/searchprofile/",
        {"action": "delete_selected", "_selected_action": [mine.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(SearchProfile.objects.values_list("name", flat=True)) == ["Mallory's search"]


def test_openapi_schema_documents_search(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    search = schema["paths"]["/api/v1/search/"]["get"]
    documented = {p["name"] for p in search["parameters"]}
    assert documented >= {
        "q",
        "type",
        "ext",
        "size_min",
        "size_max",
        "modified_after",
        "modified_before",
        "created_after",
        "created_before",
        "tag",
        "tag_mode",
        "favorite",
        "in",
        "trash",
        "ordering",
        "limit",
        "offset",
    }
    assert all(p.get("description") for p in search["parameters"])
    assert "/api/v1/search-profiles/" in schema["paths"]
    assert "/api/v1/search-profiles/{id}/results/" in schema["paths"]
