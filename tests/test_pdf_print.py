"""Print-grade PDFs: markings, navigation, metadata, variants, page sizes, reproducibility.

Every check reads the built PDF back with pypdf.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import SCENARIOS, TmpProject, pdf_pages_text

MULTISCRIPT_PDF = "restricted/multiscript-long-timeline.pdf"  # TLP:AMBER: never on the site
EPOCH = "1767225600"  # 2026-01-01T00:00:00Z


@pytest.fixture(scope="module")
def multiscript(tmp_path_factory: pytest.TempPathFactory) -> tuple[TmpProject, str]:
    """The 40-entry, many-script test brief, built once, with the CLI's stderr."""
    root = tmp_path_factory.mktemp("multiscript")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = TmpProject(root)
        project.add("multiscript_long_timeline.yaml")
        result = project.run()
    assert result.code == 0, result.err
    return project, result.err


def _outline_titles(reader: PdfReader) -> list[tuple[int, str]]:
    titles: list[tuple[int, str]] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                titles.append((depth, item.title))

    walk(reader.outline, 0)
    return titles


def _xmp(reader: PdfReader) -> str:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


def _named_destinations(reader: PdfReader) -> set[str]:
    names = reader.trailer["/Root"]["/Names"]["/Dests"]["/Names"]
    return {str(name) for name in names[::2]}


def _link_targets(reader: PdfReader) -> list[str]:
    return [str(annotation.get_object()["/Dest"])
            for page in reader.pages for annotation in page.get("/Annots") or []
            if "/Dest" in annotation.get_object()]


def test_long_brief_has_header_and_footer_marking_on_every_page(multiscript) -> None:
    project, _ = multiscript
    pages = pdf_pages_text(project.root / MULTISCRIPT_PDF)
    assert len(pages) >= 4
    for number, text in enumerate(pages, 1):
        assert "TEST – long timeline, many scripts" in text
        assert text.count("TLP:AMBER Test recipients only") == 2, f"header and footer, page {number}"
        assert f"Page {number} of {len(pages)}" in text
        assert "As of 31 October 2026, 18:30 UTC" in text


def test_timeline_header_row_repeats_on_every_page_it_crosses(multiscript) -> None:
    project, _ = multiscript
    pages = pdf_pages_text(project.root / MULTISCRIPT_PDF)
    with_entries = [text for text in pages if "Invented event number" in text]
    assert len(with_entries) >= 3
    assert all("WHEN" in text and "WHAT HAPPENED" in text for text in with_entries)
    assert "Invented event number 40 near Niamey" in " ".join(pages)


def test_other_scripts_render_with_their_own_fonts_and_no_missing_glyph(multiscript) -> None:
    project, stderr = multiscript
    assert stderr == "", "no WeasyPrint warning, such as a .notdef glyph for a missing character"
    reader = PdfReader(project.root / MULTISCRIPT_PDF)
    fonts = {str(font.get_object()["/BaseFont"]).split("+", 1)[1]
             for page in reader.pages for font in page["/Resources"]["/Font"].values()}
    assert {"Noto-Sans", "Noto-Sans-Arabic", "Noto-Sans-NKo", "Noto-Sans-Tifinagh"} <= fonts
    text = " ".join(pdf_pages_text(project.root / MULTISCRIPT_PDF))
    assert "Мали, Нигер" in text and "à l’est de Ségou" in text
    assert "We need water and food; the road has been cut for a week." in text


def test_fonts_are_subsets(multiscript) -> None:
    project, _ = multiscript
    reader = PdfReader(project.root / MULTISCRIPT_PDF)
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            assert re.match(r"/[A-Z]{6}\+", str(font.get_object()["/BaseFont"])), "subset prefix"


def test_bookmarks_cover_every_section(example_site: Path) -> None:
    reader = PdfReader(example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf")
    assert _outline_titles(reader) == [
        (0, "Coordinated jihadist attacks on military posts in Mali"),
        (1, "Bottom line up front"), (1, "Key figures"), (1, "Situation summary"),
        (1, "Timeline"), (1, "Quotes"), (1, "Assessment"), (1, "Outlook"),
        (1, "Estimative language"), (1, "What we do not know"), (1, "Places and actors"), (2, "Places"), (2, "Actors"),
        (1, "Source notes"), (1, "Revision history"),
    ]


def test_citations_and_back_links_point_at_existing_destinations(example_site: Path) -> None:
    reader = PdfReader(example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf")
    destinations, targets = _named_destinations(reader), _link_targets(reader)
    assert set(targets) <= destinations
    assert {"source-rtw-article", "source-fama-statement"} <= set(targets), "citations"
    assert {"figure-1", "timeline-3", "quote-1", "assessment-1", "outlook-1"} <= set(targets), \
        "back-links from source notes"


def test_source_notes_show_grade_meaning_and_where_cited(example_site: Path) -> None:
    text = re.sub(r"\s+", " ", " ".join(pdf_pages_text(
        example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf")))
    assert "Grade D6: not usually reliable; truth cannot be judged." in text
    assert "Cited in: Key figure 1, Timeline entry 3, Timeline entry 4, Quote 1" in text


def test_estimative_language_legend(example_site: Path) -> None:
    text = re.sub(r"\s+", " ", " ".join(pdf_pages_text(
        example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf")))
    assert "Estimative language" in text
    assert "Roughly even chance 45–55%" in text and "Almost certain 95–99%" in text
    assert "Moderate confidence Likely" in text


def test_metadata_and_dates_with_source_date_epoch(project: TmpProject, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    project.add("valid_minimal.yaml")
    assert project.run().code == 0
    reader = PdfReader(project.root / "site/briefs/valid-minimal/valid-minimal.pdf")
    meta = reader.metadata
    assert (meta.title, meta.author, meta.subject) == (
        "Minimal valid brief", "Test desk", "Minimal valid brief")
    assert meta.creator == "fieldbrief 0.1.0"
    assert meta["/CreationDate"] == meta["/ModDate"] == "D:20260101000000+00'00"
    assert reader.trailer["/Root"]["/Lang"] == "en"


def test_dates_are_the_build_time_without_source_date_epoch(project: TmpProject, monkeypatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    project.add("valid_minimal.yaml")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    assert project.run().code == 0
    after = datetime.now(timezone.utc)
    created = PdfReader(project.root / "site/briefs/valid-minimal/valid-minimal.pdf").metadata.creation_date
    assert before <= created <= after


@pytest.mark.parametrize("variant", [[], ["--pdf-variant", "pdf/a-3b"], ["--pdf-variant", "pdf/ua-1"]])
def test_same_input_and_epoch_give_identical_bytes(project: TmpProject, monkeypatch, variant) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    project.add("valid_minimal.yaml")
    assert project.run("--out", "one", *variant).code == 0
    assert project.run("--out", "two", *variant).code == 0
    pdf = "briefs/valid-minimal/valid-minimal.pdf"
    assert (project.root / "one" / pdf).read_bytes() == (project.root / "two" / pdf).read_bytes()


def test_default_output_is_tagged(example_site: Path) -> None:
    root = PdfReader(example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf").trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root


def test_pdf_a_3b_carries_its_yaml_source(project: TmpProject) -> None:
    source = project.add("valid_minimal.yaml")[0]
    assert project.run("--pdf-variant", "pdf/a-3b").code == 0
    reader = PdfReader(project.root / "site/briefs/valid-minimal/valid-minimal.pdf")
    assert reader.attachments == {"valid_minimal.yaml": [source.read_bytes()]}
    intent = reader.trailer["/Root"]["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert "/DestOutputProfile" in intent
    xmp = _xmp(reader)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp)


def test_pdf_ua_1_is_tagged_and_identified(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    assert project.run("--pdf-variant", "pdf/ua-1").code == 0
    reader = PdfReader(project.root / "site/briefs/valid-minimal/valid-minimal.pdf")
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert re.search(r'pdfuaid:part="1"|<pdfuaid:part>1</pdfuaid:part>', _xmp(reader))


def test_unknown_variant_is_a_usage_error(project: TmpProject) -> None:
    result = project.run("--pdf-variant", "pdf/x-4")
    assert result.code == 2
    assert "invalid choice: 'pdf/x-4'" in result.err


def _page_size(path: Path) -> tuple[int, int]:
    box = PdfReader(path).pages[0].mediabox
    return round(float(box.width)), round(float(box.height))


def test_letter_by_option_and_per_brief(project: TmpProject) -> None:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    project.write("a4.yaml", text.replace("id: valid-minimal", "id: chooses-a4\npage_size: A4"))
    project.write("default.yaml", text)
    assert project.run("--page-size", "Letter").code == 0
    site = project.root / "site/briefs"
    assert _page_size(site / "valid-minimal/valid-minimal.pdf") == (612, 792), "US Letter"
    assert _page_size(site / "chooses-a4/chooses-a4.pdf") == (595, 842), "the brief's own A4"


def test_invalid_source_date_epoch_is_reported(project: TmpProject, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    project.add("valid_minimal.yaml")
    result = project.run()
    assert result.code == 1
    assert result.err == ("error: SOURCE_DATE_EPOCH must be a number of seconds since 1970, "
                          "not 'yesterday'; nothing was written\n")
