"""Stage 4c, render the site-wide pages: index, listings, search page, feed and sitemap.

In: a card (:class:`~fieldbrief.model.BriefCard`) for every published brief, and the
site configuration. Out: the pages as bytes, keyed
by their path in the site. Briefs are grouped by country, by tag and by the month
of their as-of date; each group gets a page, and each kind of group an overview.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from fieldbrief.locator_map import LocatorMap
from fieldbrief.i18n import N_, Localizer, localizer
from fieldbrief.model import BriefCard
from fieldbrief.render_html import (HtmlRenderer, brief_page_path, brief_pdf_path, country_name,
                                    newest_first)
from fieldbrief.render_json import brief_json_path

FEED_NAMESPACE = uuid.UUID("5b0c6c2e-3f7e-4b53-9f61-0f1e2d3c4b5a")
"""Namespace of the stable urn:uuid ids a feed gets when the site has no base_url."""


@dataclass(frozen=True)
class Group:
    """Briefs sharing a country, a tag or a month, with the page that lists them."""

    key: str
    title: str
    path: str
    briefs: tuple[BriefCard, ...]


@dataclass(frozen=True)
class GroupKind:
    folder: str  # countries, tags, archive
    title: str  # heading of the overview page (a catalog message)
    keys: Callable[[BriefCard, Localizer], Iterable[tuple[str, str]]]  # (key, title) pairs of a brief
    newest_key_first: bool = False


GROUP_KINDS = (
    GroupKind("countries", N_("Countries"),
              lambda b, words: ((c.lower(), country_name(c, words)) for c in b.countries)),
    GroupKind("tags", N_("Tags"), lambda b, words: ((slug(t), t) for t in b.tags)),
    GroupKind("archive", N_("Archive"),
              lambda b, words: [(f"{b.as_of_date:%Y-%m}", words.month_year(b.as_of_date))],
              newest_key_first=True),
)


def site_pages(html: HtmlRenderer, briefs: Sequence[BriefCard], generated_at: datetime,
               with_pdf: bool = True, index_briefs: Sequence[BriefCard] | None = None,
               series: dict[str, tuple[str, int]] | None = None,
               country_maps: Mapping[str, LocatorMap] | None = None) -> Iterator[tuple[str, bytes]]:
    """Every page of the site that is not a brief's own page, one at a time.

    The home page lists ``index_briefs`` (default: all), in which a series is shown by its
    latest issue; ``series`` gives each series' title and number of issues;
    ``country_maps`` holds each country page's map (by country code), drawn beforehand."""
    series = series or {}
    country_maps = country_maps or {}
    yield "index.html", html.page("index.html", "index.html", heading=html.config.title,
                                  entries=html.entries(briefs if index_briefs is None else index_briefs,
                                                       "index.html"), is_home=True,
                                  with_pdf=with_pdf, series=series).encode()
    yield "search/index.html", html.page("search.html", "search/index.html").encode()
    yield "feed.xml", html.page("feed.xml", "feed.xml", entries=_feed_entries(html, briefs),
                                feed_id=_feed_id(html), with_pdf=with_pdf,
                                updated=_rfc3339(_site_updated(briefs, generated_at))).encode()
    listed = ["index.html", "search/index.html"]
    words = localizer(html.config.language)  # listings speak the site's language
    for kind in GROUP_KINDS:
        groups = _groups(kind, briefs, words)
        overview = f"{kind.folder}/index.html"
        yield overview, html.page("overview.html", overview, heading=words.gettext(kind.title),
                                  groups=groups).encode()
        listed.append(overview)
        for group in groups:
            locator = country_maps.get(group.key.upper()) if kind.folder == "countries" else None
            yield group.path, html.page("index.html", group.path, heading=group.title,
                                        entries=html.entries(group.briefs, group.path),
                                        is_home=False, with_pdf=with_pdf, series=series,
                                        locator=locator).encode()
            listed.append(group.path)
    if html.config.base_url:
        yield "sitemap.xml", html.page("sitemap.xml", "sitemap.xml", locations=[
            html.config.base_url + path.removesuffix("index.html")
            for path in sorted(listed) + [f"series/{name}/index.html" for name in sorted(series)]
            + [brief_page_path(b.id) for b in newest_first(briefs)]]).encode()


def slug(text: str) -> str:
    """A tag as a folder name: lowercase words joined by hyphens; any script is kept."""
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-_") or "tag"


def _groups(kind: GroupKind, briefs: Sequence[BriefCard], words: Localizer) -> list[Group]:
    members: dict[str, list[BriefCard]] = {}
    titles: dict[str, str] = {}
    for brief in briefs:
        for key, title in dict(kind.keys(brief, words)).items():
            members.setdefault(key, []).append(brief)
            titles.setdefault(key, title)
    order = sorted(members, reverse=True) if kind.newest_key_first else sorted(
        members, key=lambda key: titles[key].lower())
    return [Group(key, titles[key], f"{kind.folder}/{key}/index.html", tuple(members[key]))
            for key in order]


@dataclass(frozen=True)
class FeedEntry:
    brief: BriefCard
    id: str
    href: str
    pdf_href: str
    json_href: str
    updated: str
    published: str


def _feed_entries(html: HtmlRenderer, briefs: Sequence[BriefCard]) -> list[FeedEntry]:
    base = html.config.base_url or ""
    return [FeedEntry(brief, _entry_id(html, brief), base + brief_page_path(brief.id),
                      base + brief_pdf_path(brief.id), base + brief_json_path(brief.id),
                      _rfc3339(brief.updated),
                      _rfc3339(brief.published))
            for brief in newest_first(briefs)]


def _entry_id(html: HtmlRenderer, brief: BriefCard) -> str:
    if html.config.base_url:
        return html.config.base_url + brief_page_path(brief.id)
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, html.config.title + '/' + brief.id)}"


def _feed_id(html: HtmlRenderer) -> str:
    return html.config.base_url or f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, html.config.title)}"


def _site_updated(briefs: Sequence[BriefCard], generated_at: datetime) -> datetime:
    return max((brief.updated for brief in briefs), default=generated_at)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
