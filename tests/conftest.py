"""Fixtures for the whole suite: real database, blob storage in a temp dir (or in a bucket
of moto's S3 server, over real HTTP), users."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory
from tests.integration.helpers import BIN, Bucket, MiB, s3_client, start_moto, stop


@pytest.fixture(autouse=True)
def _storage_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Every test gets its own empty blob storage; static files need no collectstatic."""
    settings.STORAGES = {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "blobs")},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Production hashes with Argon2 at full cost (~0.1–1 s a hash); tests at a tiny cost."""
    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = [
        "tests.hashers.FastArgon2PasswordHasher",
        *settings.PASSWORD_HASHERS[1:],
    ]


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    return UserFactory


@pytest.fixture
def alice(db: None) -> Any:
    return UserFactory(username="alice", email="alice@example.com")


@pytest.fixture
def mallory(db: None) -> Any:
    return UserFactory(username="mallory", email="mallory@example.com")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def alice_api(alice: Any) -> APIClient:
    client = APIClient()
    client.force_login(alice)
    return client


# --- S3 (moto's standalone server) --------------------------------------------------------


@pytest.fixture(scope="session")
def moto_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The endpoint URL of a moto S3 server running for the whole session.

    Without moto_server the S3 tests skip, except under CI, where a missing tool fails."""
    if not (BIN / "moto_server").exists():
        message = f"moto_server is not installed in {BIN} (pip install -r requirements-dev.txt)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
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
