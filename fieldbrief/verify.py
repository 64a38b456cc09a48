"""Stage 2b, verify: check each quote, quoted phrase and figure of a brief against the
archived texts of its sources.

In: a validated :class:`~fieldbrief.model.Brief`, the :class:`~fieldbrief.archive.Archive`
of each source that has one, and the site's policy. Out: a :class:`VerificationReport`:
for each quote, each phrase the prose puts in double quotation marks, and each figure
value, whether it was found (and at which line of the archive), and the findings (errors
and warnings, each at a field of the brief). Pure: nothing here reads a file. Figures are
read as numbers by :mod:`fieldbrief.verify_figures`.

A quote is searched after normalising, in the archive and in the quote alike, only what
typesetting changes: runs of whitespace and line breaks, typographic quotation marks
and apostrophes, dashes, soft hyphens, and words hyphenated across a line break; and
the quote's own closing punctuation ('forces.' matches 'forces,' said ...). Never case,
never words. A quoted phrase is searched the same way; an ellipsis in it (..., …, [...])
stands for words left out, so its parts are searched in order.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

from fieldbrief.archive import Archive
from fieldbrief.errors import Severity, excerpt, quoted
from fieldbrief.load import FieldPath, dotted
from fieldbrief.markup import markdown_problems, to_plain_text
from fieldbrief.model import Brief, Quote, Source, markdown_fields, own_words_fields
from fieldbrief.verify_figures import ArchiveNumbers, FigureCheck, check_figure, figure_values

Policy = Literal["off", "warn", "require"]
Status = Literal["verified", "not found", "no archive"]
PhraseStatus = Literal["verified", "not found", "no archive", "not a quotation"]

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
QUOTE_MARKS = frozenset('"“”„‟«»')
"""Double quotation marks, which delimit a quoted phrase in prose. Single marks never do:
the apostrophe is the same character (' and ’), so Mali's and Jama'at would pair up."""
PHRASE = re.compile(r"""(?<![^\s(\[{/-]) " \ ? ([^"\ ][^"]*?) \ ? " (?![^\W\d_])""", re.VERBOSE)
"""A phrase between double quotation marks (typeset ones normalised to "): the opening
mark starts a word, the closing mark ends one, so an inch mark (12") is not paired."""
ELISION = re.compile(r"\s*(?:\[(?:\.\.\.|…)\]|\.\.\.|…)\s*")
PARAGRAPH = re.compile(r"\n[ \t]*\n")
PASSAGE_STEPS = 4
"""Windows per quote length when looking for the closest passage: a bounded search."""
MAX_WINDOWS = 4000
"""Windows compared at most in one archive, however short the words and long the archive
(a one-word phrase in 4 MiB would otherwise take minutes)."""
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
class PhraseCheck:
    """What verification found for one phrase the prose puts in quotation marks."""

    path: FieldPath  # the Markdown field that holds it
    phrase: str  # its words, normalised (typographic marks made straight)
    status: PhraseStatus
    archive_of: str | None = None  # verified: where it was found; not found: searched first
    line: int | None = None  # verified only
    reason: str | None = None  # not a quotation: the reason the brief gives


@dataclass(frozen=True)
class ArchiveNote:
    """What a reader is told of an archived copy."""

    sha256: str


@dataclass(frozen=True)
class VerificationReport:
    quotes: tuple[QuoteCheck, ...] = ()  # in the order of the brief's quotes; () when off
    archives: Mapping[str, ArchiveNote] = field(default_factory=dict)  # by source id
    findings: tuple[Finding, ...] = ()
    phrases: tuple[PhraseCheck, ...] = ()  # in the order of the brief's fields
    figures: tuple[FigureCheck, ...] = ()  # each figure's value, or each of its estimates'

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
    """Check every quote, quoted phrase and figure of ``brief`` against the archives of its
    sources; with ``off``, only that each opt-out names a quoted phrase of the prose."""
    notes = {source_id: ArchiveNote(archive.sha256) for source_id, archive in archives.items()}
    found_phrases = list(quoted_phrases(brief))
    stale = list(_stale_opt_outs(brief, found_phrases))
    if policy == "off":
        return VerificationReport((), notes, tuple(stale))
    texts = {source_id: normalise(archive.text) for source_id, archive in archives.items()}
    checks, findings = [], []
    for index, quote in enumerate(brief.quotes):
        chain = [s for s in _source_chain(brief, quote.source) if s in texts]
        check = _check_quote(quote_words(quote.text), chain, texts)
        checks.append(check)
        findings.extend(_findings(index, quote, check, texts, policy))
    opt_outs = {quote_words(entry.phrase): entry.reason for entry in brief.not_quotations}
    phrases = [_check_phrase(brief, path, phrase, texts, opt_outs) for path, phrase in found_phrases]
    findings.extend(finding for check in phrases for finding in _phrase_findings(check, texts, policy))
    numbers = ArchiveNumbers(texts)
    figures = [check_figure(path, value, counts, _archived_chain(brief, cited, texts), numbers)
               for path, value, counts, cited in figure_values(brief.figures)]
    findings.extend(_figure_finding(check) for check in figures if check.status == "not found")
    return VerificationReport(tuple(checks), notes, (*stale, *findings), tuple(phrases), tuple(figures))


def _source_chain(brief: Brief, source: str | None) -> Iterator[str]:
    """The source, the source it came via, and so on (each once)."""
    via = {source.id: source.via for source in brief.sources}
    seen: set[str] = set()
    current = source
    while current is not None and current not in seen:
        seen.add(current)
        yield current
        current = via.get(current)


def _archived_chain(brief: Brief, cited: Iterable[str], texts: Mapping[str, Normalised]) -> list[str]:
    """The cited sources and the sources they came via that have an archive, each once."""
    chain = (source for first in cited for source in _source_chain(brief, first))
    return [source for source in dict.fromkeys(chain) if source in texts]


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


# --- quoted phrases in prose --------------------------------------------------------------

def quoted_phrases(brief: Brief) -> Iterator[tuple[FieldPath, str]]:
    """Each phrase between double quotation marks in the brief's own words, with its field,
    normalised, as the reader sees it: its Markdown fields (markup left out) and its plain
    text typed :data:`~fieldbrief.model.OwnWords` (titles, what a figure counts). Markdown
    that validation refuses (too deep, too long) is not converted: its error is reported."""
    for path, markdown in markdown_fields(brief):
        if QUOTE_MARKS.isdisjoint(markdown) or markdown_problems(markdown):
            continue
        for paragraph in PARAGRAPH.split(markdown):
            yield from _phrases_in(path, to_plain_text(paragraph))
    for path, text in own_words_fields(brief):
        if not QUOTE_MARKS.isdisjoint(text):
            yield from _phrases_in(path, text)


def _phrases_in(path: FieldPath, text: str) -> Iterator[tuple[FieldPath, str]]:
    for match in PHRASE.finditer(normalise(text).text):
        if any(character.isalnum() for character in match[1]):  # not "..." or "?"
            yield path, match[1].strip()


def _stale_opt_outs(brief: Brief, phrases: list[tuple[FieldPath, str]]) -> Iterator[Finding]:
    """An opt-out that names no quoted phrase of the prose: it would hide nothing, or hide
    the next phrase written that way without anyone deciding it."""
    written = {quote_words(phrase) for _, phrase in phrases}
    for index, entry in enumerate(brief.not_quotations):
        if quote_words(entry.phrase) not in written:
            yield Finding(("not_quotations", index, "phrase"),
                          f"{quoted(entry.phrase)} is not a phrase in quotation marks in the "
                          "brief's own words (title, summary, BLUF, figures, timeline, notes); "
                          "remove it, or write the phrase as the brief has it")


def _check_phrase(brief: Brief, path: FieldPath, phrase: str, texts: Mapping[str, Normalised],
                  opt_outs: Mapping[str, str]) -> PhraseCheck:
    """Search the archives of the sources the field cites first, then every other archive
    (``opt_outs``: the reason of each phrase the brief lists as not a quotation)."""
    if (reason := opt_outs.get(quote_words(phrase))) is not None:
        return PhraseCheck(path, phrase, "not a quotation", reason=reason)
    cited = _archived_chain(brief, _cited_by(brief, path), texts)
    order = [*cited, *(source for source in texts if source not in cited)]
    if not order:
        return PhraseCheck(path, phrase, "no archive")
    parts = [quote_words(part) for part in ELISION.split(phrase) if quote_words(part)]
    for source_id in order:
        if (start := _find_in_order(parts, texts[source_id].text)) is not None:
            return PhraseCheck(path, phrase, "verified", source_id, texts[source_id].line_of(start))
    return PhraseCheck(path, phrase, "not found", order[0])


def _cited_by(brief: Brief, path: FieldPath) -> list[str]:
    """The sources the part holding the field at ``path`` cites (a source's note: itself)."""
    part: object = brief
    owner: BaseModel = brief
    for key in path[:-1]:
        part = part[key] if isinstance(key, int) else getattr(part, key)  # type: ignore[index]
        if isinstance(part, BaseModel):
            owner = part
    if isinstance(owner, Source):
        return [owner.id]
    if isinstance(owner, Brief):
        return []
    return list(getattr(owner, "all_sources", None) or getattr(owner, "sources", []))


def _find_in_order(parts: list[str], text: str) -> int | None:
    """Where the first part starts, if each part occurs after the one before it."""
    first, position = None, 0
    for part in parts:
        found = text.find(part, position)
        if found < 0:
            return None
        first = found if first is None else first
        position = found + len(part)
    return first


def _phrase_findings(check: PhraseCheck, texts: Mapping[str, Normalised],
                     policy: Policy) -> Iterator[Finding]:
    shown = f'"{excerpt(check.phrase, PASSAGE_SHOWN)}"'
    if check.status == "not found":
        assert check.archive_of is not None
        line, passage = closest_passage(quote_words(check.phrase), texts[check.archive_of])
        yield Finding(check.path, f"quoted phrase {shown} is not in the archives of the brief's "
                                  f"sources; closest passage (archive of {quoted(check.archive_of)}, "
                                  f"line {line}): '{excerpt(passage, PASSAGE_SHOWN)}'; quote the "
                                  "source's exact words, or list the phrase under 'not_quotations' "
                                  "with a reason if it is not a quotation", Severity.WARNING)
    elif check.status == "no archive" and policy == "require":
        yield Finding(check.path, f"quoted phrase {shown} cannot be checked: no source of the "
                                  "brief has an archived text (verification: require in "
                                  "site.yaml); archive a source, or list the phrase under "
                                  "'not_quotations' with a reason if it is not a quotation")


def _figure_finding(check: FigureCheck) -> Finding:
    searched = ", ".join(quoted(source) for source in check.searched)
    return Finding(check.path, f"figure {quoted(check.value)} ({excerpt(check.counts)}) is not a "
                               f"number the archives of its sources give (searched: {searched}); "
                               "check the value, or cite the source that gives it", Severity.WARNING)


# --- closest passage and audit --------------------------------------------------------------

def closest_passage(words: str, archive: Normalised) -> tuple[int, str]:
    """The line and text of the archive's passage most like ``words``: windows of the
    quote's length, ranked by a cheap bound first, the best few compared in full."""
    text, size = archive.text, max(1, len(words))
    step = max(1, size // PASSAGE_STEPS, len(text) // MAX_WINDOWS)
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
    """One line per quote, quoted phrase and figure value of ``brief``: what verification
    found (for ``check --report``); nothing when verification is off."""
    for number, (quote, check) in enumerate(zip(brief.quotes, report.quotes), 1):
        yield f"{file}: quote {number} ({excerpt(quote.speaker)}): {_found(check)}"
    for phrase in report.phrases:
        yield f'{file}: phrase "{excerpt(phrase.phrase)}" ({dotted(phrase.path)}): {_found(phrase)}'
    for figure in report.figures:
        name = f"{_figure_name(figure.path)} {quoted(figure.value)} ({excerpt(figure.counts)})"
        yield f"{file}: {name}: {_found(figure)}"


def _found(check: QuoteCheck | PhraseCheck | FigureCheck) -> str:
    """'verified (archive of 'x', line 8)', 'not found (searched: 'x')', 'not a quotation
    (its reason)', or the status alone."""
    if isinstance(check, PhraseCheck) and check.reason is not None:
        return f"not a quotation ({excerpt(check.reason, PASSAGE_SHOWN)})"
    if check.status == "verified" and check.archive_of is not None:
        return f"verified (archive of {quoted(check.archive_of)}, line {check.line})"
    if isinstance(check, FigureCheck) and check.status == "not found":
        return f"not found (searched: {', '.join(quoted(source) for source in check.searched)})"
    if check.status == "not checkable":
        return "not checkable (no number in the value)"
    return check.status


def _figure_name(path: FieldPath) -> str:
    """'figure 2' for figures[1].value, 'figure 2, estimate 1' for figures[1].estimates[0].value."""
    numbers = [part + 1 for part in path if isinstance(part, int)]
    return f"figure {numbers[0]}" + (f", estimate {numbers[1]}" if len(numbers) > 1 else "")


ALWAYS_COUNTED = ("verified", "not found", "no archive")
OPTIONAL_COUNTED = ("not a quotation", "not checkable")
"""Statuses the summary counts only when some check has them."""


def audit_summary(reports: Iterable[VerificationReport]) -> str:
    """The audit's last line: how many quotes, quoted phrases and figures were verified,
    not found, or not checkable (and why)."""
    every = list(reports)
    kinds = (("quote", [c.status for r in every for c in r.quotes]),
             ("quoted phrase", [c.status for r in every for c in r.phrases]),
             ("figure", [c.status for r in every for c in r.figures]))
    parts = []
    for kind, statuses in kinds:
        shown = [status for status in ALWAYS_COUNTED + OPTIONAL_COUNTED
                 if status in ALWAYS_COUNTED or status in statuses]
        counted = [f"{statuses.count(status)} {status}" for status in shown]
        parts.append(f"{len(statuses)} {kind}{'s' * (len(statuses) != 1)} ({', '.join(counted)})")
    return f"verification: {'; '.join(parts)}"
