"""The tus endpoints of the API: ``/api/v1/uploads/`` (creation) and ``/api/v1/uploads/<id>``.

Authenticated like the rest of the API (bearer token, or the browser session with its CSRF
check); an upload belongs to its creator and answers 404 to anyone else."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from fileflow.api import user_of
from uploads import protocol, services
from uploads.models import TusUpload


class _SignedInExceptOptions(BasePermission):
    """OPTIONS says what the server supports, to anyone (tus clients ask first)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method == "OPTIONS" or IsAuthenticated().has_permission(request, view)


def _read(request: Request) -> protocol.Read:
    stream = request.stream
    if stream is None:
        return lambda size: b""
    return stream.read


class _TusView(APIView):
    parser_classes: list = []
    permission_classes = [_SignedInExceptOptions]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        protocol.check_version(request.META, request.method or "")
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        protocol.answer(response)
        if response.status_code == 412:
            response["Tus-Version"] = protocol.TUS_VERSION
        return response

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return protocol.capabilities()

    def _party(self, request: Request) -> protocol.Party:
        user = user_of(request)
        return protocol.Party(owner=user, creator=user)


# tus is a header protocol (Upload-Offset, Upload-Metadata, 460 Checksum Mismatch …) that
# OpenAPI cannot describe: the endpoints are documented by tus.io and the README, and left
# out of /api/schema/ so that schema-driven clients and tests do not take them for JSON APIs.
@extend_schema(exclude=True)
class UploadCreateView(_TusView):
    """tus creation URL: ``POST`` with ``Upload-Length`` (or ``Upload-Defer-Length: 1``) and
    ``Upload-Metadata`` (``filename``; ``parent`` or ``path``; ``on_conflict``)."""

    def post(self, request: Request) -> HttpResponse:
        def location(pk: str) -> str:
            return request.build_absolute_uri(reverse("api:upload-detail", args=[pk]))

        return protocol.create(
            request.META, _read(request), party=self._party(request), location=location
        )


@extend_schema(exclude=True)
class UploadDetailView(_TusView):
    """tus upload URL: ``HEAD`` (offset), ``PATCH`` (a chunk), ``DELETE`` (termination)."""

    def _upload(self, request: Request, pk: str) -> TusUpload:
        return services.upload_get(pk=pk, creator=user_of(request))

    def head(self, request: Request, pk: str) -> HttpResponse:
        return protocol.head(self._upload(request, pk))

    def patch(self, request: Request, pk: str) -> HttpResponse:
        return protocol.patch(request.META, _read(request), upload=self._upload(request, pk))

    def delete(self, request: Request, pk: str) -> HttpResponse:
        return protocol.terminate(self._upload(request, pk))
