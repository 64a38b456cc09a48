"""The whole build, stage after stage: load -> validate -> render HTML / PDF -> publish.

Everything is gathered and rendered in memory first; only a build in which every
brief validated and rendered reaches :func:`~fieldbrief.publish.publish`. Which
briefs reach the site is decided here, by the site's publishing policy: briefs
whose TLP label the site may not publish get only a PDF, in a separate folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from fieldbrief.errors import BuildFailed, InvalidInput, Problem
from fieldbrief.load import load_file
from fieldbrief.project import Project
from fieldbrief.publish import publish
from fieldbrief.render_html import HtmlRenderer, brief_page_path, brief_pdf_path
from fieldbrief.render_pdf import PdfJob, PdfRenderer, PdfVariant
from fieldbrief.render_site import site_pages
from fieldbrief.resources import site_problems
from fieldbrief.search import index_search
from fieldbrief.validate import SiteRules, ValidBrief, validate

Progress = Callable[[str], None]
STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Files that are part of fieldbrief itself, published with every site (the search page's
script, the icon); live-reload.js is only ever served by ``build.py serve``."""
RESTRICTED_README = """\
NOT FOR PUBLICATION.

These PDFs carry TLP labels that this site may not publish (see publish_tlp in
site.yaml). fieldbrief writes them here, outside the site folder, so that they
can be shared by other means with the recipients their label allows. Do not copy
this folder to a web server.
"""


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class BuildOptions:
    """Choices that apply to every brief of a build."""

    strict: bool = False  # warnings fail the build
    drafts: bool = False  # publish briefs whose status is draft
    pdf_variant: PdfVariant | None = None  # None: tagged PDF
    restricted_dir: Path = Path("restricted")  # PDFs the site may not publish
    generated_at: datetime = field(default_factory=now)  # the date written into PDFs


@dataclass(frozen=True)
class BuildReport:
    rendered: tuple[str, ...]
    carried_over: tuple[str, ...]
    restricted: tuple[str, ...]
    drafts_left_out: tuple[str, ...]
    warnings: tuple[Problem, ...]
    seconds: float


@dataclass(frozen=True)
class SitePlan:
    """Where each brief goes under the publishing policy."""

    published: list[ValidBrief]
    restricted: list[ValidBrief]
    drafts_left_out: list[ValidBrief]


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


def plan(project: Project, briefs: Sequence[ValidBrief], drafts: bool) -> SitePlan:
    """Apply the publishing policy: drafts, and TLP labels the site may publish."""
    kept = [b for b in briefs if drafts or b.brief.status != "draft"]
    return SitePlan(
        published=[b for b in kept if b.brief.tlp in project.config.publish_tlp],
        restricted=[b for b in kept if b.brief.tlp not in project.config.publish_tlp],
        drafts_left_out=[b for b in briefs if b not in kept],
    )


def build(project: Project, out_dir: Path, only: Sequence[Path] = (),
          options: BuildOptions = BuildOptions(), progress: Progress = lambda _: None) -> BuildReport:
    """Build the site into ``out_dir``, and restricted PDFs into ``options.restricted_dir``.

    With ``only``, those briefs are rendered; the other briefs of the project are
    validated (the index lists them) and their published pages are carried over,
    or rendered when no published page exists yet.
    """
    started = time.perf_counter()
    _check_folders(project, out_dir, options.restricted_dir)
    named = {path.resolve() for path in only}
    briefs = check(project, _unique([*project.brief_files(), *only]), options.strict)
    site = plan(project, briefs, options.drafts)
    carried = [b for b in site.published if named and b.source_file.path.resolve() not in named
               and (out_dir / brief_pdf_path(b.brief.id)).is_file()]
    to_render = [b for b in site.published if b not in carried]
    html = HtmlRenderer(project.templates_dir, project.config, project.resources)
    pdf = PdfRenderer(project.styles_dir, project.resources, options.pdf_variant)
    outputs = _brief_outputs(project, html, pdf, to_render, options, progress)
    outputs.update(site_pages(html, [b.brief for b in site.published], options.generated_at))
    outputs.update(_static_files(project))
    restricted = {f"{b.brief.id}.pdf": _render_pdf(html, pdf, b, options, progress)
                  for b in site.restricted}
    publish(out_dir, outputs, [f"briefs/{b.brief.id}" for b in carried],
            finish=lambda staging: _finish_site(staging, project))
    _publish_restricted(options.restricted_dir, restricted)
    return BuildReport(
        rendered=tuple(b.brief.id for b in to_render),
        carried_over=tuple(b.brief.id for b in carried),
        restricted=tuple(b.brief.id for b in site.restricted),
        drafts_left_out=tuple(b.brief.id for b in site.drafts_left_out),
        warnings=tuple(w for b in briefs for w in b.warnings),
        seconds=time.perf_counter() - started,
    )


def _brief_outputs(project: Project, html: HtmlRenderer, pdf: PdfRenderer,
                   briefs: Sequence[ValidBrief], options: BuildOptions,
                   progress: Progress) -> dict[str, bytes]:
    outputs: dict[str, bytes] = {}
    for valid in briefs:
        brief = valid.brief
        outputs[brief_page_path(brief.id)] = html.brief_page(brief).encode()
        if brief.map and (image := project.resources.image(brief.map.image)).local_file:
            outputs[f"briefs/{brief.id}/{image.web_src}"] = image.local_file.read_bytes()
        outputs[brief_pdf_path(brief.id)] = _render_pdf(html, pdf, valid, options, progress)
    return outputs


def _render_pdf(html: HtmlRenderer, pdf: PdfRenderer, valid: ValidBrief, options: BuildOptions,
                progress: Progress) -> bytes:
    started, brief = time.perf_counter(), valid.brief
    document = pdf.render(PdfJob(
        html=html.print_page(brief, options.generated_at),
        label=valid.source_file.name,
        page_size=brief.page_size,
        generated_at=options.generated_at,
        source_name=valid.source_file.path.name,
        source=valid.source_file.raw,
    ))
    progress(f"rendered {valid.source_file.name} ({time.perf_counter() - started:.2f} s)")
    return document


def _static_files(project: Project) -> dict[str, bytes]:
    """The project's stylesheets, and fieldbrief's own scripts."""
    files = {f"assets/{sheet.name}": sheet.read_bytes()
             for sheet in sorted(project.styles_dir.glob("*.css"))}
    files.update({f"assets/js/{script.name}": script.read_bytes()
                  for script in sorted(STATIC_DIR.glob("*.js")) if script.name != "live-reload.js"})
    files["assets/favicon.svg"] = (STATIC_DIR / "favicon.svg").read_bytes()
    return files


def _finish_site(staging: Path, project: Project) -> None:
    """Index the finished site for search, then refuse it if any link or load is wrong."""
    index_search(staging)
    problems = site_problems(staging, project.resources)
    if problems:
        raise BuildFailed("; ".join(problems))


def _publish_restricted(folder: Path, pdfs: dict[str, bytes]) -> None:
    """Write restricted PDFs (or clear out old ones) in their own folder."""
    if pdfs or folder.exists():
        publish(folder, {**pdfs, "README.txt": RESTRICTED_README.encode()} if pdfs else {})


def _check_folders(project: Project, out_dir: Path, restricted_dir: Path) -> None:
    site, restricted, root = out_dir.resolve(), restricted_dir.resolve(), project.root.resolve()
    if site == restricted or site.is_relative_to(restricted) or restricted.is_relative_to(site):
        raise BuildFailed(f"the restricted folder {restricted_dir} must be outside the site "
                          f"folder {out_dir}, and the other way round")
    for folder in (site, restricted):
        if root.is_relative_to(folder):
            raise BuildFailed(f"{folder} holds the project itself; choose another output folder")


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
