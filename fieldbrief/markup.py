"""Markdown in prose fields, turned into HTML that is safe to put in a page.

Brief text is untrusted, and it is not HTML: what an analyst types between ``<`` and
``>``, or as ``&amp;``, is shown as typed (Python-Markdown's raw-HTML and entity
handling is switched off; autolinks such as ``<https://example.org>`` stay links).
Markdown's own output then passes an allowlist (nh3). Links may only go to http,
https or mailto URLs and to anchors in the same page: any other link loses its
target here, so no relative or local path (``file:``) can reach a page or a PDF.
Template syntax in brief text is never evaluated: the text reaches Jinja2 only as data.

Markdown that is nested too deeply, or too long, would exhaust the recursion limit or
take minutes to convert; :func:`markdown_problems` says why a text is refused, and
validation reports it for every Markdown field. Conversion refuses such text too.
"""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser
from xml.etree.ElementTree import Element

import markdown
import nh3
from markdown.blockprocessors import HRProcessor
from markdown.extensions import Extension
from markdown.inlinepatterns import (IMAGE_LINK_RE, IMAGE_REFERENCE_RE, LinkInlineProcessor,
                                     ReferenceInlineProcessor, ShortReferenceInlineProcessor)
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString
from markupsafe import Markup, escape

from fieldbrief.errors import BuildFailed
from fieldbrief.resources import split_url

ALLOWED_TAGS = {"p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
                "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td",
                "abbr", "sub", "sup", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
LINK_SCHEMES = {"http", "https", "mailto"}

MAX_NESTING = 20
"""Blockquotes and list levels in the source, counted together: Python-Markdown
recurses once or more per level (and fails near 250). A brief needs three or four."""
MAX_DEPTH = 50
"""Elements nested in the HTML of one field, emphasis and links included: WeasyPrint
recurses once or more per level (160 nested blockquotes exhaust it)."""
MAX_LENGTH = 10_000
"""Characters in one Markdown field (a long summary is 3,000): some inline patterns take
time quadratic in the length of a paragraph ('**a' repeated: 10,000 characters in ~0.5 s)."""
MAX_BRACKETS = 100
"""'[' in one Markdown field: Python-Markdown's link patterns take time cubic in their number."""


class _LiteralAmpersand(Treeprocessor):
    """'&' in text is a character: ``&amp;`` typed in a brief shows as ``&amp;``.

    The serializer leaves '&' that starts an entity alone; escaping every '&' of the
    text (code is escaped already) first makes it print each one as typed.
    """

    def run(self, root: Element) -> None:
        for element in root.iter():
            if element.text and not isinstance(element.text, AtomicString):
                element.text = element.text.replace("&", "&amp;")
            if element.tail:
                element.tail = element.tail.replace("&", "&amp;")


class _TextNotHtml(Extension):
    """Raw HTML in Markdown is text: no HTML blocks, no inline tags, no entities
    (``\\<`` escapes an autolink). An image is a link to it, with its alt text: the
    page would drop the <img>, and the alt text with it."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (Markdown's name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.inlinePatterns.deregister("entity")
        md.treeprocessors.register(_LiteralAmpersand(md), "literal_ampersand", 3)
        md.inlinePatterns.register(LinkInlineProcessor(IMAGE_LINK_RE, md), "image_link", 150)
        md.inlinePatterns.register(ReferenceInlineProcessor(IMAGE_REFERENCE_RE, md),
                                   "image_reference", 140)
        md.inlinePatterns.register(ShortReferenceInlineProcessor(IMAGE_REFERENCE_RE, md),
                                   "short_image_ref", 125)
        md.ESCAPED_CHARS.append("<")


@functools.cache
def _converter() -> markdown.Markdown:
    """The one converter, made when first asked for: making it imports its extensions and
    compiles their patterns, which a build that converts no text never needs."""
    return markdown.Markdown(extensions=["sane_lists", "tables", "smarty", _TextNotHtml()],
                             output_format="html")


PLAIN_TEXT = re.compile(r"""[^\s#>+=|0-9\-*_`\[\]!<>&\\'"][^\n*_`\[\]!<\\'"]*""")
"""One line that Markdown (with the smarty extension) would only wrap in a paragraph:
no emphasis, code, link, image, autolink, escape or quote, and no block marker at
its start ('&' and '>' are text like any other character, see _TextNotHtml). Such
text, most of a brief, is escaped directly: Python-Markdown costs a fraction of a
millisecond per field, and a brief has dozens of fields."""


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
    """The full Markdown conversion, sanitised; :func:`to_html` uses it when needed.

    Raises BuildFailed for text :func:`markdown_problems` refuses (validation reports
    it first, with its position), so no page can nest deeper than MAX_DEPTH.
    """
    if problems := markdown_problems(text):
        raise BuildFailed(f"refused Markdown: {problems[0]}")
    return Markup(_sanitised(text))


def to_inline_html(text: str) -> Markup:
    """Render a one-paragraph Markdown string without the wrapping <p>."""
    html = str(to_html(text))
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


def to_plain_text(text: str) -> str:
    """The words of a Markdown string, without markup (for feeds and metadata)."""
    return html.unescape(nh3.clean(str(to_html(text)), tags=set())).strip()


# --- what validation asks -----------------------------------------------------------------

def markdown_problems(text: str) -> list[str]:
    """Why ``text`` may not be converted (too long, too many '[', nested too deeply).

    The source is measured first, so that Python-Markdown never sees text it would
    take minutes over or recurse too deeply on; then, unless the text has no block
    structure at all and too few characters that open an inline element to come near
    MAX_DEPTH, the converted HTML is measured: lazy continuation lines can nest deeper
    than any single line shows.
    """
    problems = []
    if len(text) > MAX_LENGTH:
        problems.append(f"Markdown is {len(text)} characters long; at most {MAX_LENGTH} are "
                        "allowed in one field")
    if (brackets := text.count("[")) > MAX_BRACKETS:
        problems.append(f"Markdown has {brackets} '['; at most {MAX_BRACKETS} are allowed in "
                        "one field (write \\[ for a bracket that is not a link)")
    if (nesting := nesting_depth(text)) > MAX_NESTING:
        problems.append(_too_deep(nesting))
    if problems or (nesting == 0 and 4 + _inline_openers(text) <= MAX_DEPTH):
        return problems
    try:
        structure, depth = html_depth(_sanitised(text))
    except RecursionError:  # a chain of lazy lines
        return [f"Markdown is nested too deeply to convert (blockquotes or lists); at most "
                f"{MAX_NESTING} levels are allowed"]
    if structure > MAX_NESTING:
        return [_too_deep(structure)]
    if depth > MAX_DEPTH:
        return [f"Markdown is nested {depth} elements deep (emphasis, links, blockquotes or "
                f"lists); at most {MAX_DEPTH} are allowed"]
    return []


def _too_deep(levels: int) -> str:
    return (f"Markdown is nested {levels} levels deep (blockquotes or lists); "
            f"at most {MAX_NESTING} are allowed")


def _inline_openers(text: str) -> int:
    """Characters that can open an inline element (emphasis, code, link): without block
    structure, a field nests at most four elements (a table cell) plus one per opener."""
    return sum(text.count(char) for char in "*_`[<")


def links_of(text: str) -> list[str]:
    """The link targets Markdown makes of ``text``, before sanitising, in order.

    Only for text :func:`markdown_problems` accepts.
    """
    if "[" not in text and "<" not in text:  # no link, reference or autolink
        return []
    return [html.unescape(link[1]) for link in _HREF.finditer(_converted(text))]


# --- nesting -----------------------------------------------------------------------------

_QUOTE_MARKER = re.compile(r" {0,3}> ?")
_LIST_MARKER = re.compile(r" {0,3}(?:[*+-]|\d+\.)(?: +|\t|$)")
_INDENT = re.compile(r" {4}|\t| {0,3}\t")
_RULE = re.compile(HRProcessor.RE.removeprefix("^"))  # a line Markdown reads as <hr>


def nesting_depth(text: str) -> int:
    """The deepest nesting of blockquotes and lists any one line of ``text`` opens.

    Counted on the source, line by line and without recursion: each '>' marker, each
    list marker and each level of indentation (four spaces or a tab) at the start of
    a line is one level. Lazy continuation lines (a line without the markers of the
    quote or list item it continues) can make Python-Markdown nest deeper than this.
    """
    return max((_line_depth(line) for line in text.split("\n")), default=0)


def _line_depth(line: str) -> int:
    depth, position = 0, 0
    while True:
        marker = _QUOTE_MARKER.match(line, position) or _INDENT.match(line, position)
        if marker is None and not _RULE.match(line, position):
            marker = _LIST_MARKER.match(line, position)
        if marker is None or marker.end() == position:
            return depth
        depth += 1
        position = marker.end()


class _Depth(HTMLParser):
    """Follows how deeply elements nest (a parser without recursion, unlike a tree)."""

    VOID = {"br", "hr", "img", "wbr"}
    STRUCTURE = {"blockquote", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__()
        self.depth = self.deepest = self.structure = self.deepest_structure = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)
        if tag in self.STRUCTURE:
            self.structure += 1
            self.deepest_structure = max(self.deepest_structure, self.structure)

    def handle_endtag(self, tag: str) -> None:
        self.depth -= tag not in self.VOID
        self.structure -= tag in self.STRUCTURE


def html_depth(fragment: str) -> tuple[int, int]:
    """How deeply blockquotes and lists, and how deeply all elements, nest in
    well-formed HTML (nh3's output)."""
    parser = _Depth()
    parser.feed(fragment)
    parser.close()
    return parser.deepest_structure, parser.deepest


# --- conversion --------------------------------------------------------------------------

_HREF = re.compile(r'<a\b[^>]*?\shref="([^"]*)"')


@functools.lru_cache(maxsize=64)  # validation asks for depth and links, rendering for HTML
def _converted(text: str) -> str:
    """Python-Markdown's HTML for ``text``, not yet sanitised."""
    converter = _converter()
    converter.reset()
    return converter.convert(text)


@functools.lru_cache(maxsize=64)
def _sanitised(text: str) -> str:
    return _sanitise(_converted(text))


def allowed_link(url: str) -> bool:
    """True for an http(s) URL with a host, a mailto: address, or an anchor ('#x')."""
    if url.startswith("#"):
        return len(url) > 1
    parts = split_url(url)
    if parts is None:
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme.lower() == "mailto" and bool(parts.path)


def _sanitise(html: str) -> str:
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=LINK_SCHEMES, link_rel="noopener noreferrer",
                     attribute_filter=_link_filter)


def _link_filter(tag: str, attribute: str, value: str) -> str | None:
    """Keep only the links :func:`allowed_link` allows: nothing relative, nothing local."""
    if tag == "a" and attribute == "href" and not allowed_link(value):
        return None
    return value
