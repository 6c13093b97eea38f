"""Tasks that exist only for the tests (the worker imports them by path)."""

from __future__ import annotations

import os
import time

from django.tasks import task


@task()
def fail_always(message: str) -> None:
    raise RuntimeError(message)


@task()
def record(path: str, number: int) -> int:
    """Append ``number`` to the file at ``path`` (one line per run), a little slowly, so that
    two workers have the chance to pick the same task if claiming were not exclusive."""
    time.sleep(0.02)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, f"{number}\n".encode())
    finally:
        os.close(fd)
    return number
