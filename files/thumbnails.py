"""Thumbnails of images and PDFs, made once per content and size, then served from storage.

A thumbnail depends only on the bytes it is made from, so it is cached under the content's
hash (``thumbnails/<sha256>/<size>.<ext>``): every file with that content, in any account,
shares it, and garbage collection can drop it with the blob. It is served through the one
delivery path with its own validator (``"<sha256>-<size>"``).

Decoding untrusted images is the risky part: only a few well-known formats are opened,
images with more pixels than ``FILEFLOW_THUMBNAIL_MAX_PIXELS`` are refused before their
pixels are decoded (decompression bombs), and a file that fails to decode is a clear 4xx.

Pillow and pdfium are imported when a thumbnail is first made or served, not when this
module is: a web worker that never serves one does not carry them (a few MiB each).
"""

from __future__ import annotations

import io
import os
import struct
import warnings
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.http import parse_etags

from fileflow.errors import DomainError
from files.blobs import open_blob
from files.delivery import missing_blob, serve_stored
from files.models import Node
from files.pdf import PdfFailed, pdf_first_page_image
from files.store import blob_store

if TYPE_CHECKING:
    from PIL import Image

SIZES = (64, 128, 256, 512)
# Pillow formats we decode; each MIME type we thumbnail maps onto one of them. Pillow can
# open many more (some call out to Ghostscript), which is exactly what we do not want.
IMAGE_FORMATS = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
    "image/x-ms-bmp": "BMP",
    "image/tiff": "TIFF",
    "image/avif": "AVIF",
}
PDF_TYPES = frozenset({"application/pdf"})


def _decode_errors() -> tuple[type[BaseException], ...]:
    """What a damaged or hostile file makes Pillow or pdfium raise while decoding."""
    from PIL import Image

    return (
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        IndexError,
        KeyError,
        TypeError,
        ZeroDivisionError,
        struct.error,
        Image.DecompressionBombError,
    )


class ThumbnailSizeInvalid(DomainError):
    code = "invalid_thumbnail_size"


class NoThumbnail(DomainError):
    status_code = 415
    code = "no_thumbnail"


class ImageTooLarge(DomainError):
    status_code = 422
    code = "image_too_large"


class UnreadableFile(DomainError):
    status_code = 422
    code = "unreadable_file"


def thumbnail_format() -> tuple[str, str, str]:
    """(Pillow format, extension, MIME type) thumbnails are written in."""
    from PIL import features

    if features.check("webp"):
        return "WEBP", "webp", "image/webp"
    return "JPEG", "jpg", "image/jpeg"


def thumbnail_key(sha256: str, size: int) -> str:
    _, ext, _ = thumbnail_format()
    return f"thumbnails/{sha256}/{size}.{ext}"


def _too_large(limit: int, actual: str) -> ImageTooLarge:
    return ImageTooLarge(
        f"This image is too large for a thumbnail: thumbnails are made for images of up to "
        f"{limit:,} pixels, and this one has {actual}."
    )


def _unreadable(kind: str) -> UnreadableFile:
    return UnreadableFile(f"This file could not be read as {kind}; it may be damaged.")


def _fit(image: Image.Image) -> Image.Image:
    """Colours a browser shows the same everywhere, alpha kept where there is some."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if image.mode.startswith("I"):
        # 16/32-bit greyscale: scale to 8 bits rather than clip everything to white.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGBA" if has_alpha else "RGB")


def _image_thumbnail(node: Node, size: int) -> Image.Image:
    from PIL import Image, ImageOps

    limit = settings.FILEFLOW_THUMBNAIL_MAX_PIXELS
    # Pillow's own guard, at the configured limit (read now, so it can change): open()
    # raises DecompressionBombError past twice the limit. Between one and two times Pillow
    # only warns; the explicit check below refuses those before any pixel is decoded.
    Image.MAX_IMAGE_PIXELS = limit
    assert node.blob is not None
    try:
        source = open_blob(node.blob)
    except FileNotFoundError:
        raise missing_blob(node.blob.storage_key) from None
    with source, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image: Any = Image.open(source, formats=[IMAGE_FORMATS[node.mime_type]])
            width, height = image.size
            if width * height > limit:
                raise _too_large(limit, f"{width:,} by {height:,} pixels")
            if image.mode in ("1", "P"):
                # Palette images only resize with "nearest"; convert for a smooth result.
                image = _fit(image)
            # thumbnail() decodes at a reduced scale where the format allows (JPEG draft).
            image.thumbnail((size, size), Image.Resampling.LANCZOS)
            return _fit(ImageOps.exif_transpose(image))
        except Image.DecompressionBombError:
            raise _too_large(limit, "more than twice that") from None
        except _decode_errors():
            raise _unreadable("an image") from None


def _pdf_thumbnail(node: Node, size: int) -> Image.Image:
    assert node.blob is not None
    try:
        source = open_blob(node.blob)
    except FileNotFoundError:
        raise missing_blob(node.blob.storage_key) from None
    seconds = settings.FILEFLOW_THUMBNAIL_TIMEOUT_SECONDS
    with source:
        try:
            # In a child process with a time limit: a hostile PDF can keep pdfium drawing
            # for hours (files.pdf). A portrait page shows its top square: a title and
            # first lines, not the middle of the page (what a grid tile's crop would show).
            return _fit(pdf_first_page_image(source, size=size, seconds=seconds))
        except PdfFailed as failed:
            if failed.stage == "open":
                raise _unreadable("a PDF (or it is protected by a password)") from None
            if failed.stage == "time":
                unit = "second" if seconds == 1 else "seconds"
                raise UnreadableFile(
                    f"This PDF's first page takes longer than {seconds:g} {unit} to draw, "
                    "so it gets no thumbnail."
                ) from None
            raise _unreadable("a PDF") from None


def _render(node: Node, size: int) -> bytes:
    if node.mime_type in PDF_TYPES:
        image = _pdf_thumbnail(node, size)
    else:
        image = _image_thumbnail(node, size)
    pillow_format, _, _ = thumbnail_format()
    if pillow_format == "JPEG" and image.mode == "RGBA":
        from PIL import Image

        white = Image.new("RGB", image.size, "white")
        white.paste(image, mask=image.getchannel("A"))
        image = white
    out = io.BytesIO()
    image.save(out, format=pillow_format, quality=82)
    return out.getvalue()


def can_have_thumbnail(node: Node) -> bool:
    return (
        not node.is_folder
        and node.blob is not None
        and (node.mime_type in IMAGE_FORMATS or node.mime_type in PDF_TYPES)
    )


def thumbnail_prepare(node: Node, *, size: int) -> bool:
    """Render and keep the ``size`` thumbnail of ``node`` unless it is there; True if made.

    The background task's way in (the first request would otherwise make it)."""
    assert node.blob is not None
    key = thumbnail_key(node.blob.sha256, size)
    store = blob_store()
    if store.exists(key):
        return False
    store.put_bytes(key, _render(node, size))
    return True


def thumbnail_response(request: HttpRequest, node: Node, *, size: int) -> HttpResponseBase:
    """A ``size``-pixel (longest side) thumbnail of an image or a PDF's first page.

    Made on the first request and kept in storage; later requests, and every file with
    the same content, reuse it. A client that has it already gets a 304.
    """
    if size not in SIZES:
        raise ThumbnailSizeInvalid(
            f"Thumbnail size must be one of {', '.join(str(s) for s in SIZES)} pixels.",
            field="size",
        )
    if not can_have_thumbnail(node) or node.blob is None:
        raise NoThumbnail("No thumbnail for this type of file.")
    sha256 = node.blob.sha256
    etag = f'"{sha256}-{size}"'
    key = thumbnail_key(sha256, size)
    _, ext, mime_type = thumbnail_format()
    store = blob_store()
    if _client_has(request, etag):
        length = 0  # serve_stored answers 304: nothing to render, no body to measure
    else:
        if not store.exists(key):
            store.put_bytes(key, _render(node, size))
        length = store.size(key)
    stem = os.path.splitext(node.name)[0] or "thumbnail"
    return serve_stored(
        request,
        key=key,
        size=length,
        etag=etag,
        filename=f"{stem}-{size}.{ext}",
        mime_type=mime_type,
        last_modified=node.updated_at,
        as_attachment=False,
    )


def _client_has(request: HttpRequest, etag: str) -> bool:
    """Does the client's If-None-Match already name this thumbnail?"""
    tags = parse_etags(request.headers.get("If-None-Match", ""))
    return tags == ["*"] or any(tag.removeprefix("W/") == etag for tag in tags)
