"""Resumable uploads on S3 (moto's server over HTTP): the object S3 assembles from the parts
is the blob — nothing is copied. What the app asks of S3 is recorded through boto3's public
event hooks (``s3_calls``); the bucket is listed directly with another client."""

from __future__ import annotations

import hashlib
import http.client
import importlib
import os
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from files import maintenance, services
from files.models import Blob, Node
from tests.uploads.conftest import TUS, create, patch
from uploads import services as upload_services
from uploads.errors import UploadNotFound
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024
COPIES = {"CopyObject", "UploadPartCopy"}


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def upload(client: Any, content: bytes, name: str, **meta: str) -> Any:
    """A tus upload in two chunks (the first a whole S3 part); returns the last answer."""
    created = create(client, len(content), filename=name, **meta)
    assert created.status_code == 201, created.content
    url = _path(created["Location"])
    assert patch(client, url, 0, content[: 8 * MiB]).status_code == 204
    return patch(client, url, 8 * MiB, content[8 * MiB :])


def fetch(url: str) -> tuple[int, bytes]:
    """GET a presigned URL with no credentials, as a browser following the redirect does."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_a_finished_upload_stays_where_s3_assembled_it(
    bearer_api: Any, alice: Any, s3_storage: Any, s3_calls: list[str], settings: Any
) -> None:
    content = os.urandom(9 * MiB + 123)
    answer = upload(bearer_api, content, "film.bin")
    assert answer.status_code == 204, answer.content
    node = Node.objects.get(owner=alice, name="film.bin")
    blob = node.blob
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    # Exactly one object for it, where the parts were joined, and no copy was asked for.
    assert blob.key is not None and blob.key.startswith("blobs/uploads/")
    assert blob.storage_key == blob.key
    assert s3_storage.object_keys() == [blob.key]
    assert s3_calls.count("CompleteMultipartUpload") == 1
    assert not COPIES & set(s3_calls)
    assert "DeleteObject" not in s3_calls
    assert s3_storage.read(blob.key) == content
    # Served from there: the presigned redirect points at that object.
    settings.FILEFLOW_S3_PRESIGNED_REDIRECT = True
    response = bearer_api.get(f"/api/v1/nodes/{node.pk}/content/")
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == f"/{s3_storage.name}/{blob.key}"
    assert fetch(response["Location"]) == (200, content)
    # Proxied too, and scrubbed from there.
    settings.FILEFLOW_S3_PRESIGNED_REDIRECT = False
    response = bearer_api.get(f"/api/v1/nodes/{node.pk}/content/")
    assert b"".join(response.streaming_content) == content
    assert not maintenance.blob_scrub().problems


def test_known_content_drops_the_new_object_with_one_delete(
    bearer_api: Any, alice: Any, s3_storage: Any, s3_calls: list[str]
) -> None:
    content = os.urandom(9 * MiB)
    upload(bearer_api, content, "first.bin")
    first = Node.objects.get(owner=alice, name="first.bin")
    s3_calls.clear()
    assert upload(bearer_api, content, "again.bin").status_code == 204
    again = Node.objects.get(owner=alice, name="again.bin")
    assert again.blob_id == first.blob_id
    assert Blob.objects.count() == 1
    assert s3_storage.object_keys() == [first.blob.storage_key]
    assert s3_calls.count("DeleteObject") == 1
    assert not COPIES & set(s3_calls)


def test_gc_keeps_the_object_while_a_blob_holds_it_and_removes_it_with_the_blob(
    bearer_api: Any, alice: Any, s3_storage: Any
) -> None:
    content = os.urandom(9 * MiB)
    upload(bearer_api, content, "a.bin")
    node = Node.objects.get(owner=alice, name="a.bin")
    key = node.blob.storage_key
    # An object assembled by an upload whose finish never committed (a crash): an orphan.
    s3_storage.client.put_object(Bucket=s3_storage.name, Key="blobs/uploads/crashed", Body=b"x")
    Blob.objects.filter(pk=node.blob_id).update(created_at=timezone.now() - timedelta(days=2))
    report = maintenance.blob_gc(dry_run=False, grace=timedelta(0))
    assert (report.orphans, report.blobs) == (1, 0)
    assert s3_storage.object_keys() == [key]
    services.node_trash(node=node)
    services.node_delete(node=node)
    report = maintenance.blob_gc(dry_run=False, grace=timedelta(0))
    assert (report.blobs, report.blob_bytes, report.orphans) == (1, len(content), 0)
    assert s3_storage.object_keys() == []


def test_a_finish_refused_drops_the_assembled_object_and_the_reservation(
    bearer_api: Any, alice: Any, s3_storage: Any
) -> None:
    content = os.urandom(9 * MiB)
    created = create(bearer_api, len(content), filename="taken.bin")
    url = _path(created["Location"])
    assert patch(bearer_api, url, 0, content[: 8 * MiB]).status_code == 204
    # The name is taken meanwhile (on_conflict=fail): the last chunk is refused.
    assert (
        bearer_api.put(
            "/api/v1/files/content/?path=/taken.bin",
            b"other",
            content_type="application/octet-stream",
        ).status_code
        == 201
    )
    answer = patch(bearer_api, url, 8 * MiB, content[8 * MiB :])
    assert answer.status_code == 409, answer.content
    other = Node.objects.get(owner=alice, name="taken.bin")
    assert s3_storage.object_keys() == [other.blob.storage_key]
    assert TusUpload.objects.count() == 0
    alice.refresh_from_db()
    assert (alice.reserved_bytes, alice.used_bytes) == (0, len(b"other"))


def test_a_late_termination_leaves_the_finished_file_alone(
    bearer_api: Any, alice: Any, s3_storage: Any
) -> None:
    """A DELETE that loaded the upload before the last chunk finished it finds its row
    gone and removes nothing: the bytes are the new file's."""
    content = os.urandom(9 * MiB)
    created = create(bearer_api, len(content), filename="raced.bin")
    url = _path(created["Location"])
    patch(bearer_api, url, 0, content[: 8 * MiB])
    stale = TusUpload.objects.get()
    patch(bearer_api, url, 8 * MiB, content[8 * MiB :])
    upload_services.upload_terminate(upload=stale)
    node = Node.objects.get(owner=alice, name="raced.bin")
    assert s3_storage.read(node.blob.storage_key) == content


@pytest.mark.parametrize("method", ["HEAD", "PATCH"])
def test_a_worker_killed_after_s3_joined_the_parts_is_finished_by_the_next_request(
    bearer_api: Any, alice: Any, s3_storage: Any, method: str
) -> None:
    """A worker killed between CompleteMultipartUpload and its commit leaves a complete
    upload (offset = length), its object assembled, no file. The next request stores it:
    the HEAD a tus client resumes with (told "complete", it would never ask again), or the
    empty PATCH at that offset tus.js sends; a late duplicate of that request (the worker
    had not died, only stalled) finds the upload taken and leaves the file's bytes alone."""
    from files.store import blob_store
    from uploads import storage

    content = os.urandom(16 * MiB + 10)
    url = _path(create(bearer_api, len(content), filename="late.bin")["Location"])
    assert patch(bearer_api, url, 0, content[: 8 * MiB]).status_code == 204
    # What the dying worker did with the last chunk: a part, its commit, the join.
    row = TusUpload.objects.get()
    store, key = blob_store(), storage.MultipartChunks.key(row)
    etags = [*row.parts, store.multipart_put(key, row.multipart_id, 2, content[8 * MiB : 16 * MiB])]
    TusUpload.objects.filter(pk=row.pk).update(
        offset=len(content), parts=etags, tail=content[16 * MiB :]
    )
    etags.append(store.multipart_put(key, row.multipart_id, 3, content[16 * MiB :]))
    store.multipart_complete(key, row.multipart_id, etags)
    storage.forget_hashers(row.id)  # the hash went with the process
    stalled = TusUpload.objects.get()

    if method == "HEAD":
        answer = bearer_api.head(url, **TUS)
        assert answer.status_code == 200, answer.content
        assert answer["Upload-Offset"] == str(len(content))
    else:
        answer = patch(bearer_api, url, len(content), b"")
        assert answer.status_code == 204, answer.content
    node = Node.objects.get(owner=alice, name="late.bin")
    assert answer["FileFlow-Node-Id"] == str(node.pk)
    assert node.blob.storage_key == key
    assert s3_storage.object_keys() == [key]
    with pytest.raises(UploadNotFound):
        upload_services.upload_append(
            upload=stalled, offset=len(content), read=lambda size: b"", count=0
        )
    assert s3_storage.read(key) == content
    alice.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (len(content), 0)


def test_an_upload_started_before_the_upgrade_resumes_at_its_old_key_and_finishes(
    bearer_api: Any, alice: Any, s3_storage: Any, s3_calls: list[str]
) -> None:
    """Before uploads kept their key, S3 joined the parts at ``uploads/<id>``: a multipart
    upload started there (a first part stored) and the row the migration backfilled resume
    after the upgrade, finish there without a copy, and the blob is served, scrubbed and
    collected from there."""
    from django.apps import apps

    from files.store import blob_store

    migration = importlib.import_module("uploads.migrations.0003_tusupload_key")
    content = os.urandom(9 * MiB + 7)
    url = _path(create(bearer_api, len(content), filename="old.bin")["Location"])
    row = TusUpload.objects.get()
    old_key = f"uploads/{row.pk}"
    # What the previous version did with the first chunk: a part under the old key.
    store = blob_store()
    multipart_id = store.multipart_start(old_key)
    etag = store.multipart_put(old_key, multipart_id, 1, content[: 8 * MiB])
    TusUpload.objects.filter(pk=row.pk).update(
        key="", offset=8 * MiB, parts=[etag], multipart_id=multipart_id
    )
    migration.keep_old_key(apps, None)
    assert TusUpload.objects.get().key == old_key

    head = bearer_api.head(url, **TUS)
    assert head["Upload-Offset"] == str(8 * MiB)
    answer = patch(bearer_api, url, 8 * MiB, content[8 * MiB :])
    assert answer.status_code == 204, answer.content
    node = Node.objects.get(owner=alice, name="old.bin")
    assert answer["FileFlow-Node-Id"] == str(node.pk)
    assert node.blob.storage_key == old_key
    assert s3_storage.object_keys() == [old_key]
    assert not COPIES & set(s3_calls)
    assert s3_storage.client.list_multipart_uploads(Bucket=s3_storage.name).get("Uploads", []) == []
    response = bearer_api.get(f"/api/v1/nodes/{node.pk}/content/")
    assert b"".join(response.streaming_content) == content
    assert not maintenance.blob_scrub().problems
    # gc keeps it while the file holds it (and removes a leftover of the old kind), and
    # removes it with the blob.
    s3_storage.client.put_object(Bucket=s3_storage.name, Key="uploads/crashed", Body=b"x")
    Blob.objects.update(created_at=timezone.now() - timedelta(days=2))
    report = maintenance.blob_gc(dry_run=False, grace=timedelta(0))
    assert (report.orphans, report.blobs) == (1, 0)
    assert s3_storage.object_keys() == [old_key]
    services.node_trash(node=node)
    services.node_delete(node=node)
    report = maintenance.blob_gc(dry_run=False, grace=timedelta(0))
    assert (report.blobs, report.blob_bytes) == (1, len(content))
    assert s3_storage.object_keys() == []


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_store_at_the_finish_keeps_the_upload_for_the_retry(
    bearer_api: Any, alice: Any, s3_storage: Any, settings: Any
) -> None:
    """The store does not answer while the last chunk is being stored (a real refused
    connection: the app's S3 endpoint is pointed at a closed port for that request). The
    upload is kept, complete, with its reservation: 503 with Retry-After and a message. The
    client's retry stores the file."""
    content = os.urandom(9 * MiB + 3)
    url = _path(create(bearer_api, len(content), filename="later.bin")["Location"])
    assert patch(bearer_api, url, 0, content[: 8 * MiB]).status_code == 204
    working = settings.STORAGES
    default = working["default"]
    broken = {
        **default,
        "OPTIONS": {**default["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{_closed_port()}"},
    }
    settings.STORAGES = {**working, "default": broken}
    answer = patch(bearer_api, url, 8 * MiB, content[8 * MiB :])
    settings.STORAGES = working
    assert answer.status_code == 503, answer.content
    assert answer["Retry-After"].isdigit()
    assert answer.json()["code"] == "storage_unavailable"
    assert "send the same request again" in answer.json()["detail"]
    row = TusUpload.objects.get()
    assert (row.offset, row.length) == (len(content), len(content))
    alice.refresh_from_db()
    assert (alice.reserved_bytes, alice.used_bytes) == (len(content), 0)
    assert not Node.objects.filter(name="later.bin").exists()

    # tuspy asks for the offset before retrying: that HEAD stores the file.
    head = bearer_api.head(url, **TUS)
    assert head.status_code == 200, head.content
    assert head["Upload-Offset"] == str(len(content))
    node = Node.objects.get(owner=alice, name="later.bin")
    assert head["FileFlow-Node-Id"] == str(node.pk)
    assert s3_storage.read(node.blob.storage_key) == content
    assert TusUpload.objects.count() == 0
    alice.refresh_from_db()
    assert (alice.reserved_bytes, alice.used_bytes) == (0, len(content))
