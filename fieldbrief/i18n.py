"""Languages of the output: message catalogs, CLDR dates and numbers, text direction.

Used by the renderers (stage 4). In: a BCP 47 language tag (a brief's ``language``, or
the site's). Out: a :class:`Localizer` that translates the fixed words of the templates
and legends from ``fieldbrief/locale/<lang>/LC_MESSAGES/messages.po`` and writes dates,
numbers, country and language names with Babel's CLDR data. The ``.po`` files are the
only source: each is compiled in memory the first time its language is asked for, so
there is no compiled ``.mo`` to forget. A language without a catalog reads English
labels (its dates and names are still in its own language where CLDR knows it).
English keeps the house date style ('3 November 2026', :mod:`fieldbrief.model`), so
Babel's formatting and catalog modules (~25 ms to import: ``babel.dates`` reads the
system time zone) load only when another language asks for them.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, time
from functools import lru_cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError

from fieldbrief.model import LIKELIHOOD_SCALE, DateInterval, PartialDate

LOCALE_DIR = Path(__file__).parent / "locale"
CATALOG = "LC_MESSAGES/messages.po"
SOURCE_LANGUAGE = "en"
RTL_LANGUAGES = frozenset({"ar", "fa", "he", "ur", "ps", "sd", "ug", "yi", "dv", "ckb"})
"""Primary subtags of languages written right to left (CLDR's character order)."""


def N_(message: str) -> str:
    """Marks ``message`` for extraction into the catalogs; it is translated where shown."""
    return message


LIKELIHOOD_TERMS = {
    "almost no chance": N_("Almost no chance"), "very unlikely": N_("Very unlikely"),
    "unlikely": N_("Unlikely"), "roughly even chance": N_("Roughly even chance"),
    "likely": N_("Likely"), "very likely": N_("Very likely"),
    "almost certain": N_("Almost certain"),
}
"""ICD 203 likelihood terms as a label starts them; the model's keys stay English."""
CONFIDENCE_LABELS = {"low": N_("Low confidence"), "moderate": N_("Moderate confidence"),
                     "high": N_("High confidence")}
CONFIDENCE_LEVELS = {"low": N_("low"), "moderate": N_("moderate"), "high": N_("high")}
"""A confidence level alone, as a sentence names it ('confidence raised to moderate')."""
FIGURE_STATUSES = {
    "confirmed": N_("confirmed"), "confirmed by source": N_("confirmed by source"),
    "reported": N_("reported"), "claimed": N_("claimed"), "disputed": N_("disputed"),
}
RELIABILITY = {
    "A": N_("completely reliable"), "B": N_("usually reliable"), "C": N_("fairly reliable"),
    "D": N_("not usually reliable"), "E": N_("unreliable"), "F": N_("reliability cannot be judged"),
}
"""Admiralty (NATO AJP-2.1) reliability of a source."""
CREDIBILITY = {
    1: N_("confirmed by other sources"), 2: N_("probably true"), 3: N_("possibly true"),
    4: N_("doubtful"), 5: N_("improbable"), 6: N_("truth cannot be judged"),
}
"""Admiralty credibility of a piece of information."""
SOURCE_KINDS = {
    "news report": N_("news report"), "official statement": N_("official statement"),
    "press release": N_("press release"), "press conference": N_("press conference"),
    "interview": N_("interview"), "broadcast": N_("broadcast"),
    "social-media claim": N_("social-media claim"), "leak site": N_("leak site"),
    "advisory": N_("advisory"), "situation report": N_("situation report"),
    "field report": N_("field report"), "report": N_("report"),
    "academic paper": N_("academic paper"), "dataset": N_("dataset"),
    "satellite imagery": N_("satellite imagery"), "imagery": N_("imagery"), "other": N_("other"),
}
ACTOR_KINDS = {
    "armed group": N_("armed group"), "criminal group": N_("criminal group"),
    "state forces": N_("state forces"), "foreign military": N_("foreign military"),
    "government": N_("government"), "local authority": N_("local authority"),
    "international organisation": N_("international organisation"),
    "UN agency": N_("UN agency"), "humanitarian organisation": N_("humanitarian organisation"),
    "company": N_("company"), "civil society": N_("civil society"), "media": N_("media"),
    "population": N_("population"), "individual": N_("individual"), "other": N_("other"),
}
INDICATOR_TYPES = {
    "domain": N_("Domain"), "ip": N_("IP address"), "url": N_("URL"), "email": N_("Email"),
    "md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "file name": N_("File name"),
}
"""How each type of indicator is named; hash names are the same in every language."""
HEMISPHERES = {"N": N_("N"), "S": N_("S"), "E": N_("E"), "W": N_("W")}
YEAR_NOT_STATED = N_("(year not stated)")
PAGE_OF = N_("Page %(page)s of %(pages)s")
"""The running footer's page number; the placeholders become CSS counters."""
RUNNING_AS_OF = N_("As of %(date)s")
SKELETONS = {(True, True, True): "yMMMMd", (True, True, False): "yMMMM", (True, False, False): "y",
             (False, True, True): "MMMMd"}
"""CLDR skeleton of a date by which of (year, month, day) it has; a month alone is the
stand-alone month name (pattern LLLL), which CLDR gives no skeleton."""


def primary(tag: str) -> str:
    """'ar-SD' -> 'ar'."""
    return tag.split("-")[0].lower()


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / CATALOG


def catalog_languages() -> list[str]:
    """The languages that have a catalog, English (the source) first."""
    return [SOURCE_LANGUAGE, *sorted(path.parent.parent.name for path in LOCALE_DIR.glob(f"*/{CATALOG}"))]


def direction(tag: str) -> str:
    """'rtl' for a language written right to left, else 'ltr'."""
    return "rtl" if primary(tag) in RTL_LANGUAGES else "ltr"


@lru_cache(maxsize=None)
def translations(language: str) -> NullTranslations:
    """The catalog of ``language`` (a primary subtag), compiled in memory from its .po."""
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.is_file():
        return NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def native_name(tag: str) -> str:
    """A language's name in itself ('français', 'العربية'), for a language switcher."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name()
    except (ValueError, UnknownLocaleError):
        return tag
    return name[:1].upper() + name[1:] if name else tag


@lru_cache(maxsize=None)
def localizer(tag: str) -> Localizer:
    return Localizer(tag)


class Localizer:
    """Words, dates and names in one language, for one render."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.language = primary(tag)
        self.direction = direction(tag)
        self.translations = translations(self.language)
        try:
            self.locale: Locale | None = Locale.parse(tag.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            self.locale = None

    @property
    def english(self) -> bool:
        return self.language == SOURCE_LANGUAGE or self.locale is None

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def label(self, labels: dict[str, str], key: str | None) -> str:
        """``key``'s label from one of the tables above, translated; a key the table does
        not know (a value validation has not checked) as written."""
        return self.gettext(labels[key]) if key in labels else str(key)

    def date(self, value: date | datetime | PartialDate | DateInterval) -> str:
        """Any date of a brief in words: '23 novembre 2026', '2 juin (année non précisée)'."""
        if isinstance(value, (date, datetime)):
            value = PartialDate.of(value)
        if self.english:
            text = value.reading if isinstance(value, PartialDate) else _english_interval(value)
        else:
            text = self._point(value) if isinstance(value, PartialDate) else self._interval(value)
        yearless = (value.year if isinstance(value, PartialDate) else value.start.year) is None
        return f"{text} {self.gettext(YEAR_NOT_STATED)}" if yearless else text

    def _point(self, value: PartialDate) -> str:
        day = _skeleton(value, self.locale)
        if not value.clock:
            return day
        from babel.dates import format_time, get_datetime_format

        moment = f"{format_time(value.clock, 'HH:mm', locale=self.locale)} {_zone(value)}"
        return get_datetime_format("medium", locale=self.locale).replace("'", "").format(moment, day)

    def _interval(self, value: DateInterval) -> str:
        start, end = value.start, value.end
        if start == end:
            return self._point(start)
        same_shape = (start.month is None) == (end.month is None) and (start.day is None) == (end.day is None)
        if start.clock or end.clock or not same_shape:
            return f"{self._point(start)} – {self._point(end)}"
        shape = (start.year is not None, start.month is not None, start.day is not None)
        if shape not in SKELETONS:
            return f"{self._point(start)}–{self._point(end)}"
        from babel.dates import format_interval

        skeleton = SKELETONS[shape]
        return format_interval(start.first_day, end.last_day if not end.day else end.first_day,
                               skeleton, locale=self.locale)

    def number(self, value: float, decimals: int) -> str:
        if self.english:
            return f"{value:.{decimals}f}"
        from babel.numbers import format_decimal

        return format_decimal(value, format="0." + "0" * decimals if decimals else "0", locale=self.locale)

    def probability(self, likelihood: str) -> str:
        """An ICD 203 term's range: '55–80%', '55–80 %' in French."""
        low, high = (int(n) for n in re.findall(r"\d+", LIKELIHOOD_SCALE[likelihood]))
        if self.english:
            return LIKELIHOOD_SCALE[likelihood]
        from babel.numbers import format_decimal, format_percent

        return f"{format_decimal(low, locale=self.locale)}–{format_percent(high / 100, locale=self.locale)}"

    def country(self, code: str) -> str | None:
        """The country's name in this language, None for a code CLDR does not know."""
        names = (self.locale or Locale("en")).territories
        return names.get(code.upper())

    def language_name(self, tag: str) -> str | None:
        names = (self.locale or Locale("en")).languages
        return names.get(primary(tag))

    def month_year(self, day: date) -> str:
        if self.english:
            return PartialDate(day.year, day.month).reading
        from babel.dates import format_skeleton

        return format_skeleton("yMMMM", day, locale=self.locale)


def _skeleton(value: PartialDate, locale: Locale | None) -> str:
    from babel.dates import format_date, format_skeleton

    shape = (value.year is not None, value.month is not None, value.day is not None)
    if shape not in SKELETONS:
        return format_date(value.first_day, "LLLL", locale=locale)
    return format_skeleton(SKELETONS[shape], value.first_day, locale=locale)


def _zone(value: PartialDate) -> str:
    """'UTC+01:00' as the analyst wrote it, never converted (the model's English reading)."""
    return value.reading.rsplit(" ", 1)[-1]


def _english_interval(value: DateInterval) -> str:
    return str(value).removesuffix(" (year not stated)")
