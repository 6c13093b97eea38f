"""The share-link REST API: the owner's links and their access logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from fileflow.api import user_of
from fileflow.pagination import Pagination, paginate
from files import selectors as file_selectors
from sharing import selectors, services
from sharing.api.serializers import (
    ShareAccessSerializer,
    ShareCreateSerializer,
    ShareLinkSerializer,
    ShareUpdateSerializer,
)
from sharing.errors import InvalidShare
from sharing.models import ShareLink


def expiry_from(data: dict[str, Any]) -> datetime | services.Default | None:
    """``expires_at`` / ``expires_in_days`` as the services take them (DEFAULT: not given)."""
    if "expires_in_days" in data:
        try:
            return timezone.now() + timedelta(days=data["expires_in_days"])
        except OverflowError:
            raise InvalidShare(
                "expires_in_days is further ahead than any date; give a number of days this "
                "server allows.",
                field="expires_in_days",
            ) from None
    if "expires_at" in data:
        value: datetime | None = data["expires_at"]
        return value
    return services.DEFAULT


class ShareLinkViewSet(viewsets.ViewSet):
    """Share links of the signed-in user. Another user's link ids answer 404."""

    queryset = ShareLink.objects.none()  # for the schema only; reads go through selectors
    pagination_class = Pagination  # lists answer {count, next, previous, results}

    def get_serializer_class(self) -> type:
        return ShareLinkSerializer

    def _body(self, request: Request, link: ShareLink, code: int = 200) -> Response:
        return Response(ShareLinkSerializer(link, context={"request": request}).data, status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("state", OpenApiTypes.STR, enum=list(ShareLink.State.values)),
            OpenApiParameter("node", OpenApiTypes.INT, description="Only links to this item."),
        ],
        responses=ShareLinkSerializer(many=True),
    )
    def list(self, request: Request) -> Response:
        user = user_of(request)
        state = request.query_params.get("state") or None
        if state is not None and state not in ShareLink.State.values:
            raise InvalidShare(
                f"state must be one of {', '.join(ShareLink.State.values)}.", field="state"
            )
        node_id = request.query_params.get("node")
        node = file_selectors.node_get(user, node_id) if node_id else None
        links = selectors.links_for(user, state=state, node=node)
        paginator, page = paginate(links, request, self)
        paths = selectors.node_paths(user, [link.node for link in page])
        context = {"request": request, "node_paths": paths}
        data = ShareLinkSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)

    @extend_schema(request=ShareCreateSerializer, responses={201: ShareLinkSerializer})
    def create(self, request: Request) -> Response:
        user = user_of(request)
        form = ShareCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        node = file_selectors.node_get(user, data["node"])
        link, _token = services.share_create(
            owner=user,
            node=node,
            permission=data["permission"],
            expires_at=expiry_from(data),
            max_access_count=data.get("max_access_count"),
            password=data.get("password") or "",
            label=data.get("label") or "",
        )
        return self._body(request, link, status.HTTP_201_CREATED)

    @extend_schema(responses=ShareLinkSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return self._body(request, selectors.link_get(user_of(request), pk))

    @extend_schema(request=ShareUpdateSerializer, responses=ShareLinkSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        link = selectors.link_get(user_of(request), pk)
        form = ShareUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        link = services.share_update(
            link=link,
            permission=data.get("permission"),
            expires_at=expiry_from(data),
            max_access_count=data.get("max_access_count", services.DEFAULT),
            password=data.get("password", services.DEFAULT),
            label=data.get("label"),
        )
        return self._body(request, link)

    @extend_schema(request=None, responses={200: ShareLinkSerializer})
    def destroy(self, request: Request, pk: str) -> Response:
        """Revoke the link: it stops working at once; it and its access log stay listed."""
        link = services.share_revoke(link=selectors.link_get(user_of(request), pk))
        return self._body(request, link)

    @extend_schema(responses=ShareAccessSerializer(many=True))
    @action(detail=True, methods=["get"])
    def accesses(self, request: Request, pk: str) -> Response:
        """The link's access log, newest first."""
        link = selectors.link_get(user_of(request), pk)
        paginator, page = paginate(selectors.accesses_of(link), request, self)
        return paginator.get_paginated_response(ShareAccessSerializer(page, many=True).data)
