"""Benchmark: the search-indexing step alone, over N synthetic briefs built HTML-only.

    .venv/bin/python bench/search_index.py --n 1000

Builds a fresh project of N briefs (``bench.make_project``, then ``build.py --no-pdf``),
then times, in CPU (this process and every Pagefind it runs) and wall clock:
Pagefind over every brief page in one bundle (how the build indexed before issue 16);
``SearchIndexing`` indexing every shard (a first build); and ``SearchIndexing`` after one
brief's page was written again, the other shards kept (median of 3).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

from fieldbrief.publish import Staging  # noqa: E402
from fieldbrief.search import SearchIndexing  # noqa: E402


class _Discard(Exception):
    """Leaves a staging folder unpublished."""


def cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def index(site: Path, pages: dict[str, str], written: set[str], publish: bool) -> tuple[float, float]:
    """CPU and wall seconds of indexing ``site`` with ``written`` pages marked as new."""
    try:
        with Staging(site) as staging:
            for page in pages:
                staging.keep(page)
            staging.written = set(written)
            started, spent = time.perf_counter(), cpu()
            search = SearchIndexing(staging, pages, os.cpu_count() or 1)
            search.wait()
            figures = cpu() - spent, time.perf_counter() - started
            if not publish:
                raise _Discard
    except _Discard:
        pass
    return figures


def one_bundle(site: Path, output: Path) -> tuple[float, float]:
    started, spent = time.perf_counter(), cpu()
    subprocess.run([sys.executable, "-m", "pagefind", "--site", str(site), "--glob", "briefs/**/*.html",
                    "--output-path", str(output), "--quiet"], check=True)
    return cpu() - spent, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    count = parser.parse_args().n
    with tempfile.TemporaryDirectory() as root:
        project = Path(root) / "project"
        project.mkdir()
        bench.make_project(project, count)
        bench.run_build(project, "--no-pdf", "--out", "site")
        site = project / "site"
        pages = {f"briefs/{folder.name}/index.html": "en"
                 for folder in sorted((site / "briefs").iterdir()) if folder.is_dir()}
        changed = sorted(pages)[len(pages) // 2]
        rows = [("one bundle, every page (before)", one_bundle(site, Path(root) / "one-bundle")),
                ("shards, every page (a first build)", index(site, pages, set(pages), publish=True))]
        ones = [index(site, pages, {changed}, publish=False) for _ in range(3)]
        rows.append(("shards, one page changed (median of 3)",
                     (statistics.median(c for c, _ in ones), statistics.median(w for _, w in ones))))
    print(f"| search indexing, N={count} | CPU | wall |\n|---|---|---|")
    for name, (spent, wall) in rows:
        print(f"| {name} | {spent:.2f} s | {wall:.2f} s |")


if __name__ == "__main__":
    main()
