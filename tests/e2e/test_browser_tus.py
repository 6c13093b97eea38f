"""Big files go up resumably (tus) from the page: throttled, paused and resumed, the network
cut, the page reloaded and the same file chosen again — the upload continues where the
server has it, and the stored file is byte-identical."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from files import selectors
from files.store import blob_store
from tests.e2e.test_browser_upload import set_upload_speed, throttle
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024


def choose(page: Page, path: Path) -> None:
    page.locator("#upload-popover > summary").click()
    page.set_input_files("#upload-input", str(path))


def server_offset() -> int:
    upload = TusUpload.objects.first()
    return upload.offset if upload is not None else 0


def test_a_big_file_survives_pause_a_cut_network_and_a_reload(
    signed_in: Page, alice: Any, settings: Any, tmp_path: Path
) -> None:
    settings.FILEFLOW_TUS_THRESHOLD = MiB
    content = os.urandom(20 * MiB)
    source = tmp_path / "holiday.mov"
    source.write_bytes(content)
    page = signed_in
    patches: list[str] = []
    page.on(
        "request",
        lambda request: (
            patches.append(request.headers.get("upload-offset", "?"))
            if request.method == "PATCH"
            else None
        ),
    )
    page.goto("/")
    cdp = throttle(page, 2 * MiB)
    choose(page, source)
    item = page.locator(".upload-item")
    status = item.locator(".upload-status")
    # Speed and time left while it goes.
    expect(status).to_contain_text("/s", timeout=15_000)

    # Pause, then resume.
    item.get_by_role("button", name="Pause holiday.mov").click()
    expect(status).to_contain_text("Paused at")
    item.get_by_role("button", name="Resume holiday.mov").click()
    expect(page.locator(".upload-item.uploading")).to_have_count(1)

    # Once the server holds the first 8 MiB chunk, the network goes away (a request already
    # on its way may still arrive): the page says it will try again.
    for _ in range(300):
        if server_offset() >= 8 * MiB:
            break
        page.wait_for_timeout(100)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    expect(status).to_contain_text("trying again", timeout=15_000)
    kept = server_offset()
    assert 8 * MiB <= kept < len(content)

    # Back online, the page is reloaded (its uploads forgotten) and the file chosen again.
    set_upload_speed(cdp, -1)
    before_reload = len(patches)
    page.reload()
    choose(page, source)
    expect(page.locator("#upload-total-text")).to_contain_text(
        "1 of 1 file uploaded", timeout=30_000
    )
    # After the reload it continued from what the server had, not from the start.
    offsets = [int(offset) for offset in patches]
    assert offsets[0] == 0
    assert offsets[before_reload] >= kept, offsets
    node = selectors.node_at_path(alice, "/holiday.mov")
    with blob_store().open_range(node.blob.storage_key) as stored:
        assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(content).digest()
    assert TusUpload.objects.count() == 0
    assert (
        page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.startsWith('fileflow-tus:')).length"
        )
        == 0
    )


def test_a_drop_folder_page_sends_big_files_resumably(
    browser: Any, live_server: Any, alice: Any, settings: Any
) -> None:
    from files import tree
    from files.models import Node
    from sharing import services as share_services
    from sharing.models import ShareAccess, ShareLink

    settings.FILEFLOW_TUS_THRESHOLD = MiB
    inbox = tree.insert(Node(owner=alice, name="Inbox", is_folder=True), tree.home_of(alice))
    _, token = share_services.share_create(
        owner=alice, node=inbox, permission=ShareLink.Permission.UPLOAD
    )
    big = os.urandom(3 * MiB + 7)
    context = browser.new_context(base_url=live_server.url)
    guest = context.new_page()
    methods: list[str] = []
    guest.on(
        "request",
        lambda request: (
            methods.append(f"{request.method} {request.url.split(token + '/', 1)[1]}")
            if token in request.url
            else None
        ),
    )
    guest.goto(f"/s/{token}/")
    guest.get_by_label("Your name").fill("Bob")
    guest.locator("#drop-form input[name=file]").set_input_files(
        [
            {"name": "scan.tiff", "mimeType": "image/tiff", "buffer": big},
            {"name": "note.txt", "mimeType": "text/plain", "buffer": b"small"},
        ]
    )
    guest.get_by_role("button", name="Upload").click()
    expect(guest.locator("#drop-list")).to_contain_text("Thank you: 2 files received.")
    context.close()
    # The big file through tus, the small one with a plain PUT.
    assert "POST uploads/" in methods and any(m.startswith("PATCH uploads/") for m in methods)
    assert any(m.startswith("PUT upload/") for m in methods), methods
    stored = selectors.node_at_path(alice, "/Inbox/scan.tiff")
    with blob_store().open_range(stored.blob.storage_key) as handle:
        assert handle.read() == big
    log = ShareAccess.objects.get(action="upload", node=stored)
    assert log.uploader_name == "Bob"


def test_a_big_file_goes_up_resumably_into_a_folder_shared_with_me(
    browser: Any, live_server: Any, alice: Any, settings: Any
) -> None:
    from files.models import Activity, Node
    from sharing.people import person_share_create
    from tests.e2e.conftest import make_folder, row
    from tests.e2e.test_browser_people import session_for
    from tests.factories import UserFactory

    settings.FILEFLOW_TUS_THRESHOLD = MiB
    bob = UserFactory(username="bob")
    team = make_folder(alice, "/Team")
    person_share_create(actor=alice, node=team, user="bob", role="editor")
    big = os.urandom(3 * MiB + 7)
    page = session_for(browser, live_server, bob)
    requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            requests.append(f"{request.method} {request.url.split('/api/v1/', 1)[1]}")
            if "/api/v1/" in request.url
            else None
        ),
    )
    page.goto(f"/files/folders/{team.pk}/")
    page.locator("#upload-popover > summary").click()
    page.set_input_files(
        "#upload-input", [{"name": "film.mov", "mimeType": "video/quicktime", "buffer": big}]
    )
    expect(page.locator("#upload-total-text")).to_contain_text("1 of 1 file uploaded")
    expect(row(page, "film.mov")).to_be_visible()
    page.context.close()
    # Resumably: created, then sent in PATCH requests.
    assert "POST uploads/" in requests, requests
    assert any(entry.startswith("PATCH uploads/") for entry in requests), requests
    stored = Node.objects.get(parent=team, name="film.mov")
    assert stored.owner_id == alice.pk
    with blob_store().open_range(stored.blob.storage_key) as handle:
        assert handle.read() == big
    alice.refresh_from_db()
    assert alice.used_bytes == len(big)
    assert Activity.objects.get(kind=Activity.Kind.UPLOAD, node=stored).actor_id == bob.pk


def until_routed(page: Page, held: list[Any]) -> None:
    """Wait until a request held back by ``page.route`` has reached its handler (which the
    sync API runs while Playwright is being called)."""
    for _ in range(200):
        if held:
            return
        page.wait_for_timeout(25)
    raise AssertionError("the request was not routed")


def test_cancel_works_while_the_shared_folder_is_looked_up_and_while_the_upload_is_made(
    browser: Any, live_server: Any, alice: Any, settings: Any
) -> None:
    """In a folder shared with me a big file in a subfolder first needs that folder's id (a
    request of its own), then the upload is created (POST), then the bytes go. Cancel works
    at each step: held at the folder step, nothing is sent once it ends; held at the
    creation, the upload the server made is ended at once (its reserved space released)."""
    from files.models import Node
    from sharing.people import person_share_create
    from tests.e2e.conftest import make_folder
    from tests.e2e.test_browser_people import session_for
    from tests.factories import UserFactory

    settings.FILEFLOW_TUS_THRESHOLD = MiB
    bob = UserFactory(username="bob")
    team = make_folder(alice, "/Team")
    person_share_create(actor=alice, node=team, user="bob", role="editor")
    page = session_for(browser, live_server, bob)
    requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            requests.append(f"{request.method} {request.url.split('/api/v1/', 1)[1]}")
            if "/api/v1/" in request.url
            else None
        ),
    )
    held: list[Any] = []
    page.route(
        "**/api/v1/nodes/",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    page.goto(f"/files/folders/{team.pk}/")
    enqueue = """([name, size]) => {
        FF.upload.enqueue([{ file: new File([new Uint8Array(size)], name.split("/").pop()),
                             relativePath: name }]);
    }"""

    # 1. While the subfolder's id is being looked up (its POST held back).
    with page.expect_request(lambda request: request.method == "POST"):
        page.evaluate(enqueue, ["Sub/film.mov", 2 * MiB])
    item = page.locator(".upload-item", has_text="Sub/film.mov")
    until_routed(page, held)
    page.get_by_role("button", name="Cancel Sub/film.mov").click()
    expect(item.locator(".upload-status")).to_have_text("Cancelled")
    held[0].continue_()
    page.unroute("**/api/v1/nodes/")
    # A small file for the same subfolder waits for the same lookup, after the cancelled
    # one's turn: once it is stored, the cancelled file's turn has passed.
    page.evaluate(enqueue, ["Sub/note.txt", 10])
    expect(
        page.locator(".upload-item", has_text="Sub/note.txt").locator(".upload-status")
    ).to_have_text("Uploaded")
    assert not any(entry.startswith(("POST uploads/", "PATCH uploads/")) for entry in requests), (
        requests
    )
    assert TusUpload.objects.count() == 0
    assert not Node.objects.filter(name="film.mov").exists()

    # 2. While the upload is being created (its POST held back): the upload made is ended.
    creations: list[Any] = []
    page.route("**/api/v1/uploads/", lambda route: creations.append(route))
    with page.expect_request(lambda request: request.method == "POST"):
        page.evaluate(enqueue, ["Sub/clip.mov", 2 * MiB])
    clip = page.locator(".upload-item", has_text="Sub/clip.mov")
    until_routed(page, creations)
    page.get_by_role("button", name="Cancel Sub/clip.mov").click()
    expect(clip.locator(".upload-status")).to_have_text("Cancelled")
    with page.expect_request(
        lambda request: request.method == "DELETE" and "/api/v1/uploads/" in request.url
    ) as ending:
        creations[0].continue_()
    page.unroute("**/api/v1/uploads/")
    ending.value.response()
    assert TusUpload.objects.count() == 0
    assert not any(entry.startswith("PATCH uploads/") for entry in requests), requests
    alice.refresh_from_db()
    assert alice.reserved_bytes == 0
    assert not Node.objects.filter(name="clip.mov").exists()
    page.context.close()


def test_the_page_resuming_an_upload_whose_store_died_gets_the_file_without_sending_again(
    signed_in: Page, alice: Any, settings: Any, tmp_path: Path
) -> None:
    """Every byte reached the server but the worker storing the file died (here: the last
    chunk's bytes are put where that worker left them, the offset committed). The page,
    asking HEAD before going on, is told the file is stored and ends there: nothing is
    created or sent again."""
    settings.FILEFLOW_TUS_THRESHOLD = MiB
    content = os.urandom(8 * MiB + 100_000)
    source = tmp_path / "scan.tiff"
    source.write_bytes(content)
    page = signed_in
    creations: list[str] = []
    page.on(
        "request",
        lambda request: (
            creations.append(request.url)
            if request.method == "POST" and request.url.endswith("/api/v1/uploads/")
            else None
        ),
    )
    # The second chunk never gets through: the page keeps asking HEAD and trying again.
    page.route(
        "**/api/v1/uploads/*",
        lambda route: (
            route.abort()
            if route.request.method == "PATCH" and route.request.headers.get("upload-offset") != "0"
            else route.continue_()
        ),
    )
    page.goto("/")
    choose(page, source)
    status = page.locator(".upload-item .upload-status")
    expect(status).to_contain_text("trying again", timeout=30_000)
    assert server_offset() == 8 * MiB
    upload = TusUpload.objects.get()
    part = Path(settings.FILE_UPLOAD_TEMP_DIR) / "tus" / f"{upload.pk}.part"
    with open(part, "ab") as handle:
        handle.write(content[8 * MiB :])
    TusUpload.objects.filter(pk=upload.pk).update(offset=len(content))
    page.unroute("**/api/v1/uploads/*")
    expect(page.locator("#upload-total-text")).to_contain_text(
        "1 of 1 file uploaded", timeout=60_000
    )
    assert len(creations) == 1, creations
    node = selectors.node_at_path(alice, "/scan.tiff")
    with blob_store().open_range(node.blob.storage_key) as stored:
        assert stored.read() == content
    assert TusUpload.objects.count() == 0
