"""Times of day and ISO 8601 ranges in every date field: read as written, in the offset
written, in HTML and PDF; ranges that cannot be true are positioned errors."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from conftest import REPO, SCENARIOS, TmpProject, pdf_pages_text
from fieldbrief import model
from fieldbrief.model import BriefCard, DateInterval, PartialDate
from test_schema import _EditorLoader

MINIMAL = (SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8")
ATOM = "{http://www.w3.org/2005/Atom}"
TIMELINE_LINE = 24  # the line of 'date:' in the timeline entry timeline_brief appends


def timeline_brief(project: TmpProject, written: str, *, as_of: str = "2026-01-15") -> Path:
    """valid_minimal.yaml with one timeline entry dated ``written``."""
    text = MINIMAL.replace("as_of: 2026-01-15", f"as_of: {as_of}")
    return project.write("a.yaml", text + f"timeline:\n  - date: {written}\n    text: Something.\n"
                                          "    sources: [only-source]\n")


def problems(project: TmpProject) -> list[str]:
    result = project.run("check")
    assert result.code == 1, result.err
    return result.err.splitlines()


def timeline_cell(project: TmpProject) -> str:
    result = project.run("--no-pdf", "-j", "1")
    assert result.code == 0, result.err
    page = (project.root / "site/briefs/valid-minimal/index.html").read_text(encoding="utf-8")
    return re.search(r'<td class="timeline-when">([^<]*)</td>', page)[1]


@pytest.mark.parametrize(("written", "reading"), [
    ("2026-11-03T04:10Z", "3 November 2026, 04:10 UTC"),
    ("2026-11-03T11:00+01:00", "3 November 2026, 11:00 UTC+01:00"),
    ("2026-11-03T04:10:00-05:30", "3 November 2026, 04:10 UTC-05:30"),
    ("--11-03T04:10Z", "3 November, 04:10 UTC (year not stated)"),
    ("2026-03-14/2026-03-17", "14–17 March 2026"),
    ("--03-14/--03-17", "14–17 March (year not stated)"),
    ("2026-03/2026-05", "March–May 2026"),
    ("2026-03-30/2026-04-02", "30 March – 2 April 2026"),
    ("2025-12-30/2026-01-02", "30 December 2025 – 2 January 2026"),
    ("2025-11/2026-02", "November 2025 – February 2026"),
    ("2025/2026", "2025–2026"),
    ("2026-11-03T04:10Z/2026-11-03T11:00Z", "3 November 2026, 04:10–11:00 UTC"),
    ("2026-11-02T22:30Z/2026-11-03T11:00+01:00",
     "2 November 2026, 22:30 UTC – 3 November 2026, 11:00 UTC+01:00"),
    ("2026-11-03", "3 November 2026"),
    ("--06-02", "2 June (year not stated)"),
])
def test_a_timeline_date_reads_as_written(project: TmpProject, written: str, reading: str) -> None:
    timeline_brief(project, written)
    assert timeline_cell(project) == reading


@pytest.mark.parametrize(("written", "message"), [
    ("2026-03-17/2026-03-14", "'2026-03-17/2026-03-14' ends before it starts; put the earlier "
                              "date first"),
    ("2026-11-03T11:00+01:00/2026-11-03T09:30Z", "'2026-11-03T11:00+01:00/2026-11-03T09:30Z' ends "
                                                 "before it starts; put the earlier date first"),
    ("--12-30/--01-02", "'--12-30/--01-02' ends before it starts; put the earlier date first "
                        "(a range across a new year needs its years)"),
    ("2026-03-14/--03-17", "'2026-03-14/--03-17' gives the year of one end only; write both "
                           "years (2025-06-02/2025-06-05) or neither (--06-02/--06-05)"),
    ("2026-11-03T04:10", "'2026-11-03T04:10' has a time without an offset; add Z for UTC or an "
                         "offset such as +01:00"),
    ("2026-11-03 04:10:00", "'2026-11-03T04:10:00' has a time without an offset; add Z for UTC "
                            "or an offset such as +01:00"),
    ("2026-11-03T24:10Z", "'2026-11-03T24:10Z' is not a real time (the hour must be 00 to 23)"),
    ("2026-11-03T04:60Z", "'2026-11-03T04:60Z' is not a real time (the minutes must be 00 to 59)"),
    ("2026-11T04:10Z", "'2026-11T04:10Z' has a time but no day: write the full date, e.g. "
                       "2025-06-02T06:30Z"),
    ("2026-03-14/2026-03-17/2026-03-19", "'2026-03-14/2026-03-17/2026-03-19' is not a date: write "
     "2025-06-02, 2025-06, 2025, or --06-02 when the year is not stated; a time as "
     "2025-06-02T06:30Z; a range as 2025-06-02/2025-06-05"),
])
def test_an_impossible_date_is_a_positioned_error_with_a_hint(
        project: TmpProject, written: str, message: str) -> None:
    timeline_brief(project, written)
    assert problems(project) == [f"briefs/a.yaml:{TIMELINE_LINE}:11: timeline[0].date: {message}",
                                 "error: 1 problem in 1 file; nothing was written"]


@pytest.mark.parametrize(("written", "message"), [
    ("2026-01-14/2026-01-15", "'2026-01-14/2026-01-15' is a range; this field takes one date, or "
                              "a date and time (e.g. 2025-06-02T06:30Z)"),
    ("2026-01", "'2026-01' is not a full date; write it as 2025-06-02 (or 2025-06-02T06:30Z)"),
    ("--01-15", "'--01-15' is not a full date; write it as 2025-06-02 (or 2025-06-02T06:30Z)"),
    ("2026-01-15T10:00", "'2026-01-15T10:00' has a time without an offset; add Z for UTC or an "
                         "offset such as +01:00"),
])
def test_as_of_is_one_moment_not_a_range(project: TmpProject, written: str, message: str) -> None:
    project.write("a.yaml", MINIMAL.replace("as_of: 2026-01-15", f"as_of: {written}"))
    assert problems(project) == [f"briefs/a.yaml:3:8: as_of: {message}",
                                 "error: 1 problem in 1 file; nothing was written"]


def test_a_period_that_ends_before_it_starts_is_an_error(project: TmpProject) -> None:
    project.write("a.yaml", MINIMAL + "period:\n  start: 2026-03-17\n  end: 2026-03-14T10:00Z\n")
    assert problems(project) == [
        "briefs/a.yaml:24:3: period: the period 2026-03-17 to 2026-03-14T10:00Z ends before it "
        "starts; put the earlier date first",
        "error: 1 problem in 1 file; nothing was written"]


def test_a_period_reads_as_one_range(project: TmpProject) -> None:
    project.write("a.yaml", MINIMAL + "period:\n  start: 2026-03-14\n  end: 2026-03-17\n")
    assert project.run("--no-pdf", "-j", "1").code == 0
    page = (project.root / "site/briefs/valid-minimal/index.html").read_text(encoding="utf-8")
    assert "<dt>Period covered</dt><dd>14–17 March 2026</dd>" in page


def test_times_keep_their_offset_on_the_page_in_the_index_and_in_the_feed(project: TmpProject) -> None:
    project.write("a.yaml", MINIMAL.replace("as_of: 2026-01-15", "as_of: 2026-01-01T00:30+01:00")
                  + "revisions:\n  - date: 2026-01-01T00:10+01:00\n    change: First.\n")
    assert project.run("--no-pdf", "-j", "1").code == 0
    site = project.root / "site"
    page = (site / "briefs/valid-minimal/index.html").read_text(encoding="utf-8")
    assert '<dd class="as-of">1 January 2026, 00:30 UTC+01:00</dd>' in page
    assert "<tr><td>1 January 2026, 00:10 UTC+01:00</td><td>First.</td></tr>" in page
    assert "As of 1 January 2026, 00:30 UTC+01:00" in (site / "index.html").read_text(encoding="utf-8")
    entry = ElementTree.parse(site / "feed.xml").getroot().find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}updated") == "2025-12-31T23:30:00Z"  # the same instant, in UTC
    assert entry.findtext(f"{ATOM}published") == "2025-12-31T23:10:00Z"
    assert (site / "archive/2026-01/index.html").is_file(), "archived by the month as written"


def test_the_regional_brief_reads_its_times_and_ranges_in_html_and_pdf(project: TmpProject) -> None:
    project.add("regional_multiscript_times.yaml")
    assert project.run("-j", "1").code == 0
    folder = project.root / "site/briefs/regional-multiscript-times"
    page = (folder / "index.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", " ".join(pdf_pages_text(folder / "regional-multiscript-times.pdf")))
    for reading in ("3 November 2026, 11:00 UTC+01:00", "28 October – 3 November 2026",
                    "28–30 October 2026", "3 November 2026, 04:10 UTC",
                    "3 November 2026, 09:00–10:30 UTC+01:00", "1–4 November (year not stated)",
                    "October–December 2026", "3 November, 05:00 UTC (year not stated)",
                    "3 November 2026, 06:40 UTC+01:00", "published 30 October – 2 November 2026",
                    "accessed 3 November 2026, 07:30 UTC", "2 November 2026, 18:00 UTC"):
        assert reading in page
        assert reading in text
    assert "عبرنا النهر قبل الفجر" in page
    assert "Les familles pourront rentrer" in text


def test_the_regional_brief_passes_the_editors_schema() -> None:
    document = yaml.load((SCENARIOS / "regional_multiscript_times.yaml").read_text(encoding="utf-8"),
                         Loader=_EditorLoader)
    schema = yaml.safe_load((REPO / "schema/brief.schema.json").read_text(encoding="utf-8"))
    jsonschema.validate(document, schema)


DAYS = st.dates(min_value=date(1000, 1, 1), max_value=date(9998, 12, 1))


@given(DAYS, st.integers(0, 800), st.sampled_from(["day", "month", "year"]))
def test_every_ordered_range_names_each_of_its_years_once(first: date, length: int, precision: str) -> None:
    last = first + timedelta(days=length)
    cut = {"day": 10, "month": 7, "year": 4}[precision]
    interval = DateInterval(_partial(first, precision), _partial(last, precision))
    assert interval.iso == f"{first.isoformat()[:cut]}/{last.isoformat()[:cut]}"
    reading = str(interval)
    assert reading.endswith(str(last.year))
    assert all(reading.count(str(year)) == 1 for year in {first.year, last.year}), reading


def _partial(day: date, precision: str) -> PartialDate:
    return PartialDate(day.year, day.month if precision != "year" else None,
                       day.day if precision == "day" else None)



def _read(text: str, reader=model._date_or_time) -> tuple[object, ...]:
    """What a date-or-time field makes of ``text``: its value, type and offset, or the error."""
    try:
        value = reader(text)
    except ValueError as error:
        return ("refused", str(error))
    return (value, type(value), value.utcoffset() if isinstance(value, datetime) else None)


OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(lambda minutes: timezone(timedelta(minutes=minutes)))
MOMENTS = DAYS | st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59),
                              timezones=OFFSETS)
AS_WRITTEN = TypeAdapter(datetime | date)
"""How pydantic writes a card's as_of into the build records."""


@given(MOMENTS)
@example(datetime(1000, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))))  # 999 in UTC
@example(datetime(9999, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=-1))))  # 10000 in UTC
@example(datetime(2026, 1, 15, 6, 30, 0, 120, tzinfo=timezone.utc))
def test_a_cards_date_read_back_from_the_build_records_is_read_as_in_a_brief(moment: date) -> None:
    """Every build reads the as_of of each card in its records by a shortcut (the form
    pydantic writes): it must give what the full reading of a brief's date gives, or
    refuse alike."""
    written = AS_WRITTEN.dump_python(moment, mode="json")
    assert model.CANONICAL_MOMENT.fullmatch(written), written
    expected = _read(written, model._full_date_or_time)
    assert _read(written) == expected
    try:
        card = BriefCard.model_validate_json(json.dumps({**CARD, "as_of": written}))
    except ValidationError as error:
        assert expected[0] == "refused", error
    else:
        assert _read(written, lambda _: card.as_of) == expected


CARD = {"id": "a", "title": "A", "subtitle": None, "countries": [], "tags": [], "tlp": "TLP:CLEAR",
        "handling_note": None, "status": "final", "prepared_by": "Desk",
        "updated": "2026-01-15T00:00:00Z", "published": "2026-01-15T00:00:00Z",
        "lede_html": "A.", "bluf_text": "A.", "summary_html": "<p>A.</p>"}
"""A card as the build records hold it, but for its as_of."""


@given(st.from_regex(model.CANONICAL_MOMENT, fullmatch=True))
@example("0999-12-31")
@example("2026-02-29")
@example("2026-01-15T24:00:00Z")
@example("2026-01-15T10:00:00+24:00")
def test_any_text_of_the_shortcuts_form_reads_as_the_full_reading_does(text: str) -> None:
    assert _read(text) == _read(text, model._full_date_or_time)
