"""The API of shares with people: who has access to an item, Shared with me."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from fileflow.api import user_of
from fileflow.pagination import Pagination, paginate
from files import selectors as file_selectors
from files.models import NodeShare
from sharing import people
from sharing.services import DEFAULT


class PersonShareSerializer(serializers.ModelSerializer):
    """One share with a person or a group, as the people with access see it."""

    user = serializers.CharField(
        source="user.username", default=None, allow_null=True, read_only=True
    )
    group = serializers.CharField(
        source="group.name", default=None, allow_null=True, read_only=True
    )
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    is_live = serializers.SerializerMethodField()

    class Meta:
        model = NodeShare
        fields = [
            "id",
            "node",
            "user",
            "group",
            "role",
            "can_reshare",
            "expires_at",
            "is_live",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_is_live(self, share: NodeShare) -> bool:
        return share.is_live()


class PersonShareCreateSerializer(serializers.Serializer):
    user = serializers.CharField(
        required=False, allow_blank=True, help_text="A user name or e-mail address."
    )
    group = serializers.CharField(
        required=False, allow_blank=True, help_text="The name of a group you are in."
    )
    role = serializers.ChoiceField(choices=NodeShare.Role.choices, default="viewer")
    can_reshare = serializers.BooleanField(default=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class PersonShareUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=NodeShare.Role.choices, required=False)
    can_reshare = serializers.BooleanField(required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class SharedWithMeSerializer(serializers.ModelSerializer):
    """A share to me: the item, its owner, my role, since when; unread until seen."""

    name = serializers.CharField(source="node.name", read_only=True)
    is_folder = serializers.BooleanField(source="node.is_folder", read_only=True)
    size = serializers.IntegerField(source="node.size", read_only=True)
    mime_type = serializers.CharField(source="node.mime_type", read_only=True)
    owner = serializers.CharField(source="node.owner.username", read_only=True)
    shared_by = serializers.CharField(source="created_by.username", read_only=True)
    group = serializers.CharField(
        source="group.name", default=None, allow_null=True, read_only=True
    )
    unread = serializers.SerializerMethodField()
    pinned = serializers.BooleanField(
        read_only=True, help_text="Pinned to your sidebar (yours only)."
    )

    class Meta:
        model = NodeShare
        fields = [
            "id",
            "node",
            "name",
            "is_folder",
            "size",
            "mime_type",
            "owner",
            "shared_by",
            "group",
            "role",
            "can_reshare",
            "expires_at",
            "created_at",
            "unread",
            "pinned",
        ]
        read_only_fields = fields

    def get_unread(self, share: NodeShare) -> bool:
        return share.seen_at is None


class SharedWithMeUpdateSerializer(serializers.Serializer):
    seen = serializers.BooleanField(required=False)
    pinned = serializers.BooleanField(required=False)


def _given(data: dict[str, Any], name: str) -> Any:
    return data.get(name, DEFAULT)


class NodePeopleView(APIView):
    """Who has access to an item (`GET`), and sharing it with a person or group (`POST`)."""

    @extend_schema(responses=PersonShareSerializer(many=True), operation_id="node_people_list")
    def get(self, request: Request, pk: str) -> Response:
        user = user_of(request)
        node = file_selectors.node_get(user, pk)
        return Response(PersonShareSerializer(people.shares_of(user, node), many=True).data)

    @extend_schema(
        request=PersonShareCreateSerializer,
        responses={201: PersonShareSerializer},
        operation_id="node_people_create",
    )
    def post(self, request: Request, pk: str) -> Response:
        """Share with `user` (user name or e-mail) or `group` as `viewer` or `editor`; the
        recipient gets an e-mail. Re-sharers give at most their own role."""
        user = user_of(request)
        node = file_selectors.node_get(user, pk)
        form = PersonShareCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        share = people.person_share_create(
            actor=user,
            node=node,
            user=data.get("user") or "",
            group=data.get("group") or "",
            role=data["role"],
            can_reshare=data["can_reshare"],
            expires_at=data.get("expires_at"),
        )
        return Response(PersonShareSerializer(share).data, status=status.HTTP_201_CREATED)


class NodePersonView(APIView):
    """Change (`PATCH`) or remove (`DELETE`) one share of an item; a recipient may remove
    their own share (leave it)."""

    @extend_schema(
        request=PersonShareUpdateSerializer,
        responses=PersonShareSerializer,
        operation_id="node_people_update",
    )
    def patch(self, request: Request, pk: str, share_id: str) -> Response:
        user = user_of(request)
        share = people.share_get(user, file_selectors.node_get(user, pk), share_id)
        form = PersonShareUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        share = people.person_share_update(
            actor=user,
            share=share,
            role=_given(data, "role"),
            can_reshare=_given(data, "can_reshare"),
            expires_at=_given(data, "expires_at"),
        )
        return Response(PersonShareSerializer(share).data)

    @extend_schema(request=None, responses={204: None}, operation_id="node_people_delete")
    def delete(self, request: Request, pk: str, share_id: str) -> Response:
        user = user_of(request)
        share = people.share_get(user, file_selectors.node_get(user, pk), share_id)
        people.person_share_delete(actor=user, share=share)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SharedWithMeView(APIView):
    """Items other people share with me (directly or through my groups), newest first."""

    pagination_class = Pagination

    @extend_schema(responses=SharedWithMeSerializer(many=True))
    def get(self, request: Request) -> Response:
        paginator, page = paginate(people.shared_with_me(user_of(request)), request, self)
        return paginator.get_paginated_response(SharedWithMeSerializer(page, many=True).data)


class SharedWithMeItemView(APIView):
    """Mark a share to me as seen or pinned (`PATCH`), or leave it (`DELETE`)."""

    @extend_schema(
        request=SharedWithMeUpdateSerializer,
        responses=SharedWithMeSerializer,
        operation_id="shared_with_me_update",
    )
    def patch(self, request: Request, pk: str) -> Response:
        user = user_of(request)
        form = SharedWithMeUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        share = people.person_share_mark(
            user=user,
            share=people.my_share_get(user, pk),
            seen=form.validated_data.get("seen"),
            pinned=form.validated_data.get("pinned"),
        )
        return Response(SharedWithMeSerializer(share).data)

    @extend_schema(request=None, responses={204: None}, operation_id="shared_with_me_leave")
    def delete(self, request: Request, pk: str) -> Response:
        user = user_of(request)
        people.person_share_leave(user=user, share=people.my_share_get(user, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)
