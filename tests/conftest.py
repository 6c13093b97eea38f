"""Fixtures for the whole suite: real database, blob storage in a temp dir, users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory


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
