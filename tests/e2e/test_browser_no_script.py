"""The basics work with JavaScript switched off: browse, new folder, upload, rename, move,
trash, restore, download."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from files import selectors
from tests.e2e.conftest import make_file, make_folder, shoot


@pytest.fixture
def plain_page(browser: Browser, live_server: Any, alice: Any) -> Iterator[Page]:
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 1280, "height": 800}
    )
    client = Client()
    client.force_login(alice)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
    )
    page = context.new_page()
    yield page
    context.close()


def test_the_basics_without_javascript(plain_page: Page, alice: Any, tmp_path: Any) -> None:
    make_folder(alice, "/Archive")
    page = plain_page
    page.goto("/")
    expect(page.get_by_text("This folder is empty")).to_have_count(0)

    # New folder.
    page.locator("#new-folder > summary").click()
    page.get_by_label("Folder name").fill("Letters")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator(".message.success")).to_have_text("Folder “Letters” created.")
    page.get_by_role("link", name="Letters", exact=True).click()
    expect(page.get_by_role("heading", name="Letters")).to_be_visible()
    expect(page.get_by_text("This folder is empty")).to_be_visible()

    # Upload with a plain form.
    first = tmp_path / "dear.txt"
    first.write_text("Dear Alice")
    second = tmp_path / "reply.txt"
    second.write_text("Dear Bob")
    page.locator("#upload-popover > summary").click()
    page.get_by_label("Files to upload").set_input_files([str(first), str(second)])
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator(".message.success")).to_have_text("Uploaded 2 files to Letters.")
    expect(page.get_by_role("link", name="dear.txt", exact=True)).to_be_visible()
    shoot(page, "no-script-browser")

    # Rename on the item's page.
    page.get_by_role("link", name="dear.txt", exact=True).click()
    page.get_by_label("New name").fill("reply.txt")
    page.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    page.get_by_label("New name").fill("first letter.txt")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator(".message.success")).to_contain_text(
        "Renamed “dear.txt” to “first letter.txt”"
    )
    shoot(page, "no-script-item")

    # Move with the picker page.
    page.get_by_role("link", name="Move…").click()
    page.get_by_role("link", name="Your files").last.click()
    page.get_by_role("link", name="Archive").click()
    page.get_by_role("button", name="Move into “Archive”").click()
    expect(page.locator(".message.success")).to_contain_text(
        "Moved “first letter.txt” to “Archive”"
    )
    assert selectors.node_at_path(alice, "/Archive/first letter.txt")

    # Trash and restore.
    page.get_by_role("link", name="first letter.txt", exact=True).click()
    page.get_by_role("button", name="Move to trash").click()
    expect(page.locator(".message.success")).to_contain_text("moved to the trash")
    page.get_by_role("link", name="Trash").click()
    page.get_by_role("button", name="Restore first letter.txt").click()
    expect(page.locator(".message.success")).to_contain_text("restored to /Archive")

    # Several at once with the checkboxes.
    make_file(alice, "/Letters/extra.txt", b"x")
    page.goto("/")
    page.get_by_role("link", name="Letters", exact=True).click()
    page.get_by_role("checkbox", name="Select reply.txt").check()
    page.get_by_role("checkbox", name="Select extra.txt").check()
    page.get_by_role("button", name="Move to trash").click()
    expect(page.locator(".message.success")).to_contain_text("2 items moved to the trash")
    expect(page.get_by_text("This folder is empty")).to_be_visible()
