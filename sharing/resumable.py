"""Resumable (tus 1.0) uploads into a share link's drop folder: ``/s/<token>/uploads/``.

The same protocol as ``/api/v1/uploads/`` (:mod:`uploads.protocol`), with the link's rules:
the file goes into the shared folder, owned and paid for by the link's owner, never
replacing anything (a taken name gets “name (1)”); the visitor chooses only ``filename``
(and may give ``uploader``, their name for the owner). The upload counts as one access of
the link when it is created — once, however many requests its chunks take — and its
upload URL answers only through the same link, while the link is neither expired nor
revoked. CSRF is checked as for the drop page's other uploads.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from fileflow.errors import DomainError
from files.ingest import Upload
from files.models import Node
from sharing import public, selectors, services
from sharing.models import ShareAccess, ShareLink
from uploads import protocol
from uploads import services as upload_services
from uploads.errors import UploadNotFound
from uploads.models import TusUpload


def tus_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The public headers, the tus version check, refusals as tus JSON answers."""

    @wraps(view)
    def wrapper(request: HttpRequest, token: str, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            protocol.check_version(request.META, request.method or "")
            if request.method == "OPTIONS":
                response: HttpResponseBase = protocol.capabilities()
            else:
                response = view(request, token, *args, **kwargs)
        except DomainError as exc:
            response = protocol.refusal(exc)
        return public.public_headers(response)

    return wrapper


def _finisher(request: HttpRequest, link: ShareLink) -> upload_services.Finisher:
    """Stored as ``gc`` stores it (:func:`sharing.services.share_store_resumable`: the same
    log entry); the visitor's page also lists it among their uploads."""

    def finish(upload: TusUpload, item: Upload) -> list[Node]:
        nodes = services.share_store_resumable(upload=upload, item=item)
        public.remember_upload(request, link, item.name)
        return nodes

    return finish


@require_http_methods(["OPTIONS", "POST"])
@tus_view
@csrf_protect
def drop_create(request: HttpRequest, token: str) -> HttpResponseBase:
    link = public.drop_link(request, token)
    owner = link.node.owner
    visitor = services.visitor_kept(public.visitor_of(request))

    def target(values: dict[str, str]) -> upload_services.Target:
        return upload_services.upload_target(
            user=owner,
            filename=values.get("filename"),
            parent=str(link.node.pk),
            path=None,
            on_conflict="rename",
        )

    def location(pk: str) -> str:
        return request.build_absolute_uri(reverse("sharing:public-tus-upload", args=[token, pk]))

    def admit(upload: TusUpload) -> None:
        # Counted once the upload exists (nothing is counted for a refused request) and
        # before its first byte is read; refused (used up meanwhile), the upload goes again.
        public.admit(request, link, action=ShareAccess.Action.UPLOAD, log=False)

    return protocol.create(
        request.META,
        request.read,
        party=protocol.Party(
            owner=owner,
            creator=None,
            scope=services.drop_scope(link),
            visitor_client=visitor.client,
            visitor_address=visitor.address,
        ),
        location=location,
        target=target,
        finish=_finisher(request, link),
        admit=admit,
    )


def _continuing(request: HttpRequest, token: str, pk: str) -> tuple[ShareLink, TusUpload]:
    """The link (not expired, not revoked; its count was taken at creation) and the upload
    made through it; anything else is a 404."""
    link = selectors.link_by_token(token)
    selectors.check_open(link, counted_before=True)
    if link.permission != ShareLink.Permission.UPLOAD:
        raise UploadNotFound("No such upload.")
    return link, upload_services.upload_get(pk=pk, creator=None, scope=services.drop_scope(link))


@require_http_methods(["OPTIONS", "HEAD", "PATCH", "DELETE"])
@tus_view
@csrf_protect
def drop_upload(request: HttpRequest, token: str, pk: str) -> HttpResponseBase:
    link, upload = _continuing(request, token, pk)
    if request.method == "DELETE":
        return protocol.terminate(upload)
    finish = _finisher(request, link)
    if request.method == "HEAD":
        return protocol.head(upload, finish=finish)
    return protocol.patch(request.META, request.read, upload=upload, finish=finish)
