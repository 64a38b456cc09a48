"""Stage 3, model: the typed, frozen shape of a brief, and the rules of each field.

These pydantic models are both the schema that ``validate`` checks a loaded YAML
document against and the contract every later stage reads: no raw dicts travel
past validation. Field descriptions here are the reference documentation of the
brief format (the README's field table follows them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pycountry
import yaml
from markupsafe import Markup
from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      ValidatorFunctionWrapHandler, WithJsonSchema, WrapValidator,
                      model_validator)

from fieldbrief.errors import quoted
from fieldbrief.markup import to_html, to_inline_html, to_plain_text

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


def _keep_decimals(value: Any, handler: ValidatorFunctionWrapHandler) -> Degrees:
    """Validate a coordinate as a float, keeping the decimals of its written form."""
    number = handler(value)
    written = getattr(value, "written", value if isinstance(value, str) else None)
    return Degrees(number, _written_decimals(written) if written else None)


Id = Annotated[str, AfterValidator(_check_id), Field(json_schema_extra={"pattern": ID_PATTERN})]
Tag = Annotated[str, Field(min_length=1, max_length=TAG_MAX_LENGTH), AfterValidator(_check_tag)]
Latitude = Annotated[float, Field(ge=-90, le=90), WrapValidator(_keep_decimals)]
Longitude = Annotated[float, Field(ge=-180, le=180), WrapValidator(_keep_decimals)]
CountryCode = Annotated[str, AfterValidator(_check_country),
                        Field(description="ISO 3166-1 alpha-2 code, e.g. ML")]
Text = Annotated[str, Field(min_length=1)]
Markdown = Annotated[str, Field(min_length=1, description="Markdown text")]
LanguageTag = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
                                   description="BCP 47 language tag, e.g. en, fr, ar")]

Status = Literal["draft", "final"]
TlpLabel = Literal["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]
FigureStatus = Literal["confirmed", "reported", "claimed", "disputed"]
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
PdfVariant = Literal["pdf/a-3b", "pdf/ua-1"]
PDF_VARIANTS: tuple[PdfVariant, ...] = ("pdf/a-3b", "pdf/ua-1")
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
    """A date known only in part: a year, a month, a day, or a day whose year is not stated."""

    year: int | None
    month: int | None = None
    day: int | None = None

    def __str__(self) -> str:
        parts = [str(self.day) if self.day else "", MONTHS[self.month - 1] if self.month else ""]
        text = " ".join(part for part in parts if part)
        if self.year is None:
            return f"{text} (year not stated)"
        return f"{text} {self.year}".strip()


FIRST_YEAR, LAST_YEAR = 1000, 9999
"""Years a date may have, as written and, for a date-time with a time zone, in UTC: four
digits everywhere (the feed, the sort order), where 9999-12-31T23:59-23:00 has none."""
_YAML_DATES = yaml.constructor.SafeConstructor()
_DATE_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _check_year(value: date | datetime | PartialDate, written: str) -> None:
    years = f"the years {FIRST_YEAR} to {LAST_YEAR}"
    if value.year is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{quoted(written)} is outside {years}")
    if isinstance(value, datetime) and value.tzinfo is not None:
        try:
            in_utc = value.astimezone(timezone.utc).year
        except OverflowError:
            in_utc = 0
        if not FIRST_YEAR <= in_utc <= LAST_YEAR:
            raise ValueError(f"{quoted(written)} is outside {years} in UTC")


def _parse_date_text(text: str) -> date | datetime:
    """A date, or date and time, in text: by YAML's rules for timestamps (so a quoted
    date reads as an unquoted one), or ISO 8601 with hours and minutes (06:30Z)."""
    try:
        if _YAML_DATES.timestamp_regexp.match(text):
            node = yaml.ScalarNode("tag:yaml.org,2002:timestamp", text)
            return _YAML_DATES.construct_yaml_timestamp(node)
        if _DATE_AND_TIME.match(text):
            return datetime.fromisoformat(text)
    except ValueError as error:
        reason = "a time zone offset must be under 24 hours" if "offset" in str(error) else str(error)
        raise ValueError(f"{quoted(text)} is not a real date ({reason})") from None
    raise ValueError(f"{quoted(text)} is not a date; write it as 2025-06-02 (or 2025-06-02T06:30Z)")


def _date_or_time(value: Any) -> date | datetime:
    """A date, or a date and time, as written: '2026-11-02', quoted or not (or in the
    JSON of a manifest), stays a date without a time."""
    written = value.strip() if isinstance(value, str) else None
    if written is not None:
        value = _parse_date_text(written)
    if not isinstance(value, date):
        raise ValueError(f"{quoted(value)} is not a date; write it as 2025-06-02 "
                         "(or 2025-06-02T06:30Z)")
    _check_year(value, written or value.isoformat())
    return value


def _day(value: Any) -> date:
    """A date without a time (a revision, the day a source was accessed)."""
    result = _date_or_time(value)
    if isinstance(result, datetime):
        written = value.strip() if isinstance(value, str) else result.isoformat()
        raise ValueError(f"{quoted(written)} has a time; write the date only, "
                         "e.g. 2025-06-02")
    return result


DateOrTime = Annotated[datetime | date, BeforeValidator(_date_or_time)]
Day = Annotated[date, BeforeValidator(_day)]

PARTIAL_DATE = re.compile(r"^(?:(\d{4})|-)(?:-(\d{2})(?:-(\d{2}))?)?$")


def _parse_partial_date(value: Any) -> PartialDate:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        _check_year(value, value.isoformat())
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("must be a date written as text")
    match = PARTIAL_DATE.match(value.strip())
    year, month, day = match.groups() if match else (None, None, None)
    if not match or (year is None and month is None):
        raise ValueError(f"{quoted(value)} is not a date: write 2025-06-02, 2025-06, 2025, "
                         "or --06-02 when the year is not stated")
    try:
        date(int(year or 2000), int(month or 1), int(day or 1))
    except ValueError as error:
        raise ValueError(f"{quoted(value)} is not a real date ({error})") from None
    partial = PartialDate(int(year) if year else None, int(month) if month else None,
                          int(day) if day else None)
    _check_year(partial, value)
    return partial


FuzzyDate = Annotated[
    PartialDate, BeforeValidator(_parse_partial_date),
    WithJsonSchema({"type": "string", "pattern": r"^(\d{4}|-)(-\d{2}(-\d{2})?)?$",
                    "description": "2025-06-02, 2025-06, 2025, or --06-02 (year not stated)"}),
]


MAX_CITED = 50
CITED = f"ids of sources, at most {MAX_CITED}"
"""Lists are bounded (the numbers are in each field's description) so that the work
and the pages a brief makes stay bounded too."""


class Strict(BaseModel):
    """Base of every part of a brief: unknown fields are errors, values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Dated(Strict):
    """Something dated in full, in part, only in words, or (where allowed) not at all."""

    date: FuzzyDate | None = Field(None, description="ISO date, possibly partial")
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
        return self


class Revision(Strict):
    date: Day
    change: Text


class Figure(Strict):
    value: Annotated[Text, BeforeValidator(_number_as_text), WithJsonSchema(
        {"type": ["string", "number"], "description": "the figure as written, e.g. '80+', "
                                                       "'at least 30'"})]
    counts: Text = Field(description="what the figure counts")
    claimed_by: Id | None = Field(None, description="id of the actor who claims it")
    status: FigureStatus
    sources: list[Id] = Field(min_length=1, max_length=MAX_CITED, description=CITED)
    note: Markdown | None = None


class TimelineEntry(Dated):
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
    note: Markdown | None = None


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


class Statement(Strict):
    text: Markdown
    confidence: Confidence
    likelihood: Likelihood | None = None
    sources: list[Id] = Field([], max_length=MAX_CITED, description=CITED)


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
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    published: FuzzyDate | None = None
    accessed: Day | None = None
    via: Id | None = Field(None, description="id of the source that reports this one")
    reliability: Reliability
    credibility: Credibility
    notes: Markdown | None = None

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


class Brief(Strict):
    """One situation brief: everything an analyst writes in one YAML file."""

    id: Id = Field(description="becomes the URL and file names")
    title: Text
    short_title: Text | None = Field(None, description="for running headers; defaults to title")
    subtitle: Text | None = None
    as_of: DateOrTime = Field(description="date, or date and time, the brief is current to "
                                          f"(years {FIRST_YEAR} to {LAST_YEAR})")
    period: Period | None = None
    countries: list[CountryCode] = Field(min_length=1, max_length=30, description="1 to 30")
    region: Text | None = None
    tags: list[Tag] = Field([], max_length=20, description=(
        f"at most 20, each at most {TAG_MAX_LENGTH} characters with a letter or digit "
        "(a tag names its page)"))
    language: LanguageTag = "en"
    authors: list[Text] = Field([], max_length=20, description="at most 20")
    desk: Text | None = None
    status: Status
    tlp: TlpLabel | None = Field(None, description="handling label; default: the site's")
    handling_note: Text | None = Field(None, description="extra restriction shown beside the TLP label")
    page_size: PageSize | None = Field(None, description="PDF page size; default: the site's (A4)")
    revisions: list[Revision] = Field([], max_length=100, description="at most 100")
    bluf: list[Markdown] = Field(min_length=2, max_length=5, description="bottom line up front: 2 to 5 points")
    summary: Markdown
    figures: list[Figure] = Field([], max_length=50, description="at most 50")
    map: Map | None = None
    timeline: list[TimelineEntry] = Field([], max_length=500, description="at most 500")
    places: list[Place] = Field([], max_length=200, description="at most 200")
    actors: list[Actor] = Field([], max_length=200, description="at most 200")
    quotes: list[Quote] = Field([], max_length=100, description="at most 100")
    assessment: list[Statement] = Field([], max_length=50, description="at most 50")
    outlook: list[Statement] = Field([], max_length=50, description="at most 50")
    indicators: list[Indicator] = Field([], max_length=500, description=(
        "technical indicators, at most 500; exported as STIX 2.1 and CSV beside the PDF"))
    sources: list[Source] = Field(min_length=1, max_length=500, description="1 to 500")

    @model_validator(mode="after")
    def _has_an_author(self) -> Brief:
        if not self.authors and self.desk is None:
            raise ValueError("give 'authors', 'desk', or both")
        return self

    @property
    def prepared_by(self) -> str:
        return ", ".join(([self.desk] if self.desk else []) + self.authors)

    @property
    def header_title(self) -> str:
        return self.short_title or self.title

    @property
    def as_of_date(self) -> date:
        return self.as_of.date() if isinstance(self.as_of, datetime) else self.as_of


class BriefCard(BaseModel):
    """What the site-wide pages (index, listings, feed) need to know of a brief.

    Small and JSON-friendly: the build keeps one per brief in its manifest, so the
    site's pages can be rebuilt without reading every brief again.
    """

    model_config = ConfigDict(frozen=True)

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
    updated: datetime  # the latest of as_of and the revision dates, for feeds
    published: datetime  # the earliest of them
    lede_html: str  # the first BLUF point, as sanitised HTML
    bluf_text: str  # all BLUF points, as plain text
    summary_html: str  # the summary, as sanitised HTML

    @classmethod
    def of(cls, brief: Brief) -> BriefCard:
        moments = [_moment(brief.as_of), *(_moment(revision.date) for revision in brief.revisions)]
        return cls(id=brief.id, title=brief.title, subtitle=brief.subtitle, as_of=brief.as_of,
                   countries=brief.countries, tags=brief.tags, tlp=brief.tlp or "TLP:CLEAR",
                   handling_note=brief.handling_note, status=brief.status,
                   prepared_by=brief.prepared_by, updated=max(moments), published=min(moments),
                   lede_html=str(to_inline_html(brief.bluf[0])),
                   bluf_text=" ".join(to_plain_text(point) for point in brief.bluf),
                   summary_html=str(to_html(brief.summary)))

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


def _moment(value: date | datetime) -> datetime:
    """A date or date-time as an aware date-time (dates at midnight UTC)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.combine(value, time(0, 0), timezone.utc)
