"""The whole build, stage after stage: load -> validate -> render HTML / PDF -> publish.

Everything is gathered and rendered in memory first; only a build in which every
brief validated and rendered reaches :func:`~fieldbrief.publish.publish`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fieldbrief.errors import BuildFailed, InvalidInput, Problem
from fieldbrief.load import load_file
from fieldbrief.model import Brief
from fieldbrief.project import Project
from fieldbrief.publish import publish
from fieldbrief.render_html import HtmlRenderer, brief_page_path, brief_pdf_path
from fieldbrief.render_pdf import PdfJob, PdfRenderer, PdfVariant
from fieldbrief.resources import ResourcePolicy, page_resource_problems
from fieldbrief.validate import SiteRules, ValidBrief, validate

Progress = Callable[[str], None]


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class BuildOptions:
    """Choices that apply to every brief of a build."""

    strict: bool = False  # warnings fail the build
    pdf_variant: PdfVariant | None = None  # None: tagged PDF
    generated_at: datetime = field(default_factory=now)  # the date written into PDFs


@dataclass(frozen=True)
class BuildReport:
    rendered: tuple[str, ...]
    carried_over: tuple[str, ...]
    warnings: tuple[Problem, ...]
    seconds: float


def check(project: Project, files: Sequence[Path], strict: bool = False) -> list[ValidBrief]:
    """Load and validate ``files``; raise InvalidInput with every problem of every file.

    With ``strict``, warnings are problems too.
    """
    config = project.config
    rules = SiteRules(project.resources, config.default_tlp, config.page_size)
    briefs: list[ValidBrief] = []
    problems: list[Problem] = []
    for path in files:
        try:
            briefs.append(validate(load_file(path, config.max_brief_bytes), rules))
        except InvalidInput as error:
            problems.extend(error.problems)
    problems.extend(_duplicate_id_problems(briefs))
    if strict:
        problems.extend(warning for valid in briefs for warning in valid.warnings)
    if problems:
        raise InvalidInput(problems)
    return briefs


def build(project: Project, out_dir: Path, only: Sequence[Path] = (),
          options: BuildOptions = BuildOptions(), progress: Progress = lambda _: None) -> BuildReport:
    """Build the site into ``out_dir``.

    With ``only``, those briefs are rendered; the other briefs of the project are
    validated (the index lists them) and their published pages are carried over,
    or rendered when no published page exists yet.
    """
    started = time.perf_counter()
    named = {path.resolve() for path in only}
    files = _unique([*project.brief_files(), *only])
    briefs = check(project, files, options.strict)
    carried = [b for b in briefs if named and b.source_file.path.resolve() not in named
               and (out_dir / brief_pdf_path(b.brief.id)).is_file()]
    to_render = [b for b in briefs if b not in carried]
    outputs = _render_all(project, to_render, [b.brief for b in briefs], options, progress)
    carried_dirs = [f"briefs/{b.brief.id}" for b in carried]
    _check_pages(outputs, _files_under(out_dir, carried_dirs), project.resources)
    publish(out_dir, outputs, carried_dirs)
    return BuildReport(
        rendered=tuple(b.brief.id for b in to_render),
        carried_over=tuple(b.brief.id for b in carried),
        warnings=tuple(w for b in briefs for w in b.warnings),
        seconds=time.perf_counter() - started,
    )


def _render_all(project: Project, to_render: Sequence[ValidBrief], all_briefs: Sequence[Brief],
                options: BuildOptions, progress: Progress) -> dict[str, bytes]:
    html = HtmlRenderer(project.templates_dir, project.config.title, project.resources)
    pdf = PdfRenderer(project.styles_dir, project.resources, options.pdf_variant)
    outputs: dict[str, bytes] = {}
    for valid in to_render:
        brief, started = valid.brief, time.perf_counter()
        outputs[brief_page_path(brief.id)] = html.brief_page(brief).encode()
        if brief.map and (image := project.resources.image(brief.map.image)).local_file:
            outputs[f"briefs/{brief.id}/{image.web_src}"] = image.local_file.read_bytes()
        outputs[brief_pdf_path(brief.id)] = pdf.render(PdfJob(
            html=html.print_page(brief, options.generated_at),
            label=valid.source_file.name,
            page_size=brief.page_size,
            generated_at=options.generated_at,
            source_name=valid.source_file.path.name,
            source=valid.source_file.raw,
        ))
        progress(f"rendered {valid.source_file.name} ({time.perf_counter() - started:.2f} s)")
    outputs["index.html"] = html.index_page(all_briefs).encode()
    for stylesheet in sorted(project.styles_dir.glob("*.css")):
        outputs[f"assets/{stylesheet.name}"] = stylesheet.read_bytes()
    return outputs


def _check_pages(outputs: dict[str, bytes], carried_files: set[str],
                 policy: ResourcePolicy) -> None:
    """Refuse a site whose pages would load anything but its own files and allowed URLs."""
    site_files = set(outputs) | carried_files
    problems = [problem for name, content in sorted(outputs.items()) if name.endswith(".html")
                for problem in page_resource_problems(content.decode(), name, site_files, policy)]
    if problems:
        raise BuildFailed("; ".join(problems))


def _files_under(root: Path, folders: Iterable[str]) -> set[str]:
    return {path.relative_to(root).as_posix() for folder in folders
            for path in (root / folder).rglob("*") if path.is_file()}


def _duplicate_id_problems(briefs: Iterable[ValidBrief]) -> list[Problem]:
    first_file: dict[str, ValidBrief] = {}
    problems = []
    for valid in briefs:
        earlier = first_file.setdefault(valid.brief.id, valid)
        if earlier is not valid:
            line, column = valid.source_file.position_of(("id",))
            problems.append(Problem(valid.source_file.name, line, column, "id",
                                    f"id '{valid.brief.id}' is already used by "
                                    f"{earlier.source_file.name}"))
    return problems


def _unique(paths: Iterable[Path]) -> list[Path]:
    seen: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(path.resolve(), path)
    return list(seen.values())

