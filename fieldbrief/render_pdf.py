"""Stage 4b, render PDF: a brief's print HTML in, PDF bytes out, with WeasyPrint.

WeasyPrint fetches whatever a document references unless told otherwise; this
stage gives it a fetcher that serves only files inside the project's own style,
template and asset folders and fails the render on anything else, so a brief can
never pull a local file or a network address into a PDF. One renderer holds one
font configuration and the parsed print stylesheets for all the briefs it renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetchingError

from fieldbrief.errors import BuildFailed

PRINT_STYLESHEETS = ("shared.css", "print.css")


class LocalOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs under the allowed folders; refuses everything else."""

    def __init__(self, allowed_roots: Sequence[Path]) -> None:
        super().__init__(allowed_protocols={"file"}, allow_redirects=False, fail_on_errors=True)
        self.allowed_roots = [root.resolve() for root in allowed_roots]
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None):  # type: ignore[override]
        path = Path(url.removeprefix("file://").split("?")[0]).resolve() if url.startswith("file://") else None
        if path is None or not any(path.is_relative_to(root) for root in self.allowed_roots):
            self.refused.append(url)
            raise URLFetchingError(f"fetching {url!r} is not allowed")
        return super().fetch(url, headers)


class PdfRenderer:
    """Renders print HTML to PDF with shared fonts and stylesheets."""

    def __init__(self, styles_dir: Path, allowed_roots: Sequence[Path]) -> None:
        self.styles_dir = styles_dir
        self.allowed_roots = list(allowed_roots)
        self.font_config = FontConfiguration()
        fetcher = LocalOnlyFetcher(self.allowed_roots)
        self.stylesheets = [CSS(filename=str(styles_dir / name), font_config=self.font_config,
                                url_fetcher=fetcher) for name in PRINT_STYLESHEETS]

    def render(self, html: str, label: str) -> bytes:
        """PDF bytes of ``html``; ``label`` names the brief in error messages."""
        fetcher = LocalOnlyFetcher(self.allowed_roots)
        document = HTML(string=html, base_url=str(self.styles_dir) + "/", url_fetcher=fetcher)
        try:
            return document.write_pdf(stylesheets=self.stylesheets, font_config=self.font_config)
        except FatalURLFetchingError as error:
            refused = ", ".join(fetcher.refused) or str(error)
            raise BuildFailed(f"{label}: the PDF may only load files from the project's "
                              f"styles/, templates/ and assets/ folders; refused {refused}") from None
