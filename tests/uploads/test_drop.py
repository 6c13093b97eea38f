"""Resumable uploads into a share link's drop folder: /s/<token>/uploads/."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections, transaction
from django.test import Client
from django.utils import timezone

from files import tree
from files.models import Node
from sharing import services as share_services
from sharing.models import ShareAccess, ShareLink
from tests.uploads.conftest import CHUNK, TUS, metadata

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(alice: Any) -> Node:
    return tree.insert(Node(owner=alice, name="Inbox", is_folder=True), tree.home_of(alice))


def drop(alice: Any, folder: Node, **options: Any) -> tuple[ShareLink, str]:
    link, token = share_services.share_create(
        owner=alice, node=folder, permission=ShareLink.Permission.UPLOAD, **options
    )
    return link, f"/s/{token}/"


def visitor_of(url: str) -> tuple[Client, dict[str, str]]:
    """A browser that opened ``url`` (and has a CSRF cookie from the log-in page)."""
    visitor = Client(enforce_csrf_checks=True)
    visitor.get("/account/login/")
    if url:
        visitor.get(url)
    return visitor, {"HTTP_X_CSRFTOKEN": visitor.cookies["csrftoken"].value}


def start(visitor: Client, url: str, csrf: dict[str, str], length: int, **meta: str) -> Any:
    return visitor.generic(
        "POST",
        f"{url}uploads/",
        **TUS,
        **csrf,
        HTTP_UPLOAD_LENGTH=str(length),
        HTTP_UPLOAD_METADATA=metadata(**meta),
    )


def send(visitor: Client, location: str, csrf: dict[str, str], offset: int, body: bytes) -> Any:
    return visitor.generic(
        "PATCH",
        location.removeprefix("http://testserver"),
        body,
        content_type=CHUNK,
        **TUS,
        **csrf,
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def test_a_drop_folder_takes_a_resumable_upload_counted_once(alice: Any, inbox: Node) -> None:
    link, url = drop(alice, inbox, max_access_count=1)
    visitor_of(url)  # someone opens the page: the one visit the link allows
    # Another client: its upload's creation is an access of its own.
    script, script_csrf = visitor_of("")
    refused = start(script, url, script_csrf, 6, filename="late.txt")
    assert refused.status_code == 410
    ShareLink.objects.filter(pk=link.pk).update(max_access_count=2)
    created = start(script, url, script_csrf, 6, filename="notes.txt", uploader="Bob")
    assert created.status_code == 201, created.content
    link.refresh_from_db()
    assert link.access_count == 2
    location = created["Location"]
    assert send(script, location, script_csrf, 0, b"abc").status_code == 204
    # More chunks and a HEAD do not count again, though the link is used up now.
    head = script.head(location.removeprefix("http://testserver"), **TUS)
    assert head["Upload-Offset"] == "3"
    assert send(script, location, script_csrf, 3, b"def").status_code == 204
    link.refresh_from_db()
    assert link.access_count == 2
    stored = Node.objects.get(parent=inbox, name="notes.txt")
    assert stored.owner == alice and stored.size == 6
    log = ShareAccess.objects.filter(link=link, action="upload", node=stored).get()
    assert log.uploader_name == "Bob"


def test_a_taken_name_is_renamed_never_replaced(alice: Any, inbox: Node) -> None:
    _, url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    for _ in range(2):
        created = start(visitor, url, csrf, 2, filename="a.txt", on_conflict="replace")
        assert send(visitor, created["Location"], csrf, 0, b"hi").status_code == 204
    names = set(Node.objects.filter(parent=inbox).values_list("name", flat=True))
    assert names == {"a.txt", "a (1).txt"}


def test_the_visitor_cannot_choose_another_folder(alice: Any, inbox: Node) -> None:
    _, url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    home = tree.home_of(alice)
    created = start(visitor, url, csrf, 2, filename="x.txt", parent=str(home.pk), path="/")
    send(visitor, created["Location"], csrf, 0, b"hi")
    assert Node.objects.get(name="x.txt").parent_id == inbox.pk


def test_the_owners_quota_applies_without_naming_figures(alice: Any, inbox: Node) -> None:
    _, url = drop(alice, inbox)
    alice.quota_bytes = 100
    alice.save()
    visitor, csrf = visitor_of(url)
    refused = start(visitor, url, csrf, 101, filename="big.bin")
    assert refused.status_code == 413
    assert "100" not in refused.json()["detail"]


def test_upload_urls_answer_only_through_their_link(
    alice: Any, inbox: Node, bearer_api: Any
) -> None:
    _, url = drop(alice, inbox)
    _, other_url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    location = start(visitor, url, csrf, 4, filename="a.txt")["Location"]
    upload_id = location.rsplit("/", 1)[1]
    elsewhere = f"http://testserver{other_url}uploads/{upload_id}"
    assert send(visitor, elsewhere, csrf, 0, b"abcd").status_code == 404
    # Not through the API either, not even for the folder's owner.
    assert bearer_api.head(f"/api/v1/uploads/{upload_id}", **TUS).status_code == 404


def test_a_revoked_or_expired_link_stops_its_uploads(alice: Any, inbox: Node) -> None:
    link, url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    location = start(visitor, url, csrf, 4, filename="a.txt")["Location"]
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert send(visitor, location, csrf, 0, b"abcd").status_code == 410
    assert not Node.objects.filter(name="a.txt").exists()


def test_drop_tus_is_csrf_checked(alice: Any, inbox: Node) -> None:
    _, url = drop(alice, inbox)
    visitor, _csrf = visitor_of(url)
    assert start(visitor, url, {}, 4, filename="a.txt").status_code == 403


def test_a_view_link_takes_no_uploads(alice: Any, inbox: Node) -> None:
    _, token = share_services.share_create(owner=alice, node=inbox)
    visitor, csrf = visitor_of(f"/s/{token}/")
    refused = start(visitor, f"/s/{token}/", csrf, 4, filename="a.txt")
    assert refused.status_code == 403


def test_a_drop_upload_whose_store_died_is_stored_by_its_head_under_the_links_rules(
    alice: Any, inbox: Node, settings: Any
) -> None:
    """Through the link too: the HEAD stores a complete upload whose worker died, renamed
    (never replacing) and logged as the link's upload with the visitor's name."""
    from pathlib import Path

    from uploads.models import TusUpload

    link, url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    first = start(visitor, url, csrf, 2, filename="scan.pdf")
    assert send(visitor, first["Location"], csrf, 0, b"hi").status_code == 204
    created = start(visitor, url, csrf, 10, filename="scan.pdf", uploader="Bob")
    location = created["Location"]
    assert send(visitor, location, csrf, 0, b"12345").status_code == 204
    upload = TusUpload.objects.get()
    with open(Path(settings.FILE_UPLOAD_TEMP_DIR) / "tus" / f"{upload.pk}.part", "ab") as part:
        part.write(b"67890")  # what the killed worker had received and committed
    TusUpload.objects.filter(pk=upload.pk).update(offset=10)
    answer = visitor.head(location.removeprefix("http://testserver"), **TUS, **csrf)
    assert answer.status_code == 200, answer.content
    stored = Node.objects.get(parent=inbox, name="scan (1).pdf")
    assert answer["FileFlow-Node-Id"] == str(stored.pk)
    assert stored.size == 10
    log = ShareAccess.objects.get(link=link, action=ShareAccess.Action.UPLOAD, node=stored)
    assert log.uploader_name == "Bob"
    assert TusUpload.objects.count() == 0


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def _stranded_by_gc(settings: Any, location: str, content: bytes) -> None:
    """The visitor's last chunk arrived, the worker died before storing the file, nobody
    came back: gc stores it (its last byte came over a minute ago)."""
    from django.core.management import call_command

    from tests.uploads.conftest import Backend, strand
    from uploads.models import TusUpload

    strand(Backend("local", settings), location.removeprefix("http://testserver"), content)
    written = timezone.now() - timedelta(minutes=5)
    TusUpload.objects.update(expires_at=written + settings.FILEFLOW_UPLOAD_EXPIRY)
    call_command("gc", stdout=io.StringIO())
    assert TusUpload.objects.count() == 0


def _entry(access: ShareAccess) -> dict[str, Any]:
    return {
        field: getattr(access, field)
        for field in (
            "link_id",
            "action",
            "counted",
            "uploader_name",
            "client",
            "client_key",
            "ip_address",
        )
    }


def test_gc_storing_a_drop_upload_logs_the_entry_the_visitors_request_does(
    alice: Any, inbox: Node, settings: Any
) -> None:
    """Two uploads by one visitor: the first stored by their own last chunk, the second by
    gc after the worker storing it died. Each file has one log entry, the same but for the
    file; the activity log names the link for both."""
    from files.models import Activity

    link, url = drop(alice, inbox)
    visitor = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=FIREFOX)
    visitor.get("/account/login/")
    visitor.get(url)
    csrf = {"HTTP_X_CSRFTOKEN": visitor.cookies["csrftoken"].value}
    first = start(visitor, url, csrf, 6, filename="one.txt", uploader=" Bob  B. ")
    assert send(visitor, first["Location"], csrf, 0, b"abcdef").status_code == 204
    second = start(visitor, url, csrf, 6, filename="two.txt", uploader=" Bob  B. ")
    assert send(visitor, second["Location"], csrf, 0, b"123").status_code == 204
    _stranded_by_gc(settings, second["Location"], b"123456")

    one = Node.objects.get(parent=inbox, name="one.txt")
    two = Node.objects.get(parent=inbox, name="two.txt")
    assert two.size == 6
    by_request = ShareAccess.objects.get(link=link, node=one)
    by_gc = ShareAccess.objects.get(link=link, node=two)
    assert _entry(by_request) == _entry(by_gc)
    assert _entry(by_gc) == {
        "link_id": link.pk,
        "action": ShareAccess.Action.UPLOAD,
        "counted": False,
        "uploader_name": "Bob B.",
        "client": "Firefox on Linux",
        "client_key": by_request.client_key,
        "ip_address": "127.0.0.1",
    }
    assert by_gc.client_key and by_gc.item_name == "two.txt"
    labels = dict(Activity.objects.filter(node__in=[one, two]).values_list("node_id", "link_label"))
    assert labels[one.pk] == labels[two.pk] == f"#{link.pk}"


def test_a_drop_upload_keeps_no_address_when_the_policy_keeps_none(
    alice: Any, inbox: Node, settings: Any
) -> None:
    from sharing.models import SharingPolicy
    from uploads.models import TusUpload

    policy = SharingPolicy.current()
    policy.ip_retention_days = 0
    policy.save()
    link, url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    created = start(visitor, url, csrf, 6, filename="a.txt")
    assert send(visitor, created["Location"], csrf, 0, b"abc").status_code == 204
    assert TusUpload.objects.get().visitor_address is None
    _stranded_by_gc(settings, created["Location"], b"abcdef")
    stored = Node.objects.get(parent=inbox, name="a.txt")
    assert ShareAccess.objects.get(link=link, node=stored).ip_address is None


def test_gc_stores_no_drop_upload_through_a_link_revoked_meanwhile(
    alice: Any, inbox: Node, settings: Any
) -> None:
    """The visitor's own requests stop when the link is revoked; so does gc: the upload
    ends, its bytes and its reserved space go, and nothing lands in the folder."""
    link, url = drop(alice, inbox)
    visitor, csrf = visitor_of(url)
    created = start(visitor, url, csrf, 6, filename="late.txt")
    assert send(visitor, created["Location"], csrf, 0, b"abc").status_code == 204
    share_services.share_revoke(link=link)
    _stranded_by_gc(settings, created["Location"], b"abcdef")
    assert not Node.objects.filter(parent=inbox).exists()
    assert not ShareAccess.objects.filter(node__isnull=False).exists()
    assert not list((Path(settings.FILE_UPLOAD_TEMP_DIR) / "tus").iterdir())
    alice.refresh_from_db()
    assert (alice.used_bytes, alice.reserved_bytes) == (0, 0)


# --- the visitor's address on an unfinished upload: kept no longer than the policy says ---


def _retention(days: int) -> None:
    from sharing.models import SharingPolicy

    policy = SharingPolicy.current()
    policy.ip_retention_days = days
    policy.save()


def _started(url: str, name: str) -> tuple[Client, dict[str, str], str]:
    """A visitor who started a 6-byte upload and sent 3 bytes of it."""
    visitor, csrf = visitor_of(url)
    location = start(visitor, url, csrf, 6, filename=name)["Location"]
    assert send(visitor, location, csrf, 0, b"abc").status_code == 204
    assert _address(location) == "127.0.0.1"
    return visitor, csrf, location


def _age(location: str, hours: float) -> None:
    """As if the upload had started ``hours`` ago."""
    from uploads.models import TusUpload

    TusUpload.objects.filter(pk=location.rsplit("/", 1)[1]).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def _address(location: str) -> str | None:
    from uploads.models import TusUpload

    return TusUpload.objects.get(pk=location.rsplit("/", 1)[1]).visitor_address


def test_the_daily_job_erases_the_address_of_an_upload_started_before_the_retention(
    alice: Any, inbox: Node
) -> None:
    from django.core.management import call_command

    _retention(1)
    _, url = drop(alice, inbox)
    _, _, old = _started(url, "old.txt")
    _, _, new = _started(url, "new.txt")
    _age(old, 25)
    _age(new, 23)
    ShareAccess.objects.update(ip_address=None)  # the visits' lines: not what this is about
    out = io.StringIO()
    call_command("forget_share_addresses", "--dry-run", stdout=out)
    assert "Would erase 1 address older than 1 day" in out.getvalue()
    assert _address(old) == "127.0.0.1"
    call_command("forget_share_addresses", stdout=out)
    assert "Erased 1 address older than 1 day" in out.getvalue()
    assert (_address(old), _address(new)) == (None, "127.0.0.1")


def test_no_address_stays_on_an_upload_once_the_policy_keeps_none(alice: Any, inbox: Node) -> None:
    from sharing.tasks import forget_share_addresses

    _retention(7)
    _, url = drop(alice, inbox)
    visitor, csrf, location = _started(url, "a.txt")
    _retention(0)
    visits = ShareAccess.objects.filter(ip_address__isnull=False).count()
    assert forget_share_addresses.call() == visits + 1
    assert _address(location) is None
    assert send(visitor, location, csrf, 3, b"def").status_code == 204
    stored = Node.objects.get(parent=inbox, name="a.txt")
    assert ShareAccess.objects.get(node=stored).ip_address is None


def test_any_entry_in_the_access_log_erases_old_addresses_on_uploads_too(
    alice: Any, inbox: Node
) -> None:
    """As with the log's own lines, a server without the daily job keeps no address longer."""
    _retention(1)
    _, url = drop(alice, inbox)
    _, _, old = _started(url, "old.txt")
    visitor, csrf, location = _started(url, "new.txt")
    _age(old, 30)
    assert send(visitor, location, csrf, 3, b"def").status_code == 204
    stored = Node.objects.get(parent=inbox, name="new.txt")
    assert ShareAccess.objects.get(node=stored).ip_address == "127.0.0.1"
    assert _address(old) is None


@pytest.mark.parametrize("finisher", ["visitor", "gc"])
def test_an_upload_finished_after_the_retention_logs_no_address(
    alice: Any, inbox: Node, settings: Any, finisher: str
) -> None:
    """Even when nothing erased it from the upload yet: the address was taken when the
    upload started, and that is what the policy's days count from."""
    _retention(1)
    link, url = drop(alice, inbox)
    visitor, csrf, late = _started(url, "late.txt")
    _, _, recent = _started(url, "recent.txt")
    _age(late, 25)
    _age(recent, 23)
    if finisher == "visitor":
        for location in (late, recent):
            assert send(visitor, location, csrf, 3, b"def").status_code == 204
    else:
        from tests.uploads.conftest import Backend, strand

        strand(Backend("local", settings), late.removeprefix("http://testserver"), b"abcdef")
        _stranded_by_gc(settings, recent, b"abcdef")
    logged = dict(
        ShareAccess.objects.filter(link=link, node__isnull=False).values_list(
            "item_name", "ip_address"
        )
    )
    assert logged == {"late.txt": None, "recent.txt": "127.0.0.1"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_erasing_addresses_passes_over_an_upload_a_request_holds(alice: Any) -> None:
    """A request finishing an upload holds its row (it deletes it) while it writes its log
    entry, which erases old addresses: waiting for another such request's row could make
    two of them wait for each other. A held row is left for the next run."""
    from sharing.services import addresses_forget
    from uploads.models import TusUpload

    _retention(1)
    inbox = tree.insert(Node(owner=alice, name="Inbox", is_folder=True), tree.home_of(alice))
    _, url = drop(alice, inbox)
    _, _, held = _started(url, "held.txt")
    _, _, free = _started(url, "free.txt")
    _age(held, 30)
    _age(free, 30)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                TusUpload.objects.select_for_update().get(pk=held.rsplit("/", 1)[1])
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    other = threading.Thread(target=hold)
    other.start()
    try:
        assert holding.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")  # a wait fails the test, never hangs it
        try:
            addresses_forget()
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")
        assert (_address(held), _address(free)) == ("127.0.0.1", None)
    finally:
        release.set()
        other.join()
    addresses_forget()
    assert _address(held) is None
