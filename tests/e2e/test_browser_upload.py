"""Uploads in the browser: drag-and-drop of files and folders, progress, cancel and retry,
and the one question per batch when names exist."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import CDPSession, Page, expect

from files import selectors, tree
from files.models import Node
from tests.e2e.conftest import drop, make_file, row, shoot


def content_of(node: Node) -> bytes:
    from files.blobs import open_blob

    assert node.blob is not None
    with open_blob(node.blob) as handle:
        return handle.read()


def throttle(page: Page, upload_bytes_per_second: int) -> CDPSession:
    """Slow the page's uploads down, so that they can be watched and cancelled."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    set_upload_speed(cdp, upload_bytes_per_second)
    return cdp


def unthrottle(cdp: CDPSession) -> None:
    set_upload_speed(cdp, -1)


def set_upload_speed(cdp: CDPSession, upload_bytes_per_second: int) -> None:
    conditions = {"offline": False, "latency": 0, "downloadThroughput": -1}
    cdp.send(
        "Network.emulateNetworkConditions",
        {**conditions, "uploadThroughput": upload_bytes_per_second},
    )


def test_drop_files_and_a_nested_folder_recreates_the_tree(signed_in: Page, alice: Any) -> None:
    page = signed_in
    page.goto("/")
    expect(page.get_by_text("This folder is empty")).to_be_visible()
    shoot(page, "browser-empty")
    drop(
        page,
        [
            {"path": "a.txt", "content": "alpha"},
            {"path": "b.md", "content": "# bravo"},
            {"path": "Photos/notes.txt", "content": "notes"},
            {"path": "Photos/2026/beach.txt", "content": "sand"},
            {"path": "Photos/2026/sea.txt", "content": "water"},
            {"path": "Photos/Empty", "folder": True},
        ],
    )
    panel = page.locator("#upload-panel")
    expect(panel).to_be_visible()
    expect(page.locator("#upload-total-text")).to_contain_text("5 of 5 files uploaded")
    expect(panel.locator(".upload-item.done")).to_have_count(5)
    expect(panel.locator(".upload-item", has_text="Photos/2026/beach.txt")).to_contain_text(
        "Uploaded"
    )
    # Every bar is full.
    for bar in panel.locator("progress").all():
        assert bar.evaluate("b => b.value === b.max")
    expect(row(page, "Photos")).to_be_visible()
    expect(row(page, "a.txt")).to_be_visible()
    expect(row(page, "b.md")).to_be_visible()
    shoot(page, "browser-after-drop")

    assert content_of(selectors.node_at_path(alice, "/Photos/2026/beach.txt")) == b"sand"
    assert content_of(selectors.node_at_path(alice, "/Photos/notes.txt")) == b"notes"
    assert selectors.node_at_path(alice, "/Photos/Empty").is_folder
    assert tree.check(alice) == []

    row(page, "Photos").locator(".name-link").click()
    expect(page.locator("#folder-title")).to_have_text("Photos")
    expect(row(page, "2026")).to_be_visible()
    expect(row(page, "Empty")).to_be_visible()
    expect(row(page, "notes.txt")).to_be_visible()


def test_progress_speed_cancel_and_retry(signed_in: Page, alice: Any) -> None:
    page = signed_in
    page.goto("/")
    cdp = throttle(page, 256 * 1024)
    page.evaluate(
        """() => {
            const big = new File([new Uint8Array(3 * 1024 * 1024)], "big.bin");
            FF.upload.enqueue([{ file: big, relativePath: "big.bin" }]);
        }"""
    )
    item = page.locator(".upload-item", has_text="big.bin")
    # While it is on its way: a partly filled bar, bytes, speed and time left.
    expect(item.locator(".upload-status")).to_contain_text("/s", timeout=15_000)
    expect(item.locator(".upload-status")).to_contain_text("left")
    expect(page.locator("#upload-total-text")).to_contain_text("left")
    value = item.locator("progress").evaluate("b => b.value / b.max")
    assert 0 < value < 1
    shoot(page, "upload-in-progress")
    item.get_by_role("button", name="Cancel big.bin").click()
    expect(item.locator(".upload-status")).to_have_text("Cancelled")
    assert not Node.objects.filter(name="big.bin").exists()

    unthrottle(cdp)
    item.get_by_role("button", name="Retry big.bin").click()
    expect(item.locator(".upload-status")).to_have_text("Uploaded")
    expect(row(page, "big.bin")).to_be_visible()
    assert selectors.node_at_path(alice, "/big.bin").size == 3 * 1024 * 1024


def test_existing_names_ask_once_per_upload(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/report.txt", b"old report")
    make_file(alice, "/notes.txt", b"old notes")
    page = signed_in
    page.goto("/")
    dialogs = page.locator("#conflict-dialog")

    # Replace: asked once for both files; the old contents become versions.
    drop(
        page,
        [
            {"path": "report.txt", "content": "new report"},
            {"path": "notes.txt", "content": "new notes"},
            {"path": "fresh.txt", "content": "fresh"},
        ],
    )
    expect(dialogs).to_be_visible()
    # Both clashes are named in the one question.
    expect(dialogs).to_contain_text(
        re.compile(r"“(report|notes)\.txt” and 1 other file already exist in Your files\.")
    )
    shoot(page, "upload-conflict")
    dialogs.get_by_role("button", name="Replace").click()
    expect(dialogs).to_be_hidden()
    expect(page.locator("#upload-total-text")).to_contain_text("3 of 3 files uploaded")
    report = selectors.node_at_path(alice, "/report.txt")
    assert content_of(report) == b"new report"
    assert report.versions.count() == 1
    assert content_of(selectors.node_at_path(alice, "/notes.txt")) == b"new notes"

    # Keep both: the new one gets a number.
    drop(page, [{"path": "report.txt", "content": "third"}])
    dialogs.get_by_role("button", name="Keep both").click()
    expect(row(page, "report (1).txt")).to_be_visible()
    assert content_of(selectors.node_at_path(alice, "/report (1).txt")) == b"third"

    # Skip: nothing changes.
    drop(page, [{"path": "notes.txt", "content": "ignored"}])
    dialogs.get_by_role("button", name="Skip these files").click()
    expect(page.locator(".upload-item.skipped")).to_have_count(1)
    assert content_of(selectors.node_at_path(alice, "/notes.txt")) == b"new notes"


def test_upload_button_picks_files(signed_in: Page, alice: Any) -> None:
    page = signed_in
    page.goto("/")
    page.locator("#upload-popover > summary").click()
    expect(page.get_by_role("button", name="Files…")).to_be_visible()
    page.set_input_files(
        "#upload-input",
        [
            {"name": "one.txt", "mimeType": "text/plain", "buffer": b"1"},
            {"name": "two.txt", "mimeType": "text/plain", "buffer": b"22"},
        ],
    )
    expect(page.locator("#upload-total-text")).to_contain_text("2 of 2 files uploaded")
    expect(row(page, "one.txt")).to_be_visible()
    expect(row(page, "two.txt")).to_be_visible()
    # The storage bar follows.
    expect(page.locator("#side-usage .usage-text")).to_contain_text("3\u00a0bytes")


def test_small_files_go_up_many_to_a_request(signed_in: Page, alice: Any) -> None:
    page = signed_in
    page.goto("/")
    requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            requests.append(f"{request.method} {request.url.split('?')[0]}")
            if "/api/v1/" in request.url and request.method in {"PUT", "POST"}
            else None
        ),
    )
    files = [{"path": f"note {n:02d}.txt", "content": f"note {n}"} for n in range(60)]
    files += [{"path": f"Docs/Notes/page {n}.md", "content": f"# page {n}"} for n in range(12)]
    files.append({"path": 'say "hi".txt', "content": "quoted"})  # travels alone, by PUT
    drop(page, files)
    expect(page.locator("#upload-total-text")).to_contain_text("73 of 73 files uploaded")
    batches = [r for r in requests if r.endswith("/api/v1/nodes/upload-many/")]
    singles = [r for r in requests if r.endswith("/api/v1/files/content/")]
    # 50 + 10 into this folder, 12 into Docs/Notes; the odd name alone.
    assert len(batches) == 3, requests
    assert len(singles) == 1 and singles[0].startswith("PUT "), requests
    assert content_of(selectors.node_at_path(alice, "/note 07.txt")) == b"note 7"
    assert content_of(selectors.node_at_path(alice, "/Docs/Notes/page 11.md")) == b"# page 11"
    assert content_of(selectors.node_at_path(alice, '/say "hi".txt')) == b"quoted"
    assert tree.check(alice) == []
    expect(row(page, "Docs")).to_be_visible()


def test_cancelling_one_file_of_a_group_sends_the_others_alone(signed_in: Page, alice: Any) -> None:
    page = signed_in
    page.goto("/")
    cdp = throttle(page, 128 * 1024)
    page.evaluate(
        """() => {
            const files = [1, 2, 3, 4].map(n =>
                ({ file: new File([new Uint8Array(200 * 1024).fill(n)], `part ${n}.bin`),
                   relativePath: `part ${n}.bin` }));
            FF.upload.enqueue(files);
        }"""
    )
    third = page.locator(".upload-item", has_text="part 3.bin")
    expect(third.locator(".upload-status")).to_contain_text("/s", timeout=15_000)
    third.get_by_role("button", name="Cancel part 3.bin").click()
    unthrottle(cdp)
    expect(third.locator(".upload-status")).to_have_text("Cancelled")
    # The other three go up again one by one once the group's request is aborted; on a busy
    # machine (the PostgreSQL pass of CI) that took longer than the default 5 s once.
    expect(page.locator("#upload-total-text")).to_contain_text(
        "3 of 3 files uploaded", timeout=15_000
    )
    for n in (1, 2, 4):
        assert (
            content_of(selectors.node_at_path(alice, f"/part {n}.bin")) == bytes([n]) * 200 * 1024
        )
    assert not Node.objects.filter(name="part 3.bin").exists()
