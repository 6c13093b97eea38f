"""Resumable uploads: create, append, finish, terminate, expire.

The rules of storing a file (names, conflicts, the per-file limit, the quota, dedup,
versions) are :func:`files.services.file_upload_batch`'s; what is added here is what an
upload needs while it is unfinished:

- Space is *reserved* at creation, against ``Upload-Length``: the owner's
  ``User.reserved_bytes`` grows by it, and the one quota check (``files.services``) holds
  ``used_bytes + reserved_bytes`` against every upload by any transport. So two uploads
  cannot both pass a quota that holds one, and a plain ``PUT`` cannot take the space an
  unfinished upload will need. ``reserved_bytes`` is the sum of the owner's upload rows'
  ``reserved_bytes``, kept exact in the transactions that change them: the reservation goes
  with the row (:func:`upload_row_deleted`, whoever deletes it, cascades included), and an
  expired upload's is released (:func:`release_expired`) as soon as its owner needs the
  space for anything, or when ``gc`` removes it.
- The last chunk's request deletes the upload (releasing its reservation) and stores the
  file through ``file_upload_batch`` (dedup, a version when it replaces one) in one
  transaction, so the file is charged against the space its own reservation held. When
  that request dies first (a killed worker), the upload stays complete but unstored: the
  next request to it (even a HEAD) or ``gc`` stores it (:func:`upload_finish`). A refusal
  ends the upload, and so do bytes gone from the store (410); a storage or database
  failure keeps it, for a retry (503).
- An upload nobody writes to for ``FILEFLOW_UPLOAD_EXPIRY`` expires: it answers 410 and
  :func:`uploads_sweep_expired` (run by ``manage.py gc``) removes it and its bytes — unless
  every byte had arrived: then it is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import User
from fileflow.errors import DomainError
from files import access, tree
from files import selectors as file_selectors
from files.blobs import blob_drop, blob_stage, upload_key
from files.errors import InvalidName, NameConflict, NodeNotFound, QuotaExceeded
from files.ingest import Upload, too_large
from files.maintenance.gc import Sweep
from files.models import Node
from files.names import clean_name, split_path
from files.services import ON_CONFLICT_CHOICES, file_upload_batch, space_reserve
from uploads.errors import (
    OffsetMismatch,
    UploadExpired,
    UploadLost,
    UploadNotFound,
    UploadUnavailable,
)
from uploads.models import TusUpload, new_upload_id
from uploads.storage import Checksum, Read, chunks_for

logger = logging.getLogger(__name__)

# Stores a finished upload; the default puts it where its metadata says, for its creator.
Finisher = Callable[[TusUpload, Upload], list[Node]]


@dataclass(frozen=True)
class Target:
    """Where a new upload's file will go, checked at creation."""

    owner: User  # whose tree the file lands in, and whose quota pays for it
    filename: str
    parent: Node | None
    folder_path: str
    on_conflict: str


def upload_target(
    *,
    user: User,
    filename: str | None,
    parent: str | None,
    path: str | None,
    on_conflict: str | None,
) -> Target:
    """Check an upload's metadata before any byte is sent; a bad value names its field.

    ``parent`` is any folder ``user`` may edit (:mod:`files.access`): their own, or one
    shared with them as editor, whose owner then owns and pays for the file. ``path`` is in
    ``user``'s own tree, as for ``PUT /api/v1/files/content/``."""
    if not filename:
        raise InvalidName(
            "Upload-Metadata must carry the file's name as filename.", field="filename"
        )
    try:
        name = clean_name(filename)
    except InvalidName as exc:
        raise InvalidName(exc.message, field="filename") from None
    choice = on_conflict or "fail"
    if choice not in ON_CONFLICT_CHOICES:
        raise InvalidName(
            f"on_conflict must be one of {', '.join(ON_CONFLICT_CHOICES)}.", field="on_conflict"
        )
    if parent and path:
        raise InvalidName("Give the folder as parent (an id) or as path, not both.", field="parent")
    folder: Node | None = None
    folder_path = ""
    owner = user
    if parent:
        try:
            folder = file_selectors.folder_get(user, parent, "edit")
        except NodeNotFound as exc:
            raise NodeNotFound(exc.message, field="parent") from None
        owner = folder.owner
    elif path:
        try:
            folder_path = "/" + "/".join(split_path(path))
        except InvalidName as exc:
            raise InvalidName(f"path: {exc.message}", field="path") from None
        try:
            folder = file_selectors.node_at_path(owner, folder_path, shared=False)
        except NodeNotFound:
            folder = None  # made when the upload finishes, like mkdir -p
    else:
        folder = tree.home_of(owner)
        folder_path = "/"
    if choice == "fail" and folder is not None:
        taken = Node.objects.alive().filter(parent=folder, name=name).first()
        if taken is not None:
            kind = "folder" if taken.is_folder else "file"
            raise NameConflict(
                f"A {kind} named “{name}” already exists there; choose another name or set "
                "on_conflict to rename or replace.",
                field="filename",
            )
    return Target(
        owner=owner,
        filename=name,
        parent=folder if parent else None,
        folder_path=folder_path if not parent else "",
        on_conflict=choice,
    )


def _expiry() -> datetime:
    return timezone.now() + settings.FILEFLOW_UPLOAD_EXPIRY


def release_expired(owner_id: int) -> int:
    """Release what the owner's expired uploads hold (their bytes wait for ``gc``); returns
    the bytes released. The caller holds the owner's tree lock."""
    expired = TusUpload.objects.expired(timezone.now()).filter(
        owner_id=owner_id, reserved_bytes__gt=0
    )
    # Locked, so a chunk that revives one of them meanwhile is not counted as released.
    held = dict(expired.select_for_update().values_list("pk", "reserved_bytes"))
    if not held:
        return 0
    TusUpload.objects.filter(pk__in=list(held)).update(reserved_bytes=0)
    total = sum(held.values())
    space_reserve(owner_id=owner_id, size=-total)
    return total


def _uploader(owner_id: int, creator: User | None) -> str:
    if creator is None:
        return "visitor"
    return "owner" if creator.pk == owner_id else "editor"


def _reserve(owner_id: int, length: int, *, uploader: str) -> None:
    """Hold ``length`` more bytes of the owner's quota, or refuse them when it cannot hold
    them on top of what is used and reserved. The caller holds the owner's tree lock and
    records the reservation on the upload row in the same transaction. ``uploader``: the
    "owner", an "editor" of a shared folder or a link's "visitor" — only the owner is told
    the account's figures."""
    limit = settings.FILEFLOW_MAX_UPLOAD_SIZE
    if limit is not None and length > limit:
        raise too_large("This upload", limit, length)
    if space_reserve(owner_id=owner_id, size=length):
        return
    if release_expired(owner_id) and space_reserve(owner_id=owner_id, size=length):
        return
    if uploader == "visitor":
        raise QuotaExceeded("There is not enough space left in this folder for this upload.")
    if uploader == "editor":
        raise QuotaExceeded(
            f"There is not enough space in this shared folder for this upload "
            f"({filesizeformat(length)}): its owner's quota cannot hold it.",
            field="Upload-Length",
        )
    owner = User.objects.only("quota_bytes", "used_bytes", "reserved_bytes").get(pk=owner_id)
    assert owner.quota_bytes is not None
    free = max(owner.quota_bytes - owner.used_bytes - owner.reserved_bytes, 0)
    raise QuotaExceeded(
        f"Not enough space for this upload: it needs {filesizeformat(length)} but only "
        f"{filesizeformat(free)} is free (unfinished uploads hold "
        f"{filesizeformat(owner.reserved_bytes)}). Empty the trash or delete old versions to "
        "make room.",
        field="Upload-Length",
    )


def reserved_by(owner_id: int) -> int:
    """What the owner's uploads hold: what ``User.reserved_bytes`` must be (usage audit)."""
    total = TusUpload.objects.filter(owner_id=owner_id).aggregate(total=Sum("reserved_bytes"))
    return total["total"] or 0


def upload_row_deleted(sender: type[TusUpload], instance: TusUpload, **kwargs: object) -> None:
    """``post_delete``: an upload's reservation goes with its row, in the same transaction,
    however the row goes (finished, terminated, swept, or with its target folder)."""
    if instance.reserved_bytes:
        space_reserve(owner_id=instance.owner_id, size=-instance.reserved_bytes)


@transaction.atomic
def upload_create(
    *,
    owner: User,
    target: Target,
    length: int | None,
    creator: User | None,
    scope: str = "",
    metadata: str = "",
    visitor_client: str = "",
    visitor_address: str = "",
) -> TusUpload:
    """A new, empty upload; ``length`` None defers it (creation-defer-length). ``scope``'s
    uploads (a share link's) keep their visitor for the log entry of the stored file."""
    tree.lock(owner.pk)
    if length is not None:
        _reserve(owner.pk, length, uploader=_uploader(owner.pk, creator))
    pk = new_upload_id()
    upload = TusUpload.objects.create(
        id=pk,
        # Where S3 joins the parts, kept on the row: a later version may put new uploads
        # elsewhere, and this one still finishes where its parts are.
        key=upload_key(pk),
        owner=owner,
        creator=creator,
        scope=scope,
        filename=target.filename,
        parent=target.parent,
        folder_path=target.folder_path,
        on_conflict=target.on_conflict,
        length=length,
        reserved_bytes=length or 0,
        metadata=metadata,
        visitor_client=visitor_client,
        visitor_address=visitor_address or None,
        expires_at=_expiry(),
    )
    chunks_for(upload).create(upload)
    return upload


def upload_get(*, pk: str, creator: User | None, scope: str = "") -> TusUpload:
    """An upload its caller may continue: made by ``creator`` (signed in) or through
    ``scope`` (a share link). Anyone else's is a 404; an expired one a 410. One into a
    folder shared with its creator that they may no longer edit (the share was removed,
    lowered to viewer, or the folder moved out of it) is cancelled: its bytes and its
    reservation go, and the answer is a 404 saying so."""
    uploads = TusUpload.objects.filter(pk=pk, scope=scope)
    uploads = (
        uploads.filter(creator=creator)
        if creator is not None
        else uploads.filter(creator__isnull=True)
    )
    upload = uploads.select_related("owner", "creator").first()
    if upload is None:
        raise UploadNotFound("No such upload.")
    # One whose bytes have all arrived is stored instead, even past its expiry.
    if upload.expires_at <= timezone.now() and not upload.is_complete:
        raise UploadExpired(
            "This upload expired before it was finished; its bytes are being removed. "
            "Start it again."
        )
    try:
        _check_reach(upload)
    except UploadNotFound:
        _delete(upload, with_bytes=True)
        raise
    return upload


def _check_reach(upload: TusUpload) -> None:
    """An upload into a folder someone shared with its creator goes on only while the
    creator may edit that folder (:func:`files.access.can`)."""
    creator = upload.creator
    if creator is None or creator.pk == upload.owner_id:
        return
    folder = (
        Node.objects.filter(pk=upload.parent_id).first() if upload.parent_id is not None else None
    )
    if folder is None or not access.can(creator, folder, "edit"):
        raise UploadNotFound(
            "The folder this upload was going to is no longer shared with you as editor; "
            "the upload was cancelled and the bytes received so far removed."
        )


@transaction.atomic
def upload_declare_length(*, upload: TusUpload, length: int) -> TusUpload:
    """Give a deferred-length upload its length, reserving the space (413 if it does not fit)."""
    tree.lock(upload.owner_id)
    upload.refresh_from_db()
    if upload.length is not None:
        if upload.length != length:
            raise OffsetMismatch(
                f"Upload-Length was already set to {upload.length}.", field="Upload-Length"
            )
        return upload
    if length < upload.offset:
        raise OffsetMismatch(
            f"Upload-Length {length} is less than the {upload.offset} bytes already received.",
            field="Upload-Length",
        )
    _reserve(upload.owner_id, length, uploader=_uploader(upload.owner_id, upload.creator))
    upload.length = length
    upload.reserved_bytes = length
    upload.save(update_fields=["length", "reserved_bytes"])
    return upload


_scope_finishers: dict[str, Finisher] = {}


def register_scope_finisher(kind: str, finish: Finisher) -> None:
    """Have the uploads of scope ``kind`` (``"share"`` for ``share:<link id>``) stored by
    ``finish``, whoever finishes them: the request that brought the last byte, a later one,
    or ``gc`` (which has no request to ask). Registered by the app that owns the scope."""
    _scope_finishers[kind] = finish


def _finisher_of(upload: TusUpload) -> Finisher:
    if not upload.scope:
        return _store
    kind = upload.scope.partition(":")[0]
    try:
        return _scope_finishers[kind]
    except KeyError:
        raise ImproperlyConfigured(
            f"No app stores uploads of scope {kind!r} (register_scope_finisher)."
        ) from None


def _store(upload: TusUpload, item: Upload) -> list[Node]:
    return file_upload_batch(
        owner=upload.owner,
        files=[item],
        parent=upload.parent,
        path=upload.folder_path or None,
        on_conflict=upload.on_conflict,  # type: ignore[arg-type]
        actor=upload.creator,
    ).nodes


def upload_append(
    *,
    upload: TusUpload,
    offset: int,
    read: Read,
    count: int,
    checksum: Checksum | None = None,
    finish: Finisher | None = None,
) -> tuple[TusUpload, list[Node] | None, Exception | None]:
    """Append a chunk at ``offset`` (which must be the upload's); when the upload is then
    complete, store the file. Returns the upload, the stored nodes (once finished) and the
    error that cut the chunk short, if any (the bytes before it are kept)."""
    if offset != upload.offset:
        raise OffsetMismatch(
            f"Upload-Offset is {offset} but the upload has {upload.offset} bytes; ask for the "
            "offset (HEAD) and continue from there.",
            field="Upload-Offset",
        )
    limit = settings.FILEFLOW_MAX_UPLOAD_SIZE
    end = upload.length if upload.length is not None else limit
    if end is not None and offset + count > end:
        if upload.length is None and limit is not None:
            raise too_large(upload.filename, limit)
        raise OffsetMismatch(
            f"This chunk would end at byte {offset + count}, past the upload's length {end}.",
            field="Content-Length",
        )

    def commit(new_offset: int, **fields: object) -> None:
        moved = TusUpload.objects.filter(pk=upload.pk, offset=offset).update(
            offset=new_offset, expires_at=_expiry(), **fields
        )
        if not moved:
            raise OffsetMismatch("Another request moved this upload's offset meanwhile.")

    written, cut = 0, None
    if count:
        try:
            written, cut = chunks_for(upload).append(
                upload, read, count=count, checksum=checksum, commit=commit
            )
        except UploadLost:
            _expire_lost(upload)
            raise
    upload.offset = offset + written
    if not upload.is_complete:
        if written:
            upload.expires_at = _expiry()
        return upload, None, cut
    return upload, upload_finish(upload=upload, finish=finish), cut


def upload_finish(*, upload: TusUpload, finish: Finisher | None = None) -> list[Node]:
    """Store a complete upload's file and end the upload; returns the stored nodes.
    ``finish`` stores it (default: its scope's, :func:`register_scope_finisher`, else into
    its target for its creator).

    Called by the request that brought the last byte and, when that one died before the
    file was stored (a killed worker), by the next request to the upload (a HEAD too) or by
    ``gc``. Any number may run at once: the one whose transaction deletes the row stores
    the file; the others find it gone (:class:`UploadNotFound`) and leave the bytes to it.

    A refusal (the name taken meanwhile with ``on_conflict=fail``, no room, the folder gone
    or no longer shared) ends the upload: its row, its reservation and its bytes go. So do
    bytes the store says are gone (:class:`UploadLost`, 410: the part file, or on S3 both
    the assembled object and the multipart upload, removed out of band). Any other failure
    (the object store or the database not answering) keeps the upload as it is and raises
    :class:`UploadUnavailable` (503): the client's retry finishes it."""
    chunks = chunks_for(upload)
    item: Upload | None = None
    try:
        item = Upload(name=upload.filename, received=chunks.finish(upload))
        # Sent to remote storage before the transaction, so no lock waits for the bytes.
        blob_stage(item.received)
        with transaction.atomic():
            tree.lock(upload.owner_id)
            # Its reservation goes with the row, so the file is charged against that space.
            # The row is also what decides a race with a termination (or expiry), or with
            # another request finishing it: whoever deletes it goes on, the others stop.
            if not TusUpload.objects.filter(pk=upload.pk).delete()[0]:
                raise UploadNotFound("This upload was finished or cancelled meanwhile.")
            _check_reach(upload)
            nodes = (finish or _finisher_of(upload))(upload, item)
    except DomainError as exc:
        # Refused, or its bytes gone (UploadLost: no retry can bring them back): the upload
        # and its reservation go, and its bytes are dropped — if the row was still there to
        # delete: else another request took the upload (a termination removes the bytes
        # itself; another finishing request keeps them as the file, or dropped them as
        # known content, which is why this one found them gone).
        if _delete(upload, with_bytes=isinstance(exc, UploadLost)) is None:
            if isinstance(exc, UploadLost):
                raise UploadNotFound("This upload was finished or cancelled meanwhile.") from exc
        elif item is not None:
            blob_drop(item.received)
        raise
    except Exception as exc:
        if not TusUpload.objects.filter(pk=upload.pk).exists():
            # Taken by another request meanwhile (which moved or dropped the bytes).
            raise UploadNotFound("This upload was finished or cancelled meanwhile.") from exc
        logger.exception("Upload %s could not be stored; kept for a retry", upload.pk)
        raise UploadUnavailable(
            "Every byte of this upload arrived, but the file could not be stored just now "
            "(the storage did not answer). Nothing was lost: send the same request again in "
            "a moment, and the file is stored."
        ) from exc
    finally:
        if item is not None:
            item.received.discard()
    chunks.forget(upload)
    return nodes


@transaction.atomic
def _expire_lost(upload: TusUpload) -> None:
    """Its bytes are gone (:class:`UploadLost`), so it can only expire: now. Its requests
    answer 410 from here on, its reservation is released, and ``gc`` removes the row."""
    tree.lock(upload.owner_id)
    TusUpload.objects.filter(pk=upload.pk).update(expires_at=timezone.now())
    release_expired(upload.owner_id)


@transaction.atomic
def _delete(upload: TusUpload, *, with_bytes: bool = False, **only: object) -> int | None:
    """Delete the upload's row (its reservation goes with it) under the owner's lock;
    ``with_bytes``: its bytes too, only if this call deleted the row — a request finishing
    the upload deletes the row in its own transaction, so the bytes it is storing are never
    removed from under it. Returns the bytes removed, None when the row was gone (or no
    longer matched ``only``). Removing the bytes fails: the row stays."""
    tree.lock(upload.owner_id)
    if not TusUpload.objects.filter(pk=upload.pk, **only).delete()[0]:
        return None
    return chunks_for(upload).discard(upload) if with_bytes else 0


def upload_terminate(*, upload: TusUpload) -> None:
    """Stop an upload: its bytes and its reservation go (tus termination)."""
    _delete(upload, with_bytes=True)


def _finish_stranded(*, now: datetime, dry_run: bool, log: Callable[[str], None]) -> None:
    """Store the uploads whose every byte arrived over a minute ago but whose file was
    never stored (the worker died while storing it, and the client stopped asking)."""
    written_before = now + settings.FILEFLOW_UPLOAD_EXPIRY - timedelta(minutes=1)
    stranded = TusUpload.objects.complete().filter(expires_at__lte=written_before)
    for upload in stranded.select_related("owner", "creator").order_by("expires_at"):
        if dry_run:
            log(f"Would store the finished upload {upload.id} ({upload.filename})")
            continue
        try:
            nodes = upload_finish(upload=upload)
        except UploadUnavailable:
            log(f"Could not store the finished upload {upload.id} yet; kept for the next run")
            continue
        except UploadLost:
            log(f"Ended the finished upload {upload.id} ({upload.filename}): its bytes are gone")
            continue
        except DomainError as exc:
            log(f"The finished upload {upload.id} ({upload.filename}) was refused: {exc}")
            continue
        log(f"Stored the finished upload {upload.id} as node {nodes[0].pk} ({upload.filename})")


def uploads_sweep_expired(*, dry_run: bool, log: Callable[[str], None]) -> Sweep:
    """Remove expired uploads with their bytes, releasing their reservations (``gc``);
    store the complete ones whose file was never stored instead."""
    now = timezone.now()
    _finish_stranded(now=now, dry_run=dry_run, log=log)
    swept = Sweep(label="expired upload", plural="expired uploads")
    unfinished = TusUpload.objects.expired(now).exclude(pk__in=TusUpload.objects.complete())
    for upload in unfinished.order_by("expires_at").iterator():
        if dry_run:
            swept.count += 1
            swept.bytes += upload.offset
            log(f"Would remove expired upload {upload.id} ({upload.offset} bytes)")
            continue
        # Finished, cancelled or written to (no longer expired) meanwhile: left alone.
        freed = _delete(upload, with_bytes=True, expires_at__lte=now)
        if freed is None:
            continue
        swept.count += 1
        swept.bytes += freed
        log(f"Removed expired upload {upload.id} ({upload.filename}, {freed} bytes)")
    return swept
