"""Stage 4c, render indicators: a validated brief in, its indicator exports (bytes) out.

A brief's technical indicators are published as data beside its PDF: a STIX 2.1 bundle
(made with the OASIS ``stix2`` library, which checks every pattern it is given) and a CSV
for spreadsheets. Both carry the brief's TLP label and status (draft or final), which the
publishing gate reads back (:func:`fieldbrief.policy.gate`): the bundle marks every object
with the TLP 2.0 marking definition of the label and with a ``fieldbrief-status:<status>``
label, the CSV has the label and the status in its first two columns, so that a draft's
indicators never reach a feed or a spreadsheet looking final. Outputs depend on
the brief alone (identifiers are derived from the brief's id and each indicator, times
from its dates), so the same brief always gives the same bytes.

For people, indicators are shown defanged (:func:`defang`): ``example[.]com``,
``hxxp://``, so that no reader, mail client or PDF viewer turns them into links.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator

from fieldbrief.markup import to_plain_text
from fieldbrief.model import Brief, BriefCard, Indicator
from fieldbrief.policy import STIX_STATUS_LABEL, STIX_TLP_MARKINGS, TLP_EXTENSION

NAMESPACE = uuid.UUID("5f0e6a52-3b8e-4c55-9d0a-6d1f3c2b7a10")
"""Namespace of the UUIDv5 identifiers of fieldbrief's STIX objects."""
TYPE_NAMES = {"domain": "Domain", "ip": "IP address", "url": "URL", "email": "Email",
              "md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "file name": "File name"}
"""How each type of indicator is named on the page."""
SCHEMES = {"http": "hxxp", "https": "hxxps", "ftp": "fxp"}
CSV_COLUMNS = ("tlp", "status", "type", "value", "defanged", "note", "sources")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is read as a formula by spreadsheets (OWASP: CSV injection)."""


def export_names(brief_id: str) -> tuple[str, str]:
    """The file names of a brief's STIX bundle and CSV, in the folder of its PDF."""
    return f"{brief_id}.stix.json", f"{brief_id}-indicators.csv"


def render(brief: Brief) -> dict[str, bytes]:
    """The brief's indicator exports by file name; none when it lists no indicators."""
    if not brief.indicators:
        return {}
    stix_name, csv_name = export_names(brief.id)
    return {stix_name: stix_bundle(brief), csv_name: indicators_csv(brief)}


# --- defanging ----------------------------------------------------------------------------

def defang(kind: str, value: str) -> str:
    """``value`` as it may be shown to people: never a working address or link."""
    if kind == "url":
        return _defang_url(value)
    if kind == "email":
        local, _, domain = value.rpartition("@")
        return f"{local}[@]{_last_dot(domain)}"
    if kind == "ip" and ":" in value:  # IPv6
        head, _, tail = value.rpartition(":")
        return f"{head}[:]{tail}"
    if kind in ("domain", "ip"):
        return _last_dot(value)
    return value  # hashes and file names are not addresses


def _defang_url(value: str) -> str:
    """Every part defanged, not only the host: a path or query may carry another address
    (http://a.example/redirect?u=https://evil.example/)."""
    scheme, _, rest = value.partition("://")
    shown_scheme = SCHEMES.get(scheme.lower())
    prefix = f"{shown_scheme}://" if shown_scheme else f"{scheme}[:]//"
    rest = re.sub(r"(?i)\bhttp(s?)://", r"hxxp\1[:]//", rest).replace("://", "[:]//")
    return prefix + rest.replace("@", "[@]").replace(".", "[.]")


def _last_dot(text: str) -> str:
    head, dot, tail = text.rpartition(".")
    return f"{head}[.]{tail}" if dot else text


# --- STIX 2.1 -----------------------------------------------------------------------------

PATTERNS = {"domain": "domain-name:value", "url": "url:value", "email": "email-addr:value",
            "md5": "file:hashes.MD5", "sha1": "file:hashes.'SHA-1'",
            "sha256": "file:hashes.'SHA-256'", "file name": "file:name"}


def stix_pattern(indicator: Indicator) -> str:
    """The STIX pattern that matches ``indicator``: [domain-name:value = 'example.com']."""
    if indicator.type == "ip":
        path = "ipv6-addr:value" if ":" in indicator.value else "ipv4-addr:value"
    else:
        path = PATTERNS[indicator.type]
    literal = indicator.value.replace("\\", "\\\\").replace("'", "\\'")
    return f"[{path} = '{literal}']"


def stix_bundle(brief: Brief) -> bytes:
    """A STIX 2.1 bundle: the brief as a report of its indicators, all marked with its label."""
    import stix2  # loads in 0.4 s: only where a brief has indicators

    label = brief.tlp or "TLP:CLEAR"
    marking = stix2.MarkingDefinition(
        id=STIX_TLP_MARKINGS[label], created="2022-10-01T00:00:00.000Z", name=label,
        extensions={TLP_EXTENSION: {"extension_type": "property-extension",
                                    "tlp_2_0": label.removeprefix("TLP:").lower()}})
    card = BriefCard.of(brief)
    common = {"created": card.published, "modified": card.updated,
              "object_marking_refs": [marking.id],
              "labels": [STIX_STATUS_LABEL.format(status=brief.status)]}
    author = stix2.Identity(id=_stix_id("identity", brief.id, "author"), name=brief.prepared_by,
                            identity_class=_identity_class(brief),
                            **common)
    indicators = [stix2.Indicator(
        id=_stix_id("indicator", brief.id, item.type, item.value), name=item.value,
        description=to_plain_text(item.note) if item.note else None,
        indicator_types=["malicious-activity"], pattern=stix_pattern(item), pattern_type="stix",
        valid_from=card.as_of_moment, created_by_ref=author.id,
        external_references=list(_references(brief, item)), **common)
        for item in brief.indicators]
    report = stix2.Report(
        id=_stix_id("report", brief.id), name=brief.title, description=to_plain_text(brief.summary),
        published=card.as_of_moment, report_types=["threat-report"], created_by_ref=author.id,
        object_refs=[indicator.id for indicator in indicators], **common)
    bundle = stix2.Bundle(marking, author, report, *indicators,
                          id=_stix_id("bundle", brief.id, card.updated.isoformat()))
    # stix2's own pretty printing re-sorts every property (0.1 s for ten indicators); the
    # plain form, indented by json, keeps its order
    return (json.dumps(json.loads(bundle.serialize()), indent=2, ensure_ascii=False) + "\n").encode()


def _identity_class(brief: Brief) -> str:
    """A desk is an organisation; authors without a desk are one person or a group."""
    if brief.desk:
        return "organization"
    return "individual" if len(brief.authors) == 1 else "group"


def _stix_id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, json.dumps(parts))}"


def _references(brief: Brief, indicator: Indicator) -> Iterator[dict[str, str]]:
    """The sources of an indicator as STIX external references."""
    sources = {source.id: source for source in brief.sources}
    for source_id in dict.fromkeys(indicator.sources):
        source = sources[source_id]
        reference = {"source_name": source.publisher, "description": source.title}
        if source.url:
            reference["url"] = source.url
        yield reference


# --- CSV ----------------------------------------------------------------------------------

def indicators_csv(brief: Brief) -> bytes:
    """One row per indicator, the label and status in the first two columns of every row; UTF-8 with a
    byte order mark (so spreadsheets read it as UTF-8), no cell a spreadsheet would run."""
    numbers = {source.id: number for number, source in enumerate(brief.sources, 1)}
    titles = {source.id: source.title for source in brief.sources}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in brief.indicators:
        cited = "; ".join(f"[{numbers[ref]}] {titles[ref]}" for ref in dict.fromkeys(item.sources))
        writer.writerow([safe_cell(cell) for cell in (
            brief.tlp or "TLP:CLEAR", brief.status, item.type, item.value, defang(item.type, item.value),
            to_plain_text(item.note) if item.note else "", cited)])
    return out.getvalue().encode("utf-8-sig")


def safe_cell(text: str) -> str:
    """``text``, with a leading apostrophe if a spreadsheet would read it as a formula."""
    return f"'{text}" if text.lstrip(" ").startswith(FORMULA_STARTS) else text
