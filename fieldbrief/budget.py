"""A budget of time and memory for rendering one brief.

A brief is untrusted input, and laying it out is the one step whose cost depends on
it in ways validation cannot fully bound (an image that is costly to draw, a layout
that is costly to break into pages). Each render runs inside :func:`budget`: past its
time, or past its memory, the render stops with :class:`~fieldbrief.errors.BuildFailed`
naming the brief, and the build fails instead of hanging or exhausting the machine.

Time is measured with a real-time interval timer (SIGALRM, main thread only, as in
worker processes and the in-process path); memory with the process's data-segment
limit (RLIMIT_DATA), lowered for the render to what the process already uses plus the
budget, and restored afterwards. Both are Linux/Unix facilities; where one is missing
the render runs without that bound.
"""

from __future__ import annotations

import resource
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from fieldbrief.errors import BuildFailed

MIB = 1024 * 1024


class _OutOfTime(BaseException):
    """Raised by the timer inside the render. A BaseException, so that no library's
    ``except Exception`` can swallow it and carry on."""


@contextmanager
def budget(label: str, seconds: int, memory_mib: int) -> Iterator[None]:
    """Run the block within ``seconds`` of time and ``memory_mib`` MiB of new memory."""
    timer = _Timer(seconds)
    try:
        with timer, _memory_limit(memory_mib):
            yield
    except _OutOfTime:
        pass  # reported below, as when a library caught it
    except MemoryError:
        raise BuildFailed(f"{label}: rendering needed more than {memory_mib} MiB, its budget "
                          "(render_memory_mib in site.yaml)") from None
    if timer.expired:
        raise BuildFailed(f"{label}: rendering took more than {seconds} s, its budget "
                          "(render_seconds in site.yaml)")


class _Timer:
    """Interrupts the block once its time is up, and again every RETRY seconds after
    that: a library that catches the first interruption (WeasyPrint catches every
    exception while drawing an SVG image) is interrupted again until the block ends.

    An interruption that lands in a finaliser (``__del__``, a generator closed by the
    garbage collector) cannot propagate: Python hands it to ``sys.unraisablehook``, whose
    default prints a traceback. While armed, the timer installs its own hook, which
    drops its interruptions silently (the expiry is reported by :func:`budget`) and passes
    anything else on; and it never interrupts that hook itself."""

    RETRY = 0.05

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.expired = False
        self.armed = threading.current_thread() is threading.main_thread()  # signals go there

    def __enter__(self) -> None:
        if self.armed:
            self.previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
            self.previous = signal.signal(signal.SIGALRM, self._out_of_time)
            signal.setitimer(signal.ITIMER_REAL, self.seconds, self.RETRY)

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            sys.unraisablehook = self.previous_hook

    def _out_of_time(self, signum: int, frame: FrameType | None) -> None:
        self.expired = True
        if not _inside(frame, self._unraisable.__code__):
            raise _OutOfTime()

    def _unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        if not isinstance(unraisable.exc_value, _OutOfTime):
            self.previous_hook(unraisable)


def _inside(frame: FrameType | None, code: object) -> bool:
    """Whether ``frame`` or one of its callers runs ``code``."""
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


@contextmanager
def _memory_limit(memory_mib: int) -> Iterator[None]:
    in_use = _data_segment_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if in_use is None:
        yield
        return
    limit = in_use + memory_mib * MIB
    for bound in (soft, hard):  # never above a limit the user already set
        if bound != resource.RLIM_INFINITY:
            limit = min(limit, bound)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


def _data_segment_bytes() -> int | None:
    """What this process's data segment holds now (VmData), or None where not known."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    return None
