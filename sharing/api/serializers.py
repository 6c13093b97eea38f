from __future__ import annotations

from typing import Any

from rest_framework import serializers

from sharing import selectors
from sharing.models import ShareAccess, ShareLink


class ShareLinkSerializer(serializers.ModelSerializer):
    """A link as its owner sees it; ``url`` holds the token, so only the owner gets it."""

    url = serializers.SerializerMethodField()
    state = serializers.CharField(read_only=True)
    has_password = serializers.BooleanField(read_only=True)
    node_name = serializers.CharField(source="node.name", read_only=True)
    node_path = serializers.SerializerMethodField()
    is_folder = serializers.BooleanField(source="node.is_folder", read_only=True)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "url",
            "node",
            "node_name",
            "node_path",
            "is_folder",
            "label",
            "permission",
            "state",
            "expires_at",
            "max_access_count",
            "access_count",
            "last_accessed_at",
            "has_password",
            "revoked_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_url(self, link: ShareLink) -> str | None:
        return selectors.public_url(link, self.context.get("request"))

    def get_node_path(self, link: ShareLink) -> str:
        """Where the item is as the caller sees it (:func:`sharing.selectors.node_paths`)."""
        paths: dict[int, str] | None = self.context.get("node_paths")
        if paths is None or link.node_id not in paths:
            request = self.context["request"]
            paths = selectors.node_paths(request.user, [link.node])
        return paths[link.node_id]


class ShareCreateSerializer(serializers.Serializer):
    node = serializers.IntegerField(help_text="Id of the file or folder to share.")
    permission = serializers.ChoiceField(
        choices=ShareLink.Permission.choices, default=ShareLink.Permission.DOWNLOAD
    )
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the link stops working. Omit for the server's default; null for "
        "never (only if the operator allows it).",
    )
    expires_in_days = serializers.IntegerField(
        required=False, min_value=1, help_text="Instead of expires_at: days from now."
    )
    max_access_count = serializers.IntegerField(
        required=False, allow_null=True, help_text="How many accesses the link allows."
    )
    password = serializers.CharField(
        required=False, allow_blank=True, write_only=True, trim_whitespace=False
    )
    label = serializers.CharField(required=False, allow_blank=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "expires_at" in attrs and "expires_in_days" in attrs:
            raise serializers.ValidationError(
                {"expires_in_days": "Give expires_at or expires_in_days, not both."}
            )
        return attrs


class ShareUpdateSerializer(serializers.Serializer):
    permission = serializers.ChoiceField(choices=ShareLink.Permission.choices, required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)
    expires_in_days = serializers.IntegerField(required=False, min_value=1)
    max_access_count = serializers.IntegerField(required=False, allow_null=True)
    password = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        trim_whitespace=False,
        help_text="A new password; empty or null removes it.",
    )
    label = serializers.CharField(required=False, allow_blank=True)

    validate = ShareCreateSerializer.validate


class ShareAccessSerializer(serializers.ModelSerializer):
    action_display = serializers.CharField(source="get_action_display", read_only=True)

    class Meta:
        model = ShareAccess
        # The visitor's address is for operators (the admin), not for the link's owner.
        fields = [
            "id",
            "at",
            "action",
            "action_display",
            "node",
            "item_name",
            "counted",
            "uploader_name",
            "client",
        ]
        read_only_fields = fields
