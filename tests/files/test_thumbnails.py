"""Thumbnails: made from real images and PDFs, cached in storage, served with validators;
damaged, hostile and unsupported files get a clear 4xx."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import RequestFactory
from PIL import Image

from files.delivery import BlobMissing
from files.models import Node
from files.thumbnails import (
    ImageTooLarge,
    NoThumbnail,
    ThumbnailSizeInvalid,
    UnreadableFile,
    thumbnail_key,
    thumbnail_response,
)
from tests.search import documents
from tests.utils import without_hanging

pytestmark = pytest.mark.django_db

rf = RequestFactory()


@pytest.fixture(autouse=True)
def _responses_close_like_in_the_test_client() -> Iterator[None]:
    """Closing a response fires request_finished, whose close_old_connections would drop
    the test's database connection (it is inside a transaction); Django's test client
    disconnects it the same way while it handles a request."""
    request_finished.disconnect(close_old_connections)
    yield
    request_finished.connect(close_old_connections)


def thumb(node: Any, size: int = 128, method: str = "get", **headers: str) -> tuple[Any, bytes]:
    response = thumbnail_response(getattr(rf, method)("/thumb", headers=headers), node, size=size)
    try:
        body = b"".join(response.streaming_content) if response.streaming else response.content
    finally:
        response.close()
    return response, body


def image_bytes(image: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def pdf_bytes(width: int, height: int, content: bytes) -> bytes:
    """A one-page PDF drawing ``content`` (a page content stream), built by hand."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R >>" % (width, height),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def opened(body: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(body))
    image.load()
    return image


def test_a_png_thumbnail_keeps_its_shape_and_transparency(upload: Any) -> None:
    picture = Image.new("RGBA", (800, 400), (0, 128, 255, 255))
    picture.paste((0, 0, 0, 0), (0, 0, 400, 400))  # left half transparent
    node = upload("wide.png", image_bytes(picture, "PNG"))
    assert node.mime_type == "image/png"
    response, body = thumb(node, size=128)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["ETag"] == f'"{node.blob.sha256}-128"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="wide-128.webp"'
    image = opened(body)
    assert image.format == "WEBP"
    assert image.size == (128, 64)
    assert image.convert("RGBA").getpixel((10, 32))[3] == 0
    assert image.convert("RGBA").getpixel((110, 32))[3] == 255
    assert default_storage.exists(thumbnail_key(node.blob.sha256, 128))


@pytest.mark.parametrize("size", [64, 128, 256, 512])
def test_every_allowed_size_fits_the_longest_side(upload: Any, size: int) -> None:
    node = upload("tall.png", image_bytes(Image.new("RGB", (300, 1200), "green"), "PNG"))
    _, body = thumb(node, size=size)
    width, height = opened(body).size
    assert height == min(size, 1200)
    assert width == round(height / 4)


def test_jpeg_exif_orientation_is_applied(upload: Any) -> None:
    # Stored landscape, left half red, right half blue; EXIF says "rotate 90° clockwise".
    picture = Image.new("RGB", (400, 200), "blue")
    picture.paste((255, 0, 0), (0, 0, 200, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    node = upload("phone.jpg", image_bytes(picture, "JPEG", exif=exif.tobytes()))
    assert node.mime_type == "image/jpeg"
    _, body = thumb(node, size=128)
    image = opened(body).convert("RGB")
    assert image.size == (64, 128)  # shown portrait
    red, _green, blue = image.getpixel((32, 10))  # what was the left is now the top
    assert red > 200 and blue < 60
    red, _green, blue = image.getpixel((32, 118))
    assert blue > 200 and red < 60


def test_a_pdf_thumbnail_is_its_first_page(upload: Any) -> None:
    # A 600 x 400 pt page, red on its left half.
    node = upload("paper.pdf", pdf_bytes(600, 400, b"1 0 0 rg 0 0 300 400 re f"))
    assert node.mime_type == "application/pdf"
    response, body = thumb(node, size=256)
    assert response.status_code == 200
    image = opened(body).convert("RGB")
    assert image.size[0] == 256
    assert abs(image.size[1] - 171) <= 1
    red, green, blue = image.getpixel((40, 80))
    assert red > 200 and green < 60 and blue < 60
    assert min(image.getpixel((220, 80))) > 230  # the rest of the page is white


def test_a_portrait_pdf_tile_shows_the_top_of_its_first_page(upload: Any) -> None:
    # A 400 x 600 pt page: a black title band at its top, a red band at its bottom.
    content = b"0 0 0 rg 40 540 320 40 re f 1 0 0 rg 0 0 400 60 re f"
    node = upload("letter.pdf", pdf_bytes(400, 600, content))
    _, body = thumb(node, size=256)
    image = opened(body).convert("RGB")
    assert image.size == (256, 256)  # the top square of the page
    # Pixel rows near the top hold the title band (y 0-60 pt from the top → rows 0-38).
    top = [image.getpixel((x, 25)) for x in range(40, 216, 8)]
    assert all(max(pixel) < 60 for pixel in top), top
    # Nothing of the page's bottom half is in the tile.
    assert not any(
        image.getpixel((x, y))[0] > 200 and image.getpixel((x, y))[1] < 60
        for x in range(0, 256, 16)
        for y in range(0, 256, 16)
    )


def test_16_bit_greyscale_is_scaled_not_clipped_to_white(upload: Any) -> None:
    grey = Image.new("I;16", (64, 64), 32768)
    node = upload("scan.png", image_bytes(grey, "PNG"))
    _, body = thumb(node, size=64)
    value = opened(body).convert("L").getpixel((32, 32))
    assert 110 < value < 145


def test_the_thumbnail_is_made_once_and_reused(upload: Any) -> None:
    node = upload("photo.png", image_bytes(Image.new("RGB", (640, 480), "purple"), "PNG"))
    _, first = thumb(node, size=256)
    path = default_storage.path(thumbnail_key(node.blob.sha256, 256))
    long_ago = 1_000_000_000
    os.utime(path, (long_ago, long_ago))  # a re-render would replace it with a new file
    inode = os.stat(path).st_ino

    _, second = thumb(node, size=256)
    assert second == first
    assert os.stat(path).st_mtime == long_ago
    assert os.stat(path).st_ino == inode

    # Same content under another name: the same cached thumbnail.
    twin = upload("copy of photo.png", image_bytes(Image.new("RGB", (640, 480), "purple"), "PNG"))
    assert twin.blob_id == node.blob_id
    _, third = thumb(twin, size=256)
    assert third == first
    assert os.stat(path).st_mtime == long_ago


def test_a_client_with_the_thumbnail_gets_304_without_a_render(upload: Any) -> None:
    node = upload("photo.png", image_bytes(Image.new("RGB", (64, 64), "teal"), "PNG"))
    etag = f'"{node.blob.sha256}-64"'
    response, body = thumb(node, size=64, If_None_Match=etag)
    assert response.status_code == 304
    assert body == b""
    assert response["ETag"] == etag
    assert not default_storage.exists(thumbnail_key(node.blob.sha256, 64))
    # Another size has another validator.
    response, _ = thumb(node, size=128, If_None_Match=etag)
    assert response.status_code == 200


def test_head_answers_without_a_body(upload: Any) -> None:
    node = upload("photo.png", image_bytes(Image.new("RGB", (64, 64), "teal"), "PNG"))
    response, body = thumb(node, size=64, method="head")
    assert response.status_code == 200
    assert body == b""
    assert int(response["Content-Length"]) > 0


@pytest.mark.parametrize("size", [0, 32, 100, 1024, -64])
def test_only_the_listed_sizes_are_made(upload: Any, size: int) -> None:
    node = upload("photo.png", image_bytes(Image.new("RGB", (64, 64), "teal"), "PNG"))
    with pytest.raises(ThumbnailSizeInvalid) as raised:
        thumb(node, size=size)
    assert raised.value.status_code == 400
    assert "64, 128, 256, 512" in raised.value.message


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"just text"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
        ("song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x00"),
        ("data.bin", b"\x00\x01\x02\x03"),
    ],
)
def test_other_types_have_no_thumbnail(upload: Any, name: str, content: bytes) -> None:
    node = upload(name, content)
    with pytest.raises(NoThumbnail) as raised:
        thumb(node)
    assert raised.value.status_code == 415
    assert raised.value.message == "No thumbnail for this type of file."


def test_a_folder_has_no_thumbnail(mkdir: Any) -> None:
    with pytest.raises(NoThumbnail):
        thumb(mkdir("/Photos"))


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("broken.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 50),
        (
            "cut.jpg",
            lambda: image_bytes(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG")[:800],
        ),
        ("broken.pdf", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"),
        ("empty.pdf", lambda: b"%PDF-1.4\n%%EOF\n"),
    ],
)
def test_damaged_files_are_a_clear_422(upload: Any, name: str, make: Any) -> None:
    node = upload(name, make())
    with pytest.raises(UnreadableFile) as raised:
        thumb(node)
    assert raised.value.status_code == 422
    assert "could not be read" in raised.value.message
    assert not default_storage.exists(thumbnail_key(node.blob.sha256, 128))


def test_a_pdf_that_takes_hours_to_draw_is_a_clear_422_at_the_time_limit(
    settings: Any, upload: Any
) -> None:
    """Drawing its page (10^12 operations) is one call into pdfium, which cannot be
    interrupted: the page is drawn in a child process that is killed at the limit."""
    settings.FILEFLOW_THUMBNAIL_TIMEOUT_SECONDS = 1
    uploaded = upload("hostile.pdf", documents.pdf_that_takes_hours())
    # Read whole here: the call runs in a thread of its own (another database connection).
    node = Node.objects.select_related("blob").get(pk=uploaded.pk)
    with pytest.raises(UnreadableFile) as raised:
        without_hanging(lambda: thumb(node))
    assert raised.value.status_code == 422
    assert "takes longer than 1 second to draw" in raised.value.message
    assert not default_storage.exists(thumbnail_key(node.blob.sha256, 128))
    response, _ = thumb(upload("fine.pdf", pdf_bytes(200, 100, b"0 0 1 rg 0 0 100 100 re f")))
    assert response.status_code == 200


@pytest.mark.parametrize("dimensions", [(120, 100), (400, 400)])
def test_images_over_the_pixel_limit_are_refused_before_decoding(
    settings: Any, upload: Any, dimensions: tuple[int, int]
) -> None:
    """Both sides of Pillow's own check: just over the limit (Pillow only warns) and far
    over it (Pillow raises DecompressionBombError)."""
    settings.FILEFLOW_THUMBNAIL_MAX_PIXELS = 10_000
    node = upload("huge.png", image_bytes(Image.new("L", dimensions), "PNG"))
    with pytest.raises(ImageTooLarge) as raised:
        thumb(node)
    assert raised.value.status_code == 422
    assert "10,000 pixels" in raised.value.message
    assert not default_storage.exists(thumbnail_key(node.blob.sha256, 128))
    # The limit is read each time: raised, the same image is fine.
    settings.FILEFLOW_THUMBNAIL_MAX_PIXELS = 1_000_000
    response, _ = thumb(node)
    assert response.status_code == 200


def test_content_missing_from_storage_is_a_clear_404(upload: Any) -> None:
    node = upload("photo.png", image_bytes(Image.new("RGB", (64, 64), "teal"), "PNG"))
    default_storage.delete(node.blob.storage_key)
    with pytest.raises(BlobMissing):
        thumb(node)
