"""The viewer: pictures, PDFs, audio (with Range), text; previous/next; user content that
looks like markup stays text."""

from __future__ import annotations

import io
import re
import wave
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import make_file, row, shoot

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/MediaBox[0 0 300 200]/Parent 2 0 R/Contents 4 0 R"
    b"/Resources<</Font<</F1 5 0 R>>>>>>endobj\n"
    b"4 0 obj<</Length 44>>stream\nBT /F1 24 Tf 40 100 Td (Hello PDF) Tj ET\nendstream endobj\n"
    b"5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png(color: str = "#e4572e", size: tuple[int, int] = (120, 80)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def wav(seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * int(8000 * seconds))
    return buffer.getvalue()


def test_preview_image_pdf_audio_and_text_with_previous_next(signed_in: Page, alice: Any) -> None:
    make_file(alice, "/a-picture.png", png())
    make_file(alice, "/b-invoice.pdf", PDF)
    make_file(alice, "/c-sound.wav", wav())
    make_file(alice, "/d-readme.txt", b"Hello from a text file.\n")
    make_file(alice, "/e-data.bin", bytes(range(256)))
    page = signed_in
    page.goto("/")
    viewer = page.locator("#viewer")

    row(page, "a-picture.png").locator(".name-link").click()
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-title")).to_have_text("a-picture.png")
    expect(page.locator("#viewer-count")).to_have_text("1 of 5")
    page.wait_for_function(
        "() => { const i = document.querySelector('#viewer-content img');"
        " return i && i.complete && i.naturalWidth === 120; }"
    )
    shoot(page, "preview-image")

    with page.expect_response(re.compile(r"/content/\?inline=1$")) as pdf_response:
        page.keyboard.press("ArrowRight")
    response = pdf_response.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline")
    frame = viewer.locator("iframe")
    expect(frame).to_have_attribute("src", re.compile(r"/content/\?inline=1$"))
    expect(frame).to_have_attribute("title", "b-invoice.pdf")
    expect(page.locator("#viewer-count")).to_have_text("2 of 5")
    shoot(page, "preview-pdf")

    page.locator("#viewer-next").click()
    audio = viewer.locator("audio")
    expect(audio).to_have_attribute("src", re.compile(r"/content/\?inline=1$"))
    page.wait_for_function("() => document.querySelector('#viewer-content audio').duration > 0.9")
    # Seeking works: the server answers a Range request with just those bytes.
    ranged = page.request.get(audio.get_attribute("src") or "", headers={"Range": "bytes=8-15"})
    assert ranged.status == 206
    assert ranged.body() == b"WAVEfmt "

    page.locator("#viewer-next").click()
    expect(viewer.locator("pre")).to_have_text("Hello from a text file.\n")
    page.locator("#viewer-next").click()
    expect(viewer).to_contain_text("There is no preview for this kind of file.")
    expect(page.locator("#viewer-next")).to_be_disabled()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#viewer-title")).to_have_text("d-readme.txt")

    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(row(page, "d-readme.txt")).to_be_focused()
    expect(row(page, "d-readme.txt")).to_have_attribute("aria-selected", "true")


NASTY = "<img src=x onerror=alert(1)>.html"


def test_a_name_and_content_made_of_markup_stay_text(signed_in: Page, alice: Any) -> None:
    body = b"<script>alert(2)</script><img src=y onerror=alert(3)>\n"
    node = make_file(alice, "/" + NASTY, body)
    page = signed_in
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/")
    link = row(page, NASTY).locator(".name-link")
    expect(link).to_have_text(NASTY)
    expect(page.locator("#listing img")).to_have_count(0)

    link.click()
    pre = page.locator("#viewer pre")
    expect(pre).to_have_text(body.decode())
    expect(page.locator("#viewer-content img, #viewer-content script")).to_have_count(0)
    expect(page.locator("#viewer-title")).to_have_text(NASTY)
    shoot(page, "preview-markup-as-text")
    page.keyboard.press("Escape")

    # Downloads as an attachment, never rendered.
    with page.expect_download() as download:
        row(page, NASTY).locator(".download-link").click()
    assert download.value.suggested_filename.endswith(".html")
    answer = page.request.get(f"/files/items/{node.pk}/download/")
    assert answer.headers["content-disposition"].startswith("attachment")
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["x-content-type-options"] == "nosniff"
    inline = page.request.get(f"/api/v1/nodes/{node.pk}/content/?inline=1")
    assert inline.headers["content-disposition"].startswith("attachment")

    # The details page shows the name literally too.
    page.goto(f"/files/items/{node.pk}/", wait_until="load")
    expect(page.get_by_role("heading", level=1)).to_have_text(NASTY)
    # Markup that ran would have alerted by the time the page has loaded (images failed,
    # every script — deferred ones included — run) and its load handlers have finished:
    # wait for exactly that, not for a guessed number of milliseconds.
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => setTimeout(done)))")
    assert dialogs == []
