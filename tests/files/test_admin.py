"""The files admin: pages load at a bounded query count, writes go through the services,
and nothing can be added, edited or deleted around them."""

from __future__ import annotations

import os

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.storage import default_storage
from django.urls import reverse

from files import services, tree
from files.models import Blob, FileVersion, Node, Tag

pytestmark = pytest.mark.django_db

NODES = reverse("admin:files_node_changelist")
BLOBS = reverse("admin:files_blob_changelist")
VERSIONS = reverse("admin:files_fileversion_changelist")
TAGS = reverse("admin:files_tag_changelist")


def node_url(node: Node, view: str = "change") -> str:
    return reverse(f"admin:files_node_{view}", args=[node.pk])


def act(client, url: str, action: str, *objs, **extra: str):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objs], "index": 0, **extra}
    return client.post(url, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def drive(alice, mallory, upload, mkdir):
    docs = mkdir("/Documents")
    report = upload("report.pdf", b"%PDF-1.4 report", parent=docs)
    upload("report.pdf", b"%PDF-1.4 report v2", parent=docs, on_conflict="replace")
    photo = upload("photo.jpg", b"\xff\xd8\xff\xe0 jpeg")
    services.node_set_tags(node=photo, names=["Holiday"])
    theirs = upload("secret.txt", b"mallory's", owner=mallory)
    return {"docs": docs, "report": report, "photo": photo, "theirs": theirs}


# --- Node ----------------------------------------------------------------------------


def test_node_changelist_search_and_filters_load(admin_client, alice, drive):
    response = admin_client.get(NODES)
    assert response.status_code == 200
    page = response.content.decode()
    assert "report.pdf" in page and "secret.txt" in page
    assert "delete_selected" not in page
    assert reverse("admin:files_node_add") not in page

    for query in (
        {"q": "report"},
        {"q": "mallory"},
        {"trash": "live"},
        {"trash": "trashed"},
        {"trash": "entries"},
        {"is_folder__exact": "1"},
        {"owner__id__exact": str(alice.pk)},
        {"parent__id__exact": str(drive["docs"].pk)},
        {"tags__id__exact": str(Tag.objects.get().pk)},
        {"o": "4"},
    ):
        assert admin_client.get(NODES, query).status_code == 200, query

    mine = admin_client.get(NODES, {"owner__id__exact": alice.pk})
    assert {n.name for n in mine.context["cl"].result_list} >= {"report.pdf", "photo.jpg"}
    assert "secret.txt" not in {n.name for n in mine.context["cl"].result_list}
    inside = admin_client.get(NODES, {"parent__id__exact": drive["docs"].pk})
    assert [n.name for n in inside.context["cl"].result_list] == ["report.pdf"]
    assert "alice: /Documents" in inside.content.decode()  # the folder filter names it
    found = admin_client.get(NODES, {"q": "secret"})
    assert [n.name for n in found.context["cl"].result_list] == ["secret.txt"]
    bad = admin_client.get(NODES, {"parent__id__exact": "nope"})
    assert bad.status_code == 302 and "e=1" in bad.url


def test_node_changelist_query_count_does_not_grow_with_rows(
    admin_client, alice, upload, mkdir, django_assert_max_num_queries
):
    folder = mkdir("/Many")
    for i in range(5):
        upload(f"file-{i}.txt", f"content {i}".encode(), parent=folder)
    with django_assert_max_num_queries(8) as few:
        assert admin_client.get(NODES).status_code == 200
    for i in range(5, 50):
        upload(f"file-{i}.txt", f"content {i}".encode(), parent=folder)
    with django_assert_max_num_queries(8) as many:
        assert admin_client.get(NODES).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries)


def test_node_changelist_reads_as_a_tree_each_folder_followed_by_its_contents_indented(
    admin_client, alice, upload, mkdir
):
    deep = mkdir("/A/B")
    upload("b.txt", parent=deep)
    mkdir("/Z")
    upload("a.txt", parent=deep.parent)  # written after Z, shown under A all the same
    response = admin_client.get(NODES, {"owner__id__exact": alice.pk})
    names = [obj.name for obj in response.context["cl"].result_list if obj.parent_id is not None]
    assert names == ["A", "B", "b.txt", "a.txt", "Z"]
    page = response.content.decode()
    indent = "&nbsp;" * 3
    assert '">A/<' in page and f'">{indent}B/<' in page and f'">{indent * 2}b.txt<' in page


def test_node_change_page_is_read_only_and_shows_the_path(admin_client, drive):
    report = drive["report"]
    response = admin_client.get(node_url(report))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/Documents/report.pdf" in page
    # The stored tree column (ancestor ids) is internal: the page shows the readable path.
    assert 'name="path"' not in page and "field-path" not in page and report.path not in page
    assert 'name="_save"' not in page

    assert admin_client.post(node_url(report), {"name": "renamed.pdf"}).status_code == 403
    assert admin_client.get(reverse("admin:files_node_add")).status_code == 403
    assert admin_client.get(node_url(report, "delete")).status_code == 403
    assert admin_client.post(node_url(report, "delete"), {"post": "yes"}).status_code == 403
    report.refresh_from_db()
    assert report.name == "report.pdf"


def test_node_actions_trash_restore_and_delete_for_good(admin_client, alice, drive):
    docs, report = drive["docs"], drive["report"]
    alice.refresh_from_db()
    used = alice.used_bytes
    kept = len(b"%PDF-1.4 report") + len(b"%PDF-1.4 report v2")

    response = act(admin_client, NODES, "move_to_trash", docs, report)
    assert "Moved 1 item to the trash." in messages_of(response)
    docs.refresh_from_db()
    report.refresh_from_db()
    assert docs.is_trash_root and docs.trashed_at is not None
    assert report.trashed_at == docs.trashed_at and not report.is_trash_root

    response = act(admin_client, NODES, "restore_from_trash", docs)
    assert "Restored 1 item." in messages_of(response)
    report.refresh_from_db()
    assert report.trashed_at is None
    assert tree.path_of(report) == "/Documents/report.pdf"

    response = act(admin_client, NODES, "delete_for_good", docs)
    assert any("only trash entries" in m for m in messages_of(response))
    assert Node.objects.filter(pk=docs.pk).exists()

    act(admin_client, NODES, "move_to_trash", docs)
    confirm = act(admin_client, NODES, "delete_for_good", docs)
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.content.decode()
    assert "alice: /Documents" in confirm.content.decode()
    assert Node.objects.filter(pk=docs.pk).exists()  # not before confirming

    response = act(admin_client, NODES, "delete_for_good", docs, post="yes")
    assert any(m.startswith("Deleted 1 trash entry for good") for m in messages_of(response))
    assert not Node.objects.filter(pk__in=[docs.pk, report.pk]).exists()
    alice.refresh_from_db()
    assert alice.used_bytes == used - kept
    assert tree.check(alice) == []
    # The content stays until gc finds it unreferenced and old enough.
    assert Blob.objects.count() == 4


def test_node_actions_from_the_change_page(admin_client, drive):
    photo = drive["photo"]
    data = {"CHANGE_FORM-action": "move_to_trash", ACTION_CHECKBOX_NAME: photo.pk}
    admin_client.post(node_url(photo), data)
    photo.refresh_from_db()
    assert photo.is_trash_root

    data = {"CHANGE_FORM-action": "delete_for_good", ACTION_CHECKBOX_NAME: photo.pk}
    confirm = admin_client.post(node_url(photo), data)
    assert confirm.status_code == 200 and "cannot be undone" in confirm.content.decode()
    done = admin_client.post(node_url(photo), {**data, "post": "yes"})
    assert done.status_code == 302 and done.url == NODES
    assert not Node.objects.filter(pk=photo.pk).exists()


def test_home_folder_cannot_be_trashed_from_the_admin(admin_client, alice, drive):
    home = tree.home_of(alice)
    response = act(admin_client, NODES, "move_to_trash", home)
    assert any("cannot be trashed" in m for m in messages_of(response))
    home.refresh_from_db()
    assert home.trashed_at is None


def test_staff_without_node_permissions_cannot_act(client, make_user, drive):
    from django.contrib.auth.models import Permission

    viewer = make_user(username="viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_node"))
    client.force_login(viewer)
    page = client.get(NODES)
    assert page.status_code == 200
    assert "move_to_trash" not in page.content.decode()
    act(client, NODES, "move_to_trash", drive["photo"])
    drive["photo"].refresh_from_db()
    assert drive["photo"].trashed_at is None


# --- Blob ----------------------------------------------------------------------------


def test_blob_admin_shows_reference_counts_and_is_read_only(admin_client, alice, drive, upload):
    shared = upload("copy.jpg", b"\xff\xd8\xff\xe0 jpeg")  # same content as photo.jpg
    loose = upload("loose.txt", b"nobody keeps me")
    services.node_trash(node=loose)
    services.node_delete(node=loose)

    response = admin_client.get(BLOBS)
    assert response.status_code == 200
    rows = {
        b.sha256: (b.node_ref_count, b.version_ref_count)
        for b in response.context["cl"].result_list
    }
    old_report = FileVersion.objects.get(node=drive["report"]).blob
    assert rows[shared.blob.sha256] == (2, 0)
    assert rows[old_report.sha256] == (0, 1)
    assert rows[loose.blob.sha256] == (0, 0)

    unreferenced = admin_client.get(BLOBS, {"references": "none"})
    assert [b.sha256 for b in unreferenced.context["cl"].result_list] == [loose.blob.sha256]
    referenced = admin_client.get(BLOBS, {"references": "some"})
    assert loose.blob.sha256 not in {b.sha256 for b in referenced.context["cl"].result_list}

    detail = admin_client.get(reverse("admin:files_blob_change", args=[shared.blob_id]))
    assert detail.status_code == 200
    assert "alice: /photo.jpg" in detail.content.decode()
    assert "alice: /copy.jpg" in detail.content.decode()

    assert admin_client.get(reverse("admin:files_blob_add")).status_code == 403
    delete = reverse("admin:files_blob_delete", args=[loose.blob_id])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    act(admin_client, BLOBS, "delete_selected", loose.blob, post="yes")
    assert Blob.objects.filter(pk=loose.blob_id).exists()


def test_blob_verify_action_reports_damage(admin_client, drive):
    photo = drive["photo"].blob
    response = act(admin_client, BLOBS, "verify", photo)
    assert "1 blob verified: content intact." in messages_of(response)

    os.unlink(default_storage.path(photo.storage_key))
    response = act(admin_client, BLOBS, "verify", photo)
    assert "1 of 1 blob is damaged." in messages_of(response)


# --- FileVersion ---------------------------------------------------------------------


def test_version_admin_restore_and_delete_go_through_the_services(admin_client, alice, drive):
    report = drive["report"]
    version = FileVersion.objects.get(node=report)
    assert admin_client.get(VERSIONS).status_code == 200
    assert admin_client.get(VERSIONS, {"q": "report"}).status_code == 200
    assert (
        admin_client.get(reverse("admin:files_fileversion_change", args=[version.pk])).status_code
        == 200
    )
    assert admin_client.get(reverse("admin:files_fileversion_add")).status_code == 403

    response = act(admin_client, VERSIONS, "restore", version)
    assert "Restored 1 version." in messages_of(response)
    report.refresh_from_db()
    assert report.size == len(b"%PDF-1.4 report")
    assert report.versions.count() == 2  # restoring is a new version

    alice.refresh_from_db()
    before = alice.used_bytes
    newest = report.versions.first()
    response = act(admin_client, VERSIONS, "delete_versions", newest)
    assert any(m.startswith("Deleted 1 version,") for m in messages_of(response))
    assert not FileVersion.objects.filter(pk=newest.pk).exists()
    alice.refresh_from_db()
    assert alice.used_bytes == before - newest.size
    act(admin_client, VERSIONS, "delete_selected", version, post="yes")
    assert FileVersion.objects.filter(pk=version.pk).exists()


# --- Tag -----------------------------------------------------------------------------


def test_tag_admin_lists_counts_and_searches(admin_client, drive, upload):
    other = upload("beach.jpg", b"sand")
    services.node_set_tags(node=other, names=["holiday", "Beach"])
    response = admin_client.get(TAGS)
    assert response.status_code == 200
    counts = {t.name: t.node_total for t in response.context["cl"].result_list}
    assert counts == {"Holiday": 2, "Beach": 1}
    found = admin_client.get(TAGS, {"q": "bea"})
    assert [t.name for t in found.context["cl"].result_list] == ["Beach"]
    assert admin_client.get(reverse("admin:files_tag_add")).status_code == 403
