"""Benchmark: PDF render time against the number of key figures in one brief.

    .venv/bin/python bench/pdf_key_figures.py 100 200 400 800

Renders tests/briefs/valid_minimal.yaml with N reported figures through the real
stages (load, validate, print HTML, PdfRenderer) in a fresh temporary project, and
prints the render time and page count for each N. Doubling N should about double the
time: a layout that is linear in the number of cards.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from pypdf import PdfReader

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fieldbrief.load import load_file  # noqa: E402
from fieldbrief.project import Project  # noqa: E402
from fieldbrief.render_html import HtmlRenderer  # noqa: E402
from fieldbrief.render_pdf import PdfJob, PdfRenderer  # noqa: E402
from fieldbrief.validate import SiteRules, validate  # noqa: E402

FIGURE = ("  - value: {n}\n    counts: people displaced from district {n}\n"
          "    status: reported\n    sources: [only-source]\n")
WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def brief_with_figures(count: int) -> str:
    text = (REPO / "tests/briefs/valid_minimal.yaml").read_text()
    head, rest = text.split("figures:\n")
    sources = rest[rest.index("sources:\n"):]
    return head + "figures:\n" + "".join(FIGURE.format(n=n) for n in range(1, count + 1)) + sources


def render_seconds(count: int) -> tuple[float, int]:
    """Seconds to render the brief with ``count`` figures, and its number of pages."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in ("templates", "styles"):
            shutil.copytree(REPO / name, root / name)
        path = root / "brief.yaml"
        path.write_text(brief_with_figures(count))
        project = Project.load(root)
        rules = SiteRules(project.resources, project.config.default_tlp, project.config.page_size)
        brief = validate(load_file(path, 2**30), rules).brief
        html = HtmlRenderer(project.templates_dir, project.config, project.resources).print_page(brief, WHEN)
        renderer = PdfRenderer(project.styles_dir, project.resources)
        job = PdfJob(html=html, label="brief.yaml", page_size="A4", generated_at=WHEN,
                     source_name="brief.yaml", source=b"")
        started = time.perf_counter()
        pdf = renderer.render(job)
        return time.perf_counter() - started, len(PdfReader(io.BytesIO(pdf)).pages)


def main(counts: list[int]) -> None:
    render_seconds(1)  # WeasyPrint's import and font set-up, not counted
    for count in counts:
        seconds, pages = render_seconds(count)
        print(f"{count:5d} figures: {seconds:6.2f} s, {pages} pages", flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100, 200, 400, 800])
