from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from files import tree
from files.models import FileVersion, Node
from files.places import Place, place_of
from files.services import ON_CONFLICT_CHOICES

# Times as every other field of the API writes them (ISO 8601 in the server's time zone);
# the settings are read when a time is written.
_MOMENT = serializers.DateTimeField()


# The fields are declared for the schema and the browsable API; the representation itself
# is built in one function. A ModelSerializer derived its fields from the model again for
# every object it answered with (~0.3 ms), and a plain Serializer still copies each declared
# field per object and then goes field by field: a tenth of what a small upload cost the
# server (bench/transfer.py). A test holds the two to the same output.
class NodeSerializer(serializers.Serializer):
    """A file or folder, where the caller sees it (:mod:`files.places`): ``places`` in the
    context gives each node's place (``paths``: an own node's path), else ``user`` does
    (the caller, one query a node), else the owner's path."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    path = serializers.SerializerMethodField(
        help_text="`/Documents/a.pdf` for your own items; `Shared with me/<shared item>/…` "
        "for items shared with you (the owner's folders above the shared item never show)."
    )
    parent = serializers.SerializerMethodField(
        help_text="The folder holding it that you can open; null for your home folder and "
        "for an item shared with you itself (it is in Shared with me)."
    )
    shared = serializers.SerializerMethodField(
        help_text="Someone else's item, shared with you (or your group)."
    )
    is_folder = serializers.BooleanField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    mime_type = serializers.CharField(read_only=True)
    sha256 = serializers.SerializerMethodField()
    is_favorite = serializers.BooleanField(read_only=True)
    tags = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    trashed_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def to_representation(self, node: Node) -> dict[str, Any]:
        place = self._place(node)
        return {
            "id": node.pk,
            "name": node.name,
            "path": place.path,
            "parent": place.parent_id,
            "shared": place.shared,
            "is_folder": node.is_folder,
            "size": node.size,
            "mime_type": node.mime_type,
            "sha256": self.get_sha256(node),
            "is_favorite": node.is_favorite,
            "tags": self.get_tags(node),
            "created_at": _MOMENT.to_representation(node.created_at),
            "updated_at": _MOMENT.to_representation(node.updated_at),
            "trashed_at": (
                None if node.trashed_at is None else _MOMENT.to_representation(node.trashed_at)
            ),
        }

    def _place(self, node: Node) -> Place:
        given: dict[int, Place] = self.context.get("places") or {}
        if node.pk in given:
            return given[node.pk]
        paths: dict[int, str] = self.context.get("paths") or {}
        if node.pk in paths:
            return Place(path=paths[node.pk], shared=False, parent_id=node.parent_id)
        # Worked out once per node, not once per field.
        found: dict[int, Place] = self.__dict__.setdefault("_found_places", {})
        if node.pk not in found:
            user = self.context.get("user")
            if user is None:
                # Read outside the tree lock: a write committed since may have moved the
                # node or removed a folder above it; paths_of re-reads such a node's path.
                path = tree.paths_of([node])[node.pk]
                found[node.pk] = Place(path=path, shared=False, parent_id=node.parent_id)
            else:
                found[node.pk] = place_of(user, node)
        return found[node.pk]

    def get_path(self, node: Node) -> str:
        return self._place(node).path

    def get_parent(self, node: Node) -> int | None:
        return self._place(node).parent_id

    def get_shared(self, node: Node) -> bool:
        return self._place(node).shared

    def get_sha256(self, node: Node) -> str | None:
        return node.blob.sha256 if node.blob_id and node.blob else None

    def get_tags(self, node: Node) -> list[str]:
        if node.pk in self.context.get("untagged", ()):
            return []  # a file new in this request: no need to ask the database
        return sorted(tag.name for tag in node.tags.all())


class TrashEntrySerializer(NodeSerializer):
    trashed_from = serializers.CharField(read_only=True)

    def to_representation(self, node: Node) -> dict[str, Any]:
        return {**super().to_representation(node), "trashed_from": node.trashed_from}


class FolderCreateSerializer(serializers.Serializer):
    parent = serializers.IntegerField(required=False, help_text="Folder id; default: home.")
    # Blank reaches the service, whose name rules say what is wrong (files/names.py).
    name = serializers.CharField(max_length=1000, trim_whitespace=False, allow_blank=True)


class NodeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(
        required=False, max_length=1000, trim_whitespace=False, allow_blank=True
    )
    parent = serializers.IntegerField(required=False, help_text="Move into this folder.")
    is_favorite = serializers.BooleanField(required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True),
        required=False,
        max_length=100,
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Send at least one of: name, parent, is_favorite, tags."
            )
        return attrs


class CopySerializer(serializers.Serializer):
    parent = serializers.IntegerField(
        required=False, help_text="Target folder; default: same folder."
    )
    name = serializers.CharField(required=False, max_length=1000, trim_whitespace=False)


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="The file's content (multipart); may be empty."
    )
    parent = serializers.IntegerField(required=False, help_text="Folder id; default: home.")
    name = serializers.CharField(
        required=False,
        max_length=1000,
        trim_whitespace=False,
        help_text="Default: the file's name.",
    )
    on_conflict = serializers.ChoiceField(choices=ON_CONFLICT_CHOICES, default="fail")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A form field sent empty is dropped by DRF like a missing one; an empty name is a
        # mistake, not a request for the file's own name.
        if self.initial_data.get("name") == "":
            raise serializers.ValidationError(
                {"name": "A name cannot be empty; leave the field out to keep the file's name."}
            )
        return attrs


class UploadManySerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        help_text=(
            f"The files (repeat the part, up to {settings.DATA_UPLOAD_MAX_NUMBER_FILES}); "
            "each keeps its own name."
        ),
    )
    parent = serializers.IntegerField(required=False, help_text="Folder id; default: home.")
    on_conflict = serializers.ChoiceField(choices=ON_CONFLICT_CHOICES, default="fail")


class NodeListSerializer(serializers.Serializer):
    """What a batch upload answers: the stored files in the order they were sent."""

    count = serializers.IntegerField()
    results = NodeSerializer(many=True)


@extend_schema_serializer(many=False)  # the list action answers one object, not an array
class NodePageSerializer(serializers.Serializer):
    """A page of a folder's listing (``GET /api/v1/nodes/``)."""

    folder = NodeSerializer(help_text="The folder listed.")
    results = NodeSerializer(many=True)
    next = serializers.URLField(
        allow_null=True, help_text="The next page (same query with `cursor`); null at the end."
    )


class TrashPageSerializer(serializers.Serializer):
    """A page of the trash (``GET /api/v1/trash/``)."""

    count = serializers.IntegerField(help_text="Entries in all pages.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TrashEntrySerializer(many=True)
    retention_days = serializers.IntegerField(
        help_text="Entries older than this are deleted for good."
    )


class FileVersionSerializer(serializers.ModelSerializer):
    sha256 = serializers.CharField(source="blob.sha256", read_only=True)
    author = serializers.CharField(
        source="author.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = FileVersion
        fields = ["id", "size", "mime_type", "sha256", "author", "created_at", "replaced_at"]
        read_only_fields = fields
