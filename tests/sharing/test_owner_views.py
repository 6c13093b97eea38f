"""The owner's share-link pages with Django's test client: "Shared by me" (filter by state),
one link with its access log, edit, revoke and create — all without JavaScript — and
mallory never reaching alice's links (404, never 403)."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from files import services as file_services
from files.ingest import receive_stream
from files.models import Node
from sharing import services
from sharing.forms import LOCAL_MINUTE
from sharing.models import ShareAccess, ShareLink, SharingPolicy

pytestmark = pytest.mark.django_db

LIST = "/shares/"


def a_file(owner: Any, path: str, content: bytes = b"hello") -> Node:
    received = receive_stream(io.BytesIO(content).read, length=len(content))
    return file_services.file_upload_to_path(owner=owner, path=path, received=received)


def a_folder(owner: Any, path: str) -> Node:
    return file_services.folder_ensure_path(owner=owner, path=path)


def a_link(owner: Any, node: Node, **kwargs: Any) -> ShareLink:
    link, _token = services.share_create(owner=owner, node=node, **kwargs)
    return link


def local(moment: datetime) -> str:
    """A moment as a datetime-local field sends it."""
    return timezone.localtime(moment).strftime(LOCAL_MINUTE)


def text(response: Any) -> str:
    return response.content.decode()


def link_ids(response: Any) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-link-id="(\d+)"', text(response))}


def field_error(response: Any, field: str) -> str:
    """The error shown under one field of the form (empty if none)."""
    found = re.search(rf'id="id_{field}_error"[^>]*>(.*?)</div>', text(response), re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)).strip() if found else ""


def create_form(response: Any, form_id: str = "share-create-form") -> str:
    """A no-JS form of the page (not the script's dialog, also in the page)."""
    found = re.search(rf'id="{form_id}".*?</form>', text(response), re.S)
    return found.group(0) if found else ""


def edit_form(response: Any) -> str:
    return create_form(response, "share-edit-form")


def visitor() -> services.Visitor:
    return services.Visitor(address="192.0.2.7", client="Firefox on Linux")


@pytest.fixture
def web(alice: Any) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def mallory_web(mallory: Any) -> Client:
    client = Client()
    client.force_login(mallory)
    return client


@pytest.fixture
def links(alice: Any) -> dict[str, ShareLink]:
    """One link of alice in each state."""
    report = a_file(alice, "/Work/report.pdf", b"%PDF-1.4 report")
    photos = a_folder(alice, "/Photos")
    inbox = a_folder(alice, "/Inbox")
    active = a_link(alice, report, label="for the accountant", max_access_count=5, password="pw1")
    expired = a_link(alice, photos, permission=ShareLink.Permission.VIEW)
    ShareLink.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    revoked = services.share_revoke(link=a_link(alice, photos))
    used_up = a_link(alice, inbox, permission=ShareLink.Permission.UPLOAD, max_access_count=1)
    assert services.share_count_access(link=used_up)
    for link in (active, expired, revoked, used_up):
        link.refresh_from_db()
    assert [active.state, expired.state, revoked.state, used_up.state] == [
        "active",
        "expired",
        "revoked",
        "used_up",
    ]
    return {"active": active, "expired": expired, "revoked": revoked, "used_up": used_up}


# --- Shared by me ------------------------------------------------------------------------


def test_shared_by_me_lists_every_link_with_its_facts(
    web: Client, links: dict[str, ShareLink]
) -> None:
    response = web.get(LIST)
    assert response.status_code == 200
    page = text(response)
    assert link_ids(response) == {link.pk for link in links.values()}
    assert "report.pdf" in page and "/Work/report.pdf" in page and "/Photos" in page
    assert "for the accountant" in page
    assert "View and download" in page and "View only" in page
    assert "Upload only (drop folder)" in page
    assert 'aria-label="Password protected"' in page
    # Accesses against the limit, and every state named.
    assert re.search(r'class="num share-count">0 / 5<', page)
    assert re.search(r'class="num share-count">1 / 1<', page)
    for label in ("Active", "Expired", "Revoked", "Used up"):
        assert f">{label}</span>" in page
    # The owner can copy the active link's full address; dead links offer no copy button.
    token = services.share_token(links["active"])
    assert f'data-copy="http://testserver/s/{token}/"' in page
    assert page.count("data-copy=") == 1
    # Revoke is a plain form for the links still live.
    assert page.count('name="action" value="revoke"') == 3
    # The sidebar marks the page.
    assert re.search(r'href="/shares/" aria-current="page"', page)


@pytest.mark.parametrize("state", ["active", "expired", "revoked", "used_up"])
def test_filter_by_state(web: Client, links: dict[str, ShareLink], state: str) -> None:
    response = web.get(LIST, {"state": state})
    assert response.status_code == 200
    expected_visible = {links[state].pk}
    expected_hidden = {link.pk for name, link in links.items() if name != state}
    assert link_ids(response) == expected_visible
    assert not link_ids(response) & expected_hidden
    # The tab of the state is current, and every tab counts its links.
    assert re.search(rf'href="\?state={state}" aria-current="page"', text(response))
    assert re.search(r'>All <span class="tab-count">4</span>', text(response))


def test_filter_by_item_shows_only_its_links_and_a_create_form(
    web: Client, alice: Any, links: dict[str, ShareLink]
) -> None:
    photos = links["expired"].node
    response = web.get(LIST, {"node": photos.pk})
    assert response.status_code == 200
    assert link_ids(response) == {links["expired"].pk, links["revoked"].pk}
    assert "Links to “Photos”" in text(response)
    # A folder may become a drop folder; a file may not.
    assert 'value="upload"' in create_form(response)
    report = links["active"].node
    form = create_form(web.get(LIST, {"node": report.pk}))
    assert 'value="download"' in form
    assert 'value="upload"' not in form


def test_empty_and_paged_list(web: Client, alice: Any) -> None:
    response = web.get(LIST)
    assert response.status_code == 200
    assert "Nothing shared yet" in text(response)
    note = a_file(alice, "/note.txt")
    made = [a_link(alice, note) for _ in range(52)]
    first = web.get(LIST)
    second = web.get(LIST, {"page": 2})
    assert len(link_ids(first)) == 50
    assert "Next page" in text(first)
    assert link_ids(first) | link_ids(second) == {link.pk for link in made}
    assert len(link_ids(second)) == 2
    assert "Previous page" in text(second)


@pytest.mark.parametrize(
    "query",
    [{"state": "bogus"}, {"page": "0"}, {"page": "two"}, {"node": "abc"}, {"node": "-3"}],
)
def test_bad_list_queries_are_400(web: Client, query: dict[str, str]) -> None:
    response = web.get(LIST, query)
    assert response.status_code == 400
    assert next(iter(query)) in text(response)


# --- one link ----------------------------------------------------------------------------


def test_detail_shows_the_link_its_facts_and_access_log(
    web: Client, links: dict[str, ShareLink]
) -> None:
    link = links["used_up"]
    services.access_log(link=link, action=ShareAccess.Action.VISIT, visitor=visitor(), counted=True)
    dropped = a_file(link.created_by, "/Inbox/scan.pdf", b"%PDF scan")
    services.access_log(
        link=link,
        action=ShareAccess.Action.UPLOAD,
        visitor=visitor(),
        node=dropped,
        uploader_name="Bob Builder",
    )
    response = web.get(reverse("sharing:detail", args=[link.pk]))
    assert response.status_code == 200
    page = text(response)
    token = services.share_token(link)
    assert f'value="http://testserver/s/{token}/"' in page
    assert "used as many times as its limit allows" in page
    assert "Upload only (drop folder)" in page
    assert "Opened the link" in page and "Uploaded a file" in page
    assert "scan.pdf" in page and "Bob Builder" in page and "Firefox on Linux" in page
    # The visitor's address is for operators, not shown to the owner.
    assert "192.0.2.7" not in page
    assert 'id="share-edit-form"' in page


def test_access_log_is_paged(web: Client, links: dict[str, ShareLink]) -> None:
    link = links["active"]
    for _ in range(55):
        services.access_log(link=link, action=ShareAccess.Action.DOWNLOAD, visitor=visitor())
    url = reverse("sharing:detail", args=[link.pk])
    first = web.get(url)
    second = web.get(url, {"page": 2})
    rows = 'class="access-download"'
    assert text(first).count(rows) == 50
    assert "Older entries" in text(first)
    assert text(second).count(rows) == 5
    assert "Newer entries" in text(second)
    assert web.get(url, {"page": "x"}).status_code == 400


def test_edit_without_javascript(web: Client, links: dict[str, ShareLink]) -> None:
    link = links["active"]
    url = reverse("sharing:detail", args=[link.pk])
    new_expiry = timezone.now() + timedelta(days=3)
    response = web.post(
        url,
        {
            "action": "update",
            "permission": "view",
            "expires_at": local(new_expiry),
            "max_access_count": "12",
            "password": "new secret",
            "label": "  for   Bob  ",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url
    link.refresh_from_db()
    assert link.permission == "view"
    assert link.max_access_count == 12
    assert link.label == "for Bob"
    assert check_password("new secret", link.password)
    assert link.expires_at is not None
    assert abs(link.expires_at - new_expiry) < timedelta(minutes=1)
    assert "Changes saved." in text(web.get(url))

    # An empty password keeps it; “Remove the password” removes it; an empty limit lifts it.
    keep = {"action": "update", "permission": "view", "expires_at": local(new_expiry)}
    assert web.post(url, keep).status_code == 302
    link.refresh_from_db()
    assert check_password("new secret", link.password)
    assert link.max_access_count is None
    assert web.post(url, {**keep, "remove_password": "on"}).status_code == 302
    link.refresh_from_db()
    assert link.password == ""


def test_edit_refusals_are_shown_next_to_their_field(
    web: Client, links: dict[str, ShareLink]
) -> None:
    link = links["active"]
    before = ShareLink.objects.get(pk=link.pk)
    url = reverse("sharing:detail", args=[link.pk])
    base = {"action": "update", "permission": "download"}

    too_late = web.post(url, {**base, "expires_at": local(timezone.now() + timedelta(days=200))})
    assert too_late.status_code == 400
    assert "at most 90 days" in field_error(too_late, "expires_at")

    zero = web.post(url, {**base, "max_access_count": "0"})
    assert zero.status_code == 400
    assert "at least 1" in field_error(zero, "max_access_count")

    words = web.post(url, {**base, "max_access_count": "many"})
    assert words.status_code == 400
    assert "whole number" in field_error(words, "max_access_count")

    long_label = web.post(url, {**base, "label": "x" * 101})
    assert long_label.status_code == 400
    assert "at most 100 characters" in field_error(long_label, "label")

    # Upload-only is for folders: a file's link does not even offer it.
    upload = web.post(url, {**base, "permission": "upload"})
    assert upload.status_code == 400
    assert field_error(upload, "permission")

    after = ShareLink.objects.get(pk=link.pk)
    assert (after.permission, after.expires_at, after.max_access_count, after.label) == (
        before.permission,
        before.expires_at,
        before.max_access_count,
        before.label,
    )


def test_an_expired_link_can_be_relabelled_or_extended(
    web: Client, links: dict[str, ShareLink]
) -> None:
    link = links["expired"]
    assert link.expires_at is not None
    url = reverse("sharing:detail", args=[link.pk])
    # The form sends the old (past) expiry back unchanged: not checked again.
    same = {"action": "update", "permission": "view", "expires_at": local(link.expires_at)}
    assert web.post(url, {**same, "label": "old photos"}).status_code == 302
    link.refresh_from_db()
    assert link.label == "old photos"
    assert link.state == "expired"
    # A new date brings it back.
    later = timezone.now() + timedelta(days=2)
    assert web.post(url, {**same, "expires_at": local(later)}).status_code == 302
    link.refresh_from_db()
    assert link.state == "active"


def test_never_expires_only_when_the_policy_allows_it(
    web: Client, links: dict[str, ShareLink]
) -> None:
    link = links["active"]
    url = reverse("sharing:detail", args=[link.pk])
    form = {"action": "update", "permission": "download", "never_expires": "on"}
    # Not offered, so not taken: the expiry stays.
    assert "Never expires" not in edit_form(web.get(url))
    assert web.post(url, form).status_code == 302
    link.refresh_from_db()
    assert link.expires_at is not None

    policy = SharingPolicy.current()
    policy.allow_never_expire = True
    policy.save()
    assert "Never expires" in edit_form(web.get(url))
    assert web.post(url, form).status_code == 302
    link.refresh_from_db()
    assert link.expires_at is None


def test_revoke_without_javascript(web: Client, links: dict[str, ShareLink]) -> None:
    link = links["active"]
    token = services.share_token(link)
    before = Client().get(f"/s/{token}/")
    assert before.status_code == 200
    assert "This link is protected" in text(before)
    url = reverse("sharing:detail", args=[link.pk])
    response = web.post(url, {"action": "revoke", "next": "/shares/?state=active"})
    assert response.status_code == 302
    assert response["Location"] == "/shares/?state=active"
    link.refresh_from_db()
    assert link.state == "revoked"
    assert link.pk not in link_ids(web.get(LIST, {"state": "active"}))
    assert Client().get(f"/s/{token}/").status_code == 410

    # Revoked: no edit form any more, changes refused, a second revoke harmless.
    page = web.get(url)
    assert "You revoked this link" in text(page)
    assert 'id="share-edit-form"' not in text(page)
    refused = web.post(url, {"action": "update", "permission": "view"})
    assert refused.status_code == 400
    assert "revoked" in text(refused)
    again = web.post(url, {"action": "revoke"}, follow=True)
    assert "already revoked" in text(again)
    # An off-site "next" is ignored.
    other = a_link(link.created_by, link.node)
    away = web.post(
        reverse("sharing:detail", args=[other.pk]),
        {"action": "revoke", "next": "https://evil.example/"},
    )
    assert away["Location"] == reverse("sharing:detail", args=[other.pk])


def test_unknown_actions_and_methods(web: Client, links: dict[str, ShareLink]) -> None:
    url = reverse("sharing:detail", args=[links["active"].pk])
    assert web.post(url, {"action": "delete"}).status_code == 400
    assert web.post(url).status_code == 400
    assert web.put(url).status_code == 405
    assert web.delete(LIST).status_code == 405
    assert web.get("/shares/999999/").status_code == 404


def test_pages_need_a_login(links: dict[str, ShareLink]) -> None:
    anonymous = Client()
    for url in (LIST, reverse("sharing:detail", args=[links["active"].pk])):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))
    response = anonymous.post(
        reverse("sharing:detail", args=[links["active"].pk]), {"action": "revoke"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    links["active"].refresh_from_db()
    assert links["active"].state == "active"


# --- creating a link without JavaScript ---------------------------------------------------------


def test_item_page_and_sidebar_lead_to_sharing(web: Client, alice: Any) -> None:
    report = a_file(alice, "/report.txt")
    page = text(web.get(reverse("files:node", args=[report.pk])))
    assert f'href="/shares/?node={report.pk}"' in page
    sidebar = text(web.get("/"))
    assert sidebar.index(">Tags</span>") < sidebar.index(">Shared by me</span>")
    assert sidebar.index(">Shared by me</span>") < sidebar.index(">Trash</span>")


def test_create_without_javascript(web: Client, alice: Any) -> None:
    report = a_file(alice, "/report.txt")
    form = create_form(web.get(LIST, {"node": report.pk}))
    default = timezone.now() + timedelta(days=7)
    # The expiry field starts at the policy's default and shows the maximum.
    assert (
        f'value="{local(default)}"' in form
        or f'value="{local(default - timedelta(minutes=1))}"' in form
    )
    assert "at most 90 days" in form

    response = web.post(
        LIST,
        {
            "node": report.pk,
            "permission": "view",
            "expires_at": "",
            "max_access_count": "3",
            "password": "open sesame",
            "label": "for Carol",
        },
    )
    assert response.status_code == 302
    link = ShareLink.objects.get(node=report)
    assert response["Location"] == reverse("sharing:detail", args=[link.pk])
    assert (link.created_by, link.permission, link.max_access_count, link.label) == (
        alice,
        "view",
        3,
        "for Carol",
    )
    assert check_password("open sesame", link.password)
    assert link.expires_at is not None
    assert abs(link.expires_at - default) < timedelta(minutes=1)
    detail = text(web.get(response["Location"]))
    assert "Link to “report.txt” created" in detail
    assert f"/s/{services.share_token(link)}/" in detail

    # A chosen date is kept; a drop folder is possible for a folder.
    inbox = a_folder(alice, "/Inbox")
    when = timezone.now() + timedelta(days=30)
    response = web.post(LIST, {"node": inbox.pk, "permission": "upload", "expires_at": local(when)})
    assert response.status_code == 302
    drop = ShareLink.objects.get(node=inbox)
    assert drop.permission == "upload"
    assert drop.expires_at is not None
    assert abs(drop.expires_at - when) < timedelta(minutes=1)


def test_create_refusals(web: Client, alice: Any) -> None:
    report = a_file(alice, "/report.txt")
    response = web.post(
        LIST, {"node": report.pk, "permission": "download", "max_access_count": "0"}
    )
    assert response.status_code == 400
    assert "at least 1" in field_error(response, "max_access_count")

    response = web.post(LIST, {"node": report.pk, "permission": "upload"})
    assert response.status_code == 400
    assert field_error(response, "permission")

    past = local(timezone.now() - timedelta(days=1))
    response = web.post(LIST, {"node": report.pk, "permission": "view", "expires_at": past})
    assert response.status_code == 400
    assert "in the future" in field_error(response, "expires_at")

    home = report.parent
    assert home is not None
    response = web.post(LIST, {"node": home.pk, "permission": "view"})
    assert response.status_code == 400
    assert "“Your files” cannot be shared" in text(response)

    file_services.node_trash(node=report)
    response = web.post(LIST, {"node": report.pk, "permission": "view"})
    assert response.status_code == 400
    assert "in the trash" in text(response)

    assert web.post(LIST, {"permission": "view"}).status_code == 404
    assert web.post(LIST, {"node": "abc", "permission": "view"}).status_code == 404

    policy = SharingPolicy.current()
    policy.require_password = True
    policy.save()
    other = a_file(alice, "/other.txt")
    response = web.post(LIST, {"node": other.pk, "permission": "view"})
    assert response.status_code == 400
    assert "requires a password" in field_error(response, "password")
    assert not ShareLink.objects.exists()


# --- alice sees, mallory does not ----------------------------------------------------------


def test_mallory_never_reaches_alices_links(
    mallory_web: Client, mallory: Any, links: dict[str, ShareLink]
) -> None:
    own = a_link(mallory, a_file(mallory, "/mine.txt"))
    expected_visible = {own.pk}
    expected_hidden = {link.pk for link in links.values()}

    for state in ["", "active", "expired", "revoked", "used_up"]:
        response = mallory_web.get(LIST, {"state": state} if state else {})
        assert response.status_code == 200
        assert link_ids(response) & expected_hidden == set()
    assert link_ids(mallory_web.get(LIST)) == expected_visible
    assert "report.pdf" not in text(mallory_web.get(LIST))

    for link in links.values():
        url = reverse("sharing:detail", args=[link.pk])
        assert mallory_web.get(url).status_code == 404
        assert mallory_web.get(url, {"page": 2}).status_code == 404
        assert mallory_web.post(url, {"action": "revoke"}).status_code == 404
        assert (
            mallory_web.post(
                url, {"action": "update", "permission": "view", "label": "pwned"}
            ).status_code
            == 404
        )
        assert mallory_web.get(LIST, {"node": link.node_id}).status_code == 404
    for name, link in links.items():
        link.refresh_from_db()
        assert link.state == name
        assert link.label != "pwned"

    # Nor can she share alice's items.
    report = links["active"].node
    response = mallory_web.post(LIST, {"node": report.pk, "permission": "download"})
    assert response.status_code == 404
    assert ShareLink.objects.filter(created_by=mallory).count() == 1
