"""Raw HTML and entities in a brief's Markdown are text the analyst typed: the page, the
PDF and the feed show them as typed, while Markdown formatting still works."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import TmpProject, pdf_pages_text
from fieldbrief.markup import to_html, to_inline_html, to_plain_text

ATOM = "{http://www.w3.org/2005/Atom}"


class _Text(HTMLParser):
    """The visible text of a page, and its start tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile") / "project"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = TmpProject(root)
        project.add("hostile_text.yaml")
        result = project.run()
    assert result.code == 0, result.err
    return root / "site"


HOSTILE_LINE = ("Hostile test strings: <script>alert(‘x’)</script>, {{ config }}, "
                "<img src=x onerror=alert(2)>.")
"""The BLUF point of hostile_text.yaml as a reader sees it (smarty curls the quotes)."""
ENTITY_LINE = "Typed entities &amp; &copy; &#60; stay, <b>&amp;</b> in code too; <!– not a comment –>"


def test_tags_typed_in_markdown_are_shown_in_the_page(hostile_site: Path) -> None:
    page = _visible((hostile_site / "briefs/hostile-text/index.html").read_text())
    text = _flat("".join(page.text))
    assert HOSTILE_LINE in text
    assert ('Raw HTML <script>alert(“summary”)</script> and '
            '<iframe src=”https://example.org”></iframe>.') in text
    assert not {"script", "iframe", "img"} & set(page.tags)


def test_tags_typed_in_markdown_are_shown_in_the_pdf(hostile_site: Path) -> None:
    text = _flat(" ".join(pdf_pages_text(hostile_site / "briefs/hostile-text/hostile-text.pdf")))
    assert HOSTILE_LINE in text
    assert ENTITY_LINE in text


def test_entities_typed_in_markdown_show_as_typed(hostile_site: Path) -> None:
    page = _visible((hostile_site / "briefs/hostile-text/index.html").read_text())
    assert ENTITY_LINE in _flat("".join(page.text))


def test_feed_summary_keeps_tags_typed_in_the_bluf(hostile_site: Path) -> None:
    entry = ET.parse(hostile_site / "feed.xml").getroot().find(f"{ATOM}entry")
    summary = entry.find(f"{ATOM}summary").text
    assert HOSTILE_LINE in summary
    assert ENTITY_LINE in summary


@pytest.mark.parametrize(("markdown", "html"), [
    ("*em*, **strong** and `<code> & more`",
     "<p><em>em</em>, <strong>strong</strong> and <code>&lt;code&gt; &amp; more</code></p>"),
    ("- one <b>\n- two &amp;", "<ul>\n<li>one &lt;b&gt;</li>\n<li>two &amp;amp;</li>\n</ul>"),
    ("[site](https://example.org/?a=1&b=2)",
     '<p><a href="https://example.org/?a=1&amp;b=2" rel="noopener noreferrer">site</a></p>'),
    ("<https://example.org/x>",
     '<p><a href="https://example.org/x" rel="noopener noreferrer">https://example.org/x</a></p>'),
    ("\\<https://example.org/x>", "<p>&lt;https://example.org/x&gt;</p>"),
    ("| a | <b> |\n|---|---|\n| 1 | & |",
     "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>&lt;b&gt;</th>\n</tr>\n</thead>\n<tbody>\n"
     "<tr>\n<td>1</td>\n<td>&amp;</td>\n</tr>\n</tbody>\n</table>"),
    ("    <div>code</div>", "<pre><code>&lt;div&gt;code&lt;/div&gt;\n</code></pre>"),
    ("<div>\nblock\n</div>", "<p>&lt;div&gt;\nblock\n&lt;/div&gt;</p>"),
])
def test_markdown_formatting_is_kept_and_html_is_text(markdown: str, html: str) -> None:
    assert str(to_html(markdown)) == html


def test_image_in_markdown_becomes_a_link_with_its_alt_text() -> None:
    assert str(to_inline_html("see ![the map](https://example.org/map.png)")) == (
        'see <a href="https://example.org/map.png" rel="noopener noreferrer">the map</a>')


def test_plain_text_of_markdown_keeps_tags_and_entities() -> None:
    assert to_plain_text("*Quoted* <script>alert(1)</script> &amp; `<b>`") == (
        "Quoted <script>alert(1)</script> &amp; <b>")

