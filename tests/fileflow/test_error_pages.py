"""Requests no view answers: JSON ``{detail, code}`` under /api/, the styled page elsewhere."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/v1/", "/api/v1/nope/", "/api/", "/api/v2/me/"])
def test_unknown_api_urls_answer_json_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "not_found"
    assert url in body["detail"] and "/api/docs/" in body["detail"]


def test_unknown_api_url_with_a_token_or_session_is_json_too(alice_api):
    response = alice_api.post("/api/v1/nodes/1/nope/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_mistyped_page_url_gets_the_styled_page_with_a_way_back(client, alice):
    client.force_login(alice)
    response = client.get("/filez/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "/filez/" in html
    assert 'href="/"' in html and "Back to your files" in html
    assert "css/fileflow.css" in html  # the app's layout, not Django's bare page


def test_mistyped_page_url_for_a_visitor_is_styled_too(client):
    response = client.get("/nothing-here/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "css/fileflow.css" in html
    assert 'href="/"' in html


@pytest.mark.urls("tests.fileflow.boom_urls")
@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("boom", 500, "server_error"),
        ("forbidden", 403, "permission_denied"),
        ("suspicious", 400, "bad_request"),
    ],
)
def test_api_errors_django_answers_are_json(name, status, code):
    client = Client(raise_request_exception=False)
    response = client.get(f"/api/v1/{name}/")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code


@pytest.mark.urls("tests.fileflow.boom_urls")
@pytest.mark.parametrize(
    ("name", "status", "title"),
    [
        ("boom", 500, "Something went wrong"),
        ("forbidden", 403, "Not allowed"),
        ("suspicious", 400, "Bad request"),
    ],
)
def test_page_errors_use_the_styled_page(name, status, title):
    client = Client(raise_request_exception=False)
    response = client.get(f"/{name}/")
    assert response.status_code == status
    html = response.content.decode()
    assert title in html and "css/fileflow.css" in html and 'href="/"' in html


def test_a_form_without_its_csrf_token_gets_the_styled_page(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post("/account/email/", {"email": "x@example.org"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "Not allowed" in html and "Reload the page" in html and "css/fileflow.css" in html
