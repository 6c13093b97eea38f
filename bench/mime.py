"""MIME detection per file: ``files.mime.sniff`` on an 8 KiB head, against SHA-256 of the
same head measured in the same run (a ratio, since these machines are noisy).

    .venv/bin/python bench/mime.py [--repeat N]

Heads (made here, no files needed): text (a log, HTML), known binaries answered by our
own signatures (PNG, gzip, MP4), structured binaries left to libmagic (tar, ELF), and an
unknown binary (8 KiB of random bytes: opaque, so libmagic is not asked). For each, the
median over rounds of the CPU time (``time.process_time``) of a batch of calls, in µs per
call, and its ratio to SHA-256 of the same head; then, for comparison, libmagic itself on
the unknown binary (what the detection cost before it was skipped). Goal (issue 10 §4):
well under 100 µs per file.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import random
import statistics
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

import magic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fileflow.settings")
os.environ.setdefault("FILEFLOW_DATA_DIR", "/tmp/fileflow-bench")
import django

django.setup()

from files.ingest import HEAD_SIZE  # noqa: E402
from files.mime import sniff  # noqa: E402


def _tar() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        info = tarfile.TarInfo("notes.txt")
        data = b"some notes\n" * 100
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def heads() -> dict[str, bytes]:
    noise = random.Random(4).randbytes(HEAD_SIZE * 2)
    log = b"".join(b"2026-12-05 01:00:%02d INFO request served in 12 ms\n" % i for i in range(60))
    html = b"<!DOCTYPE html><html><head><title>x</title></head><body>" + b"<p>hi</p>" * 900
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06"
    mp4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    elf = b"\x7fELF\x02\x01\x01" + b"\x00" * 9 + b"\x03\x00\x3e\x00\x01\x00\x00\x00"
    found = {
        "text: log": log,
        "text: HTML": html,
        "known: PNG (ours)": png + noise,
        "known: gzip (ours)": gzip.compress(noise),
        "known: MP4 (ours)": mp4 + noise,
        "structured: tar (libmagic)": _tar(),
        "structured: ELF (libmagic)": elf + bytes(HEAD_SIZE),
        "unknown binary (random)": os.urandom(HEAD_SIZE),
    }
    return {name: head[:HEAD_SIZE] for name, head in found.items()}


def cpu_us(fn: Callable[[bytes], object], head: bytes, calls: int) -> float:
    started = time.process_time()
    for _ in range(calls):
        fn(head)
    return (time.process_time() - started) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds (default 15)")
    parser.add_argument("--calls", type=int, default=200, help="calls per round (default 200)")
    args = parser.parse_args()
    libmagic = magic.Magic(mime=True)

    def detect(head: bytes) -> str:
        return sniff(head, "no-extension")

    cases: list[tuple[str, bytes, Callable[[bytes], object]]] = [
        (name, head, detect) for name, head in heads().items()
    ]
    random_head = heads()["unknown binary (random)"]
    cases.append(("libmagic alone, random (before)", random_head, libmagic.from_buffer))
    print(f"{HEAD_SIZE} B heads, {args.repeat} rounds x {args.calls} calls, CPU time medians")
    print(f"{'head':34} {'type':28} {'µs/call':>8} {'sha256 µs':>10} {'÷ sha256':>9}")
    for name, head, detect in cases:
        ours, baseline = [], []
        for _ in range(args.repeat):  # interleaved with its baseline, round by round
            ours.append(cpu_us(detect, head, args.calls))
            baseline.append(cpu_us(hashlib.sha256, head, args.calls))
        mine, base = statistics.median(ours), statistics.median(baseline)
        answer = str(detect(head))
        print(f"{name:34} {answer:28} {mine:8.1f} {base:10.1f} {mine / base:9.1f}")


if __name__ == "__main__":
    main()
