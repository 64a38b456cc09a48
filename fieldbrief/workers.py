"""Parallel work: checking and rendering briefs in worker processes.

Each worker holds, for its whole life, one Jinja2 environment and (once it renders
its first PDF) one WeasyPrint font configuration with the parsed print stylesheets,
so no brief pays for setting them up. Work is handed out and results collected in
the order of the briefs, so output and messages are the same whatever the number
of workers. With one worker, everything runs in this process.
"""

from __future__ import annotations

import collections
import ctypes
import ctypes.util
import itertools
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fieldbrief.archive import Archive, archive_references
from fieldbrief.budget import budget
from fieldbrief.errors import BuildFailed, InvalidInput, Problem, excerpt
from fieldbrief.incremental import content_digest, written_digest
from fieldbrief.load import LoadedFile
from fieldbrief.model import Brief, BriefCard, IssueFacts
from fieldbrief.project import Project
from fieldbrief.publish import write_file
from fieldbrief import render_indicators
from fieldbrief.render_archive import archive_pages
from fieldbrief.maps import brief_map
from fieldbrief.render_html import HtmlRenderer, brief_page_path, brief_pdf_path
from fieldbrief.resources import PageParts, scan_page
from fieldbrief.series import IssueContext, issue_facts
from fieldbrief.translations import Translation
from fieldbrief.validate import SiteRules, ValidBrief, validate

if TYPE_CHECKING:  # processes start only for two items or more (see Workers): not for one changed brief
    from concurrent.futures import ProcessPoolExecutor

IN_FLIGHT_PER_WORKER = 4
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class WorkerSetup:
    """Everything a worker needs, sent once when it starts."""

    project: Project
    rules: SiteRules
    pdf_variant: str | None
    with_pdf: bool
    generated_at: datetime
    with_docx: bool = False  # a Word copy of each brief, where its PDF goes


@dataclass(frozen=True)
class Checked:
    """One brief file, loaded and validated (or not): only what the build keeps of it.

    The brief itself is not kept: the renderer reads the file again (a few milliseconds),
    so that memory does not grow with the number of briefs.
    """

    path: Path
    content: str  # digest of the file and the local images it uses
    assets: tuple[str, ...]
    id_position: tuple[int, int] = (1, 1)  # where the brief's id is, for duplicate-id errors
    translation_position: tuple[int, int] = (1, 1)  # where its translation_of is, if any
    card: BriefCard | None = None
    issue: IssueFacts | None = None  # when the brief is an issue of a series
    warnings: tuple[Problem, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class RenderJob:
    """One brief to render, and the staging folder its files go to."""

    checked: Checked
    label: str
    folder: Path
    published: bool  # on the site (page, image, PDF) or restricted (PDF only)
    series: IssueContext | None = None  # its series' changes and links, gathered beforehand
    translations: tuple[Translation, ...] = ()  # every language of the brief, itself included


@dataclass(frozen=True)
class Rendered:
    outputs: dict[str, str]  # each file written, relative to its folder: its written_digest
    seconds: float
    error: str | None = None
    page: PageParts | None = None  # the links and loads of the web page, for the site check


_setup: WorkerSetup | None = None
_html: HtmlRenderer | None = None
_pdf: Any = None  # a render_pdf.PdfRenderer, made on first use


def _start(setup: WorkerSetup) -> None:
    global _setup, _html, _pdf
    _setup, _pdf = setup, None
    _html = HtmlRenderer(setup.project.template_dirs, setup.project.config, setup.project.resources)


PR_SET_PDEATHSIG = 1


def _start_worker(setup: WorkerSetup) -> None:
    """Start a worker process that dies with the process that started it."""
    _die_with_parent()
    _start(setup)


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies, even by SIGKILL (a pool's
    workers otherwise keep waiting for work that will never come)."""
    parent = os.getppid()
    libc_name = ctypes.util.find_library("c")
    prctl = getattr(ctypes.CDLL(libc_name, use_errno=True), "prctl", None) if libc_name else None
    if prctl is not None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def check_file(path: Path) -> Checked:
    """Load and validate one brief file."""
    assert _setup is not None
    try:
        valid = validate(_setup.project.load_brief(path), _setup.rules)
    except InvalidInput as error:  # the build stops on it: no digest is needed
        return Checked(path, "", (), problems=tuple(error.problems))
    assets = _local_assets(valid.brief)
    raw = valid.source_file.raw
    return Checked(path, content_digest(raw, [Path(a) for a in assets]), assets,
                   id_position=valid.source_file.position_of(("id",)),
                   translation_position=valid.source_file.position_of(("translation_of",)),
                   card=BriefCard.of(valid.brief), issue=issue_facts(valid), warnings=valid.warnings)


def render(job: RenderJob) -> Rendered:
    """Write one brief's files into its staging folder; report failure instead of raising."""
    assert _setup is not None and _html is not None
    started = time.perf_counter()
    config = _setup.project.config
    try:
        with budget(job.label, config.render_seconds, config.render_memory_mib):
            loaded = _as_checked(job)
            valid = validate(loaded, _setup.rules)
            files = _render_brief(valid, loaded.raw, job)
    except BuildFailed as error:
        return Rendered({}, time.perf_counter() - started, str(error))
    except Exception as error:  # noqa: BLE001 (a brief must never end the build in a traceback)
        return Rendered({}, time.perf_counter() - started,
                        f"{job.label}: rendering failed ({type(error).__name__}: "
                        f"{excerpt(str(error), 200)}); please report this as a bug")
    page = files.get(brief_page_path(valid.brief.id))
    return Rendered({relative: written_digest(content) for relative, content in files.items()},
                    time.perf_counter() - started,
                    page=scan_page(page.decode()) if page else None)


def _as_checked(job: RenderJob) -> LoadedFile:
    """The brief read again, provided its bytes (and its images') are exactly those that
    were checked and placed by the publishing policy; a file saved in between fails."""
    assert _setup is not None
    changed = BuildFailed(f"{job.label} changed during the build (it was checked as one "
                          "text and read as another); build again")
    try:
        loaded = _setup.project.load_brief(job.checked.path)
    except (InvalidInput, OSError):
        raise changed from None
    if content_digest(loaded.raw, [Path(a) for a in job.checked.assets]) != job.checked.content:
        raise changed
    return loaded


def _render_brief(valid: ValidBrief, raw: bytes, job: RenderJob) -> dict[str, bytes]:
    from fieldbrief.render_json import brief_json, brief_json_path  # its models: not for a no-op build
    assert _setup is not None and _html is not None
    brief, files = valid.brief, {}
    if job.published:
        files[brief_page_path(brief.id)] = _html.brief_page(
            brief, with_pdf=_setup.with_pdf, verification=valid.verification,
            series=job.series, locator=brief_map(brief),
            translations=job.translations).encode()
        files[brief_json_path(brief.id)] = brief_json(brief, {  # the site only: never restricted
            source_id: note.sha256 for source_id, note in valid.verification.archives.items()})
        files.update(archive_pages(_html, brief, valid.archives, valid.verification))
        image = _setup.project.resources.image(brief.map_image.image) if brief.map_image else None
        if image and image.local_file:
            files[f"briefs/{brief.id}/{image.web_src}"] = image.local_file.read_bytes()
    if _setup.with_pdf:
        files[brief_pdf_path(brief.id) if job.published else f"{brief.id}.pdf"] = _render_pdf(valid, raw, job)
    if _setup.with_docx:
        files[f"briefs/{brief.id}/{brief.id}.docx" if job.published else f"{brief.id}.docx"] = _render_docx(brief)
    for name, content in render_indicators.render(brief).items():  # beside the PDF's place
        files[f"briefs/{brief.id}/{name}" if job.published else name] = content
    for relative, content in files.items():
        write_file(job.folder, relative, content)
    return files


def _render_pdf(valid: ValidBrief, raw: bytes, job: RenderJob) -> bytes:
    global _pdf
    brief = valid.brief
    assert _setup is not None and _html is not None
    from fieldbrief.render_pdf import PdfJob, PdfRenderer  # WeasyPrint loads only where PDFs are made
    if _pdf is None:
        _pdf = PdfRenderer(_setup.project.style_dirs, _setup.project.resources, _setup.pdf_variant)
    return _pdf.render(PdfJob(
        html=_html.print_page(brief, _setup.generated_at, verification=valid.verification,
                              series=job.series, locator=brief_map(brief)),
        label=job.label,
        page_size=brief.page_size or "A4", generated_at=_setup.generated_at,
        source_name=_attachment_name(job.checked.path, brief.id), source=raw,
        archives=_attached_archives(valid, job.published)))


def _attached_archives(valid: ValidBrief, published: bool) -> tuple[Archive, ...]:
    """The archives a PDF/A-3b carries: on the site, only those whose source allows
    publishing them (an archive never reaches the site otherwise); in the restricted
    folder, which is shared only with the brief's recipients, all of them."""
    return tuple(valid.archives[source.id] for source in valid.brief.sources
                 if source.id in valid.archives and (source.publish_archive or not published))


def _render_docx(brief: Brief) -> bytes:
    assert _setup is not None
    from fieldbrief.render_docx import render_docx  # python-docx loads only where Word files are made
    image = _setup.project.resources.image(brief.map_image.image) if brief.map_image else None
    return render_docx(brief, _setup.generated_at,
                       image.local_file.read_bytes() if image and image.local_file else None,
                       brief_map(brief))


def _attachment_name(path: Path, brief_id: str) -> str:
    """The name the brief's YAML gets inside a PDF/A: its file name, or its id where the
    file name is not printable text (a name that is not UTF-8 cannot be written there)."""
    name = path.name  # bytes that are not UTF-8 arrive as surrogates, which are not printable
    return name if name.isprintable() else f"{brief_id}.yaml"


def _local_assets(brief: Brief) -> tuple[str, ...]:
    """The project files the brief's outputs are made from besides itself: its local map
    image, and the archived texts its quotes are checked against."""
    assert _setup is not None
    image = _setup.project.resources.image(brief.map_image.image) if brief.map_image else None
    files = [str(image.local_file)] if image and image.local_file else []
    files.extend(str(path) for path in archive_references(brief, _setup.project.resources.root))
    return tuple(files)


class Workers:
    """Runs tasks over items, in worker processes or in this one.

    The processes start on the first batch of two items or more; a single item (one
    changed brief) runs here, which is quicker than starting workers for it.
    """

    def __init__(self, jobs: int, setup: WorkerSetup) -> None:
        self.jobs = jobs
        self.setup = setup
        self.pool: ProcessPoolExecutor | None = None
        self.started_here = False

    def __enter__(self) -> Workers:
        return self

    def map(self, task: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """Results in the order of ``items``, each as soon as it and those before it are done.

        ``items`` is read lazily, as work is handed out.
        """
        iterator = iter(items)
        first = list(itertools.islice(iterator, 2))
        items = itertools.chain(first, iterator)
        if self.jobs > 1 and (self.pool is not None or len(first) > 1):
            return self._in_pool(task, items)
        if not self.started_here:
            _start(self.setup)
            self.started_here = True
        return map(task, items)

    def _in_pool(self, task: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
        """Like Executor.map, but with only a few items in flight, so memory stays flat."""
        from concurrent.futures.process import BrokenProcessPool

        pool, pending = self._pool(), collections.deque()
        try:
            for item in items:
                pending.append(pool.submit(task, item))
                if len(pending) >= IN_FLIGHT_PER_WORKER * self.jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BrokenProcessPool:
            raise BuildFailed("a worker process died while checking or rendering briefs (killed, "
                              "or out of memory); the published site is unchanged") from None

    def _pool(self) -> ProcessPoolExecutor:
        if self.pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # fork is fastest, but unsafe once other threads run (as under `serve`)
            method = "fork" if threading.active_count() == 1 else "forkserver"
            self.pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context(method),
                                            initializer=_start_worker, initargs=(self.setup,))
        return self.pool

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
