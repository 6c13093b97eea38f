"""Fixtures for real-server tests: FileFlow under gunicorn, S3 through moto's server.

Both run as subprocesses on 127.0.0.1 and are stopped when their scope ends. gunicorn uses
the test database of this process (so its tests need ``django_db(transaction=True)``: the
server sees only committed rows) and the same blob storage as the test's settings.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.helpers import (
    Bucket,
    LiveServer,
    MiB,
    s3_client,
    start_gunicorn,
    start_moto,
    stop,
    tail,
)

# --- S3 (moto's standalone server) --------------------------------------------------------


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto S3 server running for the whole session."""
    process, endpoint = start_moto(tmp_path_factory.mktemp("moto") / "moto.log")
    try:
        yield endpoint
    finally:
        stop(process)


@pytest.fixture
def s3_bucket(moto_s3: str) -> Iterator[Bucket]:
    """A fresh, empty bucket for one test; emptied and removed afterwards."""
    client = s3_client(moto_s3)
    bucket = Bucket(name=f"fileflow-{uuid.uuid4().hex[:16]}", endpoint=moto_s3, client=client)
    client.create_bucket(Bucket=bucket.name)
    yield bucket
    for key in bucket.object_keys():
        client.delete_object(Bucket=bucket.name, Key=key)
    for upload in client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []):
        client.abort_multipart_upload(
            Bucket=bucket.name, Key=upload["Key"], UploadId=upload["UploadId"]
        )
    client.delete_bucket(Bucket=bucket.name)


@pytest.fixture
def s3_storage(
    settings: Any, s3_bucket: Bucket, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Bucket:
    """Blob storage of this process in ``s3_bucket``, configured as FILEFLOW_STORAGE=s3 does.

    The options come from the app's own ``fileflow.config.storages`` reading the same
    environment an operator would set, so the test runs what production runs.
    """
    from django.core.files.storage import FileSystemStorage, default_storage
    from storages.backends.s3 import S3Storage

    from fileflow import config

    with monkeypatch.context() as env:
        for name, value in s3_bucket.env().items():
            env.setenv(name, value)
        default = config.storages(tmp_path)["default"]
    assert default["BACKEND"] == "storages.backends.s3.S3Storage"
    options = default["OPTIONS"]
    assert options["addressing_style"] == "path"
    assert options["file_overwrite"] is True
    assert options["default_acl"] is None
    assert options["max_memory_size"] == 8 * MiB
    # Django's setting_changed handler must drop the cached storage: fill the cache first.
    assert isinstance(default_storage, FileSystemStorage)
    settings.STORAGES = {**settings.STORAGES, "default": default}
    assert isinstance(default_storage, S3Storage)
    assert default_storage.bucket_name == s3_bucket.name
    return s3_bucket


# --- gunicorn -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def _local_gunicorn(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One gunicorn per module, local blob storage in its data dir, the test database."""
    server = start_gunicorn(tmp_path_factory.mktemp("gunicorn-data"))
    try:
        yield server
    finally:
        stop(server.process)


@pytest.fixture
def gunicorn_server(_local_gunicorn: LiveServer, settings: Any) -> Iterator[LiveServer]:
    """FileFlow under gunicorn; this test's storage settings point at the server's blobs.

    Blobs and temp uploads are emptied before each test, as the database is.
    """
    server = _local_gunicorn
    assert server.process.poll() is None, f"gunicorn has stopped:\n{tail(server.log_path)}"
    for folder in (server.blobs_dir, server.tmp_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(server.blobs_dir), "base_url": None},
        },
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(server.tmp_dir)
    yield server


@pytest.fixture
def start_server(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LiveServer]]:
    """Start gunicorn with extra environment variables; stopped when the test ends."""
    started: list[LiveServer] = []

    def _start(**env: str) -> LiveServer:
        server = start_gunicorn(tmp_path_factory.mktemp("gunicorn-data"), **env)
        started.append(server)
        return server

    yield _start
    for server in started:
        stop(server.process)


@pytest.fixture
def bearer() -> Callable[[Any], dict[str, str]]:
    """``Authorization`` headers with a fresh API token of ``user`` (committed by the caller)."""
    from accounts.services import token_create

    def _bearer(user: Any) -> dict[str, str]:
        _token, raw = token_create(user=user, name="integration test")
        return {"Authorization": f"Bearer {raw}"}

    return _bearer
