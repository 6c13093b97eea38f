"""What a new user met in their first hour (issue 11), kept fixed in a real browser: one way
to write sizes and moments, names that fit, rename messages, notifications, search, the
storage figure, the share dialog, and a phone-sized layout."""

from __future__ import annotations

import re
from typing import Any

from django.template.defaultfilters import filesizeformat
from playwright.sync_api import Browser, Page, expect

from files import selectors, services
from tests.e2e.conftest import make_file, make_folder, row, shoot

PHONE = {"width": 390, "height": 844}

# --- one size formatter, one date format (items 14, 15) -------------------------------------

SIZES = [0, 1, 2, 1023, 1024, 1280, 1331, 1536, 152064, 152166, 1048575, 1048576, 1572864,
         5 * 1024**3 + 123456789, 3 * 1024**4, 7 * 1024**5, 2**53 - 1]  # fmt: skip


def test_the_page_writes_sizes_exactly_as_the_server_does(signed_in: Page) -> None:
    page = signed_in
    page.goto("/files/trash/")
    written = page.evaluate("sizes => sizes.map(FF.formatSize)", SIZES)
    assert written == [filesizeformat(size) for size in SIZES]
    # 1280 bytes is 1.25 KB: both round the tie the same way.
    assert written[SIZES.index(1280)] == "1.2\xa0KB"


def test_moments_are_written_in_the_browsers_zone_and_locale_everywhere(
    browser: Browser, live_server: Any, alice: Any
) -> None:
    from django.conf import settings
    from django.test import Client

    docs = make_folder(alice, "/Docs")
    old = make_file(alice, "/Docs/old.txt", b"x")
    make_file(alice, "/Docs/kept.txt", b"y")
    services.node_trash(node=old)
    client = Client()
    client.force_login(alice)
    context = browser.new_context(
        base_url=live_server.url, locale="de-DE", timezone_id="Asia/Tokyo",
        viewport={"width": 1280, "height": 800},
    )  # fmt: skip
    context.add_cookies([{
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": live_server.url,
    }])  # fmt: skip
    page = context.new_page()
    expected_js = """() => Array.from(document.querySelectorAll("time[datetime]")).map(t => [
        t.textContent,
        new Intl.DateTimeFormat("de-DE", t.dataset.style === "date"
            ? {dateStyle: "medium", timeZone: "Asia/Tokyo"}
            : {dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Tokyo"})
          .format(new Date(t.getAttribute("datetime")))])"""
    try:
        for url in ("/files/trash/", f"/files/folders/{docs.pk}/", f"/files/items/{old.pk}/"):
            page.goto(url)
            pairs = page.evaluate(expected_js)
            assert pairs, url
            for shown, expected in pairs:
                assert shown == expected, url
        # What the script writes itself (the details panel) reads the same.
        page.goto(f"/files/folders/{docs.pk}/")
        row(page, "kept.txt").locator(".cell.size").click()
        page.keyboard.press("i")
        modified = page.locator("#details").get_by_text(
            re.compile(r"^\d{2}\.\d{2}\.\d{4}, \d{2}:\d{2}$")
        )
        expect(modified.first).to_be_visible()
    finally:
        context.close()


# --- rename (item 17) --------------------------------------------------------------------------


def test_rename_shows_the_servers_reason_and_trims_spaces(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/draft.txt", b"text")
    page = signed_in
    page.goto("/")
    row(page, "draft.txt").locator(".cell.size").click()
    page.keyboard.press("F2")
    field = page.get_by_role("textbox", name="New name for draft.txt")
    field.fill("")
    page.keyboard.press("Enter")
    expect(page.locator(".inline-error")).to_have_text("A name cannot be empty.")

    # A long name is not cut short in the field: the server says why it refuses it.
    long_name = "x" * 296 + ".pdf"
    field.fill(long_name)
    assert field.input_value() == long_name
    page.keyboard.press("Enter")
    expect(page.locator(".inline-error")).to_have_text(
        "A name can be at most 255 characters; this one has 300."
    )

    field.fill("  final.txt  ")
    page.keyboard.press("Enter")
    expect(row(page, "final.txt")).to_be_visible()
    assert selectors.node_at_path(alice, "/final.txt").size == 4


# --- long names (item 16) ------------------------------------------------------------------

LONG = "Quarterly report for the board with every appendix and the auditors' remarks " * 2
LONG_NAME = LONG.strip()[:200] + ".pdf"


def truncated(locator: Any) -> bool:
    return locator.evaluate(
        "e => e.scrollWidth > e.clientWidth && getComputedStyle(e).textOverflow === 'ellipsis'"
    )


def test_long_names_end_with_an_ellipsis_and_show_in_full_on_hover_and_in_details(
    signed_in: Page, alice: Any
) -> None:
    make_file(alice, f"/{LONG_NAME}", b"%PDF-1.4")
    make_file(alice, "/short.txt", b"x")
    page = signed_in
    page.goto("/")
    link = row(page, LONG_NAME).locator(".name-link")
    assert truncated(link)
    assert link.get_attribute("title") == LONG_NAME
    # One line: the row is no taller than a short name's.
    long_height = row(page, LONG_NAME).bounding_box()["height"]
    assert long_height <= row(page, "short.txt").bounding_box()["height"] + 1
    row(page, LONG_NAME).locator(".cell.size").click()
    page.keyboard.press("i")
    expect(page.locator("#details-title")).to_have_text(LONG_NAME)

    services.node_trash(node=selectors.node_at_path(alice, f"/{LONG_NAME}"))
    page.goto("/files/trash/")
    name = page.locator(".trash-name")
    assert truncated(name) and name.get_attribute("title") == LONG_NAME


# --- the storage figure (item 20) ----------------------------------------------------------


def test_the_storage_figure_follows_a_copy_without_a_reload(signed_in: Page, alice: Any) -> None:
    make_folder(alice, "/Backup")
    make_file(alice, "/photo.txt", b"pixels")
    page = signed_in
    page.goto("/")
    usage = page.locator("#side-usage .usage-text")
    expect(usage).to_have_text("6\xa0bytes used")
    row(page, "photo.txt").click(button="right")
    page.get_by_role("menuitem", name="Copy to…").click()
    page.locator("#picker").get_by_role("button", name="Backup").click()
    page.locator("#picker").get_by_role("button", name="Copy here").click()
    expect(usage).to_have_text("12\xa0bytes used")


# --- notifications and the upload panel (item 13) --------------------------------------------


def overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def test_notes_replace_each_other_and_nothing_covers_the_list_or_the_details(
    signed_in: Page, alice: Any
) -> None:
    for n in range(12):
        make_file(alice, f"/file {n:02}.txt", b"x" * (n + 1))
    page = signed_in
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto("/")
    # Open the details panel with its versions, and upload a file: the upload panel shows.
    row(page, "file 11.txt").locator(".cell.size").click()
    page.keyboard.press("i")
    expect(page.locator("#details")).to_be_visible()
    page.locator("#upload-popover > summary").click()
    page.set_input_files(
        "#upload-input", [{"name": "new.txt", "mimeType": "text/plain", "buffer": b"new"}]
    )
    expect(page.locator("#upload-total-text")).to_contain_text("1 of 1 file uploaded")
    # The listing reloads with the new file: renaming starts after that, not during it.
    expect(row(page, "new.txt")).to_be_visible()
    page.locator("#upload-popover > summary").click()
    # Four things done in a row leave at most two notes.
    for n in range(4):
        row(page, f"file {n:02}.txt").locator(".cell.size").click()
        page.keyboard.press("F2")
        page.keyboard.type(f"renamed {n}")
        page.keyboard.press("Enter")
        expect(row(page, f"renamed {n}.txt")).to_be_visible()
    expect(page.locator(".toast")).to_have_count(2)
    expect(page.locator(".toast").last).to_contain_text("renamed 3.txt")

    covering = [page.locator("#upload-panel").bounding_box()]
    covering += [toast.bounding_box() for toast in page.locator(".toast").all()]
    covered = [page.locator("#details").bounding_box()]
    covered += [cell.bounding_box() for cell in page.locator("#listing .cell.size").all()]
    covered += [cell.bounding_box() for cell in page.locator("#listing .name-link").all()]
    for box in covering:
        assert box is not None
        for target in covered:
            if target is not None:
                assert not overlaps(box, target), (box, target)

    # On a phone the details are a sheet from the bottom, over the dock.
    page.set_viewport_size(PHONE)
    sheet = page.locator("#details")
    expect(sheet).to_be_visible()
    box = sheet.bounding_box()
    assert box is not None
    on_top = page.evaluate(
        "([x, y]) => document.getElementById('details').contains(document.elementFromPoint(x, y))",
        [box["x"] + box["width"] / 2, PHONE["height"] - 40],
    )
    assert on_top
    page.set_viewport_size({"width": 1280, "height": 720})

    # The panel folds to its summary line.
    page.get_by_role("button", name="Hide the list of files").click()
    expect(page.locator("#upload-list")).to_be_hidden()
    expect(page.locator("#upload-total-text")).to_be_visible()


# --- sharing in one click (item 12) ----------------------------------------------------------


def test_one_click_makes_a_link_and_the_dialog_then_shows_it_with_its_settings(
    signed_in: Page, alice: Any, live_server: Any
) -> None:
    from sharing.models import ShareLink

    make_file(alice, "/notes.txt", b"hello")
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto("/")
    row(page, "notes.txt").click(button="right")
    page.get_by_role("menuitem", name="Share…").click()
    dialog = page.locator("#share-dialog")
    create = dialog.get_by_role("button", name="Create link", exact=True)
    expect(create).to_be_focused()
    expect(dialog.locator("#share-quick-help")).to_contain_text("expires after 7 days")
    create.click()
    url = dialog.locator("#share-result-url")
    expect(url).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{43}/$"))
    link = ShareLink.objects.get()
    assert link.permission == "download" and link.expires_at is not None
    # The new link and its settings, not an empty "new link" form inviting a second one.
    expect(dialog.locator("#share-result-facts")).to_contain_text("View and download")
    expect(create).to_be_hidden()
    expect(dialog.get_by_role("button", name="Copy link").first).to_be_focused()
    dialog.get_by_role("button", name="Copy link").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == url.input_value()
    dialog.get_by_text("Settings of this link").click()
    expect(dialog.get_by_label("People with the link can", exact=True)).to_have_value("download")
    expect(dialog.get_by_role("button", name="Save changes")).to_be_visible()
    dialog.get_by_label("Access limit", exact=True).fill("3")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.locator("#share-status")).to_have_text("Changes saved.")
    expect(dialog.locator("#share-result-facts")).to_contain_text("at most 3 visits")
    assert ShareLink.objects.count() == 1
    link.refresh_from_db()
    assert link.max_access_count == 3


# --- a phone (item 11) ------------------------------------------------------------------------


def phone_pages(alice: Any) -> list[tuple[str, str]]:
    """(name, URL) of every kind of page, each with something long in it."""
    from sharing import services as sharing_services

    docs = make_folder(alice, "/Documents with a rather long folder name for a phone")
    report = make_file(alice, f"/Documents with a rather long folder name for a phone/{LONG_NAME}")
    make_file(alice, "/holiday-photo-from-the-beach-at-sunset-2026.jpg", b"x" * 150_000)
    make_file(alice, "/notes.txt", b"notes")
    services.node_set_favorite(node=report, is_favorite=True)
    services.node_trash(node=make_file(alice, f"/{LONG_NAME[:120]}.old", b"old"))
    link, _ = sharing_services.share_create(
        owner=alice, node=report, label="for the accountant", max_access_count=10
    )
    _, file_token = sharing_services.share_create(owner=alice, node=report)
    _, folder_token = sharing_services.share_create(owner=alice, node=docs)
    _, drop_token = sharing_services.share_create(owner=alice, node=docs, permission="upload")
    return [
        ("drive", "/"),
        ("folder", f"/files/folders/{docs.pk}/"),
        ("item", f"/files/items/{report.pk}/"),
        ("trash", "/files/trash/"),
        ("favourites", "/files/favourites/"),
        ("tags", "/files/tags/"),
        ("search", "/search/?q=holiday"),
        ("shared-by-me", "/shares/"),
        ("link", f"/shares/{link.pk}/"),
        ("account", "/account/"),
        ("public-file", f"/s/{file_token}/"),
        ("public-folder", f"/s/{folder_token}/"),
        ("public-drop", f"/s/{drop_token}/"),
    ]


def test_no_page_scrolls_sideways_on_a_phone_and_the_list_comes_first(
    signed_in: Page, alice: Any
) -> None:
    page = signed_in
    page.set_viewport_size(PHONE)
    wide = {}
    for name, url in phone_pages(alice):
        page.goto(url)
        expect(page.locator("html")).to_have_class(re.compile(r"\bhas-menu\b"))
        width = page.evaluate("document.documentElement.scrollWidth")
        shoot(page, f"phone-{name}")
        if width > PHONE["width"]:
            wide[name] = width
    assert wide == {}

    # The drive: a top bar, then the list at once, each name with its size or date under it.
    page.goto("/")
    first = page.locator("#listing-body .row").first
    box = first.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    photo = row(page, "holiday-photo-from-the-beach-at-sunset-2026.jpg")
    expect(photo.locator(".row-meta")).to_be_visible()
    expect(photo.locator(".row-meta")).to_contain_text("146.5\xa0KB")
    # The sidebar is in the menu.
    trash_link = page.get_by_role("link", name="Trash")
    expect(trash_link).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(trash_link).to_be_visible()
    expect(page.get_by_role("link", name="Shared by me")).to_be_visible()
    trash_link.click()
    expect(page).to_have_url(re.compile(r"/files/trash/$"))

    # Shared by me and the trash: every action is on screen, not off its right edge.
    for url in ("/shares/", "/files/trash/"):
        page.goto(url)
        buttons = page.locator(".row-actions .button").all()
        assert buttons, url
        for button in buttons:
            box = button.bounding_box()
            assert box is not None and 0 <= box["x"] <= box["x"] + box["width"] <= PHONE["width"]
