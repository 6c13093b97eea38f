"""Folder downloads: ZIPs streamed while they are built, read back with zipfile and unzip."""

from __future__ import annotations

import io
import os
import shutil
import struct
import subprocess
import tracemalloc
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from django.test import RequestFactory
from django.utils import timezone

from files import services, tree
from files.delivery import BlobMissing, serve_node
from files.models import Node
from files.zipstream import ZipEntry, safe_part, zip_entries, zip_response, zip_stream

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


def download(node: Any) -> tuple[Any, bytes]:
    response = serve_node(rf.get("/download"), node)
    try:
        body = b"".join(response.streaming_content)
    finally:
        response.close()
    return response, body


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every CRC checks out
        return {info.filename: archive.read(info) for info in archive.infolist()}


@pytest.fixture
def project(mkdir: Any, upload: Any) -> Any:
    """/Project with files two levels deep, an empty folder and a trashed file."""
    project = mkdir("/Project")
    docs = mkdir("/Project/docs")
    mkdir("/Project/empty")
    upload("README.md", b"# Project\n", parent=project)
    upload("guide.txt", b"read me first", parent=docs)
    upload("photo.jpg", b"\xff\xd8\xff\xe0" + b"\x10" * 5000, parent=docs)
    gone = upload("secret.txt", b"deleted", parent=docs)
    services.node_trash(node=gone)
    project.refresh_from_db()
    return project


def test_a_folder_downloads_as_a_zip_of_its_live_contents(project: Any) -> None:
    response, body = download(project)
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="Project.zip"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "sandbox" in response["Content-Security-Policy"]
    assert members(body) == {
        "Project/": b"",
        "Project/docs/": b"",
        "Project/empty/": b"",
        "Project/README.md": b"# Project\n",
        "Project/docs/guide.txt": b"read me first",
        "Project/docs/photo.jpg": b"\xff\xd8\xff\xe0" + b"\x10" * 5000,
    }


def test_entries_keep_their_times_and_folders_are_directories(project: Any) -> None:
    _, body = download(project)
    readme = project.children.get(name="README.md")
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        empty = archive.getinfo("Project/empty/")
        assert empty.is_dir()
        info = archive.getinfo("Project/README.md")
        local = timezone.localtime(readme.updated_at)
        assert info.date_time[:5] == (local.year, local.month, local.day, local.hour, local.minute)
        # The "UT" extra field carries the exact UTC time.
        assert struct.pack("<HHBl", 0x5455, 5, 1, int(readme.updated_at.timestamp())) in (
            info.extra
        )


def test_a_file_below_a_trashed_folder_is_not_in_the_zip(
    project: Any, mkdir: Any, upload: Any
) -> None:
    old = mkdir("/Project/old")
    upload("draft.txt", b"old draft", parent=old)
    services.node_trash(node=old)
    _, body = download(project)
    assert not any(name.startswith("Project/old") for name in members(body))


def test_hostile_names_stay_inside_the_archive(mkdir: Any, upload: Any, tmp_path: Any) -> None:
    top = mkdir("/..\\..\\evil")
    upload("..\\..\\..\\etc\\passwd", b"root", parent=top)
    upload("...", b"dots", parent=top)
    upload(".hidden", b"hidden", parent=top)
    upload("C:windows.txt", b"drive", parent=top)
    # Names are trimmed now (files/names.py); one stored before that keeps its spaces.
    spaced = upload("spaced", b"spaces", parent=top)
    Node.objects.filter(pk=spaced.pk).update(name=" spaced ")
    _, body = download(top)
    names = set(members(body))
    assert names == {
        ".._.._evil/",
        ".._.._evil/.._.._.._etc_passwd",
        ".._.._evil/...",
        ".._.._evil/.hidden",
        ".._.._evil/C_windows.txt",
        ".._.._evil/ spaced ",
    }
    for name in names:
        assert not name.startswith("/")
        assert "\\" not in name
        assert ".." not in name.split("/")
    # Extracted for real, everything lands below the target folder.
    target = tmp_path / "out"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        archive.extractall(target)
    extracted = {
        os.path.relpath(os.path.join(root, f), target)
        for root, _, files in os.walk(target)
        for f in files
    }
    assert len(extracted) == 5
    assert all(path.startswith(".._.._evil" + os.sep) for path in extracted)


def test_safe_part_neutralises_every_separator_and_dot_name() -> None:
    assert safe_part("a/b") == "a_b"
    assert safe_part("a\\b") == "a_b"
    assert safe_part("..") == "__"
    assert safe_part(".") == "_"
    assert safe_part("") == "_"
    assert safe_part("d:\\x") == "d__x"
    assert safe_part("tab\there") == "tab_here"
    assert safe_part("Résumé.pdf") == "Résumé.pdf"


def test_a_selection_of_several_nodes_sits_at_the_top_without_clashes(
    mkdir: Any, upload: Any, home: Any
) -> None:
    one = mkdir("/one")
    two = mkdir("/two")
    first = upload("same.txt", b"first", parent=one)
    second = upload("same.txt", b"second", parent=two)
    loose = upload("loose.bin", b"\x00loose", parent=home)
    response = zip_response(rf.get("/"), nodes=[first, second, loose, one], filename="pick.zip")
    body = b"".join(response.streaming_content)
    assert response["Content-Disposition"] == 'attachment; filename="pick.zip"'
    assert members(body) == {
        "same.txt": b"first",
        "same (1).txt": b"second",
        "loose.bin": b"\x00loose",
        "one/": b"",
        "one/same.txt": b"first",
    }


def test_non_ascii_names_are_flagged_utf8(mkdir: Any, upload: Any) -> None:
    folder = mkdir("/Фото")
    upload("東京.txt", b"tokyo", parent=folder)
    response, body = download(folder)
    assert (
        response["Content-Disposition"]
        == "attachment; filename*=utf-8''%D0%A4%D0%BE%D1%82%D0%BE.zip"
    )
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        info = archive.getinfo("Фото/東京.txt")
        assert info.flag_bits & 0x800  # names are UTF-8, for every unzip


def test_head_sends_headers_only(project: Any) -> None:
    response = serve_node(rf.head("/download"), project)
    assert b"".join(response.streaming_content) == b""
    assert response["Content-Type"] == "application/zip"


def test_big_entries_get_zip64_fields_that_readers_accept(project: Any, tmp_path: Any) -> None:
    """An entry past 4 GiB is not feasible here; every entry is written the ZIP64 way."""
    body = b"".join(zip_stream(zip_entries([project]), zip64_from=0))
    assert members(body)["Project/docs/guide.txt"] == b"read me first"
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        info = archive.getinfo("Project/docs/guide.txt")
        header = body[info.header_offset : info.header_offset + 30 + len(info.filename) + 64]
    # Local header: sizes deferred to 0xFFFFFFFF, a ZIP64 extra field (id 1) present.
    (signature,) = struct.unpack("<I", header[:4])
    assert signature == 0x04034B50
    compressed, uncompressed, name_length, extra_length = struct.unpack("<IIHH", header[18:30])
    assert (compressed, uncompressed) == (0xFFFFFFFF, 0xFFFFFFFF)
    extra = header[30 + name_length : 30 + name_length + extra_length]
    ids = []
    while extra:
        field_id, size = struct.unpack("<HH", extra[:4])
        ids.append(field_id)
        extra = extra[4 + size :]
    assert 0x0001 in ids
    # The 8-byte data descriptor sizes follow the content.
    descriptor_at = body.index(b"read me first") + len(b"read me first")
    signature, _crc, compressed64, size64 = struct.unpack(
        "<IIQQ", body[descriptor_at : descriptor_at + 24]
    )
    assert (signature, compressed64, size64) == (0x08074B50, 13, 13)
    unzip = shutil.which("unzip")
    if unzip:  # a second, independent reader
        path = tmp_path / "zip64.zip"
        path.write_bytes(body)
        check = subprocess.run([unzip, "-tq", str(path)], capture_output=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr


def test_the_archive_streams_with_flat_memory(mkdir: Any, upload: Any) -> None:
    folder = mkdir("/Big")
    size = 50 * 1024 * 1024
    upload("video.bin", os.urandom(1024) * (size // 1024), parent=folder)
    folder.refresh_from_db()
    response = serve_node(rf.get("/download"), folder)
    total = 0
    tracemalloc.start()
    try:
        for chunk in response.streaming_content:
            total += len(chunk)
            del chunk
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        response.close()
    assert total > size
    assert peak < 4 * 1024 * 1024, f"peak {peak / 1024 / 1024:.1f} MiB while streaming"


def test_a_missing_blob_fails_before_the_download_starts(project: Any) -> None:
    from django.core.files.storage import default_storage

    guide = tree.descendants(project).get(name="guide.txt")
    default_storage.delete(guide.blob.storage_key)
    with pytest.raises(BlobMissing):
        download(project)


def test_times_before_1980_are_clamped_to_what_zip_can_hold() -> None:
    old = datetime(1970, 1, 2, tzinfo=UTC)
    body = b"".join(zip_stream([ZipEntry(name="old", is_folder=True, size=0, updated_at=old)]))
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.getinfo("old/").date_time[0] == 1980


def test_names_differing_only_in_case_do_not_collide_when_unpacked(mkdir: Any, upload: Any) -> None:
    mail = mkdir("/Mail")
    upload("a.txt", b"upper", parent=mkdir("/Mail/Inbox"))
    upload("b.txt", b"lower", parent=mkdir("/Mail/inbox"))
    upload("Notes.TXT", b"one", parent=mail)
    upload("notes.txt", b"two", parent=mail)
    _, body = download(mail)
    # Windows and macOS would write the second of each pair over the first: the one met
    # second in the folder gets " (1)", extension kept.
    assert members(body) == {
        "Mail/": b"",
        "Mail/Inbox/": b"",
        "Mail/Inbox/a.txt": b"upper",
        "Mail/inbox (1)/": b"",
        "Mail/inbox (1)/b.txt": b"lower",
        "Mail/Notes.TXT": b"one",
        "Mail/notes (1).txt": b"two",
    }
