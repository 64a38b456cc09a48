"""The published site in a real headless Chromium (Debian's), driven by Playwright.

The example site is built once and served from a sub-path (/desk/) of a local
server, as a static host would serve it. Screenshots go to tests/output/screenshots/.
"""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import axe_playwright_python
import pytest
from playwright.sync_api import Browser, Page, expect

from conftest import REPO, TmpProject

SCREENSHOTS = REPO / "tests" / "output" / "screenshots"
AXE_SCRIPT = Path(axe_playwright_python.__file__).parent / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="session")
def site_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example briefs built into <tmp>/www/desk/, to be served from /desk/."""
    root = tmp_path_factory.mktemp("browser") / "project"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = TmpProject(root)
        shutil.copytree(REPO / "assets", root / "assets")
        project.add(*(p.name for p in (REPO / "briefs").glob("*.yaml")), source=REPO / "briefs")
        result = project.run("--out", "../www/desk")
    assert result.code == 0, result.err
    return root.parent / "www"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture(scope="session")
def base_url(site_root: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/desk/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], "no JavaScript errors on any page"


def test_index_to_brief_to_source_note_and_back(page: Page, base_url: str) -> None:
    page.goto(base_url + "index.html")
    expect(page.locator("h1")).to_have_text("Situation briefs")
    page.get_by_role("link", name="Coordinated jihadist attacks on military posts in Mali",
                     exact=True).click()
    expect(page.locator("h1.brief-title")).to_contain_text("Coordinated jihadist attacks")
    page.locator("#figure-1 .cite a").first.click()
    assert page.url.endswith("#source-fama-statement")
    note = page.locator("#source-fama-statement")
    expect(note).to_be_in_viewport()
    expect(note).to_contain_text("Grade D6: not usually reliable; truth cannot be judged.")
    note.get_by_role("link", name="Key figure 1").click()
    assert page.url.endswith("#figure-1")
    expect(page.locator("#figure-1")).to_be_in_viewport()


def test_search_finds_a_place_name(page: Page, base_url: str) -> None:
    page.goto(base_url + "index.html")
    page.get_by_role("link", name="Search").click()
    box = page.get_by_role("textbox", name="Search every brief for a word, a place, an actor or a source:")
    box.fill("Timbuktu")
    result = page.locator(".pagefind-ui__result-link").first
    expect(result).to_have_text("Coordinated jihadist attacks on military posts in Mali")
    result.click()
    expect(page.locator("h1.brief-title")).to_contain_text("Coordinated jihadist attacks")
    assert page.url.startswith(base_url + "briefs/mali-jnim-attacks/")


def test_search_from_a_query_in_the_address(page: Page, base_url: str) -> None:
    page.goto(base_url + "search/index.html?q=Velande")
    expect(page.locator(".pagefind-ui__result-link").first).to_contain_text("Velande")


def test_pdf_link_answers_with_a_pdf(page: Page, base_url: str) -> None:
    page.goto(base_url + "briefs/mali-jnim-attacks/index.html")
    href = page.get_by_role("link", name="Download PDF").get_attribute("href")
    response = page.request.get(base_url + "briefs/mali-jnim-attacks/" + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


@pytest.mark.parametrize("path", ["index.html", "briefs/mali-jnim-attacks/index.html",
                                  "briefs/exercise-river-delta-floods/index.html",
                                  "countries/index.html", "search/index.html?q=Kayes",
                                  "briefs/exercise-wadi-samar-drought-ar/index.html",
                                  "briefs/velande-floods-sitrep-2/index.html",
                                  "series/velande-floods/index.html"])
def test_phone_width_has_no_horizontal_scroll(browser: Browser, base_url: str, path: str) -> None:
    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.goto(base_url + path)
    phone.wait_for_load_state("networkidle")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


@pytest.mark.parametrize("path", ["briefs/mali-jnim-attacks/index.html",
                                  "briefs/exercise-river-delta-floods/index.html"])
def test_phone_width_places_and_actors_cells_hold_their_text(browser: Browser, base_url: str,
                                                             path: str) -> None:
    context = browser.new_context(viewport=PHONE)
    phone = context.new_page()
    phone.goto(base_url + path)
    cells = phone.evaluate("""[...document.querySelectorAll(
        '.places th, .places td, .actors th, .actors td')].map(cell => ({
            text: cell.textContent.trim(), scroll: cell.scrollWidth, client: cell.clientWidth}))""")
    context.close()
    assert len(cells) > 10
    assert [cell for cell in cells if cell["scroll"] > cell["client"]] == [], "text runs out of its cell"


# axe leaves some rules (target-size among them) off unless their tags are asked for.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
EVERY_PAGE_TYPE = ["index.html", "briefs/mali-jnim-attacks/index.html",
                   "briefs/exercise-river-delta-floods/index.html", "countries/index.html",
                   "countries/ml/index.html", "tags/index.html", "tags/sahel/index.html",
                   "archive/index.html", "archive/2026-11/index.html",
                   "search/index.html?q=Timbuktu",
                   # a translation, a right-to-left brief, an issue of a series and its series page
                   "briefs/mali-jnim-attacks-fr/index.html",
                   "briefs/exercise-wadi-samar-drought-ar/index.html",
                   "briefs/velande-floods-sitrep-2/index.html", "series/velande-floods/index.html",
                   # a published archive of a source, with its verified quote highlighted
                   "briefs/exercise-river-delta-floods/sources/radio-delta-report.html"]


@pytest.mark.parametrize("path", EVERY_PAGE_TYPE)
def test_axe_wcag_2_2_aa_and_best_practices_find_nothing(page: Page, base_url: str,
                                                         path: str) -> None:
    page.goto(base_url + path)
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate("""async tags => await axe.run(document, {
        runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""", AXE_TAGS)
    violations = [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
                  for v in results["violations"]]
    assert violations == []


def _contrast(one: str, other: str) -> float:
    """WCAG contrast ratio of two computed colours, 'rgb(r, g, b)'."""
    def luminance(colour: str) -> float:
        channels = [int(value) / 255 for value in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_heading_anchors_are_readable_before_hover(page: Page, base_url: str) -> None:
    page.goto(base_url + "briefs/mali-jnim-attacks/index.html")
    colours = page.evaluate("""[...document.querySelectorAll('.heading-anchor')].map(
        anchor => getComputedStyle(anchor).color)""")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert len(colours) > 5
    assert min(_contrast(colour, background) for colour in colours) >= 4.5


def test_page_works_opened_from_disk(page: Page, site_root: Path) -> None:
    page.goto((site_root / "desk/briefs/mali-jnim-attacks/index.html").as_uri())
    background = page.evaluate("getComputedStyle(document.querySelector('.masthead')).backgroundColor")
    assert background == "rgb(31, 58, 95)", "the stylesheet loaded from disk"
    page.get_by_role("link", name="Search").click()
    expect(page.locator(".search-offline")).to_be_visible()


@pytest.mark.parametrize(("name", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots(browser: Browser, base_url: str, name: str, viewport: dict) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=viewport)
    shot = context.new_page()
    for page_name, path in [("index", "index.html"), ("brief", "briefs/mali-jnim-attacks/index.html"),
                            ("search", "search/index.html?q=Kayes")]:
        shot.goto(base_url + path)
        shot.wait_for_load_state("networkidle")
        target = SCREENSHOTS / f"{page_name}-{name}.png"
        shot.screenshot(path=str(target), full_page=True)
        assert target.stat().st_size > 10_000
    context.close()
