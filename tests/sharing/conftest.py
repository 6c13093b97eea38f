"""Fixtures for share links: a small tree of alice's, links made through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from files import services as file_services
from files import tree
from files.models import Node
from sharing import services
from sharing.models import ShareLink
from tests.files.conftest import received


@pytest.fixture
def drive(alice: Any) -> dict[str, Node]:
    """alice's files:

    /Shared/report.txt, /Shared/photo.png, /Shared/Sub/deep.txt, /Private/secret.txt,
    /notes.txt — a link to /Shared must reach the first three and nothing else."""
    home = tree.home_of(alice)
    shared = file_services.folder_create(owner=alice, parent=home, name="Shared")
    sub = file_services.folder_create(owner=alice, parent=shared, name="Sub")
    private = file_services.folder_create(owner=alice, parent=home, name="Private")

    def put(parent: Node, name: str, content: bytes) -> Node:
        return file_services.file_upload(
            owner=alice, parent=parent, name=name, received=received(content)
        )

    return {
        "home": home,
        "shared": shared,
        "sub": sub,
        "private": private,
        "report": put(shared, "report.txt", b"quarterly numbers\n" * 100),
        "photo": put(shared, "photo.png", PNG),
        "deep": put(sub, "deep.txt", b"deep down"),
        "secret": put(private, "secret.txt", b"do not share"),
        "notes": put(home, "notes.txt", b"my notes"),
    }


@pytest.fixture
def share(alice: Any) -> Callable[..., tuple[ShareLink, str]]:
    """Make a link the way the API does; returns (link, url path)."""

    def _share(node: Node, **options: Any) -> tuple[ShareLink, str]:
        link, token = services.share_create(owner=alice, node=node, **options)
        return link, f"/s/{token}/"

    return _share


@pytest.fixture
def visitor() -> Client:
    """A browser that has never logged in."""
    return Client()


# A 1 by 1 pixel PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
