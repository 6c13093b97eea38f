"""What every maintenance job shares: the ``log`` callable, keyset batching."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.db import models
from django.db.models import QuerySet

Log = Callable[[str], None]

BATCH_SIZE = 500


def quiet(line: str) -> None:
    return None


def batched[M: models.Model](queryset: QuerySet[M], *, size: int = BATCH_SIZE) -> Iterator[M]:
    """Rows in primary-key order, fetched ``size`` at a time by keyset (no OFFSET, no
    long-lived server-side cursor), so a run over millions of rows stays flat."""
    last = None
    while True:
        page = queryset.order_by("pk")
        if last is not None:
            page = page.filter(pk__gt=last)
        rows = list(page[:size])
        if not rows:
            return
        yield from rows
        last = rows[-1].pk
