"""Links in a brief's Markdown go to web and mail addresses or to anchors of the brief's
own page. check refuses any other link at its field; the markup layer drops it, so no
local path (file:) can reach a page or a PDF."""

from __future__ import annotations

import io
import json
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from pypdf import PdfReader

from conftest import REPO, SCENARIOS, TmpProject
from fieldbrief.config import SiteConfig
from fieldbrief.markup import to_inline_html
from fieldbrief.model import Brief
from fieldbrief.render_html import HtmlRenderer
from fieldbrief.render_pdf import PdfJob, PdfRenderer
from fieldbrief.resources import ResourcePolicy
from fieldbrief.validate import _anchors

MINIMAL = (SCENARIOS / "valid_minimal.yaml").read_text()
ALLOWED = ("Links: [web](https://example.org/a?b=1&c=2), [plain](http://example.org/), "
           "<https://example.org/auto>, [mail](mailto:desk@example.org), <desk@example.org>, "
           "[note](#source-only-source), [figure](#figure-1), [top](#bottom-line).")


def with_summary(project: TmpProject, summary: str) -> None:
    project.write("links.yaml", MINIMAL.replace("summary: One paragraph of summary.",
                                                f"summary: {json.dumps(summary)}"))


@pytest.mark.parametrize("target", [
    "../other-brief/index.html", "other.html", "/briefs/other/", "//evil.example/x",
    "file:///etc/passwd", "javascript:alert(1)", "data:text/html,x", "ftp://example.org/x",
    "https:no-host",
])
def test_link_to_anything_but_a_web_address_or_an_anchor_is_refused(
        project: TmpProject, target: str) -> None:
    with_summary(project, f"See [this]({target}).")
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        f"briefs/links.yaml:10:10: summary: links to '{target}'; a brief may link only to "
        "http(s) and mailto: addresses and to anchors of its own page, such as '#source-only-source'",
        "error: 1 problem in 1 file; nothing was written"]


def test_link_to_a_missing_anchor_is_refused_with_a_suggestion(project: TmpProject) -> None:
    project.write("links.yaml", MINIMAL.replace("  - Second point.",
                                                "  - See [the source](#source-only-sorce)."))
    assert project.run().err.splitlines() == [
        "briefs/links.yaml:9:5: bluf[1]: links to '#source-only-sorce', which is not an anchor "
        "of this brief; did you mean '#source-only-source'?",
        "error: 1 problem in 1 file; nothing was written"]


def test_allowed_links_build_and_the_pdf_links_no_local_file(project: TmpProject) -> None:
    with_summary(project, ALLOWED)
    result = project.run()
    assert result.code == 0, result.err
    uris, internal = _pdf_links(PdfReader(project.root / "site/briefs/valid-minimal/valid-minimal.pdf"))
    assert sorted(set(uris)) == ["http://example.org/", "https://example.org/a?b=1&c=2",
                                 "https://example.org/auto", "mailto:desk@example.org"]
    assert internal >= 3


def _pdf_links(reader: PdfReader) -> tuple[list[str], int]:
    """The URIs the PDF's link annotations open, and how many links stay inside it."""
    uris, internal = [], 0
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            link = annotation.get_object()
            action = link.get("/A")
            if action is not None and "/URI" in action.get_object():
                uris.append(str(action.get_object()["/URI"]))
            internal += "/Dest" in link
    return uris, internal


@pytest.mark.parametrize("target", ["other.html", "//evil.example/x", "file:///etc/passwd",
                                    "javascript:alert(1)", "/etc/passwd", "https:no-host"])
def test_markup_drops_links_check_refuses(target: str) -> None:
    assert str(to_inline_html(f"[text]({target})")) == '<a rel="noopener noreferrer">text</a>'


def test_pdf_of_a_brief_with_relative_links_has_no_local_uri() -> None:
    """Even a brief that skipped check: the PDF's base URL is a local folder."""
    data = yaml.safe_load(MINIMAL)
    data["tlp"] = "TLP:CLEAR"
    data["summary"] = "[up](../index.html), [here](other.html), [root](/etc/passwd), [ok](https://example.org/)"
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    policy = ResourcePolicy.for_project(REPO)
    html = HtmlRenderer(REPO / "templates", SiteConfig(title="Links"), policy).print_page(
        Brief.model_validate(data), moment)
    pdf = PdfRenderer(REPO / "styles", policy).render(
        PdfJob(html, "links", "A4", moment, "links.yaml", b""))
    assert set(_pdf_links(PdfReader(io.BytesIO(pdf)))[0]) == {"https://example.org/"}


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(value for name, value in attrs if name == "id" and value)


def test_every_anchor_check_allows_exists_in_the_page(example_site: Path) -> None:
    for name in ("mali-jnim-attacks", "exercise-river-delta-floods"):
        brief = Brief.model_validate(yaml.safe_load((REPO / f"briefs/{name}.yaml").read_text()))
        page = _Ids()
        page.feed((example_site / f"briefs/{name}/index.html").read_text())
        assert _anchors(brief) <= page.ids
