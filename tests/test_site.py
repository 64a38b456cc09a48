"""The published site: listings, feed, sitemap, publishing policy, link checking."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import SCENARIOS, TmpProject
from fieldbrief import render_site, resources

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
IRI = re.compile(r"^[a-z][a-z0-9+.-]*:\S+$")


def brief_text(brief_id: str, *, tlp: str = "TLP:CLEAR", status: str = "final",
               as_of: str = "2026-01-15", countries: str = "[ML]", tags: str = "[]") -> str:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    return (text.replace("id: valid-minimal", f"id: {brief_id}\ntlp: {tlp}\ntags: {tags}")
                .replace("title: Minimal valid brief", f"title: Brief {brief_id}")
                .replace("status: final", f"status: {status}")
                .replace("as_of: 2026-01-15", f"as_of: {as_of}")
                .replace("countries: [ML]", f"countries: {countries}"))


@pytest.fixture
def three_briefs(project: TmpProject) -> TmpProject:
    project.write("a.yaml", brief_text("alpha", as_of="2026-03-02", countries="[ML, NE]",
                                       tags="[jnim, Sahel security]"))
    project.write("b.yaml", brief_text("bravo", as_of="2026-02-10", countries="[NE]", tags="[floods]"))
    project.write("c.yaml", brief_text("charlie", as_of="2026-03-20T08:00:00Z", tags="[jnim]"))
    return project


def test_listing_pages_by_country_tag_and_month(three_briefs: TmpProject) -> None:
    assert three_briefs.run().code == 0
    site = three_briefs.root / "site"

    def listed(page: str) -> list[str]:
        return re.findall(r'<h2[^>]*><a href="[^"]+">Brief (\w+)</a></h2>', (site / page).read_text())

    assert listed("index.html") == ["charlie", "alpha", "bravo"]
    assert listed("countries/ml/index.html") == ["charlie", "alpha"]
    assert listed("countries/ne/index.html") == ["alpha", "bravo"]
    assert listed("tags/jnim/index.html") == ["charlie", "alpha"]
    assert listed("tags/sahel-security/index.html") == ["alpha"]
    assert listed("archive/2026-03/index.html") == ["charlie", "alpha"]
    assert listed("archive/2026-02/index.html") == ["bravo"]
    archive = (site / "archive/index.html").read_text()
    assert archive.index("March 2026") < archive.index("February 2026")
    countries = (site / "countries/index.html").read_text()
    assert '<a href="../countries/ml/index.html">Mali</a> <span class="group-count">2 briefs</span>' in countries


def test_atom_feed_follows_rfc_4287(three_briefs: TmpProject) -> None:
    (three_briefs.root / "site.yaml").write_text(
        "title: Desk briefs\ndescription: Test desk\nbase_url: https://briefs.example.org/desk/\n")
    assert three_briefs.run().code == 0
    feed = ElementTree.parse(three_briefs.root / "site/feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Desk briefs"
    assert feed.findtext(f"{ATOM}id") == "https://briefs.example.org/desk/"
    assert feed.findtext(f"{ATOM}updated") == "2026-03-20T08:00:00Z"
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "Desk briefs"
    self_link = [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == "https://briefs.example.org/desk/feed.xml"
    entries = feed.findall(f"{ATOM}entry")
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [
        "Brief charlie", "Brief alpha", "Brief bravo"]
    ids = [entry.findtext(f"{ATOM}id") for entry in entries]
    assert len(set(ids)) == 3 and all(IRI.match(entry_id) for entry_id in ids)
    for entry in entries:
        assert RFC3339.match(entry.findtext(f"{ATOM}updated"))
        assert entry.find(f"{ATOM}author/{ATOM}name").text == "Test desk"
        assert entry.findtext(f"{ATOM}summary") == "First point. Second point."
        assert entry.find(f"{ATOM}content").get("type") == "html"
        assert "<p>One paragraph of summary.</p>" in entry.findtext(f"{ATOM}content")
    first = entries[0]
    links = {(link.get("rel"), link.get("type")): link.get("href") for link in first.findall(f"{ATOM}link")}
    assert links == {
        ("alternate", "text/html"): "https://briefs.example.org/desk/briefs/charlie/index.html",
        ("alternate", "application/json"): "https://briefs.example.org/desk/briefs/charlie/charlie.json",
        ("enclosure", "application/pdf"): "https://briefs.example.org/desk/briefs/charlie/charlie.pdf"}
    assert [c.get("term") for c in first.findall(f"{ATOM}category")] == ["jnim"]


def test_feed_without_base_url_has_stable_urn_ids(three_briefs: TmpProject) -> None:
    assert three_briefs.run("--out", "one").code == 0
    assert three_briefs.run("--out", "two").code == 0
    one = ElementTree.parse(three_briefs.root / "one/feed.xml").getroot()
    ids = [e.findtext(f"{ATOM}id") for e in one.iter(f"{ATOM}entry")]
    assert all(re.match(r"^urn:uuid:[0-9a-f-]{36}$", entry_id) for entry_id in ids)
    two = ElementTree.parse(three_briefs.root / "two/feed.xml").getroot()
    assert ids == [e.findtext(f"{ATOM}id") for e in two.iter(f"{ATOM}entry")]
    assert not (three_briefs.root / "one/sitemap.xml").exists(), "a sitemap needs base_url"


def test_sitemap_lists_every_page_with_absolute_urls(three_briefs: TmpProject) -> None:
    (three_briefs.root / "site.yaml").write_text("base_url: https://briefs.example.org/\n")
    assert three_briefs.run().code == 0
    root = ElementTree.parse(three_briefs.root / "site/sitemap.xml").getroot()
    locations = [loc.text for loc in root.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert "https://briefs.example.org/" in locations
    assert "https://briefs.example.org/briefs/alpha/" in locations
    assert "https://briefs.example.org/tags/jnim/" in locations
    assert all(location.startswith("https://briefs.example.org/") for location in locations)


def test_policy_keeps_amber_red_and_unlisted_green_off_the_site(project: TmpProject) -> None:
    for brief_id, tlp in [("clear", "TLP:CLEAR"), ("green", "TLP:GREEN"), ("amber", "TLP:AMBER"),
                          ("strict", "TLP:AMBER+STRICT"), ("red", "TLP:RED")]:
        project.write(f"{brief_id}.yaml", brief_text(brief_id, tlp=tlp))
    result = project.run()
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1].startswith(
        "built 1 brief (HTML and PDF), 4 restricted (PDF only, in restricted/) into site/")
    site, restricted = project.root / "site", project.root / "restricted"
    assert sorted(p.name for p in (site / "briefs").iterdir()) == ["clear"]
    assert sorted(p.name for p in restricted.iterdir()) == [
        ".fieldbrief-site", ".gitignore", "README.txt", "amber.pdf", "green.pdf", "red.pdf",
        "strict.pdf"]
    everything = " ".join(p.read_text(errors="ignore") for p in site.rglob("*") if p.is_file())
    for word in ("Brief amber", "Brief red", "Brief strict", "Brief green"):
        assert word not in everything


def test_green_is_published_when_the_site_allows_it(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("publish_tlp: [TLP:CLEAR, TLP:GREEN]\n")
    project.write("green.yaml", brief_text("green", tlp="TLP:GREEN"))
    assert project.run().code == 0
    assert (project.root / "site/briefs/green/green.pdf").is_file()
    assert not (project.root / "restricted").exists()


def test_amber_can_never_be_listed_for_publication(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("publish_tlp: [TLP:CLEAR, TLP:AMBER]\n")
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "site.yaml:1:26: publish_tlp[1]: TLP:AMBER briefs are never published on a site; "
        "their PDFs go to the restricted folder (--restricted-out)")


def test_drafts_are_left_out_unless_asked_for(project: TmpProject) -> None:
    project.write("final.yaml", brief_text("final"))
    project.write("draft.yaml", brief_text("draft", status="draft"))
    result = project.run()
    assert "1 draft left out (use --drafts)" in result.out
    assert not (project.root / "site/briefs/draft").exists()
    assert project.run("--drafts").code == 0
    assert (project.root / "site/briefs/draft/draft.pdf").is_file()
    assert "Draft" in (project.root / "site/index.html").read_text()


def test_restricted_pdfs_disappear_with_their_briefs(project: TmpProject) -> None:
    amber = project.write("amber.yaml", brief_text("amber", tlp="TLP:AMBER"))
    assert project.run().code == 0
    amber.unlink()
    assert project.run().code == 0
    assert not (project.root / "restricted/amber.pdf").exists()


def test_restricted_folder_may_not_be_inside_the_site(project: TmpProject) -> None:
    project.write("a.yaml", brief_text("alpha"))
    result = project.run("--restricted-out", "site/private")
    assert result.code == 1
    assert "must be outside the site folder" in result.err


def test_broken_internal_link_fails_the_build(project: TmpProject) -> None:
    index = project.root / "templates" / "index.html"
    index.write_text(index.read_text().replace(
        "<h1 class", '<a href="{{ root }}missing/page.html">x</a><a href="#nowhere">y</a><h1 class'))
    project.write("a.yaml", brief_text("alpha"))
    result = project.run()
    assert result.code == 1
    assert "index.html links to missing/page.html, which does not exist" in result.err
    assert "index.html links to #nowhere, but index.html has no id 'nowhere'" in result.err
    assert not (project.root / "site").exists()


def test_brief_page_has_contents_and_anchors(project: TmpProject) -> None:
    project.write("a.yaml", brief_text("alpha"))
    assert project.run().code == 0
    page = (project.root / "site/briefs/alpha/index.html").read_text()
    contents = re.search(r'<nav class="toc".*?</nav>', page, re.S).group(0)
    assert re.findall(r'href="#([\w-]+)"', contents) == [  # the map is the generated one
        "bottom-line", "key-figures", "map", "situation", "sources"]
    assert '<a class="heading-anchor" href="#sources" aria-label="Link to this section">#</a>' in page


def test_search_index_covers_brief_pages(project: TmpProject) -> None:
    project.write("a.yaml", brief_text("alpha"))
    assert project.run().code == 0
    bundle = project.root / "site/pagefind"
    listing = json.loads((bundle / "shards.json").read_text())
    assert (bundle / "pagefind-ui.js").is_file() and len(listing["shards"]) == 1
    shard = bundle / listing["shards"][0]["path"]
    assert (shard / "pagefind-entry.json").is_file()
    assert len(list((shard / "fragment").iterdir())) == 1, "only brief pages are indexed"


# --- bounded listings: the newest on the home page and in the feed, long groups paginated ----

def listed_on(site, page: str) -> list[str]:
    return re.findall(r'<h2[^>]*><a href="[^"]+">Brief (\w+)</a></h2>', (site / page).read_text())


def test_home_page_lists_the_newest_briefs_and_links_to_all_of_them(
        three_briefs: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render_site, "HOME_BRIEFS", 2)
    assert three_briefs.run("--no-pdf").code == 0
    home = (three_briefs.root / "site/index.html").read_text()
    assert listed_on(three_briefs.root / "site", "index.html") == ["charlie", "alpha"]
    assert ('<p class="index-lede">The 2 newest briefs, newest first; all of them are listed by '
            'month, country and tag below.</p>') in home
    assert re.search(r'<nav class="all-briefs" aria-labelledby="all-briefs">\s*'
                     r'<h2 id="all-briefs">All briefs</h2>\s*<ul>\s*'
                     r'<li><a href="archive/index.html">By month</a></li>\s*'
                     r'<li><a href="countries/index.html">By country</a></li>\s*'
                     r'<li><a href="tags/index.html">By tag</a></li>', home)
    assert listed_on(three_briefs.root / "site", "archive/2026-02/index.html") == ["bravo"]


def test_home_page_that_shows_every_brief_has_no_link_to_more(three_briefs: TmpProject) -> None:
    assert three_briefs.run("--no-pdf").code == 0
    home = (three_briefs.root / "site/index.html").read_text()
    assert '<p class="index-lede">3 briefs, newest first.</p>' in home
    assert "all-briefs" not in home


def test_feed_carries_the_newest_entries_updated_when_the_latest_of_them_was(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """An old brief revised later is not in the feed, so the feed did not change with it."""
    monkeypatch.setattr(render_site, "FEED_ENTRIES", 2)
    project.write("a.yaml", brief_text("alpha", as_of="2026-03-02"))
    project.write("b.yaml", brief_text("bravo", as_of="2026-02-10") +
                  "revisions:\n  - date: 2026-04-01\n    change: Corrected a figure.\n")
    project.write("c.yaml", brief_text("charlie", as_of="2026-03-20T08:00:00Z"))
    assert project.run("--no-pdf").code == 0
    feed = ElementTree.parse(project.root / "site/feed.xml").getroot()
    assert [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")] == [
        "Brief charlie", "Brief alpha"]
    assert feed.findtext(f"{ATOM}updated") == "2026-03-20T08:00:00Z"


SEVEN_DAYS = [f"2026-01-{day:02d}" for day in range(1, 8)]


@pytest.fixture
def long_group(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    """Seven briefs of Mali, one a day, on pages of two: Mali's own page lists the newest
    three, page 2 the next two, page 1 the oldest two."""
    monkeypatch.setattr(render_site, "PAGE_SIZE", 2)
    (project.root / "site.yaml").write_text("title: Desk\nbase_url: https://example.org/\n")
    for number, day in enumerate(SEVEN_DAYS, start=1):
        project.write(f"b{number}.yaml", brief_text(f"b{number}", as_of=day))
    return project


def test_a_long_group_is_paginated_in_stable_pages_counted_from_the_oldest(long_group: TmpProject) -> None:
    assert long_group.run("--no-pdf").code == 0  # the link check passes too
    site = long_group.root / "site"
    assert listed_on(site, "countries/ml/index.html") == ["b7", "b6", "b5"]
    assert listed_on(site, "countries/ml/page/2/index.html") == ["b4", "b3"]
    assert listed_on(site, "countries/ml/page/1/index.html") == ["b2", "b1"]
    assert listed_on(site, "archive/2026-01/page/1/index.html") == ["b2", "b1"]
    own = (site / "countries/ml/index.html").read_text()
    assert '<p class="index-lede">7 briefs in all, newest first; older ones are on the pages below.</p>' in own
    assert re.search(r'<nav class="pagination" aria-label="Pages of this list">\s*<ul>\s*'
                     r'<li><a href="../../countries/ml/index.html" aria-current="page">Newest</a></li>\s*'
                     r'<li><a href="../../countries/ml/page/2/index.html">Page 2</a></li>\s*'
                     r'<li><a href="../../countries/ml/page/1/index.html">Page 1</a></li>\s*</ul>', own)
    older = (site / "countries/ml/page/2/index.html").read_text()
    assert "<title>Mali, page 2 — Desk</title>" in older
    assert ('<p class="index-lede">Page 2: briefs from 3 January 2026 to 4 January 2026, '
            'newest first.</p>') in older
    up = "../../../../countries/ml/"
    assert re.findall(r'<li><a href="([^"]+)"( aria-current="page")?>(\w+(?: \d)?)</a></li>', older) == [
        (f"{up}index.html", "", "Newest"), (f"{up}page/2/index.html", ' aria-current="page"', "Page 2"),
        (f"{up}page/1/index.html", "", "Older")]
    sitemap = (site / "sitemap.xml").read_text()
    assert "<loc>https://example.org/countries/ml/page/1/</loc>" in sitemap


def test_a_short_group_has_one_page_and_no_pagination(three_briefs: TmpProject) -> None:
    assert three_briefs.run("--no-pdf").code == 0
    site = three_briefs.root / "site"
    assert "pagination" not in (site / "countries/ml/index.html").read_text()
    assert not (site / "countries/ml/page").exists()


def test_pagination_reads_in_the_site_language_and_direction(long_group: TmpProject) -> None:
    (long_group.root / "site.yaml").write_text("title: Desk\nlanguage: ar\n")
    assert long_group.run("--no-pdf").code == 0
    page = (long_group.root / "site/countries/ml/page/2/index.html").read_text()
    assert '<html lang="ar" dir="rtl">' in page
    assert '<nav class="pagination" aria-label="صفحات هذه القائمة">' in page
    assert re.findall(r'<li><a href="[^"]+"(?: aria-current="page")?>([^<]+)</a></li>', page) == [
        "الأحدث", "الصفحة 2", "الأقدم منها"]


def test_a_translation_stays_beside_its_original_on_the_original_page(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages are cut between entries: a newer translation of the oldest brief is listed
    with it on page 1, not counted among the newest."""
    monkeypatch.setattr(render_site, "PAGE_SIZE", 2)
    for number, day in enumerate(SEVEN_DAYS[:6], start=1):
        project.write(f"b{number}.yaml", brief_text(f"b{number}", as_of=day))
    project.write("b1-fr.yaml", brief_text("bonfr", as_of="2026-01-09").replace(
        "status: final", "status: final\nlanguage: fr\ntranslation_of: b1"))
    assert project.run("--no-pdf").code == 0
    site = project.root / "site"
    assert listed_on(site, "countries/ml/index.html") == ["b6", "b5"]
    assert listed_on(site, "countries/ml/page/2/index.html") == ["b4", "b3"]
    assert listed_on(site, "countries/ml/page/1/index.html") == ["b2", "b1"]
    oldest = (site / "countries/ml/page/1/index.html").read_text()
    assert 'href="../../../../briefs/bonfr/index.html" hreflang="fr" lang="fr"' in oldest


# --- which files of the site a link may reach -------------------------------------------------

def _regular_files(site: Path) -> set[str]:
    """The regular files of the site as a whole walk finds them (links not followed)."""
    return {str(path.relative_to(site)) for path in _walk(site)}


def _walk(folder: Path) -> list[Path]:
    found = []
    for entry in folder.iterdir():
        if entry.is_symlink():
            continue
        if entry.is_dir():
            found.extend(_walk(entry))
        elif entry.is_file():
            found.append(entry)
    return found


NAMES = st.sampled_from(["a", "b", "index.html", "A"])
shapes = st.lists(st.tuples(st.lists(NAMES, min_size=1, max_size=3),
                            st.sampled_from(["file", "folder", "link to a file", "link to a folder",
                                             "link outside"])), max_size=8)
targets = st.lists(st.sampled_from(["a", "b", "index.html", "A", "..", ".", "", "x\0"]), min_size=1,
                   max_size=4).map("/".join) | st.sampled_from(["/a", "a//b", "./a", "a/"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=shapes, asked=st.lists(targets, max_size=12))
@example(shape=[(["a"], "link to a file"), (["b"], "link to a folder"), (["A"], "link outside")],
         asked=["a", "b/file", "A/index.html", "A/a/index.html", "real/file", "b", "real"])
@example(shape=[(["a", "b"], "file"), (["index.html"], "file")],
         asked=["a/../index.html", "a/./b", "a/b/", "/index.html", "//index.html", "/a/b"])
def test_a_link_reaches_a_file_of_the_site_only_as_a_walk_of_it_finds_it(
        tmp_path_factory: pytest.TempPathFactory, shape: list[tuple[list[str], str]],
        asked: list[str]) -> None:
    """The link check looks only at the names on the way to each target instead of walking
    the whole site, and finds exactly the files a walk without following links does:
    none through a link, none outside, none named with '..', '.' or empty parts."""
    root = tmp_path_factory.mktemp("links")
    site, outside = root / "site", root / "outside"
    (outside / "a").mkdir(parents=True)
    (outside / "a" / "index.html").write_text("outside")
    (outside / "index.html").write_text("outside")
    site.mkdir()
    for parts, kind in shape:
        path = site.joinpath(*parts)
        if any(parent.is_symlink() or (parent.exists() and not parent.is_dir())
               for parent in list(path.parents)[:-len(site.parts)]) or path.exists() or path.is_symlink():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "file":
            path.write_text("x")
        elif kind == "folder":
            path.mkdir()
        elif kind == "link outside":
            path.symlink_to(outside)
        else:
            real = site / "real" / ("file" if kind == "link to a file" else "folder")
            real.parent.mkdir(exist_ok=True)
            real.mkdir() if kind == "link to a folder" and not real.exists() else (
                real.exists() or real.write_text("x"))
            path.symlink_to(real)
    files = resources.SiteFiles(site)
    walked = _regular_files(site)
    assert {name: name in files for name in asked} == {name: name in walked for name in asked}
    assert {name: name in files for name in walked} == {name: True for name in walked}
