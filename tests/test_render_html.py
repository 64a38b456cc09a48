"""The built HTML: escaping of hostile text, structure of the Mali page, relative links."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import TmpProject


class _Collector(HTMLParser):
    """Collects tags, their attributes and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> _Collector:
    collector = _Collector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector


@pytest.fixture
def hostile_page(project: TmpProject) -> Path:
    project.add("hostile_text.yaml")
    result = project.run()
    assert result.code == 0, result.err
    return project.root / "site/briefs/hostile-text/index.html"


def test_markup_in_brief_text_is_escaped(hostile_page: Path) -> None:
    html = hostile_page.read_text()
    page = parse(hostile_page)
    assert [tag for tag, _ in page.tags if tag in {"script", "iframe", "img"}] == []
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert "Fish &amp; chips &lt;b&gt;bold&lt;/b&gt;" in html
    assert "A &lt; B &amp; C &gt; D" in html
    assert "Desk &lt;script&gt;alert(&#39;desk&#39;)&lt;/script&gt;" in html
    assert "Raw HTML &lt;script&gt;alert(“summary”)&lt;/script&gt; and &lt;iframe" in html


def test_template_syntax_in_brief_text_is_printed_not_evaluated(hostile_page: Path) -> None:
    text = "".join(parse(hostile_page).text)
    assert "{{ config }}" in text
    assert "{% include 'base.html' %} and {{ 7 * 7 }}" in text
    assert "{{ brief.id }}" in text
    assert "{% raw %} stays text." in text
    assert "49" not in text


def test_links_are_limited_to_safe_schemes(hostile_page: Path) -> None:
    hrefs = [attrs.get("href") for tag, attrs in parse(hostile_page).tags if tag == "a"]
    assert not [h for h in hrefs if h and h.lower().startswith(("javascript:", "data:"))]
    assert {"https://example.org/a?b=1&c=2", "https://example.org/click"} <= set(hrefs)


def test_mali_page_has_every_section(example_site: Path) -> None:
    page = parse(example_site / "briefs/mali-jnim-attacks/index.html")
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"bottom-line", "key-figures", "situation", "timeline", "quotes", "assessment",
            "outlook", "places-and-actors", "sources", "revisions"} <= ids
    assert {"source-rtw-article", "source-fama-statement", "source-jnim-statement",
            "source-africom-press-conference"} <= ids


def test_mali_page_marks_claims_and_cites_sources(example_site: Path) -> None:
    html = (example_site / "briefs/mali-jnim-attacks/index.html").read_text()
    figure = re.search(r'<li class="figure figure-claimed" id="figure-1">\s*<span class="figure-value">80\+</span>'
                       r'.*?</li>', html, re.S)
    assert figure, "the 80+ figure is marked as claimed"
    assert "CLAIMED by Malian military" in figure.group(0)
    assert '<a href="#source-fama-statement"' in figure.group(0)
    assert "The enemy suffered significant losses in every location" in html
    assert "TLP:CLEAR" in html


def test_every_citation_points_at_a_source_note(example_site: Path) -> None:
    page = parse(example_site / "briefs/mali-jnim-attacks/index.html")
    ids = {attrs.get("id") for _, attrs in page.tags}
    anchors = [attrs["href"] for tag, attrs in page.tags
               if tag == "a" and (attrs.get("href") or "").startswith("#")]
    assert anchors and all(anchor[1:] in ids for anchor in anchors)


def test_links_are_relative_and_resolve_on_disk(example_site: Path) -> None:
    for page_path in [example_site / "index.html", *example_site.glob("briefs/*/index.html")]:
        for tag, attrs in parse(page_path).tags:
            target = attrs.get("href") if tag in {"a", "link"} else None
            if not target or target.startswith(("#", "https://", "http://", "mailto:")):
                continue
            assert not target.startswith("/"), f"{page_path}: absolute link {target}"
            file, _, fragment = target.partition("#")
            linked = (page_path.parent / file).resolve()
            assert linked.is_file(), f"{page_path}: broken {target}"
            if fragment:
                assert f'id="{fragment}"' in linked.read_text(encoding="utf-8"), f"{page_path}: broken {target}"


def test_index_lists_briefs_newest_first(example_site: Path) -> None:
    html = (example_site / "index.html").read_text()
    mali = html.index("briefs/mali-jnim-attacks/index.html")
    exercise = html.index("briefs/exercise-river-delta-floods/index.html")
    assert mali < exercise, "Mali (as of 23 Nov) comes before the exercise (as of 20 Nov)"
    assert "4 briefs, newest first." in html, ("a series is listed by its latest issue only, "
                                                 "and the French Mali brief shares its entry")
