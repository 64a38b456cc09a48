"""Stage 4a, render HTML: a validated brief in, an HTML string out.

One set of Jinja2 templates serves the web page and the PDF: the PDF renderer asks
for the same page with ``for_print=True`` (no <link> tags; WeasyPrint gets the
print stylesheets directly). Autoescape is on and undefined names are errors, so a
template mistake fails the build instead of printing an empty string. Rendering is
pure: no files are written here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry
from jinja2 import (BytecodeCache, Environment, FileSystemLoader, StrictUndefined, TemplateNotFound,
                    select_autoescape)

from fieldbrief import __version__
from fieldbrief.i18n import (ACTOR_KINDS, CONFIDENCE_LABELS, CREDIBILITY, FIGURE_STATUSES,
                             HEMISPHERES, INDICATOR_TYPES, LIKELIHOOD_TERMS, LOCALE_DIR, N_,
                             PAGE_OF, RELIABILITY, RUNNING_AS_OF, SOURCE_KINDS, Localizer,
                             localizer, native_name)
from fieldbrief.markup import to_html, to_inline_html
from fieldbrief.config import SiteConfig
from fieldbrief.incremental import digest
from fieldbrief.gazetteer import GAZETTEER
from fieldbrief.locator_map import DISCLAIMER, LocatorMap
from fieldbrief.map_data import MAP_DATA_SOURCE
from fieldbrief.model import (Brief, BriefCard, DateInterval, Dated, Figure, PartialDate, Period,
                              Source)
from fieldbrief.render_indicators import defang, export_names
from fieldbrief.resources import ResourcePolicy
from fieldbrief.series import IssueContext
from fieldbrief.template_cache import template_cache
from fieldbrief.translations import Translation, translation_sets
from fieldbrief.verify import VerificationReport

GAZETTEER_NOTE = N_("position from %(gazetteer)s, not from the sources")
NOT_VERIFIED = VerificationReport()
"""No quote checked and no archive known: a brief rendered without verification."""
SCREEN_STYLESHEETS = (("shared.css", "all"), ("screen.css", "screen"), ("print.css", "print"))


@dataclass(frozen=True)
class Stylesheet:
    href: str
    media: str


@dataclass(frozen=True)
class LanguageLink:
    """One language of a brief, linked from a page: 'fr', 'Français', '../mali-fr/index.html'."""

    language: str
    name: str
    href: str
    current: bool = False


@dataclass(frozen=True)
class ListEntry:
    """One brief as a list page shows it, with links relative to that page; a brief
    with translations is one entry, its languages linked beside it."""

    brief: BriefCard
    href: str
    pdf_href: str
    languages: tuple[LanguageLink, ...] = ()


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
        self.loader = FileSystemLoader(templates)
        self.bytecode_cache = template_cache(resources.root, CACHE_KEY_OPTIONS)
        self.environments: dict[str, Environment] = {}
        self.env = self.environment(config.language)

    def environment(self, language: str) -> Environment:
        """The Jinja2 environment that renders pages in ``language``: its catalog installed
        for ``_()``/``{% trans %}``, its filters writing dates and names in that language."""
        if language not in self.environments:
            self.environments[language] = _environment(self.loader, localizer(language),
                                                        self.bytecode_cache)
        return self.environments[language]

    def brief_page(self, brief: Brief, *, with_pdf: bool = True,
                   verification: VerificationReport = NOT_VERIFIED,
                   translations: Sequence[Translation] = (),
                   series: IssueContext | None = None,
                   locator: LocatorMap | None = None) -> str:
        """The brief's web page, linking the site's stylesheets (and its PDF, if made).

        ``verification`` is what checking the quotes against archives found, ``translations``
        the brief's languages on the site, ``series`` what changed since the previous issue
        of its series, ``locator`` its generated map: the page shows them, and never reads an
        archive or another brief itself."""
        image = self.resources.image(brief.map_image.image) if brief.map_image else None
        return self._brief(brief, for_print=False, generated_at=None,
                           map_src=image.web_src if image else None, with_pdf=with_pdf,
                           verification=verification, series=series, locator=locator,
                           languages=_language_links(translations, brief.id, "../"))

    def print_page(self, brief: Brief, generated_at: datetime, *,
                   verification: VerificationReport = NOT_VERIFIED,
                   series: IssueContext | None = None,
                   locator: LocatorMap | None = None) -> str:
        """The brief as the PDF renderer reads it: no stylesheet links, dated metadata."""
        image = self.resources.image(brief.map_image.image) if brief.map_image else None
        return self._brief(brief, for_print=True, generated_at=generated_at.isoformat(),
                           map_src=image.print_src if image else None, with_pdf=True,
                           verification=verification, series=series, locator=locator,
                           languages=())

    def _brief(self, brief: Brief, *, for_print: bool, generated_at: str | None,
               map_src: str | None, with_pdf: bool, verification: VerificationReport,
               series: IssueContext | None, locator: LocatorMap | None,
               languages: tuple[LanguageLink, ...]) -> str:
        locator = None if brief.map_image else locator
        return self.page("brief.html", brief_page_path(brief.id), lang=brief.language,
                         for_print=for_print, generated_at=generated_at, with_pdf=with_pdf,
                         verification=verification, series=series, locator=locator,
                         languages=languages,
                         archive_pages={} if for_print else _archive_links(brief, verification),
                         pdf_href=f"{brief.id}.pdf", json_href=f"{brief.id}.json", map_src=map_src,
                         sections=brief_sections(brief, locator is not None), **_lookups(brief),
                         brief=brief)

    def templates_digest(self, *names: str) -> str:
        """A digest of the templates ``names`` and every template they extend, include or import.

        References are found by :func:`referenced_templates`, not by parsing: every build
        fingerprints its templates, and parsing them all took longer than the rest of a
        build in which nothing changed."""
        seen: dict[str, str] = {}
        waiting = list(names)
        while waiting:
            name = waiting.pop()
            if name in seen:
                continue
            try:
                source = self.loader.get_source(self.env, name)[0]
            except TemplateNotFound:
                if name in names:
                    raise
                continue  # a string in a tag that names no template
            seen[name] = source
            waiting.extend(referenced_templates(source))
        catalogs = {path.relative_to(LOCALE_DIR).as_posix(): path.read_text(encoding="utf-8")
                    for path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))}
        seen.update(catalogs)
        return digest(*(item for name in sorted(seen) for item in (name, seen[name])))

    def entries(self, briefs: Sequence[BriefCard], page: str) -> list[ListEntry]:
        """``briefs`` newest first, linked from ``page``; a translation is listed with its
        original (as one entry, its languages beside it), not as an entry of its own."""
        root = root_of(page)
        sets = translation_sets(briefs)
        listed = {brief.id for brief in briefs}
        return [ListEntry(brief, root + brief_page_path(brief.id), root + brief_pdf_path(brief.id),
                          _language_links(sets.get(brief.id, ()), None, root + "briefs/"))
                for brief in newest_first(briefs) if brief.translation_of not in listed]

    def page(self, template: str, path: str, *, for_print: bool = False, **context: Any) -> str:
        """Render ``template`` as the page at ``path`` in the site (links made relative)."""
        root = root_of(path)
        context.setdefault("lang", self.config.language)
        env = self.environment(context["lang"])
        return env.get_template(template).render(
            site=self.config, site_title=self.config.title, version=__version__, root=root,
            page_path=path, for_print=for_print,
            stylesheets=[] if for_print else _stylesheets(root), **context)


TEMPLATE_TAG = re.compile(r"\{%[-+]?\s*(?:extends|include|import|from)\b(.*?)%\}", re.DOTALL)
STRING_LITERAL = re.compile(r"""(["'])(.*?)\1""", re.DOTALL)


def referenced_templates(source: str) -> list[str]:
    """Every string written in an extends, include, import or from tag of ``source``.

    A superset of the templates it uses (Jinja2 follows only such literal names; a name
    built at render time is not followed by either): a tag inside a comment or a raw
    block adds a name too, which only makes the digest cover one file more."""
    return [literal[1] for tag in TEMPLATE_TAG.finditer(source)
            for literal in STRING_LITERAL.findall(tag.group(1)) if literal[1]]


ENVIRONMENT_OPTIONS: dict[str, Any] = {
    "autoescape": select_autoescape(default=True, default_for_string=True),
    "undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True,
    "extensions": ("jinja2.ext.i18n",)}
"""The options that shape compiled templates (their cache is keyed by them)."""
CACHE_KEY_OPTIONS = {**ENVIRONMENT_OPTIONS, "autoescape": "everything"}
"""The options as the cache's key (the autoescape function as what it does)."""


def _environment(loader: FileSystemLoader, words: Localizer,
                 bytecode_cache: BytecodeCache | None) -> Environment:
    env = Environment(loader=loader, bytecode_cache=bytecode_cache, **ENVIRONMENT_OPTIONS)
    env.install_gettext_translations(words.translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        markdown=to_html,
        inline_markdown=to_inline_html,
        as_of=words.date,
        date=words.date,
        period=lambda period: format_period(period, words),
        country_name=lambda code: country_name(code, words),
        coordinates=lambda coordinates: format_coordinates(coordinates, words),
        tlp_slug=tlp_slug,
        defang=defang,
        language_name=lambda tag: language_name(tag, words),
        first_upper=first_upper,
        display_date=lambda item: display_date(item, words),
        likelihood=lambda term: words.gettext(LIKELIHOOD_TERMS[term]),
        probability=words.probability,
        confidence=lambda level: words.gettext(CONFIDENCE_LABELS[level]),
        figure_status=lambda status: words.label(FIGURE_STATUSES, status),
        reliability=lambda grade: words.gettext(RELIABILITY[grade]),
        credibility=lambda grade: words.gettext(CREDIBILITY[grade]),
        source_kind=lambda kind: words.gettext(SOURCE_KINDS[kind]),
        actor_kind=lambda kind: words.gettext(ACTOR_KINDS[kind]),
        indicator_type=lambda kind: words.gettext(INDICATOR_TYPES[kind]),
        say=lambda wording: wording.say(words),
    )
    env.globals.update(
        likelihood_scale=list(LIKELIHOOD_TERMS), indicator_exports=export_names,
        text_direction=words.direction, page_of_css=_css_template(words.gettext(PAGE_OF)),
        running_as_of_css=_css_template(words.gettext(RUNNING_AS_OF)),
        map_disclaimer=words.gettext(DISCLAIMER), map_data_source=words.gettext(MAP_DATA_SOURCE),
        gazetteer_note=words.gettext(GAZETTEER_NOTE) % {"gazetteer": GAZETTEER})
    return env


def _css_template(message: str) -> str:
    """'Page %(page)s of %(pages)s' as the value of a CSS ``content`` property, the
    placeholders as counters and strings: '"Page " counter(page) " of " counter(pages)'."""
    parts = re.split(r"%\((\w+)\)s", message)
    values = {"page": "counter(page)", "pages": "counter(pages)", "date": "string(as-of)"}
    return " ".join(values[part] if index % 2 else _css_string(part)
                    for index, part in enumerate(parts) if part)


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ") + '"'


def _language_links(translations: Sequence[Translation], current: str | None,
                    briefs_root: str) -> tuple[LanguageLink, ...]:
    return tuple(LanguageLink(version.language, native_name(version.language),
                              f"{briefs_root}{version.id}/index.html", version.id == current)
                 for version in translations)


def _stylesheets(root: str) -> list[Stylesheet]:
    return [Stylesheet(f"{root}assets/{name}", media) for name, media in SCREEN_STYLESHEETS]


def _archive_links(brief: Brief, verification: VerificationReport) -> dict[str, str]:
    """The published archive page of each source that has one, relative to the brief page
    (the PDF links none: it stands alone)."""
    folder = f"briefs/{brief.id}/"
    return {source.id: archive_page_path(brief.id, source.id).removeprefix(folder)
            for source in published_archives(brief, verification.archives)}


def brief_sections(brief: Brief, with_locator: bool) -> list[tuple[str, str]]:
    """The brief's sections, in page order, as (anchor, heading): the page's table of contents
    and the Word file's headings follow this one list;
    the template translates the headings."""
    present = [
        ("bottom-line", N_("Bottom line up front"), True),
        ("key-figures", N_("Key figures"), bool(brief.figures)),
        ("map", N_("Map"), brief.map_image is not None or with_locator),
        ("situation", N_("Situation summary"), True),
        ("timeline", N_("Timeline"), bool(brief.timeline)),
        ("quotes", N_("Quotes"), bool(brief.quotes)),
        ("assessment", N_("Assessment"), bool(brief.assessment)),
        ("outlook", N_("Outlook"), bool(brief.outlook)),
        ("gaps", N_("What we do not know"), bool(brief.gaps)),
        ("indicators", N_("Indicators"), bool(brief.indicators)),
        ("places-and-actors", N_("Places and actors"), bool(brief.places or brief.actors)),
        ("sources", N_("Source notes"), True),
        ("revisions", N_("Revision history"), bool(brief.revisions)),
    ]
    return [(anchor, heading) for anchor, heading, shown in present if shown]


CITING_PARTS = (("figures", "figure", N_("Key figure")), ("timeline", "timeline", N_("Timeline entry")),
                ("quotes", "quote", N_("Quote")), ("assessment", "assessment", N_("Assessment")),
                ("outlook", "outlook", N_("Outlook")), ("gaps", "gap", N_("Gap")),
                ("indicators", "indicator", N_("Indicator")))
"""Parts of a brief that cite sources: field, anchor prefix, label in back-links."""


@dataclass(frozen=True)
class BackLink:
    anchor: str
    label: str  # an English msgid, translated by the template
    number: str  # '3', or '[3]' for a source


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
                cited_by[source_id].append(BackLink(f"{prefix}-{number}", label, str(number)))
    for source in brief.sources:
        if source.via:
            cited_by[source.via].append(
                BackLink(f"source-{source.id}", N_("Source"), f"[{numbers[source.id]}]"))
    return cited_by


def _cited_sources(item: Any) -> list[str]:
    """The sources a part cites; a figure's include those of its estimates."""
    return item.all_sources if isinstance(item, Figure) else item.sources


ENGLISH = localizer("en")


def format_date(value: date | datetime | PartialDate | DateInterval, words: Localizer = ENGLISH) -> str:
    """Any date of a brief as the page reads it: '3 November 2026, 11:00 UTC+01:00',
    '14–17 March (year not stated)'. A time keeps the offset it was written with."""
    return words.date(value)


def display_date(item: Dated, words: Localizer = ENGLISH) -> str | None:
    """A dated item's date: '2 June 2026 (early Tuesday)', the words alone, or nothing."""
    if item.date and item.when:
        return f"{words.date(item.date)} ({item.when})"
    return item.when or (words.date(item.date) if item.date else None)


def format_period(period: Period, words: Localizer = ENGLISH) -> str:
    """'14–17 March 2026; note': a start and end read as one range where they can be."""
    start, end = period.start, period.end
    if isinstance(start, PartialDate) and isinstance(end, PartialDate):
        span = words.date(DateInterval(start, end))
    elif start and end:
        span = f"{words.date(start)} – {words.date(end)}"
    elif start:
        span = words.gettext(N_("From %(date)s")) % {"date": words.date(start)}
    elif end:
        span = words.gettext(N_("Until %(date)s")) % {"date": words.date(end)}
    else:
        span = ""
    return "; ".join(part for part in (span, period.note) if part)


def country_name(code: str, words: Localizer = ENGLISH) -> str:
    """The country's name in the reader's language; an exercise code (XA...) says so."""
    known = _iso_names(code)
    if known is None:
        return words.gettext(N_("Exercise area (%(code)s)")) % {"code": code}
    name, common_name = known
    if not words.english:
        return words.country(code) or name
    return common_name or name


@lru_cache(maxsize=1024)
def _iso_names(code: str) -> tuple[str, str | None] | None:
    """ISO 3166's name and common name of a country, looked up once per code (a site's
    list pages name a country for every brief)."""
    country = pycountry.countries.get(alpha_2=code)
    return None if country is None else (country.name, getattr(country, "common_name", None))


def format_coordinates(coordinates: tuple[float, float], words: Localizer = ENGLISH) -> str:
    """'16.77° N, 3.0° W': each number with the decimals the analyst wrote."""
    latitude, longitude = coordinates
    north, east = ("N" if latitude >= 0 else "S"), ("E" if longitude >= 0 else "W")
    return (f"{_degrees(latitude, words)}° {words.gettext(HEMISPHERES[north])}, "
            f"{_degrees(longitude, words)}° {words.gettext(HEMISPHERES[east])}")


def _degrees(value: float, words: Localizer) -> str:
    decimals = getattr(value, "decimals", None)  # model.Degrees; None when not known
    return words.number(abs(value), 3 if decimals is None else decimals)


def language_name(tag: str, words: Localizer = ENGLISH) -> str:
    """'fr' -> 'French', 'ar-SD' -> 'Arabic (ar-SD)'; a tag of no known language stays as written."""
    primary = tag.split("-")[0]
    if not words.english:
        name = words.language_name(tag)
        return tag if name is None else name if tag == primary else f"{name} ({tag})"
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
