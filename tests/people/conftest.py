"""The four people of every sharing test: alice owns, bob edits, carol views through a
group, mallory has nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from files import services, tree
from files.models import Node
from sharing.people import person_share_create
from tests.factories import UserFactory
from tests.files.conftest import received


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


@dataclass
class World:
    alice: Any
    bob: Any
    carol: Any
    mallory: Any
    team: Node  # /Team: bob editor, group "family" (carol) viewer
    sub: Node  # /Team/Sub
    deep: Node  # /Team/Sub/deep.txt
    photo: Node  # /Team/photo.png
    private: Node  # /Private
    secret: Node  # /Private/secret.txt
    family: Group

    @property
    def shared(self) -> set[int]:
        return {self.team.pk, self.sub.pk, self.deep.pk, self.photo.pk}

    @property
    def hidden(self) -> set[int]:
        return {self.private.pk, self.secret.pk}


def put(owner: Any, parent: Node, name: str, content: bytes) -> Node:
    return services.file_upload(owner=owner, parent=parent, name=name, received=received(content))


@pytest.fixture
def world(db: None) -> World:
    alice = UserFactory(username="alice", email="alice@example.com")
    bob = UserFactory(username="bob", email="bob@example.com")
    carol = UserFactory(username="carol", email="carol@example.com")
    mallory = UserFactory(username="mallory", email="mallory@example.com")
    family = Group.objects.create(name="family")
    carol.groups.add(family)
    alice.groups.add(family)
    home = tree.home_of(alice)
    team = services.folder_create(owner=alice, parent=home, name="Team")
    sub = services.folder_create(owner=alice, parent=team, name="Sub")
    deep = put(alice, sub, "deep.txt", b"deep words")
    photo = put(alice, team, "photo.png", png())
    private = services.folder_create(owner=alice, parent=home, name="Private")
    secret = put(alice, private, "secret.txt", b"secret words")
    person_share_create(actor=alice, node=team, user="bob", role="editor", can_reshare=True)
    person_share_create(actor=alice, node=team, group="family", role="viewer")
    return World(alice, bob, carol, mallory, team, sub, deep, photo, private, secret, family)


def api_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client
