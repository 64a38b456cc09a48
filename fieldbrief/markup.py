"""Markdown in prose fields, turned into HTML that is safe to put in a page.

Brief text is untrusted: Markdown's raw HTML passes through an allowlist (nh3),
links may only use http, https or mailto, and external links get
``rel="noopener noreferrer"``. Template syntax in brief text is never evaluated:
the text reaches Jinja2 only as data.
"""

from __future__ import annotations

import functools
import html
import re

import markdown
import nh3
from markupsafe import Markup, escape

ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
                "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
                "abbr", "sub", "sup", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
LINK_SCHEMES = {"http", "https", "mailto"}

_converter = markdown.Markdown(extensions=["sane_lists", "tables", "smarty"], output_format="html")


PLAIN_TEXT = re.compile(r"""[^\s#>+=|0-9\-*_`\[\]!<>&\\'"][^\n*_`\[\]!<>&\\'"]*""")
"""One line that Markdown (with the smarty extension) would only wrap in a paragraph:
no emphasis, code, link, image, HTML, entity, escape or quote, and no block marker at
its start. Such text, most of a brief, is escaped directly: Python-Markdown costs a
fraction of a millisecond per field, and a brief has dozens of fields."""


@functools.lru_cache(maxsize=256)  # the summary and BLUF are rendered twice per brief
def to_html(text: str) -> Markup:
    """Render block Markdown (paragraphs, lists) to sanitised HTML."""
    if is_plain(text):
        return Markup(f"<p>{escape(text)}</p>")
    return markdown_to_html(text)


def is_plain(text: str) -> bool:
    """True when Markdown would only wrap ``text`` in a paragraph (see PLAIN_TEXT)."""
    return (text.isprintable() and text == text.strip() and PLAIN_TEXT.fullmatch(text) is not None
            and "--" not in text and "..." not in text)


def markdown_to_html(text: str) -> Markup:
    """The full Markdown conversion, sanitised; :func:`to_html` uses it when needed."""
    _converter.reset()
    return Markup(_sanitise(_converter.convert(text)))


def to_inline_html(text: str) -> Markup:
    """Render a one-paragraph Markdown string without the wrapping <p>."""
    html = str(to_html(text))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


def to_plain_text(text: str) -> str:
    """The words of a Markdown string, without markup (for feeds and metadata)."""
    return html.unescape(nh3.clean(str(to_html(text)), tags=set())).strip()


def _sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=LINK_SCHEMES, link_rel="noopener noreferrer")
