"""Sharing with people in a real browser: alice shares a folder with bob as editor, bob
finds it in Shared with me and uploads into it, alice sees bob's upload in its activity."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from files.models import Node
from tests.e2e.conftest import make_folder, row
from tests.factories import UserFactory


def session_for(browser: Browser, live_server: Any, user: Any) -> Page:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context.new_page()


def test_alice_shares_bob_uploads_alice_sees_it(
    signed_in: Page, alice: Any, browser: Browser, live_server: Any
) -> None:
    bob = UserFactory(username="bob")
    team = make_folder(alice, "/Team")
    page = signed_in
    page.goto(f"/files/items/{team.pk}/")
    people = page.locator("#people")
    people.get_by_label("User name or e-mail").fill("bob")
    people.get_by_label("Role").select_option("editor")
    people.get_by_role("button", name="Share").click()
    expect(page.locator(".messages")).to_contain_text("Shared “Team” with bob as editor")
    expect(page.locator("#people .person")).to_contain_text("bob")

    bobs = session_for(browser, live_server, bob)
    errors: list[str] = []
    bobs.on("pageerror", lambda exc: errors.append(str(exc)))
    bobs.goto("/")
    shared_link = bobs.locator("#side-shared-with-me")
    expect(shared_link.locator(".badge")).to_have_text("1")
    shared_link.click()
    listed = bobs.locator("table.shared-with-me tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text("Team")
    expect(listed).to_contain_text("alice")
    expect(listed).to_contain_text("Editor")
    listed.get_by_role("link", name="Team").click()
    expect(bobs.locator(".crumb-current")).to_have_text("Team")
    bobs.locator("#upload-popover > summary").click()
    bobs.set_input_files(
        "#upload-input",
        [{"name": "from-bob.txt", "mimeType": "text/plain", "buffer": b"hi alice"}],
    )
    expect(bobs.locator("#upload-total-text")).to_contain_text("1 of 1 file uploaded")
    expect(row(bobs, "from-bob.txt")).to_be_visible()
    # The badge is gone once Shared with me was opened.
    expect(bobs.locator("#side-shared-with-me .badge")).to_have_count(0)
    assert errors == []
    bobs.context.close()

    uploaded = Node.objects.get(name="from-bob.txt")
    assert uploaded.owner_id == alice.pk and uploaded.parent_id == team.pk
    page.goto(f"/files/items/{team.pk}/")
    entry = page.locator("#activity .activity-entry", has_text="from-bob.txt")
    expect(entry).to_contain_text("bob")
    expect(entry).to_contain_text("uploaded")
    page.goto(f"/files/activity/?folder={team.pk}")
    expect(page.locator(".activity-entry").first).to_contain_text("from-bob.txt")
