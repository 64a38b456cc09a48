"""Stage 2b, verify (figures): check each figure's value against the archives of its sources.

In: the figures of a validated :class:`~fieldbrief.model.Brief` and the normalised archive
texts of its sources (see :mod:`fieldbrief.verify`). Out: a :class:`FigureCheck` for each
figure value and estimate value. Pure: nothing here reads a file.

Numbers are compared as numbers, never as text: the value and the archive are both read
into numbers, and a value is found when each of its numbers occurs in one archive.
Read as the same number: digit groups with commas, spaces, no-break or thin spaces or
apostrophes (41,200 / 41 200 / 41'200 / 41200), or dots (41.200); a single dot before
three digits that do not end in 0 is read both ways (41.125: 41125 or 41.125), and
before a scale word as a decimal point (1.125 million); a decimal comma (3,5); a scale
word (1.5 million, 30 thousand, 2bn); number words (twelve, twenty-one, three hundred
and five, a million). A percentage (45%, 45 percent, 45 per cent) is a different
quantity from the bare number. Words around a number ("over", "at least", "+") are not
compared: "80+" and "over 80" and "80" are all 80.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from fieldbrief.model import FieldPath, Figure

if TYPE_CHECKING:
    from fieldbrief.verify import Normalised

FigureStatus = Literal["verified", "not found", "no archive", "not checkable"]

UNITS = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
         "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()
WORD_VALUES = {**{word: n for n, word in enumerate(UNITS)},
               **{word: 20 + 10 * n for n, word in enumerate(TENS)}}
SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9,
          "bn": 10**9, "trillion": 10**12}


def _trie(words: list[str]) -> str:
    """An alternation of ``words`` grouped by their letters (seven|six -> s(?:even|ix)): the
    regular expression engine then tries one branch per letter, not one per word."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(word[1:])
    parts = []
    for first, rests in sorted(groups.items()):
        longer = [rest for rest in rests if rest]
        optional = "?" if len(longer) < len(rests) else ""
        parts.append(f"{first}(?:{_trie(longer)}){optional}" if longer else first)
    return "|".join(parts)


_NAMES = [*WORD_VALUES, *(scale for scale in SCALES if scale != "bn")]
_WORD = _trie(_NAMES)
_FIRST_WORD = _trie([*WORD_VALUES, *(name.capitalize() for name in WORD_VALUES)])
"""A number in words starts with a unit or a ten (Seven, at a sentence's start, too), or
with 'a' before a scale word: 'several hundred' is not 100."""
_BIG = "|".join(scale for scale in SCALES if scale not in ("hundred", "bn"))
_PERCENT = r"\ (?:percent|per\ cent)\b"
DIGITS = re.compile(rf"""
    (?P<number> \d (?<![\w.,'’]\d)  # a first digit, not the tail of a longer token
      (?: \d{{0,2}} (?P<sep>[,.'’\ \u00a0\u2009\u202f]) \d{{3}} (?:(?P=sep)\d{{3}})*  # 41,200
        | \d* ) )
    (?P<fraction> [.,]\d+ )? (?!\d)
    (?: \ ? (?P<scale>{_BIG}|bn) )?
    (?P<percent> \ ?% | {_PERCENT} )?
    (?![^\W\d_])
""", re.VERBOSE)
"""A number in digits. It starts with a digit (the look-behind comes after it), and
WORDS tries one branch per letter, without IGNORECASE: the engine skips other text
quickly, 50 KB in about 3 ms for both, where one case-insensitive pattern took 40."""
WORDS = re.compile(rf"""
    \b (?P<words> (?: {_FIRST_WORD} | [Aa] (?=\ (?:hundred|{_BIG})\b) )  # a hundred
        (?: (?:[ -]|(?<=hundred)\ and\ |(?<=thousand)\ and\ |(?<=million)\ and\ ) (?:{_WORD}) )* ) \b
    (?P<percent> {_PERCENT} )?
""", re.VERBOSE)


MAX_NUMBER_CHARS = 40
"""The longest number in digits read as one (41,200,000,000 is 14): longer runs are data."""


@dataclass(frozen=True)
class Number:
    """A number as text gives it: each value it may mean, and whether it is a percentage."""

    readings: frozenset[Decimal]
    percent: bool
    start: int


@dataclass(frozen=True)
class FigureCheck:
    """What verification found for one figure value (a flat figure's, or an estimate's)."""

    path: FieldPath  # the value's field: figures[i].value, figures[i].estimates[j].value
    value: str
    counts: str
    status: FigureStatus
    searched: tuple[str, ...] = ()  # the sources whose archives were searched
    archive_of: str | None = None  # verified: the source whose archive gives the number
    line: int | None = None


def numbers_in(text: str) -> list[Number]:
    """Every number ``text`` gives, in order (see the module's docstring)."""
    return sorted(_numbers(text), key=lambda number: number.start)


def _numbers(text: str) -> Iterator[Number]:
    """Every number ``text`` gives, digits first, then words: one at a time, so that an
    archive of millions of numbers is never held as a list. A run of more digits than
    any figure has is not a number (it would also overflow the decimal arithmetic)."""
    taken: set[int] = set()
    for match in DIGITS.finditer(text):
        if len(match["number"]) + len(match["fraction"] or "") > MAX_NUMBER_CHARS:
            continue
        if match["scale"]:
            taken.update(range(*match.span("scale")))
        yield Number(_digits_readings(match), bool(match["percent"]), match.start())
    for match in WORDS.finditer(text):
        if match.start() not in taken:  # not the 'million' of 1.5 million
            yield Number(frozenset({_words_value(match["words"])}), bool(match["percent"]), match.start())


def _digits_readings(match: re.Match[str]) -> frozenset[Decimal]:
    """41,200 -> 41200; 41.125 -> 41125 or 41.125; 3,5 -> 3.5; 1.5 million -> 1500000."""
    number = match["number"]
    if _dot_may_be_a_point(match):
        point = Decimal(number)
        readings = {point} if match["scale"] else {point, Decimal(number.replace(".", ""))}
    else:
        readings = {Decimal(re.sub(r"\D", "", number)) + _fraction(match["fraction"])}
    scale = SCALES[match["scale"]] if match["scale"] else 1
    return frozenset(reading * scale for reading in readings)


def _dot_may_be_a_point(match: re.Match[str]) -> bool:
    """Whether the one dot of a grouped number may be a decimal point: always before a
    scale word (1.125 million), else unless the decimals end in 0 (a decimal is not
    written 41.200, so that is 41200, and 1.000 is never 1)."""
    number = match["number"]
    return (match["sep"] == "." and number.count(".") == 1 and not match["fraction"]
            and (bool(match["scale"]) or not number.endswith("0")))


def _fraction(text: str | None) -> Decimal:
    return Decimal("0." + text[1:]) if text else Decimal(0)


def _words_value(text: str) -> Decimal:
    """'twenty-one thousand three hundred and five' -> 21305."""
    total = current = 0
    for word in re.split(r"[ -]+", text.lower()):
        if word == "a":  # a hundred, a million
            current = 1
        elif word == "and":
            continue
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in SCALES:
            total += max(current, 1) * SCALES[word]
            current = 0
        else:
            current += WORD_VALUES[word]
    return Decimal(total + current)


def number_index(text: str) -> dict[tuple[Decimal, bool], int]:
    """Where each number (and percentage) first occurs in ``text``."""
    index: dict[tuple[Decimal, bool], int] = {}
    for number in _numbers(text):
        for reading in number.readings:
            key = (reading, number.percent)
            index[key] = min(index.get(key, number.start), number.start)
    return index


class ArchiveNumbers:
    """The numbers of each archive, read once per brief and only when a figure asks."""

    def __init__(self, texts: Mapping[str, Normalised]) -> None:
        self.texts = texts
        self._indexes: dict[str, dict[tuple[Decimal, bool], int]] = {}

    def find(self, numbers: Sequence[Number], source_id: str) -> int | None:
        """Where the first of ``numbers`` occurs, if every one occurs in the archive."""
        if source_id not in self._indexes:
            self._indexes[source_id] = number_index(self.texts[source_id].text)
        index = self._indexes[source_id]
        positions = []
        for number in numbers:
            found = [index[(r, number.percent)] for r in number.readings if (r, number.percent) in index]
            if not found:
                return None
            positions.append(min(found))
        return positions[0]


def figure_values(figures: Sequence[Figure]) -> Iterator[tuple[FieldPath, str, str, list[str]]]:
    """Each value to check: its field, the value, what it counts, and the sources it cites."""
    for i, figure in enumerate(figures):
        if figure.value is not None:
            yield ("figures", i, "value"), figure.value, figure.counts, figure.sources
        for j, estimate in enumerate(figure.estimates):
            yield ("figures", i, "estimates", j, "value"), estimate.value, figure.counts, estimate.sources


def check_figure(path: FieldPath, value: str, counts: str, chain: Sequence[str],
                 archives: ArchiveNumbers) -> FigureCheck:
    """Look for ``value``'s numbers in the archives of ``chain`` (its sources and their `via`)."""
    numbers = numbers_in(value)
    if not numbers:
        return FigureCheck(path, value, counts, "not checkable")
    if not chain:
        return FigureCheck(path, value, counts, "no archive")
    for source_id in chain:
        if (start := archives.find(numbers, source_id)) is not None:
            line = archives.texts[source_id].line_of(start)
            return FigureCheck(path, value, counts, "verified", tuple(chain), source_id, line)
    return FigureCheck(path, value, counts, "not found", tuple(chain))
