"""``GET /api/v1/activity/``: the activity log the caller may read."""

from __future__ import annotations

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fileflow.api import user_of
from fileflow.pagination import Pagination, paginate
from files import selectors
from files.activity import InvalidFilter, Kind, activity_feed
from files.models import Activity
from files.places import as_seen_by


class ActivitySerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="who", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "kind",
            "kind_display",
            "person",
            "owner",
            "node",
            "node_name",
            "where",
            "detail",
            "created_at",
        ]
        read_only_fields = fields


class ActivityView(APIView):
    """Who did what, newest first: your items', and those of items shared with you."""

    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("node", OpenApiTypes.INT, description="That item and below it."),
            OpenApiParameter("person", OpenApiTypes.STR, description="A user name."),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=list(Kind.values)),
            OpenApiParameter("since", OpenApiTypes.DATETIME, description="ISO 8601."),
        ],
        responses=ActivitySerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        user = user_of(request)
        params = request.query_params
        node = selectors.node_get(user, params["node"]) if params.get("node") else None
        person = None
        if params.get("person"):
            person = User.objects.filter(username__iexact=params["person"]).first()
            if person is None:
                raise InvalidFilter(f"No user named “{params['person']}”.", field="person")
        since = None
        if params.get("since"):
            try:
                since = parse_datetime(params["since"])
            except ValueError:
                since = None
            if since is not None and timezone.is_naive(since):
                since = timezone.make_aware(since)
            if since is None:
                raise InvalidFilter(
                    "since must be a date and time such as 2026-12-01T00:00:00Z.", field="since"
                )
        entries = activity_feed(
            user=user, node=node, person=person, kind=params.get("kind") or None, since=since
        ).select_related("owner")
        paginator, page = paginate(entries, request, self)
        # "Where it was" as the caller sees it: under Shared with me for what is shared.
        entries_seen = as_seen_by(user, page)
        return paginator.get_paginated_response(ActivitySerializer(entries_seen, many=True).data)
