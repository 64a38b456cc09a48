"""Progress of a build, as the CLI shows it: a bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

from typing import TextIO



class PlainProgress:
    """One line per brief rendered: for logs and CI."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def start(self, total: int) -> None:
        pass

    def done(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class BarProgress:
    """A bar with counts and time remaining, on a terminal."""

    def __init__(self, out: TextIO) -> None:
        from rich.console import Console  # only a terminal needs rich: logs and CI start sooner
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn("rendering"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(file=out), transient=True)
        self.task = self.bar.add_task("briefs", total=None)

    def start(self, total: int) -> None:
        self.bar.update(self.task, total=total)
        self.bar.start()

    def done(self, line: str) -> None:
        self.bar.advance(self.task)

    def close(self) -> None:
        self.bar.stop()


def progress_for(out: TextIO) -> PlainProgress | BarProgress:
    return BarProgress(out) if out.isatty() else PlainProgress(out)
