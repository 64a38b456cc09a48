"""Problems found in input files, and the one exception family that carries them.

Every stage reports a problem as a :class:`Problem` naming the file, the position
in it and the field; only the CLI turns problems into text and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path


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
        where = f"{self.file}:{self.line}:{self.column}"
        label = "warning: " if self.severity is Severity.WARNING else ""
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {label}{self.message}"


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
    """Path as the user should read it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
