"""MIME detection reads only the head of a file (files.ingest.HEAD_SIZE bytes)."""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import random
import sqlite3
import tarfile
import zipfile
from collections.abc import Callable
from typing import Any

import magic
import pytest
from PIL import Image

from files import mime
from files.ingest import HEAD_SIZE
from files.mime import sniff
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


def test_only_the_head_is_read(upload: Any) -> None:
    words = (b"a log line of plain words\n" * 1000)[:HEAD_SIZE]
    garbage = b"\x00\xff" + os.urandom(2 * 1024 * 1024)  # binary from byte 8193 on
    assert upload("server-log", words + garbage).mime_type == "text/plain"
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    assert upload("picture", png + b"<html><script>" * 100_000).mime_type == "image/png"


def test_the_receiver_keeps_exactly_the_head() -> None:
    content = os.urandom(HEAD_SIZE * 3)
    item = received(content)
    try:
        assert item.head == content[:HEAD_SIZE]
    finally:
        item.discard()


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        (b"\xef\xbb\xbf  <!DOCTYPE html><p>hi", "notes", "text/html"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "x", "image/svg+xml"),
        (b"{\\rtf1\\ansi", "letter", "application/rtf"),
        (b"GIF89a" + b"\x01\x00" * 8, "anim.txt", "image/gif"),
        (gzip.compress(b"hello"), "backup", "application/gzip"),  # found by libmagic
        (b"", "empty.txt", "text/plain"),
        (b"", "empty", "application/octet-stream"),
        (b"col1,col2\n1,2\n", "table.csv", "text/csv"),
        (b"\x00\x01\x02", "notes.txt", "application/octet-stream"),  # the name may not say text
    ],
)
def test_content_decides_and_the_name_falls_back(head: bytes, name: str, expected: str) -> None:
    assert sniff(head, name) == expected


# --- our signatures agree with libmagic; opaque heads skip it ------------------------------

_FILLER = random.Random(10).randbytes(HEAD_SIZE)  # stands for compressed data


def _image(kind: str) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((48, 48), 60).convert("RGB").save(out, kind)
    return out.getvalue()


def _archive(kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "zip":
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("a.bin", _FILLER)
    else:
        with tarfile.open(fileobj=out, mode="w") as archive:
            info = tarfile.TarInfo("a.bin")
            info.size = len(_FILLER)
            archive.addfile(info, io.BytesIO(_FILLER))
    return out.getvalue()


def _sqlite(tmp_path: Any) -> bytes:
    with contextlib.closing(sqlite3.connect(tmp_path / "db.sqlite3")) as db:
        db.execute("CREATE TABLE t (x)")
        db.commit()
    return (tmp_path / "db.sqlite3").read_bytes()


def _ftyp(brand: bytes) -> Callable[[Any], bytes]:
    return lambda _: b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x02\x00" + brand + _FILLER


_BRANDS = (b"isom", b"iso2", b"mp41", b"mp42", b"avc1", b"dash", b"qt  ", b"M4A ", b"M4V ")
_BRANDS += (b"heic", b"heix", b"mif1", b"avif", b"3gp4", b"3gp5")


# Heads of real or header-true files of every format the signature table knows; their body
# is compressed-looking data where the format's is.
SAMPLES: dict[str, Callable[[Any], bytes]] = {
    "png": lambda _: _image("PNG"),
    "jpeg": lambda _: _image("JPEG"),
    "gif": lambda _: _image("GIF"),
    "gif89a": lambda _: b"GIF89a\x30\x00\x30\x00\xf7\x00\x00" + _FILLER,
    "webp": lambda _: _image("WEBP"),
    "tiff": lambda _: _image("TIFF"),
    "tiff big-endian": lambda _: b"MM\x00*\x00\x00\x00\x08" + _FILLER,
    "photoshop": lambda _: b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00" + _FILLER,
    "pdf": lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + _FILLER,
    "zip": lambda _: _archive("zip"),
    "zip, empty": lambda _: b"PK\x05\x06" + b"\x00" * 18,
    "gzip": lambda _: gzip.compress(_FILLER),
    "bzip2": lambda _: bz2.compress(_FILLER),
    "xz": lambda _: lzma.compress(_FILLER),
    "zstd": lambda _: b"\x28\xb5\x2f\xfd\x04\x58" + _FILLER,
    "7z": lambda _: b"7z\xbc\xaf\x27\x1c\x00\x04" + _FILLER,
    "rar": lambda _: b"Rar!\x1a\x07\x01\x00" + _FILLER,
    "sqlite": _sqlite,
    "wasm": lambda _: b"\x00asm\x01\x00\x00\x00" + _FILLER,
    "woff": lambda _: b"wOFF\x00\x01\x00\x00" + _FILLER,
    "woff2": lambda _: b"wOF2\x00\x01\x00\x00" + _FILLER,
    "flac": lambda _: b"fLaC\x00\x00\x00\x22" + _FILLER,
    "mp3": lambda _: b"\xff\xfb\x90\x64" + _FILLER,
    "mp3, 22 kHz": lambda _: b"\xff\xf3\x90\x64" + _FILLER,
    "wav": lambda _: b"RIFF\x24\x08\x00\x00WAVEfmt " + _FILLER,
    "avi": lambda _: b"RIFF\x24\x08\x00\x00AVI LIST" + _FILLER,
    "webm": lambda _: (
        bytes.fromhex("1a45dfa39f4286810142f7810142f2810442f381084282847765626d") + _FILLER
    ),
    "matroska": lambda _: (
        bytes.fromhex("1a45dfa3a34286810142f7810142f2810442f381084282886d6174726f736b61") + _FILLER
    ),
    **{f"ftyp {brand.decode()}": _ftyp(brand) for brand in _BRANDS},
}


@pytest.mark.parametrize("kind", SAMPLES)
def test_our_signatures_answer_what_libmagic_answers(kind: str, tmp_path: Any) -> None:
    head = SAMPLES[kind](tmp_path)[:HEAD_SIZE]
    by_libmagic = magic.Magic(mime=True).from_buffer(head)
    assert by_libmagic not in {"application/octet-stream", "text/plain"}
    assert sniff(head, "no-extension") == by_libmagic


def test_every_signature_has_its_sample(tmp_path: Any) -> None:
    heads = [make(tmp_path)[:HEAD_SIZE] for make in SAMPLES.values()]
    for signature in mime._BINARY_SIGNATURES:
        assert any(signature.matches(head) for head in heads), signature


def test_opaque_heads_are_told_from_structured_ones(tmp_path: Any) -> None:
    for size in (256, 1000, HEAD_SIZE):
        assert mime._opaque(os.urandom(size))
        assert sniff(os.urandom(size), "x") == "application/octet-stream"
        assert sniff(os.urandom(size), "x.mp4") == "video/mp4"  # the name still counts
    structured = [
        b"\x00" * HEAD_SIZE,
        _archive("tar"),
        _sqlite(tmp_path),
        b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\x3e\x00" + b"\x00" * 2000,
        os.urandom(255),  # too short to tell
    ]
    assert not any(mime._opaque(head[:HEAD_SIZE]) for head in structured)


def test_structured_binaries_are_still_found_by_libmagic() -> None:
    assert sniff(_archive("tar")[:HEAD_SIZE], "backup") == "application/x-tar"
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\x3e\x00" + b"\x00" * 2000
    assert sniff(elf, "program") == "application/x-sharedlib"


def test_only_structured_unknown_heads_are_shown_to_libmagic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """libmagic costs ~0.2 ms of CPU per call whatever it is shown (bench/mime.py): known
    formats and opaque heads must not reach it. (A spy: libmagic still answers.)"""
    shown: list[bytes] = []
    answer = magic.Magic.from_buffer

    def spy(self: magic.Magic, buffer: bytes) -> str:
        shown.append(buffer)
        return answer(self, buffer)

    monkeypatch.setattr(magic.Magic, "from_buffer", spy)
    for make in SAMPLES.values():
        sniff(make(tmp_path)[:HEAD_SIZE], "x")
    sniff(os.urandom(HEAD_SIZE), "x")
    sniff(b"plain words\n" * 100, "x")
    assert shown == []
    tar = _archive("tar")[:HEAD_SIZE]
    assert sniff(tar, "x") == "application/x-tar"
    assert shown == [tar]
