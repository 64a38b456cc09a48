"""Series of numbered issues: changes computed against the previous issue, shown in the
page and the PDF; navigation, series pages and feeds; corrections rebuild the next issue's
box and nothing else; numbering errors at their positions; and the publishing policy
(an issue never shows a value from an issue its audience may not see)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import REPO, TmpProject, pdf_pages_text
from fieldbrief.i18n import localizer
from fieldbrief.series import MINUS, _compare

EPOCH = "1767225600"
ISSUES = [f"velande-floods-sitrep-{n}" for n in (1, 2, 3)]


def with_example_series(project: TmpProject) -> None:
    """The example issues (their series is declared in every test project)."""
    project.add(*(f"{name}.yaml" for name in ISSUES), source=REPO / "briefs")


def page(project: TmpProject, brief_id: str) -> str:
    return (project.root / "site" / "briefs" / brief_id / "index.html").read_text(encoding="utf-8")


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split()).replace(" :", ":")


def box(page_html: str) -> list[str]:
    """The lines of the 'Changes since' box, as a reader sees them."""
    found = re.search(r'<section class="series-changes".*?</section>', page_html, re.S)
    assert found, "the page has a changes box"
    heading = text_of(re.search(r"<h2.*?</h2>", found[0], re.S)[0])
    return [heading, *(text_of(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", found[0], re.S))]


def rendered(out: str) -> list[str]:
    return [line.split()[1] for line in out.splitlines() if line.startswith("rendered ")]


ISSUE_2_BOX = [
    "Changes since No. 1",
    "Deaths from the floods in the lower delta: 4, up from 2 in No. 1: +2",
    "People displaced: about 12,000 / nearer 20,000, was: 6,500 in No. 1",
    "Collective shelters open: 22, up from 14 in No. 1: +8",
    f"Boats running between the banks: 35, down from 40 in No. 1: {MINUS}5",
    "People without safe drinking water: 18,000 (new since No. 1)",
    "Timeline: 2 new entries, marked New.",
    "Assessment 1 (“Shortage of drinking water is the most urgent need in Porto Salema and on Ilha "
    "Norte”): likelihood raised to likely (was: roughly even chance); confidence raised to moderate "
    "(was: low).",
    "Outlook 1 (“The Lunga Ferry crossing stays closed for at least another week”): confidence "
    "lowered to low (was: moderate).",
    "New sources: Flood situation bulletin no. 2 (fictional); Rapid needs assessment, Ilha Norte "
    "and lower delta (fictional).",
    "No longer cited: Flood situation bulletin no. 1 (fictional).",
]
ISSUE_3_BOX = [
    "Changes since No. 2",
    "People displaced: 15,800, was: about 12,000 / nearer 20,000 in No. 2",
    f"Collective shelters open: 19, down from 22 in No. 2: {MINUS}3",
    f"People without safe drinking water: 9,400, down from 18,000 in No. 2: {MINUS}8,600",
    "People returned home: 3,100 (new since No. 2)",
    "Boats running between the banks: no longer reported (was: 35 in No. 2)",
    "1 key figure unchanged.",
    "Timeline: 1 new entry, marked New.",
    "Assessment 1 (“Shortage of drinking water remains the most urgent need on Ilha Norte”): "
    "likelihood lowered to roughly even chance (was: likely); confidence raised to high (was: moderate).",
    "Outlook 1 (“The Lunga Ferry crossing closes again before the end of the rainy season”): "
    "likelihood lowered to unlikely (was: likely).",
    "New source: Flood situation bulletin no. 3 (fictional).",
    "No longer cited: Flood situation bulletin no. 2 (fictional); River breaks its banks south of "
    "Porto Salema (fictional).",
]


@pytest.fixture
def example(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    """The repository's example series, built with PDFs."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    with_example_series(project)
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    assert result.err == ""
    return project


def test_each_issue_shows_what_changed_since_the_one_before(example: TmpProject) -> None:
    assert "series-changes" not in page(example, ISSUES[0]), "the first issue has nothing to compare"
    assert box(page(example, ISSUES[1])) == ISSUE_2_BOX
    assert box(page(example, ISSUES[2])) == ISSUE_3_BOX


def test_the_changes_box_is_near_the_top_of_the_pdf(example: TmpProject) -> None:
    for name, expected in ((ISSUES[1], ISSUE_2_BOX), (ISSUES[2], ISSUE_3_BOX)):
        first_page = " ".join(pdf_pages_text(example.root / "site/briefs" / name / f"{name}.pdf")[0].split())
        for line in expected:
            assert line in first_page, line
        assert first_page.index(expected[0]) < first_page.index("Bottom line up front")


def test_figures_timeline_and_judgements_are_marked_where_they_stand(example: TmpProject) -> None:
    issue_2 = page(example, ISSUES[1])
    new_rows = re.findall(r'<tr id="(timeline-\d+)">\s*<td class="timeline-when"><span class="series-new">New</span>',
                          issue_2)
    assert new_rows == ["timeline-3", "timeline-4"]
    changes = [text_of(c) for c in re.findall(r'<span class="figure-change[^"]*">(.*?)</span>', issue_2)]
    assert changes == ["4, up from 2 in No. 1: +2", "about 12,000 / nearer 20,000, was: 6,500 in No. 1",
                       "22, up from 14 in No. 1: +8", f"35, down from 40 in No. 1: {MINUS}5",
                       "18,000 (new since No. 1)"]
    assert re.findall(r'<p class="judgement-change">(.*?)</p>', issue_2) == [
        "Since No. 1: likelihood raised to likely (was: roughly even chance); confidence raised to "
        "moderate (was: low).",
        "Since No. 1: confidence lowered to low (was: moderate)."]


def test_issues_link_to_their_neighbours_and_their_series(example: TmpProject) -> None:
    nav = text_of(re.search(r'<nav class="series-nav".*?</nav>', page(example, ISSUES[1]), re.S)[0])
    assert nav == ("No. 2 of EXERCISE – Velande delta floods, situation reports (fictional) · weekly, "
                   "on Fridays · Next update: on or around 27 November 2026 ← Previous: No. 1 · "
                   "All issues · Next: No. 3 →")
    issue_2 = page(example, ISSUES[1])
    assert 'rel="prev" href="../../briefs/velande-floods-sitrep-1/index.html"' in issue_2
    assert 'rel="next" href="../../briefs/velande-floods-sitrep-3/index.html"' in issue_2
    assert 'href="../../series/velande-floods/index.html"' in issue_2


def test_the_index_shows_the_latest_issue_and_the_series_page_every_issue(example: TmpProject) -> None:
    site = example.root / "site"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert ISSUES[2] in index and ISSUES[1] not in index and ISSUES[0] not in index
    assert text_of(re.search(r'<p class="series-card">.*?</p>', index, re.S)[0]) == (
        "No. 3 of a series: EXERCISE – Velande delta floods, situation reports (fictional), all 3 issues")
    series_page = (site / "series/velande-floods/index.html").read_text(encoding="utf-8")
    assert re.findall(r'<span class="series-number">(No. \d)</span> <span>(As of [^<]*)</span>',
                      series_page) == [("No. 3", "As of 27 November 2026, 09:00 UTC"),
                                       ("No. 2", "As of 20 November 2026, 09:00 UTC"),
                                       ("No. 1", "As of 13 November 2026, 09:00 UTC")]
    assert "<script" not in series_page
    charts = re.findall(r'<figure class="series-chart" id="chart-([a-z-]+)">.*?aria-label="([^"]*)"',
                        series_page, re.S)
    assert dict(charts)["deaths"] == ("Deaths from the floods in the lower delta, by issue: "
                                      "No. 1: 2; No. 2: 4; No. 3: 4")
    assert dict(charts)["displaced"] == ("People displaced, by issue: No. 1: 6,500; "
                                         "No. 2: about 12,000 / nearer 20,000; No. 3: 15,800")
    deaths = re.search(r'id="chart-deaths">.*?</svg>', series_page, re.S)[0]
    assert len(re.findall("<circle", deaths)) == 3 and "<polyline" in deaths


def test_each_series_has_an_atom_feed_newest_first(example: TmpProject) -> None:
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.parse(example.root / "site/series/velande-floods/feed.xml").getroot()
    assert [entry.findtext(f"{atom}title") for entry in feed.iter(f"{atom}entry")] == [
        f"No. {n}: EXERCISE – Velande delta floods, situation report No. {n} (fictional)" for n in (3, 2, 1)]
    links = [entry.find(f"{atom}link").get("href") for entry in feed.iter(f"{atom}entry")]
    assert links[0] == "../../briefs/velande-floods-sitrep-3/index.html"
    assert (example.root / "site/series/velande-floods" / links[0]).resolve().is_file()


def test_a_correction_to_issue_1_rebuilds_issue_2s_box_and_nothing_else(example: TmpProject) -> None:
    site = example.root / "site"
    kept = (site / f"briefs/{ISSUES[2]}/{ISSUES[2]}.pdf").stat().st_ino
    first = example.root / "briefs" / f"{ISSUES[0]}.yaml"
    first.write_text(first.read_text(encoding="utf-8").replace('value: "14"', 'value: "16"')
                     .replace("tlp: TLP:CLEAR\n", "tlp: TLP:CLEAR\nrevisions:\n  - date: 2026-11-14\n"
                              "    change: Shelter count corrected from 14 to 16.\n"), encoding="utf-8")
    result = example.run("-j", "1")
    assert result.code == 0, result.err
    assert rendered(result.out) == [f"briefs/{ISSUES[0]}.yaml", f"briefs/{ISSUES[1]}.yaml"]
    corrected = "Collective shelters open: 22, up from 16 in No. 1: +6"
    assert corrected in box(page(example, ISSUES[1]))
    pdf = " ".join(pdf_pages_text(site / f"briefs/{ISSUES[1]}/{ISSUES[1]}.pdf")[0].split())
    assert corrected in pdf
    assert (site / f"briefs/{ISSUES[2]}/{ISSUES[2]}.pdf").stat().st_ino == kept, "issue 3 kept as it was"


def test_an_unchanged_series_touches_nothing(example: TmpProject) -> None:
    assert example.run("-j", "1").out.startswith("nothing changed: 3 briefs unchanged, site/ untouched (")


def test_a_correction_the_next_box_does_not_show_rebuilds_only_that_issue(example: TmpProject) -> None:
    first = example.root / "briefs" / f"{ISSUES[0]}.yaml"
    first.write_text(first.read_text(encoding="utf-8").replace(
        "Two deaths\n  are confirmed.", "Two deaths\n  are confirmed by the agency."), encoding="utf-8")
    result = example.run("-j", "1")
    assert rendered(result.out) == [f"briefs/{ISSUES[0]}.yaml"]


# --- numbering errors ----------------------------------------------------------------------

DECLARATION = "title: Test floods\ndesk: Test desk\ncadence: weekly\n"


def issue(number: int, as_of: str, *, series: str = "floods", tlp: str = "TLP:CLEAR",
          value: str = "100", status: str = "final") -> str:
    """An issue whose series is on line 3, number on line 4 and as_of on line 5 (column 9)."""
    return (f"id: issue-{number}-{as_of[:10]}\ntitle: Issue {number}\nseries: {series}\n"
            f"number: {number}\nas_of: {as_of}\ncountries: [ZZ]\nstatus: {status}\ntlp: {tlp}\n"
            "desk: Test desk\nbluf:\n  - One.\n  - Two.\nsummary: Text.\n"
            f"figures:\n  - key: displaced\n    value: \"{value}\"\n    counts: people displaced\n"
            "    status: reported\n    sources: [s]\n"
            "sources:\n  - id: s\n    title: S\n    publisher: P\n    kind: report\n"
            "    reliability: B\n    credibility: 2\n")


def declare(project: TmpProject, name: str = "floods", text: str = DECLARATION) -> None:
    (project.root / "series").mkdir(exist_ok=True)
    (project.root / "series" / f"{name}.yaml").write_text(text, encoding="utf-8")


@pytest.mark.parametrize("command", [("check",), ("--no-pdf",)])
def test_a_gap_in_the_numbering_names_both_files(project: TmpProject, command: tuple[str, ...]) -> None:
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-01"))
    project.write("c.yaml", issue(3, "2026-11-15"))
    result = project.run(*command)
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefs/c.yaml:4:9: number: No. 3 follows No. 1 (briefs/a.yaml) in series 'floods': "
        "No. 2 is missing; number the issues one after another",
        "error: 1 problem in 1 file; nothing was written"]
    assert not (project.root / "site").exists()


def test_a_duplicate_number_names_both_files(project: TmpProject) -> None:
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-01"))
    project.write("b.yaml", issue(1, "2026-11-08"))
    result = project.run("check")
    assert (result.code, result.err.splitlines()) == (1, [
        "briefs/b.yaml:4:9: number: No. 1 of series 'floods' is also briefs/a.yaml; "
        "each issue needs its own number", "error: 1 problem in 1 file; nothing was written"])


def test_an_issue_as_of_earlier_than_the_one_before_is_refused(project: TmpProject) -> None:
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-08"))
    project.write("b.yaml", issue(2, "2026-11-08"))
    result = project.run("check")
    assert (result.code, result.err.splitlines()) == (1, [
        "briefs/b.yaml:5:8: as_of: as of 8 November 2026 is not later than No. 1 (briefs/a.yaml), "
        "as of 8 November 2026; each issue of a series is as of a later moment than the one before",
        "error: 1 problem in 1 file; nothing was written"])


def test_a_series_that_does_not_start_at_1_and_an_unknown_series(project: TmpProject) -> None:
    declare(project)
    project.write("a.yaml", issue(2, "2026-11-01"))
    project.write("b.yaml", issue(1, "2026-11-08", series="flods"))
    result = project.run("check")
    assert (result.code, result.err.splitlines()) == (1, [
        "briefs/a.yaml:4:9: number: series 'floods' starts at No. 2: there is no No. 1; number the "
        "issues of a series from 1",
        "briefs/b.yaml:3:9: series: unknown series 'flods'; declare it in series/flods.yaml with its "
        "title, desk and cadence", "error: 2 problems in 2 files; nothing was written"])


def test_a_series_declaration_is_checked_like_a_brief(project: TmpProject) -> None:
    declare(project, text="title: Test floods\ndesk: Test desk\ncadense: weekly\n")
    declare(project, "Bad Name", DECLARATION)
    project.write("a.yaml", issue(1, "2026-11-01"))
    result = project.run("--no-pdf")
    assert result.code == 1
    assert result.err.splitlines() == [
        "series/Bad Name.yaml:1:1: a series file is named by its series id: 'Bad Name' is not an id "
        "(lowercase letters, digits and single hyphens)",
        "series/floods.yaml:1:1: cadence: required field is missing",
        "series/floods.yaml:3:1: cadense: unknown field 'cadense'; did you mean 'cadence'?",
        "error: 3 problems in 2 files; nothing was written"]


def test_an_issue_gives_its_series_and_number_together(project: TmpProject) -> None:
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-01").replace("number: 1\n", ""))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefs/a.yaml:3:9: series: 'number' is missing: an issue of a series gives both its "
        "series and its number", "error: 1 problem in 1 file; nothing was written"]


def test_an_issue_number_written_as_yes_is_refused(project: TmpProject) -> None:
    """YAML reads yes as true, which pydantic would have taken as issue No. 1."""
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-01").replace("number: 1\n", "number: yes\n"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefs/a.yaml:4:9: number: a number is expected, not a yes/no value (read as true)",
        "error: 1 problem in 1 file; nothing was written"]


# --- the publishing policy -----------------------------------------------------------------

def test_a_clear_issue_never_shows_a_value_from_an_amber_one(project: TmpProject,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-01", value="100"))
    project.write("b.yaml", issue(2, "2026-11-08", tlp="TLP:AMBER", value="7,777"))
    project.write("c.yaml", issue(3, "2026-11-15", value="300"))
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    site = project.root / "site"
    assert box((site / "briefs/issue-3-2026-11-15/index.html").read_text()) == [
        "Changes since No. 1", "People displaced: 300, up from 100 in No. 1: +200"]
    for path in site.rglob("*"):
        if path.suffix in (".html", ".xml", ".json"):
            assert "7,777" not in path.read_text(encoding="utf-8"), path
            assert "issue-2-2026-11-08" not in path.read_text(encoding="utf-8"), path
    assert "7,777" not in " ".join(pdf_pages_text(site / "briefs/issue-3-2026-11-15/issue-3-2026-11-15.pdf"))
    amber = " ".join(pdf_pages_text(project.root / "restricted/issue-2-2026-11-08.pdf")[0].split())
    assert "Changes since No. 1 Compared with No. 1" in amber
    assert "People displaced: 7,777, up from 100 in No. 1: +7,677" in amber
    nav = (site / "briefs/issue-3-2026-11-15/index.html").read_text()
    assert 'rel="prev" href="../../briefs/issue-1-2026-11-01/index.html">← Previous: No. 1' in nav


def test_an_amber_correction_never_reaches_the_clear_box(project: TmpProject) -> None:
    """The CLEAR issue after an AMBER one is compared with the CLEAR one before: a change to
    the AMBER issue leaves it as it was."""
    declare(project)
    project.write("a.yaml", issue(1, "2026-11-01", value="100"))
    amber = project.write("b.yaml", issue(2, "2026-11-08", tlp="TLP:AMBER", value="7,777"))
    project.write("c.yaml", issue(3, "2026-11-15", value="300"))
    assert project.run("--no-pdf", "-j", "1").code == 0
    amber.write_text(issue(2, "2026-11-08", tlp="TLP:AMBER", value="8,888"), encoding="utf-8")
    assert rendered(project.run("--no-pdf", "-j", "1").out) == ["briefs/b.yaml"]


# --- the arithmetic ------------------------------------------------------------------------

@given(st.integers(0, 10**9), st.integers(0, 10**9))
def test_a_numeric_change_is_the_difference_of_the_two_values(before: int, after: int) -> None:
    kind, wording = _compare(f"{after:,}", f"{before:,}", 4)
    text = wording.say(localizer("en"))
    if after == before:
        assert (kind, text) == ("unchanged", f"{after:,}, unchanged since No. 4")
    else:
        direction, sign = ("up", "+") if after > before else ("down", MINUS)
        assert (kind, text) == ("changed", f"{after:,}, {direction} from {before:,} in No. 4: "
                                           f"{sign}{abs(after - before):,}")


@pytest.mark.parametrize("now, was, expected", [
    ("2.5", "1.75", "2.5, up from 1.75 in No. 1: +0.75"),
    ("30+", "25", "30+, was: 25 in No. 1"),
    ("1,200", "1200", "1,200, unchanged since No. 1 (1200)"),
])
def test_values_that_are_not_plain_numbers_are_shown_not_subtracted(now: str, was: str,
                                                                    expected: str) -> None:
    assert _compare(now, was, 1)[1].say(localizer("en")) == expected


def test_the_readme_example_series_is_in_the_repository() -> None:
    assert (REPO / "series/velande-floods.yaml").is_file()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "## Series" in readme and "series/velande-floods.yaml" in readme
