"""The publishing policy: where each brief may go, decided once and enforced at the end.

In: a brief's handling label and status (to place it), and the finished staging folder
of a site (to gate it). Out: the brief's placement (on the site, restricted, or left out
as a draft), and every reason the staged site may not be published.

Placement is decided from the bytes that were checked. The gate is independent of how
a file reached the staging folder: it reads the label every page and PDF actually
carries (the ``fieldbrief-tlp`` and ``fieldbrief-status`` markers that the brief
template writes into the page's <head>, and that WeasyPrint copies into the PDF's
document information, the ``tlp`` and ``status`` fields of a brief's JSON export, and
the category and content status of a Word file's core properties, with every label its
headers and footers show) and refuses the whole site if one may not be published there.
A brief page, PDF, JSON or Word file without its markers is refused too: the gate fails safe. Indicator exports are gated
the same way, by the label and status they carry themselves (the TLP 2.0 marking and
``fieldbrief-status:`` label of each object of a STIX bundle, the first two columns of a
CSV), and only beside a brief page. A brief's ``sources/`` folder
holds only the pages of its published archives, each carrying the brief's markers like
the brief page: any other file there (an archive copied as it is) is refused.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from fieldbrief.incremental import Placement

LABEL_META = "fieldbrief-tlp"
STATUS_META = "fieldbrief-status"
LABELS = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")
STIX_TLP_MARKINGS = {
    "TLP:CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "TLP:GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "TLP:AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "TLP:AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "TLP:RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
"""The fixed ids of the TLP 2.0 marking definitions that OASIS publishes for STIX 2.1."""
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
"""The STIX extension those marking definitions use (stix2 itself knows only TLP 1.0)."""
STIX_LABELS = {marking: label for label, marking in STIX_TLP_MARKINGS.items()}
STIX_STATUS_LABEL = "fieldbrief-status:{status}"
"""The STIX label carrying a brief's status on each object of its bundle (STIX has no
status property; ``labels`` is common to every domain object)."""
STIX_STATUS = re.compile(r"fieldbrief-status:(.*)")
EXPORT_PLACE = re.compile(r"^briefs/[^/]+/[^/]+$")
ARCHIVE_PLACE = re.compile(r"^briefs/[^/]+/sources/")
SLUG_LABELS = {label.removeprefix("TLP:").lower().replace("+", "-"): label for label in LABELS}
"""CSS class suffix of each label, as the templates write it (tlp-amber-strict)."""


@dataclass(frozen=True)
class PublishingPolicy:
    """Which labels the site publishes, and whether drafts go on it."""

    labels: tuple[str, ...]
    drafts: bool = False

    @property
    def key(self) -> str:
        """The policy as a string: a site gated under another policy is gated again whole."""
        return json.dumps([list(self.labels), self.drafts])

    def placement(self, label: str, status: str) -> Placement:
        if status == "draft" and not self.drafts:
            return "draft"
        return "published" if label in self.labels else "restricted"

    def refusal(self, label: str | None, status: str | None) -> str | None:
        """Why a file carrying ``label`` and ``status`` may not be on the site, if it may not."""
        if label not in self.labels:
            allowed = " and ".join(self.labels)
            only = " only" if len(self.labels) == 1 else ""
            return f"it is labelled {label}, and this site publishes {allowed}{only}"
        if status != "final" and not (status == "draft" and self.drafts):
            return f"its status is {status}, and drafts are published only with --drafts"
        return None


Seal = tuple[int, int, int]
"""What a gated file was when its bytes were read: inode, size and modification time (ns).
The build honours a seal only for a file kept as that inode whose change time (which no one
can set back) is no later than when the last build recorded its site whole."""


@dataclass(frozen=True)
class SitePart:
    """A part of a site to gate: all under ``folder`` (the whole site if empty) but the
    top-level folder ``leaving_out`` (gated on its own: the search index is still being
    written while the rest is gated)."""

    folder: str = ""
    leaving_out: str | None = None


def gate(site: Path, policy: PublishingPolicy) -> list[str]:
    """Every file of the staged ``site`` that carries a label or status it may not."""
    return gate_site(site, policy, {})[0]


def gate_site(site: Path, policy: PublishingPolicy, passed: Mapping[str, Seal],
              part: SitePart = SitePart(), known: Mapping[str, Seal] | None = None
              ) -> tuple[list[str], dict[str, Seal]]:
    """Like :func:`gate`, and the seal of every file it let through; of ``part`` of the
    site only, if given (the parts of a site gated one by one must cover it all).

    A file whose seal is in ``passed`` (let through by the last build under the same
    policy, and carried over as a hard link to the very same file) is not read again:
    its bytes are the bytes that were gated unless it was written since, and writing
    it changes its modification time (a new file has a new inode). Each file is
    sealed before it is read, so a change made while it is read is caught next time.
    Anything in the site that is neither a folder nor a regular file (a link) is refused:
    the gate reads no file through a link, and a site carries none. With ``known`` (the
    seals of the last gate, for a site no build removed anything planted from), a file
    not among them, or not of the size sealed, is refused unread (it may be of any size)."""
    problems: list[str] = []
    seals: dict[str, Seal] = {}
    files: set[str] = set()
    for relative, entry in _entries(str(site), part):
        if entry.is_dir(follow_symlinks=False):
            continue
        if not entry.is_file(follow_symlinks=False):
            problems.append(f"the site may not carry {relative}: it is a link or a special file, "
                            "not a regular file")
            continue
        files.add(relative)
        if not _gated(relative, entry.name):
            continue
        status = entry.stat(follow_symlinks=False)
        seal = (status.st_ino, status.st_size, status.st_mtime_ns)
        if known is not None and (relative not in known or known[relative][1] != seal[1]):
            problems.append(f"the site may not carry {relative}: the last build did not gate it")
            continue
        reason = None if passed.get(relative) == seal else _refusal(relative, entry.path, policy)
        if reason:
            problems.append(f"the site may not carry {relative}: {reason}")
        else:
            seals[relative] = seal
    if not part.folder:
        problems.extend(_orphans(site, files))
    return problems, seals


def unchanged_seals(passed: Mapping[str, Seal], status: Callable[[str], os.stat_result | None],
                    sealed: int | None) -> dict[str, Seal]:
    """The seals of ``passed`` files unchanged since the last build began to check its
    site (``sealed``, by the clock of the site's file system): the very inode sealed, whose
    change time (set by every write, by setting the modification time back, and by
    linking), looked at now (``status``), after this build took the time it records, is
    earlier. A file changed after that time, while this build or the last one ran on, is
    read next time."""
    if sealed is None:
        return {}
    return {relative: seal for relative, seal in passed.items()
            if (found := status(relative)) is not None
            and found.st_ino == seal[0] and found.st_ctime_ns < sealed}


def _entries(site: str, part: SitePart) -> list[tuple[str, os.DirEntry[str]]]:
    """Every entry of ``part`` of ``site`` (folders too, links not followed) by its path
    relative to the site, in the order ``rglob`` finds them (``os.scandir`` is many times
    quicker than ``rglob``, and gives each entry's type without a call for it). A folder
    to start from that is not a folder (a link) is an entry of its own."""
    found: list[tuple[str, os.DirEntry[str]]] = []
    folders = [""]
    if part.folder:
        with os.scandir(site) as entries:
            found.extend((entry.name, entry) for entry in entries if entry.name == part.folder)
        folders = [f"{part.folder}/"] if found and found[0][1].is_dir(follow_symlinks=False) else []
    while folders:
        prefix = folders.pop()
        with os.scandir(os.path.join(site, prefix)) as entries:
            for entry in entries:
                if not prefix and entry.name == part.leaving_out:
                    continue
                found.append((prefix + entry.name, entry))
                if entry.is_dir(follow_symlinks=False):
                    folders.append(f"{prefix}{entry.name}/")
    return sorted(found, key=lambda item: item[0].split("/"))


def _gated(relative: str, name: str) -> bool:
    """Whether the gate reads this regular file (pages, PDFs, Word files, exports, archive
    folders)."""
    suffix = os.path.splitext(name)[1]
    return (suffix in (".html", ".pdf", ".docx", ".csv") or name.endswith(".stix.json")
            or (suffix == ".json" and relative.startswith("briefs/"))
            or ARCHIVE_PLACE.match(relative) is not None)


def _refusal(relative: str, path: str, policy: PublishingPolicy) -> str | None:
    suffix = os.path.splitext(path)[1]
    with open(path, "rb") as file:
        data = file.read()
    if suffix == ".html":
        return page_refusal(relative, data.decode("utf-8"), policy)
    if suffix == ".pdf":
        return _pdf_refusal(data, policy)
    if suffix == ".docx":
        return _docx_refusal(data, policy)
    if relative.endswith(".stix.json") or suffix == ".csv":
        return _export_refusal(relative, data, policy)
    if suffix == ".json" and relative.startswith("briefs/"):
        return _json_refusal(data, policy)
    return ("it is a file in a brief's sources/ folder that is not an archive page "
            "(an archive is published only as a page carrying its brief's label)")


MARKER = re.compile(r'<meta\s+name="(fieldbrief-tlp|fieldbrief-status)"\s+content="([^"]*)"\s*/?>')
LABEL_CLASSES = re.compile(r'class="([^"]*\btlp-[^"]*)"')


def page_refusal(relative: str, page: str, policy: PublishingPolicy) -> str | None:
    """Why the page at ``relative`` in a site may not be published, if it may not (the gate
    reads every page this way; ``serve`` reads a page rendered ahead of its build too)."""
    head_end = page.find("</head>")
    markers = dict(MARKER.findall(page, 0, head_end if head_end != -1 else len(page)))
    label, status = markers.get(LABEL_META), markers.get(STATUS_META)
    is_brief_page = relative.startswith("briefs/")
    if is_brief_page and (label is None or status is None):
        return ('it is a brief page without its handling label (<meta name="fieldbrief-tlp">; '
                "the brief template must keep it)")
    if label is not None and (reason := policy.refusal(label, status or "final")):
        return reason
    for shown in _labels_shown(page):
        if reason := policy.refusal(shown, "final"):
            return f"it shows a {shown} label: {reason}"
    return None


def _labels_shown(page: str) -> Iterator[str]:
    """Labels a page displays: elements of class 'tlp tlp-<label>' (brief text is escaped
    on every page, so only a template can write such an element)."""
    for classes in LABEL_CLASSES.findall(page):
        tokens = classes.split()
        if "tlp" in tokens:
            for token in tokens:
                if token.startswith("tlp-"):
                    yield SLUG_LABELS.get(token.removeprefix("tlp-"), token)


def _pdf_refusal(data: bytes, policy: PublishingPolicy) -> str | None:
    label, status = pdf_markers(data)
    if label is None or status is None:
        return "it is a PDF without its handling label in its document information"
    return policy.refusal(label, status)


def _docx_refusal(data: bytes, policy: PublishingPolicy) -> str | None:
    label, status, shown = docx_markers(data)
    if label is None or status is None:
        return ("it is a Word file without its handling label in its document properties "
                "(category and content status)")
    for other in (label, *shown):
        if reason := policy.refusal(other, status):
            return reason if other == label else f"it shows a {other} label: {reason}"
    return None


CORE_PROPERTIES = "docProps/core.xml"
CORE_NAMESPACE = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MARGIN_PART = re.compile(r"^word/(header|footer)\d*\.xml$")
SHOWN_LABEL = re.compile(r"TLP:(?:AMBER\+STRICT|[A-Z]+)")
MAX_PART_BYTES = 4 * 2**20


def docx_markers(data: bytes) -> tuple[str | None, str | None, set[str]]:
    """A Word file's label and status (its core properties' category and content status),
    and every label its headers and footers show as a label (a run on a shaded ground, as
    render_docx marks one: the text of a handling note is not a label); (None, None, set())
    for what is not a Word file, or has a part too large to be one fieldbrief wrote."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            parts = {info.filename: info for info in package.infolist()}
            if any(info.file_size > MAX_PART_BYTES for info in parts.values()):
                return None, None, set()
            core = ElementTree.fromstring(package.read(CORE_PROPERTIES))
            shown = {label for name in parts if MARGIN_PART.match(name)
                     for label in _marked_labels(ElementTree.fromstring(package.read(name)))}
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError):
        return None, None, set()
    return (core.findtext(f"{CORE_NAMESPACE}category"),
            core.findtext(f"{CORE_NAMESPACE}contentStatus"), shown)


def _marked_labels(part: ElementTree.Element) -> Iterator[str]:
    for run in part.iter(f"{WORD}r"):
        if run.find(f"{WORD}rPr/{WORD}shd") is not None:
            yield from SHOWN_LABEL.findall("".join(text.text or "" for text in run.iter(f"{WORD}t")))


def _json_refusal(data: bytes, policy: PublishingPolicy) -> str | None:
    """A brief's data export carries its label in its top-level "tlp" and "status"."""
    try:
        document = json.loads(data)
    except ValueError:  # not UTF-8, or not JSON
        document = None
    markers = document if isinstance(document, dict) else {}
    label, status = markers.get("tlp"), markers.get("status")
    if not isinstance(label, str) or not isinstance(status, str):
        return ('it is a brief\'s JSON without its handling label ("tlp" and "status" at its '
                "top level; the JSON export must keep them)")
    return policy.refusal(label, status)


LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
PDF_MARKER = re.compile(rb"/(fieldbrieftlp|fieldbriefstatus)\s*\(([^()\\]*)\)")


def pdf_markers(data: bytes) -> tuple[str | None, str | None]:
    """The label and status in a PDF's document information, as WeasyPrint writes them
    (inside a compressed object stream, or directly). Reads only the object streams, so
    it takes a fraction of a millisecond where a full PDF parser takes a tenth of a second."""
    found = dict(PDF_MARKER.findall(data))
    for dictionary, stream in _object_streams(data):
        length = LENGTH.search(dictionary)
        if length is None or b"/FlateDecode" not in dictionary:
            continue
        try:
            found.update(PDF_MARKER.findall(zlib.decompress(data[stream:stream + int(length[1])])))
        except zlib.error:
            continue
    label, status = found.get(b"fieldbrieftlp"), found.get(b"fieldbriefstatus")
    return (label.decode("latin-1") if label is not None else None,
            status.decode("latin-1") if status is not None else None)


def _object_streams(data: bytes) -> Iterator[tuple[bytes, int]]:
    """(dictionary, offset of the stream data) of each object stream of a PDF."""
    at = data.find(b"/ObjStm")
    while at != -1:
        start, end = data.rfind(b"<<", 0, at), data.find(b">>", at)
        stream = re.compile(rb"\s*stream\r?\n").match(data, end + 2) if start != -1 and end != -1 else None
        if stream is not None:
            yield data[start:end], stream.end()
        at = data.find(b"/ObjStm", at + 1)


def _export_refusal(relative: str, data: bytes, policy: PublishingPolicy) -> str | None:
    """Why an indicator export (STIX bundle or CSV) may not be on the site, if it may not."""
    if not EXPORT_PLACE.match(relative):
        return "it is an indicator export outside a brief's folder (beside its brief page)"
    markers = stix_markers(data) if relative.endswith(".stix.json") else csv_markers(data)
    if markers is None:
        return "it is an indicator export without its handling label and status on every item"
    for label, status in sorted(markers):
        if reason := policy.refusal(label, status):
            return reason
    return None


def stix_markers(data: bytes) -> set[tuple[str, str]] | None:
    """The TLP label (by the fixed ids of the TLP 2.0 marking definitions) and status (its
    ``fieldbrief-status:`` label) of each of a STIX bundle's objects; None if one of its
    objects lacks either, or it is not a bundle."""
    try:
        bundle = json.loads(data)
    except (ValueError, RecursionError):
        return None
    objects = bundle.get("objects") if isinstance(bundle, dict) else None
    if not isinstance(objects, list) or not objects:
        return None
    markers: set[tuple[str, str]] = set()
    for item in objects:
        if not isinstance(item, dict):
            return None
        if item.get("type") == "marking-definition":
            continue
        refs, tags = item.get("object_marking_refs"), item.get("labels")
        found = {STIX_LABELS[ref] for ref in refs if ref in STIX_LABELS} if isinstance(refs, list) else set()
        statuses = {match[1] for tag in tags if isinstance(tag, str)
                    and (match := STIX_STATUS.fullmatch(tag))} if isinstance(tags, list) else set()
        if not found or len(statuses) != 1:
            return None
        markers |= {(label, *statuses) for label in found}
    return markers


def csv_markers(data: bytes) -> set[tuple[str, str]] | None:
    """The labels and statuses in a CSV's first two columns, headed 'tlp' and 'status';
    None without those columns."""
    try:
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    except (UnicodeDecodeError, csv.Error):
        return None
    if not rows or rows[0][:2] != ["tlp", "status"] or any(len(row) < 2 for row in rows[1:]):
        return None
    return {(row[0], row[1]) for row in rows[1:]}


def _orphans(site: Path, files: set[str]) -> Iterator[str]:
    """Files of a brief, and feed entries, without a brief page (whose label is gated);
    ``files``: the regular files of the site."""
    briefs = site / "briefs"
    if briefs.is_dir() and not briefs.is_symlink():
        for name in sorted(os.listdir(briefs)):
            if f"briefs/{name}/index.html" not in files:
                yield f"the site may not carry briefs/{name}/: it has no brief page to carry its label"
    if "feed.xml" in files:
        for href in re.findall(r'<link rel="alternate" type="text/html" href="[^"]*?(briefs/[^"/]+/index\.html)"',
                               (site / "feed.xml").read_text(encoding="utf-8")):
            if href not in files:
                yield f"the site may not carry feed.xml: its entry {href} is not a published brief page"
