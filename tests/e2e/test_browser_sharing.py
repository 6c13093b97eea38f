"""Sharing in a real browser: the share dialog of the file browser (create, copy, edit), the
"Shared by me" page (counts, revoke), and what a visitor without an account sees through the
link in a fresh browser — a file, a password-protected folder, a drop folder."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, expect

from files import selectors
from sharing import services
from sharing.models import ShareAccess, ShareLink
from tests.e2e.conftest import make_file, make_folder, row, shoot

PUBLIC_URL = re.compile(r"^http://[^/]+/s/[A-Za-z0-9_-]{43}/$")


def visitor_context(browser: Browser, live_server: Any) -> BrowserContext:
    """A browser with no session at all: someone the link was sent to."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100, "height": 800})
    context.set_default_timeout(10_000)
    return context


def open_settings(page: Page) -> None:
    page.locator("#share-dialog").get_by_text("Link settings", exact=True).click()


def create_link_in_dialog(page: Page, button: str = "Create link with these settings") -> str:
    dialog = page.locator("#share-dialog")
    dialog.get_by_role("button", name=button, exact=True).click()
    url_field = dialog.locator("#share-result-url")
    expect(url_field).to_be_visible()
    url = url_field.input_value()
    assert PUBLIC_URL.match(url), url
    return url


def test_share_a_file_copy_the_link_and_open_it_as_a_visitor(
    signed_in: Page, alice: Any, browser: Browser, live_server: Any, tmp_path: Path
) -> None:
    content = b"hello from alice\nline two\n"
    make_file(alice, "/notes.txt", content)
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto("/")
    row(page, "notes.txt").click(button="right")
    page.get_by_role("menuitem", name="Share…").click()
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Share “notes.txt”")).to_be_visible()
    # One click makes a link with the server's defaults; the settings are folded below it.
    expect(dialog.get_by_role("button", name="Create link", exact=True)).to_be_focused()
    permission = dialog.get_by_label("People with the link can", exact=True)
    expect(permission).to_be_hidden()
    open_settings(page)
    # A file cannot be a drop folder; the expiry starts at the policy's default.
    assert permission.locator("option").all_inner_texts() == ["View only", "View and download"]
    expires = dialog.get_by_label("Expires", exact=True)
    assert expires.input_value() != ""
    expect(dialog.locator("#share-expires-help")).to_contain_text("at most 90 days")
    expect(dialog.locator("#share-links")).to_contain_text("No links yet.")

    # The server's refusal shows next to the field it names.
    expires.fill("2099-12-31T10:00")
    dialog.get_by_label("Label", exact=True).fill("for Bob")
    dialog.get_by_role("button", name="Create link with these settings").click()
    expect(dialog.locator("#share-expires-error")).to_contain_text("at most 90 days")
    # The latest date it names is in the browser's format, not the API's stamp.
    expect(dialog.locator("#share-expires-error")).not_to_contain_text(
        re.compile(r"\d{4}-\d\d-\d\dT")
    )
    expect(dialog.locator("#share-expires-error")).to_contain_text(
        re.compile(r"before \w{3} \d{1,2}, \d{4}, \d{1,2}:\d\d")
    )
    expect(expires).to_have_attribute("aria-invalid", "true")
    assert not ShareLink.objects.exists()
    dialog.get_by_label("Expires", exact=True).fill("")
    url = create_link_in_dialog(page)
    link = ShareLink.objects.get()
    assert (link.node.name, link.label, link.permission) == ("notes.txt", "for Bob", "download")
    assert url.endswith(f"/s/{services.share_token(link)}/")
    expect(dialog.locator("#share-links .share-link")).to_have_count(1)
    expect(dialog.locator("#share-links")).to_contain_text("Active")
    expect(dialog.locator("#share-links")).to_contain_text("“for Bob”")
    shoot(page, "share-dialog")

    dialog.get_by_role("button", name="Copy link").first.click()
    expect(dialog.locator("#share-result-note")).to_contain_text("Link copied")
    assert page.evaluate("navigator.clipboard.readText()") == url

    # Edit the link in the dialog: a bad limit is refused next to its field, a good one kept.
    dialog.locator("#share-links").get_by_role("button", name=re.compile("^Edit")).click()
    expect(dialog.get_by_role("button", name="Save changes")).to_be_visible()
    dialog.get_by_label("Access limit", exact=True).fill("0")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.locator("#share-limit-error")).to_contain_text("at least 1")
    dialog.get_by_label("Access limit", exact=True).fill("5")
    dialog.get_by_role("button", name="Save changes").click()
    expect(dialog.locator("#share-status")).to_have_text("Changes saved.")
    expect(dialog.locator("#share-links")).to_contain_text("0 accesses of 5")
    link.refresh_from_db()
    assert link.max_access_count == 5
    assert link.label == "for Bob"

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # Someone without an account opens the link: the name, a preview, a download.
    visitor = visitor_context(browser, live_server)
    guest = visitor.new_page()
    guest.goto(url)
    expect(guest.get_by_role("heading", name="notes.txt")).to_be_visible()
    expect(guest.frame_locator("iframe.share-frame").locator("body")).to_contain_text(
        "hello from alice"
    )
    shoot(guest, "share-public-file")
    with guest.expect_download() as info:
        guest.get_by_role("link", name="Download").click()
    download = info.value
    assert download.suggested_filename == "notes.txt"
    saved = tmp_path / "downloaded.txt"
    download.save_as(saved)
    assert saved.read_bytes() == content
    visitor.close()
    link.refresh_from_db()
    assert link.access_count == 1
    assert link.accesses.filter(action=ShareAccess.Action.DOWNLOAD).count() == 1


def test_password_protected_folder_link(
    signed_in: Page, alice: Any, browser: Browser, live_server: Any
) -> None:
    make_file(alice, "/Project/readme.txt", b"read me first")
    make_file(alice, "/Project/docs/spec.txt", b"the spec")
    make_file(alice, "/outside.txt", b"not shared")
    page = signed_in
    page.goto("/")
    # From the selection bar this time.
    row(page, "Project").locator(".cell.size").click()
    page.get_by_role("toolbar", name="Selected items").get_by_role("button", name="Share").click()
    dialog = page.locator("#share-dialog")
    expect(dialog.get_by_role("heading", name="Share “Project”")).to_be_visible()
    open_settings(page)
    options = (
        dialog.get_by_label("People with the link can", exact=True)
        .locator("option")
        .all_inner_texts()
    )
    assert "Upload only (drop folder)" in options
    dialog.get_by_label("Password", exact=True).fill("open sesame")
    url = create_link_in_dialog(page)
    expect(dialog.locator("#share-links")).to_contain_text("password")
    page.keyboard.press("Escape")

    visitor = visitor_context(browser, live_server)
    guest = visitor.new_page()
    guest.goto(url)
    expect(guest.get_by_role("heading", name="This link is protected")).to_be_visible()
    assert "readme.txt" not in guest.content()
    guest.get_by_label("Password").fill("open says me")
    guest.get_by_role("button", name="Open").click()
    expect(guest.get_by_role("alert")).to_contain_text("not right")
    assert "readme.txt" not in guest.content()
    shoot(guest, "share-public-password")
    guest.get_by_label("Password").fill("open sesame")
    guest.get_by_role("button", name="Open").click()
    expect(guest.get_by_role("heading", name="Project")).to_be_visible()
    expect(guest.get_by_role("link", name="readme.txt", exact=True)).to_be_visible()
    assert "outside.txt" not in guest.content()
    shoot(guest, "share-public-folder")

    guest.get_by_role("link", name="docs", exact=True).click()
    expect(guest.get_by_role("link", name="spec.txt", exact=True)).to_be_visible()
    expect(guest.get_by_role("link", name="readme.txt", exact=True)).to_have_count(0)
    guest.get_by_role("navigation", name="Location in this share").get_by_role(
        "link", name="Project"
    ).click()
    with guest.expect_download() as info:
        guest.get_by_role("link", name="Download all (ZIP)").click()
    archive = zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes()))
    contents = {name: archive.read(name) for name in archive.namelist() if not name.endswith("/")}
    flat = {name.split("Project/", 1)[-1]: data for name, data in contents.items()}
    assert flat == {"readme.txt": b"read me first", "docs/spec.txt": b"the spec"}
    visitor.close()


def test_drop_folder_collects_files_without_showing_them(
    signed_in: Page, alice: Any, browser: Browser, live_server: Any
) -> None:
    make_file(alice, "/Inbox/existing-secret.txt", b"private")
    page = signed_in
    page.goto("/")
    # From the details panel.
    row(page, "Inbox").locator(".cell.size").click()
    page.keyboard.press("i")
    details = page.locator("#details")
    expect(details).to_be_visible()
    links = details.locator("#details-share-links")
    expect(links).to_have_text("No active links")
    details.get_by_role("button", name="Share…").click()
    dialog = page.locator("#share-dialog")
    expect(dialog.get_by_role("heading", name="Share “Inbox”")).to_be_visible()
    open_settings(page)
    dialog.get_by_label("People with the link can", exact=True).select_option("upload")
    expect(dialog.locator("#share-permission-help")).to_contain_text("without seeing")
    url = create_link_in_dialog(page)
    assert ShareLink.objects.get().permission == "upload"
    page.keyboard.press("Escape")
    # The panel counts the item's working links and leads to them.
    expect(links).to_have_text("1 active link")
    inbox = selectors.node_at_path(alice, "/Inbox")
    assert links.get_attribute("href") == f"/shares/?node={inbox.pk}"

    visitor = visitor_context(browser, live_server)
    guest = visitor.new_page()
    guest.goto(url)
    expect(guest.get_by_role("heading", name="Upload files to “Inbox”")).to_be_visible()
    assert "existing-secret" not in guest.content()
    guest.get_by_label("Your name").fill("Bob Builder")
    guest.locator("#drop-form input[name=file]").set_input_files(
        [
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 inv"},
            {"name": "photo.txt", "mimeType": "text/plain", "buffer": b"a photo, really"},
        ]
    )
    guest.get_by_role("button", name="Upload").click()
    expect(guest.locator("#drop-list")).to_contain_text("Thank you: 2 files received.")
    shoot(guest, "share-public-drop")
    assert "existing-secret" not in guest.content()
    visitor.close()

    assert selectors.node_at_path(alice, "/Inbox/invoice.pdf").size == len(b"%PDF-1.4 inv")
    assert selectors.node_at_path(alice, "/Inbox/photo.txt").size == len(b"a photo, really")
    assert selectors.node_at_path(alice, "/Inbox/existing-secret.txt").size == len(b"private")
    uploads = ShareAccess.objects.filter(action=ShareAccess.Action.UPLOAD)
    assert sorted(uploads.values_list("item_name", "uploader_name")) == [
        ("invoice.pdf", "Bob Builder"),
        ("photo.txt", "Bob Builder"),
    ]

    # The owner reads who dropped what in the link's access log.
    page.goto("/shares/")
    page.get_by_role("link", name="Details and access log of the link to Inbox").click()
    log = page.locator("table.access-log")
    expect(log).to_contain_text("Uploaded a file")
    expect(log).to_contain_text("invoice.pdf")
    expect(log).to_contain_text("Bob Builder")


def test_shared_by_me_counts_accesses_and_revoke_stops_the_link(
    signed_in: Page, alice: Any, browser: Browser, live_server: Any
) -> None:
    report = make_file(alice, "/Work/report.txt", b"quarterly numbers")
    make_folder(alice, "/Photos")
    link, token = services.share_create(owner=alice, node=report, max_access_count=10)
    url = f"{live_server.url}/s/{token}/"
    visitor = visitor_context(browser, live_server)
    guest = visitor.new_page()
    guest.goto(url)
    expect(guest.get_by_role("heading", name="report.txt")).to_be_visible()

    page = signed_in
    page.goto("/")
    page.get_by_role("navigation", name="Drive").get_by_role("link", name="Shared by me").click()
    expect(page.get_by_role("heading", name="Shared by me")).to_be_visible()
    entry = page.locator(f'tr[data-link-id="{link.pk}"]')
    expect(entry).to_contain_text("report.txt")
    expect(entry).to_contain_text("/Work/report.txt")
    expect(entry.locator(".share-count")).to_have_text("1 / 10")
    expect(entry).to_contain_text("Active")
    shoot(page, "shared-by-me")

    entry.get_by_role("button", name="Revoke the link to report.txt").click()
    confirm = page.locator("#confirm-dialog")
    expect(confirm).to_contain_text("stops working at once")
    confirm.get_by_role("button", name="Revoke link").click()
    expect(page.locator(".message.success")).to_contain_text("Link revoked")
    expect(entry).to_contain_text("Revoked")
    expect(entry.get_by_role("button", name=re.compile("^Revoke"))).to_have_count(0)
    link.refresh_from_db()
    assert link.state == "revoked"
    page.get_by_role("link", name=re.compile(r"^Revoked")).click()
    expect(page.locator("tr[data-link-id]")).to_have_count(1)
    page.get_by_role("link", name=re.compile(r"^Active")).click()
    expect(page.locator("tr[data-link-id]")).to_have_count(0)
    expect(page.get_by_text("No active links")).to_be_visible()

    response = guest.goto(url)
    assert response is not None and response.status == 410
    expect(guest.get_by_role("heading", name="This link no longer works")).to_be_visible()
    shoot(guest, "share-public-revoked")
    visitor.close()


def test_item_page_share_and_copy_from_the_link_page(
    signed_in: Page, alice: Any, live_server: Any
) -> None:
    report = make_file(alice, "/report.txt", b"numbers")
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(f"/files/items/{report.pk}/")
    page.get_by_role("link", name="Share…").click()
    dialog = page.locator("#share-dialog")
    expect(dialog.get_by_role("heading", name="Share “report.txt”")).to_be_visible()
    url = create_link_in_dialog(page, "Create link")
    dialog.get_by_role("link", name="Access log").click()
    expect(page.get_by_label("Link", exact=True)).to_have_value(url)
    shoot(page, "share-link-detail")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator(".toast")).to_contain_text("Link copied.")
    assert page.evaluate("navigator.clipboard.readText()") == url


def test_share_dialog_on_a_phone_in_the_dark(signed_in: Page, alice: Any, live_server: Any) -> None:
    make_folder(alice, "/Holiday photos")
    page = signed_in
    page.set_viewport_size({"width": 390, "height": 760})
    page.emulate_media(color_scheme="dark")
    page.goto("/")
    row(page, "Holiday photos").locator(".row-menu").click()
    page.get_by_role("menuitem", name="Share…").click()
    dialog = page.locator("#share-dialog")
    expect(dialog).to_be_visible()
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    background = dialog.evaluate("d => getComputedStyle(d).backgroundColor")
    assert background == "rgb(25, 29, 37)"  # the dark theme's surface colour
    shoot(page, "share-dialog-phone-dark")
    dialog.get_by_role("button", name="Close (Esc)").click()
    expect(dialog).to_be_hidden()
