"""The tus 1.0 protocol at /api/v1/uploads/, driven through Django's test client."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from files import tree
from files.models import FileVersion, Node
from tests.uploads.conftest import TUS, create, metadata, patch, strand
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_options_lists_version_extensions_and_checksums(api: Any, settings: Any) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 10_000
    answer = api.options("/api/v1/uploads/")
    assert answer.status_code == 204
    assert answer["Tus-Version"] == "1.0.0"
    assert answer["Tus-Resumable"] == "1.0.0"
    assert set(answer["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "creation-defer-length",
        "termination",
        "expiration",
        "checksum",
    }
    assert answer["Tus-Checksum-Algorithm"] == "sha1,sha256"
    assert answer["Tus-Max-Size"] == "10000"


def test_upload_in_three_chunks_stores_the_file(backend: Any, bearer_api: Any, alice: Any) -> None:
    content = os.urandom(300_000)
    created = create(bearer_api, len(content), filename="video.bin", path="/Movies/2026")
    assert created.status_code == 201, created.content
    url = _path(created["Location"])
    assert created["Upload-Offset"] == "0"
    assert "Upload-Expires" in created
    # Unfinished: nothing in any listing.
    assert not Node.objects.filter(owner=alice, name="video.bin").exists()
    offset = 0
    for size in (100_000, 150_000, 50_000):
        answer = patch(bearer_api, url, offset, content[offset : offset + size])
        assert answer.status_code == 204, answer.content
        offset += size
        assert answer["Upload-Offset"] == str(offset)
        if offset < len(content):
            assert bearer_api.head(url, **TUS)["Upload-Offset"] == str(offset)
    node = Node.objects.get(owner=alice, name="video.bin")
    assert answer["FileFlow-Node-Id"] == str(node.pk)
    assert node.size == len(content)
    assert node.blob.sha256 == hashlib.sha256(content).hexdigest()
    assert [folder.name for folder in tree.ancestors(node)][-2:] == ["Movies", "2026"]
    assert TusUpload.objects.count() == 0
    # The finished upload is gone: its URL answers 404.
    assert bearer_api.head(url, **TUS).status_code == 404
    alice.refresh_from_db()
    assert alice.used_bytes == len(content)


def test_head_reports_offset_length_and_metadata_and_is_not_cached(bearer_api: Any) -> None:
    created = create(bearer_api, 10, filename="a.txt")
    url = _path(created["Location"])
    patch(bearer_api, url, 0, b"hello")
    head = bearer_api.head(url, **TUS)
    assert head.status_code == 200
    assert head["Upload-Offset"] == "5"
    assert head["Upload-Length"] == "10"
    assert head["Cache-Control"] == "no-store"
    assert head["Upload-Metadata"] == metadata(filename="a.txt")


def test_creation_with_upload_stores_a_small_file_in_one_request(
    backend: Any, bearer_api: Any, alice: Any
) -> None:
    created = create(bearer_api, 11, b"hello world", filename="hi.txt")
    assert created.status_code == 201
    assert created["Upload-Offset"] == "11"
    assert Node.objects.get(owner=alice, name="hi.txt").size == 11


def test_empty_file_is_stored_at_creation(backend: Any, bearer_api: Any, alice: Any) -> None:
    created = create(bearer_api, 0, filename="empty.txt")
    assert created.status_code == 201
    assert Node.objects.get(owner=alice, name="empty.txt").size == 0


def test_deferred_length_is_given_with_the_last_chunk(
    backend: Any, bearer_api: Any, alice: Any
) -> None:
    created = create(bearer_api, None, filename="stream.log")
    assert created["Upload-Defer-Length"] == "1"
    url = _path(created["Location"])
    assert patch(bearer_api, url, 0, b"abc").status_code == 204
    assert not Node.objects.filter(name="stream.log").exists()
    done = patch(bearer_api, url, 3, b"def", HTTP_UPLOAD_LENGTH="6")
    assert done.status_code == 204
    assert Node.objects.get(owner=alice, name="stream.log").size == 6


def test_offset_mismatch_is_409_and_changes_nothing(backend: Any, bearer_api: Any) -> None:
    url = _path(create(bearer_api, 10, filename="a.txt")["Location"])
    patch(bearer_api, url, 0, b"12345")
    wrong = patch(bearer_api, url, 3, b"xxxxx")
    assert wrong.status_code == 409
    assert wrong.json()["field"] == "Upload-Offset"
    assert bearer_api.head(url, **TUS)["Upload-Offset"] == "5"
    assert patch(bearer_api, url, 5, b"67890").status_code == 204


@pytest.mark.parametrize("algorithm", ["sha1", "sha256"])
def test_checksum_mismatch_is_460_and_the_chunk_is_discarded(
    backend: Any, bearer_api: Any, alice: Any, algorithm: str
) -> None:
    url = _path(create(bearer_api, 8, filename="c.bin")["Location"])
    good = base64.b64encode(hashlib.new(algorithm, b"abcd").digest()).decode()
    bad = base64.b64encode(hashlib.new(algorithm, b"zzzz").digest()).decode()
    refused = patch(bearer_api, url, 0, b"abcd", HTTP_UPLOAD_CHECKSUM=f"{algorithm} {bad}")
    assert refused.status_code == 460
    assert bearer_api.head(url, **TUS)["Upload-Offset"] == "0"
    taken = patch(bearer_api, url, 0, b"abcd", HTTP_UPLOAD_CHECKSUM=f"{algorithm} {good}")
    assert taken.status_code == 204
    assert taken["Upload-Offset"] == "4"
    patch(bearer_api, url, 4, b"efgh")
    node = Node.objects.get(owner=alice, name="c.bin")
    assert node.blob.sha256 == hashlib.sha256(b"abcdefgh").hexdigest()


def test_unknown_checksum_algorithm_is_400(bearer_api: Any) -> None:
    url = _path(create(bearer_api, 4, filename="c.bin")["Location"])
    refused = patch(bearer_api, url, 0, b"abcd", HTTP_UPLOAD_CHECKSUM="md5 AAAA")
    assert refused.status_code == 400
    assert refused.json()["field"] == "Upload-Checksum"


def test_wrong_tus_version_is_412(bearer_api: Any) -> None:
    answer = bearer_api.generic(
        "POST",
        "/api/v1/uploads/",
        HTTP_TUS_RESUMABLE="0.2.2",
        HTTP_UPLOAD_LENGTH="3",
        HTTP_UPLOAD_METADATA=metadata(filename="a"),
    )
    assert answer.status_code == 412
    assert answer["Tus-Version"] == "1.0.0"
    missing = bearer_api.generic("POST", "/api/v1/uploads/", HTTP_UPLOAD_LENGTH="3")
    assert missing.status_code == 412


def test_patch_needs_the_offset_content_type(bearer_api: Any) -> None:
    url = _path(create(bearer_api, 4, filename="a.bin")["Location"])
    answer = bearer_api.generic(
        "PATCH",
        url,
        b"abcd",
        content_type="application/octet-stream",
        HTTP_UPLOAD_OFFSET="0",
        **TUS,
    )
    assert answer.status_code == 415


def test_chunk_past_the_length_is_refused(bearer_api: Any) -> None:
    url = _path(create(bearer_api, 4, filename="a.bin")["Location"])
    answer = patch(bearer_api, url, 0, b"abcdef")
    assert answer.status_code == 409
    assert bearer_api.head(url, **TUS)["Upload-Offset"] == "0"


@pytest.mark.parametrize(
    ("meta", "headers", "field"),
    [
        ({}, {"HTTP_UPLOAD_LENGTH": "3"}, "filename"),
        ({"filename": "a/b"}, {"HTTP_UPLOAD_LENGTH": "3"}, "filename"),
        ({"filename": "a", "on_conflict": "maybe"}, {"HTTP_UPLOAD_LENGTH": "3"}, "on_conflict"),
        ({"filename": "a", "parent": "999999"}, {"HTTP_UPLOAD_LENGTH": "3"}, "parent"),
        ({"filename": "a", "parent": "x"}, {"HTTP_UPLOAD_LENGTH": "3"}, "parent"),
        ({"filename": "a", "path": "/../x"}, {"HTTP_UPLOAD_LENGTH": "3"}, "path"),
        ({"filename": "a"}, {}, "Upload-Length"),
        ({"filename": "a"}, {"HTTP_UPLOAD_LENGTH": "-1"}, "Upload-Length"),
        ({"filename": "a"}, {"HTTP_UPLOAD_LENGTH": "lots"}, "Upload-Length"),
    ],
)
def test_bad_metadata_is_400_naming_the_field_before_any_byte(
    bearer_api: Any, meta: dict[str, str], headers: dict[str, str], field: str
) -> None:
    answer = bearer_api.generic(
        "POST",
        "/api/v1/uploads/",
        **TUS,
        HTTP_UPLOAD_METADATA=metadata(**meta),
        **headers,
    )
    assert answer.status_code in (400, 404), answer.content
    assert answer.json()["field"] == field
    assert TusUpload.objects.count() == 0


def test_malformed_metadata_header_is_400(bearer_api: Any) -> None:
    answer = bearer_api.generic(
        "POST",
        "/api/v1/uploads/",
        **TUS,
        HTTP_UPLOAD_LENGTH="3",
        HTTP_UPLOAD_METADATA="filename not-base64!",
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == "filename"


def test_name_taken_with_on_conflict_fail_is_refused_at_creation(
    bearer_api: Any, alice: Any
) -> None:
    create(bearer_api, 3, b"one", filename="same.txt")
    taken = create(bearer_api, 3, filename="same.txt")
    assert taken.status_code == 409
    assert taken.json()["field"] == "filename"


def test_replace_keeps_a_version(backend: Any, bearer_api: Any, alice: Any) -> None:
    create(bearer_api, 3, b"one", filename="same.txt")
    url = _path(create(bearer_api, 3, filename="same.txt", on_conflict="replace")["Location"])
    patch(bearer_api, url, 0, b"two")
    node = Node.objects.get(owner=alice, name="same.txt")
    assert node.blob.sha256 == hashlib.sha256(b"two").hexdigest()
    assert FileVersion.objects.filter(node=node).count() == 1


def test_into_a_folder_by_id(bearer_api: Any, alice: Any) -> None:
    home = tree.home_of(alice)
    folder = tree.insert(Node(owner=alice, name="Inbox", is_folder=True), home)
    created = create(bearer_api, 2, b"hi", filename="a.txt", parent=str(folder.pk))
    assert created.status_code == 201
    assert Node.objects.get(name="a.txt").parent_id == folder.pk


def test_too_large_and_over_quota_are_413_at_creation(
    bearer_api: Any, alice: Any, settings: Any
) -> None:
    settings.FILEFLOW_MAX_UPLOAD_SIZE = 1000
    too_large = create(bearer_api, 1001, filename="big.bin")
    assert too_large.status_code == 413
    settings.FILEFLOW_MAX_UPLOAD_SIZE = None
    alice.quota_bytes = 500
    alice.save()
    assert create(bearer_api, 501, filename="big.bin").status_code == 413
    assert TusUpload.objects.count() == 0


def test_reservations_stop_two_uploads_passing_a_quota_that_holds_one(
    backend: Any, bearer_api: Any, alice: Any
) -> None:
    alice.quota_bytes = 1000
    alice.save()
    first = create(bearer_api, 600, filename="one.bin")
    assert first.status_code == 201
    second = create(bearer_api, 600, filename="two.bin")
    assert second.status_code == 413
    assert "unfinished uploads hold" in second.json()["detail"]
    # Terminating the first releases its reservation.
    assert bearer_api.delete(_path(first["Location"]), **TUS).status_code == 204
    assert create(bearer_api, 600, filename="two.bin").status_code == 201


def test_deferred_length_is_reserved_when_declared(bearer_api: Any, alice: Any) -> None:
    alice.quota_bytes = 10
    alice.save()
    url = _path(create(bearer_api, None, filename="s.bin")["Location"])
    refused = patch(bearer_api, url, 0, b"abc", HTTP_UPLOAD_LENGTH="11")
    assert refused.status_code == 413
    assert patch(bearer_api, url, 0, b"abc", HTTP_UPLOAD_LENGTH="10").status_code == 204


def test_termination_removes_the_bytes(bearer_api: Any, backend: Any) -> None:
    size = 9 * 1024 * 1024  # on S3: one part sent, the rest in the tail
    url = _path(create(bearer_api, size + 10, filename="a.bin")["Location"])
    patch(bearer_api, url, 0, b"1" * size)
    assert len(backend.leftovers()) == 1
    assert bearer_api.delete(url, **TUS).status_code == 204
    assert backend.leftovers() == []
    assert bearer_api.head(url, **TUS).status_code == 404
    assert patch(bearer_api, url, 5, b"67890").status_code == 404


def test_another_users_upload_url_is_404(bearer_api: Any, mallory: Any) -> None:
    from rest_framework.test import APIClient

    url = _path(create(bearer_api, 10, filename="a.bin")["Location"])
    intruder = APIClient()
    intruder.force_login(mallory)
    assert intruder.head(url, **TUS).status_code == 404
    assert intruder.delete(url, **TUS).status_code == 404
    assert patch(intruder, url, 0, b"12345").status_code == 404
    assert bearer_api.head(url, **TUS)["Upload-Offset"] == "0"


def test_anonymous_is_refused(api: Any) -> None:
    answer = create(api, 3, filename="a.txt")
    assert answer.status_code in (401, 403)
    assert TusUpload.objects.count() == 0


def test_session_uploads_are_csrf_checked(alice: Any) -> None:
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    headers = {**TUS, "HTTP_UPLOAD_LENGTH": "3", "HTTP_UPLOAD_METADATA": metadata(filename="a")}
    refused = browser.generic("POST", "/api/v1/uploads/", **headers)
    assert refused.status_code == 403
    browser.get("/")  # sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    created = browser.generic("POST", "/api/v1/uploads/", HTTP_X_CSRFTOKEN=token, **headers)
    assert created.status_code == 201


def test_expired_upload_is_410_and_gc_removes_it_and_its_reservation(
    bearer_api: Any, alice: Any, backend: Any
) -> None:
    part = 9 * 1024 * 1024
    alice.quota_bytes = 2 * part
    alice.save()
    url = _path(create(bearer_api, part + 100, filename="a.bin")["Location"])
    patch(bearer_api, url, 0, b"x" * part)
    TusUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer_api.head(url, **TUS).status_code == 410
    assert patch(bearer_api, url, part, b"y").status_code == 410
    # An expired upload reserves nothing any more.
    second = create(bearer_api, part + 100, filename="b.bin")
    assert second.status_code == 201
    patch(bearer_api, _path(second["Location"]), 0, b"z" * part)
    assert len(backend.leftovers()) == 2
    call_command("gc", "--dry-run")
    assert TusUpload.objects.count() == 2
    assert len(backend.leftovers()) == 2
    call_command("gc")
    assert TusUpload.objects.count() == 1
    assert len(backend.leftovers()) == 1
    assert bearer_api.head(url, **TUS).status_code == 404


def test_each_patch_moves_the_expiry(bearer_api: Any, settings: Any) -> None:
    settings.FILEFLOW_UPLOAD_EXPIRY = timedelta(hours=1)
    url = _path(create(bearer_api, 10, filename="a.bin")["Location"])
    TusUpload.objects.update(expires_at=timezone.now() + timedelta(minutes=1))
    patch(bearer_api, url, 0, b"12345")
    assert TusUpload.objects.get().expires_at > timezone.now() + timedelta(minutes=59)


def test_hash_is_recomputed_when_this_process_lost_it(
    bearer_api: Any, alice: Any, backend: Any
) -> None:
    from uploads import storage

    content = os.urandom(20 * 1024 * 1024 + 5)
    url = _path(create(bearer_api, len(content), filename="a.bin")["Location"])
    patch(bearer_api, url, 0, content[:7_000_000])
    upload_id = url.rsplit("/", 1)[1]
    assert storage.hasher_cached(upload_id, 7_000_000)
    storage.forget_hashers(upload_id)  # as after a restart or on another app server
    patch(bearer_api, url, 7_000_000, content[7_000_000:])
    node = Node.objects.get(owner=alice, name="a.bin")
    assert node.blob.sha256 == hashlib.sha256(content).hexdigest()
    assert backend.leftovers() == []


def test_big_upload_goes_through_parts_and_lands_under_its_content_key(
    bearer_api: Any, alice: Any, backend: Any
) -> None:
    from files.store import blob_store

    content = os.urandom(19 * 1024 * 1024)
    url = _path(create(bearer_api, len(content), filename="big.bin")["Location"])
    for start in range(0, len(content), 6 * 1024 * 1024):
        chunk = content[start : start + 6 * 1024 * 1024]
        assert patch(bearer_api, url, start, chunk).status_code == 204
    node = Node.objects.get(owner=alice, name="big.bin")
    with blob_store().open_range(node.blob.storage_key) as stored:
        assert hashlib.sha256(stored.read()).digest() == hashlib.sha256(content).digest()
    assert backend.leftovers() == []
    # The same content again is deduplicated: one blob, nothing left over.
    url = _path(create(bearer_api, len(content), filename="again.bin")["Location"])
    patch(bearer_api, url, 0, content)
    assert Node.objects.get(owner=alice, name="again.bin").blob_id == node.blob_id
    assert backend.leftovers() == []


def test_bytes_past_the_committed_offset_are_dropped(
    bearer_api: Any, alice: Any, settings: Any
) -> None:
    """A worker killed after writing but before committing leaves bytes nobody was told of."""
    url = _path(create(bearer_api, 8, filename="a.bin")["Location"])
    patch(bearer_api, url, 0, b"abcd")
    part = next((Path(settings.FILE_UPLOAD_TEMP_DIR) / "tus").iterdir())
    with open(part, "ab") as handle:
        handle.write(b"GARBAGE")
    patch(bearer_api, url, 4, b"efgh")
    node = Node.objects.get(owner=alice, name="a.bin")
    assert node.blob.sha256 == hashlib.sha256(b"abcdefgh").hexdigest()
    from files.store import blob_store

    with blob_store().open_range(node.blob.storage_key) as stored:
        assert stored.read() == b"abcdefgh"


def test_unfinished_upload_is_not_listed(bearer_api: Any, alice: Any) -> None:
    url = _path(create(bearer_api, 10, filename="hidden.bin")["Location"])
    patch(bearer_api, url, 0, b"12345")
    listing = bearer_api.get("/api/v1/nodes/")
    assert listing.status_code == 200
    assert "hidden.bin" not in listing.content.decode()
    search = bearer_api.get("/api/v1/search/?q=hidden")
    assert search.json()["count"] == 0


def test_an_upload_whose_bytes_were_lost_answers_410(bearer_api: Any, settings: Any) -> None:
    """After a power cut the part file may be shorter than the offset it acknowledged."""
    url = _path(create(bearer_api, 8, filename="a.bin")["Location"])
    patch(bearer_api, url, 0, b"abcd")
    from uploads import storage

    storage.forget_hashers(url.rsplit("/", 1)[1])
    part = next((Path(settings.FILE_UPLOAD_TEMP_DIR) / "tus").iterdir())
    part.write_bytes(b"ab")
    lost = patch(bearer_api, url, 4, b"efgh")
    assert lost.status_code == 410
    assert lost.json()["code"] == "upload_lost"
    part.unlink()
    assert patch(bearer_api, url, 4, b"efgh").status_code == 410


def test_operators_see_and_terminate_uploads_in_the_admin(
    bearer_api: Any, alice: Any, make_user: Any, settings: Any
) -> None:
    from django.test import Client

    url = _path(create(bearer_api, 10, filename="stuck.bin")["Location"])
    patch(bearer_api, url, 0, b"12345")
    operator = make_user(username="op", is_staff=True, is_superuser=True)
    admin = Client()
    admin.force_login(operator)
    listing = admin.get("/admin/uploads/tusupload/")
    assert listing.status_code == 200
    assert "stuck.bin" in listing.content.decode()
    upload = TusUpload.objects.get()
    done = admin.post(
        "/admin/uploads/tusupload/",
        {"action": "terminate", "_selected_action": [upload.pk]},
    )
    assert done.status_code == 302
    assert TusUpload.objects.count() == 0
    assert list((Path(settings.FILE_UPLOAD_TEMP_DIR) / "tus").iterdir()) == []


def test_head_stores_a_complete_upload_whose_worker_died_once(
    bearer_api: Any, alice: Any, backend: Any
) -> None:
    """tuspy resumes with a HEAD: told the upload is complete it stops, so the HEAD stores
    the file first. The file appears once; a second HEAD finds no upload."""
    content = os.urandom(100_000)
    url = _path(create(bearer_api, len(content), filename="stranded.bin")["Location"])
    assert patch(bearer_api, url, 0, content[:60_000]).status_code == 204
    strand(backend, url, content)
    answer = bearer_api.head(url, **TUS)
    assert answer.status_code == 200, answer.content
    assert answer["Upload-Offset"] == answer["Upload-Length"] == str(len(content))
    node = Node.objects.get(owner=alice, name="stranded.bin")
    assert answer["FileFlow-Node-Id"] == str(node.pk)
    assert node.blob.sha256 == hashlib.sha256(content).hexdigest()
    assert bearer_api.head(url, **TUS).status_code == 404
    assert Node.objects.filter(name="stranded.bin").count() == 1
    assert backend.leftovers() == []
    alice.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (len(content), 0)


def test_gc_stores_complete_uploads_left_over_a_minute_even_expired(
    bearer_api: Any, alice: Any, backend: Any
) -> None:
    """Nobody came back for two complete uploads whose worker died: gc stores them (one
    long expired) instead of removing them; one whose last byte came just now is left to
    the request storing it, and an unfinished expired one is removed as before."""
    content = {name: os.urandom(50_000 + n) for n, name in enumerate(("a.bin", "b.bin", "c.bin"))}
    urls = {}
    for name, data in content.items():
        urls[name] = _path(create(bearer_api, len(data), filename=name)["Location"])
        assert patch(bearer_api, urls[name], 0, data[:20_000]).status_code == 204
        strand(backend, urls[name], data)
    unfinished = _path(create(bearer_api, 10, filename="d.bin")["Location"])
    patch(bearer_api, unfinished, 0, b"12345")
    now = timezone.now()
    expiry = timedelta(hours=24)  # FILEFLOW_UPLOAD_EXPIRY's default
    written = {"a.bin": now - timedelta(minutes=2), "b.bin": now - expiry - timedelta(days=3)}
    for name, when in written.items():
        TusUpload.objects.filter(pk=urls[name].rsplit("/", 1)[1]).update(expires_at=when + expiry)
    TusUpload.objects.filter(pk=unfinished.rsplit("/", 1)[1]).update(expires_at=now)

    call_command("gc", "--dry-run")
    assert TusUpload.objects.count() == 4
    call_command("gc")
    stored = {node.name: node for node in Node.objects.filter(owner=alice, is_folder=False)}
    assert set(stored) == {"a.bin", "b.bin"}
    for name in ("a.bin", "b.bin"):
        assert stored[name].blob.sha256 == hashlib.sha256(content[name]).hexdigest()
    left = TusUpload.objects.get()
    assert left.filename == "c.bin"
    assert left.offset == left.length
