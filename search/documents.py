"""Search inside documents: which contents to read, reading them, and what a file's state is.

New content is announced by the files app (:data:`files.signals.content_stored`, sent by the
task worker after the upload commits); :func:`text_queue_stored` marks the contents that are
documents *pending* and queues one task to read them (:mod:`search.tasks`), which calls
:func:`text_extract` for each. The text is kept per blob, so the same content is read once
whoever owns it.

A document is never read forever: each start of a read is counted first (committed before
reading), and one that has already been started :data:`MAX_TRIES` times without finishing
— its reading killed the worker — is marked unreadable instead. A document that the
extractor refuses or that breaks its parser is marked unreadable with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from accounts.models import User
from files.blobs import open_blob
from files.models import Blob, Node
from files.progress import Progress
from files.signals import StoredFile
from search.extract import Unreadable, document_kind, extract_text
from search.fulltext import index
from search.models import BlobText

logger = logging.getLogger("fileflow.search")

MAX_TRIES = 3


def _kinds(blob_ids: Iterable[int]) -> dict[int, str]:
    """The reader for each blob that some file with that content is a document for."""
    kinds: dict[int, str] = {}
    for blob_id, name, mime_type in (
        Node.objects.filter(blob_id__in=list(blob_ids), is_folder=False)
        .order_by("pk")
        .values_list("blob_id", "name", "mime_type")
    ):
        kind = document_kind(name=name, mime_type=mime_type)
        if kind is not None and blob_id not in kinds:
            kinds[blob_id] = kind
    return kinds


def _mark_pending(kinds: dict[int, str], *, again: bool) -> list[int]:
    """Pending rows for the documents in ``kinds``: new rows for those never seen, and with
    ``again`` the known ones are set back to pending to be read once more."""
    wanted = sorted(kinds)
    if again:
        BlobText.objects.filter(pk__in=wanted).update(
            state=BlobText.State.PENDING, tries=0, reason=""
        )
    BlobText.objects.bulk_create(
        [BlobText(blob_id=pk, kind=kinds[pk]) for pk in wanted], ignore_conflicts=True
    )
    return wanted


def text_queue(*, blob_ids: Iterable[int], again: bool = False) -> list[int]:
    """Mark the documents among ``blob_ids`` pending and queue them for reading.

    Contents read before are left alone unless ``again``. Returns the blob ids queued."""
    return _queue(_kinds(blob_ids), again=again)


def text_queue_stored(*, files: Iterable[StoredFile]) -> list[int]:
    """:func:`text_queue` for newly stored files, told their names and types (by
    :data:`files.signals.content_stored`), so they are not read again."""
    kinds: dict[int, str] = {}
    for item in sorted(files, key=lambda item: item["node_id"]):
        kind = document_kind(name=item["name"], mime_type=item["mime_type"])
        if kind is not None and item["blob_id"] not in kinds:
            kinds[item["blob_id"]] = kind
    return _queue(kinds, again=False)


def _queue(kinds: dict[int, str], *, again: bool) -> list[int]:
    from search.tasks import extract_texts

    if not kinds:
        return []
    if not again:  # known documents (read, unreadable or already queued) are left alone
        known = set(BlobText.objects.filter(pk__in=kinds).values_list("pk", flat=True))
        kinds = {pk: kind for pk, kind in kinds.items() if pk not in known}
    wanted = _mark_pending(kinds, again=again)
    if wanted:
        extract_texts.enqueue(wanted)
    return wanted


@dataclass
class ReindexReport:
    documents: int = 0  # contents to read (a content shared by several files counts once)
    indexed: int = 0
    unreadable: int = 0
    dry_run: bool = False


def text_reindex(
    *,
    owners: QuerySet[User] | None = None,
    again: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ReindexReport:
    """Read, here and now, the documents of ``owners`` (everyone's by default) whose text is
    not kept yet — uploaded before search read documents, or still pending — or all of them
    with ``again`` (after changing ``FILEFLOW_SEARCH_CONFIG`` or a reader)."""
    progress = progress or Progress.off()
    nodes = Node.objects.filter(is_folder=False, blob__isnull=False)
    if owners is not None:
        nodes = nodes.filter(owner__in=owners)
    kinds: dict[int, str] = {}
    for blob_id, name, mime_type in nodes.values_list("blob_id", "name", "mime_type").iterator(
        chunk_size=2000
    ):
        if blob_id not in kinds:
            kind = document_kind(name=name, mime_type=mime_type)
            if kind is not None:
                kinds[blob_id] = kind
    if not again:
        done = BlobText.objects.exclude(state=BlobText.State.PENDING).values_list("pk", flat=True)
        for pk in done.iterator(chunk_size=2000):
            kinds.pop(pk, None)
    report = ReindexReport(documents=len(kinds), dry_run=dry_run)
    if dry_run or not kinds:
        return report
    progress.start("Documents", len(kinds))
    for start in range(0, len(kinds), 500):
        batch = dict(sorted(kinds.items())[start : start + 500])
        for blob_id in _mark_pending(batch, again=True):
            state = text_extract(blob_id=blob_id)
            if state == BlobText.State.INDEXED:
                report.indexed += 1
            elif state == BlobText.State.UNREADABLE:
                report.unreadable += 1
            progress.advance()
    return report


def _start(blob_id: int) -> BlobText | None:
    """Count one more try (committed at once); None when there is nothing to read."""
    with transaction.atomic():
        row = BlobText.objects.select_for_update().filter(pk=blob_id).first()
        if row is None or row.state != BlobText.State.PENDING:
            return None
        row.tries = F("tries") + 1
        row.save(update_fields=["tries"])
        row.refresh_from_db(fields=["tries"])
        return row


def _finish(
    row: BlobText, *, state: str, text: str = "", truncated: bool = False, reason: str = ""
) -> None:
    with transaction.atomic():
        BlobText.objects.filter(pk=row.pk).update(
            state=state,
            text=text,
            truncated=truncated,
            reason=reason[:300],
            kind=row.kind,
            indexed_at=timezone.now(),
            search_vector=None,
        )
        if state == BlobText.State.INDEXED:
            index().write(row.pk)


def text_extract(*, blob_id: int) -> str | None:
    """Read one pending document and keep its text; the state it ends in (None: skipped)."""
    row = _start(blob_id)
    if row is None:
        return None
    if row.tries > MAX_TRIES:
        _finish(
            row,
            state=BlobText.State.UNREADABLE,
            reason=f"Reading it stopped the worker {MAX_TRIES} times; it is not tried again.",
        )
        return BlobText.State.UNREADABLE
    kind = row.kind or _kinds([blob_id]).get(blob_id, "")
    row.kind = kind
    blob = Blob.objects.filter(pk=blob_id).first()
    if blob is None or not kind:
        _finish(row, state=BlobText.State.UNREADABLE, reason="No file has this content any more.")
        return BlobText.State.UNREADABLE
    # Missing bytes in storage (FileNotFoundError) are an operator's problem, which
    # `scrub` reports: the task fails and is retried a bounded number of times.
    source = open_blob(blob)
    try:
        with source:
            extracted = extract_text(
                cast(BinaryIO, source),
                kind=kind,
                max_bytes=settings.FILEFLOW_TEXT_MAX_BYTES,
                seconds=settings.FILEFLOW_TEXT_TIMEOUT_SECONDS,
            )
    except Unreadable as exc:
        _finish(row, state=BlobText.State.UNREADABLE, reason=exc.reason)
        return BlobText.State.UNREADABLE
    except Exception as exc:
        # A parser failing in a way we did not foresee is the document's problem, not a
        # reason to retry: record it (the log has the traceback) and move on.
        logger.exception("Reading blob %s as %s failed", blob_id, kind)
        _finish(
            row,
            state=BlobText.State.UNREADABLE,
            reason=f"It could not be read ({type(exc).__name__}).",
        )
        return BlobText.State.UNREADABLE
    _finish(row, state=BlobText.State.INDEXED, text=extracted.text, truncated=extracted.truncated)
    return BlobText.State.INDEXED


# --- what a file's text state is ---------------------------------------------------------


@dataclass(frozen=True)
class TextState:
    state: str  # "indexed", "pending", "unreadable" or "none" (not a document we read)
    label: str
    reason: str = ""
    truncated: bool = False


def text_state_of(*, user: User | AnonymousUser, node_id: int) -> TextState | None:
    """Whether the caller's file ``node_id`` can be found by its words; None if not theirs."""
    node = Node.objects.visible_to(user).filter(pk=node_id).first()
    if node is None:
        return None
    if node.is_folder or node.blob_id is None:
        return TextState("none", "Folders have no text.")
    row = BlobText.objects.filter(pk=node.blob_id).only("state", "reason", "truncated").first()
    if row is None:
        if document_kind(name=node.name, mime_type=node.mime_type) is None:
            return TextState("none", "Search does not read this type of file.")
        return TextState("pending", "Its text has not been read yet.")
    if row.state == BlobText.State.INDEXED:
        label = "Its words can be searched."
        if row.truncated:
            limit = settings.FILEFLOW_TEXT_MAX_BYTES
            label = f"Its first {limit:,} bytes of text can be searched."
        return TextState("indexed", label, truncated=row.truncated)
    if row.state == BlobText.State.UNREADABLE:
        return TextState("unreadable", "Its text could not be read.", reason=row.reason)
    return TextState("pending", "Its text is waiting to be read.")
