"""FileFlow on S3: moto's standalone server over real HTTP, driven through the app's API.

Uploads are checked by looking in the bucket directly (boto3, not the app); downloads by
fetching through the app (and, for presigned redirects, from the object store itself).
Most tests run in-process with DRF's test client; the last one runs gunicorn with
``FILEFLOW_STORAGE=s3``.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import math
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.http import content_disposition_header
from PIL import Image
from rest_framework.test import APIClient

from files.models import Blob, Node
from tests.integration.helpers import (
    Bucket,
    MiB,
    Multipart,
    files_under,
    pattern,
    pattern_bytes,
)

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/nodes/upload/"
KEY = re.compile(r"^blobs/([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_of(data: bytes) -> str:
    digest = sha256(data)
    return f"blobs/{digest[:2]}/{digest[2:4]}/{digest}"


def put(client: APIClient, path: str, data: bytes) -> dict[str, Any]:
    response = client.put(
        f"/api/v1/files/content/?{urlencode({'path': path})}",
        data=data,
        content_type="application/octet-stream",
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def post(client: APIClient, name: str, data: bytes) -> dict[str, Any]:
    response = client.post(UPLOAD, {"file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 201, response.content
    return dict(response.json())


def body_of(response: Any) -> bytes:
    """The whole body; the test client closes the response once it is read."""
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def download(client: APIClient, node_id: int, **headers: str) -> tuple[Any, bytes]:
    response = client.get(f"/api/v1/nodes/{node_id}/content/", headers=headers)
    return response, body_of(response)


def test_multipart_and_raw_put_land_in_the_bucket_under_their_content_key(
    alice_api: APIClient, s3_storage: Bucket, settings: Any
) -> None:
    form_data = b"sent as a multipart form\n" * 1000
    raw_data = bytes(range(256)) * 40

    sent_form = post(alice_api, "form.txt", form_data)
    sent_raw = put(alice_api, "/raw/put.bin", raw_data)

    assert sent_form["sha256"] == sha256(form_data)
    assert sent_raw["sha256"] == sha256(raw_data)
    # The bucket holds exactly the two contents, each under blobs/ab/cd/<sha256>.
    assert s3_storage.object_keys() == sorted([key_of(form_data), key_of(raw_data)])
    for key in s3_storage.object_keys():
        match = KEY.match(key)
        assert match is not None
        assert match[3].startswith(match[1] + match[2])
    assert s3_storage.read(key_of(form_data)) == form_data
    assert s3_storage.read(key_of(raw_data)) == raw_data
    # Small files go up in one request: a plain MD5 ETag, no "-<parts>" suffix.
    assert "-" not in s3_storage.head(key_of(raw_data))["ETag"]
    # Temp uploads were handed to S3 and removed.
    assert files_under(Path(settings.FILE_UPLOAD_TEMP_DIR)) == []


def test_same_content_from_two_users_is_one_object_and_one_blob(
    alice_api: APIClient, mallory: Any, s3_storage: Bucket
) -> None:
    data = b"the same bytes, whoever sends them\n" * 300
    mallory_api = APIClient()
    mallory_api.force_login(mallory)

    put(alice_api, "/one.bin", data)
    post(alice_api, "two.bin", data)
    put(mallory_api, "/three.bin", data)

    blob = Blob.objects.get()
    assert blob.sha256 == sha256(data)
    assert Node.objects.filter(blob=blob).count() == 3
    assert s3_storage.object_keys() == [key_of(data)]
    assert s3_storage.read(key_of(data)) == data


def test_download_reads_the_object_and_serves_ranges(
    alice_api: APIClient, s3_storage: Bucket
) -> None:
    # Over max_memory_size (8 MiB): django-storages spools the object to disk to read it.
    data = pattern_bytes(5, 0, 9 * MiB + 7)
    node = put(alice_api, "/video.bin", data)

    response, body = download(alice_api, node["id"])
    assert response.status_code == 200
    assert sha256(body) == sha256(data)
    assert response["ETag"] == f'"{sha256(data)}"'
    assert response["Content-Length"] == str(len(data))

    first, last = 4_000_003, 4_100_002
    response, body = download(alice_api, node["id"], Range=f"bytes={first}-{last}")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{len(data)}"
    assert body == data[first : last + 1]

    response, body = download(alice_api, node["id"], Range="bytes=-10")
    assert response.status_code == 206
    assert body == data[-10:]


def fetch(url: str) -> tuple[int, http.client.HTTPMessage, bytes]:
    """GET ``url`` with no credentials at all: what a browser following a redirect does."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}")
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def expires_in(query: dict[str, list[str]]) -> float:
    """Seconds a presigned URL stays valid, from its signature parameters (V4 or V2)."""
    if "X-Amz-Signature" in query:
        return int(query["X-Amz-Expires"][0])
    assert "Signature" in query
    return int(query["Expires"][0]) - time.time()


def test_presigned_redirect_sends_the_client_to_the_object_with_its_name(
    alice_api: APIClient, s3_storage: Bucket, settings: Any
) -> None:
    settings.FILEFLOW_S3_PRESIGNED_REDIRECT = True
    name = "Rapport d’été 2026.txt"
    data = b"Bonjour, voici le rapport.\n" * 50
    node = put(alice_api, f"/{name}", data)

    response, body = download(alice_api, node["id"])

    assert response.status_code == 302
    assert body == b""
    assert response["Cache-Control"] == "private, no-store"
    location = response["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == s3_storage.endpoint
    assert parts.path == f"/{s3_storage.name}/{key_of(data)}"
    assert expires_in(parse_qs(parts.query)) == pytest.approx(
        settings.FILEFLOW_S3_PRESIGNED_SECONDS, abs=30
    )

    status, headers, fetched = fetch(location)
    assert status == 200
    assert fetched == data
    assert headers["Content-Disposition"] == content_disposition_header(True, name)
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_presigned_urls_are_signed_with_signature_version_4(
    alice_api: APIClient, s3_storage: Bucket, settings: Any
) -> None:
    settings.FILEFLOW_S3_PRESIGNED_REDIRECT = True
    node = put(alice_api, "/v4.txt", b"signed\n")

    response, _ = download(alice_api, node["id"])

    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query.get("X-Amz-Algorithm") == ["AWS4-HMAC-SHA256"]
    assert "X-Amz-Signature" in query


def test_folder_downloads_as_a_zip_read_from_the_bucket(
    alice_api: APIClient, s3_storage: Bucket
) -> None:
    small = b"a small note\n"
    large = pattern_bytes(6, 0, 9 * MiB + 1)  # spooled to disk while it is read
    note = put(alice_api, "/Docs/note.txt", small)
    put(alice_api, "/Docs/sub/large.bin", large)
    put(alice_api, "/Elsewhere/ignored.txt", b"not in the folder")

    response, body = download(alice_api, note["parent"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="Docs.zip"'
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == [
            "Docs/",
            "Docs/note.txt",
            "Docs/sub/",
            "Docs/sub/large.bin",
        ]
        assert archive.read("Docs/note.txt") == small
        assert sha256(archive.read("Docs/sub/large.bin")) == sha256(large)


def test_large_upload_goes_to_s3_as_a_multipart_upload(
    alice_api: APIClient, s3_storage: Bucket
) -> None:
    size = 20 * MiB
    data = b"".join(pattern(7, size))
    node = put(alice_api, "/large.bin", data)

    key = key_of(data)
    assert node["sha256"] == sha256(data)
    head = s3_storage.head(key)
    assert head["ContentLength"] == size
    # django-storages hands the file to boto3's upload_fileobj with the default transfer
    # config: past its threshold the object is sent in parts, which S3 marks in the ETag.
    config = TransferConfig()
    assert size > config.multipart_threshold
    parts = math.ceil(size / config.multipart_chunksize)
    assert head["ETag"].strip('"').endswith(f"-{parts}")
    assert sha256(s3_storage.read(key)) == sha256(data)
    uploads = s3_storage.client.list_multipart_uploads(Bucket=s3_storage.name)
    assert uploads.get("Uploads", []) == []


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 90)).save(out, format="PNG")
    return out.getvalue()


def test_thumbnail_is_made_once_and_kept_in_the_bucket(
    alice_api: APIClient, s3_storage: Bucket
) -> None:
    picture = png(640, 320)
    node = put(alice_api, "/picture.png", picture)
    url = f"/api/v1/nodes/{node['id']}/thumbnail/?size=128"

    first = alice_api.get(url)
    first_body = body_of(first)

    assert first.status_code == 200
    thumbnails = s3_storage.object_keys("thumbnails/")
    assert len(thumbnails) == 1
    assert thumbnails[0].startswith(f"thumbnails/{sha256(picture)}/128.")
    assert s3_storage.read(thumbnails[0]) == first_body
    with Image.open(io.BytesIO(first_body)) as image:
        assert image.size == (128, 64)

    again = alice_api.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304
    assert s3_storage.object_keys("thumbnails/") == thumbnails


@pytest.mark.django_db(transaction=True)
def test_gunicorn_on_s3_stores_in_the_bucket_and_serves_from_it(
    start_server: Callable[..., Any],
    s3_bucket: Bucket,
    alice: Any,
    bearer: Callable[[Any], dict[str, str]],
) -> None:
    server = start_server(**s3_bucket.env())
    health = server.request("GET", "/healthz")
    assert health.status == 200
    assert health.json()["checks"]["storage"] == "ok"
    auth = bearer(alice)

    size = 12 * MiB + 5
    sent = hashlib.sha256()
    reply = server.request(
        "PUT",
        "/api/v1/files/content/?path=/s3/big.bin",
        headers=auth,
        body=pattern(8, size, hasher=sent),
        length=size,
    )
    assert reply.status == 201, reply.body
    big = reply.json()
    assert big["sha256"] == sent.hexdigest()
    big_key = Blob.key_for(sent.hexdigest())

    note = b"a note sent as a form\n"
    form = Multipart("note.txt", len(note))
    reply = server.request(
        "POST",
        UPLOAD,
        headers={**auth, "Content-Type": form.content_type},
        body=form.body([note]),
        length=form.length,
    )
    assert reply.status == 201, reply.body

    assert s3_bucket.object_keys() == sorted([big_key, key_of(note)])
    assert hashlib.sha256(s3_bucket.read(big_key)).hexdigest() == sent.hexdigest()
    assert s3_bucket.head(big_key)["ETag"].strip('"').endswith("-2")
    assert s3_bucket.read(key_of(note)) == note
    assert files_under(server.tmp_dir) == []

    reply = server.request("GET", f"/api/v1/nodes/{big['id']}/content/", headers=auth)
    assert reply.status == 200
    assert hashlib.sha256(reply.body).hexdigest() == sent.hexdigest()
    first, last = size // 2 - 999, size // 2 + 1000
    reply = server.request(
        "GET",
        f"/api/v1/nodes/{big['id']}/content/",
        headers={**auth, "Range": f"bytes={first}-{last}"},
    )
    assert reply.status == 206
    assert reply.headers["Content-Range"] == f"bytes {first}-{last}/{size}"
    assert reply.body == pattern_bytes(8, first, last + 1)
