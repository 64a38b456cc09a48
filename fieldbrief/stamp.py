"""Whether a build would find nothing to do, known without reading a brief.

A build in which nothing changed leaves a stamp: the state of every file the build
depends on and of every file it had published, by inode, size, modification and change
time, with the options it ran with. The next build with the same options compares the
file system with the stamp before importing anything else: if no file differs, the build
that wrote the stamp has already judged this very state to need nothing, and it says so
again. Any difference, however small, runs the whole build, which judges what changed.

Covered: every file and folder of the project (an empty folder named like a brief is
refused by the build; its hidden top-level folders such as ``.git``, its
top-level ``node_modules`` and the output folders aside: no brief, template, style, image,
archive or series file may be read from those), the configuration file and the build
records, fieldbrief's own code and data, the fonts, the map data, and the folders Python
loads libraries from (an install or upgrade changes them). A link is followed and both
the link, where it leads and its target are covered; a linked folder in the project
cannot be covered, so no stamp is made for a project holding one (a link in place of a
folder passed over, such as ``node_modules``, is passed over too).

The change time (``st_ctime``) cannot be set by a program, so an edit that keeps a file's
size and sets its modification time back is still seen. A file changed twice within one
tick of the file system's clock could keep its times, so no stamp is made when any file
it covers changed later than ``SETTLED`` seconds before the build started (git's "racily
clean" entries); a change during the build is later still. The build records are the
exception: a build with nothing to do may save the seals it took (see
unchanged_site.record_seals), and no build reads the records that a stamp stops.

Stdlib only: this module runs before the build's own modules are imported.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

STAMP_FORMAT = 1
STATE_DIR = ".fieldbrief"
"""Where the project keeps its build records (titles and summaries of every brief,
restricted ones too): never inside a published folder."""
FONT_FOLDERS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"),
                Path.home() / ".local/share/fonts", Path.home() / ".fonts")
PACKAGE_DIR = Path(__file__).resolve().parent
SETTLED = 2.0
"""Seconds a file must have been left alone before a stamp vouches for it: more than
the coarsest file-system clock in use (ext3 and FAT keep whole or even seconds)."""


def manifest_path(project_root: Path, out_dir: Path) -> Path:
    """Where the manifest of builds into ``out_dir`` is kept, inside the project."""
    return project_root / STATE_DIR / f"build-{_output_key(out_dir)}.json"


def twin_path(project_root: Path, out_dir: Path) -> Path:
    """Where builds into ``out_dir`` keep the copy of the site they update (fieldbrief.publish)."""
    return project_root / STATE_DIR / f"build-{_output_key(out_dir)}.site"


def stamp_path(project_root: Path, out_dir: Path) -> Path:
    """Where the stamp of the last build into ``out_dir`` that changed nothing is kept."""
    return project_root / STATE_DIR / f"build-{_output_key(out_dir)}.unchanged.json"


def _output_key(out_dir: Path) -> str:
    return hashlib.sha256(str(out_dir.resolve()).encode()).hexdigest()[:16]


class Uncoverable(Exception):
    """What a stamp cannot vouch for: a linked folder in the project."""


@dataclass(frozen=True)
class Scene:
    """The files a build depends on and has published, as they are now, in one digest."""

    digest: str
    newest_change_ns: int  # the latest change time (st_ctime) among the files

    def settled_before(self, moment_ns: int) -> bool:
        """Had every file been left alone for SETTLED seconds at ``moment_ns``? Then none
        changed after that moment (its change time would be later) or within one tick
        of a change seen before it."""
        return self.newest_change_ns <= moment_ns - SETTLED * 1e9


@dataclass(frozen=True)
class Unchanged:
    """What the build that wrote a stamp reported: its briefs and its warnings."""

    briefs: int
    warnings: tuple[str, ...]


def observe(root: Path, options: Sequence[str], outputs: Sequence[Path],
            files: Iterable[Path], records: Iterable[Path] = ()) -> Scene:
    """The state of the project at ``root`` built with ``options`` into ``outputs``
    (folders), with ``files`` beside it (a configuration file), and the build's own
    ``records``, whose change times do not count in the scene's newest change (the build
    that stamps may have just saved them).

    Raises Uncoverable when some file cannot be covered by a stamp."""
    seen: list[tuple[str, int]] = []
    own = [str(path) for path in records]
    beside = [*files, *records]
    _walk_project(root, {os.path.realpath(folder) for folder in outputs}, seen)
    for folder in (PACKAGE_DIR, *FONT_FOLDERS, *_builtin_folders(), *outputs):
        _walk(str(folder), lambda entry: entry.name == "__pycache__", False, seen)
    seen.extend(_describe(str(path), in_project=False) for path in {*files, *_library_folders()})
    seen.extend((_describe(path, in_project=False)[0], 0) for path in own)
    # where the output folders and the files beside are, links followed (the build
    # refuses some places), even for an output folder that does not exist yet
    seen.extend((f"{path}\0at {os.path.realpath(path)}", 0) for path in (*outputs, *beside))
    seen.sort()
    state = hashlib.sha256()
    for part in (str(STAMP_FORMAT), sys.version, sys.executable, *options, *(line for line, _ in seen)):
        state.update(part.encode("utf-8", "surrogateescape") + b"\0")
    newest = max((changed for _, changed in seen), default=0)
    return Scene(state.hexdigest(), newest)


def _builtin_folders() -> list[Path]:
    """fieldbrief's templates, styles and map data at the top of a clone (in a wheel
    they are inside the package folder, which is covered already)."""
    top = PACKAGE_DIR.parent
    return [top / name for name in ("templates", "styles", "mapdata")
            if not (PACKAGE_DIR / name).is_dir() and (top / name).is_dir()]


def _library_folders() -> list[Path]:
    """The folders Python imports libraries from: installing, upgrading or removing a
    package adds or removes entries in them, which changes their times."""
    return [Path(entry) for entry in sys.path if entry.endswith(("site-packages", "dist-packages"))
            and os.path.isdir(entry)]


def _walk_project(root: Path, outputs: set[str], seen: list[tuple[str, int]]) -> None:
    top = str(root)

    def skipped(entry: os.DirEntry[str]) -> bool:
        at_top = os.path.dirname(entry.path) == top
        return (at_top and (entry.name.startswith(".") or entry.name == "node_modules")
                or os.path.realpath(entry.path) in outputs)
    _walk(top, skipped, True, seen)


def _walk(folder: str, skipped: Callable[[os.DirEntry[str]], bool], in_project: bool,
          seen: list[tuple[str, int]]) -> None:
    """Add each file and folder under ``folder`` to ``seen``, described; nothing if it
    does not exist. A folder counts in itself: an empty one where the build reads a file
    is refused, and its times change when an entry is added, removed or renamed."""
    pending = [folder]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except FileNotFoundError:
            continue
        except NotADirectoryError:
            seen.append(_describe(folder, in_project))
            continue
        with entries:
            for entry in entries:
                if not entry.is_dir(follow_symlinks=False):
                    if not (entry.is_symlink() and skipped(entry)):  # a link is passed over
                        seen.append(_describe(entry.path, in_project))  # as its folder would be
                elif not skipped(entry):
                    seen.append(_describe(entry.path, in_project))
                    pending.append(entry.path)


def _describe(path: str, in_project: bool = True) -> tuple[str, int]:
    """One file as a line of the scene, and its change time; a link with where it leads
    and its target.

    A linked folder outside the project (among the fonts, say) is covered as the link
    and the folder itself, as the build's fingerprints see it; inside the project, where
    a brief or template could be in it, it is uncoverable."""
    try:
        own = os.lstat(path)
    except FileNotFoundError:
        return f"{path}\0missing", 0
    described = f"{path}\0{_fields(own)}"
    changed = own.st_ctime_ns
    if stat.S_ISLNK(own.st_mode):  # where it leads: its hops may be where no walk goes
        described = f"{described}\0to {os.path.realpath(path)}"
        try:
            target = os.stat(path)
        except OSError:
            return f"{described}\0dangling", changed
        if stat.S_ISDIR(target.st_mode) and in_project:
            raise Uncoverable(f"{path} is a link to a folder")
        described, changed = f"{described}\0{_fields(target)}", max(changed, target.st_ctime_ns)
    return described, changed


def _fields(status: os.stat_result) -> str:
    return (f"{status.st_mode:o} {status.st_dev} {status.st_ino} {status.st_size} "
            f"{status.st_mtime_ns} {status.st_ctime_ns}")


def recorded(path: Path, observe_now: Callable[[], Scene]) -> Unchanged | None:
    """What the build that left the stamp at ``path`` reported, if the scene it stamped
    is the scene now (observed only when there is a stamp to compare it with)."""
    try:
        stamp = json.loads(regular_file_bytes(path))
        scene, briefs = stamp["scene"], int(stamp["briefs"])
        warnings = tuple(str(line) for line in stamp["warnings"])
        if stamp["format"] != STAMP_FORMAT:
            return None
    except (OSError, ValueError, KeyError, TypeError, OverflowError, RecursionError):
        return None  # damaged, or copied from elsewhere: the build runs in full
    return Unchanged(briefs, warnings) if observe_now().digest == scene else None


MAX_OWN_FILE_BYTES = 2**30
"""The most read of a file a build keeps for itself (its records of ten thousand briefs take
tens of MB): a huge file put in its place (a sparse one takes no disk) ended the build in
MemoryError."""


def regular_file_bytes(path: Path) -> bytes:
    """The bytes of ``path``, a regular file and not a link (OSError otherwise): a pipe in
    its place would block the build for ever, a link could lead out of the project. For
    the files a build keeps for itself: its stamp, its records, its site's marker."""
    with os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb") as file:
        found = os.fstat(file.fileno())
        if not stat.S_ISREG(found.st_mode):
            raise OSError(f"{path} is not a regular file")
        content = b"" if found.st_size > MAX_OWN_FILE_BYTES else file.read(MAX_OWN_FILE_BYTES + 1)
        if found.st_size > MAX_OWN_FILE_BYTES or len(content) > MAX_OWN_FILE_BYTES:  # or grew since
            raise OSError(f"{path} is larger than any file a build keeps for itself")
        return content


def record(path: Path, scene: Scene, started_ns: int, unchanged: Unchanged) -> None:
    """Stamp ``scene``, observed after a build that started at ``started_ns`` (time.time_ns)
    and found nothing to do, if no file in it changed since SETTLED seconds before that
    start: the build then read what the scene shows. The file is replaced whole: a
    reader never sees half a stamp."""
    if not scene.settled_before(started_ns):
        forget(path)
        return
    content = json.dumps({"format": STAMP_FORMAT, "scene": scene.digest,
                          "briefs": unchanged.briefs, "warnings": list(unchanged.warnings)})
    try:
        path.parent.mkdir(exist_ok=True)
        replace_file(path, content.encode())
    except OSError:  # a stamp only saves time: the build went as it went without one
        forget(path)


def replace_file(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` whole, replacing whatever is there (a link too, never what it
    leads to): written to a new file of a fresh name beside it, then renamed over it. For
    the files a build keeps for itself, in a folder anyone who can write the project can
    write (a planted link or pipe at a fixed temporary name would be followed)."""
    descriptor, partial = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
        os.replace(partial, path)
    except OSError as error:  # named by the file it was to be, not by its passing name
        forget(Path(partial))
        raise OSError(error.errno, error.strerror, str(path)) from None
    except BaseException:
        forget(Path(partial))
        raise


def forget(path: Path) -> None:
    """Remove the file (the stamp, or a partial write), if it can be removed. A stamp left
    behind does no harm: the scene it vouches for needed nothing, and any later change
    shows as a scene that differs."""
    try:
        path.unlink()
    except OSError:
        pass
