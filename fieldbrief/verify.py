"""Stage 2b, verify: check each quote of a brief against the archived text of its source.

In: a validated :class:`~fieldbrief.model.Brief`, the :class:`~fieldbrief.archive.Archive`
of each source that has one, and the site's policy. Out: a :class:`VerificationReport`:
for each quote, whether it was found verbatim (and at which line of the archive), and
the findings (errors and warnings, each at a field of the brief). Pure: nothing here
reads a file.

A quote is searched after normalising, in the archive and in the quote alike, only what
typesetting changes: runs of whitespace and line breaks, typographic quotation marks
and apostrophes, dashes, soft hyphens, and words hyphenated across a line break; and
the quote's own closing punctuation ('forces.' matches 'forces,' said ...). Never case,
never words.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from fieldbrief.archive import Archive
from fieldbrief.errors import Severity, excerpt, quoted
from fieldbrief.load import FieldPath
from fieldbrief.model import Brief, Quote

Policy = Literal["off", "warn", "require"]
Status = Literal["verified", "not found", "no archive"]

TYPESET = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"',
                         "‘": "'", "’": "'", "‚": "'", "‛": "'",
                         "–": "-", "—": "-", "‐": "-", "‑": "-", "‒": "-", "―": "-"})
"""Characters typesetting puts for a straight quote or a hyphen, one for one."""
CHANGES = re.compile(r"""
    [-\u00ad\s]  # every change starts at one of these: the engine skips other text at C speed
    (?: (?<=[^\W\d_]-) [ \t\u00ad]* \r?\n \s* (?=[^\W\d_])  # coordi-\nnated
      | (?<=\u00ad)  # a soft hyphen
      | (?<=\s) \s+  # a run of whitespace
      | (?<=[^\S ])  # one whitespace character other than a plain space
    )""", re.VERBOSE)
CLOSING = re.compile(r"[\s.,;:]+$")
PASSAGE_STEPS = 4
"""Windows per quote length when looking for the closest passage: a bounded search."""
CANDIDATES = 12
PASSAGE_SHOWN = 100
"""Most characters of the closest passage a message shows."""


@dataclass(frozen=True)
class Finding:
    """An error or warning about one field of the brief."""

    path: FieldPath
    message: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class QuoteCheck:
    """What verification found for one quote."""

    status: Status
    archive_of: str | None = None  # the source whose archive was searched
    line: int | None = None  # verified: where the words are; not found: the closest passage
    as_quotation: bool = True  # the archive prints the words inside quotation marks
    span: tuple[int, int] | None = None  # verified: start and end in the archive's text as extracted


@dataclass(frozen=True)
class ArchiveNote:
    """What a reader is told of an archived copy."""

    sha256: str


@dataclass(frozen=True)
class VerificationReport:
    quotes: tuple[QuoteCheck, ...] = ()  # in the order of the brief's quotes; () when off
    archives: Mapping[str, ArchiveNote] = field(default_factory=dict)  # by source id
    findings: tuple[Finding, ...] = ()

    def quote(self, index: int) -> QuoteCheck | None:
        return self.quotes[index] if index < len(self.quotes) else None


@dataclass(frozen=True)
class Normalised:
    """A text with typesetting normalised, and the way back to the original's lines."""

    text: str
    norm_starts: list[int]  # each piece's start in ``text`` ...
    orig_starts: list[int]  # ... and in the original
    line_ends: list[int]  # the original's line breaks
    paragraphs: list[int]  # where in ``text`` a paragraph (after a blank line) begins

    def original(self, position: int) -> int:
        """Where a position in ``text`` is in the original."""
        piece = bisect.bisect_right(self.norm_starts, position) - 1
        return self.orig_starts[piece] + (position - self.norm_starts[piece])

    def line_of(self, position: int) -> int:
        return bisect.bisect_left(self.line_ends, self.original(position)) + 1

    def inside_quotation(self, position: int) -> bool:
        """Whether an odd number of quotation marks opens before ``position`` in its paragraph."""
        start = self.paragraphs[bisect.bisect_right(self.paragraphs, position) - 1]
        return self.text.count('"', start, position) % 2 == 1


def normalise(text: str) -> Normalised:
    """``text`` with only typesetting normalised (see the module's docstring)."""
    text = text.translate(TYPESET)
    pieces, norm_starts, orig_starts, paragraphs = [], [0], [0], [0]
    length = last = 0
    for match in CHANGES.finditer(text):
        pieces.append(text[last:match.start()])
        length += match.start() - last
        found = match.group()
        replacement = " " if found[0].isspace() else ""
        if found.count("\n") >= 2:
            paragraphs.append(length + 1)
        norm_starts.append(length)
        orig_starts.append(match.start())
        pieces.append(replacement)
        length += len(replacement)
        norm_starts.append(length)
        orig_starts.append(match.end())
        last = match.end()
    pieces.append(text[last:])
    line_ends = [match.start() for match in re.finditer("\n", text)]
    return Normalised("".join(pieces), norm_starts, orig_starts, line_ends, paragraphs)


def quote_words(text: str) -> str:
    """A quote's text as it is searched: normalised, without its closing punctuation."""
    return CLOSING.sub("", normalise(text).text.strip())


def verify(brief: Brief, archives: Mapping[str, Archive], policy: Policy) -> VerificationReport:
    """Check every quote of ``brief`` against the archives of its sources."""
    notes = {source_id: ArchiveNote(archive.sha256) for source_id, archive in archives.items()}
    if policy == "off":
        return VerificationReport((), notes, ())
    texts = {source_id: normalise(archive.text) for source_id, archive in archives.items()}
    checks, findings = [], []
    for index, quote in enumerate(brief.quotes):
        chain = [s for s in _source_chain(brief, quote) if s in texts]
        check = _check_quote(quote_words(quote.text), chain, texts)
        checks.append(check)
        findings.extend(_findings(index, quote, check, texts, policy))
    return VerificationReport(tuple(checks), notes, tuple(findings))


def _source_chain(brief: Brief, quote: Quote) -> Iterator[str]:
    """The quote's source, the source it came via, and so on (each once)."""
    via = {source.id: source.via for source in brief.sources}
    seen: set[str] = set()
    current = quote.source
    while current is not None and current not in seen:
        seen.add(current)
        yield current
        current = via.get(current)


def _check_quote(words: str, chain: list[str], texts: Mapping[str, Normalised]) -> QuoteCheck:
    if not chain:
        return QuoteCheck("no archive")
    for source_id in chain:
        archive = texts[source_id]
        start = archive.text.find(words) if words else -1
        if start >= 0:
            span = (archive.original(start), archive.original(start + len(words) - 1) + 1)
            return QuoteCheck("verified", source_id, archive.line_of(start),
                              archive.inside_quotation(start), span)
    return QuoteCheck("not found", chain[0])


def _findings(index: int, quote: Quote, check: QuoteCheck, texts: Mapping[str, Normalised],
              policy: Policy) -> Iterator[Finding]:
    where = ("quotes", index, "text")
    if check.status == "not found":
        assert check.archive_of is not None
        line, passage = closest_passage(quote_words(quote.text), texts[check.archive_of])
        yield Finding(where, f"quote not found in the archive of {quoted(check.archive_of)}; "
                             f"closest passage (line {line}): '{excerpt(passage, PASSAGE_SHOWN)}'; if the source "
                             "paraphrases, this is reported speech: move it to the summary or "
                             "the timeline")
    elif check.status == "verified" and not check.as_quotation:
        yield Finding(where, "the source does not present these words as a quotation (archive of "
                             f"{quoted(check.archive_of)}, line {check.line}); if it reports them "
                             "as narration or indirect speech, move them to the summary or the "
                             "timeline", Severity.WARNING)
    elif check.status == "no archive" and policy == "require":
        named = f"source {quoted(quote.source)} has" if quote.source else "the quote names no source, so it has"
        yield Finding(("quotes", index, "source") if quote.source else ("quotes", index),
                      f"quote cannot be checked: {named} no archived text (verification: require "
                      "in site.yaml); add 'archive: sources/<file>' to the source it came from")


def closest_passage(words: str, archive: Normalised) -> tuple[int, str]:
    """The line and text of the archive's passage most like ``words``: windows of the
    quote's length, ranked by a cheap bound first, the best few compared in full."""
    text, size = archive.text, max(1, len(words))
    step = max(1, size // PASSAGE_STEPS)
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2(words)
    ranked = []
    for start in range(0, max(1, len(text) - size + step), step):
        matcher.set_seq1(text[start:start + size])
        ranked.append((matcher.quick_ratio(), start))
    ranked.sort(reverse=True)
    best_ratio, best = -1.0, 0
    for _, start in ranked[:CANDIDATES]:
        for shifted in range(max(0, start - step), start + step + 1, max(1, step // 4)):
            matcher.set_seq1(text[shifted:shifted + size])
            if (ratio := matcher.ratio()) > best_ratio:
                best_ratio, best = ratio, shifted
    begin = text.rfind(" ", 0, best) + 1
    end = text.find(" ", best + size)
    return archive.line_of(begin), text[begin:end if end >= 0 else len(text)].strip()


def audit_lines(file: str, brief: Brief, report: VerificationReport) -> Iterator[str]:
    """One line per quote of ``brief``: what verification found (for ``check --report``)."""
    if not report.quotes:  # verification is off
        return
    for number, (quote, check) in enumerate(zip(brief.quotes, report.quotes, strict=True), 1):
        found = check.status
        if check.archive_of is not None and check.line is not None:
            found += f" (archive of {quoted(check.archive_of)}, line {check.line})"
        yield f"{file}: quote {number} ({excerpt(quote.speaker)}): {found}"


def audit_summary(reports: Iterable[VerificationReport]) -> str:
    """The audit's last line: how many quotes were verified, not found, not checkable."""
    statuses = [check.status for report in reports for check in report.quotes]
    count = len(statuses)
    return (f"verification: {count} quote{'s' * (count != 1)} checked: "
            f"{statuses.count('verified')} verified, {statuses.count('not found')} not found, "
            f"{statuses.count('no archive')} without an archived source")
