"""Stage 2, validate: check a loaded document against the model and across its parts.

In: a :class:`~fieldbrief.load.LoadedFile`. Out: a frozen :class:`~fieldbrief.model.Brief`
(with the site's defaults filled in) and the warnings about it, or
:class:`~fieldbrief.errors.InvalidInput` carrying every problem found, each at the line
and column of the field it is about. The site configuration is checked the same way.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import types
import typing
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from fieldbrief.archive import Archive, read_archives
from fieldbrief.errors import InvalidInput, Problem, Severity, excerpt, quoted
from fieldbrief.load import FieldPath, LoadedFile, dotted
from fieldbrief.markup import allowed_link, links_of, markdown_problems
from fieldbrief.model import (ID_PATTERN, LIKELIHOOD_SCALE, Brief, PageSize,
                              TlpLabel, markdown_fields)
from fieldbrief.placeholders import placeholders
from fieldbrief.resources import ResourcePolicy, split_url
from fieldbrief.verify import Policy, VerificationReport, verify

ModelT = typing.TypeVar("ModelT", bound=BaseModel)


@dataclass(frozen=True)
class SiteRules:
    """What a brief takes from its site: default values, and what it may load."""

    resources: ResourcePolicy
    tlp: TlpLabel = "TLP:CLEAR"
    page_size: PageSize = "A4"
    verification: Policy = "warn"
    max_archive_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class ValidBrief:
    """A brief that passed validation, with the file it came from and its warnings."""

    brief: Brief
    source_file: LoadedFile
    warnings: tuple[Problem, ...]
    verification: VerificationReport = VerificationReport()
    archives: Mapping[str, Archive] = field(default_factory=dict)  # by source id, as verified


def validate(loaded: LoadedFile, rules: SiteRules) -> ValidBrief:
    """Return the brief in ``loaded``, or raise InvalidInput with all of its problems.

    References between parts are checked over the loaded data, so that an unknown
    source id is reported in the same run as the schema's problems. A field that still
    holds a placeholder is reported as such, and only as such.
    """
    unfinished = _placeholder_problems(loaded)
    try:
        brief = validate_model(loaded, Brief)
    except InvalidInput as error:
        raise InvalidInput([*unfinished, *_apart_from(unfinished, error.problems),
                            *_reference_problems(loaded)]) from None
    if unfinished:
        raise InvalidInput(unfinished)
    problems = [*_reference_problems(loaded), *_unused_sources(loaded, brief),
                *_content_warnings(loaded, brief), *_resource_problems(loaded, brief, rules.resources),
                *_markdown_problems(loaded, brief), *_indicator_problems(loaded, brief),
                *_links_to_indicators(loaded, brief)]
    report, archives, verified = _verification(loaded, brief, rules)
    problems.extend(verified)
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if errors:
        raise InvalidInput(errors)
    brief = brief.model_copy(update={"tlp": brief.tlp or rules.tlp,
                                     "page_size": brief.page_size or rules.page_size})
    return ValidBrief(brief, loaded, tuple(sorted(p for p in problems if p.severity is Severity.WARNING)),
                      report, archives)


def _placeholder_problems(loaded: LoadedFile) -> list[Problem]:
    return [_at(loaded, path, f"still a placeholder: replace {quoted(mark)}")
            for path, mark in placeholders(loaded.data)]


def _apart_from(unfinished: list[Problem], problems: list[Problem]) -> list[Problem]:
    """``problems`` about fields that hold no placeholder (nor lie inside one that does)."""
    fields = [problem.field for problem in unfinished]
    return [problem for problem in problems
            if not any(problem.field == field or problem.field.startswith((f"{field}.", f"{field}["))
                       for field in fields)]


def _verification(loaded: LoadedFile, brief: Brief, rules: SiteRules
                  ) -> tuple[VerificationReport, dict[str, Archive], list[Problem]]:
    """The quotes checked against the archived texts of their sources (see verify.py)."""
    archives, unreadable = read_archives(brief, rules.resources.root, rules.max_archive_bytes)
    report = verify(brief, archives, rules.verification)
    return report, archives, [*(_at(loaded, path, message) for path, message in unreadable),
                    *(_at(loaded, f.path, f.message, f.severity) for f in report.findings)]


def validate_model(loaded: LoadedFile, model: type[ModelT]) -> ModelT:
    """Check ``loaded`` against ``model``; raise InvalidInput with every positioned problem."""
    try:
        return model.model_validate(loaded.data)
    except ValidationError as error:
        raise InvalidInput([_schema_problem(loaded, item, model)
                            for item in error.errors()]) from None


# --- schema errors ------------------------------------------------------------------------

def _schema_problem(loaded: LoadedFile, item: Any, model: type[BaseModel]) -> Problem:
    path = _data_path(loaded.data, item["loc"])
    is_key = item["type"] == "extra_forbidden"
    line, column = loaded.position_of(path, key=is_key)
    return Problem(loaded.name, line, column, dotted(path), _message(item, path, model, loaded))


def _data_path(data: Any, loc: tuple[str | int, ...]) -> FieldPath:
    """Keep the parts of a pydantic location that are fields or items of the data.

    Pydantic adds the type it tried ('datetime', 'function-after[...]') to locations
    inside unions; those are not fields and are dropped. A last part absent from the
    data is a missing field and is kept.
    """
    path: list[str | int] = []
    for index, part in enumerate(loc):
        is_last = index == len(loc) - 1
        if isinstance(data, dict) and isinstance(part, str) and (part in data or is_last):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            continue
        path.append(part)
    return tuple(path)


def _message(item: Any, path: FieldPath, model: type[BaseModel], loaded: LoadedFile) -> str:
    kind, ctx, given = item["type"], item.get("ctx", {}), item.get("input")
    written = loaded.written.get(path)
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field_message(path, model)
    if kind in ("literal_error", "enum") and path[-1:] == ("likelihood",):
        return _likelihood_message(given, written, _expected(ctx.get("expected", "")))
    if kind in ("literal_error", "enum"):
        shown = excerpt(written) if written else quoted(given)  # 'yes', not True
        return f"{shown} is not allowed; use one of {_expected(ctx.get('expected', ''))}"
    if kind == "string_type" and isinstance(given, dict):
        return ("must be text, not a mapping; if the text contains ': ', "
                "put it in quotes or use '>-' and write it on the next lines")
    if kind == "string_type" and written:
        return (f"must be text, but YAML reads {excerpt(written)} as {_yaml_reading(given)}; "
                f"put it in quotes: '{excerpt(written)}'")
    if kind == "string_type":
        return f"must be text, not {_describe(given)}"
    if kind in ("list_type", "tuple_type") and isinstance(given, (str, int, float)):
        return f"must be a list, not a single value; write [{excerpt(given)}]"
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, not {_describe(given)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of fields, not {_describe(given)}"
    if kind == "too_short" and isinstance(given, (list, tuple)):
        return f"needs at least {ctx.get('min_length')} item(s), has {len(given)}"
    if kind == "too_long" and isinstance(given, (list, tuple)):
        return f"allows at most {ctx.get('max_length')} item(s), has {len(given)}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "string_too_long":
        return f"allows at most {ctx.get('max_length')} characters, has {len(given)}"
    if kind == "string_pattern_mismatch":
        return f"{quoted(given)} does not have the expected form ({ctx.get('pattern')})"
    if kind.startswith(("date", "datetime")):
        return f"{quoted(given)} is not a date; write it as 2025-06-02 (or 2025-06-02T06:30Z)"
    if kind == "value_error":
        return str(ctx.get("error", item["msg"]))
    return item["msg"]


LIKELIHOOD_TERMS = {
    "highly likely": "very likely", "highly probable": "very likely", "very probable": "very likely",
    "probable": "likely", "probably": "likely",
    "probably not": "unlikely", "improbable": "unlikely",
    "highly unlikely": "very unlikely", "highly improbable": "very unlikely",
    "remote": "almost no chance", "almost certainly not": "almost no chance",
    "even chance": "roughly even chance", "even odds": "roughly even chance",
    "50/50": "roughly even chance", "fifty-fifty": "roughly even chance",
    "certain": "almost certain", "almost certainly": "almost certain",
    "nearly certain": "almost certain", "virtually certain": "almost certain",
}
"""Words analysts use for a probability, and the ICD 203 term that stands for each."""


def _likelihood_message(given: Any, written: str | None, scale: str) -> str:
    """A likelihood off the ICD 203 scale, with the scale's term for what was meant."""
    terms = list(LIKELIHOOD_SCALE)
    shown = excerpt(written) if written else quoted(given)
    text = " ".join(str(given).lower().split())
    close = difflib.get_close_matches(text, [*terms, *LIKELIHOOD_TERMS], n=1, cutoff=0.75)
    meant = LIKELIHOOD_TERMS.get(close[0], close[0]) if close else None
    hint = f"; did you mean '{meant}'?" if meant else ";"
    return f"{shown} is not on the ICD 203 likelihood scale{hint} use one of {scale}"


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _yaml_reading(value)


def _yaml_reading(value: Any) -> str:
    """What YAML made of a scalar, in words: 'the number 660', 'the boolean true'."""
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, datetime):
        return "a date and time"
    if isinstance(value, date):
        return "a date"
    if isinstance(value, (int, float)):
        return f"the number {excerpt(value)}"
    return f"{type(value).__name__} {quoted(value)}"


def _expected(options: str) -> str:
    """Pydantic's list of allowed values, bounded like any value a message shows."""
    return options if len(options) <= 400 else excerpt(options, 400)


def _unknown_field_message(path: FieldPath, model: type[BaseModel]) -> str:
    key = str(path[-1])
    allowed = sorted(_model_at(model, path[:-1]).model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else f"; allowed here: {', '.join(allowed)}"
    return f"unknown field {quoted(key)}{hint}"


def _model_at(model: type[BaseModel], path: FieldPath) -> type[BaseModel]:
    """The model class that describes the mapping found at ``path`` inside ``model``."""
    annotation: Any = model
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
        else:
            annotation = annotation.model_fields[part].annotation
    return _unwrap(annotation)


def _unwrap(annotation: Any) -> Any:
    """Strip Optional[...] and Annotated[...] down to the model or list inside."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(arg for arg in typing.get_args(annotation) if arg is not type(None))
        else:
            return annotation


# --- references between parts ------------------------------------------------------------

REFERENCES: tuple[tuple[str, str, str], ...] = (
    ("figures", "sources", "source"), ("figures", "claimed_by", "actor"),
    ("timeline", "sources", "source"), ("timeline", "places", "place"),
    ("quotes", "source", "source"), ("quotes", "actor", "actor"),
    ("assessment", "sources", "source"), ("outlook", "sources", "source"),
    ("sources", "via", "source"), ("gaps", "sources", "source"),
    ("indicators", "sources", "source"),
)
"""Where one part of a brief names another: (list, field of its items, kind named)."""
COLLECTIONS = {"source": "sources", "place": "places", "actor": "actors"}


def _reference_problems(loaded: LoadedFile) -> Iterator[Problem]:
    """Duplicate and unknown ids, found over the loaded data wherever its shape allows,
    so that they are reported even when the schema found problems too."""
    known = {kind: _ids(loaded.data, collection) for kind, collection in COLLECTIONS.items()}
    for kind, collection in COLLECTIONS.items():
        yield from _duplicate_ids(loaded, collection, kind, known[kind])
    for path, kind, ref in _references(loaded.data):
        if ref not in known[kind]:
            yield _at(loaded, path, _unknown_reference(kind, ref, known[kind]))


def _unused_sources(loaded: LoadedFile, brief: Brief) -> Iterator[Problem]:
    cited = {ref for _, kind, ref in _references(loaded.data) if kind == "source"}
    for index, source in enumerate(brief.sources):
        if source.id not in cited:
            yield _at(loaded, ("sources", index, "id"),
                      f"source '{source.id}' is never cited", Severity.WARNING)


def _items(data: Any, collection: str) -> list[Any]:
    items = data.get(collection) if isinstance(data, dict) else None
    return items if isinstance(items, list) else []


def _ids(data: Any, collection: str) -> list[str]:
    """The ids of a list's items, in order; an item without a text id counts as ''."""
    return [item.get("id") if isinstance(item, dict) and isinstance(item.get("id"), str) else ""
            for item in _items(data, collection)]


def _references(data: Any) -> Iterator[tuple[FieldPath, str, str]]:
    """Every (position, kind, id) where one part of the brief names another."""
    for collection, field, kind in REFERENCES:
        yield from _references_in(data, collection, field, kind)
    yield from _estimate_references(data)


ESTIMATE_REFERENCES = (("sources", "source"), ("claimed_by", "actor"))
"""Where an estimate of a figure names another part: (field, kind named)."""


def _estimate_references(data: Any) -> Iterator[tuple[FieldPath, str, str]]:
    """The references inside each figure's estimates, walked like the brief's own lists."""
    for index, figure in enumerate(_items(data, "figures")):
        for field, kind in ESTIMATE_REFERENCES:
            for where, found_kind, ref in _references_in(figure, "estimates", field, kind):
                yield ("figures", index, *where), found_kind, ref


def _references_in(data: Any, collection: str, field: str,
                   kind: str) -> Iterator[tuple[FieldPath, str, str]]:
    """The ids that the items of ``data[collection]`` name in ``field``: only ids of a valid
    form (a malformed one has its own problem from the schema)."""
    for index, item in enumerate(_items(data, collection)):
        value = item.get(field) if isinstance(item, dict) else None
        pairs = (enumerate(value) if isinstance(value, list) else [(None, value)])
        for ref_index, ref in pairs:
            if isinstance(ref, str) and re.fullmatch(ID_PATTERN, ref) and len(ref) <= 80:
                where: FieldPath = (collection, index, field)
                yield where + (() if ref_index is None else (ref_index,)), kind, ref


def _resource_problems(loaded: LoadedFile, brief: Brief,
                       policy: ResourcePolicy) -> Iterator[Problem]:
    if brief.map_image and (problem := policy.image_problem(brief.map_image.image)):
        yield _at(loaded, ("map", "image"), problem)


def _content_warnings(loaded: LoadedFile, brief: Brief) -> Iterator[Problem]:
    """Things a brief may lack, but a reader would miss."""
    for index, quote in enumerate(brief.quotes):
        if quote.source is None:
            yield _at(loaded, ("quotes", index), "quote has no source; add 'source: <id>'",
                      Severity.WARNING)
    for index, figure in enumerate(brief.figures):
        if figure.status in ("claimed", "disputed") and figure.claimed_by is None:
            yield _at(loaded, ("figures", index, "status"),
                      f"a {figure.status} figure needs a claimant; add 'claimed_by: <actor id>'",
                      Severity.WARNING)
    yield from _estimate_warnings(loaded, brief)


def _estimate_warnings(loaded: LoadedFile, brief: Brief) -> Iterator[Problem]:
    """An estimate that is claimed or disputed should say who gives it, as a figure should."""
    for index, figure in enumerate(brief.figures):
        for number, estimate in enumerate(figure.estimates):
            if estimate.status in ("claimed", "disputed") and estimate.claimed_by is None:
                yield _at(loaded, ("figures", index, "estimates", number, "status"),
                          f"a {estimate.status} estimate needs a claimant; add "
                          "'claimed_by: <actor id>'", Severity.WARNING)


def _duplicate_ids(loaded: LoadedFile, collection: str, kind: str, ids: list[str]) -> Iterator[Problem]:
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value in first and re.fullmatch(ID_PATTERN, value):
            yield _at(loaded, (collection, index, "id"),
                      f"{kind} id {quoted(value)} is used twice (first at {collection}[{first[value]}])")
        first.setdefault(value, index)


KNOWN_SHOWN = 10
"""Known ids listed at most in a message about an unknown one."""


def _unknown_reference(kind: str, ref: str, known: list[str]) -> str:
    known = [value for value in dict.fromkeys(known) if value]
    close = difflib.get_close_matches(ref, known, n=1, cutoff=0.6)
    if close:
        hint = f"; did you mean {quoted(close[0])}?"
    elif known:
        more = ", …" if len(known) > KNOWN_SHOWN else ""
        hint = f"; known {kind}s: {', '.join(excerpt(value) for value in known[:KNOWN_SHOWN])}{more}"
    else:
        hint = f"; the brief lists no {kind}s"
    return f"unknown {kind} {quoted(ref)}{hint}"


def _at(loaded: LoadedFile, path: FieldPath, message: str,
        severity: Severity = Severity.ERROR) -> Problem:
    line, column = loaded.position_of(path)
    return Problem(loaded.name, line, column, dotted(path), message, severity)


# --- Markdown fields ----------------------------------------------------------------------

def _markdown_problems(loaded: LoadedFile, brief: Brief) -> Iterator[Problem]:
    """Markdown that would not convert (too deep, too long), and links that lead nowhere:
    a brief links to web and mail addresses and to anchors of its own page, nothing else
    (a relative link would resolve against the build folder in the PDF)."""
    anchors = _anchors(brief)
    for path, text in markdown_fields(brief):
        if refused := markdown_problems(text):
            yield from (_at(loaded, path, message) for message in refused)
            continue
        for url in dict.fromkeys(links_of(text)):
            if url.startswith("#") and url[1:] not in anchors:
                close = difflib.get_close_matches(url[1:], sorted(anchors), n=1, cutoff=0.6)
                hint = f"did you mean '#{close[0]}'?" if close else f"e.g. '#{sorted(anchors)[0]}'"
                yield _at(loaded, path, f"links to {quoted(url)}, which is not an anchor of this "
                                        f"brief; {hint}")
            elif not allowed_link(url):
                yield _at(loaded, path, f"links to {quoted(url)}; a brief may link only to http(s) and "
                                        "mailto: addresses and to anchors of its own page, "
                                        f"such as '#source-{brief.sources[0].id}'")


def _anchors(brief: Brief) -> set[str]:
    """The ids of a brief's page a link may point at (as the templates write them)."""
    sections = {"bottom-line": True, "situation": True, "sources": True,
                "map": brief.map_image or brief.wants_locator_map,
                "key-figures": brief.figures, "timeline": brief.timeline, "quotes": brief.quotes,
                "assessment": brief.assessment, "outlook": brief.outlook,
                "estimative-language": brief.assessment or brief.outlook,
                "places-and-actors": brief.places or brief.actors, "revisions": brief.revisions,
                "gaps": brief.gaps, "indicators": brief.indicators}
    anchors = {anchor for anchor, shown in sections.items() if shown}
    for prefix, items in (("figure", brief.figures), ("timeline", brief.timeline),
                          ("quote", brief.quotes), ("assessment", brief.assessment),
                          ("outlook", brief.outlook), ("gap", brief.gaps),
                          ("indicator", brief.indicators)):
        anchors.update(f"{prefix}-{number}" for number in range(1, len(items) + 1))
    for prefix, parts in (("source", brief.sources), ("place", brief.places), ("actor", brief.actors)):
        anchors.update(f"{prefix}-{part.id}" for part in parts)
    return anchors


# --- indicators ---------------------------------------------------------------------------

HASH_DIGITS = {"md5": 32, "sha1": 40, "sha256": 64}
DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
DEFANGED = re.compile(r"\[\.\]|\[dot\]|\(\.\)|\[@\]|\[:\]|\[://\]|^hxxps?:|^fxp:", re.IGNORECASE)


def _indicator_problems(loaded: LoadedFile, brief: Brief) -> Iterator[Problem]:
    """Indicators whose value is not of their type, or listed twice."""
    first: dict[tuple[str, str], int] = {}
    for index, indicator in enumerate(brief.indicators):
        key = (indicator.type, indicator.value.lower())
        if (problem := indicator_problem(indicator.type, indicator.value)) is not None:
            yield _at(loaded, ("indicators", index, "value"), problem)
        elif key in first:
            yield _at(loaded, ("indicators", index, "value"),
                      f"{indicator.type} {quoted(indicator.value)} is listed twice (first at "
                      f"indicators[{first[key]}]); give it once, citing every source")
        first.setdefault(key, index)


DOT_LOOKALIKES = frozenset("\u3002\uff0e\uff61\ufe52\u2024")
"""Characters IDNA reads as '.': an indicator written with them shows undefanged."""


def _disguised(value: str) -> bool:
    """Whether ``value`` hides what it is: look-alike dots, compatibility forms (fullwidth
    letters), invisible or direction-changing characters, or blank space around it."""
    return (value != value.strip() or not value or unicodedata.normalize("NFKC", value) != value
            or any(char in DOT_LOOKALIKES or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")
                   for char in value))


def indicator_problem(kind: str, value: str) -> str | None:
    """Why ``value`` is not an indicator of type ``kind``, if it is not."""
    if _disguised(value):
        return (f"{quoted(value)} has characters that disguise an indicator (look-alike dots, "
                "fullwidth forms, invisible or direction-changing characters, or spaces around "
                "it); write it in plain characters")
    if DEFANGED.search(value):
        return (f"{quoted(value)} is written defanged; write the indicator as it is "
                "(example.com, http://...): fieldbrief defangs it wherever it is shown")
    if kind in HASH_DIGITS:
        return _hash_problem(kind, value)
    checks = {"domain": _domain_problem, "ip": _ip_problem, "url": _url_problem,
              "email": _email_problem, "file name": _file_name_problem}
    return checks[kind](value)


def _hash_problem(kind: str, value: str) -> str | None:
    digits, article = HASH_DIGITS[kind], "an" if kind == "md5" else "a"
    if not re.fullmatch(r"[0-9a-fA-F]*", value):
        return (f"{quoted(value)} is not {article} {kind} hash: it has characters that are not "
                "hexadecimal digits (0-9, a-f)")
    if len(value) != digits:
        return (f"{quoted(value)} is not {article} {kind} hash: {article} {kind} hash has "
                f"{digits} hexadecimal digits, this has {len(value)}")
    return None


def _domain_problem(value: str) -> str | None:
    if not _is_domain(value):
        return (f"{quoted(value)} is not a domain name; write it as example.com (letters, "
                "digits and hyphens, labels joined by dots, no scheme or path)")
    return None


def _is_domain(value: str) -> bool:
    try:
        ascii_form = value.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return False
    labels = ascii_form.split(".")
    return (len(ascii_form) <= 253 and len(labels) >= 2 and not labels[-1].isdigit()
            and all(DOMAIN_LABEL.match(label) for label in labels))


def _ip_problem(value: str) -> str | None:
    try:
        if "/" in value:
            ipaddress.ip_network(value)
        else:
            ipaddress.ip_address(value)
    except ValueError:
        return (f"{quoted(value)} is not an IP address; write an IPv4 address as 192.0.2.1, an "
                "IPv6 address as 2001:db8::1, or a network as 192.0.2.0/24")
    return None


def _url_problem(value: str) -> str | None:
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", value)
    if scheme is None:
        return (f"{quoted(value)} is not a URL: it has no scheme; write it whole, e.g. "
                f"'http://{excerpt(value.split('://')[-1])}'")
    if "\\" in value:
        return (f"{quoted(value)} is not a URL: browsers read a backslash as a slash, so its "
                "host is not what it seems; write the URL as it is used")
    host = re.split(r"[/?#]", value[scheme.end():], maxsplit=1)[0].rpartition("@")[2]
    host = re.sub(r":\d{1,5}$", "", host)
    is_ip = host.startswith("[") and host.endswith("]") and _ip_problem(host[1:-1]) is None
    if re.search(r"\s", value) or not (is_ip or _is_domain(host) or _ip_problem(host) is None):
        return (f"{quoted(value)} is not a URL; write it as scheme://host/path, e.g. "
                "http://example.com/login (no spaces)")
    return None


def _email_problem(value: str) -> str | None:
    local, at, domain = value.rpartition("@")
    if not at or not EMAIL_LOCAL.match(local) or not _is_domain(domain):
        return f"{quoted(value)} is not an email address; write it as name@example.com"
    return None


def _file_name_problem(value: str) -> str | None:
    if "/" in value or "\\" in value:
        name = re.split(r"[/\\]", value)[-1]
        return f"{quoted(value)} is a path, not a file name; give the name only ({quoted(name)})"
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        return f"{quoted(value)} is not a file name: it has control characters"
    return None


def _links_to_indicators(loaded: LoadedFile, brief: Brief) -> Iterator[Problem]:
    """Markdown links whose host is one of the brief's indicators: an indicator is never
    a link, wherever it is written (a note's autolink made a live link to the dropper)."""
    hosts = {host for indicator in brief.indicators
             if (host := _indicator_host(indicator.type, indicator.value))}
    if not hosts:
        return
    for path, text in markdown_fields(brief):
        for url in dict.fromkeys(links_of(text)):
            host = (split_url(url) or split_url("x:")).hostname or ""
            if any(host == known or host.endswith("." + known) for known in hosts):
                yield _at(loaded, path, f"links to {quoted(url)}, an address the brief lists as "
                                        "an indicator; an indicator is never a link: write it "
                                        "in the indicators, where it is shown defanged")


def _indicator_host(kind: str, value: str) -> str | None:
    """The host an indicator names (a domain, a URL's or an address's host), lowercased."""
    if kind == "url":
        parts = split_url(value)
        return parts.hostname if parts else None
    if kind == "email":
        return value.rpartition("@")[2].lower()
    if kind in ("domain", "ip"):
        return value.lower().split("/")[0]
    return None

