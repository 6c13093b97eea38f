"""The OpenAPI schema: its pages, our drf-spectacular extensions, and the error answers
every operation can give, documented.

drf-spectacular documents the success answers each view declares. Clients generated from
the schema also need the refusals (a schema that omits them makes a 413 look like a broken
server), so a hook adds them, with the ``{detail, code}`` body the exception handler sends.

drf-spectacular's generator (and with it Django's and DRF's test clients, a few MiB) is
imported when a schema is first asked for, not when a web worker starts: the schema and
docs pages import their views when called, and our extensions are registered by a
preprocessing hook, which every schema generation runs (the pages, ``manage.py
spectacular``, the deploy check).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.views.decorators.csrf import csrf_exempt


def register_extensions(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """SPECTACULAR_SETTINGS["PREPROCESSING_HOOKS"]: register our extensions (by importing
    their modules) before any operation is described; the endpoints pass unchanged."""
    import accounts.api.schema  # noqa: F401 - the Bearer token scheme

    return endpoints


@cache
def _schema_view() -> Any:
    from drf_spectacular.views import SpectacularAPIView

    return SpectacularAPIView.as_view()


@cache
def _docs_view() -> Any:
    from drf_spectacular.views import SpectacularSwaggerSplitView

    # The initialiser comes from ?script, not inline: our CSP allows scripts from 'self' only.
    return SpectacularSwaggerSplitView.as_view(url_name="api-schema")


@csrf_exempt  # as DRF's views are: they authenticate themselves
def api_schema(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
    """``/api/schema/``: the OpenAPI document."""
    response: HttpResponseBase = _schema_view()(request, *args, **kwargs)
    return response


@csrf_exempt
def api_docs(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
    """``/api/docs/``: Swagger UI over the schema (from drf-spectacular-sidecar)."""
    response: HttpResponseBase = _docs_view()(request, *args, **kwargs)
    return response


ERROR_SCHEMA = {
    "type": "object",
    "description": (
        "An error. `detail` says what was wrong, `code` names it for programs, `field` the "
        "parameter at fault when there is one. Validation errors of a JSON or form body "
        "answer `{field: [messages]}` instead."
    ),
    "properties": {
        "detail": {"type": "string"},
        "code": {"type": "string"},
        "field": {"type": "string"},
    },
    "additionalProperties": True,
}

_WHY = {
    "400": "Bad input: the message says which parameter or field and why.",
    "401": "No credentials, or a wrong, revoked or malformed token.",
    "403": "Not allowed (for a browser session: a missing CSRF token).",
    "404": "No such object among yours.",
    "409": "The name is taken, or the object is not in a state that allows this.",
    "411": "A raw upload without Content-Length (chunked): nothing was stored.",
    "413": "Over the quota or the largest upload allowed: nothing was stored.",
    "415": "A request body of a type this operation does not take, or a file type it "
    "cannot handle.",
    "422": "The file's content cannot be read as its type says (e.g. a damaged image).",
    "503": "Search inside documents cannot run as the server is configured (the message "
    "names the setting, e.g. FILEFLOW_SEARCH_CONFIG).",
}

_UPLOADS = ("/api/v1/nodes/upload/", "/api/v1/nodes/upload-many/", "/api/v1/files/content/")


def _codes(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    codes = ["400", "401", "403", "404"]
    if method in {"post", "put", "patch", "delete"}:
        codes.append("409")
    if "requestBody" in operation:
        codes.append("415")
    if path.startswith(_UPLOADS) and method in {"post", "put"}:  # not a download by path
        codes += ["411", "413"]
    if path.endswith("/thumbnail/"):
        codes += ["415", "422"]
    if path == "/api/v1/search/" or (
        path.startswith("/api/v1/search-profiles/") and path.endswith("/results/")
    ):
        codes.append("503")
    return codes


def add_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]: add the error answers to each operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in _codes(path, method, operation):
                responses.setdefault(
                    code,
                    {
                        "description": _WHY[code],
                        "content": {"application/json": {"schema": reference}},
                    },
                )
    return result
