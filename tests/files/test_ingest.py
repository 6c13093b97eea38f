"""The byte loop of every upload (files.ingest): a big body is hashed in a thread beside the
one that receives and writes it; the result is the same as hashing it in one pass."""

from __future__ import annotations

import hashlib
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from files.errors import IncompleteUpload, UploadTooLarge
from files.ingest import CHUNK_SIZE, HEAD_SIZE, receive_stream

MiB = 1024 * 1024


def hashers_running() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "fileflow-hash"]


def uneven_reader(content: bytes, *, seen: list[int] | None = None) -> Callable[[int], bytes]:
    """Hands out ``content`` in pieces of varying size (never more than asked), as a socket
    does; records in ``seen`` how many hasher threads ran at each read."""
    pieces = random.Random(7)
    position = 0

    def read(size: int) -> bytes:
        nonlocal position
        if seen is not None:
            seen.append(len(hashers_running()))
        take = min(size, pieces.randint(1, 2 * CHUNK_SIZE))
        piece = content[position : position + take]
        position += len(piece)
        return piece

    return read


def temp_files(settings: Any) -> list[str]:
    return os.listdir(settings.FILE_UPLOAD_TEMP_DIR)


def test_a_big_body_in_uneven_pieces_is_hashed_exactly_with_a_thread_beside() -> None:
    content = os.urandom(9 * MiB + 12_345)
    seen: list[int] = []

    received = receive_stream(uneven_reader(content, seen=seen), length=len(content))

    try:
        assert received.sha256 == hashlib.sha256(content).hexdigest()
        assert received.size == len(content)
        assert received.head == content[:HEAD_SIZE]
        assert Path(received.path).read_bytes() == content
        assert max(seen) == 1  # hashed beside the reads, by one thread
        assert hashers_running() == []  # and it is gone once the hash is known
    finally:
        received.discard()


def test_a_body_of_one_chunk_or_less_is_hashed_without_a_thread() -> None:
    content = os.urandom(CHUNK_SIZE)
    seen: list[int] = []

    received = receive_stream(uneven_reader(content, seen=seen), length=len(content))

    received.discard()
    assert received.sha256 == hashlib.sha256(content).hexdigest()
    assert set(seen) == {0}


def test_the_temp_folder_is_made_again_when_it_is_gone(settings: Any, tmp_path: Path) -> None:
    """It is made on the first upload, not looked for on each (an operator may empty the
    data dir's tmp/ by hand)."""
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "gone" / "tmp")
    content = b"still stored"

    received = receive_stream(uneven_reader(content), length=len(content))

    try:
        assert Path(received.path).parent == tmp_path / "gone" / "tmp"
        assert Path(received.path).read_bytes() == content
    finally:
        received.discard()


def test_a_body_cut_short_stops_the_hasher_and_leaves_no_temp_file(settings: Any) -> None:
    content = os.urandom(5 * MiB)
    read = uneven_reader(content)

    with pytest.raises(IncompleteUpload):
        receive_stream(read, length=len(content) + 1)

    assert hashers_running() == []
    assert temp_files(settings) == []


def test_a_body_over_the_limit_stops_the_hasher_and_leaves_no_temp_file(settings: Any) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 4 * MiB
    content = os.urandom(6 * MiB)

    with pytest.raises(UploadTooLarge):
        receive_stream(uneven_reader(content), length=None, name="big.bin")

    assert hashers_running() == []
    assert temp_files(settings) == []
