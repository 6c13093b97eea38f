"""pdfium in a child process, with a time limit: the one way FileFlow opens a PDF.

A hostile PDF can keep one call into pdfium busy for hours. A page that draws a form a
thousand times, which draws another form a thousand times, which shows text a thousand
times, is a 5 KB file and a billion text operations: loading that page's text or drawing
it does not return for hours. A call into C cannot be interrupted from Python, so in the
calling process it would hold the task worker (every later task waits) or a web worker's
thread. Here every use of pdfium runs in a child process that is killed when its time is
up; a crash inside pdfium ends only the child, too.

How: each process that needs pdfium starts one small server (``python -m files.pdf``, no
Django) that has imported pypdfium2 and Pillow; for each call the server forks a child,
which does the work and writes its answer to a pipe, and kills it if no answer comes in
time. A call costs a fork, not an interpreter start. Calls from one process take turns
(pdfium is not thread-safe; one server per process). Answers are plain JSON and pixels,
never pickles.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# How much longer than a call's own limit the caller waits for the server's answer before
# it gives up on the server itself (the server kills the child at the limit).
_GRACE_SECONDS = 10.0


class PdfFailed(Exception):
    """pdfium could not do it. ``stage`` says where: ``open`` (not a PDF, damaged, or
    protected by a password), ``page`` (a page could not be read or drawn), ``empty`` (no
    page to draw), ``crashed`` (the reader died), ``time`` (the time limit passed)."""

    def __init__(self, stage: str, detail: str = "") -> None:
        super().__init__(f"{stage}: {detail}" if detail else stage)
        self.stage = stage
        self.detail = detail


def pdf_page_texts(source: IO[bytes], *, max_bytes: int, seconds: float) -> list[str]:
    """The text of each page of the PDF in ``source``, in order, until the pages read hold
    more than ``max_bytes`` of text (UTF-8) or there are no more. Raises
    :class:`PdfFailed` (stage ``time`` once ``seconds`` have passed)."""
    with _on_disk(source) as path:
        header, _ = _call({"op": "texts", "path": path, "max_bytes": max_bytes}, seconds)
    return list(header["texts"])


def pdf_first_page_image(source: IO[bytes], *, size: int, seconds: float) -> Image.Image:
    """The PDF's first page drawn to fit ``size`` pixels: its top square for a portrait
    page (a title and the first lines, not the middle of the page). Raises
    :class:`PdfFailed`."""
    from PIL import Image

    with _on_disk(source) as path:
        header, pixels = _call({"op": "image", "path": path, "size": size}, seconds)
    return Image.frombytes(header["mode"], tuple(header["size"]), pixels)


@contextmanager
def _on_disk(source: IO[bytes]) -> Iterator[str]:
    """A path to the bytes of ``source``: its own when it is a file on disk, else a copy
    in a temporary file (removed afterwards)."""
    name = getattr(source, "name", None)
    if isinstance(name, str) and os.path.isabs(name) and os.path.isfile(name):
        yield name
        return
    source.seek(0)
    with tempfile.NamedTemporaryFile(prefix="fileflow-pdf-", suffix=".pdf") as copy:
        shutil.copyfileobj(source, copy, 1024 * 1024)
        copy.flush()
        yield copy.name


# --- messages: a JSON header and a blob of bytes, each with its length ---------------------


def _write(stream: IO[bytes], header: dict[str, Any], payload: bytes = b"") -> None:
    encoded = json.dumps(header).encode()
    stream.write(struct.pack(">IQ", len(encoded), len(payload)) + encoded + payload)
    stream.flush()


def _read_exactly(fd: int, count: int, deadline: float | None) -> bytes:
    """``count`` bytes from ``fd``; TimeoutError at ``deadline``, EOFError at its end."""
    chunks: list[bytes] = []
    while count:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(count, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _read(fd: int, deadline: float | None = None) -> tuple[dict[str, Any], bytes]:
    header_size, payload_size = struct.unpack(">IQ", _read_exactly(fd, 12, deadline))
    header = json.loads(_read_exactly(fd, header_size, deadline))
    return header, _read_exactly(fd, payload_size, deadline)


# --- the caller's side -----------------------------------------------------------------------

_lock = threading.Lock()
_server: subprocess.Popen[bytes] | None = None
_server_of: int | None = None  # the pid that started it (a forked copy starts its own)


def _call(request: dict[str, Any], seconds: float) -> tuple[dict[str, Any], bytes]:
    global _server, _server_of
    seconds = max(seconds, 0.0)
    with _lock:
        if _server is None or _server_of != os.getpid() or _server.poll() is not None:
            _server = subprocess.Popen(
                [sys.executable, "-m", "files.pdf"],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # Its own process group, with its children: Ctrl+C is for the program that
                # started it, and killing the group ends a child it left running.
                start_new_session=True,
            )
            _server_of = os.getpid()
        server = _server
        assert server.stdin is not None and server.stdout is not None
        try:
            _write(server.stdin, {**request, "seconds": seconds})
            header, payload = _read(
                server.stdout.fileno(), time.monotonic() + seconds + _GRACE_SECONDS
            )
        except (OSError, EOFError, TimeoutError, ValueError, struct.error):
            # The server itself is gone or stuck: end it and its child, start afresh next time.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            _server = None
            raise PdfFailed("crashed", "the PDF reader stopped answering") from None
    if not header["ok"]:
        raise PdfFailed(header["stage"], header.get("detail", ""))
    return header, payload


# --- the server (python -m files.pdf) and its children -----------------------------------------


def _serve() -> None:
    import pypdfium2  # noqa: F401 - imported once here, so that every child has it
    from PIL import Image  # noqa: F401

    # Answers go to the pipe that was stdout; whatever a library prints goes to stderr.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    requests = sys.stdin.fileno()
    while True:
        try:
            request, _ = _read(requests)
        except EOFError:
            return  # the caller has gone
        header, payload = _fork_and_wait(request)
        _write(answers, header, payload)


def _fork_and_wait(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    deadline = time.monotonic() + request["seconds"]
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: do it, answer, leave without any clean-up of the server's
        os.close(read_end)
        try:
            header, payload = _work(request)
        except PdfFailed as failed:
            header, payload = {"ok": False, "stage": failed.stage, "detail": failed.detail}, b""
        except Exception as exc:  # noqa: BLE001 - whatever a hostile file makes a decoder raise
            header, payload = {"ok": False, "stage": "page", "detail": repr(exc)[:300]}, b""
        with os.fdopen(write_end, "wb") as out:
            _write(out, header, payload)
        os._exit(0)
    os.close(write_end)
    try:
        return _read(read_end, deadline)
    except TimeoutError:
        os.kill(pid, signal.SIGKILL)
        return {
            "ok": False,
            "stage": "time",
            "detail": f"longer than {request['seconds']:g} seconds",
        }, b""
    except (EOFError, ValueError, struct.error):
        return {"ok": False, "stage": "crashed", "detail": "the reader stopped"}, b""
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


def _work(request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(request["path"])
    except pdfium.PdfiumError as exc:
        raise PdfFailed("open", str(exc)) from None
    try:
        if request["op"] == "texts":
            return {"ok": True, "texts": _texts(document, request["max_bytes"])}, b""
        image = _first_page(document, request["size"])
        return {"ok": True, "mode": image.mode, "size": list(image.size)}, image.tobytes()
    except pdfium.PdfiumError as exc:
        raise PdfFailed("page", str(exc)) from None
    finally:
        document.close()


def _texts(document: Any, max_bytes: int) -> list[str]:
    texts: list[str] = []
    size = 0
    for index in range(len(document)):
        if size > max_bytes:
            break
        page = document[index]
        try:
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
        finally:
            page.close()
        texts.append(text)
        size += len(text.encode("utf-8", "surrogatepass"))
    return texts


def _first_page(document: Any, size: int) -> Image.Image:
    if len(document) == 0:
        raise PdfFailed("empty")
    page = document[0]
    width, height = page.get_size()
    if width <= 0 or height <= 0:
        raise PdfFailed("page", "the first page has no size")
    # Drawn straight at thumbnail size (PDF units are 1/72 inch); a portrait page's top.
    cut = max(0.0, height - width)
    scale = size / max(width, height - cut)
    bitmap = page.render(scale=scale, crop=(0, cut, 0, 0), may_draw_forms=False)
    return bitmap.to_pil()


if __name__ == "__main__":
    _serve()
