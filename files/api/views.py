"""The files REST API: thin views that validate, call a service or selector, and answer."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import BaseParser, DataAndFiles
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from fileflow.api import user_of
from fileflow.pagination import paginate
from files import access, selectors, services, tree
from files.api.serializers import (
    CopySerializer,
    FileVersionSerializer,
    FolderCreateSerializer,
    NodeListSerializer,
    NodePageSerializer,
    NodeSerializer,
    NodeUpdateSerializer,
    TrashEntrySerializer,
    TrashPageSerializer,
    UploadManySerializer,
    UploadSerializer,
)
from files.errors import InvalidName
from files.ingest import (
    Upload,
    declared_length,
    discard_all,
    length_required,
    parse_multipart,
    receive_raw,
    refuse_early,
    refuse_early_into,
    uploads_in,
)
from files.models import Node
from files.names import split_path
from files.places import Place, place_of
from files.selectors import InvalidListing
from files.services import ON_CONFLICT_CHOICES


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidListing(f"{name} must be a whole number, not {raw!r}.", field=name) from None


def _choice_param(request: Request, name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name) or default
    if value not in choices:
        raise InvalidListing(f"{name} must be one of {', '.join(choices)}.", field=name)
    return value


def _node_response(
    node: Node, user: User, *, status_code: int = status.HTTP_200_OK, place: Place | None = None
) -> Response:
    """One node as ``user`` sees it (its place from :mod:`files.places` unless given)."""
    context: dict[str, Any] = {"user": user}
    if place is not None:
        context["places"] = {node.pk: place}
    return Response(NodeSerializer(node, context=context).data, status=status_code)


NODE_LIST_PARAMETERS = [
    OpenApiParameter("parent", OpenApiTypes.INT, description="Folder id (default: home)."),
    OpenApiParameter(
        "path",
        OpenApiTypes.STR,
        description="Folder path such as /Documents/2026, or /Shared with me/<item>/… for a "
        "folder shared with you.",
    ),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(selectors.SORT_KEYS), default="name"),
    OpenApiParameter("order", OpenApiTypes.STR, enum=["asc", "desc"], default="asc"),
    OpenApiParameter("limit", OpenApiTypes.INT, default=100, description="1–1000."),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From the previous page's `next`."),
]


VERSION_ID = OpenApiParameter("version_id", OpenApiTypes.INT, OpenApiParameter.PATH)

INLINE = OpenApiParameter(
    "inline", OpenApiTypes.BOOL, description="Preview in the browser where safe."
)
CONTENT_RESPONSES: dict[Any, Any] = {
    (200, "*/*"): OpenApiTypes.BINARY,
    206: OpenApiTypes.BINARY,
    304: None,
    416: OpenApiResponse(description="The Range starts past the end; Content-Range says the size."),
}


def _content_response(request: Request, node: Node) -> HttpResponseBase:
    """A node's content as every API download answers it, whether the node was named by id
    or by path (:func:`files.delivery.serve_node`: Range, conditional requests, HEAD, a
    folder as a ZIP); ``?inline=1`` previews it where that is safe.

    DRF's ``Request`` is handed on as it is: it answers for the request it wraps
    (``method``, ``META``, ``headers``), which is all the delivery needs."""
    from files.delivery import serve_node

    inline = request.query_params.get("inline") in {"1", "true", "yes"}
    return serve_node(request, node, as_attachment=not inline)


class NodeViewSet(viewsets.ViewSet):
    """Files and folders of the signed-in user. Another user's ids answer 404."""

    # Only for the schema (path parameter types); reads go through files.selectors.
    queryset = Node.objects.none()

    def get_serializer_class(self) -> type:
        return NodeSerializer

    @extend_schema(parameters=NODE_LIST_PARAMETERS, responses=NodePageSerializer)
    def list(self, request: Request) -> Response:
        parent_id = request.query_params.get("parent")
        path = request.query_params.get("path")
        if parent_id:
            folder = selectors.folder_get(user_of(request), parent_id)
        elif path:
            folder = selectors.node_at_path(user_of(request), path)
            if not folder.is_folder:
                raise InvalidListing(f"{path!r} is a file, not a folder.", field="path")
        else:
            folder = tree.home_of(user_of(request))
        page = selectors.children_page(
            folder=folder,
            sort=_choice_param(request, "sort", tuple(selectors.SORT_KEYS), "name"),
            descending=_choice_param(request, "order", ("asc", "desc"), "asc") == "desc",
            cursor=request.query_params.get("cursor"),
            limit=_int_param(request, "limit", 100),  # type: ignore[arg-type]
        )
        # The folder's place costs what its path did (one query): its ancestors, from the
        # shared item down for someone it is shared with; its entries' follow from it.
        here = place_of(user_of(request), folder)
        places = {node.pk: here.below(node) for node in page.items}
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{urlencode(query)}")
        return Response(
            {
                "folder": NodeSerializer(folder, context={"places": {folder.pk: here}}).data,
                "results": NodeSerializer(page.items, many=True, context={"places": places}).data,
                "next": next_url,
            }
        )

    @extend_schema(request=FolderCreateSerializer, responses={201: NodeSerializer})
    def create(self, request: Request) -> Response:
        """Create a folder."""
        data = FolderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent_id = data.validated_data.get("parent")
        parent = (
            selectors.folder_get(user_of(request), parent_id, "edit")
            if parent_id is not None
            else tree.home_of(user_of(request))
        )
        node = services.folder_create(
            owner=parent.owner,
            parent=parent,
            name=data.validated_data["name"],
            actor=user_of(request),
        )
        return _node_response(node, user_of(request), status_code=status.HTTP_201_CREATED)

    @extend_schema(responses=NodeSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        return _node_response(selectors.node_get(user_of(request), pk), user_of(request))

    @extend_schema(request=NodeUpdateSerializer, responses=NodeSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        """Rename (`name`), move (`parent`), favourite (`is_favorite`) or tag (`tags`).

        On an item shared with you: renaming and moving need the editor role; favourites and
        tags are the owner's. Moving your own item into a folder shared with you as editor
        hands it over to that folder's owner (413 when it does not fit in their quota);
        moving a shared item into your own files needs the re-share right, else you get a
        copy (its id is in the answer)."""
        user = user_of(request)
        data = NodeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = data.validated_data
        needs = "view"  # a move is checked by move_get
        if {"is_favorite", "tags"} & set(changes):
            needs = "manage"
        elif "name" in changes:
            needs = "edit"
        node = selectors.node_get(user, pk, needs)
        with transaction.atomic():
            if "parent" in changes:
                node, target = selectors.move_get(user, pk, changes["parent"])
                node = services.node_move(node=node, new_parent=target, actor=user)
            if "name" in changes:
                node = services.node_rename(node=node, name=changes["name"], actor=user)
            if "is_favorite" in changes:
                node = services.node_set_favorite(node=node, is_favorite=changes["is_favorite"])
            if "tags" in changes:
                node = services.node_set_tags(node=node, names=changes["tags"])
        return _node_response(selectors.node_get(user, node.pk), user)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        """Move to the trash (with everything inside): the owner's trash, also when an
        editor of a shared folder does it. Restore with POST …/restore/."""
        user = user_of(request)
        services.node_trash(node=selectors.node_get(user, pk, "edit"), actor=user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CopySerializer, responses={201: NodeSerializer})
    @action(detail=True, methods=["post"])
    def copy(self, request: Request, pk: str) -> Response:
        """Copy a file or a whole folder (content is shared, quota is charged)."""
        node = selectors.node_get(user_of(request), pk)
        data = CopySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent_id = data.validated_data.get("parent")
        if node.parent_id is None and parent_id is None:
            raise InvalidName("Give a target folder in `parent`.", field="parent")
        target = selectors.folder_get(
            user_of(request), parent_id if parent_id is not None else node.parent_id, "edit"
        )
        copy = services.node_copy(
            node=node,
            new_parent=target,
            name=data.validated_data.get("name"),
            actor=user_of(request),
        )
        return _node_response(copy, user_of(request), status_code=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=NodeSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request: Request, pk: str) -> Response:
        """Restore a trash entry to where it was."""
        user = user_of(request)
        node = selectors.node_get(user, pk, "edit")
        return _node_response(services.node_restore(node=node, actor=user), user)

    @extend_schema(parameters=[INLINE], responses=CONTENT_RESPONSES)
    @action(detail=True, methods=["get", "head"])
    def content(self, request: Request, pk: str) -> HttpResponseBase:
        """Download a file (Range and conditional requests work) or a folder as a ZIP."""
        return _content_response(request, selectors.node_get(user_of(request), pk))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "ids", OpenApiTypes.STR, required=True, description="Comma-separated node ids."
            )
        ],
        request=None,
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    @action(detail=False, methods=["get", "post"], url_path="zip")
    def zip(self, request: Request) -> HttpResponseBase:
        """Download several files and folders as one ZIP (`ids=1,2,3`, at most 1000)."""
        from files.zipstream import zip_response

        values: list[str] = request.query_params.getlist("ids")
        if not values and request.method == "POST":
            value = cast(dict[str, Any], request.data).get("ids", "")
            values = [str(v) for v in value] if isinstance(value, list) else [str(value)]
        user = user_of(request)
        nodes = selectors.nodes_by_ids(user, selectors.parse_ids(values))
        parents = {node.parent_id for node in nodes}
        name = "FileFlow download"
        parent = nodes[0].parent
        # Named after the folder they are in, when it is one the caller can open: never
        # after a folder of the owner's above what is shared with them.
        opened = parent is not None and not parent.is_home and access.can(user, parent, "view")
        if len(parents) == 1 and opened:
            assert parent is not None
            name = parent.name
        return zip_response(request, nodes=nodes, filename=f"{name}.zip")

    @extend_schema(
        parameters=[OpenApiParameter("size", OpenApiTypes.INT, default=256)],
        responses={(200, "image/*"): OpenApiTypes.BINARY, 304: None},
    )
    @action(detail=True, methods=["get"])
    def thumbnail(self, request: Request, pk: str) -> HttpResponseBase:
        """A small image of a picture or of a PDF's first page."""
        from files.thumbnails import thumbnail_response

        node = selectors.node_get(user_of(request), pk)
        size = _int_param(request, "size", 256)
        assert size is not None
        return thumbnail_response(request, node, size=size)

    @extend_schema(responses=FileVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str) -> Response:
        """Earlier contents of a file, newest first."""
        node = selectors.node_get(user_of(request), pk)
        return Response(FileVersionSerializer(selectors.versions_of(node), many=True).data)

    @extend_schema(request=None, responses=NodeSerializer, parameters=[VERSION_ID])
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<version_id>[^/.]+)/restore")
    def version_restore(self, request: Request, pk: str, version_id: str) -> Response:
        """Make an earlier content current; the current content becomes a version."""
        version = selectors.version_get(user_of(request), pk, version_id, "edit")
        return _node_response(
            services.version_restore(version=version, actor=user_of(request)), user_of(request)
        )

    @extend_schema(request=None, responses={204: None}, parameters=[VERSION_ID])
    @action(detail=True, methods=["delete"], url_path=r"versions/(?P<version_id>[^/.]+)")
    def version_delete(self, request: Request, pk: str, version_id: str) -> Response:
        services.version_delete(
            version=selectors.version_get(user_of(request), pk, version_id, "delete")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY}, parameters=[VERSION_ID])
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version_id>[^/.]+)/content")
    def version_content(self, request: Request, pk: str, version_id: str) -> HttpResponseBase:
        from files.delivery import serve_blob

        version = selectors.version_get(user_of(request), pk, version_id)
        return serve_blob(
            request,
            blob=version.blob,
            filename=version.node.name,
            mime_type=version.mime_type,
            last_modified=version.created_at,
            as_attachment=True,
        )


class HashingMultiPartParser(BaseParser):
    """DRF's side of the one receiving adapter: a multipart body parsed by
    :func:`files.ingest.parse_multipart` (each file streamed to disk and hashed as it
    arrives, a short body refused), whether a view or the session CSRF check reads it first."""

    media_type = "multipart/form-data"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles:
        request = (parser_context or {})["request"]
        meta = {**request.META, "CONTENT_TYPE": media_type or request.META.get("CONTENT_TYPE")}
        fields, files = parse_multipart(meta, stream.read, encoding=request.encoding)
        return DataAndFiles(fields, files)


class _MultipartUploadView(APIView):
    """A multipart form whose files are streamed to disk and hashed as they arrive."""

    parser_classes = [HashingMultiPartParser]

    def receive(
        self, request: Request, form_class: type[serializers.Serializer]
    ) -> tuple[dict[str, Any], list[Upload], Node]:
        """The validated form, its files and the target folder; on any refusal the files
        already received are removed."""
        if declared_length(request.META) is None:
            raise length_required()
        user = user_of(request)
        # The folder in the query string is known before the body: the upload is refused
        # there and then when it cannot be stored (404, or 413 when the folder's owner has
        # no room). A folder named only in the form is known once the body has arrived.
        early = _int_param(request, "parent")
        parent = None
        if early is not None:
            parent = selectors.folder_get(user, early, "edit")
            refuse_early_into(request.META, parent, user)
        try:
            form = form_class(data=request.data)
            uploads = uploads_in(request.FILES)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            parent_id = data.get("parent")
            if parent is not None and parent_id is not None and parent_id != parent.pk:
                raise serializers.ValidationError(
                    {"parent": "The query string and the form name different folders."}
                )
            if parent is None:
                parent = (
                    selectors.folder_get(user, parent_id, "edit")
                    if parent_id is not None
                    else tree.home_of(user)
                )
        except BaseException:
            discard_all(uploads_in(request.FILES))
            raise
        return data, uploads, parent


EARLY_PARENT = OpenApiParameter(
    "parent",
    OpenApiTypes.INT,
    description="The folder (as the form's `parent`), known before the body is read: an "
    "upload that does not fit in the folder owner's quota is refused (413) before it is sent.",
)


class NodeUploadView(_MultipartUploadView):
    """Upload one file with a multipart form (`file`, `parent`, `name`, `on_conflict`)."""

    @extend_schema(
        parameters=[EARLY_PARENT],
        request={"multipart/form-data": UploadSerializer},
        responses={201: NodeSerializer, 200: NodeSerializer},
    )
    def post(self, request: Request) -> Response:
        data, uploads, parent = self.receive(request, UploadSerializer)
        if data.get("name"):
            uploads[0].name = str(data["name"])
        try:
            result = services.file_upload_batch(
                owner=parent.owner,
                parent=parent,
                files=uploads[:1],
                on_conflict=data["on_conflict"],
                actor=user_of(request),
            )
        finally:
            discard_all(uploads[1:])  # more parts than the one `file` this endpoint takes
        user = user_of(request)
        return _node_response(
            result.nodes[0], user, status_code=_upload_status(result), place=_place_in(result, user)
        )


class NodeUploadManyView(_MultipartUploadView):
    """Upload up to 1,000 files into one folder in one request: repeated `file` parts, with
    `parent` and `on_conflict`. All are stored or none; the answer lists them in order.

    Much faster than a request per file for many small files (one transaction, one quota
    check, one tree update)."""

    @extend_schema(
        parameters=[EARLY_PARENT],
        request={"multipart/form-data": UploadManySerializer},
        responses={201: NodeListSerializer, 200: NodeListSerializer},
    )
    def post(self, request: Request) -> Response:
        data, uploads, parent = self.receive(request, UploadManySerializer)
        result = services.file_upload_batch(
            owner=parent.owner,
            parent=parent,
            files=uploads,
            on_conflict=data["on_conflict"],
            actor=user_of(request),
        )
        return Response(
            {
                "count": len(result.nodes),
                "results": NodeSerializer(
                    result.nodes, many=True, context=_upload_context(result, user_of(request))
                ).data,
            },
            status=_upload_status(result),
        )


def _upload_context(
    result: services.UploadResult, user: User, path: str | None = None
) -> dict[str, Any]:
    """What the serializer needs to answer without more queries: each file's place (in
    the folder the batch went to, as the uploader sees it) and, for files new in this
    upload, that they have no tags. ``path``: the folder's, when the caller named it."""
    if path is not None:
        folder = Place(path=path, shared=False, parent_id=result.folder.parent_id)
    else:
        folder = place_of(user, result.folder)
    return {
        "places": {node.pk: folder.below(node) for node in result.nodes},
        "untagged": {node.pk for node in result.new},
    }


def _place_in(result: services.UploadResult, user: User) -> Place:
    places: dict[int, Place] = _upload_context(result, user)["places"]
    return places[result.nodes[0].pk]


def _upload_status(result: services.UploadResult) -> int:
    """201 when an upload made a new file, 200 when it only gave existing ones new versions."""
    return status.HTTP_201_CREATED if result.created else status.HTTP_200_OK


DOWNLOAD_PATH = OpenApiParameter(
    "path",
    OpenApiTypes.STR,
    required=False,
    description="The file or folder to download, e.g. /Documents/report.pdf, or "
    "/Shared with me/<item>/… for one shared with you; / is all your files as a ZIP "
    "(required unless the path is in the URL).",
)


class FileContentView(APIView):
    """A file's content by its path, both ways, as curl sends it: `PUT` uploads raw bytes to
    `/api/v1/files/content/a/b.txt` or `/api/v1/files/content/?path=/a/b.txt`; `GET` and
    `HEAD` download from the same URLs. The query wins when both are given, so curl's
    appended file name does not change an explicit `path`.

    PUT: missing folders are created. The body is streamed; a `Content-Length` is required."""

    parser_classes: list = []

    @extend_schema(
        operation_id="files_content_get",
        parameters=[DOWNLOAD_PATH, INLINE],
        responses=CONTENT_RESPONSES,
    )
    def get(self, request: Request, url_path: str = "") -> HttpResponseBase:
        """Download a file or a folder (as a ZIP) by its path: the same answer as
        `GET /api/v1/nodes/{id}/content/` for the item at that path (Range and conditional
        requests work). Items in the trash are not found by path."""
        path = request.query_params.get("path") or url_path
        if not path:
            raise InvalidName(
                "Give the path of a file or folder: GET /api/v1/files/content/Documents/"
                "report.pdf, or ?path=/Documents/report.pdf (?path=/ for all your files).",
                field="path",
            )
        return _content_response(request, selectors.node_at_path(user_of(request), path))

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "path",
                OpenApiTypes.STR,
                required=False,
                description="Where to store the file, e.g. /Documents/report.pdf "
                "(required unless the path is in the URL).",
            ),
            OpenApiParameter(
                "on_conflict", OpenApiTypes.STR, enum=list(ON_CONFLICT_CHOICES), default="fail"
            ),
        ],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={201: NodeSerializer, 200: NodeSerializer},
    )
    def put(self, request: Request, url_path: str = "") -> Response:
        path = request.query_params.get("path") or url_path
        if not path or path.endswith("/"):
            raise InvalidName(
                "Give the file's path: PUT /api/v1/files/content/Documents/report.pdf, "
                "or ?path=/Documents/report.pdf.",
                field="path",
            )
        on_conflict = cast(
            services.OnConflict,
            _choice_param(request, "on_conflict", ON_CONFLICT_CHOICES, "fail"),
        )
        parts = split_path(path)
        if not parts:
            raise InvalidName("The path must end in a file name.", field="path")
        # DRF's Request answers for the request it wraps (META, read()): the body is
        # still read from the server a chunk at a time, never loaded whole.
        refuse_early(request.META, user_of(request))
        received = receive_raw(request, name=parts[-1])
        result = services.file_upload_batch(
            owner=user_of(request),
            path=parts[:-1],
            files=[Upload(name=parts[-1], received=received)],
            on_conflict=on_conflict,
            actor=user_of(request),
        )
        # The folders are those of the path asked for; the name may have become “x (1)”.
        context = _upload_context(result, user_of(request), path="/" + "/".join(parts[:-1]))
        return Response(
            NodeSerializer(result.nodes[0], context=context).data, status=_upload_status(result)
        )


class FileContentAtPathView(FileContentView):
    """`PUT /api/v1/files/content/Documents/report.pdf`: the path in the URL (as curl builds
    it from `curl -T report.pdf …/files/content/Documents/`); `GET` and `HEAD` on it
    download that item."""

    @extend_schema(
        operation_id="files_content_get_at_path",
        parameters=[OpenApiParameter("url_path", OpenApiTypes.STR, OpenApiParameter.PATH), INLINE],
        responses=CONTENT_RESPONSES,
    )
    def get(self, request: Request, url_path: str = "") -> HttpResponseBase:
        return super().get(request, url_path)

    @extend_schema(
        operation_id="files_content_put_at_path",
        parameters=[
            OpenApiParameter("url_path", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter(
                "on_conflict", OpenApiTypes.STR, enum=list(ON_CONFLICT_CHOICES), default="fail"
            ),
        ],
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={201: NodeSerializer, 200: NodeSerializer},
    )
    def put(self, request: Request, url_path: str = "") -> Response:
        return super().put(request, url_path)


class TrashView(APIView):
    """The trash: what was deleted, from where and when."""

    @extend_schema(
        parameters=[
            OpenApiParameter("limit", OpenApiTypes.INT, description="1–1000 (default 100)."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="0 or more (default 0)."),
        ],
        responses=TrashPageSerializer,
    )
    def get(self, request: Request) -> Response:
        entries = selectors.trash_entries(user_of(request)).prefetch_related("tags")
        paginator, items = paginate(entries, request, self)
        # The trash is the owner's: each entry where it was in their files.
        places = {
            n.pk: Place(
                path=n.trashed_from.rstrip("/") + "/" + n.name, shared=False, parent_id=n.parent_id
            )
            for n in items
        }
        return Response(
            {
                "count": paginator.count,
                "next": paginator.get_next_link(),
                "previous": paginator.get_previous_link(),
                "results": TrashEntrySerializer(items, many=True, context={"places": places}).data,
                "retention_days": settings.FILEFLOW_TRASH_DAYS,
            }
        )

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT}, operation_id="trash_empty")
    def delete(self, request: Request) -> Response:
        """Empty the trash for good."""
        count, freed = services.trash_empty(owner=user_of(request), actor=user_of(request))
        return Response({"deleted": count, "freed_bytes": freed})


class TrashEntryView(APIView):
    @extend_schema(
        request=None, responses={200: OpenApiTypes.OBJECT}, operation_id="trash_entry_delete"
    )
    def delete(self, request: Request, pk: str) -> Response:
        """Delete one trash entry (and everything in it) for good."""
        user = user_of(request)
        freed = services.node_delete(node=selectors.node_get(user, pk, "delete"), actor=user)
        return Response({"deleted": 1, "freed_bytes": freed})
