"""Background work of the files app, run by the task worker (``manage.py db_worker``).

Thumbnails of new pictures and PDFs are made right after an upload commits, so the first
person to open the folder does not wait for them; the scheduled maintenance jobs run here
too. Tasks take ids, not objects (their arguments are stored as JSON), and look again at
what is there when they run: the file may be gone by then.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from files import maintenance, thumbnails
from files.models import Node
from files.signals import StoredFile, content_stored_send

logger = logging.getLogger("fileflow.tasks")

# Made ahead of time: what the folder list (64) and the grid (256) show.
PREPARED_SIZES = (64, 256)


@task()
def announce_stored_content(files: list[StoredFile]) -> int:
    """What an upload queues (one task, whatever follows it): tell the listeners of
    :data:`files.signals.content_stored` here, in the worker. Returns how many files."""
    content_stored_send(files)
    return len(files)


@task()
def make_thumbnails(node_ids: list[int]) -> int:
    """Render the thumbnails the pages show for these files' content; how many were made.

    A file that cannot be read (damaged, too large) gets none; that is no failure of the
    task: the page shows the file's icon, as it would without a worker. A file deleted
    since is skipped."""
    made = 0
    for node in Node.objects.select_related("blob").filter(pk__in=node_ids, is_folder=False):
        if not thumbnails.can_have_thumbnail(node):
            continue
        for size in PREPARED_SIZES:
            try:
                made += thumbnails.thumbnail_prepare(node, size=size)
            except (thumbnails.UnreadableFile, thumbnails.ImageTooLarge) as exc:
                logger.info("No thumbnail for file %s: %s", node.pk, exc)
                break
    return made


@task()
def purge_trash() -> int:
    """``manage.py purge_trash`` on a schedule: trash entries past FILEFLOW_TRASH_DAYS."""
    report = maintenance.trash_purge(
        older_than=timezone.now() - timedelta(days=settings.FILEFLOW_TRASH_DAYS), dry_run=False
    )
    return report.entries


@task()
def collect_garbage() -> int:
    """``manage.py gc`` on a schedule; returns how many blobs were removed."""
    report = maintenance.blob_gc(
        dry_run=False, grace=timedelta(hours=settings.FILEFLOW_GC_GRACE_HOURS)
    )
    return report.blobs
