"""Space reserved by unfinished resumable uploads holds against every other upload."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from files import services, tree
from files.models import Node
from tests.uploads.conftest import TUS, create, patch
from tests.uploads.test_drop import drop, send, start, visitor_of
from uploads.models import TusUpload

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    return url.removeprefix("http://testserver")


def _put(client: Any, name: str, size: int) -> Any:
    return client.put(
        f"/api/v1/files/content/?path=/{name}", b"p" * size, content_type="application/octet-stream"
    )


def _figures(user: Any) -> tuple[int, int]:
    fresh = User.objects.get(pk=user.pk)
    return fresh.used_bytes, fresh.reserved_bytes


def _held(user: Any) -> int:
    return sum(TusUpload.objects.filter(owner=user).values_list("reserved_bytes", flat=True))


def test_a_put_cannot_take_space_an_unfinished_upload_reserved(bearer_api: Any, alice: Any) -> None:
    alice.quota_bytes = 1000
    alice.save()
    url = _path(create(bearer_api, 600, filename="big.bin")["Location"])
    assert patch(bearer_api, url, 0, b"a" * 300).status_code == 204
    assert _figures(alice) == (0, 600)

    refused = _put(bearer_api, "small.bin", 500)
    assert refused.status_code == 413
    assert "reserved by unfinished resumable uploads" in refused.json()["detail"]
    assert not Node.objects.filter(name="small.bin").exists()
    assert _put(bearer_api, "fits.bin", 400).status_code == 201  # what is not reserved
    assert _figures(alice) == (400, 600)

    # The upload finishes although the quota is now full to the byte.
    assert patch(bearer_api, url, 300, b"b" * 300).status_code == 204
    assert Node.objects.get(name="big.bin").size == 600
    assert _figures(alice) == (1000, 0)
    assert TusUpload.objects.count() == 0


def test_an_upload_refused_at_its_last_chunk_releases_its_reservation(
    bearer_api: Any, alice: Any
) -> None:
    url = _path(create(bearer_api, 5, filename="a.txt")["Location"])
    services.file_upload_to_path(owner=alice, path="/a.txt", received=_received(b"taken"))
    assert patch(bearer_api, url, 0, b"12345").status_code == 409  # on_conflict=fail
    assert TusUpload.objects.count() == 0
    assert _figures(alice) == (5, 0)


def _received(content: bytes) -> Any:
    from files.ingest import receive_stream

    stream = iter([content, b""])
    return receive_stream(lambda _size: next(stream), length=len(content))


def test_termination_releases_the_reservation_for_a_put(bearer_api: Any, alice: Any) -> None:
    alice.quota_bytes = 1000
    alice.save()
    url = _path(create(bearer_api, 800, filename="big.bin")["Location"])
    assert _put(bearer_api, "other.bin", 500).status_code == 413
    assert bearer_api.delete(url, **TUS).status_code == 204
    assert _figures(alice) == (0, 0)
    assert _put(bearer_api, "other.bin", 500).status_code == 201


def test_expiry_releases_the_reservation_for_a_put(bearer_api: Any, alice: Any) -> None:
    alice.quota_bytes = 1000
    alice.save()
    create(bearer_api, 800, filename="big.bin")
    create(bearer_api, 100, filename="live.bin")
    TusUpload.objects.filter(filename="big.bin").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    # Before gc: the expired upload's space goes to the PUT that needs it, the live one's not.
    assert _put(bearer_api, "other.bin", 901).status_code == 413
    assert _put(bearer_api, "other.bin", 900).status_code == 201
    assert _figures(alice) == (900, 100)
    assert _held(alice) == 100
    call_command("gc")
    assert TusUpload.objects.count() == 1
    assert _figures(alice) == (900, 100)
    TusUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    call_command("gc")  # and gc releases what an expired upload still holds
    assert _figures(alice) == (900, 0)


def test_an_expired_upload_gives_its_space_to_a_new_one_before_gc(
    bearer_api: Any, alice: Any
) -> None:
    alice.quota_bytes = 1000
    alice.save()
    create(bearer_api, 800, filename="old.bin")
    TusUpload.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert create(bearer_api, 800, filename="new.bin").status_code == 201
    assert _figures(alice) == (0, 800)
    assert _held(alice) == 800
    call_command("gc")  # the expired one goes; the new one keeps its reservation
    assert _figures(alice) == (0, 800)


def test_the_reservation_goes_with_an_upload_whose_folder_is_deleted(
    bearer_api: Any, alice: Any
) -> None:
    folder = tree.insert(Node(owner=alice, name="Inbox", is_folder=True), tree.home_of(alice))
    create(bearer_api, 700, filename="a.bin", parent=str(folder.pk))
    create(bearer_api, 50, filename="b.bin")
    assert _figures(alice) == (0, 750)
    services.node_trash(node=folder)
    services.node_delete(node=Node.objects.get(pk=folder.pk))
    assert TusUpload.objects.count() == 1
    assert _figures(alice) == (0, 50)


def test_deferred_length_and_drop_folder_uploads_keep_the_figure_exact(
    bearer_api: Any, alice: Any
) -> None:
    url = _path(create(bearer_api, None, filename="s.bin")["Location"])
    assert _figures(alice) == (0, 0)
    assert patch(bearer_api, url, 0, b"abc", HTTP_UPLOAD_LENGTH="10").status_code == 204
    assert _figures(alice) == (0, 10)

    inbox = tree.insert(Node(owner=alice, name="Inbox", is_folder=True), tree.home_of(alice))
    alice.quota_bytes = 15
    alice.save()
    _link, link_url = drop(alice, inbox)
    visitor, csrf = visitor_of(link_url)
    assert start(visitor, link_url, csrf, 6, filename="d.txt").status_code == 413
    location = start(visitor, link_url, csrf, 5, filename="d.txt")["Location"]
    assert _figures(alice) == (0, 15)
    assert send(visitor, location, csrf, 0, b"12345").status_code == 204
    assert Node.objects.get(name="d.txt").parent_id == inbox.pk
    assert _figures(alice) == (5, 10)
    assert _held(alice) == 10


def test_the_usage_audit_proves_and_fixes_reserved_bytes(bearer_api: Any, alice: Any) -> None:
    from django.core.management.base import CommandError

    create(bearer_api, 700, filename="a.bin")
    call_command("recompute_usage", "--check")
    User.objects.filter(pk=alice.pk).update(reserved_bytes=5)
    with pytest.raises(CommandError):
        call_command("recompute_usage", "--check")
    call_command("recompute_usage")
    assert _figures(alice) == (0, 700)
    call_command("recompute_usage", "--check")
