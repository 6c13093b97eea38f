"""Every benchmark in bench/ runs once, with its smallest options, on the suite's database
(SQLite; PostgreSQL in the PostgreSQL pass) and prints its figures.

The figures themselves are not judged here (numbers belong to the benchmarks); what is
checked is that each script still runs against today's code and says what it measured, so
a benchmark that broke is found when it breaks, not when someone next needs its figures.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from tests.integration.helpers import database_url_for_tests
from tests.utils import ROOT, fresh_env, tool

pytestmark = pytest.mark.django_db(transaction=True)

N = r"[\d,.]+"  # a figure as the scripts print it: 1,234 or 12.5


@dataclass(frozen=True)
class Bench:
    args: list[str]
    figures: list[str]  # a regular expression per line that must be printed
    tools: list[str] = field(default_factory=list)


BENCHES: dict[str, Bench] = {
    "account_scale": Bench(
        ["--sizes", "300,600", "--repeat", "1"],
        [
            rf"^page: favourites +{N} +{N} +{N}",
            rf"^page: search a name +{N} +{N} +{N}",
            rf"^dav: PROPFIND a file +{N} +{N} +{N}",
            rf"^admin: nodes, search a name +{N} +{N} +{N}",
            r"^after ANALYZE: median ms",
        ],
    ),
    "big_folder": Bench(
        ["--big", "20", "--rounds", "1"],
        [
            rf"^ +20 entries: best +{N} ms +median +{N} ms$",
            rf"^ +10 entries: best +{N} ms",
            rf"^20 vs 10 entries: {N}x \(best\), {N}x \(median\)$",
        ],
        tools=["chromium"],
    ),
    "content_search": Bench(
        ["--docs", "20", "--users", "2", "--words", "20", "--repeat", "1", "--extract", "1"],
        [
            rf"^pdf \(5 pages\) +{N} +{N} +{N}$",
            rf"^all +{N} +{N}$",
            rf"^  engine \(page \+ snippets\) +median +{N} ms",
            rf"^  ratio of medians: {N}; p95 engine {N} ms$",
            r"^3\. Index size per document: text [\d,]+ B, ",
            rf"^Goal: median <= {N} ms; worst engine median here: {N} ms$",
        ],
    ),
    "mime": Bench(
        ["--repeat", "1", "--calls", "5"],
        [
            rf"^known: PNG \(ours\) +image/png +{N} +{N} +{N}$",
            rf"^unknown binary \(random\) +application/octet-stream +{N} +{N} +{N}$",
        ],
    ),
    "people": Bench(
        # The script reads first pages of 50: at least 50 shares and 50 files.
        ["--owners", "5", "--folders", "10", "--files", "1", "--listing", "5", "--repeat", "1"],
        [
            rf"^  shared with me, first page +median +{N} ms",
            rf"^  access check on a listing: [+-]?{N} ms \(median",
            rf"^  search of shared files / same search of own files: {N}$",
        ],
    ),
    "propfind": Bench(
        ["--entries", "20", "--rounds", "1"],
        [rf"^  ours +median +{N} ms", rf"^  wsgidav +median +{N} ms", rf"^  wsgidav/ours: {N}x$"],
    ),
    "search_names": Bench(
        ["--nodes", "200", "--users", "2", "--repeat", "1"],
        [
            rf"^report +engine \(page\) +{N} +{N} +{N}x$",
            rf"^zanzibar +plain icontains scan \(page\) +{N} +{N} +{N}x$",
            rf"^Goal: median <= {N} ms; worst engine median here: {N} ms$",
        ],
    ),
    "transfer": Bench(
        [
            *("--size-mib", "4", "--small", "20", "--clients", "2", "--batch", "10"),
            *("--small-rounds", "1"),
        ],
        [
            rf"^raw PUT through gunicorn: +{N} MiB/s +ratio {N}",
            rf"^multipart POST through gunicorn: +{N} MiB/s +ratio {N}",
            rf"^download via gunicorn: +{N} MiB/s +nginx {N} MiB/s +ratio {N}",
            rf"^20 x 4 KiB by 2 clients: +FileFlow +{N} files/s .* ratio {N}",
            rf"^  the same, 10 files per request: FileFlow +{N} files/s .* ratio {N}",
        ],
        tools=["nginx", "rclone"],
    ),
    "tree_scale": Bench(
        # Accounts of 1,000 nodes and more hold the subtrees (10 times --subtree).
        ["--sizes", "300,1000", "--subtree", "100", "--flat", "300", "--repeat", "1"],
        [
            rf"^upload into +300-node account, first +folder: median +{N} ms",
            rf"^upload into +1,000-node account, last +folder: median +{N} ms",
            rf"^  first ÷ last: {N} ",
            rf"^move a 10\d-node folder: +median +{N} ms",
            rf"^copy a 2\d-node folder: +median +{N} ms",
            rf"^trash \+ restore a 10\d-node folder: +median +{N} ms",
            rf"^first page of a 300-entry folder: +median +{N} ms",
            rf"\(baseline\): median +{N} ms .* ratio {N}$",
        ],
    ),
    "tus": Bench(
        ["--size-mib", "4", "--chunks-mib", "1,2", "--repeat", "1"],
        [
            rf"^ +PUT: median +{N} s +{N} MiB/s",
            rf"^ +tus 1 MiB: median +{N} s +{N} MiB/s +ratio to PUT {N}",
            rf"^ +tus 2 MiB: median +{N} s +{N} MiB/s +ratio to PUT {N}",
        ],
    ),
    "web_upload": Bench(
        ["--files", "10", "--size", "100", "--rounds", "1"],
        [
            rf"^ *a PUT per file: median +{N} s +{N} files/s",
            rf"^ *50 to a request: median +{N} s +{N} files/s",
            rf"^grouped is {N}x as fast as a PUT per file$",
        ],
        tools=["chromium"],
    ),
    "webdav": Bench(
        [
            *("--size-mib", "4", "--small", "20", "--entries", "20"),
            *("--transfers", "2", "--workers", "1"),
        ],
        [
            rf"^rclone copy 20 x 4 KiB \(2 transfers\): FileFlow +{N} files/s .* ratio {N}$",
            rf"^4 MiB PUT: +raw API +{N} MiB/s +WebDAV +{N} MiB/s +ratio {N}",
            rf"^4 MiB GET: +raw API +{N} MiB/s +WebDAV +{N} MiB/s +ratio {N}",
            rf"^PROPFIND Depth 1 of 20 entries: FileFlow median {N} ms .* ratio {N}$",
        ],
        tools=["rclone"],
    ),
}


def test_every_benchmark_is_smoke_tested():
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py") if not path.stem.startswith("_")}
    assert scripts == set(BENCHES)


@pytest.mark.parametrize("name", sorted(BENCHES))
def test_the_benchmark_runs_and_prints_its_figures(name, tmp_path):
    bench = BENCHES[name]
    for needed in bench.tools:
        tool(needed)
    env = fresh_env(tmp_path, DATABASE_URL=database_url_for_tests(), DJANGO_DEBUG="false")
    done = subprocess.run(
        [sys.executable, f"bench/{name}.py", *bench.args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    missing = [
        pattern for pattern in bench.figures if not re.search(pattern, done.stdout, re.MULTILINE)
    ]
    assert not missing, f"not printed: {missing}\n{done.stdout}"
