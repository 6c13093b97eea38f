"""Run the real database worker (``manage.py db_worker``) in this process, until the queue
has nothing ready. Its tests need ``transactional_db``: the worker commits and checks its
connection the way it does in production."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator

import pytest
from django.core.management import call_command


@pytest.fixture
def run_worker() -> Iterator[Callable[[], None]]:
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}

    def _run() -> None:
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, interval=0, verbosity=0
        )

    yield _run
    for sig, handler in saved.items():
        signal.signal(sig, handler)
