"""Fixtures for search tests: the files app's fixtures plus helpers to shape test data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from django.db import connection

from files import services
from files.models import Node
from tests.files.conftest import (  # noqa: F401 - fixtures
    announce_stored,
    home,
    mkdir,
    received,
    upload,
)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only (unaccent, pg_trgm)"
)


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {hit["id"] for hit in response.json()["results"]}


def names(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [hit["name"] for hit in response.json()["results"]]


def stamp(
    node: Node, *, updated_at: datetime | None = None, created_at: datetime | None = None
) -> Node:
    """Give a node the timestamps a test needs (auto_now fields cannot be set by save)."""
    fields: dict[str, datetime] = {}
    if updated_at is not None:
        fields["updated_at"] = updated_at
    if created_at is not None:
        fields["created_at"] = created_at
    Node.objects.filter(pk=node.pk).update(**fields)
    node.refresh_from_db()
    return node


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """These tests never check passwords: a fast hasher keeps making alice and mallory cheap
    (Argon2 costs about a second per account on a busy two-core machine)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def tag() -> Callable[..., Node]:
    def _tag(node: Node, *names: str) -> Node:
        return services.node_set_tags(node=node, names=names)

    return _tag


@pytest.fixture
def favorite() -> Callable[[Node], Node]:
    def _favorite(node: Node) -> Node:
        return services.node_set_favorite(node=node, is_favorite=True)

    return _favorite


@pytest.fixture
def document(django_capture_on_commit_callbacks: Any) -> Callable[..., Node]:
    """Upload a file as the API does and read its text as the worker would (the queued
    task's function, run here)."""
    from django_tasks_db.models import DBTaskResult

    from files import tree
    from search.tasks import extract_texts

    def _document(owner: Any, name: str, content: bytes, *, parent: Node | None = None) -> Node:
        with django_capture_on_commit_callbacks(execute=True):
            node = services.file_upload(
                owner=owner,
                parent=parent or tree.home_of(owner),
                name=name,
                received=received(content),
            )
        announce_stored()
        for task in DBTaskResult.objects.filter(
            task_path=extract_texts.module_path, status="READY"
        ):
            extract_texts.call(*task.args_kwargs["args"])
            DBTaskResult.objects.filter(pk=task.pk).update(status="SUCCESSFUL")
        return node

    return _document
