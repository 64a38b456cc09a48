"""Stage 4b, render PDF: a brief's print HTML in, PDF bytes out, with WeasyPrint.

WeasyPrint fetches whatever a document references unless told otherwise; this
stage gives it a fetcher that asks the project's :class:`ResourcePolicy` and fails
the render on anything it refuses (and on any redirect), so a brief can never pull
a local file or a network address into a PDF. One renderer holds one
font configuration and the parsed print stylesheets for all the briefs it renders.

Output is tagged PDF by default. ``pdf/a-3b`` gives an archival PDF carrying the
brief's YAML source as an attachment; ``pdf/ua-1`` an accessible one. Dates in
the PDF come from the caller, so a fixed date gives byte-identical files.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetchingError

from fieldbrief.errors import BuildFailed
from fieldbrief.model import PageSize, PdfVariant
from fieldbrief.resources import ResourcePolicy

PRINT_STYLESHEETS = ("shared.css", "print.css")


@dataclass(frozen=True)
class PdfJob:
    """One brief to render: its print HTML and what goes around it."""

    html: str
    label: str  # names the brief in error messages, e.g. its file
    page_size: PageSize
    generated_at: datetime
    source_name: str  # file name of the attached YAML source
    source: bytes


class PolicyFetcher(URLFetcher):
    """Fetches only what the resource policy allows, without following redirects."""

    def __init__(self, policy: ResourcePolicy) -> None:
        super().__init__(timeout=10, allowed_protocols={"file", "http", "https"},
                         allow_redirects=False, fail_on_errors=True)
        self.policy = policy
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[override]
        if not self.policy.allows_url(url):
            self.refused.append(url)
            raise URLFetchingError(f"fetching {url!r} is not allowed")
        return super().fetch(url, headers)


class PdfRenderer:
    """Renders print HTML to PDF with shared fonts and stylesheets."""

    def __init__(self, styles_dir: Path, policy: ResourcePolicy,
                 variant: PdfVariant | None = None) -> None:
        self.styles_dir = styles_dir
        self.policy = policy
        self.variant = variant
        self.font_config = FontConfiguration()
        fetcher = PolicyFetcher(policy)
        self.stylesheets = [CSS(filename=str(styles_dir / name), font_config=self.font_config,
                                url_fetcher=fetcher) for name in PRINT_STYLESHEETS]
        self.page_sizes = {size: CSS(string=f"@page {{ size: {size} }}",
                                     font_config=self.font_config) for size in ("A4", "Letter")}

    def render(self, job: PdfJob) -> bytes:
        fetcher = PolicyFetcher(self.policy)
        document = HTML(string=job.html, base_url=str(self.styles_dir) + "/", url_fetcher=fetcher)
        try:
            return document.write_pdf(
                stylesheets=[*self.stylesheets, self.page_sizes[job.page_size]],
                font_config=self.font_config, **self._variant_options(job))
        except FatalURLFetchingError as error:
            if fetcher.refused:
                raise BuildFailed(
                    f"{job.label}: the PDF may only load files from the project's styles/, "
                    "templates/ and assets/ folders, and URLs on hosts listed in "
                    f"allowed_hosts; refused {', '.join(fetcher.refused)}") from None
            raise BuildFailed(f"{job.label}: {error}: {error.__cause__}") from None

    def _variant_options(self, job: PdfJob) -> dict[str, object]:
        """Options of the chosen variant; every variant copies the page's custom <meta>
        (the handling label and status the publishing gate reads) into the PDF."""
        if self.variant is None:
            return {"pdf_tags": True, "custom_metadata": True}
        options: dict[str, object] = {"pdf_variant": self.variant, "custom_metadata": True}
        if self.variant == "pdf/a-3b":
            options["attachments"] = [Attachment(
                file_obj=io.BytesIO(job.source), name=job.source_name,
                description="The brief's YAML source", relationship="Source",
                created=job.generated_at, modified=job.generated_at)]
        return options
