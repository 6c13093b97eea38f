import pytest

from files import services, tree
from files.models import Blob, Node

pytestmark = pytest.mark.django_db


def test_upload_move_trash_restore_roundtrip(alice, home, upload, mkdir):
    docs = mkdir("/Documents/2026")
    report = upload("report.pdf", b"%PDF-1.4 hello", parent=docs)
    assert report.mime_type == "application/pdf"
    assert tree.path_of(report) == "/Documents/2026/report.pdf"
    alice.refresh_from_db()
    assert alice.used_bytes == len(b"%PDF-1.4 hello")

    other = upload("report.pdf", b"%PDF-1.4 hello", parent=home)
    assert other.blob_id == report.blob_id
    assert Blob.objects.count() == 1

    archive = mkdir("/Archive")
    services.node_move(node=docs.parent, new_parent=archive)
    report.refresh_from_db()
    assert tree.path_of(report) == "/Archive/Documents/2026/report.pdf"

    services.node_trash(node=archive)
    assert Node.objects.filter(owner=alice).alive().count() == 2  # home + other
    services.node_restore(node=archive)
    assert Node.objects.filter(owner=alice).alive().count() == 6
    assert tree.check(alice) == []
