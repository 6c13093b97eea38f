"""fileflow/gunicorn.conf.py: what each worker sets up for itself before it serves."""

import json

from tests.utils import fresh_env, run_python

# A fresh interpreter, as a forked worker is before its first request: run the config's
# post_fork hook (or not), then allocate a block the size of the body pieces gunicorn copies
# and ask glibc (mallinfo2) whether it came from the heap or from a mapping of its own.
PROBE = """
import ctypes, json, runpy, sys

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2

class Log:
    warnings = []
    def warning(self, *args):
        self.warnings.append(args[0] % args[1:])

class Worker:
    log = Log()

if sys.argv[1] == "hook":
    runpy.run_path("fileflow/gunicorn.conf.py")["post_fork"](None, Worker())
before = libc.mallinfo2().hblkhd
block = bytearray(3 * 1024 * 1024)
mapped = libc.mallinfo2().hblkhd - before
print(json.dumps({
    "mapped": mapped, "warnings": Worker.log.warnings, "switch": sys.getswitchinterval()
}))
"""


def probe(tmp_path, mode):
    result = run_python(["-c", PROBE, mode], fresh_env(tmp_path))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_workers_keep_big_body_pieces_in_the_heap_instead_of_fresh_mappings(tmp_path):
    """Fresh mappings are zeroed by the kernel page by page on first touch: with glibc's
    defaults a big upload took hundreds of page faults per MiB (bench/transfer.py)."""
    assert probe(tmp_path, "defaults")["mapped"] >= 3 * 1024 * 1024  # what it guards against

    tuned = probe(tmp_path, "hook")

    assert tuned["mapped"] == 0
    assert tuned["warnings"] == []


def test_workers_hand_the_interpreter_lock_over_sooner(tmp_path):
    """A thread that holds a database lock gets the interpreter back within 0.5 ms, not 5,
    after each statement (bench/transfer.py: batches 15–30% faster)."""
    assert probe(tmp_path, "defaults")["switch"] == 0.005  # CPython's default

    assert probe(tmp_path, "hook")["switch"] == 0.0005
