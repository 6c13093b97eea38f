"""Search in the browser: live results in the header box (keyboard and mouse), the results
page with its filters, the results acting like the browser's listing, saving a search and
running it again from the sidebar."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from files import selectors
from search.models import SearchProfile
from tests.e2e.conftest import make_file, row, shoot
from tests.e2e.test_browser_preview import png


def test_live_results_in_the_header_box(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/Photos/beach.jpg", b"tiny")
    make_file(alice, "/Docs/beach report.pdf", b"%PDF-1.4")
    make_file(alice, "/Beaches/notes.txt", b"notes")
    make_file(alice, "/unrelated.txt", b"x")
    page = signed_in
    page.goto("/")
    box = page.get_by_role("combobox", name="Search your files")
    suggestions = page.get_by_role("listbox", name="Matching files and folders")

    # "/" puts the cursor in the box; results come as you type.
    page.keyboard.press("/")
    expect(box).to_be_focused()
    page.keyboard.type("beach")
    expect(suggestions).to_be_visible()
    options = suggestions.get_by_role("option")
    expect(options).to_have_count(4)  # three hits, then the full results page
    # Exact names first, then names starting with the words, then the rest; ties by name.
    expect(options.nth(0)).to_contain_text("beach report.pdf")
    expect(options.nth(0)).to_contain_text("in Your files/Docs")
    expect(options.nth(1)).to_contain_text("beach.jpg")
    expect(options.nth(2)).to_contain_text("Beaches")
    expect(options.nth(3)).to_contain_text("Search with filters")
    shoot(page, "search-suggestions")

    # ↓/↑ choose, Esc closes, Enter opens what is chosen.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "topsearch-option-1")
    page.keyboard.press("ArrowUp")
    expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Escape")
    expect(suggestions).to_be_hidden()
    page.keyboard.press("ArrowDown")
    expect(suggestions).to_be_visible()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    # A file opens in the viewer, as a click on it in a listing does; ← → step through the
    # files suggested.
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-title")).to_have_text("beach report.pdf")
    expect(page).to_have_url(re.compile(r"/$"))
    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer-title")).to_have_text("beach.jpg")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # A folder opens on its page.
    page.get_by_role("combobox", name="Search your files").fill("beaches")
    page.get_by_role("option", name=re.compile("Beaches")).click()
    folder = selectors.node_at_path(alice, "/Beaches")
    expect(page).to_have_url(re.compile(rf"/files/folders/{folder.pk}/$"))
    expect(row(page, "notes.txt")).to_be_visible()

    # Enter with nothing chosen goes to the full results page.
    box = page.get_by_role("combobox", name="Search your files")
    box.fill("beach")
    expect(page.get_by_role("listbox")).to_be_visible()
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=beach$"))
    expect(page.locator("#search-summary")).to_have_text("3 results for “beach”")
    # The results page has one search box: its own, with the filters.
    expect(page.get_by_role("searchbox")).to_have_count(1)
    expect(page.locator("#topsearch")).to_have_count(0)


def test_typing_in_the_search_box_leaves_the_browser_shortcuts_alone(
    signed_in: Page, alice: Any
) -> None:
    make_file(alice, "/keep me.txt", b"precious")
    make_file(alice, "/other.txt", b"other")
    page = signed_in
    page.goto("/")
    row(page, "keep me.txt").locator(".cell.size").click()
    expect(page.locator("#selection-count")).to_have_text("1 selected")
    box = page.get_by_role("combobox", name="Search your files")
    box.click()
    page.keyboard.type("keep")
    for key in ["Control+a", "Delete", "F2", "i", "Escape"]:
        page.keyboard.press(key)
    # Nothing was trashed, renamed or selected: the keys went to the box.
    expect(page.locator(".rename-input")).to_have_count(0)
    expect(page.locator("#selection-count")).to_have_text("1 selected")
    expect(row(page, "keep me.txt")).to_be_visible()
    assert selectors.node_at_path(alice, "/keep me.txt").trashed_at is None
    # Outside the box the shortcuts still work.
    row(page, "other.txt").locator(".cell.size").click()
    page.keyboard.press("Control+a")
    expect(page.locator("#selection-count")).to_have_text("2 selected")


def test_refine_save_and_reopen_a_search_from_the_sidebar(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/Holiday/beach big.png", png(size=(400, 300)))
    make_file(alice, "/Holiday/beach small.png", b"\x89PNG tiny")
    make_file(alice, "/Holiday/beach diary.txt", b"x" * 5000)
    page = signed_in
    page.goto("/search/?q=beach")
    expect(page.locator("#search-summary")).to_have_text("3 results for “beach”")

    # Refine: pictures of at least 1 KB.
    page.get_by_text("Filters", exact=True).click()
    page.get_by_role("checkbox", name="Images").check()
    page.get_by_role("textbox", name="At least").fill("1")
    page.get_by_role("combobox", name="Unit of the minimum size").select_option("KB")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#search-summary")).to_have_text("1 result for “beach”")
    expect(row(page, "beach big.png")).to_be_visible()
    expect(row(page, "beach big.png").locator(".location")).to_have_text("in Your files/Holiday")
    shoot(page, "search-results")

    # A bad value is refused next to its field.
    page.get_by_role("textbox", name="At most").fill("-3")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#id_size_max_error")).to_have_text("Maximum size cannot be negative.")
    page.get_by_role("textbox", name="At most").fill("")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#search-summary")).to_have_text("1 result for “beach”")

    # The results act like the browser's: select, context menu, preview (once the page's
    # scripts have started: they mark the document).
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    # Folded filters keep the row well inside the window: focusing a row at its very edge
    # scrolls the page, and the browser's menu closes on scroll.
    page.get_by_text("Filters", exact=True).click()
    result = row(page, "beach big.png")
    result.click(button="right")
    menu = page.locator("#context-menu")
    expect(menu.get_by_role("menuitem", name="Rename")).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    result.locator(".name-link").click()
    expect(page.locator("#viewer")).to_be_visible()
    expect(page.locator("#viewer-title")).to_have_text("beach big.png")
    page.keyboard.press("Escape")
    expect(page.locator("#viewer")).to_be_hidden()

    # Save it as a smart folder.
    page.get_by_text("Save this search").click()
    page.get_by_role("textbox", name="Name").fill("Big holiday pictures")
    page.get_by_role("button", name="Save", exact=True).click()
    profile = SearchProfile.objects.get(owner=alice)
    expect(page).to_have_url(re.compile(rf"/search/saved/{profile.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Big holiday pictures")
    assert (profile.file_types, profile.size_min, profile.query) == (["image"], 1000, "beach")

    # Open it from the sidebar of another page: the same results.
    page.goto("/")
    saved = page.get_by_role("navigation", name="Drive").get_by_role(
        "link", name="Big holiday pictures"
    )
    saved.click()
    expect(page).to_have_url(re.compile(rf"/search/saved/{profile.pk}/$"))
    expect(saved).to_have_attribute("aria-current", "page")
    expect(page.locator("#listing-body .row")).to_have_count(1)
    expect(row(page, "beach big.png")).to_be_visible()
    shoot(page, "search-saved")


def _read_queued_texts() -> None:
    """What the task worker would do now: read the documents the uploads queued."""
    from django_tasks_db.models import DBTaskResult

    from search.tasks import extract_texts
    from tests.files.conftest import announce_stored

    announce_stored()
    for task in DBTaskResult.objects.filter(task_path=extract_texts.module_path):
        extract_texts.call(*task.args_kwargs["args"])


def test_words_inside_documents_in_the_box_the_page_and_the_details_panel(
    signed_in: Page, alice: Any
) -> None:
    make_file(alice, "/Docs/minutes.txt", b"The board agreed to adopt a kinkajou.")
    make_file(alice, "/Docs/broken.pdf", b"%PDF-1.4 not really a pdf")
    _read_queued_texts()
    page = signed_in
    page.goto("/")
    page.get_by_role("combobox", name="Search your files").fill("kinkajou")
    option = page.get_by_role("listbox", name="Matching files and folders").get_by_role("option")
    expect(option.nth(0)).to_contain_text("minutes.txt")
    expect(option.nth(0)).to_contain_text("in the text:")
    expect(option.nth(0).locator("mark")).to_have_text("kinkajou")
    shoot(page, "search-in-text-suggestions")
    page.keyboard.press("Escape")

    page.goto("/search/?q=kinkajou")
    hit = row(page, "minutes.txt")
    expect(hit).to_contain_text("Found in the text:")
    expect(hit.locator("mark")).to_have_text("kinkajou")

    hit.locator(".cell.size").click()
    page.keyboard.press("i")
    expect(page.locator("#details-text-section")).to_be_visible()
    expect(page.locator("#details-text-state")).to_have_text("Its words can be searched.")
    shoot(page, "search-in-text-details")

    page.goto("/search/?q=broken")
    row(page, "broken.pdf").locator(".cell.size").click()  # the panel stays open
    expect(page.locator("#details-text-state")).to_contain_text("could not be read")


def test_shared_items_show_where_the_recipient_sees_them(signed_in: Page, alice: Any) -> None:
    """Carla shares Q3, deep in her private folders, with alice: alice's suggestions and
    results say "Shared with me/Q3", never carla's folders, and the place opens Q3."""
    from sharing.people import person_share_create
    from tests.factories import UserFactory

    carla = UserFactory(username="carla")
    make_file(carla, "/carla-private/Projects/Q3/quarterly report.pdf", b"%PDF-1.4")
    q3 = selectors.node_at_path(carla, "/carla-private/Projects/Q3")
    person_share_create(actor=carla, node=q3, user="alice")
    page = signed_in
    page.goto("/")
    page.get_by_role("combobox", name="Search your files").fill("quarterly")
    option = page.get_by_role("listbox", name="Matching files and folders").get_by_role("option")
    expect(option.nth(0)).to_contain_text("quarterly report.pdf")
    expect(option.nth(0)).to_contain_text("in Shared with me/Q3")
    expect(option.nth(0)).not_to_contain_text("carla-private")

    page.goto("/search/?q=quarterly")
    place = row(page, "quarterly report.pdf").locator(".location")
    expect(place).to_have_text("in Shared with me/Q3")
    expect(page.locator("main")).not_to_contain_text("carla-private")
    place.get_by_role("link").click()
    expect(page).to_have_url(re.compile(rf"/files/folders/{q3.pk}/$"))
    expect(row(page, "quarterly report.pdf")).to_be_visible()
