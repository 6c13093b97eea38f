from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from search.categories import CATEGORY_KEYS
from search.engine import SearchHit
from search.models import SearchProfile
from search.query import MAX_LIST_ITEMS, MAX_QUERY_LENGTH, ORDERINGS


class SearchHitSerializer(serializers.Serializer):
    """One node found, with its path as you see it: from your home folder for your own
    (``/Documents/a.pdf``), under Shared with me for someone else's item shared with you
    (``Shared with me/Q3/a.pdf``, starting at the item shared with you)."""

    id = serializers.IntegerField(source="node.pk", read_only=True)
    name = serializers.CharField(source="node.name", read_only=True)
    path = serializers.CharField(
        read_only=True,
        help_text="`/Documents/a.pdf` for your own items; `Shared with me/<shared item>/…` "
        "for items shared with you (the owner's folders above the shared item never show).",
    )
    shared = serializers.BooleanField(
        read_only=True, help_text="Someone else's item, shared with you (or your group)."
    )
    # Named like the node field; DRF takes declared fields out of the class, so this does
    # not shadow Field.parent at run time (only the stubs see a clash).
    parent = serializers.IntegerField(  # type: ignore[assignment]
        source="folder_id",
        read_only=True,
        allow_null=True,
        help_text="The folder holding it that you can open; null for an item shared with "
        "you itself (it is in Shared with me).",
    )
    is_folder = serializers.BooleanField(source="node.is_folder", read_only=True)
    category = serializers.CharField(
        read_only=True, help_text="The file type category: " + ", ".join(CATEGORY_KEYS) + "."
    )
    size = serializers.IntegerField(source="node.size", read_only=True)
    mime_type = serializers.CharField(source="node.mime_type", read_only=True)
    is_favorite = serializers.BooleanField(source="node.is_favorite", read_only=True)
    tags = serializers.SerializerMethodField(help_text="Tag names.")
    created_at = serializers.DateTimeField(source="node.created_at", read_only=True)
    updated_at = serializers.DateTimeField(source="node.updated_at", read_only=True)
    trashed_at = serializers.DateTimeField(
        source="node.trashed_at", read_only=True, allow_null=True, help_text="Null unless trashed."
    )
    found_in = serializers.SerializerMethodField(
        help_text="`name` when the name has every word, `text` when only the document's "
        "text matches."
    )
    snippet = serializers.SerializerMethodField(
        help_text="Where the words occur in the document's text (when they do): HTML, "
        "escaped, with the matching words in `<mark>…</mark>`."
    )

    @extend_schema_field(serializers.ChoiceField(choices=["name", "text"]))
    def get_found_in(self, hit: SearchHit) -> str:
        return "text" if hit.in_text else "name"

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_snippet(self, hit: SearchHit) -> str | None:
        html = hit.snippet_html
        return str(html) if html is not None else None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, hit: SearchHit) -> list[str]:
        return [tag.name for tag in hit.node.tags.all()]


class SearchPageSerializer(serializers.Serializer):
    count = serializers.IntegerField(read_only=True, help_text="Hits in all pages.")
    next = serializers.URLField(read_only=True, allow_null=True)
    previous = serializers.URLField(read_only=True, allow_null=True)
    results = SearchHitSerializer(many=True, read_only=True)


class ProfileResultsSerializer(SearchPageSerializer):
    scope_missing = serializers.BooleanField(read_only=True)
    notice = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Why there are no results when the saved search cannot run "
        "(its folder was deleted or trashed); null otherwise.",
    )


def _names(max_length: int) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.CharField(max_length=max_length, allow_blank=True, trim_whitespace=True),
        max_length=MAX_LIST_ITEMS,
        required=False,
    )


class SearchProfileSerializer(serializers.ModelSerializer):
    """A saved search. Its fields take the same values as the search parameters:
    ``query`` is ``q``, ``file_types`` is ``type``, ``extensions`` is ``ext``,
    ``date_from``/``date_to`` are ``modified_after``/``modified_before`` (dates, inclusive),
    ``favorites_only`` is ``favorite=true``, ``scope`` is ``in`` and ``sort`` is
    ``ordering``."""

    query = serializers.CharField(
        max_length=MAX_QUERY_LENGTH, required=False, allow_blank=True, trim_whitespace=True
    )
    file_types = serializers.ListField(
        child=serializers.ChoiceField(choices=CATEGORY_KEYS),
        max_length=MAX_LIST_ITEMS,
        required=False,
    )
    extensions = _names(32)
    tags = _names(64)
    tag_mode = serializers.ChoiceField(choices=SearchProfile.TagMode.choices, required=False)
    sort = serializers.ChoiceField(choices=ORDERINGS, required=False)
    scope = serializers.IntegerField(
        source="scope_id",
        allow_null=True,
        required=False,
        min_value=1,
        help_text="Id of one of your folders: search it and its subfolders only.",
    )
    scope_missing = serializers.BooleanField(
        read_only=True,
        help_text="The folder was deleted or trashed since; running the search says so.",
    )

    class Meta:
        model = SearchProfile
        fields = [
            "id",
            "name",
            "query",
            "file_types",
            "extensions",
            "size_min",
            "size_max",
            "date_from",
            "date_to",
            "tags",
            "tag_mode",
            "favorites_only",
            "scope",
            "scope_path",
            "scope_missing",
            "sort",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "scope_path", "scope_missing", "created_at", "updated_at"]
        # Names are unique per owner; the service checks that and answers 409, so the
        # serializer must not add a validator of its own.
        validators: list[object] = []


class TextStateSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["indexed", "pending", "unreadable", "none"], read_only=True
    )
    summary = serializers.CharField(
        source="label", read_only=True, help_text="The state, for people."
    )
    reason = serializers.CharField(read_only=True, help_text="Why it could not be read.")
    truncated = serializers.BooleanField(
        read_only=True, help_text="Only the first FILEFLOW_TEXT_MAX_BYTES of text are searched."
    )
