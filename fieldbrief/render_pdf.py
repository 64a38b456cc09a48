"""Stage 4b, render PDF: a brief's print HTML in, PDF bytes out, with WeasyPrint.

WeasyPrint fetches whatever a document references unless told otherwise; this
stage gives it a fetcher that asks the project's :class:`ResourcePolicy` and fails
the render on anything it refuses (and on any redirect), so a brief can never pull
a local file or a network address into a PDF. The fetcher also refuses an image
that exceeds the structural bounds of :mod:`fieldbrief.images` (an SVG ``<use>``
bomb) before WeasyPrint parses it. WeasyPrint only logs some failures, such as an
image inside an SVG that did not load; any error it logs during a render fails the
render too, so a PDF never ships without its map. One renderer holds one
font configuration and the parsed print stylesheets for all the briefs it renders.

Output is tagged PDF in every variant. ``pdf/a-3b`` gives an archival PDF carrying
the brief's YAML source as an attachment, and beside it the archives it is given
(their original files, with the relationship Source); ``pdf/ua-1`` an accessible
one. Dates in the PDF come from the caller, so a fixed date gives byte-identical files.

WeasyPrint's output is finished (:func:`finish_pdf`, through its ``finisher`` hook,
before the file is written) where it falls short of PDF/UA-1 and ISO 32000-1: link
annotations get the link's own words as their description, the structure tree gets
the ``/IDTree`` its table headers' IDs require, and an attachment gets its media type.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element

import pydyf
from weasyprint import CSS, HTML, Attachment
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError

from fieldbrief.archive import MEDIA_TYPES as ARCHIVE_MEDIA_TYPES, Archive
from fieldbrief.choices import PdfVariant
from fieldbrief.errors import BuildFailed
from fieldbrief.images import MAX_IMAGE_BYTES, svg_problem
from fieldbrief.model import PageSize
from fieldbrief.project import stylesheets_on
from fieldbrief.resources import ResourcePolicy

PRINT_STYLESHEETS = ("shared.css", "print.css")
WEASYPRINT_LOG = logging.getLogger("weasyprint")
MEDIA_TYPES = {".yaml": "application/yaml", ".yml": "application/yaml",
               **{suffix: kind for suffixes, kind in ARCHIVE_MEDIA_TYPES for suffix in suffixes}}
"""Media types of attachments by file name ending, where WeasyPrint's guess (Python's
mimetypes, which knows no YAML before 3.13, and Markdown only from the system's
mime.types) would say application/octet-stream."""


@dataclass(frozen=True)
class PdfJob:
    """One brief to render: its print HTML and what goes around it."""

    html: str
    label: str  # names the brief in error messages, e.g. its file
    page_size: PageSize
    generated_at: datetime
    source_name: str  # file name of the attached YAML source
    source: bytes
    archives: tuple[Archive, ...] = ()  # attached beside the source in a PDF/A-3b


class PolicyFetcher(URLFetcher):
    """Fetches only what the resource policy allows, without following redirects, and
    no image that exceeds the bounds of :func:`svg_problem`.

    A failed fetch does not stop WeasyPrint (it logs it and goes on), so each refusal is
    recorded here, and the renderer fails once the document is done, naming them all.
    """

    def __init__(self, policy: ResourcePolicy) -> None:
        super().__init__(timeout=10, allowed_protocols={"file", "http", "https"},
                         allow_redirects=False)
        self.policy = policy
        self.refused: list[str] = []  # URLs the policy refused
        self.failures: list[str] = []  # why other fetches failed, or their content was refused

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:  # type: ignore[override]
        if not self.policy.allows_url(url):
            self.refused.append(url)
            raise URLFetchingError(f"fetching {url!r} is not allowed")
        try:
            response = super().fetch(url, headers)
            try:
                body = response.read(MAX_IMAGE_BYTES + 1)
            finally:
                response.close()
        except Exception as error:
            self.failures.append(f'Error fetching "{url}": {error}')
            raise
        problem = (f"larger than {MAX_IMAGE_BYTES // 2**20} MiB"
                   if len(body) > MAX_IMAGE_BYTES else svg_problem(body))
        if problem:
            self.failures.append(f"{self._name(url)}: {problem}")
            raise URLFetchingError(problem)
        return URLFetcherResponse(response.url, body, response.headers, response.status)

    def _name(self, url: str) -> str:
        """A project file as a path inside the project, anything else as its URL."""
        parts = urlsplit(url)
        if parts.scheme == "file":
            return Path(unquote(parts.path)).resolve().relative_to(self.policy.root).as_posix()
        return url


class _ErrorLog(logging.Filter):
    """Collects the error records WeasyPrint logs (a missing image, an SVG that failed
    to draw) instead of letting them pass as output, so they fail the render."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR:
            return True
        self.messages.append(record.getMessage().rstrip(": "))  # some end in an empty reason
        return False


class PdfRenderer:
    """Renders print HTML to PDF with shared fonts and stylesheets."""

    def __init__(self, styles: Path | Sequence[Path], policy: ResourcePolicy,
                 variant: PdfVariant | None = None) -> None:
        """``styles``: a folder, or a search path of folders; each print stylesheet is
        taken from the first folder that has it (see Project.style_dirs)."""
        search_path = [styles] if isinstance(styles, Path) else list(styles)
        self.styles_dir = search_path[0]  # the base of relative URLs in the page
        self.policy = policy
        self.variant = variant
        self.font_config = FontConfiguration()
        sheets = stylesheets_on(search_path)
        with self._guarded(str(self.styles_dir)) as fetcher:
            self.stylesheets = [CSS(filename=str(sheets[name]), font_config=self.font_config,
                                    url_fetcher=fetcher) for name in PRINT_STYLESHEETS]
        self.page_sizes = {size: CSS(string=f"@page {{ size: {size} }}",
                                     font_config=self.font_config) for size in ("A4", "Letter")}

    def render(self, job: PdfJob) -> bytes:
        """The brief's PDF; BuildFailed naming the brief if anything in it failed to load."""
        with self._guarded(job.label) as fetcher:
            return self._html(job, fetcher).write_pdf(finisher=finish_pdf, **self._options(job))

    def layout(self, job: PdfJob) -> Document:
        """The brief laid out in pages, as :meth:`render` would write them."""
        with self._guarded(job.label) as fetcher:
            return self._html(job, fetcher).render(**self._options(job))

    def _html(self, job: PdfJob, fetcher: PolicyFetcher) -> HTML:
        return HTML(string=job.html, base_url=str(self.styles_dir) + "/", url_fetcher=fetcher)

    def _options(self, job: PdfJob) -> dict[str, object]:
        return {"stylesheets": [*self.stylesheets, self.page_sizes[job.page_size]],
                "font_config": self.font_config, "pdf_tags": True, **self._variant_options(job)}

    @contextmanager
    def _guarded(self, label: str) -> Iterator[PolicyFetcher]:
        """A fetcher for one use of WeasyPrint; any refusal, and any error WeasyPrint
        logs meanwhile, then fails it with BuildFailed naming ``label``."""
        fetcher, errors = PolicyFetcher(self.policy), _ErrorLog()
        WEASYPRINT_LOG.addFilter(errors)
        try:
            yield fetcher
        finally:
            WEASYPRINT_LOG.removeFilter(errors)
        if fetcher.refused:
            raise BuildFailed(
                f"{label}: the PDF may only load files from the project's styles/, "
                "templates/ and assets/ folders, and URLs on hosts listed in "
                f"allowed_hosts; refused {', '.join(dict.fromkeys(fetcher.refused))}")
        if fetcher.failures:
            raise BuildFailed(f"{label}: {'; '.join(dict.fromkeys(fetcher.failures))}")
        if errors.messages:
            raise BuildFailed(f"{label}: the PDF failed to render: "
                              f"{'; '.join(dict.fromkeys(errors.messages))}")

    def _variant_options(self, job: PdfJob) -> dict[str, object]:
        """Options of the chosen variant; every variant copies the page's custom <meta>
        (the handling label and status the publishing gate reads) into the PDF."""
        if self.variant is None:
            return {"custom_metadata": True}
        options: dict[str, object] = {"pdf_variant": self.variant, "custom_metadata": True}
        if self.variant == "pdf/a-3b":
            options["attachments"] = [Attachment(
                file_obj=io.BytesIO(job.source), name=job.source_name,
                description="The brief's YAML source", relationship="Source",
                created=job.generated_at, modified=job.generated_at), *_archive_attachments(job)]
        return options


def finish_pdf(document: Document, pdf: pydyf.PDF) -> None:
    """WeasyPrint's ``finisher``: completes the PDF before it is written (see the module
    docstring)."""
    _describe_links(document)
    _add_id_tree(pdf)
    _name_media_types(pdf)


def _describe_links(document: Document) -> None:
    """Gives each link annotation the words a reader hears for the link (PDF/UA-1 7.18.5);
    WeasyPrint writes the bare target there, a fragment id or a URL."""
    for page in document.pages:
        for _type, _target, _rectangle, box in page.links:
            annotation = getattr(box, "link_annotation", None)  # None: a link that was dropped
            if annotation is not None and (description := link_description(box.element)):
                annotation["Contents"] = pydyf.String(description)


def link_description(element: Element) -> str:
    """A link's accessible name (its aria-label, else its text), followed by its title
    where that says more; "" for a link with neither."""
    name = element.get("aria-label") or " ".join("".join(element.itertext()).split())
    title = element.get("title", "")
    return f"{name} — {title}" if name and title and title != name else name or title


def _add_id_tree(pdf: pydyf.PDF) -> None:
    """Adds the ``/IDTree`` that ISO 32000-1 (Table 322) requires once structure elements
    carry an ``/ID``, as WeasyPrint gives every table header cell for its cells'
    ``/Headers``, without the tree."""
    elements = [item for item in pdf.objects if isinstance(item, pydyf.Dictionary)
                and item.get("Type") == "/StructElem" and "ID" in item]
    roots = [item for item in pdf.objects if isinstance(item, pydyf.Dictionary)
             and item.get("Type") == "/StructTreeRoot"]
    if not elements or not roots:
        return
    names = pydyf.Array()
    for element in sorted(elements, key=lambda item: str(item["ID"].string).encode()):
        names.extend([element["ID"], element.reference])
    roots[0]["IDTree"] = pydyf.Dictionary({"Names": names})


def _name_media_types(pdf: pydyf.PDF) -> None:
    """Sets an attachment's media type from :data:`MEDIA_TYPES` by its file name."""
    for item in pdf.objects:
        if not isinstance(item, pydyf.Dictionary) or item.get("Type") != "/Filespec":
            continue
        media_type = MEDIA_TYPES.get(Path(str(item["UF"].string)).suffix.lower())
        reference = re.fullmatch(rb"(\d+) 0 R", item["EF"]["F"])
        if media_type and reference:
            stream = pdf.objects[int(reference.group(1))]
            stream.extra["Subtype"] = "/" + media_type.replace("/", "#2f")


def _archive_attachments(job: PdfJob) -> Iterator[Attachment]:
    """Each archive given, once, under its own file name (made unique: two folders of
    sources/ may hold one name; its suffix kept, which gives its media type)."""
    names = {job.source_name}
    for archive in {archive.reference: archive for archive in job.archives}.values():
        name = _unique_name(archive, names)
        names.add(name)
        yield Attachment(file_obj=io.BytesIO(archive.raw), name=name,
                         description=f"Archived copy of source '{archive.source_id}' "
                                     f"(SHA-256 {archive.sha256})",
                         relationship="Source", created=job.generated_at, modified=job.generated_at)


def _unique_name(archive: Archive, taken: set[str]) -> str:
    name = PurePosixPath(archive.reference).name
    if not name.isprintable() or not name:
        name = f"{archive.source_id}{PurePosixPath(archive.reference).suffix.lower()}"
    return name if name not in taken else f"{archive.source_id}-{name}"
