"""Stage 4e, render archive pages: a source's archived text as a page of the site.

In: a validated brief, the archives of its sources (read and verified with the brief,
before rendering), and what verification found for each quote. Out: a page for each
source that says ``publish_archive: true``, keyed by its path in the site
(``briefs/<brief-id>/sources/<source-id>.html``). A page shows the text as it was
extracted, never the archive's markup, escaped by the template like all brief text;
each verified quote is highlighted and linked to and from the quote on the brief page.
The page carries the brief's handling label, like the brief page, for the publishing
gate. Rendering is pure: nothing is read or written here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from fieldbrief.archive import Archive
from fieldbrief.model import Brief, Source
from fieldbrief.render_html import HtmlRenderer, archive_page_path, published_archives
from fieldbrief.verify import VerificationReport

UNSHOWABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""Control characters and lone surrogates (from a damaged PDF's text): not text a page
may carry. Each is shown as U+FFFD, one character for one, so quote positions hold."""


@dataclass(frozen=True)
class Piece:
    """A run of the archive's text: highlighted or not, with the quotes that start at
    its beginning (their anchors) and those that end at its end (links back)."""

    text: str
    marked: bool
    starts: tuple[int, ...] = ()
    ends: tuple[int, ...] = ()


def archive_pages(html: HtmlRenderer, brief: Brief, archives: Mapping[str, Archive],
                  verification: VerificationReport) -> dict[str, bytes]:
    """The published archive pages of ``brief`` by their path in the site."""
    return {archive_page_path(brief.id, source.id): archive_page(
                html, brief, source, archives[source.id], verification).encode()
            for source in published_archives(brief, archives)}


def archive_page(html: HtmlRenderer, brief: Brief, source: Source, archive: Archive,
                 verification: VerificationReport) -> str:
    spans = quote_spans(source.id, verification)
    return html.page("archive.html", archive_page_path(brief.id, source.id), lang=brief.language, brief=brief,
                     source=source, archive=archive, source_number=_number(brief, source),
                     quotes=sorted(spans), pieces=list(pieces(archive.text, spans)))


def quote_spans(source_id: str, verification: VerificationReport) -> dict[int, tuple[int, int]]:
    """Where each quote verified in this source's archive is, by its number in the brief."""
    return {number: check.span for number, check in enumerate(verification.quotes, 1)
            if check.status == "verified" and check.archive_of == source_id
            and check.span is not None}


def pieces(text: str, spans: Mapping[int, tuple[int, int]]) -> Iterator[Piece]:
    """``text`` cut at every quote's start and end; quotes may overlap or coincide."""
    text = UNSHOWABLE.sub("\ufffd", text)
    spans = {number: (max(0, start), min(len(text), end))
             for number, (start, end) in spans.items() if 0 <= start < end}
    cuts = sorted({0, len(text), *(edge for span in spans.values() for edge in span)})
    for begin, end in zip(cuts, cuts[1:]):
        covering = [number for number, (start, stop) in spans.items() if start <= begin and end <= stop]
        yield Piece(text[begin:end], bool(covering),
                    tuple(number for number in covering if spans[number][0] == begin),
                    tuple(number for number in covering if spans[number][1] == end))


def _number(brief: Brief, source: Source) -> int:
    return next(number for number, item in enumerate(brief.sources, 1) if item.id == source.id)
