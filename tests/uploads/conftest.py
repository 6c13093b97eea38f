from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import token_create

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}
CHUNK = "application/offset+octet-stream"


def metadata(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


@pytest.fixture
def bearer_api(alice: Any) -> APIClient:
    """Alice's token, as a script would use it (no session, no CSRF)."""
    _token, raw = token_create(user=alice, name="tus")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def create(client: APIClient, length: int | None, body: bytes = b"", **meta: str) -> Any:
    headers: dict[str, Any] = {**TUS, "HTTP_UPLOAD_METADATA": metadata(**meta)}
    if length is None:
        headers["HTTP_UPLOAD_DEFER_LENGTH"] = "1"
    else:
        headers["HTTP_UPLOAD_LENGTH"] = str(length)
    if body:
        return client.generic("POST", "/api/v1/uploads/", body, content_type=CHUNK, **headers)
    return client.generic("POST", "/api/v1/uploads/", **headers)


def patch(client: APIClient, url: str, offset: int, body: bytes, **headers: Any) -> Any:
    return client.generic(
        "PATCH",
        url,
        body,
        content_type=CHUNK,
        **{**TUS, "HTTP_UPLOAD_OFFSET": str(offset), **headers},
    )
