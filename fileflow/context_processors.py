from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse


def fileflow(request: HttpRequest) -> dict[str, Any]:
    return {
        "signup_enabled": settings.FILEFLOW_SIGNUP_ENABLED,
        # The account page's WebDAV section (templates/webdav/_connect.html).
        "dav_path": reverse("webdav:root") + "/",
        "dav_allows_password": settings.FILEFLOW_DAV_ALLOW_PASSWORD,
    }
