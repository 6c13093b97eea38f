"""A WebDAV client over Django's test client, signed in with Basic credentials."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.http import HttpResponseBase
from django.test import Client

from accounts.services import token_create

# gunicorn for the real-server tests (test_dav_servers.py).
from tests.integration.conftest import (  # noqa: F401
    _local_gunicorn,
    gunicorn_server,
    start_server,
)


def basic(username: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


class Dav:
    def __init__(self, username: str, secret: str) -> None:
        self.client = Client()
        self.authorization = basic(username, secret)

    def __call__(
        self, method: str, path: str, body: bytes | str = b"", **headers: str
    ) -> HttpResponseBase:
        headers = {"Authorization": self.authorization, **headers}
        return self.client.generic(
            method,
            path,
            data=body,
            content_type=headers.pop("Content-Type", "application/octet-stream"),
            headers=headers,
        )


def content(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return bytes(response.content)


def props(*names: str) -> str:
    inner = "".join(f"<D:{name}/>" for name in names)
    return f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>{inner}</D:prop></D:propfind>'


@pytest.fixture
def token_of() -> Any:
    def _token(user: Any) -> str:
        _token, raw = token_create(user=user, name="webdav test")
        return str(raw)

    return _token


@pytest.fixture
def alice_dav(alice: Any, token_of: Any) -> Dav:
    return Dav("alice", token_of(alice))


@pytest.fixture
def mallory_dav(mallory: Any, token_of: Any) -> Dav:
    return Dav("mallory", token_of(mallory))
