"""A folder of thousands of entries sends and renders only its first page; the rest loads as
the person scrolls. (Its opening time against a small folder: bench/big_folder.py.)"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from playwright.sync_api import Page, expect

from files import services, tree
from files.models import Node
from tests.e2e.conftest import make_file, make_folder, shoot

BIG = 2_000
MEDIUM = 100


def fill(owner: Any, folder: Any, count: int) -> None:
    """``count`` entries: a folder every hundredth, the rest files sharing one content.

    Inserted through :mod:`files.tree` under the owner's lock (what the services do, without
    re-checking names 10,000 times); usage is then recomputed by its service."""
    sample = make_file(owner, f"{tree.path_of(folder)}/file 00000.txt", b"same bytes everywhere")
    for batch in range(1, count, BATCH):
        _fill_batch(owner, folder, sample, range(batch, min(batch + BATCH, count)))
    services.usage_recompute(owner=owner)


# Each insert updates the folder's and the home's rows again. PostgreSQL keeps every
# version of those rows until the transaction ends, and each later update walks past them
# (quadratic in one transaction: minutes for 10,000 inserts), so commit in batches.
BATCH = 250


def _fill_batch(owner: Any, folder: Any, sample: Node, numbers: range) -> None:
    with transaction.atomic():
        tree.lock(owner.pk)
        folder = tree.refresh(folder)
        for n in numbers:
            if n % 100 == 0:
                node = Node(owner=owner, name=f"folder {n:05d}", is_folder=True)
            else:
                node = Node(
                    owner=owner,
                    name=f"file {n:05d}.txt",
                    blob=sample.blob,
                    size=sample.size,
                    mime_type=sample.mime_type,
                )
            tree.insert(node, folder)


def test_a_big_folder_renders_a_bounded_page_and_loads_the_rest_as_you_scroll(
    signed_in: Page, alice: Any
) -> None:
    """The structural fact behind "a big folder opens as fast as a small one": the page
    sends and renders the first 100 rows whatever the folder holds (the timing itself is
    measured by bench/big_folder.py, against a small folder in the same run)."""
    folders = {}
    for name, count in [("Medium", MEDIUM), ("Big", BIG)]:
        folders[name] = make_folder(alice, f"/{name}")
        fill(alice, folders[name], count)
    assert tree.subtree_size(tree.refresh(folders["Big"])) == BIG + 1
    assert tree.check(alice) == []

    page = signed_in
    sent = {}
    for name, folder in folders.items():
        response = page.goto(f"/files/folders/{folder.pk}/")
        assert response is not None and response.ok
        sent[name] = response.text().count('class="row')
        expect(page.locator("#listing-body .row")).to_have_count(100)
    # The big folder's page is no bigger than the one of a folder of 100.
    assert sent["Big"] == sent["Medium"] >= 100, sent

    # Scrolling to the end loads the next page, incrementally.
    page.locator("#listing-body .row").last.scroll_into_view_if_needed()
    expect(page.locator("#listing-body .row")).to_have_count(200)
    shoot(page, "big-folder")
    # And the keyboard reaches beyond the first page too.
    page.locator("#listing-body .row").nth(150).locator(".cell.size").click()
    page.keyboard.press("End")
    expect(page.locator("#listing-body .row")).to_have_count(300)
