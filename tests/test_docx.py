"""Word output (--docx, or docx: true in site.yaml): read back with python-docx, placed
and gated by the publishing policy like the PDF."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn

from conftest import REPO, SCENARIOS, TmpProject, pdf_pages_text
from fieldbrief.load import load_file
from fieldbrief.policy import PublishingPolicy, gate
from fieldbrief.render_docx import render_docx
from fieldbrief.resources import ResourcePolicy
from fieldbrief.validate import SiteRules, validate

MALI = "mali-jnim-attacks"
EXERCISE = "exercise-river-delta-floods"


@pytest.fixture
def built(project: TmpProject) -> Path:
    """The repository's two briefs built with --docx (HTML only, for speed): the site."""
    project.add(f"{MALI}.yaml", f"{EXERCISE}.yaml", source=REPO / "briefs")
    shutil.copytree(REPO / "assets", project.root / "assets")
    run = project.run("--docx", "--no-pdf", "-j", "1")
    assert run.code == 0, run.err
    return project.root / "site"


def _word(site: Path, brief_id: str) -> docx.document.Document:
    return docx.Document(str(site / "briefs" / brief_id / f"{brief_id}.docx"))


def _page_contents(site: Path, brief_id: str) -> list[str]:
    """The entries of the table of contents of the brief's web page."""
    page = (site / "briefs" / brief_id / "index.html").read_text(encoding="utf-8")
    contents = re.search(r'<nav class="toc".*?</nav>', page, re.DOTALL)
    assert contents is not None
    return [re.sub(r"<[^>]+>", "", entry).strip() for entry in re.findall(r"<a [^>]*>(.*?)</a>", contents[0])]


@pytest.mark.parametrize("brief_id", [MALI, EXERCISE])
def test_word_file_has_the_sections_of_the_page_contents_as_headings_in_order(built: Path,
                                                                            brief_id: str) -> None:
    document = _word(built, brief_id)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == _page_contents(built, brief_id)
    assert document.paragraphs[0].style.name == "Title"


def test_word_file_of_the_mali_brief_has_its_figures_and_timeline_as_tables(built: Path) -> None:
    document = _word(built, MALI)
    first_rows = [[cell.text for cell in table.rows[0].cells] for table in document.tables]
    assert ["Figure", "What it counts", "Status", "Given by", "Sources"] in first_rows
    assert ["Date", "Event", "Sources"] in first_rows
    figures = next(t for t in document.tables if t.rows[0].cells[0].text == "Figure")
    assert any("80" in row.cells[0].text for row in figures.rows[1:])
    assert all(re.fullmatch(r"(\[\d+\])+", row.cells[-1].text) for row in figures.rows[1:])


def test_word_file_cites_sources_by_numbers_linked_to_bookmarked_source_notes(built: Path) -> None:
    body = _word(built, MALI).element.body
    anchors = {link.get(qn("w:anchor")) for link in body.iter(qn("w:hyperlink"))} - {None}
    bookmarks = {mark.get(qn("w:name")) for mark in body.iter(qn("w:bookmarkStart"))}
    assert anchors and anchors <= bookmarks
    assert "source_1" in anchors


def test_word_file_quotes_carry_the_language_of_their_words(built: Path) -> None:
    document = _word(built, EXERCISE)
    quote = next(p for p in document.paragraphs if p.style.name == "Quote")
    assert quote.text.startswith("“L'eau monte encore")
    assert quote.runs[0]._r.rPr.find(qn("w:lang")).get(qn("w:val")) == "fr"
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}").get(qn("w:val")) == "en"


def test_word_file_properties_name_title_author_language_and_label(built: Path) -> None:
    properties = _word(built, MALI).core_properties
    assert (properties.title, properties.author, properties.language) == (
        "Coordinated jihadist attacks on military posts in Mali", "Sahel desk, fieldbrief example team", "en")
    assert (properties.category, properties.content_status) == ("TLP:CLEAR", "final")


def _green_brief(project: TmpProject) -> Path:
    text = (REPO / "briefs" / f"{MALI}.yaml").read_text(encoding="utf-8")
    return project.write(f"{MALI}.yaml", text.replace(
        "tlp: TLP:CLEAR", "tlp: TLP:GREEN\nhandling_note: Not for release to the press."))


def test_every_page_header_and_footer_carries_the_label_and_handling_note(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("publish_tlp: [TLP:CLEAR, TLP:GREEN]\ndocx: true\n",
                                            encoding="utf-8")
    _green_brief(project)
    run = project.run("--no-pdf", "-j", "1")
    assert run.code == 0, run.err
    section = _word(project.root / "site", MALI).sections[0]
    assert not section.different_first_page_header_footer
    assert section.header.paragraphs[0].text == "TLP:GREEN  Not for release to the press.  ·  Mali – coordinated JNIM attacks"
    assert section.footer.paragraphs[0].text.startswith("TLP:GREEN  Not for release to the press.  ·  Page ")


def test_word_file_of_a_brief_the_site_may_not_publish_goes_to_the_restricted_folder(
        project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("docx: true\n", encoding="utf-8")
    _green_brief(project)
    run = project.run("--no-pdf", "-j", "1")
    assert run.code == 0, run.err
    assert not list((project.root / "site").rglob("*.docx"))
    assert docx.Document(str(project.root / "restricted" / f"{MALI}.docx")).core_properties.category == "TLP:GREEN"


def _rendered(name: str, tlp: str | None = None) -> bytes:
    loaded = load_file(REPO / "briefs" / name)
    brief = validate(loaded, SiteRules(ResourcePolicy.for_project(REPO))).brief
    if tlp:
        brief = brief.model_copy(update={"tlp": tlp})
    return render_docx(brief, datetime(2026, 11, 30, tzinfo=timezone.utc))


def _staged(tmp_path: Path, data: bytes) -> Path:
    folder = tmp_path / "site" / "briefs" / MALI
    folder.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "briefs" / "valid_minimal.yaml", folder / "unrelated.yaml")
    (folder / f"{MALI}.docx").write_bytes(data)
    return tmp_path / "site"


def test_gate_refuses_a_staged_word_file_labelled_amber(tmp_path: Path) -> None:
    site = _staged(tmp_path, _rendered(f"{MALI}.yaml", "TLP:AMBER"))
    assert f"the site may not carry briefs/{MALI}/{MALI}.docx: it is labelled TLP:AMBER, and this " \
           "site publishes TLP:CLEAR only" in gate(site, PublishingPolicy(("TLP:CLEAR",)))


def test_gate_refuses_a_word_file_whose_header_shows_another_label(tmp_path: Path) -> None:
    data = _rendered(f"{MALI}.yaml")
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for entry in source.infolist():
                part = source.read(entry)
                if entry.filename.startswith("word/header"):
                    part = part.replace(b"TLP:CLEAR", b"TLP:RED")
                target.writestr(entry, part)
    site = _staged(tmp_path, out.getvalue())
    assert f"the site may not carry briefs/{MALI}/{MALI}.docx: it shows a TLP:RED label: it is " \
           "labelled TLP:RED, and this site publishes TLP:CLEAR only" in gate(site, PublishingPolicy(("TLP:CLEAR",)))


def test_gate_refuses_a_word_file_without_its_label(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    site = _staged(tmp_path, buffer.getvalue())
    assert f"the site may not carry briefs/{MALI}/{MALI}.docx: it is a Word file without its handling " \
           "label in its document properties (category and content status)" in \
           gate(site, PublishingPolicy(("TLP:CLEAR",)))


def test_word_file_is_byte_identical_for_the_same_build_date() -> None:
    assert _rendered(f"{EXERCISE}.yaml") == _rendered(f"{EXERCISE}.yaml")


def test_word_files_are_made_only_when_asked(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert not list((project.root / "site").rglob("*.docx"))
    run = project.run("--no-pdf", "--docx", "-j", "1")
    assert run.code == 0, "the flag rebuilds the brief"
    assert run.out.splitlines()[-1].startswith("built 1 brief (HTML and Word) into site/ in ")
    assert (project.root / "site" / "briefs" / "valid-minimal" / "valid-minimal.docx").is_file()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (libreoffice-writer-nogui) "
                    "is not installed; the Word file is then only read back with python-docx")
def test_libreoffice_converts_the_mali_word_file_to_pdf_with_its_marking(built: Path, tmp_path: Path) -> None:
    source = built / "briefs" / MALI / f"{MALI}.docx"
    done = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profile",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(source)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    pages = pdf_pages_text(tmp_path / f"{MALI}.pdf")
    assert len(pages) > 1
    assert all("TLP:CLEAR" in page for page in pages), "every page carries the label"
    assert "Bottom line up front" in pages[0]


def test_word_file_of_a_brief_in_arabic_runs_right_to_left() -> None:
    loaded = load_file(REPO / "briefs" / f"{MALI}.yaml")
    brief = validate(loaded, SiteRules(ResourcePolicy.for_project(REPO))).brief
    document = docx.Document(io.BytesIO(render_docx(brief.model_copy(update={"language": "ar-SD"}),
                                                    datetime(2026, 11, 30, tzinfo=timezone.utc))))
    defaults = document.styles.element.find(qn("w:docDefaults"))
    assert defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}").get(qn("w:bidi")) == "ar-SD"
    assert [child.tag for child in defaults.find(f"{qn('w:pPrDefault')}/{qn('w:pPr')}")] == [
        qn("w:bidi"), qn("w:spacing")]
    assert document.core_properties.language == "ar-SD"


def _all_text(document: docx.document.Document) -> str:
    """Every paragraph, table cell, header and footer of a Word file, as one text."""
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    section = document.sections[0]
    parts += [p.text for p in (*section.header.paragraphs, *section.footer.paragraphs)]
    return " ".join(" ".join(parts).split())


def test_word_file_of_the_french_mali_brief_has_no_english_label() -> None:
    from fieldbrief.maps import brief_map
    from test_i18n import english_in, english_labels

    loaded = load_file(REPO / "briefs" / f"{MALI}-fr.yaml")
    brief = validate(loaded, SiteRules(ResourcePolicy.for_project(REPO))).brief
    document = docx.Document(io.BytesIO(render_docx(brief, datetime(2026, 11, 30, tzinfo=timezone.utc),
                                                    locator=brief_map(brief))))
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[:3] == ["L’essentiel", "Chiffres clés", "Carte"]
    text = _all_text(document)
    for quote in brief.quotes:  # quotes keep the language they were spoken in
        text = text.replace(quote.text, "")
    assert english_in(text, english_labels("fr")) == []
    assert "À jour au : 23 novembre 2026" in text
    assert "Carte : Mali ; lieux représentés : aucun lieu" in text
    assert ["Chiffre", "Ce qu’il compte", "Statut", "Donné par", "Sources"] in [
        [cell.text for cell in table.rows[0].cells] for table in document.tables]


def test_word_file_describes_the_generated_map_by_its_countries_names() -> None:
    from fieldbrief.maps import brief_map

    brief = validate(load_file(REPO / "briefs" / f"{MALI}.yaml"), SiteRules(ResourcePolicy.for_project(REPO))).brief
    document = docx.Document(io.BytesIO(render_docx(brief, datetime(2026, 11, 30, tzinfo=timezone.utc),
                                                    locator=brief_map(brief))))
    assert ("Map: Mali; places shown: no places (the map itself is on the web page and in the PDF)"
            in [p.text for p in document.paragraphs])
