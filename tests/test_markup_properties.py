"""Property-based tests of the Markdown layer: the plain-text fast path agrees with
Python-Markdown on text with '<', '>' and '&'; typed tags and entities survive as text;
and whatever Markdown check accepts converts within the nesting bound, with safe links.
Set FIELDBRIEF_FUZZ_EXAMPLES for more examples, as for tests/test_fuzz.py.
"""

from __future__ import annotations

import html
import os
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldbrief.markup import (MAX_DEPTH, MAX_NESTING, allowed_link, html_depth, is_plain,
                               markdown_problems, markdown_to_html, nesting_depth, to_html,
                               to_plain_text)

EXAMPLES = int(os.environ.get("FIELDBRIEF_FUZZ_EXAMPLES", "1000"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])

TAG_LIKE = st.sampled_from([
    "<script>alert('x')</script>", "<img src=x onerror=alert(2)>", "<b>", "</p>", "<!-- c -->",
    "&amp;", "&copy;", "&#60;", "&#x3c;", "&", "<", ">", "a < b", "a > b", "<div>", "<a href=x>",
    "<https://example.org/x>", "<desk@example.org>", "<?php ?>", "<![CDATA[x]]>",
])
TEXT_WITH_TAGS = st.lists(st.one_of(st.text(max_size=8), TAG_LIKE), max_size=12).map("".join)

WORDS = st.text(alphabet="abcdeé حߡ<>&;#/=", min_size=1, max_size=60)
"""Letters with the characters of tags and entities, but no Markdown syntax."""

MARKDOWN_TOKENS = st.sampled_from([
    "> ", ">", "- ", "* ", "1. ", "    ", "\t", "\n", "\n\n", "*", "**", "_", "__", "`", "[", "]",
    "](", ")", "(", "![", "<", ">", "&", "&amp;", "a", "word ", "https://example.org/x",
    "#source-a", "other.html", "//evil.example", "file:///etc/passwd", "javascript:x", "\\",
    "---", "| a |", "|---|", "<https://example.org>", "<a@b.org>", "<b>", "\"", "'", "--",
])
MARKDOWN = st.lists(MARKDOWN_TOKENS, max_size=80).map("".join)
_HREF = re.compile(r'<a\b[^>]*?\shref="([^"]*)"')


def _visible(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]*>", "", fragment))


@FUZZ
@given(st.one_of(TEXT_WITH_TAGS, st.text(alphabet=" abcdeéحߡ.,;:()-'\"!?*_#<>&=/0123456789\n")))
def test_fast_path_agrees_with_markdown_on_tags_and_entities(text: str) -> None:
    if is_plain(text):
        assert to_html(text) == markdown_to_html(text)


@FUZZ
@given(WORDS)
def test_tags_and_entities_typed_as_text_are_kept_as_typed(words: str) -> None:
    text = f"x {words}".strip()
    assert _visible(str(to_html(text))) == text
    assert to_plain_text(text) == text


@FUZZ
@given(MARKDOWN)
def test_accepted_markdown_converts_within_bounds_with_safe_links(text: str) -> None:
    if markdown_problems(text):
        return
    fragment = str(markdown_to_html(text))
    structure, depth = html_depth(fragment)
    assert structure <= MAX_NESTING and depth <= MAX_DEPTH
    if nesting_depth(text) == 0:  # then check measures the source alone: is that sound?
        assert structure == 0 and depth <= 4 + sum(text.count(char) for char in "*_`[<")
    assert all(allowed_link(html.unescape(href)) for href in _HREF.findall(fragment))
