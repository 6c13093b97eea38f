"""The API docs page works in a real browser under our Content-Security-Policy, and the
account page's Copy button puts a new token on the clipboard."""

from __future__ import annotations

import json
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shoot


def _csp_reports(page: Page) -> list[str]:
    reports: list[str] = []
    page.on(
        "console",
        lambda message: (
            reports.append(message.text)
            if "Content Security Policy" in message.text
            or "Content-Security-Policy" in message.text
            else None
        ),
    )
    return reports


def test_the_docs_list_the_operations_and_try_it_out_calls_the_api(
    signed_in: Page, alice: Any
) -> None:
    page = signed_in
    blocked = _csp_reports(page)
    page.goto("/api/docs/")
    operations = page.locator(".opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 40
    me = page.locator(".opblock-get", has=page.locator('[data-path="/api/v1/me/"]'))
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/me/")) as answer:
        me.get_by_role("button", name="Execute").click()
    assert answer.value.status == 200
    expect(me.locator(".live-responses-table tr.response .response-col_status").first).to_have_text(
        "200"
    )
    body = me.locator(".live-responses-table .microlight").first.inner_text()
    assert json.loads(body)["username"] == "alice"
    shoot(page, "api-docs")
    assert blocked == [], blocked


def test_the_new_token_copies_with_one_click(signed_in: Page) -> None:
    page = signed_in
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/account/")
    page.get_by_label("Token name").fill("backup script")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token").input_value()
    assert token.startswith("ffp_")
    page.get_by_role("button", name="Copy").click()
    expect(page.locator("#copy-token-status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == token
