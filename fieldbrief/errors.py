"""Problems found in input files, and the one exception family that carries them.

Every stage reports a problem as a :class:`Problem` naming the file, the position
in it and the field; only the CLI turns problems into text and exit codes.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

EXCERPT_LENGTH = 40
"""Most characters of a value that a message shows: enough to find it, never a file's worth."""


class Severity(Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one field of one file."""

    file: str
    line: int
    column: int
    field: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        """The problem as exactly one line: line breaks and controls in any part are escaped."""
        where = f"{printable(self.file)}:{self.line}:{self.column}"
        label = "warning: " if self.severity is Severity.WARNING else ""
        field = f" {printable(self.field)}:" if self.field else ""
        return f"{where}:{field} {label}{printable(self.message)}"


class FieldbriefError(Exception):
    """Base of every error the build reports to the user without a traceback."""


class InvalidInput(FieldbriefError):
    """One or more input files are invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = sorted(problems)


class BuildFailed(FieldbriefError):
    """Rendering or publishing failed for a reason that is not a field of a brief."""


def display_path(path: Path) -> str:
    """Path as the user should read it: relative to the working folder when inside it,
    and printable (see :func:`printable`). A link is shown by its own name, not its target."""
    try:
        return printable(str((path.parent.resolve() / path.name).relative_to(Path.cwd().resolve())))
    except ValueError:
        return printable(str(path))


_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Unicode categories escaped for display: controls (ESC, CR, LF), format characters
(bidirectional overrides), surrogates, and line and paragraph separators."""


_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(character: str) -> str:
    if unicodedata.category(character) not in _INVISIBLE:
        return character
    code = ord(character)
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def printable(text: str) -> str:
    """``text`` with every control, format or line-breaking character shown as an escape
    (ESC as ``\\x1b``, a line feed as ``\\n``), so that what a file or a value contains
    can neither break a message into two lines nor drive the terminal."""
    if text.isprintable():
        return text
    return "".join(_escaped(character) for character in text)


def excerpt(value: object, limit: int = EXCERPT_LENGTH) -> str:
    """``value`` as a message may show it: printable, and at most ``limit`` characters
    (cut with '…' between whole characters), however long the value is."""
    text = value if isinstance(value, str) else str(value)
    pieces = [_escaped(character) for character in text[:limit + 1]]
    if len(text) <= limit and sum(map(len, pieces)) <= limit:
        return "".join(pieces)
    shown, length = [], 0
    for piece in pieces:
        if length + len(piece) > limit - 1:
            break
        shown.append(piece)
        length += len(piece)
    return "".join(shown) + "…"


def quoted(value: object) -> str:
    """An excerpt of ``value`` for a message: text in single quotes, other values bare."""
    return f"'{excerpt(value)}'" if isinstance(value, str) else excerpt(value)
