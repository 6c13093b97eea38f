"""Operator maintenance: blob garbage collection, scrubbing, trash retention, usage and
tree audits, activity retention, importing a local directory — one module per job.

The management commands and the admin call these functions; they only parse arguments
and print. Every function is keyword-only, reports through a returned dataclass, narrates
through an optional ``log`` callable (one line per thing done) and draws an optional
:class:`~files.progress.Progress`. Writes to the tree go through :mod:`files.services`.
"""

from files.maintenance.activity import ActivityPruneReport, activity_prune
from files.maintenance.common import BATCH_SIZE, Log, batched
from files.maintenance.gc import GcReport, blob_gc, unreferenced_blobs
from files.maintenance.importer import ImportReport, directory_import
from files.maintenance.scrub import SHA256_PREFIX, ScrubProblem, ScrubReport, blob_scrub
from files.maintenance.trash import (
    PurgeReport,
    trash_entry_bytes,
    trash_entry_label,
    trash_purge,
)
from files.maintenance.tree_check import TreeReport, tree_audit
from files.maintenance.usage import UsageMismatch, UsageReport, usage_audit

__all__ = [
    "BATCH_SIZE",
    "SHA256_PREFIX",
    "ActivityPruneReport",
    "GcReport",
    "ImportReport",
    "Log",
    "PurgeReport",
    "ScrubProblem",
    "ScrubReport",
    "TreeReport",
    "UsageMismatch",
    "UsageReport",
    "activity_prune",
    "batched",
    "blob_gc",
    "blob_scrub",
    "directory_import",
    "trash_entry_bytes",
    "trash_entry_label",
    "trash_purge",
    "tree_audit",
    "unreferenced_blobs",
    "usage_audit",
]
