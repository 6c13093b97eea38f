"""``GET /healthz``: is the database answering, is blob storage answering."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from files.store import blob_store

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_storage() -> None:
    blob_store().probe()


CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "storage": check_storage}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:  # noqa: BLE001 - a health check reports every failure
            logger.warning("health check %s failed: %s", name, exc)
            results[name] = f"failing: {type(exc).__name__}: {exc}"
        else:
            results[name] = "ok"
    failing = [name for name, result in results.items() if result != "ok"]
    if failing:
        return JsonResponse({"status": "error", "failing": failing, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})
