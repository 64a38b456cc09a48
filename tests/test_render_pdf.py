"""The built PDFs, read back with pypdf: pages, metadata, text, running header and footer."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import REPO, TmpProject, pdf_pages_text
from fieldbrief.errors import BuildFailed
from fieldbrief.render_pdf import PdfJob, PdfRenderer
from fieldbrief.resources import ResourcePolicy

MALI_SOURCE_TITLES = [
    "Jihadist Attacks Intensify in Mali, Spark Increasing Insecurity",
    "Statement of the Malian military on the Tuesday attacks",
    "JNIM statement on the operation",
    "Africom press conference (May)",
]


@pytest.fixture(scope="module")
def mali_pdf(example_site: Path) -> Path:
    return example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf"


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_page_count_and_size(mali_pdf: Path) -> None:
    reader = PdfReader(mali_pdf)
    assert 3 <= len(reader.pages) <= 5
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width), round(height)) == (595, 842), "A4 in points"


def test_metadata(mali_pdf: Path) -> None:
    meta = PdfReader(mali_pdf).metadata
    assert meta.title == "Coordinated jihadist attacks on military posts in Mali"
    assert meta.author == "Sahel desk, fieldbrief example team"
    assert "jnim" in meta["/Keywords"]


def test_every_page_has_header_and_footer(mali_pdf: Path) -> None:
    pages = pdf_pages_text(mali_pdf)
    for number, text in enumerate(pages, 1):
        assert "Mali – coordinated JNIM attacks" in text, f"header on page {number}"
        assert text.count("TLP:CLEAR") >= 2, f"TLP label in header and footer on page {number}"
        assert f"Page {number} of {len(pages)}" in text
        assert "As of 23 November 2026" in text


def test_quote_and_source_titles_are_in_the_text(mali_pdf: Path) -> None:
    text = _flat(" ".join(pdf_pages_text(mali_pdf)))
    assert ("The enemy suffered significant losses in every location where they engaged "
            "with the security and defense forces.") in text
    for title in MALI_SOURCE_TITLES:
        assert title in text
    assert "Grade F3: reliability cannot be judged; possibly true." in text


def test_figures_state_their_status_in_words(mali_pdf: Path) -> None:
    first_page = _flat(pdf_pages_text(mali_pdf)[0])
    assert "80+" in first_page and "CLAIMED by Malian military" in first_page
    assert "at least 30" in first_page and "REPORTED" in first_page


def test_citations_link_inside_the_document(mali_pdf: Path) -> None:
    reader = PdfReader(mali_pdf)
    internal = 0
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            link = annotation.get_object()
            if link.get("/Subtype") == "/Link" and "/Dest" in link:
                internal += 1
    assert internal >= 10


def test_exercise_brief_shows_translation_and_exercise_area(example_site: Path) -> None:
    text = _flat(" ".join(pdf_pages_text(
        example_site / "briefs/exercise-river-delta-floods/exercise-river-delta-floods.pdf")))
    assert "EXERCISE" in text
    assert "Exercise area (ZZ)" in text
    assert "Translation:" in text


def test_red_brief_is_marked_red_on_every_page(project: TmpProject) -> None:
    text = (REPO / "tests/briefs/valid_minimal.yaml").read_text()
    project.write("red.yaml", text.replace("status: final", "status: final\ntlp: TLP:RED\n"
                                           "handling_note: Named recipients only"))
    assert project.run().code == 0
    for page in pdf_pages_text(project.root / "restricted/valid-minimal.pdf"):
        assert "TLP:RED" in page and "TLP:CLEAR" not in page
        assert "Named recipients only" in page


@pytest.mark.parametrize(("url", "resolved"), [
    ("file:///etc/passwd", "file:///etc/passwd"),
    ("../../../../../../../../etc/hostname", "file:///etc/hostname"),
    ("http://127.0.0.1:9/x.png", "http://127.0.0.1:9/x.png"),
])
def test_pdf_renderer_refuses_resources_outside_the_project(url: str, resolved: str) -> None:
    renderer = PdfRenderer(REPO / "styles", ResourcePolicy.for_project(REPO))
    with pytest.raises(BuildFailed) as error:
        renderer.render(_job(f'<p>x</p><img src="{url}">'))
    assert str(error.value) == (
        "briefs/x.yaml: the PDF may only load files from the project's styles/, templates/ "
        f"and assets/ folders, and URLs on hosts listed in allowed_hosts; refused {resolved}")


def test_pdf_renderer_loads_project_files() -> None:
    renderer = PdfRenderer(REPO / "styles", ResourcePolicy.for_project(REPO))
    pdf = renderer.render(_job('<link rel="stylesheet" href="shared.css"><p>x</p>'))
    assert pdf.startswith(b"%PDF-")


def _job(html: str) -> PdfJob:
    return PdfJob(html=f'<html lang="en">{html}</html>', label="briefs/x.yaml", page_size="A4",
                  generated_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                  source_name="x.yaml", source=b"id: x\n")
