"""Resumable uploads: create, append, finish, terminate, expire.

The rules of storing a file (names, conflicts, the per-file limit, the quota, dedup,
versions) are :func:`files.services.file_upload_batch`'s; what is added here is what an
upload needs while it is unfinished:

- Space is *reserved* at creation, against ``Upload-Length``: under the owner's tree lock the
  quota must hold what is used, what every other live upload of the owner reserved, and this
  upload. So two uploads cannot both pass a quota that holds one. The reservation goes with
  the upload row (finished, terminated or expired).
- The last chunk's request stores the file through ``file_upload_batch`` (atomic, dedup,
  a version when it replaces one), then deletes the upload.
- An upload nobody writes to for ``FILEFLOW_UPLOAD_EXPIRY`` expires: it answers 410 and
  :func:`uploads_sweep_expired` (run by ``manage.py gc``) removes it and its bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import User
from files import selectors as file_selectors
from files import tree
from files.errors import InvalidName, NameConflict, NodeNotFound, QuotaExceeded
from files.ingest import Upload, too_large
from files.maintenance.gc import Sweep
from files.models import Node
from files.names import clean_name, split_path
from files.services import ON_CONFLICT_CHOICES, file_upload_batch
from uploads.errors import OffsetMismatch, UploadExpired, UploadNotFound
from uploads.models import TusUpload
from uploads.storage import Checksum, Read, chunks_for

# Stores a finished upload; the default puts it where its metadata says, for its creator.
Finisher = Callable[[TusUpload, Upload], list[Node]]


@dataclass(frozen=True)
class Target:
    """Where a new upload's file will go, checked at creation."""

    filename: str
    parent: Node | None
    folder_path: str
    on_conflict: str


def upload_target(
    *,
    owner: User,
    filename: str | None,
    parent: str | None,
    path: str | None,
    on_conflict: str | None,
) -> Target:
    """Check an upload's metadata before any byte is sent; a bad value names its field."""
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
    if parent:
        try:
            folder = file_selectors.folder_get(owner, parent)
        except NodeNotFound as exc:
            raise NodeNotFound(exc.message, field="parent") from None
    elif path:
        try:
            folder_path = "/" + "/".join(split_path(path))
        except InvalidName as exc:
            raise InvalidName(f"path: {exc.message}", field="path") from None
        try:
            folder = file_selectors.node_at_path(owner, folder_path)
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
        filename=name,
        parent=folder if parent else None,
        folder_path=folder_path if not parent else "",
        on_conflict=choice,
    )


def _expiry() -> datetime:
    return timezone.now() + settings.FILEFLOW_UPLOAD_EXPIRY


def _reserve(owner_id: int, length: int, *, visitor: bool, exclude: str | None = None) -> None:
    """Refuse ``length`` more bytes unless the owner's quota holds them on top of what is
    used and reserved. The caller holds the owner's tree lock."""
    limit = settings.FILEFLOW_MAX_UPLOAD_SIZE
    if limit is not None and length > limit:
        raise too_large("This upload", limit, length)
    owner = User.objects.only("quota_bytes", "used_bytes").get(pk=owner_id)
    if owner.quota_bytes is None:
        return
    live = TusUpload.objects.filter(owner_id=owner_id, expires_at__gt=timezone.now())
    if exclude is not None:
        live = live.exclude(pk=exclude)
    reserved = live.aggregate(total=Sum("reserved_bytes"))["total"] or 0
    free = max(owner.quota_bytes - owner.used_bytes - reserved, 0)
    if length <= free:
        return
    if visitor:
        raise QuotaExceeded("There is not enough space left in this folder for this upload.")
    raise QuotaExceeded(
        f"Not enough space for this upload: it needs {filesizeformat(length)} but only "
        f"{filesizeformat(free)} is free (unfinished uploads hold "
        f"{filesizeformat(reserved)}). Empty the trash or delete old versions to make room.",
        field="Upload-Length",
    )


@transaction.atomic
def upload_create(
    *,
    owner: User,
    target: Target,
    length: int | None,
    creator: User | None,
    scope: str = "",
    metadata: str = "",
) -> TusUpload:
    """A new, empty upload; ``length`` None defers it (creation-defer-length)."""
    tree.lock(owner.pk)
    if length is not None:
        _reserve(owner.pk, length, visitor=creator is None)
    upload = TusUpload.objects.create(
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
        expires_at=_expiry(),
    )
    chunks_for(upload).create(upload)
    return upload


def upload_get(*, pk: str, creator: User | None, scope: str = "") -> TusUpload:
    """An upload its caller may continue: made by ``creator`` (signed in) or through
    ``scope`` (a share link). Anyone else's is a 404; an expired one a 410."""
    uploads = TusUpload.objects.filter(pk=pk, scope=scope)
    uploads = (
        uploads.filter(creator=creator)
        if creator is not None
        else uploads.filter(creator__isnull=True)
    )
    upload = uploads.select_related("owner").first()
    if upload is None:
        raise UploadNotFound("No such upload.")
    if upload.expires_at <= timezone.now():
        raise UploadExpired(
            "This upload expired before it was finished; its bytes are being removed. "
            "Start it again."
        )
    return upload


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
    _reserve(upload.owner_id, length, visitor=upload.creator_id is None, exclude=upload.pk)
    upload.length = length
    upload.reserved_bytes = length
    upload.save(update_fields=["length", "reserved_bytes"])
    return upload


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

    chunks = chunks_for(upload)
    written, cut = chunks.append(upload, read, count=count, checksum=checksum, commit=commit)
    upload.offset = offset + written
    if not upload.is_complete:
        if written:
            upload.expires_at = _expiry()
        return upload, None, cut
    item = Upload(name=upload.filename, received=chunks.finish(upload))
    try:
        nodes = (finish or _store)(upload, item)
    finally:
        item.received.discard()
        # Stored or refused (a name taken meanwhile, the folder trashed): either way the
        # bytes are gone and so is the reservation.
        TusUpload.objects.filter(pk=upload.pk).delete()
    return upload, nodes, cut


def upload_terminate(*, upload: TusUpload) -> None:
    """Stop an upload: its bytes and its reservation go (tus termination)."""
    chunks_for(upload).discard(upload)
    TusUpload.objects.filter(pk=upload.pk).delete()


def uploads_sweep_expired(*, dry_run: bool, log: Callable[[str], None]) -> Sweep:
    """Remove expired uploads with their bytes, releasing their reservations (``gc``)."""
    now = timezone.now()
    swept = Sweep(label="expired upload(s)")
    for upload in TusUpload.objects.expired(now).order_by("expires_at").iterator():
        swept.count += 1
        if dry_run:
            swept.bytes += upload.offset
            log(f"Would remove expired upload {upload.id} ({upload.offset} bytes)")
            continue
        freed = chunks_for(upload).discard(upload)
        TusUpload.objects.filter(pk=upload.pk, expires_at__lte=now).delete()
        swept.bytes += freed
        log(f"Removed expired upload {upload.id} ({upload.filename}, {freed} bytes)")
    return swept
