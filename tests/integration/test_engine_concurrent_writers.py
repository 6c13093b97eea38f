"""Eight clients write to one account at once through gunicorn (2 workers, gthread).

Each client runs seeded random operations against the HTTP API: uploads (raw PUT into paths
whose folders may not exist yet, multipart into a folder), new folders, renames, moves
(including a folder into its own subfolder, which must be refused with a clear 4xx), copies,
trash, restore, replace, delete for good and downloads. Afterwards the account is checked
from outside the engine: no answer was a 5xx, ``check_tree`` and ``recompute_usage --check``
pass, ``used_bytes`` equals the sizes added up from the database, no live item sits in a
trashed folder or shares a name with a sibling, and every live file downloads with exactly
the bytes some client sent for it.

Only the API, the management commands and plain counting queries are used, so the test
holds whatever the tree and the store look like inside.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum

from accounts.models import User
from files.models import FileVersion, Node
from tests.integration.helpers import LiveServer, Multipart, Reply, tail

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 8
# Tree writes serialise per account; with the path tree a write is one INSERT or UPDATE
# on both databases, so both run the 8 x 200.
OPERATIONS = 200
SEED = 20261204
# A small pool of names, so that writers collide on names as well as on items.
NAMES = ["alpha", "beta", "gamma", "delta", "notes", "photos", "2026", "Ünïcode é"]

# Operation -> weight. Reads are few: the point is concurrent writes.
WEIGHTS = {
    "put": 14,
    "multipart": 10,
    "mkdir": 12,
    "rename": 10,
    "move": 12,
    "move_into_own_subfolder": 4,
    "copy": 6,
    "trash": 10,
    "restore": 8,
    "replace": 8,
    "delete_for_good": 2,
    "download": 4,
}


@dataclass
class Shared:
    """What the writers know about the account, updated from the answers they get."""

    folders: set[int]
    home: int
    files: set[int] = field(default_factory=set)
    trashed: set[int] = field(default_factory=set)
    sent: dict[str, int] = field(default_factory=dict)  # sha256 -> size of every body sent
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, rng: random.Random, *pools: set[int]) -> int | None:
        with self.lock:
            candidates = sorted(set().union(*pools) - {self.home})
        return rng.choice(candidates) if candidates else None

    def pick_folder(self, rng: random.Random) -> int:
        with self.lock:
            return rng.choice(sorted(self.folders))

    def add(self, node: dict[str, Any]) -> None:
        with self.lock:
            (self.folders if node["is_folder"] else self.files).add(node["id"])
            self.trashed.discard(node["id"])

    def content(self, rng: random.Random) -> bytes:
        size = rng.choice([0, 1, 100, 4096, rng.randrange(1, 64 * 1024)])
        data = rng.randbytes(size)
        with self.lock:
            self.sent[hashlib.sha256(data).hexdigest()] = size
        return data


@dataclass
class Outcome:
    """Every answer, by operation and status; failures are 5xx, broken answers or errors."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    own_subfolder: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, method: str, path: str, reply: Reply) -> None:
        with self.lock:
            self.statuses[(operation, reply.status)] += 1
            if reply.status >= 500:
                self.failures.append(
                    f"{operation}: {method} {path} -> {reply.status} {reply.body[:300]!r}"
                )
            elif reply.status >= 400 and not _has_detail(reply):
                self.failures.append(
                    f"{operation}: {method} {path} -> {reply.status} without a message: "
                    f"{reply.body[:300]!r}"
                )

    def ok(self, operation: str) -> int:
        return sum(
            n for (op, status), n in self.statuses.items() if op == operation and status < 300
        )


def _has_detail(reply: Reply) -> bool:
    """A refusal says what was wrong: ``{"detail": …}`` or, from a form, field -> messages."""
    try:
        payload = reply.json()
    except ValueError:
        return False
    if not isinstance(payload, dict) or not payload:
        return False
    if "detail" in payload:
        return bool(payload["detail"])
    return all(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
        for messages in payload.values()
    )


class Writer:
    def __init__(
        self, number: int, server: LiveServer, auth: dict[str, str], shared: Shared, out: Outcome
    ) -> None:
        self.number = number
        self.rng = random.Random(SEED + number)
        self.server = server
        self.auth = auth
        self.shared = shared
        self.out = out
        self.made = 0

    def call(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        payload: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent_headers = {**self.auth, **(headers or {})}
        if payload is not None:
            body = json.dumps(payload).encode()
            sent_headers["Content-Type"] = "application/json"
        length = None if body is None else len(body)
        reply = self.server.request(method, path, headers=sent_headers, body=body, length=length)
        self.out.record(operation, method, path, reply)
        return reply

    def unique(self, stem: str) -> str:
        self.made += 1
        return f"{stem}-w{self.number}-{self.made}"

    def name(self) -> str:
        return self.rng.choice(NAMES) if self.rng.random() < 0.6 else self.unique("n")

    def run(self) -> None:
        operations = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        for _ in range(OPERATIONS):
            operation = self.rng.choices(operations, weights)[0]
            try:
                getattr(self, operation)(operation)
            # A dropped connection, a 2xx that is not JSON or lacks a field, ...
            except (OSError, http.client.HTTPException, ValueError, KeyError) as error:
                with self.out.lock:
                    self.out.failures.append(f"{operation}: {type(error).__name__}: {error}")

    # --- the operations ----------------------------------------------------------------

    def put(self, operation: str) -> None:
        folders = [self.rng.choice(NAMES) for _ in range(self.rng.randrange(0, 3))]
        path = "/" + "/".join([*folders, self.name() + ".bin"])
        on_conflict = self.rng.choice(["fail", "rename", "replace"])
        query = urlencode({"path": path, "on_conflict": on_conflict})
        reply = self.call(
            operation, "PUT", f"/api/v1/files/content/?{query}", body=self.shared.content(self.rng)
        )
        if reply.status in (200, 201):
            self.shared.add(reply.json())

    def multipart(self, operation: str) -> None:
        parent = self.shared.pick_folder(self.rng)
        data = self.shared.content(self.rng)
        form = Multipart(self.name() + ".txt", len(data))
        boundary = form.boundary.encode()
        fields = b"".join(
            b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
            % (boundary, name.encode(), value.encode())
            for name, value in (
                ("parent", str(parent)),
                ("on_conflict", self.rng.choice(["fail", "rename", "replace"])),
            )
        )
        body = fields + b"".join(form.body([data]))
        reply = self.call(
            operation,
            "POST",
            "/api/v1/nodes/upload/",
            body=body,
            headers={"Content-Type": form.content_type},
        )
        if reply.status in (200, 201):
            self.shared.add(reply.json())

    def mkdir(self, operation: str) -> None:
        parent = self.shared.pick_folder(self.rng)
        reply = self.call(
            operation, "POST", "/api/v1/nodes/", payload={"parent": parent, "name": self.name()}
        )
        if reply.status == 201:
            self.shared.add(reply.json())

    def rename(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.files, self.shared.folders)
        if node is not None:
            self.call(operation, "PATCH", f"/api/v1/nodes/{node}/", payload={"name": self.name()})

    def move(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.files, self.shared.folders)
        if node is not None:
            target = self.shared.pick_folder(self.rng)
            self.call(operation, "PATCH", f"/api/v1/nodes/{node}/", payload={"parent": target})

    def move_into_own_subfolder(self, operation: str) -> None:
        """A fresh folder with a fresh subfolder chain (no other writer knows them yet),
        then the folder into its grandchild and into itself: both refused."""
        parent = self.shared.pick_folder(self.rng)
        chain = []
        for _ in range(3):
            reply = self.call(
                operation,
                "POST",
                "/api/v1/nodes/",
                payload={"parent": parent, "name": self.unique("loop")},
            )
            if reply.status != 201:
                return  # the parent was trashed meanwhile: a 404, already recorded
            parent = reply.json()["id"]
            chain.append(parent)
        top = chain[0]
        for target in (chain[-1], top):
            reply = self.call(
                operation, "PATCH", f"/api/v1/nodes/{top}/", payload={"parent": target}
            )
            code = reply.json().get("code", "") if reply.status >= 400 else ""
            with self.out.lock:
                self.out.own_subfolder.append((reply.status, code))
        for folder in chain:
            self.shared.add({"id": folder, "is_folder": True})

    def copy(self, operation: str) -> None:
        # Mostly files: copying folders into folders again and again grows the tree fast.
        pools = [self.shared.files] if self.rng.random() < 0.8 else [self.shared.folders]
        node = self.shared.pick(self.rng, *pools)
        if node is None:
            return
        target = self.shared.pick_folder(self.rng)
        reply = self.call(
            operation, "POST", f"/api/v1/nodes/{node}/copy/", payload={"parent": target}
        )
        if reply.status == 201:
            self.shared.add(reply.json())

    def trash(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.files, self.shared.folders)
        if node is None:
            return
        reply = self.call(operation, "DELETE", f"/api/v1/nodes/{node}/")
        if reply.status == 204:
            with self.shared.lock:
                self.shared.trashed.add(node)

    def restore(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.trashed)
        if node is None:
            return
        reply = self.call(operation, "POST", f"/api/v1/nodes/{node}/restore/")
        if reply.status == 200:
            self.shared.add(reply.json())

    def replace(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.files)
        if node is None:
            return
        reply = self.call(operation, "GET", f"/api/v1/nodes/{node}/")
        if reply.status != 200 or reply.json().get("trashed_at"):
            return
        found = reply.json()
        if found["id"] != node or not found["path"].endswith("/" + found["name"]):
            with self.out.lock:
                self.out.failures.append(
                    f"GET /api/v1/nodes/{node}/ answered path {found['path']!r} for "
                    f"{found['name']!r} (id {found['id']})"
                )
            return
        query = urlencode({"path": found["path"], "on_conflict": "replace"})
        reply = self.call(
            operation, "PUT", f"/api/v1/files/content/?{query}", body=self.shared.content(self.rng)
        )
        if reply.status in (200, 201):
            self.shared.add(reply.json())

    def delete_for_good(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.trashed)
        if node is not None:
            self.call(operation, "DELETE", f"/api/v1/trash/{node}/")

    def download(self, operation: str) -> None:
        node = self.shared.pick(self.rng, self.shared.files)
        if node is None:
            return
        reply = self.call(operation, "GET", f"/api/v1/nodes/{node}/content/")
        if reply.status == 200 and hashlib.sha256(reply.body).hexdigest() not in self.shared.sent:
            with self.out.lock:
                self.out.failures.append(f"download of {node}: bytes nobody sent")


def run_writers(server: LiveServer, auth: dict[str, str], home: int) -> tuple[Shared, Outcome]:
    shared = Shared(folders={home}, home=home)
    out = Outcome()
    writers = [Writer(number, server, auth, shared, out) for number in range(WRITERS)]
    threads = [threading.Thread(target=writer.run) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a writer is still running"
    return shared, out


def tracebacks(server: LiveServer) -> str:
    """The server's tracebacks, to say what a 5xx was."""
    log = server.log()
    found = [part for part in log.split("\n[") if "Traceback" in part]
    return "\n".join(found[:3]) or tail(server.log_path)


def command(name: str, *args: str) -> str:
    """Run a management command as an operator would; it raises CommandError on a problem."""
    stdout = io.StringIO()
    call_command(name, *args, "--no-progress", stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def test_eight_concurrent_writers_leave_a_consistent_account(
    start_server: Callable[..., LiveServer], alice: Any, bearer: Callable[[Any], dict[str, str]]
) -> None:
    server = start_server(WEB_CONCURRENCY="2", FILEFLOW_THREADS="4")
    assert len(server.worker_pids()) == 2
    auth = bearer(alice)
    home = Node.objects.get(owner=alice, parent=None).pk

    started = time.monotonic()
    shared, out = run_writers(server, auth, home)
    elapsed = time.monotonic() - started
    print(
        f"\n{WRITERS} writers x {OPERATIONS} operations in {elapsed:.1f} s; "
        f"answers: {dict(sorted(out.statuses.items()))}"
    )

    # No 5xx, no error without a message, no dropped connection.
    assert out.failures == [], "\n".join(out.failures[:20]) + "\n" + tracebacks(server)
    # Every kind of write really happened, not only refusals.
    for operation in WEIGHTS:
        assert out.ok(operation) > 0, f"no {operation} succeeded: {out.statuses}"
    # A folder into itself or its own subfolder: always refused, and said why.
    assert len(out.own_subfolder) >= 2 * WRITERS
    for status, code in out.own_subfolder:
        assert 400 <= status < 500, out.own_subfolder
        assert status != 400 or code == "invalid_move", out.own_subfolder
    assert Counter(code for _status, code in out.own_subfolder)["invalid_move"] >= (
        len(out.own_subfolder) * 0.8
    ), out.own_subfolder

    # The operator's checks pass (each raises CommandError when it finds a problem).
    assert "consistent" in command("check_tree")
    assert "correct" in command("recompute_usage", "--check")

    # used_bytes is what the account's files and kept versions add up to.
    nodes = Node.objects.filter(owner=alice)
    files = nodes.filter(is_folder=False).aggregate(total=Sum("size"))["total"] or 0
    versions = (
        FileVersion.objects.filter(node__owner=alice).aggregate(total=Sum("size"))["total"] or 0
    )
    assert User.objects.get(pk=alice.pk).used_bytes == files + versions

    # Nothing live inside a trashed folder; no two live siblings with one name.
    live = nodes.filter(trashed_at__isnull=True)
    assert not live.filter(parent__trashed_at__isnull=False).exists()
    clashes = live.values("parent", "name").annotate(n=Count("id")).filter(n__gt=1)
    assert list(clashes) == []

    # Every live file downloads, with its recorded size and hash, and is bytes a client sent.
    live_files = list(live.filter(is_folder=False).values_list("pk", "size"))
    assert len(live_files) > WRITERS

    def fetch(item: tuple[int, int]) -> str | None:
        pk, size = item
        reply = server.request("GET", f"/api/v1/nodes/{pk}/content/", headers=auth)
        digest = hashlib.sha256(reply.body).hexdigest()
        if reply.status != 200 or len(reply.body) != size or shared.sent.get(digest) != size:
            return f"node {pk}: {reply.status}, {len(reply.body)} of {size} bytes"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [problem for problem in pool.map(fetch, live_files) if problem]
    assert problems == []
    print(
        f"{nodes.count()} nodes ({len(live_files)} live files), used_bytes {files + versions}; "
        f"whole test {time.monotonic() - started:.1f} s"
    )
