"""gunicorn's threaded worker, taking new connections in turn with its sibling workers.

Every worker waits on the one listening socket, and whichever calls ``accept()`` first
takes the connection; a worker that is already busy is usually the quickest, as its loop
is awake. Clients that keep their connections open (rclone and other sync clients, a
reverse proxy) then all end up on one worker: bench/transfer.py saw its 4 clients' 4
connections on one of 2 workers every time, and that worker's one CPU core (its threads
share one interpreter lock) capped the server while the other core idled.

Here a worker that already holds connections waits a moment before taking a new one, a
little longer for each it holds, so that an idle worker (woken by the same event) takes
it first: new connections go to the worker holding the fewest. A connection no idle worker
takes is still taken, at most :data:`MOST` later. Kept-alive connections are not moved.

Named in ``fileflow/gunicorn.conf.py`` (``worker_class``); imported by gunicorn's master
process before it forks, so it imports nothing of Django.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Wait this long per connection the worker holds before taking another, and at most MOST.
# The worker's loop (not its threads, which go on serving) waits meanwhile, so MOST is
# also the most a request arriving on a kept connection can wait for it then.
STEP = 0.001
MOST = 0.002


class BalancedThreadWorker(ThreadWorker):
    def accept(self, listener: Any) -> None:
        held = self.nr_conns
        if held:
            time.sleep(min(STEP * held, MOST))
        super().accept(listener)  # EAGAIN (another worker took it) is ignored there
