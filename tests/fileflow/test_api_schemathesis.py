"""Schemathesis against a live server: every operation of /api/schema/, with generated
valid and invalid input, authenticated with a token. Fails on any 5xx, on an answer whose
status, content type or body the schema does not describe.

Bounded and deterministic: a few examples per operation, derandomized (the same inputs every
run), no deadline, no example database.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.modes import GenerationMode

pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def account(alice: Any) -> tuple[dict[str, str], dict[str, int]]:
    """A token header, and ids of real objects of each kind for the explicit examples."""
    from accounts.models import ApiToken
    from accounts.services import token_create
    from files import services
    from files.models import FileVersion
    from search.services import profile_create
    from sharing.services import share_create

    token, raw = token_create(user=alice, name="schemathesis")
    # Far from the small ids the run generates, so DELETE /tokens/{id}/ cannot revoke it.
    ApiToken.objects.filter(pk=token.pk).update(id=987_654_321)
    spare, _ = token_create(user=alice, name="spare")

    def put(path: str, content: bytes) -> Any:
        return services.file_upload_to_path(
            owner=alice, path=path, received=_received(content), on_conflict="replace"
        )

    put("/Documents/a.txt", b"first")
    file = put("/Documents/a.txt", b"second")
    put("/Photos/c.txt", b"c")
    gone = put("/old.txt", b"old")
    services.node_trash(node=gone)
    link, _ = share_create(owner=alice, node=file.parent)
    profile = profile_create(owner=alice, name="texts", query="a")
    from accounts.models import User
    from files import tree
    from sharing.people import person_share_create

    bob = User.objects.create_user(username="bob", password="x", email="bob@example.com")
    theirs = services.folder_create(owner=bob, parent=tree.home_of(bob), name="Team")
    to_me = person_share_create(actor=bob, node=theirs, user="alice", role="editor")
    person_share_create(actor=alice, node=file, user="bob", role="viewer")
    ids = {
        "/api/v1/nodes/": file.pk,
        "/api/v1/shares/": link.pk,
        "/api/v1/search-profiles/": profile.pk,
        "/api/v1/tokens/": spare.pk,
        "/api/v1/trash/": gone.pk,
        "/api/v1/shared-with-me/": to_me.pk,
        "version_id": FileVersion.objects.get(node=file).pk,
    }
    return {"Authorization": f"Bearer {raw}"}, ids


def _received(content: bytes) -> Any:
    import io

    from files.ingest import receive_stream

    return receive_stream(io.BytesIO(content).read, length=len(content))


@pytest.fixture
def api_schema(live_server: Any, account: tuple[dict[str, str], dict[str, int]]) -> Any:
    """The schema the server publishes, with real ids as the path parameters' examples (so
    the explicit phase reaches existing objects, not only 404s)."""
    _, ids = account
    document = Client().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    continue
                if parameter["name"] == "version_id":
                    parameter["example"] = ids["version_id"]
                elif parameter["name"] == "id":
                    prefix = next(p for p in ids if p.startswith("/") and path.startswith(p))
                    parameter["example"] = ids[prefix]
    return schemathesis.openapi.from_dict(document)


def _run(operation: Any, mode: GenerationMode, base_url: str, auth: dict[str, str]) -> list[str]:
    """Up to MAX_EXAMPLES cases of one operation; the failures hypothesis found, shrunk."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base_url, headers=auth, checks=CHECKS, timeout=20)

    try:
        check()
    # A report of every operation, not only the first that fails: the checks raise an
    # AssertionError (Failure) or a group of them; a refused connection is an OSError.
    except (AssertionError, BaseExceptionGroup, OSError) as exc:
        return [f"{operation.label} ({mode.value}): {exc}"]
    return []


def test_every_operation_answers_as_the_schema_says(
    api_schema: Any, live_server: Any, account: tuple[dict[str, str], dict[str, int]]
) -> None:
    auth, _ = account
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += _run(operation, mode, live_server.url, auth)
    assert not failures, "\n\n".join(failures)
