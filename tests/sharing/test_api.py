"""The share-link API: what scripts do, and alice/mallory on every endpoint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sharing.models import ShareLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def mallory_api(mallory) -> APIClient:
    client = APIClient()
    client.force_login(mallory)
    return client


def test_create_list_update_and_revoke(alice_api, drive, visitor):
    created = alice_api.post(
        "/api/v1/shares/",
        {"node": drive["shared"].pk, "expires_in_days": 2, "max_access_count": 3, "label": "Bob"},
        format="json",
    )
    assert created.status_code == 201, created.content
    link = created.json()
    assert link["url"].startswith("http://testserver/s/")
    assert (link["node_path"], link["is_folder"], link["state"]) == ("/Shared", True, "active")
    assert (link["access_count"], link["max_access_count"], link["has_password"]) == (0, 3, False)
    assert "password" not in link and "seed" not in link and "token_hash" not in link
    assert visitor.get(link["url"]).status_code == 200

    listed = alice_api.get("/api/v1/shares/").json()
    assert [item["id"] for item in listed["results"]] == [link["id"]]
    assert listed["results"][0]["url"] == link["url"]  # the owner can copy it again
    assert listed["results"][0]["access_count"] == 1

    changed = alice_api.patch(
        f"/api/v1/shares/{link['id']}/", {"password": "pw", "label": "Carol"}, format="json"
    ).json()
    assert changed["has_password"] and changed["label"] == "Carol"
    assert "This link is protected" in visitor.get(link["url"]).content.decode()

    revoked = alice_api.delete(f"/api/v1/shares/{link['id']}/")
    assert revoked.status_code == 200
    assert revoked.json()["state"] == "revoked"
    assert visitor.get(link["url"]).status_code == 410
    assert alice_api.get("/api/v1/shares/?state=revoked").json()["count"] == 1
    assert alice_api.get("/api/v1/shares/?state=active").json()["count"] == 0


def test_the_access_log_lists_visits_without_addresses(alice_api, drive, visitor):
    link = alice_api.post("/api/v1/shares/", {"node": drive["report"].pk}, format="json").json()
    visitor.get(link["url"])
    visitor.get(link["url"] + "download/")
    log = alice_api.get(f"/api/v1/shares/{link['id']}/accesses/").json()
    assert [entry["action"] for entry in log["results"]] == ["download", "visit"]
    assert log["results"][1]["counted"] is True
    assert all("ip_address" not in entry for entry in log["results"])


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"permission": "upload"}, "permission", 400),
        ({"max_access_count": 0}, "max_access_count", 400),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at", 400),
        ({"expires_at": None}, "expires_at", 400),
        ({"expires_in_days": 365}, "expires_at", 400),
        ({"expires_at": "not a date"}, "expires_at", 400),
        ({"expires_in_days": 1, "expires_at": "2030-01-01T00:00:00Z"}, "expires_in_days", 400),
        ({"permission": "delete"}, "permission", 400),
        ({"max_access_count": "ten"}, "max_access_count", 400),
    ],
)
def test_bad_values_answer_400_naming_the_field(alice_api, drive, payload, field, status):
    response = alice_api.post(
        "/api/v1/shares/", {"node": drive["report"].pk, **payload}, format="json"
    )
    assert response.status_code == status, response.content
    body = response.json()
    assert body.get("field") == field or field in body, body
    assert not ShareLink.objects.exists()


def test_bad_filters_and_unknown_nodes(alice_api, drive):
    assert alice_api.get("/api/v1/shares/?state=sideways").status_code == 400
    assert alice_api.post("/api/v1/shares/", {"node": 10**9}, format="json").status_code == 404
    assert alice_api.post("/api/v1/shares/", {}, format="json").status_code == 400


def test_anonymous_callers_get_401(api, drive):
    assert api.get("/api/v1/shares/").status_code == 401


def test_mallory_reaches_none_of_alices_links(alice_api, mallory_api, drive, mallory):
    link = alice_api.post("/api/v1/shares/", {"node": drive["report"].pk}, format="json").json()
    base = f"/api/v1/shares/{link['id']}/"
    expected_hidden = [
        ("get", base, None),
        ("patch", base, {"label": "mine now"}),
        ("delete", base, None),
        ("get", base + "accesses/", None),
    ]
    for method, url, data in expected_hidden:
        response = getattr(mallory_api, method)(url, data, format="json")
        assert response.status_code == 404, (method, url)
    assert mallory_api.get("/api/v1/shares/").json()["count"] == 0
    assert mallory_api.get(f"/api/v1/shares/?node={drive['report'].pk}").status_code == 404
    # Nor can she share alice's file.
    stolen = mallory_api.post("/api/v1/shares/", {"node": drive["report"].pk}, format="json")
    assert stolen.status_code == 404
    unchanged = ShareLink.objects.get(pk=link["id"])
    assert unchanged.label == "" and unchanged.revoked_at is None
    assert ShareLink.objects.count() == 1


def test_expiry_can_be_moved_within_the_policy(alice_api, drive):
    link = alice_api.post("/api/v1/shares/", {"node": drive["report"].pk}, format="json").json()
    later = (timezone.now() + timedelta(days=60)).isoformat()
    changed = alice_api.patch(f"/api/v1/shares/{link['id']}/", {"expires_at": later}, format="json")
    assert changed.status_code == 200
    assert changed.json()["expires_at"][:10] == later[:10]


def test_the_schema_documents_the_share_endpoints(alice_api):
    schema = alice_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert "/api/v1/shares/" in schema["paths"]
    assert "/api/v1/shares/{id}/accesses/" in schema["paths"]
