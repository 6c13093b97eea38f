"""Fixtures for real-server tests: FileFlow under gunicorn (S3 through moto's server comes
from tests/conftest.py).

gunicorn runs as a subprocess on 127.0.0.1 and is stopped when its scope ends. It uses the
test database of this process (so its tests need ``django_db(transaction=True)``: the server
sees only committed rows) and the same blob storage as the test's settings.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.helpers import LiveServer, start_gunicorn, stop, tail

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
