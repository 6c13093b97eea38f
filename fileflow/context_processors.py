from typing import Any

from django.conf import settings
from django.http import HttpRequest


def fileflow(request: HttpRequest) -> dict[str, Any]:
    return {"signup_enabled": settings.FILEFLOW_SIGNUP_ENABLED}
