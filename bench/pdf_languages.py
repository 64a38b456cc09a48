"""Benchmark: the cost of a localised PDF against an English one.

    .venv/bin/python bench/pdf_languages.py [repeats]

Renders briefs/exercise-wadi-samar-drought-ar.yaml with its `language` set to each
catalog language (same Arabic content; only the labels, dates and direction change),
and the Mali brief in English and French, through the real stages (load, validate,
print HTML, PdfRenderer), and prints the median render time of each (HTML + PDF).
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from fieldbrief.i18n import catalog_languages  # noqa: E402
from fieldbrief.load import load_file  # noqa: E402
from fieldbrief.project import Project  # noqa: E402
from fieldbrief.render_html import HtmlRenderer  # noqa: E402
from fieldbrief.render_pdf import PdfJob, PdfRenderer  # noqa: E402
from fieldbrief.validate import SiteRules, validate  # noqa: E402

WHEN = datetime(2026, 1, 1, tzinfo=timezone.utc)
ARABIC = "exercise-wadi-samar-drought-ar"


def cases() -> list[tuple[str, str]]:
    """(label, YAML text) of each brief to render."""
    arabic = (REPO / "briefs" / f"{ARABIC}.yaml").read_text(encoding="utf-8")
    return ([(f"exercise as {language}", arabic.replace("language: ar", f"language: {language}"))
             for language in catalog_languages()]
            + [(f"Mali {name}", (REPO / "briefs" / f"{name}.yaml").read_text(encoding="utf-8"))
               for name in ("mali-jnim-attacks", "mali-jnim-attacks-fr")])


def main(repeats: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in ("templates", "styles", "sources"):
            shutil.copytree(REPO / name, root / name)
        project = Project.load(root)
        rules = SiteRules(project.resources, project.config.default_tlp, project.config.page_size)
        html = HtmlRenderer(project.templates_dir, project.config, project.resources)
        pdf = PdfRenderer(project.styles_dir, project.resources)
        for label, text in cases():
            path = root / "brief.yaml"
            path.write_text(text, encoding="utf-8")
            brief = validate(load_file(path, 2**30), rules).brief
            times = []
            for _ in range(repeats + 1):  # the first, with its catalog and fonts loading, not counted
                started = time.perf_counter()
                page = html.print_page(brief, WHEN)
                pdf.render(PdfJob(html=page, label=label, page_size="A4", generated_at=WHEN,
                                  source_name="brief.yaml", source=b""))
                times.append(time.perf_counter() - started)
            print(f"{label:28s} {statistics.median(times[1:]):6.3f} s", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
