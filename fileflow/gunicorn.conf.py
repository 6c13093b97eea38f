"""gunicorn settings. Threads, not sync workers: a long upload must not be killed after 30 s.

https://docs.gunicorn.org/en/stable/settings.html
"""

import os

bind = f"{os.environ.get('FILEFLOW_HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("FILEFLOW_THREADS", "8"))
# A worker that says nothing for this long is restarted; uploads stream, so this is idle time.
timeout = int(os.environ.get("FILEFLOW_WORKER_TIMEOUT", "300"))
graceful_timeout = 30
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket lives at one path per user ($HOME/.gunicorn/gunicorn.ctl), so two
# servers on one machine (tests, benchmarks, several instances) would fight over it.
control_socket_disable = True

# glibc's malloc returns freed blocks of 128 KiB or more (and free memory at the top of its
# heap) to the kernel at once, and the kernel zero-fills every page again on its next use.
# A request body goes through gunicorn in pieces of up to 1 MiB, copied a few times on the
# way: 60 to 800 page faults per MiB (fewer as glibc's own thresholds adapt), a fifth to a
# half of a big upload's CPU time (bench/transfer.py). Blocks of up to 4 MiB stay in the
# heap and up to 8 MiB of it stays free before it goes back, so those pieces reuse the same
# pages. One arena, not eight per CPU: every thread's requests reuse the same heap (with an
# arena per thread, a multipart upload after a raw PUT grew the worker by 7 MiB more), and
# requests take turns on the GIL anyway. https://man7.org/linux/man-pages/man3/mallopt.3.html
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # glibc's <malloc.h>
MALLOPT = (
    (M_ARENA_MAX, 1),
    (M_MMAP_THRESHOLD, 4 * 1024 * 1024),
    (M_TRIM_THRESHOLD, 8 * 1024 * 1024),
)


# How long a thread may hold the interpreter lock while another waits for it (CPython's
# default is 5 ms). A request writing to the database releases it around each statement
# and then waits for it again while the worker's other threads parse, authenticate and
# answer; all that time it keeps the database's write lock (SQLite) or the owner's tree
# lock (PostgreSQL), and every other upload to the account waits too. bench/transfer.py,
# 2 workers, 4 clients, 4 KiB files, runs alternated in one session: batches of 50
# (upload-many) median 2,645 → 3,178 files/s on SQLite (3 runs each), 1,806–2,207 →
# 2,372–2,442 on PostgreSQL; a PUT each +3–10%; 512 MiB transfers unchanged. 0.2 ms was
# no better than 0.5 ms, and 0.1 ms worse for a PUT each (more switching).
SWITCH_INTERVAL = 0.0005

# After a request with a body this big, free memory goes back to the kernel at once
# (malloc_trim): what the pieces of one big upload leave behind in the heap would otherwise
# stay resident, and the next big upload's pieces do not fit the same holes.
TRIM_AFTER_BODY = 8 * 1024 * 1024
_malloc_trim = None


def post_fork(server, worker):
    """In each worker, before it starts its threads: hand the interpreter lock over sooner
    (SWITCH_INTERVAL) and tune malloc where it is glibc's."""
    import ctypes
    import sys

    sys.setswitchinterval(SWITCH_INTERVAL)
    global _malloc_trim
    libc = ctypes.CDLL(None)
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:  # not glibc (musl keeps it as a no-op; macOS has none)
        return
    for option, value in MALLOPT:
        if not mallopt(option, value):
            worker.log.warning("mallopt(%d, %d) was refused", option, value)
    _malloc_trim = getattr(libc, "malloc_trim", None)


def post_request(worker, req, environ, resp):
    """After a big body (an upload, a tus chunk): trim the heap (see TRIM_AFTER_BODY)."""
    length = environ.get("CONTENT_LENGTH") or ""
    if _malloc_trim is not None and length.isdigit() and int(length) >= TRIM_AFTER_BODY:
        _malloc_trim(0)
