"""Stage 3b, series: issues of a series checked together, and what changed between them.

In: for every brief of the build, its card, the few facts a series needs of it
(:class:`IssueFacts`, taken from the brief when it is validated and kept in the build
record, so that an unchanged brief is not read again), and where the publishing policy
placed it; and the series declared in ``series/<id>.yaml``. Out: for each issue, its
:class:`IssueContext` (the changes since the previous issue its audience may see, and
links to its neighbours), and for the site, each series with its published issues.
Or :class:`~fieldbrief.errors.InvalidInput` naming, at their positions, an unknown
series, a duplicate number, a gap in the numbering and an as-of date that goes back.

Everything here is computed from the two files compared; nothing is typed by the
analyst. A change is computed only from an issue whose label is no more restrictive
than the issue that shows it: a TLP:CLEAR issue never shows a value taken from a
TLP:AMBER one. The context of an issue is hashed into its page's fingerprint, so a
correction to issue N re-renders issue N+1 exactly when its box changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from fieldbrief.errors import InvalidInput, Problem, display_path, quoted
from fieldbrief.i18n import CONFIDENCE_LEVELS, LIKELIHOOD_TERMS, N_, Localizer
from fieldbrief.incremental import Placement, digest
from fieldbrief.load import load_file
from fieldbrief.markup import to_plain_text
from fieldbrief.model import (ID_PATTERN, LIKELIHOOD_SCALE, TLP_ORDER, BriefCard, Figure, IssueFacts, Judgement,
                              KeyedFigure, PartialDate, SeriesDeclaration, SourceFact, Statement,
                              TimelineEntry)
from fieldbrief.validate import ValidBrief, validate_model

SERIES_DIR = "series"
"""Labels from the widest audience to the narrowest."""
CONFIDENCE_ORDER = ("low", "moderate", "high")
LIKELIHOOD_ORDER = tuple(LIKELIHOOD_SCALE)
NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
"""A figure value that is a number, and nothing else: 41,200 or 4 or 2.5 (not 'about 12,000')."""
MINUS = "\u2212"
TEXT_EXCERPT = 90
"""Characters of a judgement's text shown in a change box."""


# --- facts taken from one brief ------------------------------------------------------------

def issue_facts(valid: ValidBrief) -> IssueFacts | None:
    """The series facts of a validated brief, or None when it is not an issue of a series."""
    brief, loaded = valid.brief, valid.source_file
    if brief.series is None:
        return None
    return IssueFacts(
        positions={name: loaded.position_of((name,)) for name in ("series", "number", "as_of")},
        next_update=brief.next_update,
        figures=[KeyedFigure(key=figure.key, counts=figure.counts, value=_value(figure))
                 for figure in brief.figures if figure.key],
        timeline=[_identity(entry) for entry in brief.timeline],
        judgements=[_judgement(section, index, statement)
                    for section in ("assessment", "outlook")
                    for index, statement in enumerate(getattr(brief, section), 1)],
        sources=[SourceFact(id=source.id, title=source.title) for source in brief.sources])


def _value(figure: Figure) -> str:
    """A figure's value as written; the values of sources that differ, side by side."""
    return " / ".join(e.value for e in figure.estimates) if figure.estimates else figure.value or ""


def _identity(entry: TimelineEntry) -> str:
    """What makes a timeline entry the same in two issues: its key, or its date and text."""
    return entry.key or f"{entry.date.iso if entry.date else ''}|{entry.when or ''}|{entry.text.strip()}"


def _judgement(section: str, index: int, statement: Statement) -> Judgement:
    text = " ".join(to_plain_text(statement.text).split())
    return Judgement(section=section, index=index, identity=statement.key or f"text:{text}",
                     text=text, likelihood=statement.likelihood, confidence=statement.confidence)


# --- declarations ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Declared:
    id: str
    declaration: SeriesDeclaration
    file: str  # as displayed in messages
    digest: str  # of the file's bytes


def load_declarations(root: Path, max_bytes: int) -> dict[str, Declared]:
    """Every series declared in ``root/series/``, checked like a brief; InvalidInput if not."""
    folder = root / SERIES_DIR
    if not folder.is_dir():
        return {}
    declared: dict[str, Declared] = {}
    problems: list[Problem] = []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")):
        if not re.fullmatch(ID_PATTERN, path.stem):
            problems.append(Problem(display_path(path), 1, 1, "", (
                f"a series file is named by its series id: {quoted(path.stem)} is not an id "
                "(lowercase letters, digits and single hyphens)")))
            continue
        try:
            loaded = load_file(path, max_bytes, root)
            declared[path.stem] = Declared(path.stem, validate_model(loaded, SeriesDeclaration),
                                           loaded.name, digest(loaded.raw))
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput(problems)
    return declared


# --- what changed ----------------------------------------------------------------------------

FIGURE_NEW = N_("%(value)s (new since No. %(number)s)")
FIGURE_GONE = N_("no longer reported (was: %(was)s in No. %(number)s)")
FIGURE_SAME = N_("%(value)s, unchanged since No. %(number)s")
FIGURE_SAME_WRITTEN_OTHERWISE = N_("%(value)s, unchanged since No. %(number)s (%(was)s)")
FIGURE_WAS = N_("%(value)s, was: %(was)s in No. %(number)s")
FIGURE_UP = N_("%(value)s, up from %(was)s in No. %(number)s: %(difference)s")
FIGURE_DOWN = N_("%(value)s, down from %(was)s in No. %(number)s: %(difference)s")
MOVES = {
    ("likelihood", "raised"): N_("likelihood raised to %(value)s (was: %(was)s)"),
    ("likelihood", "lowered"): N_("likelihood lowered to %(value)s (was: %(was)s)"),
    ("likelihood", "set"): N_("likelihood %(value)s (was: %(was)s)"),
    ("confidence", "raised"): N_("confidence raised to %(value)s (was: %(was)s)"),
    ("confidence", "lowered"): N_("confidence lowered to %(value)s (was: %(was)s)"),
    ("confidence", "set"): N_("confidence %(value)s (was: %(was)s)"),
}
NOT_GIVEN = N_("not given")


@dataclass(frozen=True)
class Wording:
    """A sentence of a change box, kept as its catalog message and the values it takes, so
    each page says it in its own language. ``terms`` are values that are words of a scale
    (likelihood, confidence), translated too; ``values`` are the brief's text, as written."""

    message: str
    values: tuple[tuple[str, str], ...] = ()
    terms: tuple[tuple[str, str], ...] = ()

    def say(self, words: Localizer) -> str:
        terms = {name: _term(term, words) for name, term in self.terms}
        return words.gettext(self.message) % {**dict(self.values), **terms}


def _term(term: str, words: Localizer) -> str:
    """A likelihood or confidence word as it reads inside a sentence ('very likely')."""
    if term in LIKELIHOOD_TERMS:
        text = words.gettext(LIKELIHOOD_TERMS[term])
        return text[:1].lower() + text[1:]
    return words.gettext(CONFIDENCE_LEVELS.get(term, NOT_GIVEN))


@dataclass(frozen=True)
class FigureChange:
    key: str
    counts: str
    kind: str  # changed, unchanged, new, gone
    wording: Wording  # e.g. '41,200, up from 36,000 in No. 2: +5,200'


@dataclass(frozen=True)
class JudgementChange:
    section: str
    index: int
    text: str  # the judgement, cut to an excerpt
    moves: tuple[Wording, ...]  # e.g. 'likelihood raised to very likely (was: likely)'


@dataclass(frozen=True)
class Changes:
    since: int  # the number of the issue compared with
    since_id: str
    since_as_of: PartialDate
    figures: tuple[FigureChange, ...]
    new_timeline: tuple[int, ...]  # 1-based positions of new entries in this issue
    judgements: tuple[JudgementChange, ...]
    new_sources: tuple[str, ...]
    dropped_sources: tuple[str, ...]

    @property
    def headline(self) -> tuple[FigureChange, ...]:
        """The figure changes worth a line: every one but the unchanged."""
        return tuple(change for change in self.figures if change.kind != "unchanged")

    @property
    def unchanged(self) -> int:
        return sum(change.kind == "unchanged" for change in self.figures)

    def figure(self, key: str | None) -> FigureChange | None:
        return next((change for change in self.figures if change.key == key), None)

    def judgement(self, section: str, index: int) -> JudgementChange | None:
        return next((j for j in self.judgements if (j.section, j.index) == (section, index)), None)


def changes(now: IssueFacts, before: IssueFacts, before_card: BriefCard) -> Changes:
    """What changed from ``before`` (issue No. ``before_card.number``) to ``now``."""
    number = before_card.number or 0
    old_timeline = set(before.timeline)
    now_ids = {source.id for source in now.sources}
    before_ids = {source.id for source in before.sources}
    return Changes(
        since=number, since_id=before_card.id, since_as_of=PartialDate.of(before_card.as_of),
        figures=_figure_changes(now.figures, before.figures, number),
        new_timeline=tuple(index for index, identity in enumerate(now.timeline, 1)
                           if identity not in old_timeline),
        judgements=_judgement_changes(now.judgements, before.judgements),
        new_sources=tuple(s.title for s in now.sources if s.id not in before_ids),
        dropped_sources=tuple(s.title for s in before.sources if s.id not in now_ids))


def _figure_changes(now: list[KeyedFigure], before: list[KeyedFigure],
                    number: int) -> tuple[FigureChange, ...]:
    earlier = {figure.key: figure for figure in before}
    found = []
    for figure in now:
        old = earlier.get(figure.key)
        if old is None:
            wording = Wording(FIGURE_NEW, (("value", figure.value), ("number", str(number))))
            found.append(FigureChange(figure.key, figure.counts, "new", wording))
        else:
            kind, wording = _compare(figure.value, old.value, number)
            found.append(FigureChange(figure.key, figure.counts, kind, wording))
    current = {figure.key for figure in now}
    found.extend(FigureChange(old.key, old.counts, "gone",
                              Wording(FIGURE_GONE, (("was", old.value), ("number", str(number)))))
                 for old in before if old.key not in current)
    return tuple(found)


def _compare(value: str, was: str, number: int) -> tuple[str, Wording]:
    """('changed' or 'unchanged', the sentence saying so)."""
    values = (("value", value), ("was", was), ("number", str(number)))
    if value == was:
        return "unchanged", Wording(FIGURE_SAME, values)
    new, old = parse_number(value), parse_number(was)
    if new is None or old is None:
        return "changed", Wording(FIGURE_WAS, values)
    if new == old:
        return "unchanged", Wording(FIGURE_SAME_WRITTEN_OTHERWISE, values)
    return "changed", Wording(FIGURE_UP if new > old else FIGURE_DOWN,
                              (*values, ("difference", _signed(new - old, value, was))))


def parse_number(text: str) -> Decimal | None:
    """The number a figure value is, when it is nothing but a number."""
    text = text.strip()
    return Decimal(text.replace(",", "")) if NUMBER.match(text) else None


def _signed(difference: Decimal, *written: str) -> str:
    decimals = max(len(text.partition(".")[2]) for text in written)
    shown = f"{abs(difference):,.{decimals}f}"
    return ("+" if difference > 0 else MINUS) + shown


def _judgement_changes(now: list[Judgement], before: list[Judgement]) -> tuple[JudgementChange, ...]:
    earlier = {judgement.identity: judgement for judgement in before}
    found = []
    for judgement in now:
        old = earlier.get(judgement.identity)
        if old is None:
            continue
        moves = [move for move in (
            _moved("likelihood", judgement.likelihood, old.likelihood, LIKELIHOOD_ORDER),
            _moved("confidence", judgement.confidence, old.confidence, CONFIDENCE_ORDER)) if move]
        if moves:
            text = judgement.text if len(judgement.text) <= TEXT_EXCERPT else \
                judgement.text[:TEXT_EXCERPT].rsplit(" ", 1)[0] + "…"
            found.append(JudgementChange(judgement.section, judgement.index, text, tuple(moves)))
    return tuple(found)


def _moved(what: str, value: str | None, was: str | None, scale: Sequence[str]) -> Wording | None:
    if value == was:
        return None
    if value is None or was is None:
        how = "set"
    else:
        how = "raised" if scale.index(value) > scale.index(was) else "lowered"
    return Wording(MOVES[what, how], terms=(("value", value or ""), ("was", was or "")))


# --- the issues of every series, together --------------------------------------------------

@dataclass(frozen=True)
class Member:
    """One issue as the build sees it."""

    file: str  # as displayed in messages
    card: BriefCard
    facts: IssueFacts
    placement: Placement


@dataclass(frozen=True)
class NavLink:
    id: str
    number: int


@dataclass(frozen=True)
class IssueContext:
    """All an issue's page and PDF show of its series: handed to the renderer as data."""

    series: str
    title: str
    cadence: str
    number: int
    next_update: str | None
    previous: NavLink | None  # the neighbours on the same site (links), if published
    next: NavLink | None
    changes: Changes | None  # None for the first issue its audience may see

    @property
    def digest(self) -> str:
        return digest(json.dumps(asdict(self), sort_keys=True, default=str))


@dataclass(frozen=True)
class Issue:
    card: BriefCard
    facts: IssueFacts
    context: IssueContext


@dataclass(frozen=True)
class SeriesListing:
    """One series as the site shows it: its published issues, newest first."""

    id: str
    declaration: SeriesDeclaration
    issues: tuple[Issue, ...]

    @property
    def latest(self) -> Issue:
        return self.issues[0]


@dataclass(frozen=True)
class SeriesFacts:
    contexts: dict[str, IssueContext] = field(default_factory=dict)  # by brief id
    listings: tuple[SeriesListing, ...] = ()
    declarations_digest: str = ""

    def index_cards(self, cards: Sequence[BriefCard]) -> list[BriefCard]:
        """``cards`` with each series shown only by its latest published issue."""
        latest = {listing.latest.card.id for listing in self.listings}
        return [card for card in cards if card.series is None or card.id in latest]

    @property
    def counts(self) -> dict[str, tuple[str, int]]:
        """Each listed series' title and number of published issues, for the index."""
        return {listing.id: (listing.declaration.title, len(listing.issues)) for listing in self.listings}


def gather(members: Sequence[Member], declared: dict[str, Declared]) -> SeriesFacts:
    """Check every series' numbering and dates; compute each issue's context."""
    by_series: dict[str, list[Member]] = {}
    problems: list[Problem] = []
    for member in members:
        series = member.card.series or ""
        if series not in declared:
            problems.append(_problem(member, "series", (
                f"unknown series {quoted(series)}; declare it in {SERIES_DIR}/{series}.yaml "
                "with its title, desk and cadence")))
        else:
            by_series.setdefault(series, []).append(member)
    for series, issues in by_series.items():
        issues.sort(key=lambda m: (m.card.number or 0, m.file))
        problems.extend(_numbering_problems(series, issues))
    if problems:
        raise InvalidInput(problems)
    contexts: dict[str, IssueContext] = {}
    listings = []
    for series, issues in sorted(by_series.items()):
        for index, member in enumerate(issues):
            contexts[member.card.id] = _context(declared[series], issues, index)
        published = [Issue(m.card, m.facts, contexts[m.card.id]) for m in reversed(issues)
                     if m.placement == "published"]
        if published:
            listings.append(SeriesListing(series, declared[series].declaration, tuple(published)))
    return SeriesFacts(contexts, tuple(listings),
                       digest(*(d.digest for _, d in sorted(declared.items()))))


def _numbering_problems(series: str, issues: list[Member]) -> list[Problem]:
    """Numbers from 1 with no gap and no duplicate, each issue as of a later moment."""
    problems = []
    first = issues[0]
    if first.card.number != 1:
        problems.append(_problem(first, "number", (
            f"series {quoted(series)} starts at No. {first.card.number}: there is no No. 1; "
            "number the issues of a series from 1")))
    for before, member in zip(issues, issues[1:]):
        number, previous = member.card.number or 0, before.card.number or 0
        if number == previous:
            problems.append(_problem(member, "number", (
                f"No. {number} of series {quoted(series)} is also {before.file}; "
                "each issue needs its own number")))
            continue
        if number != previous + 1:
            problems.append(_problem(member, "number", (
                f"No. {number} follows No. {previous} ({before.file}) in series {quoted(series)}: "
                f"No. {previous + 1} is missing; number the issues one after another")))
        if member.card.as_of_moment <= before.card.as_of_moment:
            problems.append(_problem(member, "as_of", (
                f"as of {PartialDate.of(member.card.as_of)} is not later than No. {previous} "
                f"({before.file}), as of {PartialDate.of(before.card.as_of)}; each issue of a "
                "series is as of a later moment than the one before")))
    return problems


def _problem(member: Member, name: str, message: str) -> Problem:
    line, column = member.facts.positions[name]
    return Problem(member.file, line, column, name, message)


def _context(declared: Declared, issues: list[Member], index: int) -> IssueContext:
    member = issues[index]
    compared = _previous_visible(issues, index)
    published = member.placement == "published"
    return IssueContext(
        series=declared.id, title=declared.declaration.title, cadence=declared.declaration.cadence,
        number=member.card.number or 0, next_update=member.facts.next_update,
        previous=_link(reversed(issues[:index])) if published else None,
        next=_link(issues[index + 1:]) if published else None,
        changes=changes(member.facts, compared.facts, compared.card) if compared else None)


def _previous_visible(issues: list[Member], index: int) -> Member | None:
    """The latest earlier issue that the audience of issue ``index`` may see: one that is
    not a draft left out, and whose label is no more restrictive than its own."""
    rank = TLP_ORDER.index(issues[index].card.tlp)
    for member in reversed(issues[:index]):
        if member.placement != "draft" and TLP_ORDER.index(member.card.tlp) <= rank:
            return member
    return None


def _link(candidates: Iterable[Member]) -> NavLink | None:
    """The first published issue among ``candidates``: the neighbour a page may link to."""
    for member in candidates:
        if member.placement == "published":
            return NavLink(member.card.id, member.card.number or 0)
    return None
