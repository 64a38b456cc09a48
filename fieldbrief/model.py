"""Stage 3, model: the typed, frozen shape of a brief, and the rules of each field.

These pydantic models are both the schema that ``validate`` checks a loaded YAML
document against and the contract every later stage reads: no raw dicts travel
past validation. Field descriptions here are the reference documentation of the
brief format (the README's field table follows them).
"""

from __future__ import annotations

import calendar
import functools
import math
import re
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pycountry
from markupsafe import Markup
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field,
                      PlainSerializer, ValidationError, ValidatorFunctionWrapHandler, WithJsonSchema,
                      WrapValidator, model_validator)
from pydantic import Tag as UnionTag
from pydantic_core import InitErrorDetails, PydanticCustomError

from fieldbrief.errors import quoted
from fieldbrief.markup import to_html, to_inline_html, to_plain_text
from fieldbrief.resources import split_url

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def _check_id(value: str) -> str:
    if not re.fullmatch(ID_PATTERN, value) or len(value) > 80:
        raise ValueError(f"{quoted(value)} is not a valid id: use lowercase letters, digits and "
                         "single hyphens, at most 80 characters (e.g. 'mali-jnim-attacks')")
    return value


EXERCISE_COUNTRY = "ZZ"
"""A code ISO 3166-1 leaves for private use; fieldbrief uses it for fictional exercise areas."""


def _check_url(value: str) -> str:
    parts = split_url(value)
    if parts is None or not parts.hostname:
        raise ValueError(f"{quoted(value)} is not a well-formed web address "
                         "(e.g. https://example.org/report)")
    return value


def _check_country(value: str) -> str:
    known = re.fullmatch(r"[A-Z]{2}", value) and pycountry.countries.get(alpha_2=value)
    if not known and value != EXERCISE_COUNTRY:
        raise ValueError(f"{quoted(value)} is not an ISO 3166-1 alpha-2 country code (e.g. 'ML' "
                         "for Mali; ZZ for a fictional exercise area)")
    return value


def _number_as_text(value: Any) -> Any:
    """Let analysts write ``value: 30`` for a figure: it is kept as written (1_000 stays
    1_000, 0x10 stays 0x10), with the text the loader kept of the plain scalar."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return getattr(value, "written", str(value))
    return value


TAG_MAX_LENGTH = 60
"""A tag becomes the name of its page's folder (tags/<slug>/), so it is bounded."""


def _check_tag(value: str) -> str:
    if not re.search(r"[^\W_]", value):
        raise ValueError(f"{quoted(value)} needs a letter or digit: a tag names its page")
    return value


class Degrees(float):
    """A latitude or longitude, with the number of decimals the analyst wrote."""

    decimals: int | None  # None: not known (a number not written in decimal notation)

    def __new__(cls, value: float, decimals: int | None) -> Degrees:
        degrees = super().__new__(cls, value)
        degrees.decimals = decimals
        return degrees

    def __reduce__(self) -> tuple[Any, ...]:
        return (Degrees, (float(self), self.decimals))


MAX_DECIMALS = 10
"""Decimals shown at most: more than a float holds of a coordinate is noise."""


def _written_decimals(text: str) -> int | None:
    try:
        exponent = Decimal(text.replace("_", "")).as_tuple().exponent
    except InvalidOperation:  # sexagesimal (16:46:12), or not a number
        return None
    return min(MAX_DECIMALS, max(0, -exponent)) if isinstance(exponent, int) else None


def _not_yes_no(value: Any) -> Any:
    """Refuse true/false (also YAML's yes/no, on/off) where a number is expected:
    pydantic's lax mode would read them as 1 and 0."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_not_yes_no", "a number is expected, not a yes/no "
                                  "value (read as {value})", {"value": str(value).lower()})
    return value


NotYesNo = BeforeValidator(_not_yes_no)


def _keep_decimals(value: Any, handler: ValidatorFunctionWrapHandler) -> Degrees:
    """Validate a coordinate as a float, keeping the decimals of its written form.

    .nan and .inf are refused here: they compare false against any bound and would
    otherwise be refused with a misleading range."""
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("coordinate_finite", "a coordinate is a finite number of "
                                  "degrees, not {value}", {"value": getattr(value, "written", value)})
    number = handler(value)
    written = getattr(value, "written", value if isinstance(value, str) else None)
    return Degrees(number, _written_decimals(written) if written else None)


Id = Annotated[str, AfterValidator(_check_id), Field(json_schema_extra={"pattern": ID_PATTERN})]
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX_LENGTH), AfterValidator(_check_tag)]
Latitude = Annotated[float, Field(ge=-90, le=90), WrapValidator(_keep_decimals), NotYesNo]
Longitude = Annotated[float, Field(ge=-180, le=180), WrapValidator(_keep_decimals), NotYesNo]
CountryCode = Annotated[str, AfterValidator(_check_country),
                        Field(description="ISO 3166-1 alpha-2 code, e.g. ML")]
MAX_TEXT = 2000
"""Longest plain-text field: a long quote fits; a page of unbroken text in a name does not
(10,000 Thai characters in 'desk' took WeasyPrint over two minutes to lay out)."""
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Markdown = Annotated[str, Field(min_length=1, description="Markdown text")]


class _StatedByTheBrief:
    """Marks plain text a reader takes as the brief's own words (a title, what a figure
    counts, a judgement's condition), as opposed to names and bibliographic fields:
    phrases in quotation marks there are checked against the sources, as in Markdown."""


OwnWords = Annotated[Text, _StatedByTheBrief()]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                   description="BCP 47 language tag, e.g. en, fr, ar")]

Status = Literal["draft", "final"]
TlpLabel = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
TLP_ORDER: tuple[str, ...] = typing.get_args(TlpLabel)
"""The labels from least to most restricted."""
FigureStatus = Literal["confirmed", "confirmed by source", "reported", "claimed", "disputed"]
"""How the desk treats a figure: 'confirmed' only when sources independent of whoever gives
it agree; 'confirmed by source' when the figure's own source calls it confirmed."""
Confidence = Literal["low", "moderate", "high"]
LIKELIHOOD_SCALE = {
    "almost no chance": "1–5%", "very unlikely": "5–20%", "unlikely": "20–45%",
    "roughly even chance": "45–55%", "likely": "55–80%", "very likely": "80–95%",
    "almost certain": "95–99%",
}
"""ICD 203 likelihood terms and the probability each stands for."""
Likelihood = Literal[tuple(LIKELIHOOD_SCALE)]  # type: ignore[valid-type]
Reliability = Literal["A", "B", "C", "D", "E", "F"]
Credibility = Literal[1, 2, 3, 4, 5, 6]
SourceKind = Literal["news report", "official statement", "press release", "press conference",
                     "interview", "broadcast", "social-media claim", "leak site", "advisory",
                     "situation report", "field report", "report", "academic paper", "dataset",
                     "satellite imagery", "imagery", "other"]
PageSize = Literal["A4", "Letter"]
ActorKind = Literal["armed group", "criminal group", "state forces", "foreign military",
                    "government", "local authority", "international organisation", "UN agency",
                    "humanitarian organisation", "company", "civil society", "media",
                    "population", "individual", "other"]
Attribution = Literal["direct", "attributed"]
IndicatorType = Literal["domain", "ip", "url", "email", "md5", "sha1", "sha256", "file name"]

RELIABILITY_MEANING = {
    "A": "completely reliable", "B": "usually reliable", "C": "fairly reliable",
    "D": "not usually reliable", "E": "unreliable", "F": "reliability cannot be judged",
}
CREDIBILITY_MEANING = {
    1: "confirmed by other sources", 2: "probably true", 3: "possibly true",
    4: "doubtful", 5: "improbable", 6: "truth cannot be judged",
}


@dataclass(frozen=True)
class PartialDate:
    """A date known in full or in part (a year, a month, a day, a day whose year is not
    stated), and on a full day possibly a time of day with the offset the analyst wrote."""

    year: int | None
    month: int | None = None
    day: int | None = None
    clock: time | None = None  # the time of day, always with its offset; only on a full day

    @classmethod
    def of(cls, value: date | datetime) -> PartialDate:
        clock = value.timetz() if isinstance(value, datetime) else None
        return cls(value.year, value.month, value.day, clock)

    def __str__(self) -> str:
        """'3 November 2026, 04:10 UTC'; '14 March (year not stated)'."""
        return self.reading + ("" if self.year is not None else YEAR_NOT_STATED)

    @property
    def reading(self) -> str:
        """The date in words, without the note that the year is not stated."""
        words = _words(self.day, self.month, self.year)
        return f"{words}, {_clock(self.clock)} {_zone(self.clock)}" if self.clock else words

    @property
    def iso(self) -> str:
        """The ISO 8601 form: 2026-11-03T04:10Z, 2026-03, --03-14."""
        text = "-" if self.year is None else f"{self.year:04d}"
        text += f"-{self.month:02d}" if self.month else ""
        text += f"-{self.day:02d}" if self.day else ""
        if self.clock:
            offset = _zone(self.clock).removeprefix("UTC") or "Z"
            text += f"T{_clock(self.clock)}{offset}"
        return text

    @property
    def first_day(self) -> date:
        """The first day the date may mean (in the leap year 2000 when the year is not stated)."""
        return date(self.year or 2000, self.month or 1, self.day or 1)

    @property
    def last_day(self) -> date:
        year, month = self.year or 2000, self.month or 12
        return date(year, month, self.day or calendar.monthrange(year, month)[1])

    @property
    def moment(self) -> datetime | None:
        """The instant, for a date with a time of day."""
        return datetime.combine(self.first_day, self.clock) if self.clock else None


@dataclass(frozen=True)
class DateInterval:
    """An ISO 8601 interval of two dates, both with their year or both without it."""

    start: PartialDate
    end: PartialDate

    def __str__(self) -> str:
        """'14–17 March 2026', 'March–May 2026', '30 March – 2 April 2026'."""
        start, end = self.start, self.end
        if start == end:
            return str(start)
        if start.clock and end.clock and start.first_day == end.first_day \
                and start.clock.utcoffset() == end.clock.utcoffset():
            day = _words(start.day, start.month, start.year)
            text = f"{day}, {_clock(start.clock)}–{_clock(end.clock)} {_zone(end.clock)}"
        elif start.clock or end.clock:
            text = f"{start.reading} – {end.reading}"
        else:
            text = _collapsed(start, end)
        return text + ("" if start.year is not None else YEAR_NOT_STATED)

    @property
    def iso(self) -> str:
        return f"{self.start.iso}/{self.end.iso}"

    @property
    def first_day(self) -> date:
        return self.start.first_day

    @property
    def last_day(self) -> date:
        return self.end.last_day


YEAR_NOT_STATED = " (year not stated)"


def _words(day: int | None, month: int | None, year: int | None) -> str:
    parts = (str(day) if day else "", MONTHS[month - 1] if month else "", str(year) if year else "")
    return " ".join(part for part in parts if part)


def _clock(moment: time) -> str:
    return f"{moment:%H:%M}" + (f":{moment:%S}" if moment.second else "")


def _zone(moment: time) -> str:
    """'UTC', 'UTC+01:00', 'UTC-05:30': the offset as written, never converted."""
    offset = moment.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _collapsed(start: PartialDate, end: PartialDate) -> str:
    """Two dates without times, the start without the month and year it shares with the end."""
    same_year = start.year == end.year and start.month is not None
    same_month = same_year and start.month == end.month and bool(start.day and end.day)
    first = _words(start.day, None if same_month else start.month, None if same_year else start.year)
    last = _words(end.day, end.month, end.year)
    same_precision = (start.day is None) == (end.day is None) and (start.month is None) == (end.month is None)
    return f"{first}–{last}" if " " not in first and same_precision else f"{first} – {last}"


FIRST_YEAR, LAST_YEAR = 1000, 9999
"""Years a date may have, as written and, for a date-time with a time zone, in UTC: four
digits everywhere (the feed, the sort order), where 9999-12-31T23:59-23:00 has none."""
POINT = re.compile(
    r"^(?:(?P<year>\d{4})|-)(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
    r"(?:[Tt ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?"
    r"\s*(?P<zone>[Zz]|[+-]\d{2}(?::?\d{2})?)?)?$")
POINT_PATTERN = (r"(\d{4}|-)(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                 r"(Z|[+-]\d{2}(:?\d{2})?))?)?)?")
DATE_FORMS = ("write 2025-06-02, 2025-06, 2025, or --06-02 when the year is not stated; "
              "a time as 2025-06-02T06:30Z; a range as 2025-06-02/2025-06-05")
NO_OFFSET = "add Z for UTC or an offset such as +01:00"


def _as_text(value: Any) -> str:
    """A date value as text: as written, or as YAML's date or date-time would be written."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return getattr(value, "written", str(value))
    if not isinstance(value, str):
        raise ValueError("must be a date written as text")
    return value.strip()


def _parse_point(text: str, written: str) -> PartialDate:
    """One date, possibly partial, possibly with a time and its offset."""
    match = POINT.match(text)
    if not match or (match["year"] is None and match["month"] is None):
        raise ValueError(f"{quoted(written)} is not a date: {DATE_FORMS}")
    year, month, day = (int(match[name]) if match[name] else None for name in ("year", "month", "day"))
    try:
        date(year or 2000, month or 1, day or 1)
    except ValueError as error:
        raise ValueError(f"{quoted(written)} is not a real date ({error})") from None
    clock = _parse_time(match, written) if match["hour"] else None
    if clock and day is None:
        raise ValueError(f"{quoted(written)} has a time but no day: write the full date, "
                         "e.g. 2025-06-02T06:30Z")
    point = PartialDate(year, month, day, clock)
    _check_year(point, written)
    return point


def _parse_time(match: re.Match[str], written: str) -> time:
    hour, minute, second = (int(match[name] or 0) for name in ("hour", "minute", "second"))
    for value, limit, name in ((hour, 23, "hour"), (minute, 59, "minutes"), (second, 59, "seconds")):
        if value > limit:
            raise ValueError(f"{quoted(written)} is not a real time (the {name} must be 00 to {limit})")
    if match["zone"] is None:
        raise ValueError(f"{quoted(written)} has a time without an offset; {NO_OFFSET}")
    zone = match["zone"]
    offset = timedelta(0)
    if zone not in "Zz":
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"{quoted(written)} is not a real date (a time zone offset "
                             "must be under 24 hours)")
        offset = (1 if zone[0] == "+" else -1) * timedelta(hours=hours, minutes=minutes)
    microsecond = int((match["fraction"] or "0").ljust(6, "0"))
    return time(hour, minute, second, microsecond, tzinfo=timezone(offset))


def _check_year(value: PartialDate, written: str) -> None:
    years = f"the years {FIRST_YEAR} to {LAST_YEAR}"
    if value.year is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{quoted(written)} is outside {years}")
    if value.year is not None and value.moment is not None:
        try:
            in_utc = value.moment.astimezone(timezone.utc).year
        except OverflowError:
            in_utc = 0
        if not FIRST_YEAR <= in_utc <= LAST_YEAR:
            raise ValueError(f"{quoted(written)} is outside {years} in UTC")


def _parse_date_or_interval(value: Any) -> PartialDate | DateInterval:
    """A date, possibly partial or with a time, or an interval of two such dates."""
    if isinstance(value, (PartialDate, DateInterval)):
        return value
    text = _as_text(value)
    if text.count("/") != 1:
        return _parse_point(text, text)
    start, end = (_parse_point(part.strip(), text) for part in text.split("/"))
    _check_range(start, end, quoted(text))
    return DateInterval(start, end)


def _check_range(start: PartialDate | DateInterval, end: PartialDate | DateInterval,
                 shown: str) -> None:
    """Refuse a range with the year of one end only, or that ends before it starts
    (compared as instants when both ends have a time, else by the days they may mean)."""
    first = start.start if isinstance(start, DateInterval) else start
    last = end.end if isinstance(end, DateInterval) else end
    if (first.year is None) != (last.year is None):
        raise ValueError(f"{shown} gives the year of one end only; write both years "
                         "(2025-06-02/2025-06-05) or neither (--06-02/--06-05)")
    if first.moment and last.moment and first.year is not None:
        backwards = last.moment < first.moment
    else:
        backwards = last.last_day < first.first_day
    if backwards:
        hint = "" if first.year is not None else " (a range across a new year needs its years)"
        raise ValueError(f"{shown} ends before it starts; put the earlier date first{hint}")


def _date_or_time(value: Any) -> date | datetime:
    """A full date, or a date and time with its offset: a moment the site can order briefs
    by ('2026-11-02', quoted or not, or in the JSON of a manifest, stays a date)."""
    text = _as_text(value)
    canonical = _canonical_date_or_time(text)
    return canonical if canonical is not None else _full_date_or_time(text)


CANONICAL_MOMENT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
                              r"(?:T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{6})?(?:Z|[+-][0-9]{2}:[0-9]{2}))?")
"""A full date or date-time as pydantic writes one: the ``as_of`` of every card in the
build records has this form, and every build reads them all again."""


def _canonical_date_or_time(text: str) -> date | datetime | None:
    """``text`` read by the standard library when it has the :data:`CANONICAL_MOMENT` form
    and is a moment :func:`_full_date_or_time` accepts (which it then gives, at a fifth of
    the cost); None for anything else, which that function reads (or refuses) instead.

    A year strictly between the first and the last allowed stays within them in UTC too
    (an offset is under a day); the edge years are left to the full reading."""
    if not CANONICAL_MOMENT.fullmatch(text):
        return None
    try:
        moment = datetime.fromisoformat(text) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None
    return moment if FIRST_YEAR < moment.year < LAST_YEAR else None


def _full_date_or_time(text: str) -> date | datetime:
    if "/" in text:
        raise ValueError(f"{quoted(text)} is a range; this field takes one date, or a date and "
                         "time (e.g. 2025-06-02T06:30Z)")
    point = _parse_point(text, text)
    if point.year is None or point.day is None:
        raise ValueError(f"{quoted(text)} is not a full date; write it as 2025-06-02 "
                         "(or 2025-06-02T06:30Z)")
    return point.moment or point.first_day


def _iso(value: PartialDate | DateInterval) -> str:
    return value.iso


DateOrTime = Annotated[
    datetime | date, BeforeValidator(_date_or_time),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?"
                                                 r"(Z|[+-]\d{2}(:?\d{2})?))?$",
                    "description": "2025-06-02, or 2025-06-02T06:30Z (a time needs Z or an "
                                   "offset such as +01:00)"}, mode="validation"),
]
FuzzyDate = Annotated[
    PartialDate | DateInterval, BeforeValidator(_parse_date_or_interval),
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": rf"^{POINT_PATTERN}(/{POINT_PATTERN})?$",
                    "description": "2025-06-02, 2025-06, 2025, --06-02 (year not stated), "
                                   "2025-06-02T06:30Z or 2025-06-02T08:30+02:00 (a time needs "
                                   "Z or an offset), or a range: 2025-06-02/2025-06-05"}),
]


MAX_CITED = 50
CITED = f"ids of sources, at most {MAX_CITED}"
"""Lists are bounded (the numbers are in each field's description) so that the work
and the pages a brief makes stay bounded too."""


class Strict(BaseModel):
    """Base of every part of a brief: unknown fields are errors, values are frozen.

    Every model here builds its validator when first used (``defer_build``), not at
    import: the same validator, but a build that validates no brief never pays for it."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True, defer_build=True)


class Dated(Strict):
    """Something dated in full, in part, only in words, or (where allowed) not at all."""

    date: FuzzyDate | None = Field(None, description="ISO 8601 date, possibly partial, with a "
                                                     "time and offset, or an interval")
    when: Text | None = Field(None, description="the date in words as the source gives it, "
                                                "e.g. 'early Tuesday, date not given'")

    @property
    def display_date(self) -> str | None:
        if self.date and self.when:
            return f"{self.date} ({self.when})"
        return self.when or (str(self.date) if self.date else None)


class Period(Strict):
    start: FuzzyDate | None = None
    end: FuzzyDate | None = None
    note: Text | None = Field(None, description="what the dates leave out, in words")

    @model_validator(mode="after")
    def _not_empty(self) -> Period:
        if self.start is None and self.end is None and self.note is None:
            raise ValueError("give 'start', 'end' or 'note'")
        if self.start is not None and self.end is not None:
            _check_range(self.start, self.end, f"the period {self.start.iso} to {self.end.iso}")
        return self


class Revision(Strict):
    date: DateOrTime = Field(description="the day, or day and time with its offset, of the change")
    change: Text


FigureValue = Annotated[Text, BeforeValidator(_number_as_text), WithJsonSchema(
    {"type": ["string", "number"], "description": "the figure as written, e.g. '80+', "
                                                   "'at least 30'"})]
MAX_ESTIMATES = 8


class Estimate(Strict):
    """One source's (or party's) figure for a quantity that sources give differently."""

    value: FigureValue
    claimed_by: Id | None = Field(None, description="id of the actor who gives this figure")
    status: FigureStatus
    sources: list[Id] = Field(min_length=1, max_length=MAX_CITED, description=CITED)
    as_of: FuzzyDate | None = Field(None, description="when this figure held, if the "
                                                      "source says; possibly partial")
    note: Markdown | None = None


def _estimates_to_compare(estimates: list[Estimate]) -> list[Estimate]:
    if len(estimates) < 2:
        raise ValueError(f"has {len(estimates)} estimate(s); 'estimates' is for sources that "
                         "differ, so give at least 2, or write the figure in the flat form "
                         "('value', 'status' and 'sources' on the figure itself)")
    return estimates


FLAT_FIELDS = ("value", "status", "sources")
"""What a figure gives itself in the flat form, and each estimate gives instead."""


KEY_DESCRIPTION = ("a stable id for following this item from one issue of a series to the "
                   "next (unique in the brief), e.g. displaced")


class Figure(Strict):
    """A key figure: one value (the flat form), or the differing values of its sources."""

    key: Id | None = Field(None, description=KEY_DESCRIPTION)
    value: FigureValue | None = Field(None, description="required unless 'estimates' is given")
    counts: OwnWords = Field(description="what the figure counts")
    claimed_by: Id | None = Field(None, description="id of the actor who gives it")
    status: FigureStatus | None = Field(None, description="required unless 'estimates' is given")
    sources: list[Id] = Field([], max_length=MAX_CITED, description=(
        f"{CITED}; at least 1 unless 'estimates' is given"))
    as_of: FuzzyDate | None = Field(None, description="when the figure held, possibly partial")
    estimates: Annotated[list[Estimate], AfterValidator(_estimates_to_compare)] = Field(
        [], max_length=MAX_ESTIMATES, json_schema_extra={"minItems": 2}, description=(
            f"2 to {MAX_ESTIMATES} differing figures for the same quantity, shown side by "
            "side; the figure then gives no 'value', 'status', 'sources' or 'claimed_by'"))
    note: Markdown | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Figure:
        """Flat or with estimates, never both, each problem at the field it is about."""
        given = self.model_fields_set
        if self.estimates:
            wrong = [(name, f"remove {quoted(name)}: a figure with 'estimates' gives it in each "
                            "estimate") for name in (*FLAT_FIELDS, "claimed_by") if name in given]
        else:
            wrong = [(name, "required field is missing (or give 'estimates')")
                     for name in FLAT_FIELDS if name not in given]
            if "sources" in given and not self.sources:
                wrong.append(("sources", "needs at least 1 item(s), has 0"))
        if wrong:
            raise ValidationError.from_exception_data("Figure", [InitErrorDetails(
                type=PydanticCustomError("figure_form", message), loc=(name,),
                input=getattr(self, name)) for name, message in wrong])
        return self

    @property
    def all_sources(self) -> list[str]:
        """The sources the figure cites, its estimates' included, each once."""
        nested = [ref for estimate in self.estimates for ref in estimate.sources]
        return list(dict.fromkeys([*self.sources, *nested]))


class TimelineEntry(Dated):
    key: Id | None = Field(None, description=(
        "a stable id for the entry across the issues of a series; without one, an entry is "
        "the same as in the previous issue when its date and text are"))
    text: Markdown
    places: list[Id] = Field([], max_length=MAX_CITED, description=f"at most {MAX_CITED} ids")
    sources: list[Id] = Field(min_length=1, max_length=MAX_CITED, description=CITED)

    @model_validator(mode="after")
    def _needs_a_date(self) -> TimelineEntry:
        if self.date is None and self.when is None:
            raise ValueError("give 'date', 'when' (the date in words), or both")
        return self


class Place(Strict):
    id: Id
    name: Text
    country: CountryCode
    also_known_as: list[Text] = Field([], max_length=20, description=(
        "other names and spellings, e.g. [Tombouctou] for Timbuktu; at most 20"))
    admin_area: Text | None = Field(None, description="the district or region it lies in")
    coordinates: tuple[Latitude, Longitude] | None = Field(
        None, description="[latitude, longitude] in decimal degrees, shown with the "
                          "decimals written")
    locate: Literal["gazetteer"] | None = Field(None, description=(
        "'gazetteer': the sources give no position, so the map marks the place where the "
        "GeoNames gazetteer puts its name (or an 'also_known_as' name) in its country, "
        "labelled as the gazetteer's position, not the sources'"))
    note: Markdown | None = None

    @model_validator(mode="after")
    def _locate_only_without_coordinates(self) -> Place:
        if self.locate is not None and self.coordinates is not None:
            raise ValidationError.from_exception_data("Place", [InitErrorDetails(
                type=PydanticCustomError("locate_with_coordinates", (
                    "remove 'locate': the place has coordinates from the sources, and the "
                    "map uses them")), loc=("locate",), input=self.locate)])
        return self


class Actor(Strict):
    id: Id
    name: Text
    short_name: Text | None = None
    kind: ActorKind
    affiliation: Text | None = None
    note: Markdown | None = None


class Quote(Dated):
    """Exact words. Reported speech is not a quote: put it in the summary or timeline."""

    text: Text = Field(description="the exact words, in the language given by 'language'")
    speaker: Text
    role: Text | None = None
    actor: Id | None = Field(None, description="id of the actor the speaker speaks for")
    context: Markdown | None = None
    language: LanguageTag
    translation: Text | None = None
    translated_by: Text | None = Field(None, description=(
        "who translated: the 'translation', or, without one, the words as the source gives them"))
    attribution: Attribution = Field("direct", description=(
        "'attributed' when the source attributes the words to the speaker without showing "
        "them saying it (a statement ascribed to a group, a claim relayed by others)"))
    source: Id | None = Field(None, description="id of the source that prints these words")
    note: Markdown | None = None

    @property
    def sources(self) -> list[str]:
        """The quote's source, in the shape other cited items have."""
        return [self.source] if self.source else []


def _date_as_text(value: Any) -> Any:
    """Let analysts write ``horizon: 2026-11-10`` unquoted: kept as the ISO date it is."""
    return value.isoformat() if isinstance(value, date) else value


class NotQuotation(Strict):
    """A phrase the brief's prose puts in quotation marks that is not a source's words."""

    phrase: Text = Field(description=(
        "the words between the quotation marks, as written in the prose (a scare quote, "
        "the title of a work)"))
    reason: Text = Field(description="why it is not a quotation, shown in the audit report")


class Statement(Strict):
    """A judgement of the assessment or outlook."""

    key: Id | None = Field(None, description=(
        "a stable id for the judgement across the issues of a series, so that a reworded "
        "judgement is still compared with its earlier self; without one, its text is"))
    text: Markdown
    confidence: Confidence = Field(description="how good the sources and reasoning are")
    likelihood: Likelihood | None = Field(None, description="ICD 203 term: how probable")
    horizon: Annotated[Text, BeforeValidator(_date_as_text)] | None = Field(
        None, description="when the judgement is for, in words or as a date: 'within two "
                          "weeks', 'by 2026-11-10'")
    condition: OwnWords | None = Field(None, description="what the judgement depends on: 'if "
                                                     "water and sanitation access is not restored'")
    sources: list[Id] = Field([], max_length=MAX_CITED, description=CITED)

    @property
    def probability(self) -> str | None:
        """The likelihood's range on the ICD 203 scale, e.g. '55–80%'."""
        return LIKELIHOOD_SCALE[self.likelihood] if self.likelihood else None


class Gap(Strict):
    """Something not known that matters, and the sources that show it is missing."""

    text: Markdown
    sources: list[Id] = Field([], max_length=MAX_CITED, description=CITED)


def _gap_form(value: Any) -> str:
    return "item" if isinstance(value, dict) else "text"


def _as_gap(value: Gap | str) -> Gap:
    return Gap(text=value) if isinstance(value, str) else value


GapItem = Annotated[Annotated[Gap, UnionTag("item")] | Annotated[Markdown, UnionTag("text")],
                    Discriminator(_gap_form), AfterValidator(_as_gap)]


class Source(Strict):
    id: Id
    title: Text
    original_title: Text | None = Field(None, description=(
        "the title in the source's own language, when 'title' is a translation"))
    publisher: Text
    kind: SourceKind = Field(description=(
        "what the source is: 'broadcast' is radio or TV; 'leak site' a site where a group "
        "publishes stolen data or claims; 'advisory' a security or travel advisory; "
        "'imagery' photos or video, 'satellite imagery' images from orbit"))
    language: LanguageTag | None = Field(None, description="the language the source is in")
    author: Text | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$"), AfterValidator(_check_url)] | None = None
    published: FuzzyDate | None = None
    accessed: DateOrTime | None = None
    via: Id | None = Field(None, description="id of the source that reports this one")
    archive: Text | None = Field(None, description=(
        "the source's text as obtained: a file under the project's sources/ folder "
        "(plain text, Markdown, HTML or PDF), e.g. sources/article.txt; published only "
        "with 'publish_archive: true'"))
    archived: DateOrTime | None = Field(None, description="when the archived copy was made")
    publish_archive: bool = Field(False, description=(
        "publish the archived text as a page of the site, with the verified quotes "
        "highlighted; only with the permission of the source's owner (archives are often "
        "copyrighted)"))
    reliability: Reliability
    credibility: Credibility
    notes: Markdown | None = None

    @model_validator(mode="after")
    def _archive_to_publish(self) -> Source:
        if self.publish_archive and self.archive is None:
            raise ValidationError.from_exception_data("Source", [InitErrorDetails(
                type=PydanticCustomError("archive_to_publish", "there is no archive to publish: "
                                         "add 'archive: sources/<file>' or remove this field"),
                loc=("publish_archive",), input=True)])
        return self

    @property
    def grade(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @property
    def grade_meaning(self) -> str:
        return (f"{RELIABILITY_MEANING[self.reliability]}; "
                f"{CREDIBILITY_MEANING[self.credibility]}")


class Indicator(Strict):
    """A technical indicator (of compromise, or of a campaign), shown defanged and never linked."""

    type: IndicatorType = Field(description=(
        "domain, ip (IPv4 or IPv6 address, or network as 192.0.2.0/24), url, email, "
        "md5, sha1, sha256 (file hashes), or file name"))
    value: Annotated[Text, BeforeValidator(_number_as_text)] = Field(description=(
        "the indicator as it is, not defanged: example.com, http://example.com/x (fieldbrief "
        "defangs it); a hash of digits only is kept as written"))
    note: Markdown | None = None
    sources: list[Id] = Field(min_length=1, max_length=MAX_CITED, description=CITED)


class Map(Strict):
    """A situation map or other image shown after the key figures."""

    image: Text = Field(description="a file under the project's assets/ folder "
                                    "(assets/maps/x.png), or an https URL on a host "
                                    "listed in allowed_hosts of site.yaml")
    alt: Text = Field(description="what the image shows, for readers who cannot see it")
    caption: Markdown | None = None
    credit: Text = Field(description="who made the image, and from what data")


def _map_form(value: Any) -> str:
    return "image" if isinstance(value, (dict, Map)) else "off"


MapChoice = Annotated[Annotated[Map, UnionTag("image")] | Annotated[Literal["none"], UnionTag("off")],
                      Discriminator(_map_form)]


class Brief(Strict):
    """One situation brief: everything an analyst writes in one YAML file."""

    id: Id = Field(description="becomes the URL and file names")
    title: OwnWords
    short_title: OwnWords | None = Field(None, description="for running headers; defaults to title")
    subtitle: OwnWords | None = None
    as_of: DateOrTime = Field(description="date, or date and time with its offset, the brief "
                                          f"is current to (years {FIRST_YEAR} to {LAST_YEAR}; "
                                          "one moment, not a range: it orders the feed)")
    period: Period | None = None
    countries: list[CountryCode] = Field(min_length=1, max_length=30, description="1 to 30")
    region: Text | None = None
    tags: list[Tag] = Field([], max_length=20, description=(
        f"at most 20, each at most {TAG_MAX_LENGTH} characters with a letter or digit "
        "(a tag names its page)"))
    language: LanguageTag = "en"
    translation_of: Id | None = Field(None, description=(
        "id of the brief this one translates: the two pages link to each other and the "
        "site's lists show them as one entry"))
    authors: list[Text] = Field([], max_length=20, description="at most 20")
    desk: Text | None = None
    status: Status
    series: Id | None = Field(None, description=(
        "id of the series this brief is an issue of, declared in series/<id>.yaml"))
    number: Annotated[int, Field(ge=1, le=100_000), NotYesNo] | None = Field(None, description=(
        "the issue's number in its series: 1, 2, 3 … with no gap"))
    next_update: Annotated[Text, BeforeValidator(_date_as_text)] | None = Field(
        None, description="when the next issue is due: a date or words ('on or around 28 August')")
    tlp: TlpLabel | None = Field(None, description="handling label; default: the site's")
    handling_note: Text | None = Field(None, description="extra restriction shown beside the TLP label")
    page_size: PageSize | None = Field(None, description="PDF page size; default: the site's (A4)")
    revisions: list[Revision] = Field([], max_length=100, description="at most 100")
    bluf: list[Markdown] = Field(min_length=2, max_length=5, description="bottom line up front: 2 to 5 points")
    summary: Markdown
    figures: list[Figure] = Field([], max_length=50, description="at most 50")
    map: MapChoice | None = Field(None, description=(
        "the analyst's own map image, shown instead of the generated locator map; 'none' "
        "turns the generated map off"))
    timeline: list[TimelineEntry] = Field([], max_length=500, description="at most 500")
    places: list[Place] = Field([], max_length=200, description="at most 200")
    actors: list[Actor] = Field([], max_length=200, description="at most 200")
    quotes: list[Quote] = Field([], max_length=100, description="at most 100")
    not_quotations: list[NotQuotation] = Field([], max_length=100, description=(
        "phrases in quotation marks in the prose that are not a source's words, each with "
        "its reason, at most 100: they are not checked against the archives"))
    assessment: list[Statement] = Field([], max_length=50, description="at most 50")
    outlook: list[Statement] = Field([], max_length=50, description="at most 50")
    gaps: list[GapItem] = Field([], max_length=50, description=(
        "what is not known and matters, at most 50: Markdown text, or {text, sources}"))
    indicators: list[Indicator] = Field([], max_length=500, description=(
        "technical indicators, at most 500; exported as STIX 2.1 and CSV beside the PDF"))
    sources: list[Source] = Field(min_length=1, max_length=500, description="1 to 500")

    @model_validator(mode="after")
    def _has_an_author(self) -> Brief:
        if not self.authors and self.desk is None:
            raise ValueError("give 'authors', 'desk', or both")
        return self

    @model_validator(mode="after")
    def _series_and_keys(self) -> Brief:
        """An issue gives its series and its number together; keys are unique in a list."""
        wrong: list[tuple[tuple[str | int, ...], str]] = []
        if (self.series is None) != (self.number is None):
            given, missing = ("series", "number") if self.number is None else ("number", "series")
            wrong.append(((given,), f"{quoted(missing)} is missing: an issue of a series "
                                    "gives both its series and its number"))
        if self.next_update is not None and self.series is None:
            wrong.append((("next_update",), "only an issue of a series has a next update; "
                                            "add 'series' and 'number'"))
        for field in ("figures", "timeline", "assessment", "outlook"):
            wrong.extend(_duplicate_keys(field, getattr(self, field)))
        if wrong:
            raise ValidationError.from_exception_data("Brief", [InitErrorDetails(
                type=PydanticCustomError("series_form", message), loc=loc, input=None)
                for loc, message in wrong])
        return self

    @property
    def prepared_by(self) -> str:
        return ", ".join(([self.desk] if self.desk else []) + self.authors)

    @property
    def header_title(self) -> str:
        return self.short_title or self.title

    @property
    def map_image(self) -> Map | None:
        """The analyst's own map, if the brief gives one."""
        return self.map if isinstance(self.map, Map) else None

    @property
    def wants_locator_map(self) -> bool:
        """A generated map, unless the analyst gives one, turns it off, or the brief is
        about a fictional exercise area (which no base map has)."""
        return self.map is None and EXERCISE_COUNTRY not in self.countries

    @property
    def located_places(self) -> list[LocatedPlace]:
        return [LocatedPlace(name=place.name, country=place.country, latitude=place.coordinates[0],
                             longitude=place.coordinates[1])
                for place in self.places if place.coordinates is not None]

    @property
    def as_of_date(self) -> date:
        return self.as_of.date() if isinstance(self.as_of, datetime) else self.as_of


FieldPath = tuple[str | int, ...]


def markdown_fields(part: BaseModel) -> Iterator[tuple[FieldPath, str]]:
    """Every Markdown field of ``part`` (a brief) with its path, in the model's order."""
    return _fields_typed(Markdown, part, ())


def own_words_fields(part: BaseModel) -> Iterator[tuple[FieldPath, str]]:
    """Every plain-text field of ``part`` typed :data:`OwnWords`, with its path."""
    return _fields_typed(OwnWords, part, ())


def _fields_typed(kind: object, part: BaseModel, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    names = _names_typed(kind, type(part))
    for name in type(part).model_fields:
        value = getattr(part, name)
        values = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for index, item in values:
            where = path + ((name,) if index is None else (name, index))
            if isinstance(item, BaseModel):
                yield from _fields_typed(kind, item, where)
            elif isinstance(item, str) and name in names:
                yield where, item


@functools.cache
def _names_typed(kind: object, model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` typed ``kind`` (alone, optional, or in a list)."""
    hints = typing.get_type_hints(model, include_extras=True)
    return frozenset(name for name in model.model_fields
                     if hints[name] == kind or kind in typing.get_args(hints[name]))


def _duplicate_keys(field: str, items: list[Any]) -> list[tuple[tuple[str | int, ...], str]]:
    first: dict[str, int] = {}
    wrong = []
    for index, item in enumerate(items):
        if item.key is None:
            continue
        if item.key in first:
            wrong.append(((field, index, "key"), f"key {quoted(item.key)} is used twice "
                                                  f"(first at {field}[{first[item.key]}])"))
        first.setdefault(item.key, index)
    return wrong


class SeriesDeclaration(Strict):
    """A series of numbered issues, declared once in ``series/<series-id>.yaml``."""

    title: Text = Field(description="the series' name, e.g. 'Velande delta floods: situation reports'")
    desk: Text = Field(description="who publishes the series")
    cadence: Text = Field(description="how often an issue comes, in words: 'weekly', 'every Monday'")
    description: Markdown | None = None


class LocatedPlace(BaseModel):
    """A place with the position its sources give, as the site's country maps need it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    country: str
    latitude: float
    longitude: float


class BriefCard(BaseModel):
    """What the site-wide pages (index, listings, feed) need to know of a brief.

    Small and JSON-friendly: the build keeps one per brief in its manifest, so the
    site's pages can be rebuilt without reading every brief again.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    title: str
    subtitle: str | None
    as_of: DateOrTime
    countries: list[str]
    tags: list[str]
    tlp: TlpLabel
    handling_note: str | None
    status: Status
    prepared_by: str
    language: str = "en"
    translation_of: str | None = None
    updated: datetime  # the latest of as_of and the revision dates, for feeds
    published: datetime  # the earliest of them
    lede_html: str  # the first BLUF point, as sanitised HTML
    bluf_text: str  # all BLUF points, as plain text
    summary_html: str  # the summary, as sanitised HTML
    series: str | None = None  # the series it is an issue of, and its number there
    number: int | None = None


    places: list[LocatedPlace] = []  # places with coordinates, for the country pages' maps

    @classmethod
    def of(cls, brief: Brief) -> BriefCard:
        moments = [_moment(brief.as_of), *(_moment(revision.date) for revision in brief.revisions)]
        return cls(id=brief.id, title=brief.title, subtitle=brief.subtitle, as_of=brief.as_of,
                   countries=brief.countries, tags=brief.tags, tlp=brief.tlp or "TLP:CLEAR",
                   handling_note=brief.handling_note, status=brief.status,
                   prepared_by=brief.prepared_by, language=brief.language,
                   translation_of=brief.translation_of, updated=max(moments), published=min(moments),
                   lede_html=str(to_inline_html(brief.bluf[0])),
                   bluf_text=" ".join(to_plain_text(point) for point in brief.bluf),
                   summary_html=str(to_html(brief.summary)),
                   series=brief.series, number=brief.number, places=brief.located_places)

    @property
    def lede(self) -> Markup:
        return Markup(self.lede_html)  # sanitised when the card was made

    @property
    def summary_markup(self) -> Markup:
        return Markup(self.summary_html)  # sanitised when the card was made

    @property
    def as_of_date(self) -> date:
        return self.as_of.date() if isinstance(self.as_of, datetime) else self.as_of

    @property
    def as_of_moment(self) -> datetime:
        return _moment(self.as_of)


class KeyedFigure(BaseModel):
    """A figure with a key, as a series compares it."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    key: str
    counts: str
    value: str  # as written; the estimates' values joined when sources differ


class Judgement(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    section: str  # assessment or outlook
    index: int  # 1-based, as the page numbers it
    identity: str  # its key, or its text
    text: str  # plain text, for the box
    likelihood: str | None
    confidence: str


class SourceFact(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    id: str
    title: str


class IssueFacts(BaseModel):
    """What the series stage needs of one issue: small, and kept in the build record
    beside the card (see fieldbrief.series)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    positions: dict[str, tuple[int, int]]  # of series, number and as_of, for errors
    next_update: str | None
    figures: list[KeyedFigure]
    timeline: list[str]  # one identity per entry, in page order
    judgements: list[Judgement]
    sources: list[SourceFact]


def _moment(value: date | datetime) -> datetime:
    """A date or date-time as an aware date-time (dates at midnight UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time(0, 0), timezone.utc)
