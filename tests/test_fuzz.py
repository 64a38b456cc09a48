"""Property-based tests: random YAML, random values in every field, random Unicode.

Every input must end in a valid brief or a clean validation error (never another
exception), and no text from a brief may reach the HTML as markup. YAML is also
written by hand (tags, escapes in double quotes, values YAML reads as numbers or
booleans, deep nesting, long ids and tags, aliases of large values): `check` must
never raise, and what passes `check` must build. CI runs a few thousand examples;
set FIELDBRIEF_FUZZ_EXAMPLES for more, e.g. 20000.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from conftest import REPO, SCENARIOS
from fieldbrief.cli import main
from fieldbrief.config import SiteConfig
from fieldbrief.errors import InvalidInput
from fieldbrief.load import load_file
from fieldbrief.markup import is_plain, markdown_to_html, to_html
from fieldbrief.render_html import HtmlRenderer
from fieldbrief.render_pdf import PdfJob, PdfRenderer
from fieldbrief.resources import ResourcePolicy
from fieldbrief.validate import SiteRules, ValidBrief, validate

EXAMPLES = int(os.environ.get("FIELDBRIEF_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
POLICY = ResourcePolicy.for_project(REPO)
RULES = SiteRules(POLICY)
HTML_RENDERER = HtmlRenderer(REPO / "templates", SiteConfig(title="Fuzz"), POLICY)
PDF_RENDERER = PdfRenderer(REPO / "styles", POLICY)
MALI = yaml.safe_load((REPO / "briefs/mali-jnim-attacks.yaml").read_text(encoding="utf-8"))

HOSTILE = st.sampled_from([
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "{{ config }}", "{% include 'base.html' %}",
    "[x](javascript:alert(1))", "<a href=\"data:text/html,x\">x</a>", "&amp; & < > \" '", "\u202e\u200f",
    "<svg onload=alert(1)>", "<iframe src=//evil>", "<style>*{}</style>", "]]>", "\x00", "---\n- a",
])
TEXT = st.one_of(st.text(), HOSTILE, st.lists(st.one_of(st.text(max_size=8), HOSTILE)).map("".join))
SCALARS = st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
                    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)))
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=5), st.dictionaries(TEXT, inner, max_size=5)), max_leaves=30)
ALLOWED_TAGS = {"html", "head", "meta", "title", "link", "body", "header", "main", "footer", "a",
                "span", "article", "p", "h1", "h2", "h3", "h4", "h5", "h6", "dl", "div", "dt",
                "dd", "section", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote",
                "table", "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "br", "hr",
                "abbr", "sub", "sup", "aside", "img", "nav", "bdi"}


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"attribute {name}")
            if name in ("href", "src") and value and value.strip().lower().startswith(
                    ("javascript:", "data:", "vbscript:")):
                self.problems.append(f"{name}={value}")


def _leaf_paths(value: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [path] + [p for key, item in value.items() for p in _leaf_paths(item, path + (key,))]
    if isinstance(value, list):
        return [path] + [p for index, item in enumerate(value) for p in _leaf_paths(item, path + (index,))]
    return [path]


MALI_PATHS = _leaf_paths(MALI)[1:]


def _replace(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[head] = _replace(document[head], tuple(rest), value)
    return copy


def _check_file(path: Path) -> ValidBrief | None:
    try:
        return validate(load_file(path), RULES)
    except InvalidInput as error:
        assert error.problems, "an InvalidInput always says what is wrong"
        assert all(problem.line >= 1 and problem.column >= 1 for problem in error.problems)
        return None


def _assert_no_markup_from_the_brief(valid: ValidBrief) -> None:
    parser = _Markup()
    parser.feed(HTML_RENDERER.brief_page(valid.brief))
    assert parser.problems == []


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes(tmp_path_factory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "brief.yaml"
    path.write_bytes(data)
    _check_file(path)


@FUZZ
@given(DOCUMENTS)
def test_random_yaml_documents(tmp_path_factory, document: Any) -> None:
    path = tmp_path_factory.mktemp("doc") / "brief.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _check_file(path)


@FUZZ
@given(st.sampled_from(MALI_PATHS), st.one_of(SCALARS, DOCUMENTS))
def test_random_values_in_every_field(tmp_path_factory, path: tuple, value: Any) -> None:
    target = tmp_path_factory.mktemp("field") / "brief.yaml"
    target.write_text(yaml.safe_dump(_replace(MALI, path, value), allow_unicode=True), encoding="utf-8")
    valid = _check_file(target)
    if valid is not None:
        _assert_no_markup_from_the_brief(valid)


@settings(max_examples=max(10, EXAMPLES // 50), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from([p for p in MALI_PATHS if isinstance(p[-1], str) and p[-1] in
                        ("title", "summary", "text", "counts", "value", "notes", "speaker")]), TEXT)
def test_random_text_renders_to_pdf(tmp_path_factory, path: tuple, text: str) -> None:
    target = tmp_path_factory.mktemp("pdf") / "brief.yaml"
    target.write_text(yaml.safe_dump(_replace(MALI, path, text), allow_unicode=True), encoding="utf-8")
    valid = _check_file(target)
    if valid is None:
        return
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    pdf = PDF_RENDERER.render(PdfJob(HTML_RENDERER.print_page(valid.brief, moment), "fuzz", "A4",
                                     moment, "brief.yaml", target.read_bytes()))
    assert pdf.startswith(b"%PDF-")


@FUZZ
@given(st.one_of(st.text(), st.text(alphabet=" abcdeéحߡ.,;:()-'\"!?*_#<>&0123456789\n")))
def test_fast_path_for_plain_text_matches_markdown(text: str) -> None:
    """Text escaped directly must come out exactly as Markdown would render it."""
    if is_plain(text):
        assert to_html(text) == markdown_to_html(text)


# --- YAML written by hand: tags, escapes, look-alikes, nesting, long values, aliases ------

MINIMAL_LINES = (SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8").splitlines()
VALUE_LINES = [index for index, line in enumerate(MINIMAL_LINES)
               if ": " in line or line.lstrip().startswith("- ")]
TEXT_LINES = [index for index, line in enumerate(MINIMAL_LINES)
              if line.split(":")[0].strip("- ") in ("title", "desk", "summary", "counts", "publisher")]

SCALAR_TAGS = st.sampled_from([
    "!!bool", "!!int", "!!float", "!!timestamp", "!!binary", "!!str", "!!null", "!!seq", "!!map",
    "!!set", "!!omap", "!!merge", "!!python/name:os.system", "!!python/object/apply:os.system",
    "!!python/bytes", "!local", "!", "!<tag:yaml.org,2002:str>", "!<tag:yaml.org,2002:int>"])
ESCAPES = st.sampled_from([
    "\\0", "\\a", "\\b", "\\e", "\\x01", "\\x1b", "\\x7f", "\\x85", "\\xa0", "\\uFFFE",
    "\\uFFFF", "\\uFDD0", "\\ud800", "\\U0001FFFE", "\\U0010FFFF", "\\N", "\\_", "\\L", "\\P",
    "\\t", "\\n", "\\r", "\\\\", '\\"', "\\u202e", "\\u2028", "\\/"])
QUOTABLE = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"),
                                          blacklist_characters='"\\'), max_size=8)
DOUBLE_QUOTED = st.lists(st.one_of(ESCAPES, QUOTABLE), max_size=6).map(
    lambda parts: '"' + "".join(parts) + '"')
LOOKALIKES = st.sampled_from([
    "11:00", "1:30:00", "190:20:30.15", "-1:00", "yes", "No", "on", "OFF", "y", "n", "~", "null",
    "NULL", "", "1e3", "1.0e+3", ".inf", "-.Inf", ".nan", "0x10", "0o17", "017", "1_000", "0b101",
    "+12", "2026-01-15", "2026-1-5", "2026-01-15T10:00:00-23:00", "2026-01-15 10:00:00.5 +5",
    "9999-12-31T23:59:59-23:00", "0001-01-01", "2026-02-30", "2026-01-15T10:00Z", "<<", "=",
    "'2026-11-02'", "'11:00'", "16.770", "-3.0", "[16.77, -3.0]", "[1e3, .nan]", "[90.0001, 0]"])
LONG = st.tuples(st.sampled_from(["a", "ŧ", "a-", "-", "A", "\u6f22"]), st.integers(1, 400)).map(
    lambda pair: pair[0] * pair[1])
NESTED = st.integers(1, 80).flatmap(lambda depth: st.sampled_from(
    ["[" * depth + "]" * depth, "{a: " * depth + "}" * depth, "[" * depth + "1" + "]" * depth]))
RAW_SCALARS = st.one_of(
    LOOKALIKES, DOUBLE_QUOTED, LONG, NESTED,
    st.tuples(SCALAR_TAGS, st.one_of(LOOKALIKES, DOUBLE_QUOTED, st.just('""'), st.just("maybe"),
                                     st.just("AAEC"))).map(" ".join))
EXTRA_FIELDS = st.one_of(
    RAW_SCALARS.map("tags: [{}]".format),
    st.tuples(RAW_SCALARS, RAW_SCALARS).map(
        lambda pair: "places:\n  - id: p\n    name: P\n    country: ML\n"
                     f"    coordinates: [{pair[0]}, {pair[1]}]"),
    RAW_SCALARS.map(lambda when: f"timeline:\n  - when: {when}\n    text: t\n    sources: [only-source]"),
    RAW_SCALARS.map(lambda day: f"revisions:\n  - date: {day}\n    change: c"),
    RAW_SCALARS.map("region: {}".format),
)
ALIASES = st.tuples(st.sampled_from([1, 1000, 100_000]), st.integers(1, 3000)).map(
    lambda sizes: f"authors: [&big {'y' * sizes[0]}" + ", *big" * sizes[1] + "]")
FEW_ALIASES = st.tuples(st.sampled_from([1, 1000, 30_000]), st.integers(0, 19)).map(
    lambda sizes: f"authors: [&big {'y' * sizes[0]}" + ", *big" * sizes[1] + "]")
ALLOWED_ESCAPES = st.sampled_from(["\\t", "\\n", "\\_", "\\L", "\\P", "\\\\", '\\"', "\\u202e",
                                   "\\u2028", "\\/", "\\xa0", "\\U0001F600"])
ALLOWED_DOUBLE_QUOTED = st.lists(st.one_of(ALLOWED_ESCAPES, QUOTABLE), max_size=6).map(
    lambda parts: '"x' + "".join(parts) + '"')
TEXT_VALUES = st.one_of(ALLOWED_DOUBLE_QUOTED, LOOKALIKES.filter(str.strip).map(repr),
                        LONG.map(repr))


def _raw_brief(draw: st.DrawFn, lines: list[int], scalars: st.SearchStrategy[str],
               extras: st.SearchStrategy[str], aliases: st.SearchStrategy[str]) -> str:
    text = list(MINIMAL_LINES)
    for index in draw(st.lists(st.sampled_from(lines), min_size=1, max_size=3)):
        head, separator, _ = text[index].partition(": ") if ": " in text[index] else (
            text[index].partition("- "))
        text[index] = head + separator + draw(scalars)
    added = draw(st.lists(extras, max_size=2, unique_by=lambda field: field.split(":")[0]))
    return "\n".join(text + added + draw(st.lists(aliases, max_size=1))) + "\n"


@st.composite
def hand_written_briefs(draw: st.DrawFn) -> str:
    """valid_minimal.yaml with some values, and a few added fields, written by hand."""
    return _raw_brief(draw, VALUE_LINES, RAW_SCALARS, EXTRA_FIELDS, ALIASES)


@st.composite
def nearly_valid_briefs(draw: st.DrawFn) -> str:
    """Hand-written text in text fields and tags, and a few aliases, so that many pass
    `check` and are built."""
    tags = st.lists(TEXT_VALUES, min_size=1, max_size=3).map(lambda tags: f"tags: [{', '.join(tags)}]")
    return _raw_brief(draw, TEXT_LINES, st.one_of(TEXT_VALUES, DOUBLE_QUOTED), tags, FEW_ALIASES)


@FUZZ
@given(hand_written_briefs())
def test_hand_written_yaml_checks_without_a_traceback(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("raw") / "brief.yaml"
    path.write_text(text, encoding="utf-8")
    _check_file(path)


BUILDS = settings(max_examples=max(5, EXAMPLES // 25), deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _cli(root: Path, *argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(root):
        code = main(list(argv), stdout=out, stderr=err)
    lines = err.getvalue().splitlines()
    assert all(re.match(r"(briefs/brief\.yaml:\d+:\d+: |error: )", line) for line in lines), lines
    return code, err.getvalue()


@BUILDS
@given(st.one_of(nearly_valid_briefs(), hand_written_briefs()))
def test_what_passes_check_builds(tmp_path_factory, text: str) -> None:
    root = tmp_path_factory.mktemp("project")
    for folder in ("templates", "styles"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "briefs").mkdir()
    (root / "briefs" / "brief.yaml").write_text(text, encoding="utf-8")
    code, err = _cli(root, "check")
    note(err)
    event("passed check, built" if code == 0 else "refused by check")
    if code == 0:
        build_code, build_err = _cli(root, "--no-pdf", "-j", "1")
        assert build_code == 0, build_err
