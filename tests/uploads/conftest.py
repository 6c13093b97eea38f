from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import token_create
from tests.people.conftest import world  # noqa: F401 - alice, bob, carol, mallory and /Team

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


class Backend:
    """Where unfinished uploads keep their bytes, looked at directly (not through the app)."""

    def __init__(self, name: str, settings: Any, bucket: Any = None) -> None:
        self.name = name
        self.settings = settings
        self.bucket = bucket

    def leftovers(self) -> list[str]:
        """What unfinished uploads hold: part files, or multipart uploads and assembled
        objects that no blob keeps."""
        if self.bucket is None:
            from pathlib import Path

            folder = Path(self.settings.FILE_UPLOAD_TEMP_DIR) / "tus"
            return sorted(p.name for p in folder.iterdir()) if folder.exists() else []
        from files.models import Blob

        client = self.bucket.client
        uploads = client.list_multipart_uploads(Bucket=self.bucket.name).get("Uploads", [])
        kept = set(Blob.objects.exclude(key=None).values_list("key", flat=True))
        assembled = [key for key in self.bucket.object_keys("blobs/uploads/") if key not in kept]
        return sorted([f"multipart:{u['Key']}" for u in uploads] + assembled)


def strand(backend: Backend, url: str, content: bytes) -> None:
    """What a worker killed while storing the file leaves: the last bytes received and the
    offset committed (offset = length), no file, the upload row still there (its part file
    on disk, or its parts and tail in S3 and the row)."""
    from pathlib import Path

    from uploads import storage
    from uploads.models import TusUpload

    upload = TusUpload.objects.get(pk=url.rsplit("/", 1)[1])
    last = content[upload.offset :]
    if backend.bucket is None:
        part = Path(backend.settings.FILE_UPLOAD_TEMP_DIR) / "tus" / f"{upload.pk}.part"
        with open(part, "ab") as handle:
            handle.write(last)
        TusUpload.objects.filter(pk=upload.pk).update(offset=len(content))
    else:
        TusUpload.objects.filter(pk=upload.pk).update(
            offset=len(content), tail=bytes(upload.tail) + last
        )
    storage.forget_hashers(upload.pk)  # the hash went with the process


@pytest.fixture
def s3_calls(s3_storage: Any) -> Iterator[list[str]]:
    """The names of the S3 operations this process's blob store sends (CopyObject, …),
    recorded through boto3's public event hooks: nothing is replaced."""
    from files.store import blob_store

    client = blob_store().storage.connection.meta.client
    calls: list[str] = []

    def record(model: Any, **kwargs: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-call.s3", record)
    yield calls
    client.meta.events.unregister("before-call.s3", record)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, settings: Any) -> Backend:
    """Each test that asks for it runs on local disk and on S3 (moto's server)."""
    if request.param == "s3":
        return Backend("s3", settings, request.getfixturevalue("s3_storage"))
    return Backend("local", settings)
