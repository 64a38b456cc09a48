"""Stage 4c, render the site-wide pages: index, listings, search page, feed and sitemap.

In: a card (:class:`~fieldbrief.model.BriefCard`) for every published brief, and the
site configuration. Out: the pages, each with the digest of its inputs and a way to render
it to bytes (:class:`SitePage`), so that the build renders only the pages whose inputs
changed. Briefs are grouped by country, by tag and by the month
of their as-of date; each group gets a page, and each kind of group an overview.

Every listing is bounded, so that one edited brief re-renders only small pages. The home
page lists the newest :data:`HOME_BRIEFS` entries and links to the month, country and tag
overviews, which reach every brief; the feed carries the newest :data:`FEED_ENTRIES`. A
group longer than two pages' worth is paginated in stable chunks of :data:`PAGE_SIZE`
entries counted from its oldest brief (``page/1/`` holds the oldest): a new brief changes
the group's own page (the newest entries, :data:`PAGE_SIZE` to twice that less one) and,
once in :data:`PAGE_SIZE` additions, opens one new numbered page; an edited brief
changes only the page that lists it. A numbered page's contents and links depend on
nothing newer than the page after it, so that is exactly what keeps it unchanged.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

from fieldbrief.incremental import digest
from fieldbrief.locator_map import LocatorMap, MapPlace
from fieldbrief.i18n import N_, Localizer, localizer
from fieldbrief.model import BriefCard
from fieldbrief.render_html import (HtmlRenderer, brief_page_path, brief_pdf_path, country_name,
                                    newest_first, root_of)
from fieldbrief.render_json import brief_json_path

HOME_BRIEFS = 30
"""Entries on the home page: a month or two of a busy desk's briefs, a page that loads at
once; every brief stays one link away through the month, country and tag overviews."""
FEED_ENTRIES = 50
"""Entries in the Atom feed: the usual window of a feed (readers poll it and keep what
they have seen), which every brief of recent weeks fits."""
PAGE_SIZE = 30
"""Entries on a numbered page of a long group; its own page holds up to twice this less one."""
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
    names: Callable[[BriefCard], Iterable[Any]]  # what names each group of a brief
    key: Callable[[Any], str]  # a group's key (its folder) from what names it
    group_title: Callable[[Any, Localizer], str]  # a group's title from what names it, once a group
    newest_key_first: bool = False


GROUP_KINDS = (
    GroupKind("countries", N_("Countries"), lambda b: b.countries, str.lower,
              lambda code, words: country_name(code, words)),
    GroupKind("tags", N_("Tags"), lambda b: b.tags, lambda tag: slug(tag), lambda tag, words: tag),
    GroupKind("archive", N_("Archive"), lambda b: (b.as_of_date,), lambda day: f"{day:%Y-%m}",
              lambda day, words: words.month_year(day), newest_key_first=True),
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


@dataclass(frozen=True)
class PageLink:
    """A link of a listing's pagination: to its newest page (``number`` None) or a numbered one."""

    kind: str  # newest, newer, page, older or oldest: the word that names it
    number: int | None
    href: str
    current: bool = False


@dataclass(frozen=True)
class Pager:
    """The pagination of one page of a long group: its number (None on the group's own
    page, which shows the newest entries) and its links, relative to the page."""

    number: int | None
    links: tuple[PageLink, ...]


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
    ordered = newest_first(briefs)
    rank = {card.id: place for place, card in enumerate(ordered)}
    home = _entry_units(briefs, rank) if index_briefs is None else _entry_units(index_briefs)
    yield _listing(html, "index.html", html.config.title, _flat(home[:HOME_BRIEFS]), cards,
                   with_pdf, series, is_home=True, more=len(home) > HOME_BRIEFS)
    yield SitePage("search/index.html", digest("search"),
                   lambda: html.page("search.html", "search/index.html").encode())
    yield _feed(html, ordered[:FEED_ENTRIES], cards, generated_at, with_pdf)
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
            for path, shown, pager, total in _group_pages(group, rank):
                yield _listing(html, path, group.title, shown, cards, with_pdf, series,
                               country_map=country_map if pager is None or pager.number is None else None,
                               pager=pager, total=total)
                listed.append(path)
    if html.config.base_url:
        yield _sitemap(html, [html.config.base_url + path.removesuffix("index.html")
                              for path in sorted(listed) + [f"series/{name}/index.html" for name in sorted(series)]
                              + [brief_page_path(b.id) for b in ordered]])


@dataclass(frozen=True)
class _CountryMap:
    """A country page's map, drawn only if the page is rendered; its repr is its inputs."""

    code: str
    places: tuple[MapPlace, ...]
    drawer: MapDrawer = field(repr=False)

    def draw(self) -> LocatorMap | None:
        return self.drawer(self.code, self.places)


def _entry_units(briefs: Sequence[BriefCard],
                 rank: Mapping[str, int] | None = None) -> list[tuple[BriefCard, ...]]:
    """The entries of a listing of ``briefs``, newest first, each with its cards: a brief
    and the translations of it that are listed too, which its entry shows beside it
    (:meth:`HtmlRenderer.entries`); a listing is cut between entries, never inside one.

    ``rank`` is each brief's place among all briefs newest first, when known: sorting by it
    is that order (dates and ids order briefs wholly), without working out each date again."""
    order = newest_first(briefs) if rank is None else sorted(briefs, key=lambda card: rank[card.id])
    listed = {brief.id for brief in briefs}
    units = {card.id: [card] for card in order if card.translation_of not in listed}
    for card in order:
        if card.translation_of in listed:
            units[card.translation_of].append(card)
    return [tuple(cards) for cards in units.values()]


def _flat(units: Sequence[tuple[BriefCard, ...]]) -> list[BriefCard]:
    return [card for unit in units for card in unit]


def page_path(group_path: str, number: int) -> str:
    """Where the numbered page ``number`` of a group lives: 'tags/x/index.html', 2 ->
    'tags/x/page/2/index.html'."""
    return f"{group_path.removesuffix('index.html')}page/{number}/index.html"


def _group_pages(group: Group, rank: Mapping[str, int]
                 ) -> Iterator[tuple[str, list[BriefCard], Pager | None, int | None]]:
    """The pages of a group: (path, briefs shown, pagination, number of entries in all if
    the page shows only the newest of them). A short group is one page; a long one is its
    own page with the newest entries, then numbered pages of :data:`PAGE_SIZE` entries
    counted from the oldest, newest first."""
    units = _entry_units(group.briefs, rank)
    numbered = len(units) // PAGE_SIZE - 1
    if numbered < 1:
        yield group.path, _flat(units), None, None
        return
    oldest_first = units[::-1]
    chunks = [oldest_first[k * PAGE_SIZE:(k + 1) * PAGE_SIZE][::-1] for k in range(numbered)]
    yield (group.path, _flat(oldest_first[numbered * PAGE_SIZE:][::-1]),
           _pager(group.path, None, numbered), len(units))
    for number, chunk in enumerate(chunks, start=1):
        yield page_path(group.path, number), _flat(chunk), _pager(group.path, number, numbered), None


def _pager(group_path: str, number: int | None, numbered: int) -> Pager:
    """The links of page ``number`` (None: the group's own page) of a group with ``numbered``
    numbered pages. The own page links every numbered page; a numbered page links the
    newest, the next newer and older ones and the oldest, so that it changes only when the
    page after it is opened."""
    root = root_of(group_path if number is None else page_path(group_path, number))

    def link(kind: str, to: int | None, current: bool = False) -> PageLink:
        return PageLink(kind, to, root + (group_path if to is None else page_path(group_path, to)),
                        current)
    if number is None:
        return Pager(None, (link("newest", None, True),
                            *(link("page", k) for k in range(numbered, 0, -1))))
    return Pager(number, (link("newest", None),
                          *([link("newer", number + 1)] if number < numbered else []),
                          link("page", number, True),
                          *([link("older", number - 1)] if number > 1 else []),
                          *([link("oldest", 1)] if number > 2 else [])))


def _card_digests(briefs: Sequence[BriefCard]) -> dict[str, str]:
    """Each brief's listing facts as one digest, computed once for all the pages listing it."""
    return {card.id: digest(card.model_dump_json()) for card in briefs}


def _cards_digest(cards: Mapping[str, str], briefs: Sequence[BriefCard]) -> str:
    """The listing facts of ``briefs`` as one part of a page's inputs: their digests (of one
    length each), in an order of their own (the order a page shows follows from the facts)."""
    return "".join(sorted(cards[card.id] for card in briefs))


def _listing(html: HtmlRenderer, path: str, heading: str, briefs: Sequence[BriefCard],
             cards: Mapping[str, str], with_pdf: bool, series: dict[str, tuple[str, int]], *,
             is_home: bool = False, more: bool = False, country_map: _CountryMap | None = None,
             pager: Pager | None = None, total: int | None = None) -> SitePage:
    """The home page (``more``: it shows only the newest briefs) or a page of a group's
    (``total``: the group's number of entries, on its own page when it has numbered ones);
    a country's own page with its map."""
    shown = {card.series: series[card.series] for card in briefs if card.series in series}

    def render() -> bytes:
        return html.page("index.html", path, heading=heading, entries=html.entries(briefs, path),
                         is_home=is_home, more=more, with_pdf=with_pdf, series=series,
                         pager=pager, total=total,
                         locator=country_map.draw() if country_map else None).encode()
    inputs = digest("listing", heading, str(is_home), str(more), str(with_pdf),
                    repr(sorted(shown.items())), repr(country_map), repr(pager), str(total),
                    _cards_digest(cards, briefs))
    return SitePage(path, inputs, render)


def _feed(html: HtmlRenderer, briefs: Sequence[BriefCard], cards: Mapping[str, str],
          generated_at: datetime, with_pdf: bool) -> SitePage:
    """The feed of ``briefs`` (its newest entries); it was last updated when the latest
    of them was, since the feed is exactly these entries."""
    updated = _rfc3339(_site_updated(briefs, generated_at))

    def render() -> bytes:
        return html.page("feed.xml", "feed.xml", entries=_feed_entries(html, briefs),
                         feed_id=_feed_id(html), with_pdf=with_pdf, updated=updated).encode()
    return SitePage("feed.xml", digest("feed", updated, str(with_pdf), _cards_digest(cards, briefs)),
                    render)


def _overview(html: HtmlRenderer, path: str, heading: str, groups: list[Group]) -> SitePage:
    """The page of all countries, tags or months: each group's name and number of briefs."""
    def render() -> bytes:
        return html.page("overview.html", path, heading=heading, groups=groups).encode()
    return SitePage(path, digest("overview", heading, *(
        f"{group.path}\n{group.title}\n{len(group.briefs)}" for group in groups)), render)


def _sitemap(html: HtmlRenderer, locations: list[str]) -> SitePage:
    return SitePage("sitemap.xml", digest("sitemap", *locations),
                    lambda: html.page("sitemap.xml", "sitemap.xml", locations=locations).encode())


@lru_cache(maxsize=4096)
def slug(text: str) -> str:
    """A tag as a folder name: lowercase words joined by hyphens; any script is kept."""
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-_") or "tag"


def _groups(kind: GroupKind, briefs: Sequence[BriefCard], words: Localizer) -> list[Group]:
    """The groups of ``kind``, each with its briefs in the order given; a group is named
    by the first brief in it (by the last of the names it gives that group)."""
    keys: dict[Any, str] = {}  # each name's key, worked out once
    members: dict[str, list[BriefCard]] = {}
    names: dict[str, Any] = {}
    for brief in briefs:
        named = {keys[name] if name in keys else keys.setdefault(name, kind.key(name)): name
                 for name in kind.names(brief)}
        for key, name in named.items():
            if key in members:
                members[key].append(brief)
            else:
                members[key], names[key] = [brief], name
    titles = {key: kind.group_title(name, words) for key, name in names.items()}
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
