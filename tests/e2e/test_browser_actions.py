"""Organising in the browser: rename (F2), move with the folder picker, copy, multi-select,
trash with Delete and undo, favourites, tags and the tag filter, new folder, context menu."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from files import selectors
from files.models import Node
from tests.e2e.conftest import make_file, make_folder, row, shoot


def test_rename_with_f2(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/draft.txt", b"text")
    make_file(alice, "/taken.txt", b"other")
    page = signed_in
    page.goto("/")
    row(page, "draft.txt").locator(".cell.size").click()
    page.keyboard.press("F2")
    field = page.get_by_role("textbox", name="New name for draft.txt")
    expect(field).to_be_focused()
    # The name without its extension is selected, ready to be typed over.
    assert field.evaluate("f => f.value.slice(f.selectionStart, f.selectionEnd)") == "draft"

    page.keyboard.type("taken")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("already exists")
    expect(field).to_be_focused()
    shoot(page, "rename-error")

    field.fill("final report.txt")
    page.keyboard.press("Enter")
    expect(row(page, "final report.txt")).to_be_visible()
    expect(row(page, "draft.txt")).to_have_count(0)
    expect(row(page, "final report.txt")).to_be_focused()
    assert selectors.node_at_path(alice, "/final report.txt").size == 4

    # Esc leaves the name as it was.
    page.keyboard.press("F2")
    page.keyboard.type("nothing")
    page.keyboard.press("Escape")
    expect(row(page, "final report.txt")).to_be_visible()


def test_move_with_the_folder_picker(signed_in: Page, alice: Any) -> None:
    make_folder(alice, "/Archive/2025")
    make_folder(alice, "/Work")
    make_file(alice, "/letter.txt", b"dear")
    make_file(alice, "/memo.txt", b"memo")
    page = signed_in
    page.goto("/")
    row(page, "letter.txt").locator(".cell.size").click()
    row(page, "memo.txt").locator(".cell.size").click(modifiers=["Control"])
    row(page, "memo.txt").click(button="right")
    page.get_by_role("menuitem", name="Move to…").click()
    picker = page.locator("#picker")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("heading")).to_have_text("Move 2 items to…")
    # Moving into the folder they are in is not offered.
    expect(picker.get_by_role("button", name="Move here")).to_be_disabled()
    picker.get_by_role("button", name="Archive").click()
    picker.get_by_role("button", name="2025").click()
    expect(picker.locator("#picker-crumbs")).to_contain_text("2025")
    shoot(page, "move-picker")
    picker.get_by_role("button", name="Move here").click()
    expect(picker).to_be_hidden()
    expect(page.locator(".toast")).to_contain_text("Moved 2 items to “2025”")
    expect(row(page, "letter.txt")).to_have_count(0)
    assert selectors.node_at_path(alice, "/Archive/2025/letter.txt").size == 4
    assert selectors.node_at_path(alice, "/Archive/2025/memo.txt")

    # A folder cannot be moved into itself.
    row(page, "Archive").locator(".cell.size").click()
    page.get_by_role("toolbar", name="Selected items").get_by_role("button", name="Move").click()
    expect(picker.get_by_role("button", name="Archive")).to_be_disabled()
    expect(picker.get_by_role("button", name="Archive")).to_have_attribute(
        "title", "This folder is being moved"
    )
    picker.get_by_role("button", name="Cancel").click()
    expect(picker).to_be_hidden()


def test_copy_to_another_folder(signed_in: Page, alice: Any) -> None:
    make_folder(alice, "/Backup")
    make_file(alice, "/photo.txt", b"pixels")
    page = signed_in
    page.goto("/")
    row(page, "photo.txt").click(button="right")
    page.get_by_role("menuitem", name="Copy to…").click()
    page.locator("#picker").get_by_role("button", name="Backup").click()
    page.locator("#picker").get_by_role("button", name="Copy here").click()
    expect(page.locator(".toast")).to_contain_text("Copied “photo.txt” to “Backup”")
    expect(row(page, "photo.txt")).to_be_visible()
    assert selectors.node_at_path(alice, "/Backup/photo.txt").size == 6


def test_multi_select_trash_with_delete_and_undo(signed_in: Page, alice: Any) -> None:
    for name in ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"]:
        make_file(alice, f"/{name}", name.encode())
    page = signed_in
    page.goto("/")
    count = page.locator("#selection-count")
    row(page, "a.txt").locator(".cell.size").click()
    row(page, "c.txt").locator(".cell.size").click(modifiers=["Shift"])
    expect(count).to_have_text("3 selected")
    row(page, "e.txt").locator(".cell.size").click(modifiers=["Control"])
    expect(count).to_have_text("4 selected")
    row(page, "b.txt").locator(".cell.size").click(modifiers=["Control"])
    expect(count).to_have_text("3 selected")
    expect(row(page, "b.txt")).to_have_attribute("aria-selected", "false")
    shoot(page, "multi-select")

    page.keyboard.press("Delete")
    toast = page.locator(".toast", has_text="moved to the trash")
    expect(toast).to_contain_text("3 items were moved to the trash.")
    for name in ["a.txt", "c.txt", "e.txt"]:
        expect(row(page, name)).to_have_count(0)
    expect(row(page, "b.txt")).to_be_visible()
    assert Node.objects.filter(owner=alice, is_trash_root=True).count() == 3

    toast.get_by_role("button", name="Undo").click()
    for name in ["a.txt", "c.txt", "e.txt"]:
        expect(row(page, name)).to_be_visible()
        expect(row(page, name)).to_have_attribute("aria-selected", "true")
    expect(page.locator(".toast", has_text="Restored 3 items")).to_be_visible()
    assert Node.objects.filter(owner=alice, trashed_at__isnull=False).count() == 0


def test_select_all_escape_and_keyboard(signed_in: Page, alice: Any) -> None:
    for name in ["one.txt", "two.txt", "three.txt"]:
        make_file(alice, f"/{name}", b"x")
    page = signed_in
    page.goto("/")
    page.locator("body").click(position={"x": 700, "y": 600})
    page.keyboard.press("Control+a")
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    expect(page.locator("#select-all")).to_be_checked()
    page.keyboard.press("Escape")
    expect(page.locator("#selection-bar")).to_be_hidden()
    # Arrow keys walk the rows; Shift extends.
    row(page, "one.txt").locator(".cell.size").click()
    page.keyboard.press("ArrowDown")
    expect(row(page, "three.txt")).to_be_focused()
    page.keyboard.press("Shift+ArrowDown")
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    # The context menu opens from the keyboard too, and Esc gives focus back.
    page.keyboard.press("Shift+F10")
    menu = page.get_by_role("menu", name="Actions for 2 items")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Download")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Move to…")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(row(page, "two.txt")).to_be_focused()
    # The checkbox column works for touch and no modifier keys.
    page.keyboard.press("Escape")
    row(page, "one.txt").locator(".check input").click()
    row(page, "two.txt").locator(".check input").click()
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    expect(row(page, "two.txt").locator(".check input")).to_be_checked()


def test_favourite_tags_and_tag_filter(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/invoice-march.pdf", b"%PDF-1.4 march")
    make_file(alice, "/invoice-april.pdf", b"%PDF-1.4 april")
    make_file(alice, "/holiday.txt", b"sun")
    page = signed_in
    page.goto("/")

    row(page, "invoice-march.pdf").locator(".cell.size").click()
    row(page, "invoice-april.pdf").locator(".cell.size").click(modifiers=["Control"])
    page.get_by_role("toolbar", name="Selected items").get_by_role("button", name="Tags").click()
    dialog = page.locator("#tags-dialog")
    expect(dialog.get_by_role("heading")).to_have_text("Add tags to 2 items")
    dialog.get_by_label("Tags to add").fill("invoices, 2026")
    shoot(page, "tags-dialog")
    dialog.get_by_role("button", name="Save tags").click()
    expect(dialog).to_be_hidden()
    expect(row(page, "invoice-march.pdf").locator(".chip")).to_have_text(["2026", "invoices"])

    # A bad tag is refused next to the field.
    row(page, "holiday.txt").click(button="right")
    page.get_by_role("menuitem", name="Tags…").click()
    dialog.get_by_label("Tags").fill("x" * 70)
    dialog.get_by_role("button", name="Save tags").click()
    expect(dialog.locator("#tags-dialog-error")).to_contain_text("at most 64 characters")
    dialog.get_by_role("button", name="Cancel").click()

    row(page, "invoice-march.pdf").click(button="right")
    page.get_by_role("menuitem", name="Add to favourites").click()
    expect(row(page, "invoice-march.pdf").locator(".star")).to_be_visible()
    assert selectors.node_at_path(alice, "/invoice-march.pdf").is_favorite

    page.get_by_label("Show only items with the tag").select_option("invoices")
    expect(page).to_have_url(re.compile(r"tag=invoices"))
    expect(page.locator("#listing-body .row")).to_have_count(2)
    expect(row(page, "holiday.txt")).to_have_count(0)
    expect(page.locator(".filter-note")).to_contain_text("tagged")
    shoot(page, "tag-filter")
    page.get_by_role("link", name="Show all items").click()
    expect(page.locator("#listing-body .row")).to_have_count(3)

    page.get_by_role("link", name="Favourites").click()
    expect(page.get_by_role("heading", name="Favourites")).to_be_visible()
    expect(row(page, "invoice-march.pdf")).to_be_visible()
    expect(page.locator("#listing-body .row")).to_have_count(1)
    shoot(page, "favourites")
    page.get_by_role("link", name="Tags", exact=True).click()
    expect(page.get_by_role("link", name=re.compile("invoices"))).to_contain_text("2 items")
    shoot(page, "tags")
    page.get_by_role("link", name=re.compile("invoices")).click()
    expect(page.locator("#listing-body .row")).to_have_count(2)


def test_new_folder_from_the_toolbar(signed_in: Page, alice: Any) -> None:
    make_folder(alice, "/Existing")
    page = signed_in
    page.goto("/")
    page.locator("#new-folder > summary").click()
    page.get_by_label("Folder name").fill("Existing")
    page.get_by_role("button", name="Create folder").click()
    expect(page.locator("#new-folder .field-error")).to_contain_text("already exists")
    page.get_by_label("Folder name").fill("Receipts")
    page.get_by_role("button", name="Create folder").click()
    expect(row(page, "Receipts")).to_have_attribute("aria-selected", "true")
    assert selectors.node_at_path(alice, "/Receipts").is_folder
    row(page, "Receipts").locator(".name-link").click()
    expect(page.locator("#folder-title")).to_have_text("Receipts")
    expect(page.get_by_text("This folder is empty")).to_be_visible()


def test_grid_view_shows_thumbnails_and_is_remembered(signed_in: Page, alice: Any) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "#3b82f6").save(buffer, "PNG")
    make_file(alice, "/blue.png", buffer.getvalue())
    make_file(alice, "/words.txt", b"words")
    page = signed_in
    page.goto("/")
    page.get_by_role("link", name="Grid view").click()
    expect(page.locator("#listing")).to_have_class(re.compile(r"\bgrid\b"))
    thumbnail = row(page, "blue.png").locator("img")
    expect(thumbnail).to_have_attribute("src", re.compile(r"/thumbnail/\?size=256$"))
    page.wait_for_function(
        "() => { const i = document.querySelector('.row[data-name=\"blue.png\"] img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    expect(row(page, "words.txt").locator("img")).to_have_count(0)
    shoot(page, "browser-grid")
    page.reload()
    expect(page.locator("#listing")).to_have_class(re.compile(r"\bgrid\b"))


def test_download_a_selection_as_zip_and_a_folder(signed_in: Page, alice: Any) -> None:
    import zipfile

    make_file(alice, "/Docs/inside.txt", b"inside")
    make_file(alice, "/a.txt", b"a")
    page = signed_in
    page.goto("/")
    row(page, "Docs").locator(".cell.size").click()
    row(page, "a.txt").locator(".cell.size").click(modifiers=["Control"])
    with page.expect_download() as download:
        page.get_by_role("toolbar", name="Selected items").get_by_role(
            "button", name="Download"
        ).click()
    path = download.value.path()
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["Docs/", "Docs/inside.txt", "a.txt"]
    with page.expect_download() as download:
        row(page, "Docs").locator(".download-link").click()
    assert download.value.suggested_filename == "Docs.zip"
