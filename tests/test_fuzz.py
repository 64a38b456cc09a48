"""Property-based tests: random YAML, random values in every field, random Unicode.

Every input must end in a valid brief or a clean validation error (never another
exception), and no text from a brief may reach the HTML as markup. CI runs a few
thousand examples; set FIELDBRIEF_FUZZ_EXAMPLES for more, e.g. 20000.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
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
                "abbr", "sub", "sup", "aside", "img", "nav"}


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
