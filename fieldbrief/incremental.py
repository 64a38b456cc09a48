"""Incremental builds: what every output was built from, so that unchanged outputs are kept.

The manifest records, for each brief file, the hash of its content (and of the local
images it uses), its card for the site-wide pages, where the policy placed it, and
the fingerprints of everything else its outputs depend on: fieldbrief's version, the
site configuration, the templates the page uses, the print stylesheets, the fonts
and the PDF options. An output is kept only when all of these are unchanged, its
files are still in the published site as the bytes written, and that site is the one the
manifest describes (the build id written in the site must match); anything else rebuilds it.
The manifest lives in ``.fieldbrief/`` in the project, never in the published site,
with a record of when the site it describes was last whole (the gate reads again any kept
file changed since).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from dataclasses import fields, is_dataclass
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ValidationError

from fieldbrief import __version__
from fieldbrief.errors import BuildFailed, Problem, Severity
from fieldbrief.model import BriefCard, IssueFacts
from fieldbrief.publish import FilesIn
from fieldbrief import stamp
from fieldbrief.stamp import FONT_FOLDERS, regular_file_bytes, replace_file

MANIFEST_FORMAT = 3
Placement = Literal["published", "restricted", "draft"]


def digest(*parts: bytes | str) -> str:
    """A SHA-256 over ``parts``, each length-prefixed so that no two lists collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


CHUNK_BYTES = 2**20


def written_digest(content: bytes) -> str:
    """What a build records of a file it wrote: the :func:`digest` of its bytes, and their
    number (a file found later of another size is known changed without being read)."""
    return f"{digest(content)}:{len(content)}"


def holds_written(file: BinaryIO, written: str) -> bool:
    """Whether the open regular ``file`` holds the bytes recorded as ``written`` (see
    :func:`written_digest`): read only if its size is theirs, and in chunks, so that a
    huge file put in its place takes neither the memory nor the time of its size."""
    expected, _, length = written.rpartition(":")
    size = os.fstat(file.fileno()).st_size
    if length != str(size):
        return False
    hasher = hashlib.sha256(size.to_bytes(8, "big"))
    read = 0
    while read <= size and (chunk := file.read(CHUNK_BYTES)):
        hasher.update(chunk)
        read += len(chunk)
    return read == size and hasher.hexdigest() == expected


def facts_digest(value: object) -> str:
    """A digest of data handed to a renderer: dataclasses and pydantic models as JSON, so
    that a card read back from the manifest digests as the one validated in this build
    (their reprs differ, e.g. in how a time zone is written)."""
    return digest(json.dumps(value, sort_keys=True, default=_plain))


def _plain(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: getattr(value, item.name) for item in fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return str(value)


def files_digest(paths: Iterable[Path]) -> str:
    return digest(*(item for path in sorted(paths) for item in (path.name, path.read_bytes())))


def fonts_digest() -> str:
    """Changes when a font is installed, removed or updated (name, size and time)."""
    entries = []
    for folder in FONT_FOLDERS:
        for root, _, names in os.walk(folder):
            for name in names:
                stat = os.stat(os.path.join(root, name))
                entries.append(f"{root}/{name}:{stat.st_size}:{stat.st_mtime_ns}")
    return digest(*sorted(entries))


def content_digest(raw: bytes, assets: Iterable[Path]) -> str:
    """The brief's own bytes and the bytes of the local images it uses."""
    return digest(raw, *(path.read_bytes() if path.is_file() else b"missing" for path in assets))


FileSeal = tuple[int, int, int, int, int] | None
"""A file as it was: device, inode, size, modification and change time (ns); None when
there is no regular file."""
BriefSeal = list[FileSeal]
"""A brief file (not through a link), then each local image it uses (as read: links followed)."""


def brief_seal(path: Path, assets: Iterable[Path]) -> BriefSeal | None:
    """The state of the brief file at ``path`` and of its ``assets``, now; None when the
    brief is not a regular file (a link is never sealed: where it leads may change)."""
    own = os.lstat(path)
    if not stat.S_ISREG(own.st_mode):
        return None
    return [_file_seal(own), *(_asset_seal(asset) for asset in assets)]


def settled(seal: BriefSeal, started_ns: int) -> bool:
    """Was every file of ``seal`` left alone for SETTLED seconds when its state was taken,
    at ``started_ns``? Only then does an unchanged state vouch for unchanged bytes: the
    change time (which no program can set) of any later write is later than the one sealed,
    even on a file system whose clock ticks coarsely (git's "racily clean" entries)."""
    return all(found is None or found[4] <= started_ns - stamp.SETTLED * 1e9 for found in seal)


def kept_file(files: FilesIn, relative: str, recorded: str) -> str | None:
    """The fingerprint to record for a file of an output folder (``files``) its build
    recorded as ``recorded`` ('written digest', then maybe the file's seal), if the folder
    still holds the bytes written there as a regular file, reached without following a link
    (see :class:`~fieldbrief.publish.FilesIn`); None if not (a file edited by hand since its
    build wrote it is not kept, nor one whose name in a damaged record leaves the folder).

    The bytes are read and digested, unless the file is in the very state sealed when
    they last were: a seal is recorded only if the file had been left alone for SETTLED
    seconds when it was taken, since any later change to it (a write, its times set back,
    a new file of that inode) gives it a later change time, which no one can set back."""
    written, _, sealed = recorded.partition(" ")
    started = time.time_ns()
    try:
        if sealed and _sealed_as(files.status(relative), sealed):  # unchanged: not read
            return recorded
        with files.open(relative) as file:
            found = os.fstat(file.fileno())  # the seal of the very file read, taken before
            if not holds_written(file, written):
                return None
    except (OSError, ValueError, BuildFailed):
        return None
    seal = (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
    return written + (f" {_seal_text(found)}" if settled([seal], started) else "")


def kept_files(files: FilesIn, recorded: dict[str, str]) -> dict[str, str] | None:
    """The ``recorded`` files of a folder, fingerprints refreshed (see :func:`kept_file`),
    if it holds each as the bytes written; None at the first it does not."""
    kept = {}
    for relative, fingerprint in recorded.items():
        found = kept_file(files, relative, fingerprint)
        if found is None:
            return None
        kept[relative] = found
    return kept


def kept_site_page(files: FilesIn, page: str, recorded: str) -> str | None:
    """The fingerprint to record for a site page the last build recorded as ``recorded``
    ('inputs digest', then maybe the page's seal), if the published site (``files``) still
    holds the bytes of that digest there (see :func:`kept_file`); None if not."""
    inputs, _, rest = recorded.partition(" ")
    kept = kept_file(files, page, rest)
    return None if kept is None else f"{inputs} {kept}"


def _sealed_as(found: os.stat_result, sealed: str) -> bool:
    return stat.S_ISREG(found.st_mode) and _seal_text(found) == sealed


def _seal_text(found: os.stat_result) -> str:
    return f"{found.st_dev}:{found.st_ino}:{found.st_size}:{found.st_mtime_ns}:{found.st_ctime_ns}"


def _asset_seal(path: Path) -> FileSeal:
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return _file_seal(found) if stat.S_ISREG(found.st_mode) else None


def _file_seal(found: os.stat_result) -> FileSeal:
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


class Record(BaseModel):
    """One brief file as the last successful build saw it."""

    content: str
    id: str
    card: BriefCard
    issue: IssueFacts | None = None  # what its series needs of it, if it is an issue of one
    warnings: list[dict[str, object]]
    assets: list[str]
    placement: Placement
    page: str | None = None  # fingerprint of its web page, when published
    pdf: str | None = None  # fingerprint of its PDF, when one was made
    outputs: dict[str, str] = {}
    """Its files, relative to the site (or the restricted folder): the digest of the bytes
    written (:func:`written_digest`), then their seal once one was taken (a file edited by
    hand is written again)."""
    id_line: int = 1  # where its id is, for duplicate-id errors
    id_column: int = 1
    seal: BriefSeal | None = None  # its file and images when ``content`` was read, if settled

    def problems(self) -> list[Problem]:
        return [Problem(**{**warning, "severity": Severity(warning["severity"])})  # type: ignore[arg-type]
                for warning in self.warnings]


class Manifest(BaseModel):
    format: int = MANIFEST_FORMAT
    version: str = __version__
    site_build: str | None = None  # build id written in the site this manifest describes
    restricted_build: str | None = None
    rules: str = ""  # fingerprint of what validation depends on
    site: str = ""  # fingerprint of the site-wide pages' templates and settings
    records: dict[str, Record] = {}  # by the brief file's resolved path
    gate_policy: str = ""  # the publishing policy the site was gated under
    gated: dict[str, tuple[int, int, int]] = {}  # seal of each file the gate let through
    site_pages: dict[str, str] = {}  # fingerprint of each site-wide page, by its path in the site


def problem_record(problem: Problem) -> dict[str, object]:
    return {"file": problem.file, "line": problem.line, "column": problem.column,
            "field": problem.field, "message": problem.message,
            "severity": problem.severity.value}


def load_manifest(path: Path) -> Manifest:
    """The manifest at ``path``, or an empty one (a full build) if it is missing or unreadable."""
    try:
        manifest = Manifest.model_validate_json(regular_file_bytes(path))
    except (OSError, ValidationError, ValueError):
        return Manifest()
    if manifest.format != MANIFEST_FORMAT or manifest.version != __version__:
        return Manifest()
    return manifest


def save_manifest(path: Path, manifest: Manifest) -> None:
    """Write the manifest atomically, in a folder that git ignores whole (it holds the
    titles and summaries of restricted briefs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ignore = path.parent / ".gitignore"
    if not ignore.is_file() or ignore.is_symlink():
        replace_file(ignore, b"# Written by fieldbrief: build records, never to be committed.\n*\n")
    replace_file(path, manifest.model_dump_json().encode())


def save_sealed(path: Path, site_build: str, checked_at: int) -> None:
    """Record, beside the manifest at ``path``, that the site of build ``site_build`` is whole,
    its files checked from ``checked_at`` on (ns, by the clock of the site's file system):
    a file of it whose inode changes later (an edit in place, its modification time set back
    or not) has a later change time, or an equal one, which no one can set."""
    try:
        replace_file(path.with_suffix(".sealed"), f"{site_build} {checked_at}\n".encode())
    except OSError:
        pass  # the next build reads every file again


def sealed_at(path: Path, site_build: str | None) -> int | None:
    """When the site of build ``site_build`` was recorded whole (see :func:`save_sealed`)."""
    try:
        build, at = regular_file_bytes(path.with_suffix(".sealed")).decode().split()
        return int(at) if build == site_build else None
    except (OSError, ValueError):
        return None


def config_digest(settings: dict[str, object]) -> str:
    return digest(json.dumps(settings, sort_keys=True, default=str))
