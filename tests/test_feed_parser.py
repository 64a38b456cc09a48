"""The site's Atom feed read by an independent feed reader (feedparser), as subscribers'
readers will read it."""

from __future__ import annotations

from pathlib import Path

import feedparser

from conftest import REPO, TmpProject


def _parsed(site: Path) -> feedparser.FeedParserDict:
    feed = feedparser.parse((site / "feed.xml").read_bytes())
    assert not feed.bozo, f"not well-formed: {feed.get('bozo_exception')}"
    assert feed.version == "atom10"
    return feed


def test_feed_of_the_example_site_reads_as_atom_with_one_entry_per_published_brief(example_site: Path) -> None:
    feed = _parsed(example_site)
    assert feed.feed.title == "Situation briefs"
    assert sorted(entry.title for entry in feed.entries) == [  # each issue and translation too
        "Attaques jihadistes coordonnées contre des postes militaires au Mali",
        "Coordinated jihadist attacks on military posts in Mali",
        "EXERCISE – Floods in the Velande river delta (fictional training scenario)",
        "EXERCISE – Velande delta floods, situation report No. 1 (fictional)",
        "EXERCISE – Velande delta floods, situation report No. 2 (fictional)",
        "EXERCISE – Velande delta floods, situation report No. 3 (fictional)",
        "تمرين – الجفاف في وادي سمر (سيناريو تدريبي خيالي)"]
    assert len({entry.id for entry in feed.entries}) == len(feed.entries)
    for entry in feed.entries:
        page = next(link.href for link in entry.links if link.type == "text/html")
        assert (example_site / page).is_file()
        assert [link.type for link in entry.links if link.rel == "enclosure"] == ["application/pdf"]
        assert entry.updated_parsed is not None and entry.published_parsed is not None
        assert entry.summary and entry.content[0].type == "text/html"


def test_feed_with_a_base_url_gives_readers_absolute_links(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("title: Desk\nbase_url: https://briefs.example.org/\n",
                                            encoding="utf-8")
    project.add("mali-jnim-attacks.yaml", source=REPO / "briefs")
    assert project.run("--no-pdf", "-j", "1").code == 0
    feed = _parsed(project.root / "site")
    entry, = feed.entries
    assert entry.link == "https://briefs.example.org/briefs/mali-jnim-attacks/index.html"
    assert feed.feed.links[0].href == "https://briefs.example.org/feed.xml"
