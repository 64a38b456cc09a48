"""The whole build, stage after stage: load -> validate -> render HTML / PDF -> publish.

Briefs are checked and rendered in worker processes (``jobs``), each output written
straight into a staging folder that replaces the published site only when the whole
build succeeded. Builds are incremental: a brief whose inputs did not change keeps
its published files (see :mod:`fieldbrief.incremental`), and a build in which nothing
changed touches nothing at all. Which briefs reach the site is decided here, by the
publishing policy: briefs whose TLP label the site may not publish get only a PDF,
in a separate folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from fieldbrief import __version__
from fieldbrief.choices import PdfVariant
from fieldbrief.errors import BuildFailed, InvalidInput, Problem, display_path
from fieldbrief.incremental import (BriefSeal, Manifest, Placement, Record, brief_seal,
                                    config_digest, content_digest, digest, files_digest,
                                    fonts_digest, kept_files, kept_site_page, load_manifest,
                                    problem_record, save_manifest, save_sealed, sealed_at, settled,
                                    written_digest)
from fieldbrief.gazetteer import gazetteer_version
from fieldbrief.map_data import map_data_digest
from fieldbrief.model import BriefCard, IssueFacts
from fieldbrief.policy import (PublishingPolicy, Seal, SitePart, gate_site, page_refusal,
                               unchanged_seals)
from fieldbrief.project import Project
from fieldbrief.publish import SITE_MARKER, FilesIn, Staging, drop_stale_twin, published_build_id
from fieldbrief.render_html import HtmlRenderer, brief_page_path, brief_pdf_path
from fieldbrief.translations import Translation, translation_problem, translation_sets
from fieldbrief.resources import PageParts, site_problems
from fieldbrief.search import BUNDLE, SearchIndexing, load_record, save_record
from fieldbrief.series import Declared, Member, SeriesFacts, gather, issue_facts, load_declarations
from fieldbrief.stamp import STATE_DIR, manifest_path, twin_path
from fieldbrief.unchanged_site import UnchangedSite, proven_site, record_seals
from fieldbrief.validate import SiteRules, ValidBrief, validate
from fieldbrief.workers import Checked, RenderJob, Workers, WorkerSetup, check_file, render

STATIC_DIR = Path(__file__).resolve().parent / "static"
"""Files that are part of fieldbrief itself, published with every site (the search page's
script, the icon); live-reload.js is only ever served by ``build.py serve``."""
SITE_TEMPLATES = ("index.html", "overview.html", "search.html", "feed.xml", "sitemap.xml",
                  "series.html", "series_feed.xml")
RESTRICTED_README = """\
NOT FOR PUBLICATION.

These files (PDFs, and the indicator exports of briefs that have them) carry TLP
labels that this site may not publish (see publish_tlp in site.yaml). fieldbrief
writes them here, outside the site folder, so that they can be shared by other
means with the recipients their label allows. Do not copy this folder to a web
server, and do not commit it.
"""

IGNORE_ALL = b"# Written by fieldbrief: nothing in this folder may be committed.\n*\n"
"""A .gitignore for folders whose contents must never reach a repository by `git add -A`."""


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Progress(Protocol):
    def start(self, total: int) -> None: ...
    def done(self, line: str) -> None: ...


class NoProgress:
    def start(self, total: int) -> None:
        pass

    def done(self, line: str) -> None:
        pass


NO_PROGRESS = NoProgress()


@dataclass(frozen=True)
class BuildOptions:
    """Choices that apply to every brief of a build."""

    strict: bool = False  # warnings fail the build
    drafts: bool = False  # publish briefs whose status is draft
    pdf: bool = True  # make PDFs (False: an HTML-only site)
    pdf_variant: PdfVariant | None = None  # None: tagged PDF
    restricted_dir: Path = Path("restricted")  # PDFs the site may not publish
    generated_at: datetime = field(default_factory=now)  # the date written into PDFs
    fixed_date: bool = False  # generated_at was asked for (SOURCE_DATE_EPOCH): part of the PDFs
    jobs: int = field(default_factory=lambda: os.cpu_count() or 1)  # worker processes
    force: bool = False  # rebuild everything, whatever the manifest says
    docx: bool = False  # a Word copy of each brief (also when site.yaml says docx: true)


@dataclass(frozen=True)
class BuildReport:
    rendered: tuple[str, ...]
    unchanged: tuple[str, ...]
    restricted: tuple[str, ...]
    drafts_left_out: tuple[str, ...]
    warnings: tuple[Problem, ...]
    seconds: float
    wrote: bool  # False when nothing had changed and nothing was written


@dataclass(frozen=True)
class Fingerprints:
    """Digests of everything but the brief itself that its outputs depend on."""

    rules: str
    page: str
    pdf: str
    site: str


@dataclass
class Entry:
    """One brief file on its way through the build."""

    path: Path
    record: Record | None  # from the last build, if its content is unchanged
    checked: Checked | None = None  # when it was loaded and validated in this build
    translations: tuple[Translation, ...] = ()  # its languages on the site, itself included
    seal: BriefSeal | None = None  # its files as they were when found unchanged (see Record.seal)
    kept: dict[str, str] | None = None  # its outputs, when kept: as Record.outputs, seals refreshed

    @property
    def card(self) -> BriefCard:
        if self.checked is not None and self.checked.card is not None:
            return self.checked.card
        assert self.record is not None
        return self.record.card

    @property
    def warnings(self) -> tuple[Problem, ...]:
        if self.checked is not None:
            return self.checked.warnings
        assert self.record is not None
        return tuple(self.record.problems())

    @property
    def content(self) -> str:
        if self.checked is not None:
            return self.checked.content
        assert self.record is not None
        return self.record.content

    @property
    def assets(self) -> list[str]:
        if self.checked is not None:
            return list(self.checked.assets)
        assert self.record is not None
        return self.record.assets

    @property
    def issue(self) -> IssueFacts | None:
        if self.checked is not None and self.checked.card is not None:
            return self.checked.issue
        assert self.record is not None
        return self.record.issue

    @property
    def id_position(self) -> tuple[int, int]:
        """Where the brief's id is, for duplicate-id errors."""
        if self.checked is not None:
            return self.checked.id_position
        assert self.record is not None
        return (self.record.id_line, self.record.id_column)


def check(project: Project, files: Sequence[Path], strict: bool = False) -> list[ValidBrief]:
    """Load and validate ``files``; raise InvalidInput with every problem of every file.

    With ``strict``, warnings are problems too.
    """
    rules = _rules(project)
    briefs: list[ValidBrief] = []
    problems: list[Problem] = []
    for path in files:
        try:
            briefs.append(validate(project.load_brief(path), rules))
        except InvalidInput as error:
            problems.extend(error.problems)
    problems.extend(_duplicate_ids([(b.source_file.path, b.brief.id,
                                     b.source_file.position_of(("id",))) for b in briefs]))
    if not problems:
        problems.extend(_series_problems(project, briefs))
        problems.extend(_checked_translation_problems(briefs))
    if strict:
        problems.extend(warning for valid in briefs for warning in valid.warnings)
    if problems:
        raise InvalidInput(problems)
    return briefs


def build(project: Project, out_dir: Path, only: Sequence[Path] = (),
          options: BuildOptions = BuildOptions(), progress: Progress = NO_PROGRESS) -> BuildReport:
    """Build the site into ``out_dir``, and restricted PDFs into ``options.restricted_dir``.

    Briefs named in ``only`` are rebuilt even if unchanged; the others only if changed.
    """
    started = time.perf_counter()
    _check_folders(project, out_dir, options.restricted_dir)
    declared = load_declarations(project.root, project.config.max_brief_bytes)
    html = HtmlRenderer(project.template_dirs, project.config, project.resources)
    prints = _fingerprints(project, html, options, declared)
    manifest_file = manifest_path(project.root, out_dir)
    previous = load_manifest(manifest_file)
    setup = WorkerSetup(project, _rules(project), options.pdf_variant, options.pdf,
                        options.generated_at, with_docx=options.docx or project.config.docx)
    named = {path.absolute() for path in only}
    with Workers(options.jobs, setup) as workers:
        entries = _entries(project, _unique([*project.brief_files(), *only]), previous, prints,
                           named, options)
        _check_entries(workers, [e for e in entries if e.record is None])
        _check_entries(workers, [e for e in _dangling_translations(entries) if e.checked is None])
        _raise_problems(entries, options.strict)
        policy = _policy(project, options)
        placements = {e.path: policy.placement(e.card.tlp, e.card.status) for e in entries}
        series = _series(declared, [Member(_name(e.path), e.card, e.issue, placements[e.path])
                                    for e in entries if e.issue is not None])
        _gather_translations(entries, placements)
        planned = (published_build_id(out_dir), published_build_id(options.restricted_dir))
        site_ok = previous.site_build is not None and previous.site_build == planned[0]
        restricted_ok = previous.restricted_build is not None and previous.restricted_build == planned[1]
        with FilesIn(out_dir) as site_files, FilesIn(options.restricted_dir) as restricted_files:
            there = {"published": site_files if site_ok else None,
                     "restricted": restricted_files if restricted_ok else None}
            for entry in entries:
                if entry.path not in named:
                    entry.kept = _kept_outputs(entry, placements[entry.path],
                                               _with_series(prints, series, entry), options, there)
        to_render = [e for e in entries if placements[e.path] != "draft" and e.kept is None]
        _check_entries(workers, [e for e in to_render if e.checked is None])
        unchanged = _nothing_changed(entries, to_render, placements, previous, prints, site_ok,
                                     out_dir, manifest_file)
        if unchanged is not None:
            twin = twin_path(project.root, out_dir)
            if (records := _proven_records(entries)) is not None:
                record_seals(manifest_file, _search_record_path(manifest_file), out_dir, twin,
                             _policy(project, options), previous, records, unchanged)
            drop_stale_twin(out_dir, twin)
            return _report(entries, [], placements, started, wrote=False)
        progress.start(len(to_render))
        passed = previous.gated if site_ok and previous.gate_policy == _policy(project, options).key else {}
        published_pages = previous.site_pages if site_ok and not options.force else None
        _publish(project, html, workers, entries, to_render, placements, prints, series,
                 out_dir, options, progress, manifest_file, passed, published_pages, planned)
    return _report(entries, to_render, placements, started, wrote=True)


@dataclass(frozen=True)
class PageAhead:
    """A brief's web page, rendered before the build that publishes it (``serve`` shows it first)."""

    page: str  # its path in the site
    html: bytes
    pdf: str | None  # the path of its PDF, which only the build makes


def page_ahead(project: Project, path: Path, out_dir: Path, options: BuildOptions,
               html: HtmlRenderer, previous: Manifest) -> PageAhead | None:
    """The page the next build will publish for the brief at ``path``, if every other brief
    is as the last build recorded it in ``previous``, the manifest of builds into
    ``out_dir`` (as when ``serve`` saw only this file change).

    None whenever that build would not publish this page: the brief is invalid, has a
    warning under ``strict``, is not placed on the site, clashes with another brief (id,
    translation, series), the publishing gate refuses the page, or the published site is
    not the one the records describe. The build itself then says why. ``html`` renders
    from ``project``'s templates."""
    _check_folders(project, out_dir, options.restricted_dir)
    if previous.site_build is None or previous.site_build != published_build_id(out_dir):
        return None
    try:
        valid = validate(project.load_brief(path), _rules(project))
    except (InvalidInput, OSError):
        return None
    card, policy = BriefCard.of(valid.brief), _policy(project, options)
    others = {name: record for name, record in previous.records.items() if name != str(path.absolute())}
    cards = {record.card.id: record.card for record in others.values()}
    if (card.id in cards or policy.placement(card.tlp, card.status) != "published"
            or (options.strict and valid.warnings)):
        return None
    cards[card.id] = card
    series = _series_beside(project, path, valid, others, policy)
    if series is None or any(translation_problem(other, cards) for other in cards.values()):
        return None
    from fieldbrief.maps import brief_map  # serve only: a build that renders no brief skips it

    published = [c for c in cards.values() if policy.placement(c.tlp, c.status) == "published"]
    page = html.brief_page(valid.brief, with_pdf=options.pdf, verification=valid.verification,
                           series=series.contexts.get(card.id), locator=brief_map(valid.brief),
                           translations=translation_sets(published).get(card.id, ()))
    if page_refusal(brief_page_path(card.id), page, policy):
        return None
    return PageAhead(brief_page_path(card.id), page.encode(),
                     brief_pdf_path(card.id) if options.pdf else None)


def _series_beside(project: Project, path: Path, valid: ValidBrief, others: dict[str, Record],
                   policy: PublishingPolicy) -> SeriesFacts | None:
    """Every series, with the brief at ``path`` (published) beside the issues the last build
    recorded; None if their numbering or dates clash."""
    members = [Member(_name(Path(name)), record.card, record.issue,
                      policy.placement(record.card.tlp, record.card.status))
               for name, record in others.items() if record.issue is not None]
    if (facts := issue_facts(valid)) is not None:
        members.append(Member(_name(path.absolute()), BriefCard.of(valid.brief), facts, "published"))
    try:
        return _series(load_declarations(project.root, project.config.max_brief_bytes), members)
    except InvalidInput:
        return None


def _entries(project: Project, files: list[Path], previous: Manifest, prints: Fingerprints,
             named: set[Path], options: BuildOptions) -> list[Entry]:
    """Each file with its record from the last build, when its content is unchanged.

    Files keep the name they have in the project (a link is not replaced by its target,
    so messages name the file the analyst sees)."""
    entries = []
    folders: dict[Path, Path] = {}  # each folder resolved once, for all its files
    real_root = _real_folder(project.root, folders)
    for path in files:
        path = path.absolute()
        record = previous.records.get(str(path))
        if (record is not None and not options.force and path not in named
                and previous.rules == prints.rules):
            unchanged, seal = _still_recorded(project, path, record, real_root, folders)
            entries.append(Entry(path, record if unchanged else None, seal=seal))
        else:
            entries.append(Entry(path, None))
    return entries


def _still_recorded(project: Project, path: Path, record: Record, real_root: Path,
                    folders: dict[Path, Path]) -> tuple[bool, BriefSeal | None]:
    """Whether the brief file and its images are as ``record`` recorded them, and their
    seal if it may be trusted by the next build (see :func:`~fieldbrief.incremental.settled`).

    Files in the very state the last build sealed are not read again: their change times
    would show any write since. The others are read and compared by their digest."""
    assets = [Path(a) for a in record.assets]
    started = time.time_ns()
    try:
        seal = brief_seal(path, assets)
        if (seal is not None and seal == record.seal  # a regular file, not a link: where its
                and _real_folder(path.parent, folders).is_relative_to(real_root)):  # folder is
            return True, seal
        raw = project.brief_bytes(path, resolve=lambda found: _real_path(found, folders))
        same = content_digest(raw, assets) == record.content
    except (InvalidInput, OSError, RuntimeError):  # RuntimeError: a loop of links
        return False, None
    return same, seal if same and seal is not None and settled(seal, started) else None


def _check_entries(workers: Workers, entries: Sequence[Entry]) -> None:
    for entry, checked in zip(entries, workers.map(check_file, [e.path for e in entries]), strict=True):
        entry.checked = checked


def _raise_problems(entries: Sequence[Entry], strict: bool) -> None:
    problems = [p for e in entries if e.checked for p in e.checked.problems]
    valid = [e for e in entries if e.checked is None or e.checked.card is not None]
    problems.extend(_duplicate_ids([(e.path, e.card.id, e.id_position) for e in valid]))
    problems.extend(_translation_problems(valid))
    if strict:
        problems.extend(warning for entry in entries for warning in entry.warnings)
    if problems:
        raise InvalidInput(problems)


def _series(declared: dict[str, Declared], members: list[Member]) -> SeriesFacts:
    """The issues of every series checked together, and each issue's changes and links."""
    return gather(members, declared) if members or declared else SeriesFacts()


def _series_problems(project: Project, briefs: Sequence[ValidBrief]) -> list[Problem]:
    """What is wrong with the series of valid ``briefs``, placed as a build would place them."""
    policy = _policy(project, BuildOptions())
    members = []
    for valid in briefs:
        facts, card = issue_facts(valid), BriefCard.of(valid.brief)
        if facts is not None:
            members.append(Member(_name(valid.source_file.path), card, facts,
                                  policy.placement(card.tlp, card.status)))
    try:
        _series(load_declarations(project.root, project.config.max_brief_bytes), members)
    except InvalidInput as error:
        return error.problems
    return []


def _with_series(prints: Fingerprints, series: SeriesFacts, entry: Entry) -> Fingerprints:
    """The brief's fingerprints with what its series shows on it: an issue is rendered
    again when its changes or its links change (a correction to the issue before it)."""
    context = series.contexts.get(entry.card.id)
    if context is None:
        return prints
    return replace(prints, page=digest(prints.page, context.digest),
                   pdf=digest(prints.pdf, context.digest))


def _policy(project: Project, options: BuildOptions) -> PublishingPolicy:
    return PublishingPolicy(tuple(project.config.publish_tlp), options.drafts)


def _kept_outputs(entry: Entry, placement: Placement, prints: Fingerprints, options: BuildOptions,
                  there: dict[Placement, FilesIn | None]) -> dict[str, str] | None:
    """The brief's files, as :attr:`Record.outputs` records them (seals refreshed), if they
    may be kept: its record says what this build would write, and the output folder of its
    placement (None where that folder is not the one the last build recorded) holds each
    as the bytes written (a page edited by hand in the published site was kept by every
    later build). None if the brief is to be rendered."""
    record = entry.record
    if record is None or record.placement != placement:
        return None
    if placement == "draft":
        return {}
    page, pdf = _output_prints(record.content, placement, prints, options, entry.translations)
    files = there[placement]
    if files is None or record.page != page or record.pdf != pdf:
        return None
    return kept_files(files, record.outputs)


def _output_prints(content: str, placement: Placement, prints: Fingerprints, options: BuildOptions,
                   translations: tuple[Translation, ...]) -> tuple[str | None, str | None]:
    """The page's digest covers the brief's translations too: a new one changes its links."""
    languages = [part for version in translations for part in (version.language, version.id)]
    page = digest(prints.page, content, *languages) if placement == "published" else None
    pdf = digest(prints.pdf, content) if options.pdf else None
    return page, pdf


def _nothing_changed(entries: Sequence[Entry], to_render: Sequence[Entry],
                     placements: dict[Path, Placement], previous: Manifest,
                     prints: Fingerprints, site_ok: bool, out_dir: Path,
                     manifest_file: Path) -> UnchangedSite | None:
    """Nothing to render, nothing placed elsewhere, and the published site as its build
    wrote it (see :func:`~fieldbrief.unchanged_site.proven_site`); None if not."""
    if not (not to_render and site_ok and previous.site == prints.site
            and set(previous.records) == {str(e.path) for e in entries}
            and all(previous.records[str(e.path)].placement == placements[e.path] for e in entries)):
        return None
    return proven_site(out_dir, previous, _search_record_path(manifest_file))


def _proven_records(entries: Sequence[Entry]) -> dict[str, Record] | None:
    """Each brief's record, its files' seals as a build with nothing to do proved them;
    None if a draft changed since it was recorded (its next build records it)."""
    if any(entry.record is None or entry.kept is None for entry in entries):
        return None
    return {str(entry.path): entry.record.model_copy(update={  # type: ignore[union-attr]
        "outputs": entry.kept, "seal": entry.seal if entry.checked is None else None})
        for entry in entries}


def _publish(project: Project, html: HtmlRenderer, workers: Workers, entries: Sequence[Entry],
             to_render: Sequence[Entry], placements: dict[Path, Placement], prints: Fingerprints,
             series: SeriesFacts, out_dir: Path, options: BuildOptions, progress: Progress,
             manifest_file: Path, passed: dict[str, Seal], published_pages: dict[str, str] | None,
             planned: tuple[str | None, str | None]) -> None:
    """Write the new site (and restricted folder), gate it, record it, and swap it in.

    ``published_pages`` are the fingerprints of the site-wide pages of the published site
    (None when it may not be trusted, or --force): a page whose fingerprint is unchanged is
    kept, as are the search shards whose pages are. ``planned`` are the builds of the site
    and restricted folder this build was planned against: if another build published
    meanwhile, what was planned to be kept may show what this build withholds, so it stops.

    The site but its search folder is settled, gated and recorded while Pagefind indexes
    the changed shards; the search folder is gated once it is written. The manifest is
    saved before the swap (and before the search index is finished; the fingerprints of the
    search folder once it is): a build that cannot record what it built fails with the
    published site as it was (records naming a site that was never swapped in only make the
    next build a full one)."""
    restricted_needed = any(p == "restricted" for p in placements.values()) \
        or (options.restricted_dir / SITE_MARKER).exists()
    with Staging(out_dir, twin_path(project.root, out_dir)) as site, \
            _maybe_staging(options.restricted_dir, restricted_needed) as private:
        if (published_build_id(out_dir), published_build_id(options.restricted_dir)) != planned:
            raise BuildFailed(f"another build published into {display_path(out_dir)} while this "
                              "one was preparing (run this build again)")
        outputs = _keep_unchanged(entries, to_render, placements, site, private)
        rendered, scanned = _render_changed(workers, to_render, placements, series, site, private,
                                            progress)
        outputs.update(rendered)
        _check_one_owner(outputs, placements)
        # brief pages are all there: index the search shards whose pages changed meanwhile
        search = SearchIndexing(site, {brief_page_path(e.card.id): e.card.language for e in entries
                                       if placements[e.path] == "published"}, options.jobs,
                                load_record(_search_record_path(manifest_file), planned[0])
                                if published_pages is not None else None)
        try:
            published = [e.card for e in entries if placements[e.path] == "published"]
            pages = _write_site_pages(html, site, published, series, options, prints,
                                      published_pages or {})
            for relative, content in _static_files(project).items():
                site.write(relative, content)
            if private is not None and any(p == "restricted" for p in placements.values()):
                private.write("README.txt", RESTRICTED_README.encode())
                private.write(".gitignore", IGNORE_ALL)
            # all but the search index is written (Pagefind writes on into the shard folders it
            # claimed, which settle leaves alone): settle, and gate all but the search folder
            for stage in (site, private):
                if stage is not None:
                    stage.settle()
            policy = _policy(project, options)
            checked_at = site.now()  # before the seals are checked: a file changed later is read next time
            unchanged = _unchanged(passed, site, sealed_at(manifest_file, planned[0]))
            gated = _gate(site, policy, unchanged, SitePart(leaving_out=BUNDLE))
            # the search index holds no file the gate reads: its seals are none
            save_manifest(manifest_file, Manifest(
                site_build=site.build_id, restricted_build=private.build_id if private else None,
                rules=prints.rules, site=prints.site, gate_policy=policy.key, gated=gated,
                site_pages=pages,
                records={str(e.path): _record(e, placements[e.path], outputs.get(e.path, {}),
                                              _with_series(prints, series, e), options)
                         for e in entries}))
            search.wait()
            save_record(_search_record_path(manifest_file), site.build_id, search.fingerprints())
        finally:
            search.stop()
        _gate(site, policy, {}, SitePart(folder=BUNDLE))
        _check_site(site, project, scanned)
    save_sealed(manifest_file, site.build_id, checked_at)


def _search_record_path(manifest_file: Path) -> Path:
    """Where the fingerprints of the search folder are kept, beside the manifest: saved
    once the index is written, after the manifest (which is saved while it is written)."""
    return manifest_file.with_suffix(".search")


def _write_site_pages(html: HtmlRenderer, site: Staging, published: list[BriefCard],
                      series: SeriesFacts, options: BuildOptions, prints: Fingerprints,
                      published_pages: dict[str, str]) -> dict[str, str]:
    """Render the site-wide and series pages whose inputs changed, keep the others; the
    fingerprint of each (its inputs, the site's templates and settings, then the digest of
    the bytes written), by path.

    Their renderers are imported here: a build in which nothing changed never needs them."""
    from fieldbrief import render_site
    from fieldbrief.maps import country_map, country_places
    from fieldbrief.render_series import series_pages
    language = html.config.language
    pages = [*render_site.site_pages(html, published, options.generated_at, options.pdf,
                         index_briefs=series.index_cards(published), series=series.counts,
                         country_places=country_places(published, language),
                         draw_map=lambda code, places: country_map(code, places, language)),
             *series_pages(html, series.listings, options.generated_at, options.pdf)]
    fingerprints = {}
    with FilesIn(site.out_dir) as files:
        for page in pages:
            inputs = digest(prints.site, page.inputs)
            recorded = published_pages.get(page.path, "")
            kept = kept_site_page(files, page.path, recorded) \
                if recorded.startswith(f"{inputs} ") else None
            if kept is not None:
                site.keep(page.path)
                fingerprints[page.path] = kept
            else:
                content = page.render()
                site.write(page.path, content)
                fingerprints[page.path] = f"{inputs} {written_digest(content)}"
    return fingerprints


def _keep_unchanged(entries: Sequence[Entry], to_render: Sequence[Entry],
                    placements: dict[Path, Placement], site: Staging,
                    private: Staging | None) -> dict[Path, dict[str, str]]:
    kept: dict[Path, dict[str, str]] = {}
    rendering = {entry.path for entry in to_render}
    for entry in entries:
        if entry.path in rendering or entry.kept is None or placements[entry.path] == "draft":
            continue
        stage = site if placements[entry.path] == "published" else private
        assert stage is not None
        stage.keep_all(entry.kept)
        kept[entry.path] = entry.kept
    return kept


def _check_one_owner(outputs: dict[Path, dict[str, str]], placements: dict[Path, Placement]) -> None:
    """Refuse a build in which two brief files own one output file: the later would
    overwrite the earlier, and a file kept for one would carry the other's text."""
    owners: dict[tuple[Placement, str], Path] = {}
    for path, files in outputs.items():
        for name in files:
            owner = owners.setdefault((placements[path], name), path)
            if owner != path:
                raise BuildFailed(f"{name} would be written for both {_name(owner)} and {_name(path)}")


def _render_changed(workers: Workers, to_render: Sequence[Entry], placements: dict[Path, Placement],
                    series: SeriesFacts, site: Staging, private: Staging | None,
                    progress: Progress) -> tuple[dict[Path, dict[str, str]], dict[str, PageParts]]:
    """Render the briefs that changed; their files, and the scans of their web pages."""
    def job(entry: Entry) -> RenderJob:
        published = placements[entry.path] == "published"
        folder = site.path if published else private.path  # type: ignore[union-attr]
        assert entry.checked is not None
        return RenderJob(entry.checked, _name(entry.path), folder, published,
                         series.contexts.get(entry.card.id), entry.translations)

    rendered: dict[Path, dict[str, str]] = {}
    scanned: dict[str, PageParts] = {}
    failures = []
    for entry, result in zip(to_render, workers.map(render, (job(e) for e in to_render)), strict=True):
        if result.error:
            failures.append(result.error)
            progress.done(f"failed {_name(entry.path)}")
            continue
        rendered[entry.path] = dict(result.outputs)
        stage = site if placements[entry.path] == "published" else private
        assert stage is not None
        stage.wrote(result.outputs)
        if result.page is not None:
            scanned[brief_page_path(entry.card.id)] = result.page
        progress.done(f"rendered {_name(entry.path)} ({result.seconds:.2f} s)")
    if failures:
        raise BuildFailed(f"{len(failures)} brief(s) failed to render: " + "; ".join(failures))
    return rendered, scanned


class _maybe_staging:
    """A Staging for ``folder`` when ``needed``, else nothing (None)."""

    def __init__(self, folder: Path, needed: bool) -> None:
        self.staging = Staging(folder) if needed else None

    def __enter__(self) -> Staging | None:
        return self.staging.__enter__() if self.staging else None

    def __exit__(self, *exc: object) -> None:
        if self.staging:
            self.staging.__exit__(*exc)  # type: ignore[arg-type]


def _record(entry: Entry, placement: Placement, outputs: dict[str, str], prints: Fingerprints,
            options: BuildOptions) -> Record:
    page, pdf = (_output_prints(entry.content, placement, prints, options, entry.translations)
                 if placement != "draft" else (None, None))
    line, column = entry.id_position
    return Record(content=entry.content, id=entry.card.id, card=entry.card, issue=entry.issue,
                  warnings=[problem_record(w) for w in entry.warnings], assets=entry.assets,
                  placement=placement, page=page, pdf=pdf, outputs=outputs,
                  id_line=line, id_column=column,
                  seal=entry.seal if entry.checked is None else None)


def _static_files(project: Project) -> dict[str, bytes]:
    """The stylesheets (the project's, else built-in), and fieldbrief's own scripts and icon."""
    files = {f"assets/{name}": sheet.read_bytes() for name, sheet in project.stylesheets().items()}
    files.update({f"assets/js/{script.name}": script.read_bytes()
                  for script in sorted(STATIC_DIR.glob("*.js")) if script.name != "live-reload.js"})
    files["assets/favicon.svg"] = (STATIC_DIR / "favicon.svg").read_bytes()
    return files


def _check_site(site: Staging, project: Project, scanned: dict[str, PageParts]) -> None:
    """Refuse the site if a page written now has a broken link or loads what it may not
    (kept pages were checked when they were written)."""
    pages = {name for name in site.written if name.endswith(".html")}
    problems = site_problems(site.path, project.resources, pages, scanned)
    if problems:
        raise BuildFailed("; ".join(problems))


def _unchanged(passed: dict[str, Seal], site: Staging, sealed: int | None) -> dict[str, Seal]:
    """The seals of ``passed`` files kept in ``site`` unchanged (see
    :func:`~fieldbrief.policy.unchanged_seals`)."""
    return unchanged_seals(passed, lambda relative: site.status(relative) if relative in site.carried
                    else None, sealed)


def _gate(site: Staging, policy: PublishingPolicy, passed: dict[str, Seal], part: SitePart) -> dict[str, Seal]:
    """Refuse the whole site if any file in ``part`` of it carries a label or status it may
    not; the seals of the files let through (files the last build let through are not read
    again)."""
    problems, seals = gate_site(site.path, policy, passed, part)
    if problems:
        raise BuildFailed("; ".join(problems))
    return seals


def _fingerprints(project: Project, html: HtmlRenderer, options: BuildOptions,
                  declared: dict[str, Declared]) -> Fingerprints:
    config = config_digest(project.config.model_dump(mode="json"))
    base = digest(__version__, config, str(project.root.resolve()), str(options.docx),
                  map_data_digest(), gazetteer_version())
    brief_templates = html.templates_digest("brief.html", "archive.html")
    sheets = project.stylesheets()
    print_styles = files_digest([sheets["shared.css"], sheets["print.css"]])
    page = digest(base, brief_templates, str(options.pdf))
    pdf = digest(base, brief_templates, print_styles, fonts_digest(), str(options.pdf_variant),
                 options.generated_at.isoformat() if options.fixed_date else "")
    site = digest(base, html.templates_digest(*SITE_TEMPLATES),
                  files_digest(sheets.values()), files_digest(STATIC_DIR.glob("*")),
                  str(options.pdf), str(options.drafts),
                  *(item for name, series in sorted(declared.items()) for item in (name, series.digest)))
    return Fingerprints(rules=base, page=page, pdf=pdf, site=site)


def _rules(project: Project) -> SiteRules:
    config = project.config
    return SiteRules(project.resources, config.default_tlp, config.page_size,
                     config.verification, config.max_archive_bytes)


def _report(entries: Sequence[Entry], rendered: Sequence[Entry], placements: dict[Path, Placement],
            started: float, wrote: bool) -> BuildReport:
    rendered_paths = {entry.path for entry in rendered}
    return BuildReport(
        rendered=tuple(e.card.id for e in rendered if placements[e.path] == "published"),
        unchanged=tuple(e.card.id for e in entries
                        if e.path not in rendered_paths and placements[e.path] != "draft"),
        restricted=tuple(e.card.id for e in entries if placements[e.path] == "restricted"),
        drafts_left_out=tuple(e.card.id for e in entries if placements[e.path] == "draft"),
        warnings=tuple(w for e in entries for w in e.warnings),
        seconds=time.perf_counter() - started,
        wrote=wrote,
    )


PROTECTED_FOLDERS = {STATE_DIR: "the project's build records", "briefs": "the project's briefs",
                     "templates": "the project's templates", "styles": "the project's styles",
                     "assets": "the project's assets"}


def _check_folders(project: Project, out_dir: Path, restricted_dir: Path) -> None:
    """Refuse input folders that lead outside the project, and output folders that would
    publish, or overwrite, what they may not."""
    site, restricted, root = out_dir.resolve(), restricted_dir.resolve(), project.root.resolve()
    if site == restricted or site.is_relative_to(restricted) or restricted.is_relative_to(site):
        raise BuildFailed(f"the restricted folder {restricted_dir} must be outside the site "
                          f"folder {out_dir}, and the other way round")
    if refused := project.resources.unreadable_inputs():
        raise BuildFailed(f"{', '.join(refused)}: not a file or folder inside its own folder (a "
                          "link leading outside, a loop of links, a pipe or a device); fieldbrief "
                          "reads templates, styles and assets only from inside the project's "
                          "templates/, styles/ and assets/ folders")
    for option, given, folder in (("--out", out_dir, site), ("--restricted-out", restricted_dir, restricted)):
        if root.is_relative_to(folder):
            raise BuildFailed(f"{folder} holds the project itself; choose another output folder")
        for name, what in PROTECTED_FOLDERS.items():
            if folder.is_relative_to(root / name):
                raise BuildFailed(f"{option} {given} lies inside {name}/ ({what}); "
                                  "choose a folder outside it")


def _duplicate_ids(briefs: Iterable[tuple[Path, str, tuple[int, int]]]) -> list[Problem]:
    """Two files with one id: reported at the later file, naming the first.

    Files are told apart by their paths, never by their names as displayed: two names
    can display alike (escaped control characters) and still be two files."""
    first_file: dict[str, Path] = {}
    problems = []
    for path, brief_id, (line, column) in briefs:
        earlier = first_file.setdefault(brief_id, path.absolute())
        if earlier != path.absolute():
            problems.append(Problem(_name(path), line, column, "id",
                                    f"id '{brief_id}' is already used by {_name(earlier)}"))
    return problems


def _dangling_translations(entries: Sequence[Entry]) -> list[Entry]:
    """Entries whose translation_of names no original (read again for its position)."""
    valid = [e for e in entries if e.checked is None or e.checked.card is not None]
    by_id = {e.card.id: e.card for e in valid}
    return [e for e in valid if translation_problem(e.card, by_id)]


def _checked_translation_problems(briefs: Sequence[ValidBrief]) -> list[Problem]:
    """What `check` can tell of translations among the briefs it checked: an original it did
    not check may be a file it was not given, so only the build says that one is missing."""
    cards = {valid.brief.id: BriefCard.of(valid.brief) for valid in briefs}
    problems = []
    for valid in briefs:
        card = cards[valid.brief.id]
        message = translation_problem(card, cards) if card.translation_of in cards else None
        if message:
            line, column = valid.source_file.position_of(("translation_of",))
            problems.append(Problem(_name(valid.source_file.path), line, column, "translation_of", message))
    return problems


def _translation_problems(valid: Sequence[Entry]) -> list[Problem]:
    by_id = {e.card.id: e.card for e in valid}
    problems = []
    for entry in valid:
        message = translation_problem(entry.card, by_id)
        if message:
            line, column = entry.checked.translation_position if entry.checked else (1, 1)
            problems.append(Problem(_name(entry.path), line, column, "translation_of", message))
    return problems


def _gather_translations(entries: Sequence[Entry], placements: dict[Path, Placement]) -> None:
    """Each published brief's languages on the site (never a restricted brief's page)."""
    sets = translation_sets(e.card for e in entries if placements[e.path] == "published")
    for entry in entries:
        if placements[entry.path] == "published":
            entry.translations = sets.get(entry.card.id, ())


def _name(path: Path) -> str:
    return display_path(path)


def _unique(paths: Iterable[Path]) -> list[Path]:
    """``paths`` without repeats, told apart by their real paths."""
    seen: dict[Path, Path] = {}
    folders: dict[Path, Path] = {}
    for path in paths:
        seen.setdefault(_real_path(path, folders), path)
    return list(seen.values())


def _real_path(path: Path, folders: dict[Path, Path]) -> Path:
    """``path.resolve()``, resolving each folder once (``folders``, by path): a file that is
    not a link is its folder's real path and its name."""
    if path.name in ("", ".", "..") or path.is_symlink():
        return path.resolve()
    return _real_folder(path.parent, folders) / path.name


def _real_folder(folder: Path, folders: dict[Path, Path]) -> Path:
    """``folder.resolve()``, once for all its files (``folders``, by path)."""
    if folder not in folders:
        folders[folder] = folder.resolve()
    return folders[folder]
