"""Stage 4a, render HTML: a validated brief in, an HTML string out.

One set of Jinja2 templates serves the web page and the PDF: the PDF renderer asks
for the same page with ``for_print=True`` (no <link> tags; WeasyPrint gets the
print stylesheets directly). Autoescape is on and undefined names are errors, so a
template mistake fails the build instead of printing an empty string. Rendering is
pure: no files are written here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pycountry
from jinja2 import Environment, FileSystemLoader, StrictUndefined, meta, select_autoescape

from fieldbrief import __version__
from fieldbrief.markup import to_html, to_inline_html
from fieldbrief.config import SiteConfig
from fieldbrief.incremental import digest
from fieldbrief.gazetteer import GAZETTEER
from fieldbrief.locator_map import DISCLAIMER, LocatorMap
from fieldbrief.map_data import MAP_DATA_SOURCE
from fieldbrief.model import (LIKELIHOOD_SCALE, Brief, BriefCard, DateInterval, Figure,
                              PartialDate, Period, Source)
from fieldbrief.render_indicators import TYPE_NAMES, defang, export_names
from fieldbrief.resources import ResourcePolicy
from fieldbrief.series import IssueContext
from fieldbrief.verify import VerificationReport

NOT_VERIFIED = VerificationReport()
"""No quote checked and no archive known: a brief rendered without verification."""
SCREEN_STYLESHEETS = (("shared.css", "all"), ("screen.css", "screen"), ("print.css", "print"))


@dataclass(frozen=True)
class Stylesheet:
    href: str
    media: str


@dataclass(frozen=True)
class ListEntry:
    """One brief as a list page shows it, with links relative to that page."""

    brief: BriefCard
    href: str
    pdf_href: str


def brief_page_path(brief_id: str) -> str:
    """Where a brief's page lives inside the site, relative to the site root."""
    return f"briefs/{brief_id}/index.html"


def archive_page_path(brief_id: str, source_id: str) -> str:
    """Where the published archive of a brief's source lives (ids are checked to be
    lowercase letters, digits and hyphens, so they are safe in a path)."""
    return f"briefs/{brief_id}/sources/{source_id}.html"


def published_archives(brief: Brief, archived: Collection[str]) -> list[Source]:
    """The sources whose archive is published: those that ask for it and whose archive
    was read (``archived``: ids of the sources with an archive)."""
    return [source for source in brief.sources if source.publish_archive and source.id in archived]


def brief_pdf_path(brief_id: str) -> str:
    return f"briefs/{brief_id}/{brief_id}.pdf"


def root_of(page: str) -> str:
    """The relative path from ``page`` back to the site root: 'a/b/index.html' -> '../../'."""
    return "../" * page.count("/")


def newest_first(briefs: Sequence[BriefCard]) -> list[BriefCard]:
    return sorted(briefs, key=lambda card: (-card.as_of_moment.timestamp(), card.id))


class HtmlRenderer:
    """Holds one Jinja2 environment; renders brief pages and the site's other pages."""

    def __init__(self, templates: Path | Sequence[Path], config: SiteConfig,
                 resources: ResourcePolicy) -> None:
        """``templates``: a folder, or a search path of folders, first folder first (a
        template in the project's folder hides the built-in one of that name)."""
        self.config = config
        self.resources = resources
        self.env = Environment(
            loader=FileSystemLoader(templates),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(
            markdown=to_html,
            inline_markdown=to_inline_html,
            as_of=format_date,
            date=format_date,
            period=format_period,
            country_name=country_name,
            coordinates=format_coordinates,
            tlp_slug=tlp_slug,
            defang=defang,
            language_name=language_name,
            first_upper=first_upper,
        )
        self.env.globals["likelihood_scale"] = list(LIKELIHOOD_SCALE.items())
        self.env.globals["indicator_exports"] = export_names
        self.env.globals["indicator_type_names"] = TYPE_NAMES
        self.env.globals["map_disclaimer"] = DISCLAIMER
        self.env.globals["map_data_source"] = MAP_DATA_SOURCE
        self.env.globals["gazetteer_note"] = f"position from {GAZETTEER}, not from the sources"

    def brief_page(self, brief: Brief, *, with_pdf: bool = True,
                   verification: VerificationReport = NOT_VERIFIED,
                   series: IssueContext | None = None,
                   locator: LocatorMap | None = None) -> str:
        """The brief's web page, linking the site's stylesheets (and its PDF, if made).

        ``verification`` is what checking the quotes against archives found, ``series``
        what changed since the previous issue of its series, ``locator`` its generated map:
        the page shows them, and never reads an archive or another brief itself."""
        image = self.resources.image(brief.map_image.image) if brief.map_image else None
        return self._brief(brief, for_print=False, generated_at=None,
                           map_src=image.web_src if image else None, with_pdf=with_pdf,
                           verification=verification, series=series, locator=locator)

    def print_page(self, brief: Brief, generated_at: datetime, *,
                   verification: VerificationReport = NOT_VERIFIED,
                   series: IssueContext | None = None,
                   locator: LocatorMap | None = None) -> str:
        """The brief as the PDF renderer reads it: no stylesheet links, dated metadata."""
        image = self.resources.image(brief.map_image.image) if brief.map_image else None
        return self._brief(brief, for_print=True, generated_at=generated_at.isoformat(),
                           map_src=image.print_src if image else None, with_pdf=True,
                           verification=verification, series=series, locator=locator)

    def _brief(self, brief: Brief, *, for_print: bool, generated_at: str | None,
               map_src: str | None, with_pdf: bool, verification: VerificationReport,
               series: IssueContext | None, locator: LocatorMap | None) -> str:
        locator = None if brief.map_image else locator
        return self.page("brief.html", brief_page_path(brief.id), lang=brief.language,
                         for_print=for_print, generated_at=generated_at, with_pdf=with_pdf,
                         verification=verification, series=series, locator=locator,
                         archive_pages={} if for_print else _archive_links(brief, verification),
                         pdf_href=f"{brief.id}.pdf", json_href=f"{brief.id}.json", map_src=map_src,
                         sections=_sections(brief, locator is not None), **_lookups(brief),
                         brief=brief)

    def templates_digest(self, *names: str) -> str:
        """A digest of the templates ``names`` and every template they extend, include or import."""
        seen: dict[str, str] = {}
        waiting = list(names)
        while waiting:
            name = waiting.pop()
            if name in seen:
                continue
            source = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            seen[name] = source
            waiting.extend(ref for ref in meta.find_referenced_templates(self.env.parse(source)) if ref)
        return digest(*(item for name in sorted(seen) for item in (name, seen[name])))

    def entries(self, briefs: Sequence[BriefCard], page: str) -> list[ListEntry]:
        """``briefs`` newest first, linked from ``page``."""
        root = root_of(page)
        return [ListEntry(brief, root + brief_page_path(brief.id), root + brief_pdf_path(brief.id))
                for brief in newest_first(briefs)]

    def page(self, template: str, path: str, *, for_print: bool = False, **context: Any) -> str:
        """Render ``template`` as the page at ``path`` in the site (links made relative)."""
        root = root_of(path)
        context.setdefault("lang", self.config.language)
        return self.env.get_template(template).render(
            site=self.config, site_title=self.config.title, version=__version__, root=root,
            page_path=path, for_print=for_print,
            stylesheets=[] if for_print else _stylesheets(root), **context)


def _stylesheets(root: str) -> list[Stylesheet]:
    return [Stylesheet(f"{root}assets/{name}", media) for name, media in SCREEN_STYLESHEETS]


def _archive_links(brief: Brief, verification: VerificationReport) -> dict[str, str]:
    """The published archive page of each source that has one, relative to the brief page
    (the PDF links none: it stands alone)."""
    folder = f"briefs/{brief.id}/"
    return {source.id: archive_page_path(brief.id, source.id).removeprefix(folder)
            for source in published_archives(brief, verification.archives)}


def _sections(brief: Brief, with_locator: bool) -> list[tuple[str, str]]:
    """The brief's sections, in page order, as (anchor, heading) for its table of contents."""
    present = [
        ("bottom-line", "Bottom line up front", True),
        ("key-figures", "Key figures", bool(brief.figures)),
        ("map", "Map", brief.map_image is not None or with_locator),
        ("situation", "Situation summary", True),
        ("timeline", "Timeline", bool(brief.timeline)),
        ("quotes", "Quotes", bool(brief.quotes)),
        ("assessment", "Assessment", bool(brief.assessment)),
        ("outlook", "Outlook", bool(brief.outlook)),
        ("gaps", "What we do not know", bool(brief.gaps)),
        ("indicators", "Indicators", bool(brief.indicators)),
        ("places-and-actors", "Places and actors", bool(brief.places or brief.actors)),
        ("sources", "Source notes", True),
        ("revisions", "Revision history", bool(brief.revisions)),
    ]
    return [(anchor, heading) for anchor, heading, shown in present if shown]


CITING_PARTS = (("figures", "figure", "Key figure"), ("timeline", "timeline", "Timeline entry"),
                ("quotes", "quote", "Quote"), ("assessment", "assessment", "Assessment"),
                ("outlook", "outlook", "Outlook"), ("gaps", "gap", "Gap"),
                ("indicators", "indicator", "Indicator"))
"""Parts of a brief that cite sources: field, anchor prefix, label in back-links."""


@dataclass(frozen=True)
class BackLink:
    anchor: str
    label: str


def _lookups(brief: Brief) -> dict[str, Any]:
    """Tables the templates use to turn ids into names, numbers and back-links."""
    numbers = {source.id: number for number, source in enumerate(brief.sources, 1)}
    return {
        "source_numbers": numbers,
        "sources_by_id": {source.id: source for source in brief.sources},
        "actors_by_id": {actor.id: actor for actor in brief.actors},
        "places_by_id": {place.id: place for place in brief.places},
        "cited_by": _cited_by(brief, numbers),
    }


def _cited_by(brief: Brief, numbers: dict[str, int]) -> dict[str, list[BackLink]]:
    """For each source, the parts of the brief that cite it, in reading order."""
    cited_by: dict[str, list[BackLink]] = {source.id: [] for source in brief.sources}
    for field, prefix, label in CITING_PARTS:
        for number, item in enumerate(getattr(brief, field), 1):
            for source_id in dict.fromkeys(_cited_sources(item)):
                cited_by[source_id].append(BackLink(f"{prefix}-{number}", f"{label} {number}"))
    for source in brief.sources:
        if source.via:
            cited_by[source.via].append(
                BackLink(f"source-{source.id}", f"Source [{numbers[source.id]}]"))
    return cited_by


def _cited_sources(item: Any) -> list[str]:
    """The sources a part cites; a figure's include those of its estimates."""
    return item.all_sources if isinstance(item, Figure) else item.sources


def format_date(value: date | datetime | PartialDate | DateInterval) -> str:
    """Any date of a brief as the page reads it: '3 November 2026, 11:00 UTC+01:00',
    '14–17 March (year not stated)'. A time keeps the offset it was written with."""
    if isinstance(value, (PartialDate, DateInterval)):
        return str(value)
    return str(PartialDate.of(value))


def format_period(period: Period) -> str:
    """'14–17 March 2026; note': a start and end read as one range where they can be."""
    start, end = period.start, period.end
    if isinstance(start, PartialDate) and isinstance(end, PartialDate):
        span = str(DateInterval(start, end))
    elif start and end:
        span = f"{start} – {end}"
    elif start or end:
        span = f"From {start}" if start else f"Until {end}"
    else:
        span = ""
    return "; ".join(part for part in (span, period.note) if part)


def country_name(code: str) -> str:
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return f"Exercise area ({code})"
    return getattr(country, "common_name", None) or country.name


def format_coordinates(coordinates: tuple[float, float]) -> str:
    """'16.77° N, 3.0° W': each number with the decimals the analyst wrote."""
    latitude, longitude = coordinates
    return (f"{_degrees(latitude)}° {'N' if latitude >= 0 else 'S'}, "
            f"{_degrees(longitude)}° {'E' if longitude >= 0 else 'W'}")


def _degrees(value: float) -> str:
    decimals = getattr(value, "decimals", None)  # model.Degrees; None when not known
    return f"{abs(value):.{3 if decimals is None else decimals}f}"


def language_name(tag: str) -> str:
    """'fr' -> 'French', 'ar-SD' -> 'Arabic (ar-SD)'; a tag of no known language stays as written."""
    primary = tag.split("-")[0]
    language = (pycountry.languages.get(alpha_2=primary) if len(primary) == 2
                else pycountry.languages.get(alpha_3=primary))
    if language is None:
        return tag
    return language.name if tag == primary else f"{language.name} ({tag})"


def first_upper(text: str) -> str:
    """'UN agency' stays 'UN agency', 'armed group' -> 'Armed group' (Jinja's capitalize
    would lower the rest)."""
    return text[:1].upper() + text[1:]


def tlp_slug(label: str) -> str:
    """'TLP:AMBER+STRICT' -> 'amber-strict', for CSS classes and named pages."""
    return label.removeprefix("TLP:").lower().replace("+", "-")
