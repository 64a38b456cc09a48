"""Stage 2a, archives: read the archived texts of a brief's sources.

In: a validated :class:`~fieldbrief.model.Brief`, the project folder and the size limit.
Out: an :class:`Archive` (text, SHA-256 of the bytes) for each source that names one,
and a positioned message for each archive that cannot be read. An archive is a regular
file inside the project's ``sources/`` folder: plain text or Markdown as it is, HTML as
the text a real HTML parser finds in it (scripts and styles dropped), PDF as the text
pypdf extracts. Nothing is ever fetched from the network.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from fieldbrief.errors import InvalidInput, Problem, quoted
from fieldbrief.load import FieldPath, read_regular_file
from fieldbrief.model import Brief

ARCHIVE_DIR = "sources"
TEXT_SUFFIXES = (".txt", ".text", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
MEDIA_TYPES = (((".txt", ".text"), "text/plain"), ((".md", ".markdown"), "text/markdown"),
               (HTML_SUFFIXES, "text/html"), ((".pdf",), "application/pdf"))
"""The media type of each kind of archive, by file name ending (as a PDF/A attaches it)."""
BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                    "blockquote", "section", "article", "header", "footer", "pre", "figcaption"})
"""HTML elements that end a line of text: a quote never runs across two of them unseen."""


@dataclass(frozen=True)
class Archive:
    """The text of one source as it was archived."""

    source_id: str
    text: str
    sha256: str  # of the file's bytes, as the reader can check them
    reference: str  # the file as the brief names it: sources/article.txt
    raw: bytes = field(repr=False)  # the file's bytes, as a PDF/A attaches them


def archive_file(root: Path, reference: str) -> Path:
    """The file an ``archive:`` field names (relative to the project folder)."""
    return root / reference


def read_archives(brief: Brief, root: Path,
                  max_bytes: int) -> tuple[dict[str, Archive], list[tuple[FieldPath, str]]]:
    """The archives of ``brief``'s sources by source id, and the problems of those that
    cannot be read, each at its source's ``archive`` field."""
    archives: dict[str, Archive] = {}
    problems: list[tuple[FieldPath, str]] = []
    for index, source in enumerate(brief.sources):
        if source.archive is None:
            continue
        try:
            archives[source.id] = read_archive(source.id, root, source.archive, max_bytes)
        except InvalidInput as error:
            problems.append((("sources", index, "archive"), error.problems[0].message))
    return archives, problems


def read_archive(source_id: str, root: Path, reference: str, max_bytes: int) -> Archive:
    """One archive, or InvalidInput saying why it may not or cannot be read."""
    folder = (root / ARCHIVE_DIR).resolve()
    path = archive_file(root, reference)
    try:  # the folder itself too: a sources/ that links outside the project is not inside it
        inside = folder.is_relative_to(root.resolve()) and path.resolve().is_relative_to(folder)
    except (OSError, RuntimeError):
        inside = False
    if not inside:
        raise _refused(f"{quoted(reference)} is not inside the project's {ARCHIVE_DIR}/ folder; "
                       f"archive the source's text there and write e.g. '{ARCHIVE_DIR}/article.txt'")
    if not path.exists():
        raise _refused(f"no such file: {quoted(reference)} (archives are never fetched: "
                       f"save the source's text in {ARCHIVE_DIR}/)")
    try:
        raw = read_regular_file(path, max_bytes, folder, limit_setting="max_archive_bytes")
    except OSError as error:
        raise _refused(f"{quoted(reference)} cannot be read: {error.strerror or error}") from None
    text = _text_of(reference, raw)
    if not text.strip():
        raise _refused(f"{quoted(reference)} holds no text (a scanned PDF without a text layer?); "
                       "archive the source's text")
    return Archive(source_id, text, hashlib.sha256(raw).hexdigest(), reference, raw)


def _text_of(reference: str, raw: bytes) -> str:
    suffix = Path(reference).suffix.lower()
    if suffix == ".pdf":
        return _pdf_text(reference, raw)
    try:
        if suffix in TEXT_SUFFIXES:
            return raw.decode("utf-8")
        if suffix in HTML_SUFFIXES:
            return html_text(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _refused(f"{quoted(reference)} is not UTF-8 text; save it as UTF-8") from None
    raise _refused(f"{quoted(reference)} is not plain text (.txt), Markdown (.md), HTML (.html) "
                   "or PDF (.pdf)")


def _pdf_text(reference: str, raw: bytes) -> str:
    from pypdf import PdfReader  # loaded only for a PDF archive
    try:
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(raw)).pages)
    except Exception as error:  # noqa: BLE001 (pypdf raises many kinds on a damaged file)
        raise _refused(f"{quoted(reference)} cannot be read as PDF ({type(error).__name__})") from None


class _TextCollector(HTMLParser):
    """The text of an HTML document, line by line, without scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "template"):
            self.hidden += 1
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees in ``html``, with a line break for each block element."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    return "".join(collector.parts)


def _refused(message: str) -> InvalidInput:
    return InvalidInput([Problem("", 1, 1, "", message)])


def archive_references(brief: Brief, root: Path) -> Iterator[Path]:
    """The archive files ``brief`` uses: inputs of its build like its images."""
    for source in brief.sources:
        if source.archive is not None:
            yield archive_file(root, source.archive)
