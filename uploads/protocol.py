"""tus 1.0 over HTTP: headers in, services called, headers out.

Shared by the API (:mod:`uploads.api`, bearer token or session) and a share link's drop
folder (:mod:`sharing.public`): each says who the party is and where files go; everything
else — header parsing, offsets, checksums, expiry, the answers — is here once.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.http import http_date

from accounts.models import User
from fileflow.errors import DomainError
from files.ingest import declared_length, length_required
from files.models import Node
from uploads import services
from uploads.errors import (
    InvalidTusRequest,
    UnsupportedVersion,
    UploadUnavailable,
    WrongContentType,
)
from uploads.models import TusUpload
from uploads.services import Finisher, Target
from uploads.storage import CHECKSUM_ALGORITHMS, Checksum

TUS_VERSION = "1.0.0"
EXTENSIONS = (
    "creation",
    "creation-with-upload",
    "creation-defer-length",
    "termination",
    "expiration",
    "checksum",
)
CHUNK_TYPE = "application/offset+octet-stream"
# Seconds a client is asked to wait before sending a request again when the file could not
# be stored for now (503).
RETRY_AFTER = 5
# Headers a browser script may read from our answers (same origin needs none, but a tus
# client checks for them explicitly).
EXPOSED = (
    "Location, Upload-Offset, Upload-Length, Upload-Expires, Upload-Metadata, Tus-Resumable, "
    "Tus-Version, Tus-Extension, Tus-Max-Size, FileFlow-Node-Id"
)

Read = Callable[[int], bytes]


@dataclass(frozen=True)
class Party:
    """Who is uploading: ``creator`` signed in, or a share link's visitor (``scope``).
    ``owner`` is the signed-in user, or the link's owner: the default target is in their
    tree; a folder shared with the uploader puts the file in its owner's (the target's)."""

    owner: User
    creator: User | None
    scope: str = ""
    # A link's visitor as its access log may keep them (kept on the upload).
    visitor_client: str = ""
    visitor_address: str = ""


def answer(response: HttpResponse) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    response["Access-Control-Expose-Headers"] = EXPOSED
    if response.status_code == UploadUnavailable.status_code:
        response["Retry-After"] = str(RETRY_AFTER)
    return response


def refusal(exc: DomainError) -> HttpResponse:
    """A refused tus request as JSON (the API's exception handler does the same)."""
    body: dict[str, Any] = {"detail": exc.message, "code": exc.code}
    if exc.field:
        body["field"] = exc.field
    response = answer(JsonResponse(body, status=exc.status_code))
    if isinstance(exc, UnsupportedVersion):
        response["Tus-Version"] = TUS_VERSION
    return response


def check_version(meta: Mapping[str, Any], method: str) -> None:
    if method == "OPTIONS":
        return
    version = meta.get("HTTP_TUS_RESUMABLE")
    if version != TUS_VERSION:
        raise UnsupportedVersion(
            f"This server speaks tus {TUS_VERSION}: send Tus-Resumable: {TUS_VERSION}"
            + (f" (not {version!r})." if version else "."),
            field="Tus-Resumable",
        )


def capabilities() -> HttpResponse:
    response = answer(HttpResponse(status=204))
    response["Tus-Version"] = TUS_VERSION
    response["Tus-Extension"] = ",".join(EXTENSIONS)
    response["Tus-Checksum-Algorithm"] = ",".join(CHECKSUM_ALGORITHMS)
    limit = settings.FILEFLOW_MAX_UPLOAD_SIZE
    if limit is not None:
        response["Tus-Max-Size"] = str(limit)
    return response


def parse_metadata(header: str) -> dict[str, str]:
    """``Upload-Metadata: filename ZmlsZS50eHQ=,parent NDI=`` → ``{"filename": "file.txt", …}``."""
    found: dict[str, str] = {}
    for pair in header.split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, _, encoded = pair.partition(" ")
        try:
            value = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise InvalidTusRequest(
                f"Upload-Metadata: the value of {key!r} is not base64-encoded UTF-8.",
                field=key or "Upload-Metadata",
            ) from None
        if not key or key in found:
            raise InvalidTusRequest(
                "Upload-Metadata must be comma-separated “key base64value” pairs, each key once.",
                field="Upload-Metadata",
            )
        found[key] = value
    return found


def _number(meta: Mapping[str, Any], header: str) -> int | None:
    raw = meta.get("HTTP_" + header.upper().replace("-", "_"))
    if raw is None:
        return None
    raw = str(raw).strip()
    if not raw.isdigit():
        raise InvalidTusRequest(
            f"{header} must be a whole number of bytes, not {raw!r}.", field=header
        )
    return int(raw)


def _body_length(meta: Mapping[str, Any]) -> int:
    if (
        meta.get("CONTENT_LENGTH") in (None, "")
        and "chunked" not in str(meta.get("HTTP_TRANSFER_ENCODING", "")).lower()
    ):
        return 0
    length = declared_length(meta)
    if length is None:
        raise length_required()
    return length


def _checksum(meta: Mapping[str, Any]) -> Checksum | None:
    header = meta.get("HTTP_UPLOAD_CHECKSUM")
    return Checksum.parse(str(header)) if header else None


def _state(response: HttpResponse, upload: TusUpload) -> HttpResponse:
    response["Upload-Offset"] = str(upload.offset)
    if upload.length is not None:
        response["Upload-Length"] = str(upload.length)
    else:
        response["Upload-Defer-Length"] = "1"
    response["Upload-Expires"] = http_date(upload.expires_at.timestamp())
    return response


def _finished(response: HttpResponse, nodes: list[Node] | None) -> HttpResponse:
    if nodes:
        response["FileFlow-Node-Id"] = str(nodes[0].pk)
    return response


def create(
    meta: Mapping[str, Any],
    read: Read,
    *,
    party: Party,
    location: Callable[[str], str],
    target: Callable[[dict[str, str]], Target] | None = None,
    finish: Finisher | None = None,
    admit: Callable[[TusUpload], None] | None = None,
) -> HttpResponse:
    """``POST`` to the creation URL (creation, creation-defer-length, creation-with-upload).

    ``target`` turns the metadata into where the file goes (default: the owner's own
    ``parent``/``path``, ``filename``, ``on_conflict``); everything is checked before a byte
    of the body is read. ``admit`` runs once the upload exists, before its first chunk is
    read (a share link counts the visit there); if it refuses, the upload is terminated."""
    raw_metadata = str(meta.get("HTTP_UPLOAD_METADATA", ""))
    metadata = parse_metadata(raw_metadata)
    length = _number(meta, "Upload-Length")
    deferred = meta.get("HTTP_UPLOAD_DEFER_LENGTH")
    if length is None and deferred != "1":
        raise InvalidTusRequest(
            "Send Upload-Length (the file's size in bytes), or Upload-Defer-Length: 1.",
            field="Upload-Length",
        )
    if length is not None and deferred is not None:
        raise InvalidTusRequest(
            "Send Upload-Length or Upload-Defer-Length, not both.", field="Upload-Defer-Length"
        )
    count = _body_length(meta)
    if count and meta.get("CONTENT_TYPE") != CHUNK_TYPE:
        raise WrongContentType(
            f"A body sent with the creation request must be {CHUNK_TYPE}.", field="Content-Type"
        )
    checksum = _checksum(meta) if count else None
    where = (
        target(metadata)
        if target is not None
        else services.upload_target(
            user=party.owner,
            filename=metadata.get("filename"),
            parent=metadata.get("parent"),
            path=metadata.get("path"),
            on_conflict=metadata.get("on_conflict"),
        )
    )
    upload = services.upload_create(
        owner=where.owner,
        target=where,
        length=length,
        creator=party.creator,
        scope=party.scope,
        metadata=raw_metadata,
        visitor_client=party.visitor_client,
        visitor_address=party.visitor_address,
    )
    if admit is not None:
        try:
            admit(upload)
        except BaseException:
            services.upload_terminate(upload=upload)
            raise
    nodes = None
    if count or upload.length == 0:
        try:
            upload, nodes, _cut = services.upload_append(
                upload=upload, offset=0, read=read, count=count, checksum=checksum, finish=finish
            )
        except DomainError as exc:
            if exc.status_code != 460:
                raise
            # The upload exists, empty: the client may send the chunk again with PATCH.
    response = answer(HttpResponse(status=201))
    response["Location"] = location(upload.id)
    return _finished(_state(response, upload), nodes)


def head(upload: TusUpload, *, finish: Finisher | None = None) -> HttpResponse:
    """The offset. An upload whose every byte arrived but whose file was never stored (the
    worker storing it died) is stored first: a client told it is complete stops asking."""
    nodes = services.upload_finish(upload=upload, finish=finish) if upload.is_complete else None
    response = _finished(_state(answer(HttpResponse(status=200)), upload), nodes)
    if upload.metadata:
        response["Upload-Metadata"] = upload.metadata
    return response


def patch(
    meta: Mapping[str, Any], read: Read, *, upload: TusUpload, finish: Finisher | None = None
) -> HttpResponse:
    if meta.get("CONTENT_TYPE") != CHUNK_TYPE:
        raise WrongContentType(f"Send the chunk as {CHUNK_TYPE}.", field="Content-Type")
    offset = _number(meta, "Upload-Offset")
    if offset is None:
        raise InvalidTusRequest(
            "Send Upload-Offset: where this chunk starts.", field="Upload-Offset"
        )
    length = _number(meta, "Upload-Length")
    if length is not None:
        upload = services.upload_declare_length(upload=upload, length=length)
    count = _body_length(meta)
    checksum = _checksum(meta)
    upload, nodes, _cut = services.upload_append(
        upload=upload, offset=offset, read=read, count=count, checksum=checksum, finish=finish
    )
    return _finished(_state(answer(HttpResponse(status=204)), upload), nodes)


def terminate(upload: TusUpload) -> HttpResponse:
    services.upload_terminate(upload=upload)
    return answer(HttpResponse(status=204))
