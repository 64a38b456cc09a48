"""The TLP marking in the PDF's running header and footer, for every label and any
length of handling note: the label in its colour on black (TLP 2.0), the note beside
it as ordinary dark text, all on one line; the whole note in the title block.

Read back two ways: the text of the built PDF (pypdf), and WeasyPrint's layout of
the same document (its margin boxes, their lines and colours).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from weasyprint.formatting_structure.boxes import Box, InlineBlockBox, LineBox, TextBox

from conftest import SCENARIOS, TmpProject, pdf_pages_text
from fieldbrief.load import load_file
from fieldbrief.project import Project
from fieldbrief.render_html import HtmlRenderer
from fieldbrief.render_pdf import PdfJob, PdfRenderer
from fieldbrief.validate import SiteRules, validate

LABEL_COLOURS = {"TLP:CLEAR": (255, 255, 255), "TLP:GREEN": (0x33, 0xFF, 0x00),
                 "TLP:AMBER": (0xFF, 0xC0, 0x00), "TLP:AMBER+STRICT": (0xFF, 0xC0, 0x00),
                 "TLP:RED": (0xFF, 0x2B, 0x2B)}
NOTE_60 = "Share only with partner agencies of the Sahel working group."
NOTE_300 = ("Share only with the named partner agencies of the Sahel working group, "
            "and only for planning the relief convoys; do not forward, quote or summarise "
            "it in any other channel, and destroy printed copies after the coordination "
            "meeting of the fifth, as agreed with the originating desk in writing by all.")
RUNNING_MARKINGS = ("@top-right", "@bottom-right")


def _slug(label: str) -> str:
    return re.sub(r"[^a-z]+", "-", label.lower().removeprefix("tlp:"))


def _brief(label: str, note: str) -> str:
    return (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "id: valid-minimal", f"id: marked-{_slug(label)}").replace(
        "status: final", f"status: final\ntlp: {label}\nhandling_note: {note}")


def _layout(project: TmpProject, text: str) -> list[dict[str, Box]]:
    """Each page's margin boxes, by at-rule name, for the brief ``text``."""
    path = project.write("brief.yaml", text)
    loaded = Project.load(project.root)
    rules = SiteRules(loaded.resources, loaded.config.default_tlp, loaded.config.page_size)
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    html = HtmlRenderer(loaded.templates_dir, loaded.config, loaded.resources).print_page(
        validate(load_file(path), rules).brief, when)
    document = PdfRenderer(loaded.styles_dir, loaded.resources).layout(PdfJob(
        html=html, label="briefs/brief.yaml", page_size="A4", generated_at=when,
        source_name="brief.yaml", source=b""))
    return [{box.at_keyword: box for box in page._page_box.children if hasattr(box, "at_keyword")}
            for page in document.pages]


def _descendants(box: Box) -> list[Box]:
    found = []
    for child in getattr(box, "children", []):
        found.append(child)
        found.extend(_descendants(child))
    return found


def _lines(box: Box) -> list[LineBox]:
    """The lines of a margin box's own text (not those inside an inline block)."""
    lines, waiting = [], list(getattr(box, "children", []))
    while waiting:
        child = waiting.pop()
        if isinstance(child, LineBox):
            lines.append(child)
        elif not isinstance(child, InlineBlockBox):
            waiting.extend(getattr(child, "children", []))
    return lines


def _rgb(colour) -> tuple[int, int, int]:
    return tuple(round(channel * 255) for channel in colour.to("srgb").coordinates)


def _text_box(box: Box, start: str) -> TextBox:
    return next(b for b in _descendants(box) if isinstance(b, TextBox) and b.text.startswith(start))


@pytest.mark.parametrize("label", LABEL_COLOURS)
@pytest.mark.parametrize("note", [NOTE_60, NOTE_300], ids=["60-characters", "300-characters"])
def test_running_marking_is_one_line_label_on_black_and_note_in_ink(
        project: TmpProject, label: str, note: str) -> None:
    for number, boxes in enumerate(_layout(project, _brief(label, note)), 1):
        assert len(_lines(boxes["@bottom-center"])) == 1, f"'Page N of M' on one line, page {number}"
        for name in RUNNING_MARKINGS:
            margin = boxes[name]
            assert len(_lines(margin)) == 1, f"{name} on one line, page {number}"
            label_text = _text_box(margin, "TLP:")
            assert label_text.text == label
            assert _rgb(label_text.style["color"]) == LABEL_COLOURS[label]
            label_box = next(b for b in _descendants(margin)
                             if isinstance(b, InlineBlockBox) and label_text in _descendants(b))
            assert _rgb(label_box.style["background_color"]) == (0, 0, 0), "label on black"
            note_text = _text_box(margin, note[:20])
            assert max(_rgb(note_text.style["color"])) < 64, "the note is dark ordinary text"
            running = margin.children[0]
            assert running.position_x + running.width <= margin.position_x + margin.width + 0.01, \
                "the marking stays inside its margin box"


def test_every_label_and_page_number_read_back_on_one_line(project: TmpProject) -> None:
    for label in LABEL_COLOURS:
        project.write(f"{_slug(label)}.yaml", _brief(label, NOTE_60))
    assert project.run().code == 0
    for label in LABEL_COLOURS:
        [pdf] = [*(project.root / "site").glob(f"**/marked-{_slug(label)}.pdf"),
                 *(project.root / "restricted").glob(f"marked-{_slug(label)}.pdf")]
        pages = pdf_pages_text(pdf)
        for number, text in enumerate(pages, 1):
            marking = f"{label} {NOTE_60[:10]}"
            lines, page = text.splitlines(), f"Page {number} of {len(pages)}"
            assert any(line.startswith("Minimal valid brief") and marking in line for line in lines), \
                f"header of {pdf.name}, page {number}"
            assert any(line.startswith("As of ") and page in line and marking in line
                       for line in lines), f"footer of {pdf.name}, page {number}"
        assert NOTE_60 in re.sub(r"\s+", " ", pages[0]), "the whole note in the title block"
