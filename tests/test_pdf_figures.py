"""The key-figures panel in the PDF: a long panel starts on page 1 and breaks between
cards, never inside one."""

from __future__ import annotations

import re

from conftest import TmpProject, pdf_pages_text

FIGURES = 16


def test_long_key_figures_panel_starts_on_page_one_and_breaks_between_cards(
        project: TmpProject) -> None:
    project.add("long_key_figures_panel.yaml")
    assert project.run().code == 0
    pages = [re.sub(r"\s+", " ", text) for text in pdf_pages_text(
        project.root / "site/briefs/long-key-figures-panel/long-key-figures-panel.pdf")]
    assert "7101" in pages[0], "the first card fills page 1, not page 2"
    assert "7116" not in pages[0], "the panel does go on to page 2"
    for number in range(1, FIGURES + 1):
        holding = [page for page in pages if str(7100 + number) in page]
        assert len(holding) == 1 and f"Note on figure {number}," in holding[0], \
            f"card {number} is whole on one page"
