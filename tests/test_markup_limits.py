"""Markdown that would exhaust the recursion limit or take minutes is refused by check,
with the field's position, in every Markdown field; what check passes builds."""

from __future__ import annotations

import json

import pytest

from conftest import SCENARIOS, TmpProject
from fieldbrief.errors import BuildFailed
from fieldbrief.markup import MAX_DEPTH, MAX_NESTING, markdown_to_html, nesting_depth

MINIMAL = (SCENARIOS / "valid_minimal.yaml").read_text()
SUMMARY_AT = "briefs/deep.yaml:10:10: summary:"
ONE_PROBLEM = "error: 1 problem in 1 file; nothing was written"


def with_summary(project: TmpProject, summary: str, name: str = "deep.yaml") -> None:
    """valid_minimal.yaml with ``summary`` (written as a JSON string, which YAML reads)."""
    project.write(name, MINIMAL.replace("summary: One paragraph of summary.",
                                        f"summary: {json.dumps(summary)}"))


def nested_list(levels: int) -> str:
    return "\n".join("    " * level + "- item" for level in range(levels))


@pytest.mark.parametrize(("summary", "depth"), [
    (">" * 160 + " deep", 160),
    ("> " * 40 + "deep", 40),
    ("- " * 250 + "deep", 250),
    (nested_list(30), 30),
    ("> - " * 15 + "deep", 30),
])
def test_deeply_nested_quotes_and_lists_are_refused_by_check(
        project: TmpProject, summary: str, depth: int) -> None:
    with_summary(project, summary)
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{SUMMARY_AT} Markdown is nested {depth} levels deep (blockquotes or lists); "
        "at most 20 are allowed", ONE_PROBLEM]


def test_lazy_lines_nesting_deeper_than_any_line_are_refused_by_check(project: TmpProject) -> None:
    """Each line opens at most 20 levels, but lines without the markers of the quote or
    item they continue stay inside it, and open their own levels there."""
    with_summary(project, "> " * 19 + "- \n" + "- " * 19 + "a\n" + "> " * 19 + "a")
    assert project.run("check").err.splitlines() == [
        f"{SUMMARY_AT} Markdown is nested 38 levels deep (blockquotes or lists); "
        "at most 20 are allowed", ONE_PROBLEM]


def test_deeply_nested_emphasis_is_refused_by_check(project: TmpProject) -> None:
    with_summary(project, "**a " * 50 + "x" + " a**" * 50)
    result = project.run("check")
    assert result.err.splitlines() == [
        f"{SUMMARY_AT} Markdown is nested 51 elements deep (emphasis, links, blockquotes "
        "or lists); at most 50 are allowed", ONE_PROBLEM]


def test_every_markdown_field_is_checked(project: TmpProject) -> None:
    deep = json.dumps(">" * 30 + " deep")
    text = (MINIMAL.replace("  - Second point.", f"  - {deep}")
            .replace("    sources: [only-source]", f"    sources: [only-source]\n    note: {deep}")
            .replace("    credibility: 2", f"    credibility: 2\n    notes: {deep}"))
    project.write("deep.yaml", text)
    message = "Markdown is nested 30 levels deep (blockquotes or lists); at most 20 are allowed"
    assert project.run("check").err.splitlines() == [
        f"briefs/deep.yaml:9:5: bluf[1]: {message}",
        f"briefs/deep.yaml:16:11: figures[0].note: {message}",
        f"briefs/deep.yaml:24:12: sources[0].notes: {message}",
        "error: 3 problems in 1 file; nothing was written"]


def test_long_field_and_many_brackets_are_refused_by_check(project: TmpProject) -> None:
    with_summary(project, "[" * 50_000)
    assert project.run("check").err.splitlines() == [
        f"{SUMMARY_AT} Markdown has 50000 '['; at most 100 are allowed in one field "
        "(write \\[ for a bracket that is not a link)",
        f"{SUMMARY_AT} Markdown is 50000 characters long; at most 10000 are allowed in one field",
        "error: 2 problems in 1 file; nothing was written"]


def test_markdown_at_the_limits_builds_a_pdf(project: TmpProject) -> None:
    """What check passes, the renderers can render: the limits are below the recursion limits."""
    quotes = "> " * MAX_NESTING + "twenty quotes deep"
    emphasis = "**a " * (MAX_DEPTH - 1) + "x" + " a**" * (MAX_DEPTH - 1)
    with_summary(project, "\n\n".join([quotes, nested_list(MAX_NESTING), emphasis,
                                       "[" * 100, "*a**a" * 1000]), "limits.yaml")
    result = project.run()
    assert result.code == 0, result.err
    assert (project.root / "site/briefs/valid-minimal/valid-minimal.pdf").stat().st_size > 0


def test_nesting_is_counted_without_recursion() -> None:
    assert nesting_depth("> " * 100_000 + "x") == 100_000


def test_conversion_refuses_what_check_refuses() -> None:
    with pytest.raises(BuildFailed, match="nested 160 levels deep"):
        markdown_to_html(">" * 160 + " x")
    deep_emphasis = "**a " * 50 + "x" + " a**" * 50
    with pytest.raises(BuildFailed, match=f"nested 51 elements deep .* at most {MAX_DEPTH}"):
        markdown_to_html(deep_emphasis)
    with pytest.raises(BuildFailed, match="nested 51 elements deep"):
        markdown_to_html('[end tags in a title](https://example.org "' + "</b>" * 60 + '") '
                         + deep_emphasis)
