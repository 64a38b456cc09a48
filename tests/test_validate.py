"""Validation through the CLI's `check`: every message asserted exactly, with its position."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, TmpProject


def check(project: TmpProject, name: str):
    project.add(name)
    return project.run("check", f"briefs/{name}")


def test_valid_brief_passes(project: TmpProject) -> None:
    result = check(project, "valid_minimal.yaml")
    assert (result.code, result.out, result.err) == (0, "1 brief valid\n", "")


def test_unknown_fields_suggest_the_closest_name(project: TmpProject) -> None:
    result = check(project, "invalid_unknown_field.yaml")
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefs/invalid_unknown_field.yaml:1:1: summary: required field is missing",
        "briefs/invalid_unknown_field.yaml:8:1: sumary: unknown field 'sumary'; did you mean 'summary'?",
        "briefs/invalid_unknown_field.yaml:16:5: sources[0].nots: unknown field 'nots'; did you mean 'notes'?",
        "error: 3 problems in 1 file; nothing was written",
    ]


def test_wrong_values_are_all_reported_at_once(project: TmpProject) -> None:
    result = check(project, "invalid_values.yaml")
    assert result.code == 1
    f = "briefs/invalid_values.yaml"
    assert result.err.splitlines() == [
        f"{f}:1:5: id: 'Invalid_Values' is not a valid id: use lowercase letters, digits and "
        "single hyphens, at most 80 characters (e.g. 'mali-jnim-attacks')",
        f"{f}:4:17: countries[1]: 'MLI' is not an ISO 3166-1 alpha-2 country code "
        "(e.g. 'ML' for Mali; ZZ for a fictional exercise area)",
        f"{f}:5:9: status: 'published' is not allowed; use one of 'draft' or 'final'",
        f"{f}:6:6: tlp: 'TLP:WHITE' is not allowed; use one of 'TLP:CLEAR', 'TLP:GREEN', "
        "'TLP:AMBER', 'TLP:AMBER+STRICT' or 'TLP:RED'",
        f"{f}:8:7: bluf: needs at least 2 item(s), has 1",
        f"{f}:13:13: figures[0].status: 'rumoured' is not allowed; use one of 'confirmed', "
        "'confirmed by source', 'reported', 'claimed' or 'disputed'",
        f"{f}:14:14: figures[0].sources: must be a list, not a single value; write [s1]",
        f"{f}:16:5: timeline[0]: give 'date', 'when' (the date in words), or both",
        f"{f}:18:11: timeline[1].date: '2026-02-30' is not a real date (day is out of range for month)",
        f"{f}:23:17: assessment[0].confidence: 'very high' is not allowed; use one of 'low', "
        "'moderate' or 'high'",
        f"{f}:24:17: assessment[0].likelihood: 'probable' is not on the ICD 203 likelihood "
        "scale; did you mean 'likely'? use one of "
        "'almost no chance', 'very unlikely', 'unlikely', 'roughly even chance', 'likely', "
        "'very likely' or 'almost certain'",
        f"{f}:29:11: sources[0].kind: 'blog' is not allowed; use one of 'news report', "
        "'official statement', 'press release', 'press conference', 'interview', 'broadcast', "
        "'social-media claim', 'leak site', 'advisory', 'situation report', 'field report', "
        "'report', 'academic paper', 'dataset', 'satellite imagery', 'imagery' or 'other'",
        f"{f}:30:18: sources[0].reliability: 'G' is not allowed; use one of 'A', 'B', 'C', 'D', 'E' or 'F'",
        f"{f}:31:18: sources[0].credibility: 0 is not allowed; use one of 1, 2, 3, 4, 5 or 6",
        "error: 14 problems in 1 file; nothing was written",
    ]


def test_cross_references_are_checked(project: TmpProject) -> None:
    result = check(project, "invalid_references.yaml")
    assert result.code == 1
    f = "briefs/invalid_references.yaml"
    assert result.err.splitlines() == [
        f"{f}:12:17: figures[0].claimed_by: unknown actor 'jnm'; did you mean 'jnim'?",
        f"{f}:14:15: figures[0].sources[0]: unknown source 'artcle'; did you mean 'article'?",
        f"{f}:17:14: timeline[0].places[0]: unknown place 'nowhere'; the brief lists no places",
        f"{f}:24:13: quotes[0].source: unknown source 'statement'; known sources: article",
        f"{f}:36:9: sources[1].id: source id 'article' is used twice (first at sources[0])",
        "error: 5 problems in 1 file; nothing was written",
    ]


def test_unused_source_is_a_warning(project: TmpProject) -> None:
    result = check(project, "warning_unused_source.yaml")
    expected = ("briefs/warning_unused_source.yaml:20:9: sources[1].id: "
                "warning: source 'never-cited' is never cited\n")
    assert (result.code, result.out, result.err) == (0, "1 brief valid\n", expected)


def test_strict_turns_warnings_into_failure(project: TmpProject) -> None:
    project.add("warning_unused_source.yaml")
    result = project.run("check", "--strict")
    assert result.code == 1
    assert result.err.splitlines()[-1] == "error: 1 problem in 1 file; nothing was written"


@pytest.mark.parametrize(("name", "message"), [
    ("invalid_yaml_syntax.yaml",
     "5:2: invalid YAML: did not find expected key "
     "(check the indentation of this line against the lines above)"),
    ("invalid_duplicate_key.yaml", "4:1: title: duplicate field 'title' (first given on line 2)"),
    ("invalid_not_a_mapping.yaml",
     "1:1: the document must be a mapping of fields (key: value), not a list"),
    ("invalid_empty.yaml", "1:1: the file is empty; a brief is a YAML mapping of fields"),
])
def test_unreadable_documents(project: TmpProject, name: str, message: str) -> None:
    result = check(project, name)
    assert result.code == 1
    assert result.err.splitlines()[0] == f"briefs/{name}:{message}"
    assert "Traceback" not in result.err


def test_tabs_and_bad_bytes(project: TmpProject) -> None:
    project.write("tabs.yaml", "id: x\n\ttitle: y\n")
    (project.root / "briefs" / "latin1.yaml").write_bytes("id: x\ntitle: caf\xe9\n".encode("latin-1"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[:2] == [
        "briefs/latin1.yaml:2:11: byte 0xe9 is not valid UTF-8; save the file as UTF-8",
        "briefs/tabs.yaml:2:1: invalid YAML: found a tab character that violates indentation "
        "(tabs cannot indent YAML; use spaces)",
    ]


def test_problems_of_all_files_in_one_run(project: TmpProject) -> None:
    project.add("invalid_empty.yaml", "invalid_duplicate_key.yaml", "valid_minimal.yaml")
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[-1] == "error: 2 problems in 2 files; nothing was written"


def test_same_id_in_two_files_names_both(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    project.write("copy.yaml", (project.root / "briefs" / "valid_minimal.yaml").read_text())
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "briefs/valid_minimal.yaml:1:5: id: id 'valid-minimal' is already used by briefs/copy.yaml")


def test_text_with_colon_gets_a_quoting_hint(project: TmpProject) -> None:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    project.write("colon.yaml", text.replace("  - Second point.", "  - Casualties: unknown"))
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/colon.yaml:9:5: bluf[1]: must be text, not a mapping; if the text "
        "contains ': ', put it in quotes or use '>-' and write it on the next lines")


def test_check_refuses_files_outside_the_project(project: TmpProject, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.yaml"
    shutil.copy(SCENARIOS / "valid_minimal.yaml", outside)
    result = project.run("check", str(outside))
    assert (result.code, result.out) == (1, "")
    assert result.err.splitlines() == [
        f"{outside}:1:1: refused: the file is outside the project; fieldbrief reads only "
        "files inside the project folder",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_example_briefs_are_valid_without_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = TmpProject.run_here("check", "--strict")
    assert (result.code, result.out, result.err) == (0, "7 briefs valid\n", "")
