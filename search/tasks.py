"""Background work of search: reading the text of new documents (see :mod:`search.documents`)."""

from __future__ import annotations

from django.tasks import task

from search.documents import text_extract


@task()
def extract_texts(blob_ids: list[int]) -> dict[str, int]:
    """Read each pending document among ``blob_ids``; how many ended in each state."""
    counts: dict[str, int] = {}
    for blob_id in blob_ids:
        state = text_extract(blob_id=blob_id)
        if state is not None:
            counts[state] = counts.get(state, 0) + 1
    return counts
