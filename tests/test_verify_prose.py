"""Quoted phrases in prose and figures, checked against the archived texts of the brief's
sources: what is caught (a phrase with a word changed, a figure typed wrongly), what is not
flagged (a phrase across a line break, the same number written differently), the opt-out
for a phrase that is not a quotation, and the audit report's lines."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, TmpProject
from fieldbrief.verify import normalise
from fieldbrief.verify_figures import number_index, numbers_in

MALI = "mali-jnim-attacks.yaml"
ARTICLE = "mali-jnim-attacks-article.txt"
BRIEF = """id: prose
title: Prose
as_of: 2026-03-18
countries: [ZZ]
status: final
desk: Test desk
bluf: [One., Two.]
summary: {summary}
figures:
  - value: "{value}"
    counts: people displaced
    status: reported
    sources: [paper]
sources:
  - id: paper
    title: Paper
    publisher: Daily
    kind: news report
    reliability: B
    credibility: 2
    archive: sources/paper.txt
"""
RADIO = """  - id: radio
    title: Radio
    publisher: Radio
    kind: broadcast
    reliability: B
    credibility: 2
    archive: sources/radio.txt
"""
ARCHIVE = ("The governor said the floods were \"a slow-moving catastrophe\".\n"
           "Officials counted 36,000 people displaced\nacross the delta in the first week.\n")


def _mali(project: TmpProject, *replacements: tuple[str, str]) -> None:
    text = (REPO / "briefs" / MALI).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    project.write(MALI, text)


def _brief(project: TmpProject, summary: str = "Summary.", value: str = "36,000",
           archive: str = ARCHIVE, extra: str = "") -> None:
    (project.root / "sources" / "paper.txt").write_text(archive, encoding="utf-8")
    project.write("prose.yaml", BRIEF.format(summary=summary, value=value) + extra)


def _report(project: TmpProject, *options: str) -> list[str]:
    result = project.run("check", "--report", *options)
    assert (result.code, result.err) == (0, "")
    return result.out.splitlines()


# --- quoted phrases -----------------------------------------------------------------------

def test_a_quoted_phrase_with_one_word_changed_is_a_warning_with_the_closest_passage(
        project: TmpProject) -> None:
    _mali(project, ('the operation "coordinated and high quality"', 'the operation "coordinated and top quality"'))
    result = project.run("check")
    assert (result.code, result.err.splitlines()) == (0, [
        "briefs/mali-jnim-attacks.yaml:30:10: summary: warning: quoted phrase \"coordinated and top "
        "quality\" is not in the archives of the brief's sources; closest passage (archive of "
        "'rtw-article', line 10): '\"coordinated and high quality\"'; quote the source's exact "
        "words, or list the phrase under 'not_quotations' with a reason if it is not a quotation"])
    assert project.run("check", "--strict").code == 1


def test_a_quoted_phrase_across_a_line_break_in_the_prose_and_the_archive_verifies(
        project: TmpProject) -> None:
    _brief(project, summary='|\n  The governor called the floods "a slow-moving\n  catastrophe".',
           archive=ARCHIVE.replace("a slow-moving catastrophe", "a slow-moving\n  catastrophe"))
    assert _report(project, "--strict")[0] == (
        "briefs/prose.yaml: phrase \"a slow-moving catastrophe\" (summary): verified "
        "(archive of 'paper', line 1)")


def test_typographic_quotes_and_markup_inside_a_phrase_are_read_as_the_reader_sees_them(
        project: TmpProject) -> None:
    _brief(project, summary="'The governor called the floods “a **slow-moving** catastrophe”.'")
    assert _report(project, "--strict")[0] == (
        "briefs/prose.yaml: phrase \"a slow-moving catastrophe\" (summary): verified "
        "(archive of 'paper', line 1)")


def test_single_quotes_and_apostrophes_are_not_quotation_marks(project: TmpProject) -> None:
    _brief(project, summary="\"The delta's 'worst week', the governor's office said.\"")
    assert [line for line in _report(project, "--strict") if ": phrase " in line] == []


def test_an_elided_phrase_verifies_when_its_parts_follow_in_order(project: TmpProject) -> None:
    _brief(project, summary="'Officials counted \"36,000 people ... in the first week\".'")
    assert _report(project, "--strict")[0] == (
        "briefs/prose.yaml: phrase \"36,000 people … in the first week\" (summary): verified "
        "(archive of 'paper', line 2)")
    _brief(project, summary="'Officials counted \"in the first week ... 36,000 people\".'")
    assert project.run("check").err.startswith(
        "briefs/prose.yaml:8:10: summary: warning: quoted phrase \"in the first week … 36,000 "
        "people\" is not in the archives of the brief's sources")


def test_a_phrase_the_brief_marks_as_not_a_quotation_is_reported_as_such(project: TmpProject) -> None:
    _brief(project, summary="'The so-called \"recovery plan\" has no budget.'", extra=(
        "not_quotations:\n  - phrase: recovery plan\n"
        "    reason: scare quote, the desk's doubt about the name\n"))
    assert _report(project, "--strict") == [
        "briefs/prose.yaml: phrase \"recovery plan\" (summary): not a quotation (scare quote, "
        "the desk's doubt about the name)",
        "briefs/prose.yaml: figure 1 '36,000' (people displaced): verified (archive of 'paper', line 2)",
        "verification: 0 quotes (0 verified, 0 not found, 0 no archive); 1 quoted phrase (0 verified, "
        "0 not found, 0 no archive, 1 not a quotation); 1 figure (1 verified, 0 not found, 0 no archive)",
        "1 brief valid"]


def test_an_opt_out_for_a_phrase_the_prose_does_not_quote_is_an_error(project: TmpProject) -> None:
    _brief(project, summary="'The recovery plan has no budget.'", extra=(
        "not_quotations:\n  - phrase: recovery plan\n    reason: scare quote\n"))
    result = project.run("check")
    assert (result.code, result.err.splitlines()) == (1, [
        "briefs/prose.yaml:23:13: not_quotations[0].phrase: 'recovery plan' is not a phrase in "
        "quotation marks in the brief's own words (title, summary, BLUF, figures, timeline, "
        "notes); remove it, or write the phrase as the brief has it",
        "error: 1 problem in 1 file; nothing was written"])
    (project.root / "site.yaml").write_text("verification: 'off'\n")
    assert project.run("check").err == result.err, "a stale opt-out is an error even when off"


@pytest.mark.parametrize("position, field, replace", [
    ("2:8", "title", ("title: Prose", 'title: \'Governor: floods a "fast-moving catastrophe"\'')),
    ("11:13", "figures[0].counts", ("counts: people displaced",
                               'counts: \'people displaced by the "fast-moving catastrophe"\'')),
])
def test_a_quoted_phrase_in_a_title_or_a_figure_label_is_checked_like_prose(
        project: TmpProject, position: str, field: str, replace: tuple[str, str]) -> None:
    """Only Markdown fields were searched for quoted phrases: a misquote in a title or in
    what a figure counts reached the page unchecked."""
    _brief(project)
    brief = project.root / "briefs" / "prose.yaml"
    brief.write_text(brief.read_text().replace(*replace))
    result = project.run("check")
    assert (result.code, result.err.splitlines()[0]) == (0, (
        f"briefs/prose.yaml:{position}: {field}: warning: quoted "
        "phrase \"fast-moving catastrophe\" is not in the archives of the brief's sources; "
        "closest passage (archive of 'paper', line 1): 'slow-moving catastrophe\".'; quote the "
        "source's exact words, or list the phrase under 'not_quotations' with a reason if it is "
        "not a quotation"))
    brief.write_text(brief.read_text().replace("fast-moving", "slow-moving"))
    assert f"phrase \"slow-moving catastrophe\" ({field}): verified (archive of 'paper', line 1)" in (
        "\n".join(_report(project, "--strict")))


def test_a_phrase_in_a_brief_without_archives_is_reported_and_an_error_only_under_require(
        project: TmpProject) -> None:
    _brief(project, summary="'The governor spoke of \"a slow-moving catastrophe\".'")
    brief = project.root / "briefs" / "prose.yaml"
    brief.write_text(brief.read_text().replace("    archive: sources/paper.txt\n", ""))
    assert _report(project, "--strict")[:2] == [
        "briefs/prose.yaml: phrase \"a slow-moving catastrophe\" (summary): no archive",
        "briefs/prose.yaml: figure 1 '36,000' (people displaced): no archive"]
    (project.root / "site.yaml").write_text("verification: require\n")
    assert project.run("check").err.splitlines()[0] == (
        "briefs/prose.yaml:8:10: summary: quoted phrase \"a slow-moving catastrophe\" cannot be "
        "checked: no source of the brief has an archived text (verification: require in "
        "site.yaml); archive a source, or list the phrase under 'not_quotations' with a reason "
        "if it is not a quotation")


def test_a_phrase_is_searched_in_the_archives_its_field_cites_first_then_in_any(
        project: TmpProject) -> None:
    (project.root / "sources" / "radio.txt").write_text("The governor: \"a slow-moving catastrophe\".")
    _brief(project, summary="'The floods are \"a slow-moving catastrophe\".'", extra=RADIO + (
        "timeline:\n  - date: 2026-03-17\n    text: 'The governor speaks of \"a slow-moving "
        "catastrophe\" and \"36,000 people displaced\".'\n    sources: [radio]\n"))
    assert _report(project, "--strict")[:3] == [
        "briefs/prose.yaml: phrase \"a slow-moving catastrophe\" (summary): verified (archive of "
        "'paper', line 1)",
        "briefs/prose.yaml: phrase \"a slow-moving catastrophe\" (timeline[0].text): verified "
        "(archive of 'radio', line 1)",
        "briefs/prose.yaml: phrase \"36,000 people displaced\" (timeline[0].text): verified "
        "(archive of 'paper', line 2)"]


# --- figures ------------------------------------------------------------------------------

def test_a_figure_typed_wrongly_is_a_warning_naming_the_sources_searched(project: TmpProject) -> None:
    _brief(project, value="63,000")
    result = project.run("check", "--report")
    assert result.err.splitlines() == [
        "briefs/prose.yaml:10:12: figures[0].value: warning: figure '63,000' (people displaced) "
        "is not a number the archives of its sources give (searched: 'paper'); check the value, "
        "or cite the source that gives it"]
    assert result.out.splitlines()[0] == (
        "briefs/prose.yaml: figure 1 '63,000' (people displaced): not found (searched: 'paper')")
    assert project.run("check", "--strict").code == 1


@pytest.mark.parametrize("run", ["7" * 1_000_100, "1234567890" * 400_000])
def test_an_archive_with_a_run_of_digits_longer_than_any_number_checks_cleanly(
        project: TmpProject, run: str) -> None:
    """A run of a million digits once overflowed the decimal arithmetic: a traceback."""
    _brief(project, archive=ARCHIVE + "\n" + run + "\n")
    assert _report(project)[0] == (
        "briefs/prose.yaml: figure 1 '36,000' (people displaced): verified (archive of 'paper', line 2)")


def test_a_mali_figure_typed_wrongly_is_caught(project: TmpProject) -> None:
    _mali(project, ('  - value: "7"\n', '  - value: "8"\n'))
    assert project.run("check").err.splitlines() == [
        "briefs/mali-jnim-attacks.yaml:69:12: figures[2].value: warning: figure '8' (locations "
        "attacked on the Tuesday) is not a number the archives of its sources give (searched: "
        "'rtw-article'); check the value, or cite the source that gives it"]


@pytest.mark.parametrize("value", ["36000", "36 000", "36.000", "36\u202f000", "thirty-six thousand",
                                   "over 36,000", "36,000+", "at least 36 thousand"])
def test_the_same_number_written_differently_verifies(project: TmpProject, value: str) -> None:
    _brief(project, value=value)
    assert _report(project, "--strict")[0] == (
        f"briefs/prose.yaml: figure 1 '{value}' (people displaced): verified (archive of 'paper', "
        "line 2)")


@pytest.mark.parametrize("value", ["tens of thousands", "several hundred", "dozens"])
def test_a_figure_without_a_number_is_not_checkable_and_one_without_an_archive_is_reported(
        project: TmpProject, value: str) -> None:
    _brief(project, value=value)
    assert _report(project, "--strict")[-3:] == [
        f"briefs/prose.yaml: figure 1 '{value}' (people displaced): not checkable "
        "(no number in the value)",
        "verification: 0 quotes (0 verified, 0 not found, 0 no archive); 0 quoted phrases (0 "
        "verified, 0 not found, 0 no archive); 1 figure (0 verified, 0 not found, 0 no archive, "
        "1 not checkable)",
        "1 brief valid"]
    _brief(project)
    brief = project.root / "briefs" / "prose.yaml"
    brief.write_text(brief.read_text().replace("    archive: sources/paper.txt\n", ""))
    lines = _report(project, "--strict")
    assert lines[0] == "briefs/prose.yaml: figure 1 '36,000' (people displaced): no archive"
    assert lines[-2] == ("verification: 0 quotes (0 verified, 0 not found, 0 no archive); 0 quoted "
                         "phrases (0 verified, 0 not found, 0 no archive); 1 figure (0 verified, "
                         "0 not found, 1 no archive)")


def test_each_estimate_is_checked_against_its_own_sources(project: TmpProject) -> None:
    (project.root / "sources" / "radio.txt").write_text("The radio spoke of 41 200 displaced.")
    _brief(project)
    brief = project.root / "briefs" / "prose.yaml"
    brief.write_text(brief.read_text().replace(
        '  - value: "36,000"\n    counts: people displaced\n    status: reported\n    sources: [paper]\n',
        "  - counts: people displaced\n    estimates:\n"
        "      - {value: '36,000', status: reported, sources: [paper]}\n"
        "      - {value: '41,200', status: reported, sources: [radio]}\n"
        "      - {value: '41,200', status: reported, sources: [paper]}\n") + RADIO)
    result = project.run("check", "--report")
    assert result.out.splitlines()[:3] == [
        "briefs/prose.yaml: figure 1, estimate 1 '36,000' (people displaced): verified (archive of "
        "'paper', line 2)",
        "briefs/prose.yaml: figure 1, estimate 2 '41,200' (people displaced): verified (archive of "
        "'radio', line 1)",
        "briefs/prose.yaml: figure 1, estimate 3 '41,200' (people displaced): not found "
        "(searched: 'paper')"]
    assert result.err.splitlines()[0].startswith(
        "briefs/prose.yaml:14:17: figures[0].estimates[2].value: warning: figure '41,200'")


# --- numbers as numbers: a property -------------------------------------------------------

UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def _words(n: int) -> str:
    """English number words, as a writer may put them (below a billion)."""
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10 - 2] + ("-" + UNITS[n % 10] if n % 10 else "")
    for size, name in ((10**6, "million"), (1000, "thousand"), (100, "hundred")):
        if n >= size:
            rest = n % size
            joint = " and " if name == "hundred" and rest else " "
            return f"{_words(n // size)} {name}" + (joint + _words(rest) if rest else "")
    raise AssertionError(n)


def _forms(n: int) -> list[str]:
    """``n`` in every form the check reads as the same number."""
    grouped = f"{n:,}"
    forms = [str(n), grouped, grouped.replace(",", " "), grouped.replace(",", "\u00a0"),
             grouped.replace(",", "\u202f"), grouped.replace(",", "’"), _words(n),
             f"over {grouped}", f"{n}+", f"more than {_words(n)}"]
    if n >= 1000:
        forms.append(grouped.replace(",", "."))
    if n >= 10**6 and n % 10**5 == 0:
        forms.append(f"{n / 10**6:g} million")
    if n >= 1000 and n % 1000 == 0:
        forms.append(f"{n // 1000:,} thousand")
    return forms


def _found(value: str, archive: str) -> bool:
    index = number_index(normalise(f"Officials counted {archive} people on the road.").text)
    numbers = numbers_in(value)
    return all(any((reading, n.percent) in index for reading in n.readings) for n in numbers)


@settings(max_examples=300, deadline=None)
@given(n=st.one_of(st.integers(0, 120), st.integers(0, 10**9 - 1),
                   st.integers(1, 9999).map(lambda k: k * 10**5)),
       other=st.integers(0, 10**9 - 1), data=st.data())
def test_a_number_matches_itself_in_any_form_and_never_another_number(n: int, other: int,
                                                                      data: st.DataObject) -> None:
    value = data.draw(st.sampled_from(_forms(n)))
    assert _found(value, data.draw(st.sampled_from(_forms(n))))
    if other != n:
        assert not _found(value, data.draw(st.sampled_from(_forms(other))))


@pytest.mark.parametrize(("value", "archive", "found"), [
    ("45%", "45 per cent", True), ("45 percent", "45%", True), ("45%", "45", False),
    ("45", "45%", False), ("12", "twelfth", False), ("3", "the third", False),
    ("1.5 million", "1,500,000", True), ("41.2", "41,200", False), ("2bn", "two billion", True),
    ("41.125", "41.125", True), ("41125", "41.125", True), ("1", "1.000", False),
    ("30–40", "between thirty and forty", True), ("30–40", "30 dead", False),
])
def test_percentages_ordinals_scales_and_decimal_points(value: str, archive: str, found: bool) -> None:
    assert _found(value, archive) is found


def test_markdown_refused_for_its_depth_is_reported_not_searched_for_phrases(project: TmpProject) -> None:
    _brief(project, summary="|\n  " + "> " * 30 + "\"a slow-moving catastrophe\"")
    result = project.run("check")
    assert result.err.splitlines() == [
        "briefs/prose.yaml:8:10: summary: Markdown is nested 30 levels deep (blockquotes or "
        "lists); at most 20 are allowed", "error: 1 problem in 1 file; nothing was written"]
