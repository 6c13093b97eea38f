from __future__ import annotations

from typing import Any, Literal

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from files.models import Node
from search import services
from search.api.serializers import (
    ProfileResultsSerializer,
    SearchHitSerializer,
    SearchPageSerializer,
    SearchProfileSerializer,
    TextStateSerializer,
)
from search.categories import CATEGORY_KEYS
from search.documents import text_state_of
from search.engine import SearchPage, search
from search.errors import SearchFolderNotFound
from search.models import SearchProfile
from search.query import DEFAULT_LIMIT, MAX_LIMIT, ORDERING_KEYS, SearchQuery, page_params
from search.selectors import PROFILE_LABELS, profile_list, profile_run

_Q: Literal["query"] = "query"

PAGE_PARAMETERS = [
    OpenApiParameter(
        "limit",
        OpenApiTypes.INT,
        _Q,
        description=f"Hits per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    ),
    OpenApiParameter("offset", OpenApiTypes.INT, _Q, description="Hits to skip (default 0)."),
]

SEARCH_PARAMETERS = [
    OpenApiParameter(
        "q",
        OpenApiTypes.STR,
        _Q,
        description="Words to find: in names (all of them, ignoring case, and accents on "
        "PostgreSQL) and in the text of documents (PDF, text and code, HTML, Word, Excel, "
        'PowerPoint, OpenDocument), where `"a phrase"`, `OR` and `-word` work as in a web '
        "search engine. Hits found in the text carry a `snippet`. Example: `q=annual report`.",
    ),
    OpenApiParameter(
        "type",
        OpenApiTypes.STR,
        _Q,
        many=True,
        enum=list(CATEGORY_KEYS),
        explode=True,
        description="File type category; repeat it or separate with commas to accept several "
        "(`type=image,video`). A file's extension decides its category; its MIME type only "
        "when the extension is not a known one.",
    ),
    OpenApiParameter(
        "ext",
        OpenApiTypes.STR,
        _Q,
        description="Extensions, comma-separated or repeated: `ext=pdf,docx` (files only).",
    ),
    OpenApiParameter(
        "size_min",
        OpenApiTypes.STR,
        _Q,
        description="Smallest size: bytes (`1048576`) or with a unit (`500KB`, `10MB`, `2GiB`).",
    ),
    OpenApiParameter(
        "size_max", OpenApiTypes.STR, _Q, description="Largest size, as for `size_min`."
    ),
    OpenApiParameter(
        "modified_after",
        OpenApiTypes.STR,
        _Q,
        description="Modified at or after: a date (`2026-01-31`, from its start) or an ISO "
        "date and time (`2026-01-31T14:30:00Z`). Times without a zone are in the server's.",
    ),
    OpenApiParameter(
        "modified_before",
        OpenApiTypes.STR,
        _Q,
        description="Modified at or before: a date (to its end, so the day is included) or "
        "a date and time.",
    ),
    OpenApiParameter(
        "created_after", OpenApiTypes.STR, _Q, description="As `modified_after`, for creation."
    ),
    OpenApiParameter(
        "created_before", OpenApiTypes.STR, _Q, description="As `modified_before`, for creation."
    ),
    OpenApiParameter(
        "tag",
        OpenApiTypes.STR,
        _Q,
        many=True,
        explode=True,
        description="Tag name (ignoring case); repeat it for several (`tag=work&tag=2026`).",
    ),
    OpenApiParameter(
        "tag_mode",
        OpenApiTypes.STR,
        _Q,
        enum=["any", "all"],
        description="With several tags: `any` of them (default) or `all` of them.",
    ),
    OpenApiParameter(
        "favorite",
        OpenApiTypes.BOOL,
        _Q,
        description="`true`: only favourites; `false`: only items that are not.",
    ),
    OpenApiParameter(
        "in",
        OpenApiTypes.INT,
        _Q,
        description="Id of one of your folders: search it and its subfolders only. Another "
        "account's folder, a deleted or trashed one answers 404.",
    ),
    OpenApiParameter(
        "trash",
        OpenApiTypes.STR,
        _Q,
        enum=["exclude", "include", "only"],
        description="Items in the trash: `exclude` (default), `include` or `only`.",
    ),
    OpenApiParameter(
        "ordering",
        OpenApiTypes.STR,
        _Q,
        enum=[o for key in ORDERING_KEYS for o in (key, f"-{key}")],
        description="`relevance` (default: exact name, then names starting with the query, "
        "then other names with every word, then matches in the text, best first; ties by "
        "name), `name`, `size`, `modified` or `created`; a leading `-` reverses it.",
    ),
    *PAGE_PARAMETERS,
]


def _page_body(request: Request, page: SearchPage) -> dict[str, Any]:
    url = request.build_absolute_uri()
    next_url = previous_url = None
    if page.next_offset is not None:
        next_url = replace_query_param(
            replace_query_param(url, "limit", page.limit), "offset", page.next_offset
        )
    if page.previous_offset is not None:
        previous_url = replace_query_param(url, "limit", page.limit)
        previous_url = (
            replace_query_param(previous_url, "offset", page.previous_offset)
            if page.previous_offset
            else remove_query_param(previous_url, "offset")
        )
    return {
        "count": page.total,
        "next": next_url,
        "previous": previous_url,
        "results": SearchHitSerializer(page.hits, many=True).data,
    }


class TextStateView(APIView):
    """Whether a file's text can be searched: indexed, pending, unreadable (with the reason)
    or none (not a document search reads)."""

    @extend_schema(operation_id="search_text_state", responses=TextStateSerializer)
    def get(self, request: Request, node_id: int) -> Response:
        state = text_state_of(user=request.user, node_id=node_id) if node_id < 2**63 else None
        if state is None:
            raise NotFound("No such file.")
        return Response(TextStateSerializer(state).data)


class SearchView(APIView):
    """Search your files and folders by name, type, size, dates, tags and place."""

    @extend_schema(
        operation_id="search",
        parameters=SEARCH_PARAMETERS,
        responses=SearchPageSerializer,
        description="Your own files and folders and those shared with you, nothing else; "
        "the home folder "
        "itself is never a hit. Every filter narrows the results. A bad value answers 400 "
        "with `field` naming the parameter.",
    )
    def get(self, request: Request) -> Response:
        query = SearchQuery.from_params(request.query_params)
        limit, offset = page_params(request.query_params)
        page = search(user=request.user, query=query, limit=limit, offset=offset, with_total=True)
        return Response(_page_body(request, page))


@extend_schema_view(
    list=extend_schema(description="Your saved searches, by name."),
    create=extend_schema(description="Save a search. Names are unique per account (409)."),
    partial_update=extend_schema(description="Change some fields: rename, refine, re-scope."),
)
class SearchProfileViewSet(viewsets.ModelViewSet):
    """Saved searches ("smart folders"): save a search, run it again, edit, delete it."""

    serializer_class = SearchProfileSerializer

    def get_queryset(self) -> QuerySet[SearchProfile]:
        return profile_list(user=self.request.user)

    def _fields(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = dict(data)
        if "scope_id" in fields:
            scope_id = fields.pop("scope_id")
            fields["scope"] = None if scope_id is None else self._folder(scope_id)
        return fields

    def _folder(self, pk: int) -> Node:
        folder = Node.objects.visible_to(self.request.user).filter(pk=pk).first()
        if folder is None:
            raise SearchFolderNotFound(
                "No such folder to search in ({param}).", param="in", labels=PROFILE_LABELS
            )
        return folder

    def perform_create(self, serializer: BaseSerializer[SearchProfile]) -> None:
        serializer.instance = services.profile_create(
            owner=self.request.user,  # type: ignore[arg-type]
            **self._fields(serializer.validated_data),
        )

    def perform_update(self, serializer: BaseSerializer[SearchProfile]) -> None:
        assert serializer.instance is not None
        serializer.instance = services.profile_update(
            profile=serializer.instance, **self._fields(serializer.validated_data)
        )

    def perform_destroy(self, instance: SearchProfile) -> None:
        services.profile_delete(profile=instance)

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses=ProfileResultsSerializer,
        description="Run the saved search. If its folder was deleted or trashed, the answer "
        "has no results, `scope_missing: true` and a `notice` saying so.",
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def results(self, request: Request, pk: str | None = None) -> Response:
        profile = self.get_object()
        limit, offset = page_params(request.query_params)
        page = profile_run(user=request.user, profile=profile, limit=limit, offset=offset)
        return Response(
            {
                **_page_body(request, page),
                "scope_missing": page.notice is not None,
                "notice": page.notice,
            }
        )
