"""Figures whose sources differ, a figure's own date, judgements with a condition and a
horizon, and information gaps: validated (messages asserted exactly), and read back
from the built HTML and PDF."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import TmpProject, pdf_pages_text

FLOOD = "flood-sitrep-conflicting-figures"
HEAD = """id: claims
title: Claims
as_of: 2026-03-18
countries: [ZZ]
status: final
desk: Test desk
bluf: [One., Two.]
summary: Summary.
"""
TAIL = """actors:
  - {id: office, name: District office, kind: government}
  - {id: network, name: Relief network, kind: civil society}
sources:
  - {id: bulletin, title: Bulletin, publisher: Office, kind: report, reliability: B, credibility: 2}
  - {id: appeal, title: Appeal, publisher: Network, kind: report, reliability: C, credibility: 3}
"""


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def flood(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fictional flood sitrep, built once; returns its folder in the site."""
    root = tmp_path_factory.mktemp("flood")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = TmpProject(root)
        project.add("flood_sitrep_conflicting_figures.yaml")
        result = project.run()
    assert (result.code, result.err) == (0, ""), result.err
    return root / "site/briefs" / FLOOD


@pytest.fixture(scope="module")
def flood_html(flood: Path) -> str:
    return flood.joinpath("index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def flood_pdf(flood: Path) -> list[str]:
    return [_flat(text) for text in pdf_pages_text(flood / f"{FLOOD}.pdf")]


def _squash(text: str) -> str:
    """PDF text without any spaces: pypdf runs a figure's value into the next line."""
    return re.sub(r"\s+", "", text)


def _card(html: str, number: int) -> str:
    """The text of key figure ``number``'s card on the page."""
    start = html.index(">", html.index(f'id="figure-{number}"')) + 1
    end = min(html.find(marker, start) % len(html) for marker in ('<li class="figure ', '<p class="legend"'))
    return _flat(re.sub(r"<[^>]+>", " ", html[start:end])).strip()


def _check(project: TmpProject, body: str) -> list[str]:
    project.write("claims.yaml", HEAD + body + TAIL)
    result = project.run("check", "--strict", "briefs/claims.yaml")
    return result.err.splitlines()


# --- figures whose sources differ ---------------------------------------------------------

def test_sources_that_differ_are_side_by_side_in_one_card(flood_html: str) -> None:
    card = _card(flood_html, 1)
    assert card.startswith("Sources differ 12,400 CONFIRMED BY SOURCE · given by District office "
                           "as of 16 March 2026 [1]")
    assert "about 31,000 REPORTED · given by Coordination office [2]" in card
    assert "45,000+ DISPUTED · given by Relief network [3]" in card
    assert card.endswith("people displaced in the lower valley as of 17 March 2026")
    assert flood_html.count('class="estimate figure-') == 5, "every estimate shown, none hidden"


def test_sources_that_differ_in_the_pdf(flood_pdf: list[str]) -> None:
    first = _squash(flood_pdf[0])
    for shown in ("SOURCES DIFFER 12,400 CONFIRMED BY SOURCE · given by District office as of "
                  "16 March 2026 [1]", "about 31,000 REPORTED · given by Coordination office [2]",
                  "45,000+ DISPUTED · given by Relief network [3]",
                  "people displaced in the lower valley as of 17 March 2026",
                  "SOURCES DIFFER 9 REPORTED · given by District office [1] 14 CLAIMED by Relief "
                  "network [3] health posts out of service",
                  "6 deaths as of 18 March 2026 CONFIRMED [1][2]"):
        assert _squash(shown) in first


def test_a_disputed_figure_names_who_gives_it_not_who_disputes_it(flood_html: str) -> None:
    card = _card(flood_html, 4)
    assert "DISPUTED · given by District office" in card
    assert "DISPUTED by" not in flood_html


def test_legend_explains_the_statuses_used_and_confirmed_by_source(flood_pdf: list[str]) -> None:
    assert ("Confirmed: verified by sources independent of whoever gives it. Confirmed by source: "
            "the source calls it confirmed; not verified independently. Reported: given by a "
            "source, not verified. Claimed: asserted by a party with an interest. Disputed: "
            "contradicted by another source. Sources differ: each source’s figure is shown side "
            "by side, none averaged or preferred.") in flood_pdf[0]


def test_an_estimate_list_of_one_is_an_error_with_a_hint(project: TmpProject) -> None:
    assert _check(project, """figures:
  - counts: people displaced
    estimates:
      - {value: 12, claimed_by: office, status: reported, sources: [bulletin]}
""") == [
        "briefs/claims.yaml:12:7: figures[0].estimates: has 1 estimate(s); 'estimates' is for "
        "sources that differ, so give at least 2, or write the figure in the flat form ('value', "
        "'status' and 'sources' on the figure itself)",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_flat_fields_beside_estimates_are_errors_at_each_field(project: TmpProject) -> None:
    assert _check(project, """figures:
  - counts: people displaced
    value: 12
    status: reported
    claimed_by: office
    sources: [bulletin]
    estimates:
      - {value: 12, claimed_by: office, status: reported, sources: [bulletin]}
      - {value: 40, claimed_by: network, status: claimed, sources: [appeal]}
""") == [
        "briefs/claims.yaml:11:12: figures[0].value: remove 'value': a figure with 'estimates' "
        "gives it in each estimate",
        "briefs/claims.yaml:12:13: figures[0].status: remove 'status': a figure with 'estimates' "
        "gives it in each estimate",
        "briefs/claims.yaml:13:17: figures[0].claimed_by: remove 'claimed_by': a figure with "
        "'estimates' gives it in each estimate",
        "briefs/claims.yaml:14:14: figures[0].sources: remove 'sources': a figure with 'estimates' "
        "gives it in each estimate",
        "error: 4 problems in 1 file; nothing was written",
    ]


def test_a_flat_figure_still_needs_value_status_and_sources(project: TmpProject) -> None:
    assert _check(project, """figures:
  - counts: people displaced
    as_of: 2026-03-17
""") == [
        "briefs/claims.yaml:10:5: figures[0].sources: required field is missing (or give 'estimates')",
        "briefs/claims.yaml:10:5: figures[0].status: required field is missing (or give 'estimates')",
        "briefs/claims.yaml:10:5: figures[0].value: required field is missing (or give 'estimates')",
        "error: 3 problems in 1 file; nothing was written",
    ]


def test_references_inside_estimates_are_checked(project: TmpProject) -> None:
    assert _check(project, """figures:
  - counts: people displaced
    estimates:
      - {value: 12, claimed_by: ofice, status: reported, sources: [bulletin]}
      - {value: 40, claimed_by: network, status: rumoured, sources: [apeal]}
""") == [
        "briefs/claims.yaml:12:33: figures[0].estimates[0].claimed_by: unknown actor 'ofice'; "
        "did you mean 'office'?",
        "briefs/claims.yaml:13:50: figures[0].estimates[1].status: 'rumoured' is not allowed; use "
        "one of 'confirmed', 'confirmed by source', 'reported', 'claimed' or 'disputed'",
        "briefs/claims.yaml:13:70: figures[0].estimates[1].sources[0]: unknown source 'apeal'; "
        "did you mean 'appeal'?",
        "error: 3 problems in 1 file; nothing was written",
    ]


def test_a_claimed_estimate_without_claimant_is_a_warning(project: TmpProject) -> None:
    assert _check(project, """figures:
  - counts: people displaced
    estimates:
      - {value: 12, claimed_by: office, status: reported, sources: [bulletin]}
      - {value: 40, status: claimed, sources: [appeal]}
""") == [
        "briefs/claims.yaml:13:29: figures[0].estimates[1].status: warning: a claimed estimate "
        "needs a claimant; add 'claimed_by: <actor id>'",
        "error: 1 problem in 1 file; nothing was written",
    ]


# --- judgements -----------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "meant"), [
    ("highly likely", "very likely"), ("highly probable", "very likely"), ("probable", "likely"),
    ("probably", "likely"), ("remote", "almost no chance"), ("even chance", "roughly even chance"),
    ("50/50", "roughly even chance"), ("certain", "almost certain"),
    ("almost certainly", "almost certain"), ("Likely", "likely"), ("very likley", "very likely"),
])
def test_a_likelihood_off_the_scale_suggests_its_term(project: TmpProject, written: str,
                                                      meant: str) -> None:
    lines = _check(project, f"""assessment:
  - text: A judgement.
    confidence: low
    likelihood: '{written}'
""")
    assert lines == [
        f"briefs/claims.yaml:12:17: assessment[0].likelihood: '{written}' is not on the ICD 203 "
        f"likelihood scale; did you mean '{meant}'? use one of 'almost no chance', 'very "
        "unlikely', 'unlikely', 'roughly even chance', 'likely', 'very likely' or 'almost certain'",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_a_likelihood_far_from_any_term_lists_the_scale(project: TmpProject) -> None:
    assert _check(project, """outlook:
  - {text: A judgement., confidence: low, likelihood: maybe}
""")[0] == (
        "briefs/claims.yaml:10:55: outlook[0].likelihood: 'maybe' is not on the ICD 203 "
        "likelihood scale; use one of 'almost no chance', 'very unlikely', 'unlikely', 'roughly "
        "even chance', 'likely', 'very likely' or 'almost certain'")


def test_judgements_show_probability_horizon_and_condition(flood_html: str,
                                                           flood_pdf: list[str]) -> None:
    text = " ".join(flood_pdf)
    assert ("Moderate confidence Likely (55–80%) Horizon: within two weeks Condition: if water "
            "and sanitation access is not restored Waterborne disease cases") in text
    assert "Low confidence Unlikely (20–45%) Horizon: 2026-03-25 The east bank" in text
    assert '<span class="likelihood">Likely <span class="probability">(<bdi>55–80%</bdi>)</span></span>' \
        in flood_html


# --- information gaps ---------------------------------------------------------------------

def test_gaps_are_their_own_section_and_cite_sources(flood_html: str,
                                                     flood_pdf: list[str]) -> None:
    assert '<li><a href="#gaps">What we do not know</a></li>' in flood_html, "contents"
    section = _flat(re.sub(r"<[^>]+>", " ", re.search(
        r'<section class="gaps" id="gaps">.*?</section>', flood_html, re.S).group(0)))
    assert section.strip().startswith("What we do not know # How many displaced people")
    assert "counted twice. [3]" in section and "see the bridges figure . [1] [2]" in section
    text = " ".join(flood_pdf)
    assert "What we do not know How many displaced people are staying with host families" in text
    assert "Cited in: Key figure 1, Key figure 2, Assessment 2, Gap 2" in text


def test_gaps_count_as_citations_and_unknown_gap_sources_are_errors(project: TmpProject) -> None:
    assert _check(project, """gaps:
  - The date of the attack.
  - text: Casualties on either side.
    sources: [bulletin, apeal]
  - {text: Who disputes it, sources: [appeal]}
""") == [
        "briefs/claims.yaml:12:25: gaps[1].sources[1]: unknown source 'apeal'; did you mean 'appeal'?",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_a_gap_is_text_or_text_with_sources(project: TmpProject) -> None:
    assert _check(project, """gaps:
  - 5
  - {text: Casualties., sorces: [bulletin]}
""") == [
        "briefs/claims.yaml:10:5: gaps[0]: must be text, but YAML reads 5 as the number 5; put it "
        "in quotes: '5'",
        "briefs/claims.yaml:11:25: gaps[1].sorces: unknown field 'sorces'; did you mean 'sources'?",
        "error: 2 problems in 1 file; nothing was written",
    ]


def test_links_may_point_at_gaps(project: TmpProject) -> None:
    assert _check(project, """figures:
  - {value: 1, counts: x, status: reported, sources: [bulletin], note: "See [gap](#gap-1) and [all](#gaps)."}
  - {value: 2, counts: y, status: reported, sources: [appeal], note: "See [gap](#gap-2)."}
gaps: [One.]
""") == [
        "briefs/claims.yaml:11:70: figures[1].note: links to '#gap-2', which is not an anchor of "
        "this brief; did you mean '#gap-1'?",
        "error: 1 problem in 1 file; nothing was written",
    ]


# --- the Mali brief -------------------------------------------------------------------------

def test_mali_gaps_move_from_source_notes_to_their_section(example_site: Path) -> None:
    pdf = example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf"
    pages = [_flat(text) for text in pdf_pages_text(pdf)]
    assert len(PdfReader(pdf).pages) == 4, ("the Mali brief, with its audit trail, fits on four "
                                            "A4 pages in a 9.5 pt body (print.css)")
    text = " ".join(pages)
    gaps = text[text.index("What we do not know"):text.index("Places and actors")]
    assert gaps.startswith('What we do not know The calendar date of the attacks: the article '
                           'says only “early Tuesday” and itself carries no date. [1]')
    assert "[1] Casualties among the Malian armed forces" in gaps
    assert "[2][3] Independent confirmation of either side’s figures" in gaps
    notes = text[text.index("Source notes"):]
    assert "Tuesday” attacks" not in notes and "independently confirmed" not in notes
    assert "Low confidence Likely (55–80%) Horizon: in the coming weeks" in text


def test_the_exercise_brief_names_who_gives_its_disputed_figure(example_site: Path) -> None:
    html = (example_site / "briefs/exercise-river-delta-floods/index.html").read_text()
    assert "DISPUTED · given by DRN" in _card(html, 3)
    assert "DISPUTED by" not in html
