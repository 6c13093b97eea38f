"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = os.environ.get("FILEFLOW_CHROMIUM", "/usr/bin/chromium")
OUTPUT_DIR = Path(
    os.environ.get("FILEFLOW_TEST_OUTPUT", Path(__file__).parents[2] / "test-results")
)
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# Playwright's sync API runs an event loop in this thread; the ORM calls a test makes
# between page actions are still synchronous, so Django's async guard must stand aside.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Browser tests test pages, not databases: scripts/test.sh runs them in its SQLite pass only
# (marker one_database), except these, whose pages run hand-written SQL that differs by
# database (full-text search; the access rules of Shared with me and people shares).
BOTH_DATABASES = frozenset({"test_browser_search.py", "test_browser_people.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            if item.path.name not in BOTH_DATABASES:
                item.add_marker(pytest.mark.one_database)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: Any, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        shoot(page, f"FAILED-{request.node.name}")
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def shoot(page: Page, name: str) -> Path:
    """Keep a screenshot under the test output directory."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / (re.sub(r"[^\w.-]+", "_", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# --- the file browser ---------------------------------------------------------------------


@pytest.fixture
def signed_in(page: Page, alice: Any, live_server: Any) -> Page:
    """``page`` with alice's session cookie (made by Django's test client, no log-in form)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(alice)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
    )
    return page


def make_file(owner: Any, path: str, content: bytes = b"hello", **kwargs: Any) -> Any:
    """A file at ``/a/b.txt`` (folders made as needed), through the real ingest path."""
    import io

    from files import services
    from files.ingest import receive_stream

    received = receive_stream(io.BytesIO(content).read, length=len(content))
    return services.file_upload_to_path(owner=owner, path=path, received=received, **kwargs)


def make_folder(owner: Any, path: str) -> Any:
    from files import services

    return services.folder_ensure_path(owner=owner, path=path)


def row(page: Page, name: str) -> Any:
    """The listing row of the item called exactly ``name``."""
    return page.locator(f'#listing-body .row[data-name="{name}"]')


# A synthetic drop cannot carry real folder entries, so this stands in for the browser's
# FileSystemEntry objects: DataTransferItem.webkitGetAsEntry answers with fake entries
# (directories hand out their children in batches, like Chromium's readEntries), and the
# page's own drop handler walks them exactly as it walks real ones.
DROP_SCRIPT = """
([selector, items]) => {
  const roots = new Map();
  function directory(name) {
    const children = new Map();
    return {
      isFile: false, isDirectory: true, name, children,
      createReader() {
        const all = Array.from(children.values());
        let at = 0;
        return {
          readEntries(ok) {
            const batch = all.slice(at, at + 2);
            at += 2;
            setTimeout(() => ok(batch));
          },
        };
      },
    };
  }
  for (const item of items) {
    const parts = item.path.split("/").filter(Boolean);
    let level = roots;
    parts.forEach((part, index) => {
      const last = index === parts.length - 1;
      if (last && !item.folder) {
        const file = new File([item.content], part, { type: item.type || "" });
        level.set(part, {
          isFile: true, isDirectory: false, name: part, _file: file,
          file(ok) { setTimeout(() => ok(file)); },
        });
      } else {
        if (!level.has(part)) level.set(part, directory(part));
        level = level.get(part).children;
      }
    });
  }
  const transfer = new DataTransfer();
  for (const [name, entry] of roots) {
    transfer.items.add(entry.isFile ? entry._file : new File([""], name));
  }
  const original = DataTransferItem.prototype.webkitGetAsEntry;
  DataTransferItem.prototype.webkitGetAsEntry = function () {
    const file = this.getAsFile();
    return file ? roots.get(file.name) || null : null;
  };
  try {
    const target = document.querySelector(selector);
    for (const type of ["dragenter", "dragover", "drop"]) {
      const init = { bubbles: true, cancelable: true, dataTransfer: transfer };
      target.dispatchEvent(new DragEvent(type, init));
    }
  } finally {
    DataTransferItem.prototype.webkitGetAsEntry = original;
  }
}
"""


def drop(page: Page, items: list[dict[str, Any]], selector: str = "#drop-zone") -> None:
    """Drop files and folders: ``[{"path": "a/b.txt", "content": "…"}, {"path": "empty",
    "folder": True}]``."""
    page.evaluate(DROP_SCRIPT, [selector, items])
