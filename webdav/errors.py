"""wsgidav middleware: a refused DAV request answers with its reason in plain text (or the
RFC's XML precondition). Anything else is left to Django's own error handling, so a bug is
logged with its traceback rather than turned into a page here."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from wsgidav import util
from wsgidav.dav_error import (
    HTTP_INTERNAL_ERROR,
    HTTP_NO_CONTENT,
    HTTP_NOT_MODIFIED,
    DAVError,
    get_http_status_string,
)
from wsgidav.mw.base_mw import BaseMiddleware

logger = logging.getLogger(__name__)


def _reason(error: DAVError) -> str:
    if error.value == HTTP_INTERNAL_ERROR:
        # wsgidav turns an exception inside a PUT into a 500: a bug, logged, not shown.
        logger.error("WebDAV request failed", exc_info=error.src_exception or error)
        return "The server could not complete this request; the error has been logged."
    if error.context_info:
        return str(error.context_info)
    if error.src_exception is not None:
        return str(error.src_exception)
    return get_http_status_string(error)


class DavErrors(BaseMiddleware):
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        captured = util.SubAppStartResponse()
        try:
            chunks = list(self.next_app(environ, captured))
        except DAVError as error:
            status = get_http_status_string(error)
            if error.value in (HTTP_NOT_MODIFIED, HTTP_NO_CONTENT):
                start_response(status, [("Content-Length", "0")])
                return
            if error.err_condition:
                content_type = "application/xml; charset=utf-8"
                body = error.err_condition.as_string().encode("utf-8")
            else:
                content_type = "text/plain; charset=utf-8"
                body = (_reason(error) + "\n").encode("utf-8")
            start_response(
                status,
                [("Content-Type", content_type), ("Content-Length", str(len(body)))]
                + (error.add_headers or []),
            )
            yield body
            return
        status, headers = captured.status, captured.response_headers
        html = any(k.lower() == "content-type" and "html" in v for k, v in headers)
        if status.startswith("201") and html:
            # wsgidav describes a 201 in an HTML page that names itself: an empty body says it.
            headers = [
                (k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")
            ]
            start_response(status, [*headers, ("Content-Length", "0")], captured.exc_info)
            return
        start_response(status, headers, captured.exc_info)
        yield from chunks
