"""The trash page, versions in the details panel, the theme and the phone layout."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.utils import timezone
from playwright.sync_api import Page, expect

from files import selectors, services
from files.models import Node
from tests.e2e.conftest import make_file, make_folder, row, shoot


def test_restore_and_delete_forever_from_the_trash(
    signed_in: Page, alice: Any, settings: Any
) -> None:
    settings.FILEFLOW_TRASH_DAYS = 14
    make_folder(alice, "/Projects/Old")
    services.node_trash(node=make_file(alice, "/Projects/Old/plan.txt", b"plan"))
    services.node_trash(node=make_file(alice, "/scratch.txt", b"scratch"))
    services.node_trash(node=make_file(alice, "/junk.txt", b"junk"))
    services.node_trash(node=make_file(alice, "/more junk.txt", b"more"))
    page = signed_in
    page.goto("/")
    page.get_by_role("link", name="Trash").click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    expect(page.get_by_text("deleted for good after 14 days")).to_be_visible()
    plan = page.locator("tr", has_text="plan.txt")
    expect(plan.locator(".from")).to_have_text("Your files/Projects/Old")
    # The day it goes, in the browser's own format.
    purge_day = page.evaluate(
        "iso => new Intl.DateTimeFormat(undefined, {dateStyle: 'medium'}).format(new Date(iso))",
        (timezone.now() + timedelta(days=14)).isoformat(),
    )
    expect(plan).to_contain_text(f"deleted for good {purge_day}")
    shoot(page, "trash")

    plan.get_by_role("button", name="Restore plan.txt").click()
    expect(page.locator(".message.success")).to_contain_text("“plan.txt” restored to /Projects/Old")
    assert selectors.node_at_path(alice, "/Projects/Old/plan.txt").trashed_at is None

    # Several at once: check two, delete them forever (after a confirmation).
    page.get_by_role("checkbox", name="Check junk.txt").check()
    page.get_by_role("checkbox", name="Check more junk.txt").check()
    page.get_by_role("button", name="Delete checked forever").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("cannot be undone")
    confirm.get_by_role("button", name="Delete checked forever").click()
    expect(page.locator(".message.success")).to_contain_text("2 items deleted for good")
    assert not Node.objects.filter(name__in=["junk.txt", "more junk.txt"]).exists()
    expect(page.locator("tbody tr")).to_have_count(1)

    page.get_by_role("link", name="Empty trash").click()
    expect(page.get_by_role("heading", name="Empty the trash?")).to_be_visible()
    page.get_by_role("button", name="Delete 1 item forever").click()
    expect(page.get_by_text("The trash is empty")).to_be_visible()
    assert not Node.objects.filter(owner=alice, trashed_at__isnull=False).exists()


def test_trashed_in_the_browser_then_restored_from_the_trash(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/Docs/keep.txt", b"keep")
    page = signed_in
    page.goto("/")
    row(page, "Docs").locator(".name-link").click()
    row(page, "keep.txt").locator(".cell.size").click()
    page.keyboard.press("Delete")
    expect(row(page, "keep.txt")).to_have_count(0)
    page.get_by_role("link", name="Trash").click()
    page.locator("tr", has_text="keep.txt").get_by_role("button", name="Restore keep.txt").click()
    page.get_by_role("link", name="Your files").click()
    row(page, "Docs").locator(".name-link").click()
    expect(row(page, "keep.txt")).to_be_visible()


def test_version_restore_in_the_details_panel(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/essay.txt", b"first draft")
    make_file(alice, "/essay.txt", b"second, much longer draft", on_conflict="replace")
    page = signed_in
    page.goto("/")
    row(page, "essay.txt").locator(".cell.size").click()
    page.get_by_role("button", name="Show details").click()
    details = page.locator("#details")
    expect(details.get_by_role("heading", name="essay.txt")).to_be_visible()
    expect(details).to_contain_text("25 bytes")
    expect(details).to_contain_text("/essay.txt")
    node = selectors.node_at_path(alice, "/essay.txt")
    assert node.blob is not None
    expect(details.locator(".checksum")).to_have_text(node.blob.sha256)
    versions = details.locator(".version")
    expect(versions).to_have_count(1)
    expect(versions.first).to_contain_text("11 bytes")
    shoot(page, "details-versions")

    versions.first.get_by_role("button", name=re.compile("^Restore the version")).click()
    expect(page.locator(".toast", has_text="Restored the version")).to_be_visible()
    expect(details.locator("dd", has_text="11 bytes")).to_be_visible()
    expect(row(page, "essay.txt").locator(".cell.size")).to_have_text("11\u00a0bytes")
    # The content it replaced is kept too, newest first.
    expect(details.locator(".version")).to_have_count(2)
    expect(details.locator(".version").first).to_contain_text("25 bytes")
    node.refresh_from_db()
    assert node.size == 11

    # Deleting a version asks first.
    details.locator(".version").first.get_by_role(
        "button", name=re.compile("^Delete the version")
    ).click()
    page.locator("#confirm-dialog").get_by_role("button", name="Delete version").click()
    expect(details.locator(".version")).to_have_count(1)
    assert node.versions.count() == 1


def test_theme_toggle_on_the_browser(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/a.txt", b"a")
    page = signed_in
    page.emulate_media(color_scheme="light")
    page.goto("/")
    background = "() => getComputedStyle(document.querySelector('.listing')).backgroundColor"
    light = page.evaluate(background)
    toggle = page.get_by_role("button", name="Switch colour theme")
    toggle.click()  # system -> light
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == light
    toggle.click()  # light -> dark
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark = page.evaluate(background)
    assert dark != light
    page.reload()
    assert page.evaluate(background) == dark
    shoot(page, "browser-dark")


def test_phone_layout(signed_in: Page, alice: Any) -> None:
    for name in ["Holiday photos", "Receipts"]:
        make_folder(alice, f"/{name}")
    make_file(alice, "/notes.txt", b"notes")
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/")
    expect(row(page, "notes.txt")).to_be_visible()
    # Nothing runs off the side of the screen.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    expect(row(page, "notes.txt").locator(".cell.modified")).to_be_hidden()
    row(page, "notes.txt").get_by_role("button", name="More actions for notes.txt").click()
    expect(page.get_by_role("menu")).to_be_visible()
    shoot(page, "browser-phone")
