"""Stage 4c, render the site-wide pages: index, listings, search page, feed and sitemap.

In: a card (:class:`~fieldbrief.model.BriefCard`) for every published brief, and the
site configuration. Out: the pages, each with the digest of its inputs and a way to render
it to bytes (:class:`SitePage`), so that the build renders only the pages whose inputs
changed. Briefs are grouped by country, by tag and by the month
of their as-of date; each group gets a page, and each kind of group an overview.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from fieldbrief.incremental import digest
from fieldbrief.locator_map import LocatorMap, MapPlace
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


@dataclass(frozen=True)
class SitePage:
    """One site-wide page before it is rendered.

    ``inputs`` is a digest of everything the page shows besides the templates and the site's
    settings (which the build fingerprints for all site pages together): the listing facts
    of the briefs it lists, in order, and its own data. Two builds that compute the same
    ``inputs`` render the same bytes, so the build keeps the published page instead of
    calling ``render``."""

    path: str
    inputs: str
    render: Callable[[], bytes]


MapDrawer = Callable[[str, tuple[MapPlace, ...]], LocatorMap | None]
"""Draws a country page's map (country code, the places to mark): called only for the
country pages that are rendered, since drawing is the slow part of a country page."""


def site_pages(html: HtmlRenderer, briefs: Sequence[BriefCard], generated_at: datetime,
               with_pdf: bool = True, index_briefs: Sequence[BriefCard] | None = None,
               series: dict[str, tuple[str, int]] | None = None,
               country_places: Mapping[str, tuple[MapPlace, ...]] | None = None,
               draw_map: MapDrawer | None = None) -> Iterator[SitePage]:
    """Every page of the site that is not a brief's own page, one at a time, unrendered.

    The home page lists ``index_briefs`` (default: all), in which a series is shown by its
    latest issue; ``series`` gives each series' title and number of issues;
    ``country_places`` holds the places each country page's map marks (by country code),
    gathered beforehand, and ``draw_map`` draws that map."""
    series = series or {}
    places = country_places or {}
    cards = _card_digests(briefs)
    home = briefs if index_briefs is None else index_briefs
    yield _listing(html, "index.html", html.config.title, home, cards, with_pdf, series, is_home=True)
    yield SitePage("search/index.html", digest("search"),
                   lambda: html.page("search.html", "search/index.html").encode())
    yield _feed(html, briefs, cards, generated_at, with_pdf)
    listed = ["index.html", "search/index.html"]
    words = localizer(html.config.language)  # listings speak the site's language
    for kind in GROUP_KINDS:
        groups = _groups(kind, briefs, words)
        yield _overview(html, f"{kind.folder}/index.html", words.gettext(kind.title), groups)
        listed.append(f"{kind.folder}/index.html")
        for group in groups:
            code = group.key.upper()
            country_map = (_CountryMap(code, places.get(code, ()), draw_map)
                           if kind.folder == "countries" and draw_map is not None else None)
            yield _listing(html, group.path, group.title, group.briefs, cards, with_pdf, series,
                           country_map=country_map)
            listed.append(group.path)
    if html.config.base_url:
        yield _sitemap(html, [html.config.base_url + path.removesuffix("index.html")
                              for path in sorted(listed) + [f"series/{name}/index.html" for name in sorted(series)]
                              + [brief_page_path(b.id) for b in newest_first(briefs)]])


@dataclass(frozen=True)
class _CountryMap:
    """A country page's map, drawn only if the page is rendered; its repr is its inputs."""

    code: str
    places: tuple[MapPlace, ...]
    drawer: MapDrawer = field(repr=False)

    def draw(self) -> LocatorMap | None:
        return self.drawer(self.code, self.places)


def _card_digests(briefs: Sequence[BriefCard]) -> dict[str, str]:
    """Each brief's listing facts as one digest, computed once for all the pages listing it."""
    return {card.id: digest(card.model_dump_json()) for card in briefs}


def _listing(html: HtmlRenderer, path: str, heading: str, briefs: Sequence[BriefCard],
             cards: Mapping[str, str], with_pdf: bool, series: dict[str, tuple[str, int]], *,
             is_home: bool = False, country_map: _CountryMap | None = None) -> SitePage:
    """The home page or a group's page; a country's page with its map."""
    shown = {card.series: series[card.series] for card in briefs if card.series in series}

    def render() -> bytes:
        return html.page("index.html", path, heading=heading, entries=html.entries(briefs, path),
                         is_home=is_home, with_pdf=with_pdf, series=series,
                         locator=country_map.draw() if country_map else None).encode()
    inputs = digest("listing", heading, str(is_home), str(with_pdf), repr(sorted(shown.items())),
                    repr(country_map), *sorted(cards[card.id] for card in briefs))
    return SitePage(path, inputs, render)


def _feed(html: HtmlRenderer, briefs: Sequence[BriefCard], cards: Mapping[str, str],
          generated_at: datetime, with_pdf: bool) -> SitePage:
    updated = _rfc3339(_site_updated(briefs, generated_at))

    def render() -> bytes:
        return html.page("feed.xml", "feed.xml", entries=_feed_entries(html, briefs),
                         feed_id=_feed_id(html), with_pdf=with_pdf, updated=updated).encode()
    return SitePage("feed.xml", digest("feed", updated, str(with_pdf),
                                       *sorted(cards[card.id] for card in briefs)), render)


def _overview(html: HtmlRenderer, path: str, heading: str, groups: list[Group]) -> SitePage:
    """The page of all countries, tags or months: each group's name and number of briefs."""
    def render() -> bytes:
        return html.page("overview.html", path, heading=heading, groups=groups).encode()
    return SitePage(path, digest("overview", heading, *(
        f"{group.path}\n{group.title}\n{len(group.briefs)}" for group in groups)), render)


def _sitemap(html: HtmlRenderer, locations: list[str]) -> SitePage:
    return SitePage("sitemap.xml", digest("sitemap", *locations),
                    lambda: html.page("sitemap.xml", "sitemap.xml", locations=locations).encode())


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
