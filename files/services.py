"""Writes to the file tree. Each service is one transaction under the owner's tree lock.

Usage (``User.used_bytes``) changes in the same transaction as the write that causes it:
every file's size counts, in trash or not, and so does every kept version.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Literal

from django.conf import settings
from django.db import connection, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from accounts.models import User
from fileflow.rows import column
from files import access, places, selectors, tree
from files.activity import Kind, activity_record, activity_record_new_files
from files.blobs import blob_stage, blobs_find_or_create, blobs_for
from files.errors import (
    InvalidMove,
    InvalidName,
    NameConflict,
    NodeNotFound,
    NotAFolder,
    NotInTrash,
    QuotaExceeded,
)
from files.ingest import Received, Upload, too_large
from files.mime import sniff
from files.models import Blob, FileVersion, Node, NodeShare, Tag
from files.names import clean_name, split_path
from files.signals import announce_content

OnConflict = Literal["fail", "rename", "replace"]
# A batch may also leave out the files whose names are taken (the no-script form's choice).
BatchOnConflict = Literal["fail", "rename", "replace", "skip"]
ON_CONFLICT_CHOICES: tuple[str, ...] = ("fail", "rename", "replace")


# --- helpers -------------------------------------------------------------------------


def _fits(owner_id: int, *, used: int = 0, reserved: int = 0) -> bool:
    """Add ``used`` and ``reserved`` bytes to the owner's figures if the quota holds
    ``used_bytes + reserved_bytes`` afterwards (or the change frees space). False if not.

    The one quota check: one conditional UPDATE, so the row lock it takes orders concurrent
    writers and the condition is checked against the row as it is then. Written out, not
    built by the ORM: every upload runs it, and building it took ~0.4 ms of a small PUT's
    ~3.6 ms (bench/transfer.py), the database ~0.03 ms."""
    with connection.cursor() as cursor:
        if used + reserved > 0:
            cursor.execute(_usage_sql(checked=True), [used, reserved, owner_id, used + reserved])
        else:  # frees space (or changes nothing): always allowed
            cursor.execute(_usage_sql(checked=False), [used, reserved, owner_id])
        return cursor.rowcount > 0


@cache
def _usage_sql(*, checked: bool) -> str:
    used, reserved = column(User, "used_bytes"), column(User, "reserved_bytes")
    quota = column(User, "quota_bytes")
    table = connection.ops.quote_name(User._meta.db_table)
    sql = (
        f"UPDATE {table} SET {used} = {used} + %s, "  # noqa: S608 - names only, no user text
        f"{reserved} = {reserved} + %s WHERE {column(User, 'id')} = %s"
    )
    if checked:
        sql += f" AND ({quota} IS NULL OR {used} <= {quota} - {reserved} - %s)"
    return sql


def space_reserve(*, owner_id: int, size: int) -> bool:
    """Hold ``size`` bytes of the owner's quota for a file still on its way (a resumable
    upload); False when the quota cannot hold it. A negative ``size`` releases held space.

    The caller keeps what it holds exact, in the same transaction, and releases it in the
    transaction that stores the file, before the file is charged."""
    return _fits(owner_id, reserved=size)


# Apps that reserve space (resumable uploads) register here how to release what their
# expired holds keep: called with the owner's id under the owner's tree lock, it returns the
# bytes released. files never imports those apps.
_expired_releasers: list[Callable[[int], int]] = []


def register_expired_releaser(release: Callable[[int], int]) -> None:
    """Have a refused charge first release the owner's expired reservations (once each)."""
    if release not in _expired_releasers:
        _expired_releasers.append(release)


def _charge(owner_id: int, delta: int) -> None:
    """Change the owner's usage by ``delta`` bytes, refusing to pass the quota.

    Space held for unfinished resumable uploads counts as used (:func:`space_reserve`), so
    no other upload can take it from under them; what expired ones hold is released first."""
    if delta == 0 or _fits(owner_id, used=delta):
        return
    released = sum(release(owner_id) for release in _expired_releasers)
    if released and _fits(owner_id, used=delta):
        return
    user = selectors.user_space(owner_id=owner_id)
    assert user.quota_bytes is not None
    free = max(user.quota_bytes - user.used_bytes - user.reserved_bytes, 0)
    held = ""
    if user.reserved_bytes:
        held = (
            f" {filesizeformat(user.reserved_bytes)} more is reserved by unfinished resumable "
            "uploads until they finish, are cancelled or expire."
        )
    raise QuotaExceeded(
        f"Not enough space: this needs {filesizeformat(delta)} but only "
        f"{filesizeformat(free)} of your {filesizeformat(user.quota_bytes)} quota is free."
        f"{held} Empty the trash or delete old versions to make room."
    )


def _lock_owners(*owner_ids: int) -> None:
    """Take several owners' tree locks, always in the same order (no deadlock between two
    people moving items across each other's trees)."""
    for owner_id in sorted(set(owner_ids)):
        tree.lock(owner_id)


def _label(node: Node) -> str:
    return "“Your files”" if node.is_home else f"“{node.name}”"


def _locked(node: Node) -> Node:
    """Take the owner's tree lock, then re-read the node (its tree columns may have moved)."""
    tree.lock(node.owner_id)
    try:
        return tree.refresh(node)
    except Node.DoesNotExist:
        raise NodeNotFound("This item no longer exists.") from None


def _live_folder(folder: Node, *, owner: User | None = None) -> Node:
    if owner is not None and folder.owner_id != owner.pk:
        raise NodeNotFound("No such folder.", field="parent")
    if not folder.is_folder:
        raise NotAFolder(f"{_label(folder)} is a file, not a folder.", field="parent")
    if folder.trashed_at is not None:
        raise NodeNotFound(f"The folder {_label(folder)} is in the trash.", field="parent")
    return folder


def _fresh_folder(folder: Node, *, owner: User | None = None) -> Node:
    """Re-read a target folder under the lock (the caller holds it): it may have been moved,
    trashed or deleted for good since the request looked it up."""
    try:
        folder = tree.refresh(folder)
    except Node.DoesNotExist:
        raise NodeNotFound("That folder no longer exists.", field="parent") from None
    return _live_folder(folder, owner=owner)


def _conflict(parent: Node, existing: Node) -> NameConflict:
    kind = "folder" if existing.is_folder else "file"
    return NameConflict(
        f"A {kind} named “{existing.name}” already exists in {_label(parent)}.", field="name"
    )


# --- folders and uploads -------------------------------------------------------------


@transaction.atomic
def folder_create(*, owner: User, parent: Node, name: str, actor: User | None = None) -> Node:
    """A new folder in ``parent``, which belongs to ``owner`` (``actor`` made it: the owner
    or someone the folder is shared with as editor)."""
    name = clean_name(name)
    tree.lock(owner.pk)
    parent = _fresh_folder(parent, owner=owner)
    existing = selectors.node_live_child(parent=parent, name=name)
    if existing is not None:
        raise _conflict(parent, existing)
    folder = tree.insert(Node(owner=owner, name=name, is_folder=True), parent)
    activity_record(kind=Kind.FOLDER, node=folder, actor=actor or owner)
    return folder


@transaction.atomic
def folder_ensure_path(
    *,
    owner: User,
    path: str | Iterable[str],
    base: Node | None = None,
    actor: User | None = None,
) -> Node:
    """``mkdir -p``: the folder at ``path`` (under ``base``, default home), made as needed."""
    parts = split_path(path) if isinstance(path, str) else [clean_name(p) for p in path]
    tree.lock(owner.pk)
    folder = _fresh_folder(base, owner=owner) if base else tree.home_of(owner)
    for part in parts:
        child = selectors.node_live_child(parent=folder, name=part)
        if child is None:
            child = tree.insert(Node(owner=owner, name=part, is_folder=True), folder)
            activity_record(kind=Kind.FOLDER, node=child, actor=actor or owner)
        elif not child.is_folder:
            raise NotAFolder(
                f"“{part}” in {_label(folder)} is a file, so it cannot hold other items.",
                field="path",
            )
        folder = child
    return folder


def _replace_content(
    node: Node, *, blob: Blob, size: int, mime_type: str, actor: User | None, detail: str = ""
) -> Node:
    """Give a file new content; the old content becomes a version (caller holds the lock)."""
    if node.blob_id == blob.pk:
        return node
    _charge(node.owner_id, size)
    assert node.blob_id is not None
    FileVersion.objects.create(
        node=node,
        blob_id=node.blob_id,
        size=node.size,
        mime_type=node.mime_type,
        author=actor,
        created_at=node.updated_at,
    )
    node.blob = blob
    node.size = size
    node.mime_type = mime_type
    node.save(update_fields=["blob", "size", "mime_type", "updated_at"])
    activity_record(kind=Kind.VERSION, node=node, actor=actor, detail=detail)
    return node


# --- uploads: one batch service for every transport -----------------------------------


@dataclass
class UploadResult:
    """What a batch upload did: the files stored (in the order sent), the names left alone
    (``on_conflict="skip"``), the folder they went to, and whether any file is new (rather
    than only new versions of existing ones)."""

    nodes: list[Node]
    skipped: list[str]
    folder: Node
    new: list[Node]  # those of ``nodes`` that are new files

    @property
    def created(self) -> bool:
        return bool(self.new)


def _check_on_conflict(on_conflict: str, *, allow_skip: bool) -> None:
    choices = (*ON_CONFLICT_CHOICES, "skip") if allow_skip else ON_CONFLICT_CHOICES
    if on_conflict not in choices:
        raise InvalidName(f"on_conflict must be one of {', '.join(choices)}.", field="on_conflict")


def _clean_batch_names(files: Sequence[Upload]) -> list[str]:
    """The files' names, cleaned; a bad or repeated name is refused naming the file."""
    if not files:
        raise InvalidName("Send at least one file.", field="file")
    most = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    if len(files) > most:
        raise InvalidName(f"Send at most {most} files at once.", field="file")
    limit = settings.FILEFLOW_MAX_UPLOAD_SIZE
    names: list[str] = []
    seen: set[str] = set()
    for number, upload in enumerate(files, start=1):
        try:
            name = clean_name(upload.name)
        except InvalidName as exc:
            if len(files) == 1:
                raise
            raise InvalidName(
                f"File {number} (“{upload.name}”): {exc.message}", field="file"
            ) from None
        if name in seen:
            raise InvalidName(f"“{name}” is sent twice; send each name once.", field="file")
        # The Receiver already stops a file over the limit as it arrives; this holds the
        # rule for content that came by any other way.
        if limit is not None and upload.received.size > limit:
            raise too_large(name, limit, upload.received.size)
        seen.add(name)
        names.append(name)
    return names


def file_upload_batch(
    *,
    owner: User,
    files: Sequence[Upload],
    parent: Node | None = None,
    path: str | Sequence[str] | None = None,
    on_conflict: BatchOnConflict = "fail",
    actor: User | None = None,
    via_link: str = "",
) -> UploadResult:
    """Store uploaded files in one folder: all of them or none, in one transaction.

    ``owner`` owns the folder (the files are charged to them); ``actor`` is the person
    uploading (the owner, or someone the folder is shared with as editor), ``via_link`` the
    share link a visitor without an account used instead: the activity log names them.

    Every transport calls this (web page, no-script form, multipart and raw ``PUT`` API,
    upload-many, drop folders, the directory import), so the rules live here once:
    ``FILEFLOW_MAX_UPLOAD_SIZE`` per file, the owner's quota for the batch as a whole,
    names, conflicts and empty (0-byte) files, which are legal. The folder is ``parent``,
    or the folder at ``path`` under the home folder (made as needed, like ``mkdir -p``).

    ``on_conflict`` decides what happens to a name that is taken: ``fail`` (409, nothing
    stored), ``rename`` (“report (1).pdf”), ``replace`` (the file gets a new version; a
    folder is never replaced) or ``skip`` (that file is left out and named in ``skipped``).
    The temp files are removed whatever happens. New content bound for remote storage is
    sent before the transaction opens, so no lock is held while the bytes travel.
    """
    try:
        _check_on_conflict(on_conflict, allow_skip=True)
        names = _clean_batch_names(files)
        parts = (split_path(path) if isinstance(path, str) else list(path)) if path else []
        for upload in files:
            blob_stage(upload.received)
        batch = _Batch(
            owner=owner,
            parent=parent,
            parts=parts,
            names=names,
            received=[upload.received for upload in files],
            # Before the transaction: detection needs no lock. A renamed file (“a (1).txt”)
            # keeps its name's extension, and a replaced one its name.
            mime_types=[sniff(u.received.head, name) for u, name in zip(files, names, strict=True)],
            actor=actor,
            via_link=via_link,
        )
        return _store_batch(batch, on_conflict)
    finally:
        for upload in files:
            upload.received.discard()


def file_upload(
    *,
    owner: User,
    parent: Node,
    name: str,
    received: Received,
    on_conflict: OnConflict = "fail",
    actor: User | None = None,
    via_link: str = "",
) -> Node:
    """One file into ``parent``: :func:`file_upload_batch` with one file."""
    _check_on_conflict(on_conflict, allow_skip=False)
    return file_upload_batch(
        owner=owner,
        parent=parent,
        files=[Upload(name=name, received=received)],
        on_conflict=on_conflict,
        actor=actor,
        via_link=via_link,
    ).nodes[0]


def file_upload_to_path(
    *,
    owner: User,
    path: str,
    received: Received,
    on_conflict: OnConflict = "fail",
    actor: User | None = None,
) -> Node:
    """One file to ``/a/b/c.txt``, missing folders made: :func:`file_upload_batch`."""
    try:
        parts = split_path(path)
        if not parts:
            raise InvalidName("The path must end in a file name.", field="path")
        _check_on_conflict(on_conflict, allow_skip=False)
    except BaseException:
        received.discard()
        raise
    return file_upload_batch(
        owner=owner,
        path=parts[:-1],
        files=[Upload(name=parts[-1], received=received)],
        on_conflict=on_conflict,
        actor=actor,
    ).nodes[0]


# Folders nested deeper than this are found (or made) one level at a time: SQLite's parser
# refuses the nested look-up from about 11 levels on ("parser stack overflow").
_JOINED_PATH_DEPTH = 8


def _target_folder(
    owner: User, parent: Node | None, parts: list[str], names: list[str], actor: User | None
) -> tuple[Node, bool]:
    """The batch's folder, read under the lock, and whether a name of the batch is taken.

    A path to an existing folder costs one query: the folder, found through its ancestors'
    names, with whether any of ``names`` is among its live children."""
    if parent is not None:
        folder = _fresh_folder(parent, owner=owner)
        return folder, selectors.node_live_children(folder=folder, names=names).exists()
    if len(parts) <= _JOINED_PATH_DEPTH:
        found = selectors.folder_at_path(owner=owner, parts=parts, names=names)
        if found is not None and found.is_folder:
            return found, bool(found.taken)  # type: ignore[attr-defined]  # the raw query's column
    folder = folder_ensure_path(owner=owner, path=parts, actor=actor)
    return folder, selectors.node_live_children(folder=folder, names=names).exists()


class _NotOnlyNewFiles(Exception):
    """The batch is not the common case :func:`_store_new_files` handles (its work is
    rolled back, then the general path runs)."""


# A batch of up to this many files may take the common case's path (its INSERT carries a
# row of parameters per file).
_NEW_FILES_AT_ONCE = 500


@dataclass(frozen=True)
class _Batch:
    """The files of one upload, their names cleaned and their types found, bound for one
    folder: ``parent``, or the folder at ``parts`` under the owner's home."""

    owner: User
    parent: Node | None
    parts: list[str]
    names: list[str]
    received: list[Received]
    mime_types: list[str]
    actor: User | None  # the uploader (the owner, or an editor); None through a link
    via_link: str

    @property
    def by_path(self) -> bool:
        return self.parent is None


def _store_batch(batch: _Batch, on_conflict: BatchOnConflict) -> UploadResult:
    if len(batch.names) <= _NEW_FILES_AT_ONCE and (
        not batch.by_path or len(batch.parts) <= _JOINED_PATH_DEPTH
    ):
        try:
            return _store_new_files(batch)
        except _NotOnlyNewFiles:
            pass  # rolled back: nothing of it was kept
    return _store_any(batch, on_conflict)


def _store_new_files(batch: _Batch) -> UploadResult:
    """The common case in the fewest statements: new files into a folder that exists, their
    names free there, the quota holding them (a small ``PUT`` is five statements between
    BEGIN and COMMIT). Anything else (a name taken, folders to make, no room) raises
    :class:`_NotOnlyNewFiles`, rolling all of it back, and :func:`_store_any` decides.

    The nodes' INSERT is built before the transaction opens, so the lock is held only while
    the statements run (the whole transaction on SQLite, whose writers queue for it). The
    usage charge comes first: on PostgreSQL that charge, an UPDATE of the owner's row, takes
    the owner's tree lock (:func:`files.tree.lock`), which every writer takes before any
    blob row (the upsert locks those): the other order deadlocked under concurrent writers
    (tests/integration/test_engine_concurrent_writers.py). Then the folder is found by the
    nodes' INSERT itself, under the lock.
    """
    owner, parent, received = batch.owner, batch.parent, batch.received
    nodes = [
        Node(owner=owner, name=name, size=item.size, mime_type=mime)
        for name, item, mime in zip(batch.names, received, batch.mime_types, strict=True)
    ]
    params: list[object]
    if parent is not None:
        folder_id, params = "%s", [parent.pk]
    else:
        folder_id, params = selectors.folder_id_at_path_sql(owner_id=owner.pk, parts=batch.parts)
    leaves = tree.NewLeaves(nodes, owner_id=owner.pk, folder_id_sql=folder_id, params=params)
    with transaction.atomic():
        if not _fits(owner.pk, used=sum(item.size for item in received)):
            raise _NotOnlyNewFiles  # no room (perhaps only until expired holds are released)
        blobs, store_blobs = blobs_find_or_create(received)
        if not leaves.insert([blobs[item.sha256].pk for item in received]):
            raise _NotOnlyNewFiles  # no such folder (yet), or a name is taken there
        store_blobs()
        folder_path = nodes[0].path[: -tree.WIDTH]
        if parent is not None:
            folder = parent
            folder.path = folder_path  # as it is now: it may have moved since it was read
        else:
            # What the INSERT and the path tell of the folder; its other fields are read if
            # asked for.
            known = {
                "id": nodes[0].parent_id,
                "owner_id": owner.pk,
                "parent_id": tree.ids_in(folder_path)[-1] if folder_path else None,
                "path": folder_path,
                "name": batch.parts[-1] if batch.parts else "",
                "is_folder": True,
                "trashed_at": None,
            }
            loaded = [f.attname for f in Node._meta.concrete_fields if f.attname in known]
            folder = Node.from_db(connection.alias, loaded, [known[name] for name in loaded])
        for node, item in zip(nodes, received, strict=True):
            node.parent = folder
            node.blob = blobs[item.sha256]
        _record_upload(nodes, folder, batch)
        announce_content(nodes)
    return UploadResult(nodes=nodes, skipped=[], folder=folder, new=nodes)


def _record_upload(nodes: list[Node], folder: Node, batch: _Batch) -> None:
    """The activity rows of the batch's files new in ``folder``, uploaded by its actor (or
    the owner) or by the visitor of its link."""
    if nodes:
        activity_record_new_files(
            nodes=nodes,
            # A folder found by its path has that path: no look-up of its ancestors' names.
            where="/" + "/".join(batch.parts) if batch.by_path else tree.path_of(folder),
            actor=None if batch.via_link else batch.actor or batch.owner,
            link_label=batch.via_link,
        )


@transaction.atomic
def _store_any(batch: _Batch, on_conflict: BatchOnConflict) -> UploadResult:
    owner, names, actor = batch.owner, batch.names, batch.actor
    tree.lock(owner.pk)
    folder, taken = _target_folder(owner, batch.parent, batch.parts, names, actor)
    existing = (
        {node.name: node for node in selectors.node_live_children(folder=folder, names=names)}
        if taken
        else {}
    )
    also_taken = set(names)  # a renamed file must not take a name a later file brings
    # Each file with its type, and the file to version or the new file's name.
    targets: list[tuple[Received, str, Node | str]] = []
    skipped: list[str] = []
    for name, item, mime_type in zip(names, batch.received, batch.mime_types, strict=True):
        clash = existing.get(name)
        if clash is None:
            targets.append((item, mime_type, name))
        elif on_conflict == "skip":
            skipped.append(name)
        elif on_conflict == "fail" or (on_conflict == "replace" and clash.is_folder):
            raise _conflict(folder, clash)
        elif on_conflict == "replace":
            targets.append((item, mime_type, clash))
        else:
            free = selectors.node_free_name(parent=folder, name=name, also_taken=also_taken)
            also_taken.add(free)
            targets.append((item, mime_type, free))
    _charge(owner.pk, sum(item.size for item, _, target in targets if isinstance(target, str)))
    blobs = blobs_for([item for item, _, _ in targets]) if targets else {}
    stored: list[Node] = []
    new: list[Node] = []
    for item, mime_type, target in targets:
        blob = blobs[item.sha256]
        if isinstance(target, Node):
            stored.append(
                _replace_content(
                    target, blob=blob, size=item.size, mime_type=mime_type, actor=actor
                )
            )
            continue
        node = Node(owner=owner, name=target, blob=blob, size=item.size, mime_type=mime_type)
        stored.append(node)
        new.append(node)
    tree.insert_leaves(new, folder)
    _record_upload(new, folder, batch)
    announce_content(stored)
    return UploadResult(nodes=stored, skipped=skipped, folder=folder, new=new)


# --- rename, move, copy --------------------------------------------------------------


@transaction.atomic
def node_rename(*, node: Node, name: str, actor: User | None = None) -> Node:
    name = clean_name(name)
    node = _locked(node)
    if node.is_home:
        raise InvalidMove("“Your files” cannot be renamed.")
    if node.trashed_at is not None:
        raise NodeNotFound("This item is in the trash; restore it first.")
    if name == node.name:
        return node
    assert node.parent is not None
    existing = selectors.node_live_child(parent=node.parent, name=name, exclude=node)
    if existing is not None:
        if actor is not None and not access.can(actor, node.parent, "view"):
            # An item shared with the actor itself: its folder is its owner's, not to be named.
            kind = "folder" if existing.is_folder else "file"
            raise NameConflict(
                f"A {kind} named “{existing.name}” is already next to this item in its "
                "owner's files; choose another name.",
                field="name",
            )
        raise _conflict(node.parent, existing)
    old = node.name
    node.name = name
    node.save(update_fields=["name", "updated_at"])
    activity_record(kind=Kind.RENAME, node=node, actor=actor, detail=f"from “{old}”")
    return node


@transaction.atomic
def node_move(*, node: Node, new_parent: Node, actor: User | None = None) -> Node:
    """Move within a tree; or across two trees (an item of one's own into a folder shared
    with one as editor, or out of a share into one's own files): see :func:`_move_across`."""
    if new_parent.owner_id != node.owner_id:
        return _move_across(node=node, new_parent=new_parent, actor=actor)
    node = _locked(node)
    if node.is_home:
        raise InvalidMove("“Your files” cannot be moved.")
    if node.trashed_at is not None:
        raise NodeNotFound("This item is in the trash; restore it first.")
    new_parent = _fresh_folder(new_parent)
    if new_parent.owner_id != node.owner_id:
        raise NodeNotFound("No such folder.", field="parent")
    if node.is_folder and tree.is_inside(new_parent, node):
        raise InvalidMove(
            f"“{node.name}” cannot be moved into itself or one of its own subfolders.",
            field="parent",
        )
    if new_parent.pk == node.parent_id:
        return node
    existing = selectors.node_live_child(parent=new_parent, name=node.name)
    if existing is not None:
        raise _conflict(new_parent, existing)
    where = tree.path_of(node.parent) if node.parent else "/"
    node = tree.move(node, new_parent)
    activity_record(kind=Kind.MOVE, node=node, actor=actor, detail=f"from {where}")
    return node


def _move_across(*, node: Node, new_parent: Node, actor: User | None) -> Node:
    """Move ``node`` into another person's tree. Its owner (or someone it is shared with
    who may re-share it) hands it over: the subtree changes owner, its bytes are charged to
    the new owner (413 when they do not fit) and given back to the old one; tags (per owner)
    and the old owner's shares with people on it go. Anyone else gets a copy instead."""
    giver = actor if actor is not None else node.owner
    if not access.can(giver, new_parent, "edit"):
        raise NodeNotFound("No such folder.", field="parent")
    if giver.pk != node.owner_id and not access.can(giver, node, "reshare"):
        return node_copy(node=node, new_parent=new_parent, actor=actor)
    _lock_owners(node.owner_id, new_parent.owner_id)
    try:
        node = tree.refresh(node)
    except Node.DoesNotExist:
        raise NodeNotFound("This item no longer exists.") from None
    if node.is_home:
        raise InvalidMove("Your home folder cannot be moved.")
    if node.trashed_at is not None:
        raise NodeNotFound("This item is in the trash; restore it first.")
    new_parent = _fresh_folder(new_parent)
    if node.is_folder and tree.is_inside(new_parent, node):
        raise InvalidMove(
            f"“{node.name}” cannot be moved into itself or one of its own subfolders.",
            field="parent",
        )
    existing = selectors.node_live_child(parent=new_parent, name=node.name)
    if existing is not None:
        raise _conflict(new_parent, existing)
    old_owner_id = node.owner_id
    size = selectors.node_subtree_bytes(node=node)
    _charge(new_parent.owner_id, size)
    _charge(old_owner_id, -size)
    # The entry is the new owner's: where it was as they see it (a folder shared with them,
    # "Shared with me/…"), never the names of the other person's folders.
    where = _origin_for(new_parent.owner, node)
    node = tree.move(node, new_parent)
    subtree = tree.descendants(node, include_self=True)
    Node.tags.through.objects.filter(node_id__in=subtree.values("pk")).delete()
    NodeShare.objects.filter(node_id__in=subtree.values("pk")).delete()
    Node.objects.filter(pk__in=selectors.node_subtree_ids(node=node)).update(
        owner_id=new_parent.owner_id, is_favorite=False
    )
    node.refresh_from_db()
    activity_record(
        kind=Kind.MOVE,
        node=node,
        actor=actor,
        detail=f"from {where}, handed over to {new_parent.owner}",
    )
    return node


def _origin_for(reader: User, node: Node) -> str:
    """Where ``node`` is, for the record of its hand-over to ``reader``: its folder as
    ``reader`` sees it (:mod:`files.places`) when they may open it, else its owner's files."""
    parent = node.parent
    if parent is None:
        return f"{node.owner}'s files"
    if not access.can(reader, parent, "view"):
        return f"{parent.owner}'s files"
    return places.place_of(reader, parent).path


@transaction.atomic
def node_copy(
    *, node: Node, new_parent: Node, name: str | None = None, actor: User | None = None
) -> Node:
    """Copy a file or a whole folder. Blobs are shared, not copied; quota is charged to the
    owner of ``new_parent`` (a shared item copied into one's own files becomes one's own;
    tags stay with their owner)."""
    _lock_owners(node.owner_id, new_parent.owner_id)
    try:
        node = tree.refresh(node)
    except Node.DoesNotExist:
        raise NodeNotFound("This item no longer exists.") from None
    if node.is_home:
        raise InvalidMove(
            "“Your files” cannot be copied as a whole; copy the folders inside it instead."
        )
    if node.trashed_at is not None:
        raise NodeNotFound("This item is in the trash; restore it first.")
    new_parent = _fresh_folder(new_parent)
    same_owner = new_parent.owner_id == node.owner_id
    if not same_owner and not access.can(actor or node.owner, new_parent, "edit"):
        raise NodeNotFound("No such folder.", field="parent")
    if node.is_folder and tree.is_inside(new_parent, node):
        raise InvalidMove(
            f"“{node.name}” cannot be copied into itself or one of its own subfolders.",
            field="parent",
        )
    top_name = selectors.node_free_name(
        parent=new_parent, name=clean_name(name) if name else node.name
    )
    sources = selectors.node_copy_sources(node=node)
    _charge(new_parent.owner_id, sum(s.size for s in sources if not s.is_folder))

    def make(source: Node) -> Node:
        return Node(
            owner_id=new_parent.owner_id,
            name=top_name if source.pk == node.pk else source.name,
            is_folder=source.is_folder,
            blob_id=source.blob_id,
            size=source.size,
            mime_type=source.mime_type,
            is_favorite=False,
        )

    copies = tree.insert_copies(sources, new_parent, make)
    Tagged = Node.tags.through
    Tagged.objects.bulk_create(
        [
            Tagged(node_id=copies[source.pk].pk, tag_id=tag.pk)
            for source in sources
            if source.pk in copies and same_owner
            for tag in source.tags.all()
        ],
        batch_size=500,
    )
    copy = copies[node.pk]
    activity_record(kind=Kind.COPY, node=copy, actor=actor, detail=f"copy of “{node.name}”")
    return copy


# --- trash ---------------------------------------------------------------------------


@transaction.atomic
def node_trash(*, node: Node, actor: User | None = None) -> Node:
    """Move a node and its subtree to the trash, in one step. It stays where it was."""
    node = _locked(node)
    if node.is_home:
        raise InvalidMove("“Your files” cannot be trashed.")
    if node.trashed_at is not None:
        raise NodeNotFound("This item is already in the trash.")
    now = timezone.now()
    assert node.parent is not None
    # Only rows not already in the trash: an item trashed earlier keeps its own entry.
    tree.descendants(node, include_self=True).filter(trashed_at__isnull=True).update(trashed_at=now)
    node.trashed_at = now
    node.is_trash_root = True
    node.trashed_from = tree.path_of(node.parent)
    node.save(update_fields=["trashed_at", "is_trash_root", "trashed_from"])
    activity_record(kind=Kind.TRASH, node=node, actor=actor)
    return node


def _restore_target(node: Node) -> Node:
    """Where a trashed node goes back to: its folder if that is alive (even if renamed or
    moved since), else the folder path it was trashed from, recreated."""
    parent = node.parent
    assert parent is not None
    moved_out_to_home = parent.is_home and node.trashed_from not in ("", "/")
    if parent.trashed_at is None and not moved_out_to_home:
        return parent
    return folder_ensure_path(owner=node.owner, path=split_path(node.trashed_from or "/"))


@transaction.atomic
def node_restore(*, node: Node, actor: User | None = None) -> Node:
    """Put a trash entry back where it was; missing folders are recreated and a name now
    taken gets a new one (“report (1).pdf”)."""
    node = _locked(node)
    if not node.is_trash_root or node.trashed_at is None:
        raise NotInTrash("Only items in the trash can be restored.")
    target = _restore_target(node)
    if target.pk != node.parent_id:
        node = tree.move(node, target)
    name = selectors.node_free_name(parent=target, name=node.name)
    if name != node.name:
        # Renamed while still trashed, so the live-name constraint never sees a clash.
        node.name = name
        node.save(update_fields=["name"])
    batch = node.trashed_at
    tree.descendants(node, include_self=True).filter(trashed_at=batch).update(
        trashed_at=None, is_trash_root=False, trashed_from=""
    )
    node.refresh_from_db()
    activity_record(kind=Kind.RESTORE, node=node, actor=actor)
    return node


def _delete_forever(node: Node, actor: User | None = None) -> int:
    """Delete a trashed subtree for good (caller holds the lock); returns bytes freed."""
    # Items trashed on their own before their folder keep their trash entries: move them
    # out to the home folder (they remember where they came from) before the folder goes.
    home = tree.home_of(node.owner)
    for entry in selectors.trash_roots_inside(node=node):
        tree.move(tree.refresh(entry), home)
    node = tree.refresh(node)
    freed = selectors.node_subtree_bytes(node=node)
    activity_record(kind=Kind.DELETE, node=node, actor=actor)
    tree.delete_subtree(node)
    _charge(node.owner_id, -freed)
    return freed


@transaction.atomic
def node_delete(*, node: Node, actor: User | None = None) -> int:
    """Delete a trash entry and everything in it, for good. Returns the bytes freed.

    Blobs stay until garbage collection finds them unreferenced."""
    node = _locked(node)
    if not node.is_trash_root:
        raise NotInTrash("Only items in the trash can be deleted for good; trash it first.")
    return _delete_forever(node, actor)


@transaction.atomic
def trash_empty(
    *, owner: User, older_than: datetime | None = None, actor: User | None = None
) -> tuple[int, int]:
    """Delete every trash entry (or those trashed before ``older_than``).

    Returns (entries deleted, bytes freed)."""
    tree.lock(owner.pk)
    count = freed = 0
    # Deepest first: an entry inside a trashed folder goes before that folder does.
    for entry in selectors.trash_roots_deepest_first(owner=owner, older_than=older_than):
        try:
            entry = tree.refresh(entry)
        except Node.DoesNotExist:
            continue
        if entry.is_trash_root:
            freed += _delete_forever(entry, actor)
            count += 1
    return count, freed


# --- versions, favourites, tags ------------------------------------------------------


def _locked_version(version: FileVersion) -> tuple[FileVersion, Node]:
    """Take the owner's lock, then re-read the version: a stale copy must not act twice."""
    node = _locked(version.node)
    fresh = selectors.version_of_node(version=version, node=node)
    if fresh is None:
        raise NodeNotFound("This version no longer exists.")
    return fresh, node


@transaction.atomic
def version_restore(*, version: FileVersion, actor: User | None = None) -> Node:
    """Make an earlier content current again; the content it replaces becomes a version."""
    version, node = _locked_version(version)
    if node.trashed_at is not None:
        raise NodeNotFound("This file is in the trash; restore it first.")
    return _replace_content(
        node,
        blob=version.blob,
        size=version.size,
        mime_type=version.mime_type,
        actor=actor,
        detail="restored an earlier version",
    )


@transaction.atomic
def version_delete(*, version: FileVersion) -> int:
    version, node = _locked_version(version)
    size = version.size
    version.delete()
    _charge(node.owner_id, -size)
    return size


@transaction.atomic
def node_set_favorite(*, node: Node, is_favorite: bool) -> Node:
    node = _locked(node)
    if node.is_favorite != is_favorite:
        node.is_favorite = is_favorite
        node.save(update_fields=["is_favorite"])
    return node


def _clean_tag(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidName("A tag cannot be empty.", field="tags")
    name = " ".join(name.split())
    if len(name) > 64:
        raise InvalidName(f"A tag can be at most 64 characters: “{name[:20]}…”.", field="tags")
    if "," in name:
        raise InvalidName("A tag cannot contain a comma.", field="tags")
    return name


@transaction.atomic
def node_set_tags(*, node: Node, names: Iterable[str]) -> Node:
    """Set a node's tags, creating the owner's tags as needed (matched ignoring case)."""
    cleaned: dict[str, str] = {}
    for name in names:
        tag = _clean_tag(name)
        cleaned.setdefault(tag.lower(), tag)
    node = _locked(node)
    tags: list[Tag] = []
    for lowered, display in cleaned.items():
        found = selectors.tag_find(owner_id=node.owner_id, name=lowered)
        tags.append(found or Tag.objects.create(owner_id=node.owner_id, name=display))
    node.tags.set(tags)
    return node


# --- accounts ------------------------------------------------------------------------


@transaction.atomic
def usage_recompute(*, owner: User) -> tuple[int, int]:
    """Recompute the owner's usage from their files. Returns (before, after)."""
    tree.lock(owner.pk)
    user = User.objects.select_for_update().get(pk=owner.pk)
    before, after = user.used_bytes, selectors.user_usage_bytes(owner=user)
    if before != after:
        User.objects.filter(pk=owner.pk).update(used_bytes=after)
    return before, after


@transaction.atomic
def reserved_recompute(*, owner: User) -> tuple[int, int]:
    """Recompute the space the owner's unfinished uploads hold. Returns (before, after)."""
    tree.lock(owner.pk)
    before = (
        User.objects.select_for_update().values_list("reserved_bytes", flat=True).get(pk=owner.pk)
    )
    after = selectors.user_reserved_bytes(owner=owner)
    if before != after:
        User.objects.filter(pk=owner.pk).update(reserved_bytes=after)
    return before, after
