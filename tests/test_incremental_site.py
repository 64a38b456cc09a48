"""Incremental site pages: an index, listing, overview, feed, sitemap or series page is
rendered again exactly when something it shows changed, and is otherwise kept as the
published file (same bytes, same inode); either way it matches a build from scratch."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import REPO, TmpProject
from fieldbrief import pipeline, render_html, render_site, stamp
from fieldbrief.resources import ResourcePolicy, site_problems

EPOCH = "1767225600"
SITE_PAGES = {
    "index.html", "feed.xml", "sitemap.xml", "search/index.html",
    "countries/index.html", "countries/ml/index.html", "countries/ne/index.html",
    "tags/index.html", "tags/floods/index.html", "tags/elections/index.html",
    "archive/index.html", "archive/2026-01/index.html", "archive/2026-02/index.html",
}
OVERVIEWS = {"countries/index.html", "tags/index.html", "archive/index.html"}
PLACE = "places:\n  - id: {id}\n    name: {name}\n    country: {country}\n    coordinates: [{lat}, 2.0]\n"


def brief(brief_id: str, country: str, tag: str, as_of: str, *, title: str | None = None,
          tlp: str = "TLP:CLEAR", value: str = "12", place: str = "") -> str:
    return (f"id: {brief_id}\ntitle: {title or 'Brief ' + brief_id}\nas_of: {as_of}\n"
            f"countries: [{country}]\ntags: [{tag}]\ntlp: {tlp}\nstatus: final\ndesk: Test desk\n"
            "bluf:\n  - First point.\n  - Second point.\nsummary: One paragraph of summary.\n"
            f"figures:\n  - value: {value}\n    counts: things counted\n    status: confirmed\n"
            "    sources: [only-source]\n"
            "sources:\n  - id: only-source\n    title: The only source\n    publisher: Test publisher\n"
            "    kind: news report\n    reliability: B\n    credibility: 2\n" + place)


BRIEFS = {"alpha.yaml": brief("alpha", "ML", "floods", "2026-01-15"),
          "bravo.yaml": brief("bravo", "NE", "elections", "2026-02-10"),
          "charlie.yaml": brief("charlie", "NE", "floods", "2026-02-20")}
BRAVO_PAGES = {"index.html", "feed.xml", "countries/ne/index.html", "tags/elections/index.html",
               "archive/2026-02/index.html"}


@pytest.fixture
def built(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    (project.root / "site.yaml").write_text("title: Test desk\nbase_url: https://example.org/\n")
    for name, text in BRIEFS.items():
        project.write(name, text)
    assert project.run("-j", "1", "--no-pdf").code == 0
    return project


def site_files(site: Path, pages: set[str] | None = None) -> dict[str, tuple[int, bytes]]:
    """The site pages (all, or ``pages``) present in ``site``: inode and bytes, by path."""
    names = pages if pages is not None else SITE_PAGES | {
        p.relative_to(site).as_posix() for p in site.glob("series/*/*") if p.is_file()}
    return {name: ((site / name).stat().st_ino, (site / name).read_bytes())
            for name in sorted(names) if (site / name).is_file()}


def rebuild(project: TmpProject) -> tuple[set[str], dict[str, tuple[int, bytes]]]:
    """Build again; the site pages rewritten (a new file), and every site page now."""
    before = site_files(project.root / "site")
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 0, result.err
    after = site_files(project.root / "site")
    return {name for name, (inode, _) in after.items() if before.get(name, (None,))[0] != inode}, after


def assert_as_from_scratch(project: TmpProject, pages: dict[str, tuple[int, bytes]]) -> None:
    """Every site page equals the one a full build of the same briefs writes."""
    assert project.run("-j", "1", "--no-pdf", "--out", "fresh").code == 0
    fresh = site_files(project.root / "fresh", set(pages) | set(site_files(project.root / "fresh")))
    assert {name: content for name, (_, content) in pages.items()} == {
        name: content for name, (_, content) in fresh.items()}


def edit(name: str, **changes: str) -> Callable[[TmpProject], None]:
    def change(project: TmpProject) -> None:
        brief_id, country, tag, as_of = {"alpha.yaml": ("alpha", "ML", "floods", "2026-01-15"),
                                         "bravo.yaml": ("bravo", "NE", "elections", "2026-02-10"),
                                         "charlie.yaml": ("charlie", "NE", "floods", "2026-02-20")}[name]
        project.write(name, brief(brief_id, changes.pop("country", country), changes.pop("tag", tag),
                                  changes.pop("as_of", as_of), **changes))
    return change


def remove(name: str) -> Callable[[TmpProject], None]:
    return lambda project: (project.root / "briefs" / name).unlink()


def add(name: str, text: str) -> Callable[[TmpProject], None]:
    return lambda project: project.write(name, text) and None


@pytest.mark.parametrize(("change", "rewritten"), [
    pytest.param(edit("bravo.yaml", title="Bravo, revised"), BRAVO_PAGES, id="a listed title"),
    pytest.param(edit("bravo.yaml", as_of="2026-01-20"),
                 BRAVO_PAGES | {"archive/2026-01/index.html", "archive/index.html"},
                 id="a date that moves it to another month"),
    pytest.param(edit("bravo.yaml", tlp="TLP:AMBER"),
                 (BRAVO_PAGES - {"tags/elections/index.html"}) | OVERVIEWS | {"sitemap.xml"},
                 id="a label that drops it from the site"),
    pytest.param(add("delta.yaml", brief("delta", "ML", "floods", "2026-01-25")),
                 {"index.html", "feed.xml", "sitemap.xml", "countries/ml/index.html",
                  "tags/floods/index.html", "archive/2026-01/index.html"} | OVERVIEWS,
                 id="a new brief"),
    pytest.param(remove("charlie.yaml"),
                 {"index.html", "feed.xml", "sitemap.xml", "countries/ne/index.html",
                  "tags/floods/index.html", "archive/2026-02/index.html"} | OVERVIEWS,
                 id="a removed brief"),
    pytest.param(edit("bravo.yaml", place=PLACE.format(id="p", name="Gao", country="ML", lat="16.3")),
                 BRAVO_PAGES | {"countries/ml/index.html"},
                 id="a place another country's map marks"),
    pytest.param(edit("bravo.yaml", value="13"), set(), id="a fact no listing shows"),
])
def test_a_change_rewrites_exactly_the_site_pages_that_show_it(
        built: TmpProject, change: Callable[[TmpProject], None], rewritten: set[str]) -> None:
    before = site_files(built.root / "site")
    change(built)
    written, after = rebuild(built)
    assert written == rewritten
    assert {name: after[name] for name in after if name not in rewritten} == {
        name: before[name] for name in after if name not in rewritten}, "kept: same inode, same bytes"
    assert_as_from_scratch(built, after)


def test_a_changed_title_shows_on_every_page_that_lists_the_brief(built: TmpProject) -> None:
    edit("bravo.yaml", title="Bravo, revised")(built)
    rebuild(built)
    for name in BRAVO_PAGES:
        assert "Bravo, revised" in (built.root / "site" / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize("change", [
    pytest.param(lambda root: (root / "templates/index.html").write_text(
        (root / "templates/index.html").read_text().replace("newest first", "latest first")),
        id="a listing template"),
    pytest.param(lambda root: (root / "templates/base.html").write_text(
        (root / "templates/base.html").read_text() + "{# a comment #}\n"), id="a template every page extends"),
    pytest.param(lambda root: (root / "site.yaml").write_text(
        "title: Test desk\nbase_url: https://example.org/\nlanguage: fr\n"), id="the site's language"),
    pytest.param(lambda root: (root / "site.yaml").write_text(
        "title: Another desk\nbase_url: https://example.org/\n"), id="the site's title"),
])
def test_a_template_or_setting_change_rewrites_every_site_page(
        built: TmpProject, change: Callable[[Path], object]) -> None:
    change(built.root)
    written, after = rebuild(built)
    assert written == SITE_PAGES
    assert_as_from_scratch(built, after)


def test_a_changed_catalog_rewrites_every_site_page(built: TmpProject, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    """The message catalogs are inputs of every page, as the templates are."""
    locale = tmp_path / "locale"
    shutil.copytree(render_html.LOCALE_DIR, locale)
    catalog = next(locale.glob("fr/LC_MESSAGES/*.po"))
    catalog.write_text(catalog.read_text(encoding="utf-8") + "\n# a translator's change\n",
                       encoding="utf-8")
    monkeypatch.setattr(render_html, "LOCALE_DIR", locale)
    written, _ = rebuild(built)
    assert written == SITE_PAGES


def test_force_rewrites_every_site_page(built: TmpProject) -> None:
    before = site_files(built.root / "site")
    assert built.run("-j", "1", "--no-pdf", "--force").code == 0
    after = site_files(built.root / "site")
    assert {name for name in after if after[name][0] != before[name][0]} == SITE_PAGES


# --- the site a build replaces -------------------------------------------------------------

def retired(project: TmpProject) -> list[str]:
    return sorted(p.name for p in project.root.iterdir() if p.name.startswith(".site.old-"))


def test_the_replaced_site_is_removed_before_the_build_returns(built: TmpProject) -> None:
    """Removing it in the background left a withdrawn brief's pages beside the site after
    the build had said it was done (tests/test_redteam_incremental.py)."""
    edit("bravo.yaml", title="Bravo, revised")(built)
    _, after = rebuild(built)
    assert "Bravo, revised" in after["index.html"][1].decode()
    assert retired(built) == []


def test_a_retired_site_left_by_an_interrupted_removal_is_removed_by_the_next_build(
        built: TmpProject) -> None:
    leftover = built.root / ".site.old-0123456789abcdef0123456789abcdef"
    shutil.copytree(built.root / "site", leftover)
    published = {name: content for name, (_, content) in site_files(built.root / "site").items()}
    edit("bravo.yaml", value="13")(built)
    assert built.run("-j", "1", "--no-pdf").code == 0
    assert retired(built) == []
    assert {name: content for name, (_, content) in site_files(built.root / "site").items()} == published


# --- series pages --------------------------------------------------------------------------

def issue(number: int, as_of: str, title: str) -> str:
    return (f"id: issue-{number}\ntitle: {title}\nseries: floods\nnumber: {number}\nas_of: {as_of}\n"
            "countries: [ZZ]\nstatus: final\ndesk: Test desk\nbluf:\n  - One.\n  - Two.\n"
            "summary: Text.\nfigures:\n  - key: displaced\n    value: \"100\"\n"
            "    counts: people displaced\n    status: reported\n    sources: [s]\n"
            "sources:\n  - id: s\n    title: S\n    publisher: P\n    kind: report\n"
            "    reliability: B\n    credibility: 2\n")


SERIES_PAGES = {"series/floods/index.html", "series/floods/feed.xml"}


@pytest.fixture
def with_series(built: TmpProject) -> TmpProject:
    (built.root / "series" / "floods.yaml").write_text("title: Test floods\ndesk: Test desk\ncadence: weekly\n")
    built.write("issue-1.yaml", issue(1, "2026-02-01", "Issue 1"))
    built.write("issue-2.yaml", issue(2, "2026-02-08", "Issue 2"))
    assert built.run("-j", "1", "--no-pdf").code == 0
    return built


def test_an_issue_edit_rewrites_its_series_pages(with_series: TmpProject) -> None:
    with_series.write("issue-1.yaml", issue(1, "2026-02-01", "Issue 1, corrected"))
    written, after = rebuild(with_series)
    assert SERIES_PAGES <= written
    assert "Issue 1, corrected" in after["series/floods/index.html"][1].decode()
    assert_as_from_scratch(with_series, after)


def test_an_unrelated_edit_keeps_the_series_pages(with_series: TmpProject) -> None:
    before = site_files(with_series.root / "site")
    edit("alpha.yaml", title="Alpha, revised")(with_series)
    written, after = rebuild(with_series)
    assert not written & SERIES_PAGES
    assert {name: after[name] for name in SERIES_PAGES} == {name: before[name] for name in SERIES_PAGES}


def test_a_changed_series_declaration_rewrites_its_series_pages(with_series: TmpProject) -> None:
    (with_series.root / "series" / "floods.yaml").write_text(
        "title: Test floods, renamed\ndesk: Test desk\ncadence: weekly\n")
    written, after = rebuild(with_series)
    assert SERIES_PAGES <= written
    assert "Test floods, renamed" in after["series/floods/index.html"][1].decode()


# --- the brief files, each once --------------------------------------------------------------

def test_a_brief_reached_by_a_link_and_by_name_is_built_once(built: TmpProject) -> None:
    """Files are told apart by their real paths, however they are named."""
    (built.root / "briefs" / "also-alpha.yaml").symlink_to(built.root / "briefs" / "alpha.yaml")
    result = built.run("-j", "1", "--no-pdf", "briefs/alpha.yaml", "./briefs/../briefs/alpha.yaml")
    assert result.code == 0, result.err
    assert [line.split()[1] for line in result.out.splitlines() if line.startswith("rendered ")] == [
        "briefs/alpha.yaml"]


# --- a build in which nothing changed ------------------------------------------------------

NOT_FOR_A_NO_OP = ["fieldbrief.render_site", "fieldbrief.render_series", "fieldbrief.render_json",
                   "weasyprint"]


def test_a_build_in_which_nothing_changed_prepares_no_validator_or_markdown_converter(
        built: TmpProject) -> None:
    """The brief model's validators and the Markdown converter are made when a brief is
    first validated or converted, not at import: a build that does neither never pays."""
    script = ("from fieldbrief.cli import main; from fieldbrief.model import Brief; "
              "from fieldbrief.markup import _converter; code = main(['-j', '1', '--no-pdf']); "
              "print(code, Brief.__pydantic_complete__, _converter.cache_info().currsize)")
    run = subprocess.run([sys.executable, "-c", script], cwd=built.root, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.stdout.splitlines()[-1] == "0 False 0", run.stderr


def test_a_build_in_which_nothing_changed_loads_no_page_renderer(built: TmpProject) -> None:
    """What only writing needs is imported only when something is written."""
    script = ("import sys; from fieldbrief.cli import main; code = main(['-j', '1', '--no-pdf']); "
              f"print(code, [name for name in {NOT_FOR_A_NO_OP!r} if name in sys.modules])")
    run = subprocess.run([sys.executable, "-c", script], cwd=built.root, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.stdout.splitlines()[-1] == "0 []", run.stderr


def test_after_an_issue_is_withdrawn_no_page_of_the_site_links_to_it(with_series: TmpProject) -> None:
    """The link check reads only the pages a build writes: every page that links to a brief
    is rewritten when the brief leaves the site (its inputs changed), so a kept page never
    links to a withdrawn one. Here every page of the site is checked again afterwards."""
    site = with_series.root / "site"
    assert "issue-1/index.html" in (site / "briefs/issue-2/index.html").read_text()
    with_series.write("issue-1.yaml", issue(1, "2026-02-01", "Issue 1").replace(
        "status: final", "tlp: TLP:RED\nstatus: final"))
    assert with_series.run("-j", "1", "--no-pdf").code == 0
    assert not (site / "briefs/issue-1").exists()
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    assert site_problems(site, ResourcePolicy.for_project(with_series.root), pages, {}) == []


# --- paginated listings ----------------------------------------------------------------------

GROUPS = ("countries/ml/", "tags/floods/", "archive/2026-01/")


def in_every_group(*pages: str) -> set[str]:
    return {group + page for group in GROUPS for page in pages}


def day_brief(number: int, **changes: str) -> str:
    return brief(f"b{number}", "ML", "floods", f"2026-01-{number:02d}", **changes)


@pytest.fixture
def paginated(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    """Seven briefs of one country, tag and month, on pages of two: each group's own page
    lists b7-b5, page 2 b4-b3, page 1 b2-b1; the home page and the feed the newest three."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for name, value in (("PAGE_SIZE", 2), ("HOME_BRIEFS", 3), ("FEED_ENTRIES", 3)):
        monkeypatch.setattr(render_site, name, value)
    (project.root / "site.yaml").write_text("title: Test desk\nbase_url: https://example.org/\n")
    for number in range(1, 8):
        project.write(f"b{number}.yaml", day_brief(number))
    assert project.run("-j", "1", "--no-pdf").code == 0
    return project


def listing_pages(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*")
            if p.suffix in (".html", ".xml") and p.relative_to(site).parts[0] not in ("briefs", "pagefind")}


@pytest.mark.parametrize(("change", "rewritten"), [
    pytest.param(lambda project: project.write("b1.yaml", day_brief(1, title="Oldest, revised")),
                 in_every_group("page/1/index.html"), id="a brief on the oldest page"),
    pytest.param(lambda project: project.write("b4.yaml", day_brief(4, title="Older, revised")),
                 in_every_group("page/2/index.html"), id="a brief on a middle page"),
    pytest.param(lambda project: project.write("b7.yaml", day_brief(7, title="Newest, revised")),
                 {"index.html", "feed.xml"} | in_every_group("index.html"), id="the newest brief"),
    pytest.param(lambda project: project.write("b8.yaml", day_brief(8)),
                 {"index.html", "feed.xml", "sitemap.xml"} | OVERVIEWS
                 | in_every_group("index.html", "page/2/index.html", "page/3/index.html"),
                 id="a new brief that opens a page"),
])
def test_a_change_in_a_paginated_group_rewrites_only_the_pages_that_show_it(
        paginated: TmpProject, change: Callable[[TmpProject], None], rewritten: set[str]) -> None:
    site = paginated.root / "site"
    pages = listing_pages(site)
    assert in_every_group("index.html", "page/1/index.html", "page/2/index.html") <= pages
    before = site_files(site, pages)
    change(paginated)
    written, after = rebuild_pages(paginated, listing_pages)
    assert written == rewritten
    assert {name: after[name] for name in after if name not in rewritten} == {
        name: before[name] for name in after if name not in rewritten}, "kept: same inode, same bytes"
    assert_as_from_scratch(paginated, after)
    assert listing_pages(paginated.root / "fresh") == set(after)


def rebuild_pages(project: TmpProject, pages: Callable[[Path], set[str]]
                  ) -> tuple[set[str], dict[str, tuple[int, bytes]]]:
    """Build again; the pages ``pages`` finds that were rewritten (or are new), and all of them now."""
    site = project.root / "site"
    before = site_files(site, pages(site))
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 0, result.err
    after = site_files(site, pages(site))
    return {name for name, (inode, _) in after.items() if before.get(name, (None,))[0] != inode}, after


# --- kept pages and pages edited by hand -------------------------------------------------------

def edit_in_place(page: Path) -> None:
    """Change a published page in place: the same inode, the same size, its modification
    time set back (only its change time tells)."""
    before = page.stat()
    text = page.read_bytes()
    edited = (text.replace(b"<main", b"<MAIN", 1) if b"<main" in text
              else text.replace(b"<", b"[", 1) if b"<" in text else text.replace(b'"', b"'", 1))
    assert edited != text and len(edited) == len(text)
    with open(page, "r+b") as file:
        file.write(edited)
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.fixture
def sealed(built: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    """A site whose kept pages the last build found unchanged and sealed (any file left
    alone counts as settled here), so that the next build reads none of them again."""
    monkeypatch.setattr(stamp, "SETTLED", 0.0)
    edit("alpha.yaml", title="Alpha, revised")(built)
    rebuild(built)  # alpha's pages written: read once more by the next build, then sealed
    edit("alpha.yaml", title="Alpha, revised", value="13")(built)
    written, _ = rebuild(built)
    assert written == set()
    return built


def test_a_sealed_site_page_untouched_is_not_read_again(sealed: TmpProject,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the pages the edit changes are written; the others are kept on their seals,
    without reading them (before, every kept page was read and hashed by every build)."""
    site = sealed.root / "site"
    read: list[str] = []

    def spy(real: Callable[..., object]) -> Callable[..., object]:
        def opening(path: object, *args: object, **options: object) -> object:
            if isinstance(path, (str, Path)) and Path(path).is_relative_to(site):
                read.append(Path(path).relative_to(site).as_posix())
            return real(path, *args, **options)
        return opening

    before = site_files(site)
    edit("bravo.yaml", title="Bravo, revised")(sealed)
    with monkeypatch.context() as patch:
        patch.setattr(os, "open", spy(os.open))
        patch.setattr(io, "open", spy(io.open))
        assert sealed.run("-j", "1", "--no-pdf").code == 0
    assert {name for name, (inode, _) in site_files(site).items() if before[name][0] != inode} == BRAVO_PAGES
    assert set(read) & SITE_PAGES == set(), read


@pytest.mark.parametrize("tamper", [
    pytest.param(edit_in_place, id="edited in place, its time set back"),
    pytest.param(lambda page: page.write_bytes(page.read_bytes() + b"<!-- Tampered -->"), id="rewritten"),
    pytest.param(lambda page: page.unlink(), id="deleted"),
])
def test_a_sealed_site_page_changed_by_hand_is_written_again(
        sealed: TmpProject, tamper: Callable[[Path], None]) -> None:
    site = sealed.root / "site"
    published = {name: (site / name).read_bytes() for name in ("countries/ml/index.html", "sitemap.xml")}
    for name in published:
        tamper(site / name)
    edit("bravo.yaml", title="Bravo, revised")(sealed)
    written, after = rebuild(sealed)
    assert written == BRAVO_PAGES | set(published)
    assert {name: after[name][1] for name in published} == published
    assert_as_from_scratch(sealed, after)


ALPHA_OUTPUTS = ("briefs/alpha/index.html", "briefs/alpha/alpha.json")


@pytest.mark.parametrize("tamper", [
    pytest.param(edit_in_place, id="edited in place, its time set back"),
    pytest.param(lambda page: page.write_bytes(page.read_bytes() + b"<!-- Tampered -->"), id="rewritten"),
    pytest.param(lambda page: page.unlink(), id="deleted"),
])
@pytest.mark.parametrize("output", ALPHA_OUTPUTS)
@pytest.mark.parametrize("another_edit", [True, False], ids=["another brief edited", "nothing else"])
def test_a_brief_output_changed_by_hand_is_written_again(
        sealed: TmpProject, tamper: Callable[[Path], None], output: str, another_edit: bool) -> None:
    """A brief's page or data file edited by hand in the published site (after the build
    that wrote it, or after one that sealed it): every later build kept it, since a kept
    brief's files were only checked to be there."""
    site = sealed.root / "site"
    published = {name: (site / name).read_bytes() for name in ALPHA_OUTPUTS}
    edit("charlie.yaml", title="Charlie, revised")(sealed)
    assert sealed.run("-j", "1", "--no-pdf").code == 0  # alpha's files read once more: now sealed
    tamper(site / output)
    if another_edit:
        edit("bravo.yaml", title="Bravo, revised")(sealed)
    run = sealed.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert "rendered briefs/alpha.yaml" in run.out
    assert {name: (site / name).read_bytes() for name in ALPHA_OUTPUTS} == published


# --- any sequence of edits ---------------------------------------------------------------------

DAYS = ("2026-01-15", "2026-01-20", "2026-02-10")
versions = st.tuples(st.sampled_from(["ML", "NE"]), st.sampled_from(["floods", "Floods", "elections"]),
                     st.sampled_from(DAYS), st.sampled_from(["TLP:CLEAR", "TLP:RED"]), st.integers(0, 1),
                     st.booleans())
"""A brief's country, tag, as-of date, label, title and whether it marks a place in ML."""
edits = st.one_of(
    st.tuples(st.just("brief"), st.integers(0, 3), st.none() | versions),  # None: removed
    st.tuples(st.just("french"), st.booleans()),  # a translation of b0 (if b0 is on the site)
    st.tuples(st.just("issues"), st.lists(st.integers(0, 1), max_size=2)),  # the issues, each a version
    st.tuples(st.just("tamper"), st.sampled_from(["index.html", "search/index.html", "feed.xml",
                                                  "countries/ml/index.html"])),
)


def write_state(project: TmpProject, state: dict) -> None:
    """Write the brief files of ``state`` (a brief that is None is removed)."""
    def put(name: str, text: str | None) -> None:
        if text is None:
            (project.root / "briefs" / name).unlink(missing_ok=True)
        else:
            project.write(name, text)
    for number, version in enumerate(state["briefs"]):
        put(f"b{number}.yaml", None if version is None else brief(
            f"b{number}", version[0], version[1], version[2], tlp=version[3],
            title=f"Brief {number} {version[4]}",
            place=PLACE.format(id="p", name="Gao", country="ML", lat="16.3") if version[5] else ""))
    first = state["briefs"][0]
    french = state["french"] and first is not None and first[3] == "TLP:CLEAR"
    put("b0-fr.yaml", brief("b0-fr", first[0], first[1], first[2], title="Note 0").replace(
        "status: final", "status: final\nlanguage: fr\ntranslation_of: b0") if french else None)
    for number in (1, 2):
        put(f"issue-{number}.yaml", issue(number, f"2026-02-0{number}", f"Issue {number} {version}")
            if (version := dict(enumerate(state["issues"], 1)).get(number)) is not None else None)


def _version(country: str, place: bool = False) -> tuple:
    return (country, "floods", "2026-01-15", "TLP:CLEAR", 0, place)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(start=st.lists(versions, min_size=4, max_size=4), steps=st.lists(edits, min_size=1, max_size=5))
@example(start=[_version("NE"), _version("ML"), _version("NE"), _version("NE")],  # only ML's map changes
         steps=[("brief", 0, _version("NE", place=True))])
def test_after_any_edits_the_site_pages_are_those_of_a_full_build(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        start: list[tuple], steps: list[tuple]) -> None:
    """Briefs added, edited (title, country, tag, month, a place another country's map
    marks), relabelled and removed, a translation and series issues coming and going,
    listings paginated, site pages sealed (every file counts as settled) and edited by
    hand in place: after each build, every listing, overview, feed and series page is
    byte for byte the one a --force build writes."""
    root = tmp_path_factory.mktemp("edits") / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(stamp, "SETTLED", 0.0)
    for name, value in (("PAGE_SIZE", 1), ("HOME_BRIEFS", 2), ("FEED_ENTRIES", 2)):
        monkeypatch.setattr(render_site, name, value)
    project = TmpProject(root)
    (root / "site.yaml").write_text("title: Test desk\nbase_url: https://example.org/\n")
    (root / "series").mkdir(exist_ok=True)
    (root / "series" / "floods.yaml").write_text("title: Test floods\ndesk: Test desk\ncadence: weekly\n")
    state = {"briefs": list(start), "french": True, "issues": [0, 0]}
    for step in [("start",), *steps]:
        tampered = step[0] == "tamper" and (root / "site" / step[1]).is_file()
        if tampered:
            edit_in_place(root / "site" / step[1])
        elif step[0] == "brief":
            state["briefs"][step[1]] = step[2]
        elif step[0] != "start":
            state[step[0]] = step[1]
        write_state(project, state)
        run = project.run("-j", "1", "--no-pdf")
        assert run.code == 0, run.err
        assert project.run("-j", "1", "--no-pdf", "--force", "--out", "fresh").code == 0
        assert listing_files(root / "site") == listing_files(root / "fresh")


def listing_files(site: Path) -> dict[str, bytes]:
    return {name: (site / name).read_bytes() for name in listing_pages(site)}
