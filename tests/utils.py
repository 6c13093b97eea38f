"""Helpers for tests that start FileFlow in a separate process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Variables a test process may have set that must not leak into a "fresh" FileFlow process.
_NOT_INHERITED = {
    "DATABASE_URL",
    "FILEFLOW_STORAGE",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def fresh_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_INHERITED}
    env.update({"FILEFLOW_DATA_DIR": str(data_dir), **overrides})
    return env


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def tool(name: str) -> str:
    """The path of a system tool the tests need; under CI a missing one fails the run."""
    found = shutil.which(name)
    if found is None:
        message = f"{name} is not installed (scripts/system-deps.sh installs it)"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)
    return found


def without_hanging[T](call: Callable[[], T], *, hang_after: float = 60) -> T:
    """``call()``'s result (or its exception), failing the test instead of hanging when it
    has not returned after ``hang_after`` seconds (for code that must stop itself: a guard,
    not a measure; the call is left running in a daemon thread)."""
    outcome: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(hang_after)
    if thread.is_alive():
        pytest.fail(f"still running after {hang_after:g} seconds: it does not stop itself")
    if errors:
        raise errors[0]
    return outcome[0]
