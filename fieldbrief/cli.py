"""The command line: the only place that prints messages and chooses exit codes.

    python build.py [--out DIR] [--strict] [BRIEF ...]   build the site (all briefs, or those named)
    python build.py check [--strict] [--report] [BRIEF ...]  validate without writing
    python build.py serve [--port N]                     build, serve, rebuild on change
    python build.py new project DIR | new brief ID       start a project, or a brief

Installed (``pip install .``), the same commands are ``fieldbrief build``, ``fieldbrief
check``, ``fieldbrief serve`` and ``fieldbrief new``.

Exit status: 0 success, 1 invalid briefs or a failed build, 2 wrong usage.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, TextIO


from fieldbrief import __version__
from fieldbrief import stamp
from fieldbrief.choices import PDF_VARIANTS
from fieldbrief.errors import BuildFailed, InvalidInput, Problem, display_path, printable
from fieldbrief.progress import progress_for

if TYPE_CHECKING:  # the build's own modules load only once a build has something to do
    from fieldbrief.pipeline import BuildOptions, BuildReport
    from fieldbrief.project import Project

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
COMMANDS = ("build", "check", "serve", "new")


def command() -> int:
    """The installed ``fieldbrief`` command (see pyproject.toml)."""
    return main(prog="fieldbrief")


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None,
         stderr: TextIO | None = None, prog: str = "build.py") -> int:
    """Run the command in ``argv``; return the exit status instead of exiting.

    ``build`` is the default command: ``build.py --out x`` is ``build.py build --out x``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    command = argv[0] if argv[:1] and argv[0] in COMMANDS else "build"
    parser = _parser(command, out, err, prog)
    if unprintable := [argument for argument in argv if printable(argument) != argument]:
        err.write(f"{parser.prog}: error: an argument holds control characters: "
                  f"{printable(unprintable[0])}\n")
        return EXIT_USAGE
    try:
        args = parser.parse_args(argv[1:] if argv[:1] == [command] else argv)
    except SystemExit as exit_:
        return EXIT_OK if exit_.code == 0 else EXIT_USAGE
    if command == "new":
        return _guarded(lambda: _new(args, out), err)
    missing = [name for name in args.briefs if not Path(name).is_file()]
    if missing:
        err.write(f"{parser.prog}: error: no such brief file: {printable(', '.join(missing))}\n")
        return EXIT_USAGE
    if args.config and not args.config.is_file():
        err.write(f"{parser.prog}: error: no such configuration file: {printable(str(args.config))}\n")
        return EXIT_USAGE
    if command == "serve":
        return _guarded(lambda: _serve(args, out, err), err)
    if command == "check":
        _route_library_logs(err)
        return _guarded(lambda: _check(_project(args), [Path(name) for name in args.briefs],
                                       args, out, err), err)
    return _guarded(lambda: _build(args, out, err), err)


def _guarded(run: Callable[[], int], err: TextIO) -> int:
    """``run()``'s exit status; each failure the user can act on as a message, not a traceback."""
    try:
        return run()
    except InvalidInput as error:
        _print_problems(error.problems, err)
        count = len(error.problems)
        files = len({problem.file for problem in error.problems})
        err.write(f"error: {count} problem{'s' * (count != 1)} in {files} "
                  f"file{'s' * (files != 1)}; nothing was written\n")
        return EXIT_FAILED
    except BuildFailed as error:
        err.write(f"error: {printable(str(error))}; nothing was written\n")
        return EXIT_FAILED
    except BrokenPipeError:  # the reader of our output went away, e.g. `| head`
        return EXIT_FAILED
    except OSError as error:
        where = f" ({error.filename})" if error.filename else ""
        err.write(printable(f"error: {error.strerror or error}{where}") + "\n")
        return EXIT_FAILED


class _Parser(argparse.ArgumentParser):
    """An argument parser that prints help and usage errors to the given streams."""

    def __init__(self, out: TextIO, err: TextIO, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.out, self.err = out, err

    def _print_message(self, message: str, file: object = None) -> None:
        if message:
            (self.err if file is sys.stderr else self.out).write(message)


def _parser(command: str, out: TextIO, err: TextIO, prog: str) -> argparse.ArgumentParser:
    if command == "new":
        return _new_parser(out, err, prog)
    if command == "check":
        parser = _Parser(out, err, prog=f"{prog} check",
                         description="Validate briefs without writing anything.")
        parser.add_argument("briefs", nargs="*", metavar="BRIEF",
                            help="brief files to check (default: every brief in briefs/)")
        parser.add_argument("--report", action="store_true",
                            help="print the audit: each quote, quoted phrase and figure "
                                 "verified against the archived sources, not found, or not "
                                 "checkable (no archive, not a quotation, no number)")
    elif command == "serve":
        parser = _Parser(out, err, prog=f"{prog} serve",
                         description="Build, serve the site on this machine, rebuild on change.")
        parser.set_defaults(briefs=[])
        parser.add_argument("--host", default="127.0.0.1",
                            help="address to listen on (default: 127.0.0.1, this machine only)")
        parser.add_argument("--port", type=int, default=8000,
                            help="port to listen on (default: 8000; 0 picks a free one)")
        _add_build_options(parser)
    else:
        parser = _Parser(out, err,
            prog=prog, description="Build the HTML site and PDF reports from briefs/.",
            epilog=f"Use '{prog} check [BRIEF ...]' to validate without writing, "
                   f"'{prog} serve' to preview while you write, and '{prog} new' to start "
                   "a project or a brief.")
        parser.add_argument("briefs", nargs="*", metavar="BRIEF",
                            help="build only these briefs (the index still lists every brief)")
        parser.add_argument("--version", action="version", version=f"fieldbrief {__version__}")
        _add_build_options(parser)
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument("--config", type=Path, metavar="FILE",
                        help="site configuration (default: site.yaml, if present)")
    return parser


def _new_parser(out: TextIO, err: TextIO, prog: str) -> argparse.ArgumentParser:
    parser = _Parser(out, err, prog=f"{prog} new",
                     description="Start a project, or a brief in the project of this folder; "
                                 "never overwrites a file.")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{project,brief}")
    project = kinds.add_parser("project", out=out, err=err, help="a ready project in DIR: site.yaml, an example "
                                               "brief, .gitignore and CI recipes")
    project.add_argument("folder", type=Path, metavar="DIR")
    brief = kinds.add_parser("brief", out=out, err=err, help="briefs/ID.yaml, every section with placeholders")
    brief.add_argument("brief_id", metavar="ID",
                       help="lowercase letters, digits and single hyphens, e.g. mali-jnim-attacks")
    return parser


def _new(args: argparse.Namespace, out: TextIO) -> int:
    from fieldbrief.scaffold import new_brief, new_project  # the JSON schemas: only for `new`
    if args.kind == "project":
        written = new_project(args.folder)
        out.write(f"wrote {len(written)} files into {display_path(args.folder)}/; build it with: "
                  f"cd {display_path(args.folder)} && fieldbrief build\n")
    else:
        path = new_brief(Path.cwd(), args.brief_id, date.today())
        out.write(f"wrote {display_path(path)}: replace its <<...>> placeholders; "
                  "fieldbrief check lists those left\n")
    return EXIT_OK


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("site"),
                        help="output folder (default: site)")
    parser.add_argument("--drafts", action="store_true",
                        help="publish briefs whose status is draft (left out by default)")
    parser.add_argument("--restricted-out", type=Path, default=Path("restricted"),
                        metavar="DIR", help="folder, outside the site, for the PDFs of "
                                            "briefs the site may not publish (default: restricted)")
    parser.add_argument("--pdf-variant", choices=PDF_VARIANTS,
                        help="archival PDF/A-3b (with the brief's YAML attached) or "
                             "accessible PDF/UA-1 (default: tagged PDF)")
    parser.add_argument("--page-size", choices=("A4", "Letter"),
                        help="PDF page size for briefs that set none "
                             "(default: page_size in site.yaml, else A4)")
    parser.add_argument("--docx", action="store_true",
                        help="also write each brief as a Word document, for clearance, where "
                             "its PDF goes (default: docx in site.yaml, else no)")
    parser.add_argument("--no-pdf", dest="pdf", action="store_false",
                        help="build the HTML site only, without PDFs")
    parser.add_argument("-j", "--jobs", type=_positive, default=os.cpu_count() or 1,
                        help="worker processes (default: the number of cores)")
    parser.add_argument("--force", action="store_true",
                        help="rebuild every brief, even those whose inputs did not change")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _project(args: argparse.Namespace) -> Project:
    from fieldbrief.project import Project
    project = Project.load(Path.cwd(), args.config)
    if getattr(args, "page_size", None):
        project = replace(project, config=project.config.model_copy(
            update={"page_size": args.page_size}))
    return project


def _check(project: Project, files: list[Path], args: argparse.Namespace, out: TextIO,
           err: TextIO) -> int:
    from fieldbrief.pipeline import check
    from fieldbrief.verify import audit_lines, audit_summary
    briefs = check(project, files or project.brief_files(), args.strict)
    _print_problems([warning for valid in briefs for warning in valid.warnings], err)
    if args.report:
        for valid in briefs:
            for line in audit_lines(valid.source_file.name, valid.brief, valid.verification):
                out.write(printable(line) + "\n")
        out.write(audit_summary(valid.verification for valid in briefs) + "\n")
    out.write(f"{len(briefs)} brief{'s' * (len(briefs) != 1)} valid\n")
    return EXIT_OK


def _build_options(args: argparse.Namespace) -> BuildOptions:
    from fieldbrief.pipeline import BuildOptions
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return BuildOptions(strict=args.strict, drafts=args.drafts, pdf=args.pdf,
                        pdf_variant=args.pdf_variant, restricted_dir=args.restricted_out,
                        generated_at=_build_date(epoch), fixed_date=epoch is not None,
                        jobs=args.jobs, force=args.force, docx=args.docx)


_warned_about_harfbuzz = False


def _warn_if_slow_pdfs(args: argparse.Namespace, err: TextIO) -> None:
    """Say once when WeasyPrint will fall back to fontTools for font subsetting."""
    global _warned_about_harfbuzz
    if not args.pdf or _warned_about_harfbuzz:
        return
    import ctypes.util  # ~10 ms with subprocess: an HTML-only build that stops at its stamp needs neither

    if ctypes.util.find_library("harfbuzz-subset") is None:
        _warned_about_harfbuzz = True
        err.write("warning: libharfbuzz-subset0 is missing, so every PDF takes about 2.5x longer; "
                  "install it: sudo apt-get install libharfbuzz-subset0\n")


def _build(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    started, started_ns = time.perf_counter(), time.time_ns()
    _warn_if_slow_pdfs(args, err)
    watch = None if args.briefs or args.force else _Watch(args)
    if watch is not None and (unchanged := watch.recorded()) is not None:
        for line in unchanged.warnings:
            err.write(printable(line) + "\n")
        out.write(_nothing_changed(unchanged.briefs, args, time.perf_counter() - started) + "\n")
        return EXIT_OK
    _route_library_logs(err)
    from fieldbrief.pipeline import build
    _freeze_the_code()
    project = _project(args)
    progress = progress_for(out)
    try:
        report = build(project, args.out, [Path(name) for name in args.briefs],
                       _build_options(args), progress)
    finally:
        progress.close()
    if watch is not None:
        watch.finish(report, started_ns)
    _print_problems(list(report.warnings), err)
    out.write(_summary(report, args, args.docx or project.config.docx) + "\n")
    return EXIT_OK


def _freeze_the_code() -> None:
    """Take what this process has loaded so far (the build's modules, their classes and
    schemas: objects that live as long as the process) out of the garbage collector's
    sight, once: a full collection would otherwise walk them all again (~30 ms, once in a
    build of one brief among 1000), and worker processes forked later share their pages."""
    global _code_frozen
    if not _code_frozen:
        gc.freeze()
        _code_frozen = True


_code_frozen = False


class _Watch:
    """The stamp of a build of every brief (not of named briefs, nor --force): read
    before the build, to stop at once when nothing changed since a build that found
    nothing to do; written after such a build (see :mod:`fieldbrief.stamp`). A project
    holding what a stamp cannot cover is never stamped."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args, self.root = args, Path.cwd()
        self.path = stamp.stamp_path(self.root, args.out)

    def recorded(self) -> stamp.Unchanged | None:
        try:
            return stamp.recorded(self.path, self._observe)
        except (stamp.Uncoverable, OSError):
            return None

    def finish(self, report: BuildReport, started_ns: int) -> None:
        """Stamp the scene if the build found nothing to do in it; forget any stamp if
        it did something (or the scene cannot be observed)."""
        try:
            if report.wrote:
                stamp.forget(self.path)
            else:
                warnings = tuple(str(warning) for warning in report.warnings)
                stamp.record(self.path, self._observe(), started_ns,
                             stamp.Unchanged(len(report.unchanged), warnings))
        except (stamp.Uncoverable, OSError):
            stamp.forget(self.path)

    def _observe(self) -> stamp.Scene:
        args = self.args
        options = ["build", str(self.root.resolve()), os.environ.get("SOURCE_DATE_EPOCH", "-"),
                   *(f"{name}={value!r}" for name, value in sorted(vars(args).items())
                     if name != "jobs")]
        return stamp.observe(self.root, options, [args.out, args.restricted_out],
                             [args.config] if args.config else [],
                             [stamp.manifest_path(self.root, args.out)])


def _nothing_changed(briefs: int, args: argparse.Namespace, seconds: float) -> str:
    return (f"nothing changed: {briefs} brief{'s' * (briefs != 1)} unchanged, "
            f"{display_path(args.out)}/ untouched ({seconds:.2f} s)")


def _summary(report: BuildReport, args: argparse.Namespace, word: bool) -> str:
    if not report.wrote:
        return _nothing_changed(len(report.unchanged), args, report.seconds)
    count = len(report.rendered)
    parts = [f"built {count} brief{'s' * (count != 1)} ({_formats(args.pdf, word)})"]
    if report.unchanged:
        parts.append(f"{len(report.unchanged)} unchanged")
    if report.restricted and args.pdf:
        parts.append(f"{len(report.restricted)} restricted (PDF only, in "
                     f"{display_path(args.restricted_out)}/)")
    elif report.restricted:
        parts.append(f"{len(report.restricted)} restricted (left off the site; no PDF made)")
    if report.drafts_left_out:
        parts.append(f"{len(report.drafts_left_out)} draft{'s' * (len(report.drafts_left_out) != 1)} "
                     "left out (use --drafts)")
    return f"{', '.join(parts)} into {display_path(args.out)}/ in {report.seconds:.2f} s"


def _formats(pdf: bool, word: bool) -> str:
    """'HTML and PDF', 'HTML, PDF and Word', 'HTML and Word' or 'HTML only'."""
    formats = ["HTML", *(["PDF"] * pdf), *(["Word"] * word)]
    return "HTML only" if len(formats) == 1 else f"{', '.join(formats[:-1])} and {formats[-1]}"


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from fieldbrief.serve import LiveSite, serve  # its web server loads only to serve: builds start sooner

    _route_library_logs(err)
    live = LiveSite(lambda: _project(args), args.out, _build_options(args), out, err)
    stop = threading.Event()

    def ready(url: str) -> None:
        out.write(f"serving {display_path(args.out)}/ at {url} (Ctrl-C to stop)\n")
        out.flush()

    try:
        serve(live, Path.cwd(), args.host, args.port, stop, ready)
    except KeyboardInterrupt:
        stop.set()
    out.write("stopped\n")
    return EXIT_OK


def _build_date(epoch: str | None) -> datetime:
    """The date written into PDFs: SOURCE_DATE_EPOCH when set, for reproducible builds."""
    if epoch is None:
        from fieldbrief.pipeline import now
        return now()
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise BuildFailed(
            f"SOURCE_DATE_EPOCH must be a number of seconds since 1970, not {epoch!r}") from None


def _print_problems(problems: Sequence[Problem], err: TextIO) -> None:
    for problem in problems:
        err.write(f"{problem}\n")


def _route_library_logs(err: TextIO) -> None:
    """Show WeasyPrint's warnings (an unsupported CSS rule, a missing font) on stderr: set up
    only where WeasyPrint may run (logging takes ~5 ms to load; a build that stops at its
    stamp runs nothing)."""
    import logging

    logger = logging.getLogger("weasyprint")
    logger.handlers = [logging.StreamHandler(err)]
    logger.handlers[0].setFormatter(logging.Formatter("weasyprint: %(levelname)s: %(message)s"))
    logger.setLevel(logging.WARNING)
    logger.propagate = False
