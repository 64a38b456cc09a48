"""Benchmark: what verifying quotes, quoted phrases and figures against an archive adds to
checking one brief.

    .venv/bin/python bench/verify_quotes.py [QUOTES] [ARCHIVE_KB]   (default 10 quotes, 50 KB)

Writes a brief with QUOTES quotes, as many phrases in quotation marks in its summary and
as many figures, all citing one source whose archive is ARCHIVE_KB of text (the Mali
article repeated) in a temporary project, then times ``validate`` (the stage ``check``
runs) with ``verification: warn`` and with ``verification: off``, best of many runs
each. The difference is the cost of the checks (with `off` the archive is still read and
hashed, for its source note). Times are the CPU time of this process, so that other
processes on a shared machine do not inflate them.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fieldbrief.project import Project  # noqa: E402
from fieldbrief.validate import SiteRules, validate  # noqa: E402

ARTICLE = REPO / "sources" / "mali-jnim-attacks-article.txt"
RUNS = 50


FIGURES = ("over 80", "three", "7", "at least 30", "80+", "seven", "3", "30", "one", "two")
"""Values the article gives in some form: each figure is found, as in a brief that verifies."""


def _brief(quotes: int, sentences: list[str]) -> str:
    # phrases: the last words of the last sentences, so each search runs through the archive
    phrases = " ".join(f'"{" ".join(sentences[-1 - n % len(sentences)].split()[-4:])}"'
                       for n in range(quotes))
    lines = ["id: bench", "title: Bench", "as_of: 2026-01-01", "countries: [ML]", "status: final",
             "desk: Bench", "bluf: [One., Two.]", f"summary: '{phrases.replace(chr(39), chr(39) * 2)}'",
             "figures:"]
    for number in range(quotes):
        lines += [f"  - {{value: '{FIGURES[number % len(FIGURES)]}', counts: things, "
                  "status: reported, sources: [article]}"]
    lines += ["quotes:"]
    for number in range(quotes):
        # the last sentences of the archive: each search runs through nearly all of it
        text = sentences[-1 - number % len(sentences)]
        lines += [f"  - text: '{text.replace(chr(39), chr(39) * 2)}'", "    speaker: Someone",
                  "    language: en", "    source: article"]
    lines += ["sources:", "  - {id: article, title: Article, publisher: Paper, kind: news report, "
              "reliability: F, credibility: 3, archive: sources/article.txt}"]
    return "\n".join(lines) + "\n"


def _best(project: Project, path: Path, rules: SiteRules) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.process_time()
        validate(project.load_brief(path), rules)
        best = min(best, time.process_time() - started)
    return best


def main(quotes: int = 10, kilobytes: int = 50) -> None:
    # every sentence of the article as a quotation, so that each quote verifies without a warning
    text = re.sub(r"([^.\n]+\.)", r'"\1"', ARTICLE.read_text(encoding="utf-8").replace('"', ""))
    archive = (text * (kilobytes * 1024 // len(text) + 1))[:kilobytes * 1024]
    sentences = [s.strip(' "') + "." for s in text.split(".") if len(s.strip(' "')) > 40][:-1]
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "sources").mkdir()
        (root / "briefs").mkdir()
        (root / "sources" / "article.txt").write_text(archive, encoding="utf-8")
        path = root / "briefs" / "bench.yaml"
        path.write_text(_brief(quotes, sentences), encoding="utf-8")
        project = Project(root)
        warn = SiteRules(project.resources)
        on, off = _best(project, path, warn), _best(project, path, replace(warn, verification="off"))
    print(f"{quotes} quotes, {quotes} quoted phrases and {quotes} figures, "
          f"{len(archive.encode()) // 1024} KB archive: check {on * 1000:.1f} ms "
          f"with verification, {off * 1000:.1f} ms without: verification adds "
          f"{(on - off) * 1000:.1f} ms (best of {RUNS})")


if __name__ == "__main__":
    main(*(int(argument) for argument in sys.argv[1:3]))
