"""Every curl line of the README, run with real curl against a live server.

The README is what a new user copies first; each ```sh block that calls curl is taken from
it as written, with the documented placeholders filled in ($TOKEN, $PASSWORD, the host, the example
ids) and the files it sends made in a scratch folder. A line that answers an error fails.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.utils import ROOT

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLE_HOST = "http://127.0.0.1:8000"
EXAMPLE_ID = re.compile(r"\b42\b")


def readme_curl_commands() -> list[str]:
    """The curl commands of the README's ```sh blocks, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    commands: list[str] = []
    for block in re.findall(r"^[ \t]*```sh\n(.*?)^[ \t]*```", text, flags=re.S | re.M):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.strip()
            if line.startswith("curl "):
                commands.append(line)
    return commands


def test_the_readme_has_curl_examples_to_run():
    commands = readme_curl_commands()
    assert len(commands) >= 5
    assert any(" -T " in command for command in commands)


@pytest.fixture
def curl() -> str:
    path = shutil.which("curl")
    if path is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("curl not found (apt-get install curl)")
        pytest.skip("curl not found (apt-get install curl)")
    return path


@pytest.mark.parametrize("command", readme_curl_commands())
def test_readme_curl_line_works(
    command: str, curl: str, live_server: Any, alice: Any, password: str, tmp_path: Path
):
    from accounts.services import token_create
    from files import services
    from files.ingest import receive_stream

    _, token = token_create(user=alice, name="readme")
    documents = services.folder_ensure_path(owner=alice, path="/Documents")
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n% a report\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.md").write_text("# a\n")
    (tmp_path / "notes" / "b.md").write_text("# b\n")
    if " -O " in command:  # a download: of what the upload examples store
        services.file_upload(
            owner=alice,
            parent=documents,
            name="report.pdf",
            received=receive_stream(io.BytesIO(b"%PDF-1.4\n% a report\n").read, length=20),
        )

    assert command.startswith("curl ")
    runnable = command.replace(EXAMPLE_HOST, live_server.url)
    runnable = EXAMPLE_ID.sub(str(documents.pk), runnable)
    # Exactly as written, plus: fail on an HTTP error, print the status last.
    runnable = f"{curl} --fail-with-body -sS -w '\\n%{{http_code}}' " + runnable[len("curl ") :]
    result = subprocess.run(
        ["bash", "-c", runnable],
        cwd=tmp_path,
        env={**os.environ, "TOKEN": token, "PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (command, result.stdout, result.stderr)
    status = result.stdout.rsplit("\n", 1)[-1]
    assert status.startswith("2"), (command, result.stdout)
