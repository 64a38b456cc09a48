"""Stage 4d, render JSON: a validated brief in, its data export (UTF-8 JSON bytes) out.

The export is the brief model the templates read, with what the page resolves for its
reader resolved here too: each source carries its ``number`` (the [n] of the page),
each citation is ``{id, number}``, and the actors and places a part names are
``{id, name}``. Dates are ISO 8601 text as written (``2026-11-03T11:00+01:00``,
``--03-14/--03-17``). ``tlp`` and ``status`` are always present: the publishing gate
reads them from the file, as it reads the markers of a page or a PDF. Its JSON Schema
(``schema/brief-export.schema.json``) is generated from :class:`BriefExport`.
Rendering is pure: nothing is written here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from fieldbrief.model import (MAX_CITED, Brief, Estimate, Figure, Gap, Indicator, Quote, Source,
                              Statement, Status, TimelineEntry, TlpLabel)

FORMAT_VERSION = "1"
"""Changes when a field of the export changes meaning or is removed (not when one is added)."""
CITATIONS = f"the sources cited, with their numbers on the page; at most {MAX_CITED}"


def brief_json_path(brief_id: str) -> str:
    """Where a brief's data export lives inside the site, beside its page."""
    return f"briefs/{brief_id}/{brief_id}.json"


class Citation(BaseModel):
    """A cited source: its id, and the number the page shows for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    number: int = Field(ge=1, description="the source's number in the brief, [n] on the page")


class Named(BaseModel):
    """An actor or place named by its id, with the name the page shows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str


class ExportEstimate(Estimate):
    claimed_by: Named | None = Field(None, description="the actor who gives this figure")
    sources: list[Citation] = Field(description=CITATIONS)


class ExportFigure(Figure):
    claimed_by: Named | None = Field(None, description="the actor who claims it")
    sources: list[Citation] | None = Field(None, description=(
        f"{CITATIONS}; absent when the figure gives 'estimates' (each cites its own)"))
    estimates: list[ExportEstimate] | None = Field(
        None, description="differing figures for the same quantity, when sources differ")


class ExportGap(Gap):
    sources: list[Citation] = Field([], description=CITATIONS)


class ExportIndicator(Indicator):
    sources: list[Citation] = Field(description=CITATIONS)


class ExportTimelineEntry(TimelineEntry):
    places: list[Named] = Field([], description="the places of the entry")
    sources: list[Citation] = Field(description=CITATIONS)


class ExportQuote(Quote):
    actor: Named | None = Field(None, description="the actor the speaker speaks for")
    source: Citation | None = Field(None, description="the source that prints these words")


class ExportStatement(Statement):
    sources: list[Citation] = Field([], description=CITATIONS)


class ExportSource(Source):
    number: int = Field(ge=1, description="the source's number in the brief, [n] on the page")
    via: Citation | None = Field(None, description="the source that reports this one")
    archive_sha256: str | None = Field(None, pattern="^[0-9a-f]{64}$", description=(
        "SHA-256 of the archived file's bytes, when an archive was kept (as the source note shows it)"))


class BriefExport(Brief):
    """A published brief as data: ``briefs/<id>/<id>.json`` beside its page."""

    format_version: Literal["1"] = Field(description="version of this export's format")
    tlp: TlpLabel = Field(description="the handling label the brief is published under")
    status: Status
    figures: list[ExportFigure] = []
    gaps: list[ExportGap] = []
    indicators: list[ExportIndicator] = []
    timeline: list[ExportTimelineEntry] = []
    quotes: list[ExportQuote] = []
    assessment: list[ExportStatement] = []
    outlook: list[ExportStatement] = []
    sources: list[ExportSource] = Field(description="numbered in the order given")


def brief_json(brief: Brief, archive_digests: Mapping[str, str] = MappingProxyType({})) -> bytes:
    """The brief's data export, as UTF-8 JSON text (``archive_digests``: the SHA-256 of
    each source's archive, by source id)."""
    data = export(brief, archive_digests).model_dump(mode="json", exclude_none=True)
    ordered = {"format_version": data.pop("format_version"), **data}
    return (json.dumps(ordered, ensure_ascii=False, indent=2) + "\n").encode()


def export(brief: Brief, archive_digests: Mapping[str, str] = MappingProxyType({})) -> BriefExport:
    """The brief with its references resolved (built from values already validated)."""
    numbers = {source.id: number for number, source in enumerate(brief.sources, 1)}
    actors = {actor.id: actor.name for actor in brief.actors}
    places = {place.id: place.name for place in brief.places}

    def cite(ids: list[str]) -> list[Citation]:
        return [Citation(id=source_id, number=numbers[source_id]) for source_id in ids]

    def named(names: dict[str, str], item_id: str | None) -> Named | None:
        return Named(id=item_id, name=names[item_id]) if item_id else None

    def estimates(figure: Figure) -> list[ExportEstimate] | None:
        return [_as(ExportEstimate, estimate, claimed_by=named(actors, estimate.claimed_by),
                    sources=cite(estimate.sources)) for estimate in figure.estimates] or None

    return _as(BriefExport, brief, format_version=FORMAT_VERSION, figures=[
        _as(ExportFigure, figure, claimed_by=named(actors, figure.claimed_by),
            sources=None if figure.estimates else cite(figure.sources),  # as given: never both
            estimates=estimates(figure)) for figure in brief.figures
    ], gaps=[_as(ExportGap, gap, sources=cite(gap.sources)) for gap in brief.gaps],
        indicators=[_as(ExportIndicator, indicator, sources=cite(indicator.sources))
                    for indicator in brief.indicators], timeline=[
        _as(ExportTimelineEntry, entry, sources=cite(entry.sources),
            places=[named(places, place) for place in entry.places]) for entry in brief.timeline
    ], quotes=[
        _as(ExportQuote, quote, actor=named(actors, quote.actor),
            source=cite(quote.sources)[0] if quote.source else None) for quote in brief.quotes
    ], assessment=[_as(ExportStatement, item, sources=cite(item.sources)) for item in brief.assessment],
        outlook=[_as(ExportStatement, item, sources=cite(item.sources)) for item in brief.outlook],
        sources=[_as(ExportSource, source, number=numbers[source.id],
                     via=cite([source.via])[0] if source.via else None,
                     archive_sha256=archive_digests.get(source.id)) for source in brief.sources])


ExportT = TypeVar("ExportT", bound=BaseModel)


def _as(export_model: type[ExportT], item: BaseModel, **resolved: Any) -> ExportT:
    """``item`` as ``export_model``, with its references replaced by ``resolved`` (no
    validation again: every value was validated with the brief)."""
    fields = {name: getattr(item, name) for name in type(item).model_fields}
    return export_model.model_construct(**{**fields, **resolved})
