"""What a visitor holding a link can reach, and what they cannot."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from files import services as file_services
from files import tree
from files.models import Node
from sharing import services
from sharing.models import ShareAccess, ShareLink, SharingPolicy
from tests.files.conftest import received

pytestmark = pytest.mark.django_db


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def item(url: str, node: Node, suffix: str = "") -> str:
    return f"{url}items/{node.pk}/{suffix}"


# --- a shared file ----------------------------------------------------------------------


def test_a_file_link_shows_the_file_and_downloads_it(drive, share, visitor, alice):
    _, url = share(drive["report"])
    page = visitor.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "report.txt" in html and "1.8\xa0KB" in html
    assert alice.email not in html
    for other in ("Private", "secret.txt", "notes.txt", "photo.png"):
        assert other not in html
    assert page.headers["X-Robots-Tag"].startswith("noindex")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="robots" content="noindex' in html

    download = visitor.get(f"{url}download/")
    assert download.status_code == 200
    assert body(download) == b"quarterly numbers\n" * 100
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Referrer-Policy"] == "no-referrer"


def test_downloads_resume_and_seek_with_range(drive, share, visitor):
    _, url = share(drive["report"])
    partial = visitor.get(item(url, drive["report"], "content/"), headers={"Range": "bytes=18-35"})
    assert partial.status_code == 206
    assert body(partial) == b"quarterly numbers\n"
    assert partial.headers["Content-Range"] == "bytes 18-35/1800"
    beyond = visitor.get(item(url, drive["report"], "content/"), headers={"Range": "bytes=5000-"})
    assert beyond.status_code == 416


def test_an_image_previews_inline_and_html_never_does(drive, share, visitor, alice):
    _, url = share(drive["photo"])
    page = visitor.get(url).content.decode()
    assert f'src="{url}items/{drive["photo"].pk}/content/?inline=1"' in page
    inline = visitor.get(item(url, drive["photo"], "content/?inline=1"))
    assert inline.status_code == 200
    assert inline.headers["Content-Type"] == "image/png"
    assert inline.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in inline.headers["Content-Security-Policy"]

    page_html = file_services.file_upload(
        owner=alice,
        parent=drive["shared"],
        name="<img src=x onerror=alert(1)>.html",
        received=received(b"<script>alert(1)</script>"),
    )
    _, url = share(page_html)
    html = visitor.get(url).content.decode()
    assert "<img src=x onerror" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.html" in html
    forced = visitor.get(item(url, page_html, "content/?inline=1"))
    assert forced.headers["Content-Disposition"].startswith("attachment")
    assert forced.headers["Content-Type"] == "application/octet-stream"


# --- states ------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["expired", "revoked", "used_up", "trashed"])
def test_a_link_that_no_longer_works_says_so_and_shows_nothing(drive, share, visitor, state):
    link, url = share(drive["report"], max_access_count=1)
    if state == "expired":
        ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    elif state == "revoked":
        services.share_revoke(link=link)
    elif state == "used_up":
        assert Client().get(url).status_code == 200
    else:
        file_services.node_trash(node=drive["report"])
    for path in (url, f"{url}download/", item(url, drive["report"], "content/")):
        response = visitor.get(path)
        assert response.status_code == 410, path
        assert b"quarterly" not in body(response)
        assert b"report.txt" not in body(response)
    assert "no longer works" in visitor.get(url).content.decode()


def test_the_limit_counts_visits_not_every_click(drive, share):
    link, url = share(drive["shared"], max_access_count=2)
    first = Client()
    for path in (url, item(url, drive["sub"]), item(url, drive["report"], "content/"), url):
        assert first.get(path).status_code == 200
    link.refresh_from_db()
    assert link.access_count == 1
    # Clients without a session (scripts) count on every request.
    assert Client().get(item(url, drive["report"], "content/")).status_code == 200
    assert Client().get(url).status_code == 410
    link.refresh_from_db()
    assert link.access_count == 2
    assert link.state == ShareLink.State.USED_UP
    # Who was let in may finish what they were doing; a new visitor may not.
    assert first.get(item(url, drive["deep"], "content/")).status_code == 200
    counted = ShareAccess.objects.filter(link=link, counted=True).count()
    assert counted == 2
    # Only the visitor turned away is logged as refused, not the one who went on.
    refused = ShareAccess.objects.filter(link=link, action="refused")
    assert refused.count() == 1


# --- passwords ---------------------------------------------------------------------------


def test_a_password_link_opens_only_with_its_password(drive, share, visitor):
    link, url = share(drive["shared"], password="open sesame")
    page = visitor.get(url)
    assert page.status_code == 200
    assert "This link is protected" in page.content.decode()
    # Its form posts back to us, so the origin goes with it (never the URL elsewhere).
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert "report.txt" not in page.content.decode()
    assert visitor.get(item(url, drive["report"], "content/")).status_code == 403
    assert visitor.get(f"{url}zip/").status_code == 403

    wrong = visitor.post(url, {"password": "open says me"})
    assert wrong.status_code == 403
    assert "not right" in wrong.content.decode()
    assert visitor.post(url, {"password": "open sesame"}).status_code == 303
    assert "report.txt" in visitor.get(url).content.decode()
    assert body(visitor.get(item(url, drive["deep"], "content/"))) == b"deep down"
    # Another browser still needs it; a new password locks earlier visitors out.
    assert Client().get(item(url, drive["report"], "content/")).status_code == 403
    services.share_update(link=link, password="new one")
    assert "This link is protected" in visitor.get(url).content.decode()


def test_wrong_passwords_are_paused_per_link_and_address(drive, share):
    SharingPolicy.objects.update_or_create(pk=1, defaults={"password_attempts": 3})
    _, url = share(drive["report"], password="right")
    _, other_url = share(drive["report"], password="right")
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        assert guesser.post(url, {"password": "wrong"}).status_code == 403
    paused = guesser.post(url, {"password": "right"})
    assert paused.status_code == 429
    assert "Try again in 15 minutes" in paused.content.decode()
    # Another address, or another link, is not paused.
    assert Client(REMOTE_ADDR="203.0.113.10").post(url, {"password": "right"}).status_code == 303
    assert guesser.post(other_url, {"password": "right"}).status_code == 303
    # The pause ends.
    ShareAccess.objects.filter(action="password_failed").update(
        at=timezone.now() - timedelta(minutes=16)
    )
    assert guesser.post(url, {"password": "right"}).status_code == 303


def test_every_wrong_password_says_how_many_tries_are_left_and_the_last_starts_the_pause(
    drive, share
):
    SharingPolicy.objects.update_or_create(pk=1, defaults={"password_attempts": 3})
    _, url = share(drive["report"], password="right")
    guesser = Client(REMOTE_ADDR="203.0.113.9")
    first = guesser.post(url, {"password": "wrong"}).content.decode()
    assert "2 more tries before a pause." in first
    second = guesser.post(url, {"password": "wrong"}).content.decode()
    assert "1 more try before a pause." in second and "tries" not in second
    # The guess that starts the pause announces it, with when it ends.
    third = guesser.post(url, {"password": "wrong"})
    assert third.status_code == 403
    html = third.content.decode()
    assert "That was the last try for now. Try again in 15 minutes" in html
    # The moment is a <time> the browser shows in its own zone, readable without script.
    assert re.search(
        r'\(after <time datetime="\d{4}-\d\d-\d\dT\d\d:\d\dZ">[^<]+ UTC</time>\)', html
    )
    paused = guesser.post(url, {"password": "right"})
    assert paused.status_code == 429
    assert "Try again in 15 minutes" in paused.content.decode()


def test_the_private_label_is_not_shown_to_visitors(drive, share, visitor):
    for node in (drive["report"], drive["shared"]):
        _, url = share(node, label="for the accountant only")
        assert "for the accountant only" not in visitor.get(url).content.decode()
    _, drop_url = share(drive["sub"], permission="upload", label="for the accountant only")
    assert "for the accountant only" not in visitor.get(drop_url).content.decode()


# --- folder scope ------------------------------------------------------------------------


def test_a_folder_link_reaches_everything_below_and_nothing_else(drive, share, visitor, mallory):
    _, url = share(drive["shared"])
    page = visitor.get(url).content.decode()
    assert "report.txt" in page and "photo.png" in page and "Sub" in page
    assert "Private" not in page and "notes.txt" not in page
    assert "deep.txt" in visitor.get(item(url, drive["sub"])).content.decode()
    assert body(visitor.get(item(url, drive["deep"], "content/"))) == b"deep down"

    mallory_file = file_services.folder_create(
        owner=mallory, parent=tree.home_of(mallory), name="Mallory's"
    )
    outside = [drive["home"], drive["private"], drive["secret"], drive["notes"], mallory_file]
    for node in outside:
        for suffix in ("", "content/"):
            assert visitor.get(item(url, node, suffix)).status_code == 404, (node, suffix)
        assert visitor.get(f"{url}zip/?ids={drive['report'].pk},{node.pk}").status_code == 404
    for bad in ("../", "..%2F", "%2e%2e/", "0/", "-1/", "99999999/"):
        assert visitor.get(f"{url}items/{bad}").status_code == 404


def test_trashed_or_moved_out_items_stop_being_reachable(drive, share, visitor):
    _, url = share(drive["shared"])
    assert visitor.get(item(url, drive["report"], "content/")).status_code == 200
    file_services.node_trash(node=drive["report"])
    assert visitor.get(item(url, drive["report"], "content/")).status_code == 404
    assert "report.txt" not in visitor.get(url).content.decode()
    file_services.node_move(node=drive["sub"], new_parent=drive["private"])
    assert visitor.get(item(url, drive["sub"])).status_code == 404
    assert visitor.get(item(url, drive["deep"], "content/")).status_code == 404


def test_a_folder_downloads_as_a_zip_of_what_is_shared(drive, share, visitor):
    _, url = share(drive["shared"])
    archive = zipfile.ZipFile(io.BytesIO(body(visitor.get(f"{url}zip/"))))
    assert sorted(archive.namelist()) == [
        "Shared/",
        "Shared/Sub/",
        "Shared/Sub/deep.txt",
        "Shared/photo.png",
        "Shared/report.txt",
    ]
    picked = visitor.get(f"{url}zip/?ids={drive['report'].pk}&ids={drive['deep'].pk}")
    archive = zipfile.ZipFile(io.BytesIO(body(picked)))
    assert sorted(archive.namelist()) == ["deep.txt", "report.txt"]
    assert archive.read("deep.txt") == b"deep down"


def test_a_view_only_link_previews_but_does_not_download(drive, share, visitor):
    _, url = share(drive["shared"], permission="view")
    page = visitor.get(url).content.decode()
    assert "Download all" not in page
    assert visitor.get(item(url, drive["photo"], "content/?inline=1")).status_code == 200
    assert visitor.get(item(url, drive["photo"], "content/")).status_code == 403
    assert visitor.get(item(url, drive["report"], "content/")).status_code == 403
    assert visitor.get(f"{url}zip/").status_code == 403
    assert visitor.get(f"{url}download/").status_code == 403


# --- drop folders ------------------------------------------------------------------------


def test_a_drop_folder_takes_files_and_shows_none(drive, share, visitor, alice):
    link, url = share(drive["shared"], permission="upload")
    page = visitor.get(url).content.decode()
    assert "Upload files to “Shared”" in page
    for existing in ("report.txt", "photo.png", "Sub"):
        assert existing not in page
    assert visitor.get(item(url, drive["sub"])).status_code == 404
    assert visitor.get(item(url, drive["report"], "content/")).status_code == 404
    assert visitor.get(f"{url}zip/").status_code == 404
    alice.refresh_from_db()
    used = alice.used_bytes

    token = visitor.cookies["csrftoken"].value
    sent = visitor.put(
        f"{url}upload/?name=report.txt&uploader=Bob%20B.",
        b"bob's report",
        content_type="application/octet-stream",
        headers={"X-CSRFToken": token},
    )
    assert sent.status_code == 201
    # The answer echoes what was sent, not the name it was stored under ("report (1).txt").
    assert sent.json() == {"received": "report.txt", "size": 12}
    stored = Node.objects.get(parent=drive["shared"], name="report (1).txt")
    assert stored.owner == alice and stored.size == 12
    assert Node.objects.get(pk=drive["report"].pk).size == 1800  # nothing replaced
    alice.refresh_from_db()
    assert alice.used_bytes == used + 12
    log = ShareAccess.objects.get(link=link, action="upload")
    assert (log.uploader_name, log.item_name, log.node) == ("Bob B.", "report (1).txt", stored)
    assert "report.txt" in visitor.get(url).content.decode()  # "sent in this visit"


def test_a_drop_folder_takes_a_plain_form_upload(drive, share, visitor):
    _, url = share(drive["shared"], permission="upload")
    visitor.get(url)
    first = io.BytesIO(b"one")
    first.name = "one.txt"
    second = io.BytesIO(b"two")
    second.name = "two.txt"
    response = visitor.post(f"{url}upload/", {"file": [first, second], "uploader": "Carol"})
    assert response.status_code == 303
    names = set(Node.objects.filter(parent=drive["shared"]).values_list("name", flat=True))
    assert {"one.txt", "two.txt"} <= names
    assert "2 files received" in visitor.get(url).content.decode()


def test_drop_uploads_respect_the_owners_quota_and_refuse_bad_input(drive, share, visitor, alice):
    _, url = share(drive["shared"], permission="upload")
    visitor.get(url)
    token = visitor.cookies["csrftoken"].value
    alice.quota_bytes = alice.used_bytes + 5
    alice.save()
    full = visitor.put(
        f"{url}upload/?name=big.bin",
        b"0123456789",
        content_type="application/octet-stream",
        headers={"X-CSRFToken": token},
    )
    assert full.status_code == 413
    assert "space" in full.json()["detail"]
    bad_name = visitor.put(
        f"{url}upload/?name=a/b.txt",
        b"x",
        content_type="application/octet-stream",
        headers={"X-CSRFToken": token},
    )
    assert bad_name.status_code == 400
    no_csrf = Client(enforce_csrf_checks=True)
    no_csrf.get(url)
    assert (
        no_csrf.put(f"{url}upload/?name=x.txt", b"x", content_type="application/octet-stream")
    ).status_code == 403
    assert not Node.objects.filter(name__in=["big.bin", "x.txt"]).exists()
    # A download link takes no uploads.
    _, download_url = share(drive["shared"])
    visitor.get(download_url)
    refused = visitor.put(
        f"{download_url}upload/?name=x.txt",
        b"x",
        content_type="application/octet-stream",
        headers={"X-CSRFToken": token},
    )
    assert refused.status_code == 403


def test_the_access_log_records_what_visitors_did(drive, share, alice):
    link, url = share(drive["shared"])
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    browser.get(url)
    browser.get(item(url, drive["report"], "content/"))
    browser.get(item(url, drive["report"], "content/"), headers={"Range": "bytes=100-"})
    browser.get(f"{url}zip/")
    actions = list(
        ShareAccess.objects.filter(link=link).order_by("at", "id").values_list("action", "counted")
    )
    assert actions == [("visit", True), ("download", False), ("zip", False)]
    entry = ShareAccess.objects.filter(link=link).first()
    assert entry.client == "Firefox on Linux"
    assert entry.ip_address == "127.0.0.1"
    link.refresh_from_db()
    assert link.last_accessed_at is not None


def test_addresses_are_forgotten_after_the_retention_period(drive, share, visitor):
    link, url = share(drive["report"])
    visitor.get(url)
    old = ShareAccess.objects.get(link=link)
    ShareAccess.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=8))
    assert services.addresses_to_forget().get() == old
    # The next line written to any log erases addresses past the retention (7 days).
    visitor.get(f"{url}download/")
    old.refresh_from_db()
    assert old.ip_address is None and old.client_key
    assert list(ShareAccess.objects.filter(ip_address__isnull=False)) == [
        ShareAccess.objects.get(action="download")
    ]
    SharingPolicy.objects.filter(pk=1).update(ip_retention_days=0)
    Client().get(url)
    assert ShareAccess.objects.order_by("-id").first().ip_address is None


def test_last_access_moves_at_most_once_a_minute_within_a_visit(drive, share, visitor):
    link, url = share(drive["shared"])
    visitor.get(url)
    earlier = timezone.now() - timedelta(minutes=2)
    ShareLink.objects.filter(pk=link.pk).update(last_accessed_at=earlier)
    visitor.get(item(url, drive["sub"]))
    link.refresh_from_db()
    moved = link.last_accessed_at
    assert moved > earlier
    for _ in range(3):  # a video's ranges, more folder pages: no write each time
        visitor.get(item(url, drive["report"], "content/"), headers={"Range": "bytes=0-1"})
    link.refresh_from_db()
    assert link.last_accessed_at == moved
    assert link.access_count == 1


def test_public_pages_load_nothing_from_elsewhere(drive, share, visitor):
    """No third-party resources: every src/href on the pages stays on our origin."""
    pages = [
        share(drive["photo"])[1],
        share(drive["shared"])[1],
        share(drive["shared"], permission="upload")[1],
        share(drive["report"], password="pw")[1],
    ]
    for url in pages:
        html = visitor.get(url).content.decode()
        references = re.findall(r'(?:src|href|action)="([^"]*)"', html)
        assert references, url
        outside = [r for r in references if not r.startswith(("/", "#", "data:", "?"))]
        assert outside == [], (url, outside)


def test_a_zip_of_a_selection_costs_the_same_queries_for_3_items_as_for_40(drive, share, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    many = [
        file_services.file_upload(
            owner=alice, parent=drive["sub"], name=f"f{i}.txt", received=received(b"x")
        )
        for i in range(40)
    ]
    _, url = share(drive["shared"])

    def queries_for(nodes):
        client = Client()  # a fresh visitor each time: the visit is counted the same way
        ids = ",".join(str(node.pk) for node in nodes)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{url}zip/?ids={ids}")
            archive = zipfile.ZipFile(io.BytesIO(body(response)))
        assert len(archive.namelist()) == len(nodes)
        return len(captured)

    assert queries_for(many[:3]) == queries_for(many)


@pytest.mark.parametrize(
    "ids", ["", "x", "1,,y", "99999999999999999999999", "0", ",".join(["1"] * 1001)]
)
def test_a_bad_selection_on_a_link_is_a_400_saying_so(drive, share, visitor, ids):
    _, url = share(drive["shared"])
    response = visitor.get(f"{url}zip/?ids={ids}")
    if ids == "":
        assert response.status_code == 200  # no selection: the whole folder
        return
    assert response.status_code == 400
    assert "select" in response.content.decode().lower()


def test_a_selection_reaching_outside_the_link_is_a_404(drive, share, visitor):
    _, url = share(drive["shared"])
    for outside in (drive["secret"], drive["notes"], drive["home"]):
        response = visitor.get(f"{url}zip/?ids={drive['report'].pk},{outside.pk}")
        assert response.status_code == 404


def _drop_put(client, url, name="a.txt", body=b"abc", **extra):
    return client.put(
        f"{url}upload/?name={name}", body, content_type="application/octet-stream", **extra
    )


@pytest.mark.parametrize("refusal", ["chunked", "over_quota", "bad_name", "no_files"])
def test_a_refused_drop_upload_uses_up_no_visit(drive, share, alice, refusal):
    link, url = share(drive["shared"], permission="upload", max_access_count=1)
    script = Client()  # keeps no cookies: every request it makes would count
    if refusal == "chunked":
        response = _drop_put(script, url, HTTP_TRANSFER_ENCODING="chunked")
        expected = 411
    elif refusal == "over_quota":
        alice.quota_bytes = alice.used_bytes + 1
        alice.save()
        response = _drop_put(script, url)
        expected = 413
    elif refusal == "bad_name":  # refused by the service, after the body was read
        response = _drop_put(script, url, name="a/b.txt")
        expected = 400
    else:
        response = script.post(f"{url}upload/", {"uploader": "Dan"})
        expected = 400
    assert response.status_code == expected, response.content[:300]
    link.refresh_from_db()
    assert link.access_count == 0
    # The one visit the link allows is still there for the next visitor.
    assert Client().get(url).status_code == 200
    link.refresh_from_db()
    assert link.access_count == 1
    assert Client().get(url).status_code == 410


def test_a_stored_drop_upload_counts_its_visit(drive, share):
    link, url = share(drive["shared"], permission="upload", max_access_count=1)
    assert _drop_put(Client(), url).status_code == 201
    link.refresh_from_db()
    assert link.access_count == 1
    assert _drop_put(Client(), url, name="b.txt").status_code == 410
    assert not Node.objects.filter(name="b.txt").exists()
