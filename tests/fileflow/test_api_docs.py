import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_openapi_schema_lists_the_endpoints_and_bearer_auth(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/me/" in schema["paths"]
    assert "/api/v1/tokens/" in schema["paths"]
    assert "/api/v1/tokens/{id}/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_works_offline(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    # Swagger UI comes from the sidecar package, served by us, not from a CDN.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    # Nothing inline: the CSP (script-src/style-src 'self') would block it.
    assert "<script>" not in html and "<style" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_browsable_api_is_on(alice_api):
    response = alice_api.get("/api/v1/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "text/html" in response["Content-Type"]


def _resolve(schema, item):
    while "$ref" in item:
        item = schema["components"]["schemas"][item["$ref"].rsplit("/", 1)[-1]]
    return item


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nodes/",
        "/api/v1/shares/",
        "/api/v1/shares/{id}/accesses/",
        "/api/v1/trash/",
        "/api/v1/search-profiles/",
    ],
)
def test_listings_are_described_as_the_objects_they_answer(client, path):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    body = schema["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    described = _resolve(schema, body["schema"])
    assert described.get("type") == "object", described
    assert "results" in described["properties"] and "next" in described["properties"]


def test_schema_allows_what_the_api_answers(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    hit = schema["components"]["schemas"]["SearchHit"]["properties"]
    assert hit["trashed_at"].get("nullable") is True
    upload = schema["paths"]["/api/v1/nodes/upload/"]["post"]["responses"]
    assert {"400", "401", "404", "409", "411", "413", "415"} <= set(upload)
    thumbnail = schema["paths"]["/api/v1/nodes/{id}/thumbnail/"]["get"]["responses"]
    assert {"415", "422"} <= set(thumbnail)
    limit = next(
        p for p in schema["paths"]["/api/v1/shares/"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 1000
