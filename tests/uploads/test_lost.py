"""Resumable uploads whose bytes were removed behind FileFlow's back: the part file on local
disk, or on S3 both the multipart upload (aborted by a bucket lifecycle rule, or joined)
and the object it was joined into (deleted). No retry can bring them back, so the client is
told 410 and to start a new upload, the upload ends and its reservation is released; gc
ends a stranded one once. A store that does not answer is not "gone": still 503, kept.

The S3 cases run against moto's server over HTTP; what is removed is removed with boto3
directly, as an operator or a lifecycle rule would."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from files.models import Node
from tests.uploads.conftest import TUS, Backend, create, patch, strand
from uploads import services as upload_services
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.fixture(params=["local", "s3-aborted", "s3-joined"])
def loss(request: pytest.FixtureRequest, settings: Any) -> tuple[str, Backend]:
    """How the bytes went: the part file deleted (local disk); on S3 the multipart upload
    aborted before it was joined, or joined (the worker died after that) and the object
    then deleted."""
    if request.param == "local":
        return request.param, Backend("local", settings)
    return request.param, Backend("s3", settings, request.getfixturevalue("s3_storage"))


def lose(how: str, backend: Backend, url: str) -> None:
    row = TusUpload.objects.get(pk=url.rsplit("/", 1)[1])
    if backend.bucket is None:
        (Path(backend.settings.FILE_UPLOAD_TEMP_DIR) / "tus" / f"{row.pk}.part").unlink()
        return
    from files.store import blob_store

    client, bucket = backend.bucket.client, backend.bucket.name
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    if how == "s3-joined":
        # What the dying worker had done: the last part and the join.
        store = blob_store()
        etags = list(row.parts)
        if row.tail:
            etags.append(store.multipart_put(row.key, row.multipart_id, len(etags) + 1, row.tail))
        store.multipart_complete(row.key, row.multipart_id, etags)
        client.delete_object(Bucket=bucket, Key=row.key)
    else:
        client.abort_multipart_upload(Bucket=bucket, Key=row.key, UploadId=row.multipart_id)
    assert not client.list_multipart_uploads(Bucket=bucket).get("Uploads")
    assert backend.bucket.object_keys() == []


@contextmanager
def unreachable(settings: Any) -> Iterator[None]:
    """The app's S3 endpoint pointed at a closed port: a real refused connection."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    working = settings.STORAGES
    default = working["default"]
    options = {**default["OPTIONS"], "endpoint_url": f"http://127.0.0.1:{port}"}
    settings.STORAGES = {**working, "default": {**default, "OPTIONS": options}}
    try:
        yield
    finally:
        settings.STORAGES = working


def stranded(client: Any, name: str) -> tuple[str, bytes]:
    """A complete upload whose file was never stored (its worker died): a whole S3 part
    and a tail, or the same bytes in the part file."""
    content = os.urandom(8 * MiB + 1000)
    url = _path(create(client, len(content), filename=name)["Location"])
    assert patch(client, url, 0, content[: 8 * MiB]).status_code == 204
    return url, content


def stranded_and_lost(client: Any, how: str, backend: Backend) -> tuple[str, bytes]:
    """A complete upload left unstored (as after a crash), whose bytes are then lost ``how``."""
    url, content = stranded(client, "gone.bin")
    strand(backend, url, content)
    lose(how, backend, url)
    return url, content


def test_a_finished_upload_whose_bytes_are_gone_answers_410_and_ends(
    loss: tuple[str, Backend], bearer_api: Any, alice: Any, settings: Any
) -> None:
    backend = loss[1]
    url, content = stranded_and_lost(bearer_api, *loss)
    if backend.bucket is not None:
        # Not reaching S3 says nothing about the bytes: 503, the upload kept as it is.
        with unreachable(settings):
            answer = patch(bearer_api, url, len(content), b"")
        assert answer.status_code == 503, answer.content
        assert answer["Retry-After"].isdigit()
        assert TusUpload.objects.count() == 1
        alice.refresh_from_db()
        assert alice.reserved_bytes == len(content)

    # The empty PATCH at its length tus-js-client resumes a complete upload with.
    answer = patch(bearer_api, url, len(content), b"")
    assert answer.status_code == 410, answer.content
    assert answer.json()["code"] == "upload_lost"
    assert "gone" in answer.json()["detail"]
    assert "Start a new upload" in answer.json()["detail"]
    assert TusUpload.objects.count() == 0
    assert not Node.objects.filter(name="gone.bin").exists()
    assert backend.leftovers() == []
    alice.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (0, 0)
    call_command("recompute_usage", "--check", stdout=io.StringIO())
    assert bearer_api.head(url, **TUS).status_code == 404


def test_the_head_a_client_resumes_with_answers_410_too(
    bearer_api: Any, alice: Any, s3_storage: Any, settings: Any
) -> None:
    """tuspy resumes with a HEAD (no body: the status says it)."""
    backend = Backend("s3", settings, s3_storage)
    url, content = stranded(bearer_api, "gone.bin")
    strand(backend, url, content)
    lose("s3-joined", backend, url)
    assert bearer_api.head(url, **TUS).status_code == 410
    alice.refresh_from_db()
    assert alice.reserved_bytes == 0
    assert TusUpload.objects.count() == 0


def test_gc_ends_a_stranded_upload_whose_bytes_are_gone_once(
    loss: tuple[str, Backend], bearer_api: Any, alice: Any, settings: Any
) -> None:
    backend = loss[1]
    url, _ = stranded_and_lost(bearer_api, *loss)
    # Its last byte came over a minute ago, and nobody came back for it.
    pk = url.rsplit("/", 1)[1]
    written = timezone.now() - timedelta(minutes=5)
    TusUpload.objects.filter(pk=pk).update(expires_at=written + settings.FILEFLOW_UPLOAD_EXPIRY)
    if backend.bucket is not None:
        lines: list[str] = []
        with unreachable(settings):
            upload_services.uploads_sweep_expired(dry_run=False, log=lines.append)
        assert any(pk in line and "kept for the next run" in line for line in lines), lines
        assert TusUpload.objects.filter(pk=pk).exists()

    out = io.StringIO()
    call_command("gc", stdout=out)
    mentions = [line for line in out.getvalue().splitlines() if pk in line]
    assert len(mentions) == 1, out.getvalue()
    assert "bytes are gone" in mentions[0]
    assert not TusUpload.objects.filter(pk=pk).exists()
    alice.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (0, 0)
    assert backend.leftovers() == []
    again = io.StringIO()
    call_command("gc", stdout=again)
    assert pk not in again.getvalue()


def test_a_chunk_after_the_bytes_went_answers_410_and_releases_the_space(
    backend: Backend, bearer_api: Any, alice: Any
) -> None:
    """Mid-upload: the part file deleted, or the multipart upload aborted by a lifecycle
    rule. The next chunk is refused 410 (on S3 as soon as it would add a part), the space
    is free at once, and the upload answers 410 until gc removes it."""
    content = os.urandom(17 * MiB)
    url = _path(create(bearer_api, len(content), filename="half.bin")["Location"])
    assert patch(bearer_api, url, 0, content[: 8 * MiB]).status_code == 204
    if backend.bucket is None:
        lose("local", backend, url)
    else:
        lose("s3-aborted", backend, url)
    answer = patch(bearer_api, url, 8 * MiB, content[8 * MiB : 16 * MiB])
    assert answer.status_code == 410, answer.content
    assert answer.json()["code"] == "upload_lost"
    assert "Start a new upload" in answer.json()["detail"]
    alice.refresh_from_db()
    assert alice.reserved_bytes == 0
    assert bearer_api.head(url, **TUS).status_code == 410
    call_command("gc", stdout=io.StringIO())
    assert TusUpload.objects.count() == 0
    assert backend.leftovers() == []
    alice.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (0, 0)


def test_only_s3_saying_no_such_upload_counts_as_gone(s3_storage: Any, settings: Any) -> None:
    """What the two answers above rest on (the store's contract): a multipart upload is gone
    only when S3 answers NoSuchUpload; not reaching S3, or a bucket that is not there (an
    operator's mistake to fix), says nothing about it and is raised."""
    from files.store import blob_store

    store = blob_store()
    key = "blobs/uploads/probe"
    live = store.multipart_start(key)
    aborted = store.multipart_start(key)
    s3_storage.client.abort_multipart_upload(Bucket=s3_storage.name, Key=key, UploadId=aborted)
    assert store.multipart_exists(key, live) is True
    assert store.multipart_exists(key, aborted) is False
    with unreachable(settings), pytest.raises(Exception) as refused:
        blob_store().multipart_exists(key, aborted)
    assert "Could not connect" in str(refused.value)
    default = settings.STORAGES["default"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**default, "OPTIONS": {**default["OPTIONS"], "bucket_name": "no-such-bucket"}},
    }
    with pytest.raises(Exception, match="NoSuchBucket"):
        blob_store().multipart_exists(key, aborted)
