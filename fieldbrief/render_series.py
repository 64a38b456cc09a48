"""Stage 4d, render the pages of each series: its list of issues, its charts, its feed.

In: the series the series stage gathered (:class:`~fieldbrief.series.SeriesListing`, only
the issues published on the site), and the site configuration. Out: for each series,
``series/<id>/index.html`` (every issue newest first with its as-of date and headline
changes, and a small SVG chart of each keyed figure over the issues, drawn here so that
the page needs no script) and ``series/<id>/feed.xml`` (Atom), as :class:`~fieldbrief.render_site.SitePage` values that
the build renders only when their inputs changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from functools import partial

from fieldbrief.render_html import HtmlRenderer, brief_page_path, root_of
from fieldbrief.incremental import digest, facts_digest
from fieldbrief.render_site import FEED_NAMESPACE, SitePage
from fieldbrief.series import Issue, SeriesListing, parse_number

CHART_WIDTH, CHART_HEIGHT = 320, 130
LEFT, RIGHT, TOP, BOTTOM = 16, 16, 22, 24
"""The chart's size and margins, in SVG units: room for values above and numbers below."""


@dataclass(frozen=True)
class Point:
    number: int
    value: str  # as written
    x: float
    y: float | None  # None: the value is not a number, so it is listed but not drawn


@dataclass(frozen=True)
class Chart:
    key: str
    counts: str
    points: tuple[Point, ...]
    lines: tuple[str, ...]  # SVG polyline points, one per run of numeric values
    ticks: tuple[tuple[float, int], ...]  # (x, number) of every issue, reported or not


def series_pages(html: HtmlRenderer, listings: Sequence[SeriesListing], generated_at: datetime,
                 with_pdf: bool = True) -> Iterator[SitePage]:
    """Each series' page and feed, unrendered: their inputs are everything the series shows
    (its declaration, and each published issue's card, facts and changes)."""
    for listing in listings:
        inputs = facts_digest([listing, with_pdf])
        page, feed = f"series/{listing.id}/index.html", f"series/{listing.id}/feed.xml"
        yield SitePage(page, digest("series", inputs), partial(_page, html, listing, with_pdf))
        updated = _rfc3339(max((i.card.updated for i in listing.issues), default=generated_at))
        yield SitePage(feed, digest("series feed", inputs, updated),
                       partial(_feed, html, listing, with_pdf, updated))


def _page(html: HtmlRenderer, listing: SeriesListing, with_pdf: bool) -> bytes:
    page = f"series/{listing.id}/index.html"
    return html.page("series.html", page, listing=listing, charts=charts(listing),
                     with_pdf=with_pdf).encode()


def _feed(html: HtmlRenderer, listing: SeriesListing, with_pdf: bool, updated: str) -> bytes:
    feed = f"series/{listing.id}/feed.xml"
    return html.page("series_feed.xml", feed, listing=listing, base=html.config.base_url or root_of(feed),
                     feed_id=_id(html, f"series/{listing.id}"), with_pdf=with_pdf,
                     entry_ids={i.card.id: _id(html, i.card.id, brief_page_path(i.card.id))
                                for i in listing.issues},
                     entry_updated={i.card.id: _rfc3339(i.card.updated) for i in listing.issues},
                     updated=updated).encode()


def charts(listing: SeriesListing) -> list[Chart]:
    """One chart per keyed figure, over the published issues in order of number."""
    issues = list(reversed(listing.issues))
    keys: dict[str, str] = {}
    for issue in issues:
        keys.update({figure.key: figure.counts for figure in issue.facts.figures})
    return [_chart(key, counts, issues) for key, counts in keys.items()]


def _chart(key: str, counts: str, issues: list[Issue]) -> Chart:
    """Issues spaced evenly; the scale runs from zero (or the lowest value) to the highest."""
    readings = [next((f.value for f in issue.facts.figures if f.key == key), None) for issue in issues]
    numbers = [n for value in readings if value is not None and (n := parse_number(value)) is not None]
    top = max([*numbers, Decimal(0)])
    bottom = min([*numbers, Decimal(0)])
    step = (CHART_WIDTH - LEFT - RIGHT) / (len(issues) - 1 or 1)
    points: list[Point | None] = []
    for position, (issue, value) in enumerate(zip(issues, readings)):
        parsed = None if value is None else parse_number(value)
        y = None if parsed is None else TOP + (CHART_HEIGHT - TOP - BOTTOM) * float(
            (top - parsed) / (top - bottom or 1))
        points.append(None if value is None else Point(
            issue.card.number or 0, value, round(LEFT + step * position, 1),
            None if y is None else round(y, 1)))
    ticks = tuple((round(LEFT + step * position, 1), issue.card.number or 0)
                  for position, issue in enumerate(issues))
    return Chart(key, counts, tuple(p for p in points if p is not None), _runs(points), ticks)


def _runs(points: list[Point | None]) -> tuple[str, ...]:
    """Lines join the values of neighbouring issues only: a missing or non-numeric value
    breaks them."""
    runs: list[list[Point]] = [[]]
    for point in points:
        if point is None or point.y is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return tuple(" ".join(f"{p.x},{p.y}" for p in run) for run in runs if len(run) > 1)


def _id(html: HtmlRenderer, name: str, path: str | None = None) -> str:
    """A feed's or entry's id: its address when the site has one, else a stable urn:uuid
    (an issue's entry has the same id as in the site's feed)."""
    if html.config.base_url:
        return html.config.base_url + (path or f"{name}/feed.xml")
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, html.config.title + '/' + name)}"


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

