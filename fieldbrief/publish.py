"""Stage 5, publish: write a finished site into place, all of it or none of it.

In: every output file of the build, written one by one as it is rendered (so memory
stays flat however many briefs there are), plus the files to keep unchanged from the
site already published. The new site is assembled in a staging folder and swapped in
only when complete: on Linux with one atomic ``renameat2(RENAME_EXCHANGE)``, elsewhere
with two renames. A build that fails or is killed half-way leaves the published site
as it was; its staging folder is removed by the next build.

The staging folder is the copy of the published site the build before kept (its twin,
in the project's build state, on the same file system), made of hard links: it is made
the very copy of the published site again, the files that changed are written into it,
what the new site does not hold is removed from it, and after the swap the replaced site
becomes the next twin. So a build writes only what changed, instead of a new tree of a
thousand folders. Every file is written as a new file (the name unlinked first), never
into the file there, which may be a published one; folders are reached through
descriptors opened without following links, so a link planted in the site or the twin
is never followed. A lock file keeps two builds from publishing into one folder at once.
The output folder is only ever replaced if it is empty or was written by fieldbrief.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import os
import re
import shutil
import stat
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

from fieldbrief.errors import BuildFailed
from fieldbrief.stamp import regular_file_bytes

SITE_MARKER = ".fieldbrief-site"
"""A file in the root of every site fieldbrief writes; its presence allows replacing it."""
RENAME_EXCHANGE = 2
AT_FDCWD = -100
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
MAX_OPEN_FOLDERS = 64
"""Folder descriptors a tree keeps open for the next file (kept files come brief by brief)."""
REMOVERS = 4
"""Threads removing a replaced site: each mostly waits for the file system's journal."""
T = TypeVar("T")


class Staging:
    """A new version of a site, assembled beside it and swapped in on success.

    Use it as a context manager: files written or kept while inside become the
    published site when the block ends without an exception and :meth:`settle` was called;
    otherwise nothing is published. Kept files are hard links to the published ones
    (copies where links are impossible): the build never changes a published file in
    place, and every file it writes is a new file (a name already there is unlinked
    first), so a kept file, which is the published one, is never written through.

    With a ``twin`` (a folder on the site's file system, in the project's build state),
    the new site is assembled in the twin instead of a fresh folder: a copy of the
    published site made of hard links, which the build before left behind. It is first
    made the very copy of the published site again (anything else in it removed), so only
    what changed is written, and no tree of a thousand folders is made and removed per
    build. After the swap the replaced site, now in the staging folder, is made the copy
    of the new one and becomes the twin.
    """

    def __init__(self, out_dir: Path, twin: Path | None = None) -> None:
        self.out_dir = out_dir.resolve()
        _check_replaceable(self.out_dir)
        self.twin = twin
        self.build_id = uuid.uuid4().hex
        self.written: set[str] = set()
        self.carried: set[str] = set()
        """Every file kept from the published site (linked, copied, or already in the twin)."""
        self.claimed: set[tuple[str, ...]] = set()
        """Folders a tool writes into whole (Pagefind): all in them is this build's."""
        self.mirrored = Mirrored()
        """What the twin was found or made to hold when it was made the copy of the site
        (a name written, or in a claimed folder, is taken out of its files)."""
        self.settled_away: list[tuple[str, ...]] = []
        """What :meth:`settle` removed, files and emptied folders (by their names on the way),
        deepest first."""
        self._settled = False
        self._guard = threading.Lock()  # search code is written from the indexing threads

    def __enter__(self) -> Staging:
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _locked(self.out_dir)
        self._lock.__enter__()
        try:
            _remove_leftovers(self.out_dir)
            self.path = self._prepared_twin() or beside_site(self.out_dir, "staging")
            self._staged = _Folders(self.path, create=True)
            self._published: _Folders | None = None
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def write(self, relative: str, content: bytes) -> None:
        """Write a file, and record it as written in the same step: the search code is
        written from an indexing thread while the site is settled, and a file settled in
        between would be removed as planted."""
        parts = _parts(relative)
        with self._guard:
            try:
                write_new(self._staged.folder(parts[:-1]), parts[-1], content)
            except OSError as error:
                raise BuildFailed(f"cannot write {relative} into {self.path}: "
                                  f"{error.strerror or error}") from None
            self._record((relative,))

    def wrote(self, relatives: Iterable[str]) -> None:
        """Record files written into the new site by others (the workers render into it)."""
        with self._guard:
            self._record(relatives)

    def _record(self, relatives: Iterable[str]) -> None:
        """Record files as written (the guard held)."""
        names = set(relatives)
        self.written.update(names)
        self.mirrored.files.difference_update(names)

    def keep(self, relative: str) -> None:
        """Carry a file of the published site over unchanged."""
        self.keep_all((relative,))

    def keep_all(self, relatives: Iterable[str]) -> None:
        """Carry files of the published site over unchanged: each a hard link to the
        published file (a copy where links are impossible), reached without following a
        link; a build that finds anything but a regular file there stops. A file the twin
        was made to hold as the published one when this build began is already there."""
        with self._guard:
            for relative in relatives:
                if relative in self.mirrored.files:
                    self.carried.add(relative)
                    continue
                parts = _parts(relative)
                try:
                    if self._published is None:
                        self._published = _Folders(self.out_dir)
                    _link_at(self._published.folder(parts[:-1]),
                             self._staged.folder(parts[:-1]), parts[-1])
                except OSError as error:
                    raise BuildFailed(f"cannot keep {relative} of the published site {self.out_dir}: "
                                      f"{error.strerror or error}") from None
                self.carried.add(relative)

    def claim(self, relative: str) -> Path:
        """An empty folder for a tool to write into (anything there before is removed); what
        the tool writes there is part of the new site. Its path.

        The folder is made here, before the tool starts: the site may be settled while the
        tool runs, and a folder the tool made itself, after the settle had listed its parent
        and found nothing kept there, made the settle's removal of that parent fail."""
        parts = _parts(relative)
        with self._guard:
            self._staged.forget(parts)
            parent = self._staged.folder(parts[:-1])
            _remove_entry(parent, parts[-1])
            _make_folder(parent, parts[-1])
            self.claimed.add(parts)
            self.mirrored.files.difference_update([name for name in self.mirrored.files
                                                   if name.startswith(f"{'/'.join(parts)}/")])
        return self.path.joinpath(*parts)

    def settle(self) -> None:
        """Remove from the new site every file this build neither wrote nor kept (what the
        twin held of the site before, and anything planted meanwhile). Call it once all
        is written, before the new site is checked."""
        with self._guard:
            self._staged.close_folders()
            _remove_unclaimed(self._staged.root, (), self, self.settled_away)
            self._settled = True

    def now(self) -> int:
        """The time (ns) by the clock of the new site's file system (see :func:`_clock_in`)."""
        with self._guard:
            return _clock_in(self._staged.root)

    def status(self, relative: str) -> os.stat_result | None:
        """The status of the file at ``relative`` in the new site (a link's own, reached
        without following one), if it is there."""
        parts = _parts(relative)
        with self._guard:
            try:
                return os.stat(parts[-1], dir_fd=self._staged.folder(parts[:-1], create=False),
                               follow_symlinks=False)
            except OSError:
                return None

    def holds(self, relative: str) -> bool:
        """Whether the file at ``relative`` was written or kept by this build."""
        return relative in self.written or relative in self.carried

    def claims(self, parts: tuple[str, ...]) -> bool:
        """Whether the folder at ``parts`` was claimed by a tool in this build."""
        return parts in self.claimed

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        published = False
        try:
            for tree in (self._staged, self._published):
                if tree is not None:
                    tree.close()
            if kind is None:
                if not self._settled:
                    raise RuntimeError("a staged site must be settled before it is published")
                write_file(self.path, SITE_MARKER, (
                    f"This folder is written by fieldbrief; a build replaces it whole.\n"
                    f"build {self.build_id}\n").encode())
                os.chmod(self.path, 0o755)
                _swap_in(self.path, self.out_dir)
                published = True
        finally:
            try:
                if not (published and self._kept_as_twin()):
                    remove_tree(self.path)
            finally:
                self._lock.__exit__(None, None, None)

    def _prepared_twin(self) -> Path | None:
        """The twin, made the copy of the published site; None when there is none to use
        (nothing published yet, or the twin cannot be on the site's file system)."""
        if self.twin is None or not (_real_folder(self.twin.parent) and _real_folder(self.twin)):
            return None
        if not (_real_folder(self.out_dir) and _same_file_system(self.twin, self.out_dir)):
            remove_tree(self.twin)
            return None
        try:
            mirror(self.out_dir, self.twin, self.mirrored)
        except (OSError, RecursionError):  # a tree too deep to walk was planted in either
            self.mirrored = Mirrored()
            remove_tree(self.twin)
            return None
        return self.twin

    def _kept_as_twin(self) -> bool:
        """Make the replaced site (now in the staging folder) the copy of the published one
        and keep it as the twin for the next build; False if it is not to be kept.

        When the build was staged in the twin, the replaced site is the copy the build
        began from, so only what the build changed is brought over (the next build's
        walk repairs anything else); a replaced site of a fresh staging folder is walked
        whole."""
        if self.twin is None or not (_real_folder(self.twin.parent)
                                     and _same_file_system(self.twin.parent, self.out_dir)):
            return False
        try:
            if self.path == self.twin:
                self._bring_over_changes()
            else:
                mirror(self.out_dir, self.path)
                remove_tree(self.twin)
                self.path.rename(self.twin)
        except (OSError, RecursionError):
            return False
        return True

    def _bring_over_changes(self) -> None:
        """Make the replaced site the copy of the published one by this build's changes:
        what it settled away, and what the twin was not given of it (links, special files),
        is removed; what it wrote and the folders claimed are linked or mirrored from the
        published site, and the site's marker linked last (a build killed before that leaves
        a copy :func:`drop_stale_twin` removes)."""
        old = _Folders(self.path)
        new = _Folders(self.out_dir)
        try:
            for parts in [*self.settled_away, *self.mirrored.left_out]:  # some never in it
                with contextlib.suppress(FileNotFoundError):
                    _remove_entry(_writable_folder(old, parts[:-1]), parts[-1])
                old.forget(parts)
            old.create = True
            for parts in sorted(self.claimed):
                _remove_entry(_writable_folder(old, parts[:-1]), parts[-1])
                old.forget(parts)
                _mirror_at(new.folder(parts), old.folder(parts))
            for relative in sorted(self.written | {SITE_MARKER}, key=lambda name: name == SITE_MARKER):
                parts = _parts(relative)
                _link_at(new.folder(parts[:-1]), _writable_folder(old, parts[:-1]), parts[-1])
        finally:
            old.close()
            new.close()


def _writable_folder(folders: _Folders, parts: tuple[str, ...]) -> int:
    """The folder at ``parts`` of ``folders``, made writable by its owner (see :func:`_writable`)."""
    return _writable(folders.folder(parts))


def drop_stale_twin(out_dir: Path, twin: Path) -> None:
    """Remove the ``twin`` of the site in ``out_dir`` if it is not the copy of that site (it
    holds no marker of the build that published it). A build killed between swapping its
    site in and making the replaced site the copy leaves the replaced site there, with
    what the new one withholds; a build that publishes makes the copy again anyway, one
    with nothing to do calls this. Skipped while another build holds the site's lock (that
    one makes the copy)."""
    if not _real_folder(twin) or published_build_id(twin) == published_build_id(out_dir):
        return
    try:
        with _locked(out_dir.resolve()):
            if _real_folder(twin) and published_build_id(twin) != published_build_id(out_dir):
                remove_tree(twin)
    except BuildFailed:
        pass


def clock_of_site(out_dir: Path, twin: Path) -> int | None:
    """The time (ns) by the clock of the file system of the site in ``out_dir``, read in
    its ``twin`` (see :func:`_clock_in`); None if the twin is not a folder on that file
    system (a build then uses no twin)."""
    if not (_real_folder(twin) and _real_folder(out_dir) and _same_file_system(twin, out_dir)):
        return None
    folder = os.open(twin, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return _clock_in(folder)
    finally:
        os.close(folder)


def _clock_in(folder: int) -> int:
    """The time (ns) by the clock of the file system of the open ``folder``: the change
    time of a file made (and removed) in it now. A file there changed later has a later
    change time, or an equal one (the clock may tick coarsely)."""
    name = f".fieldbrief-clock-{uuid.uuid4().hex}"
    descriptor = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                         0o600, dir_fd=folder)
    try:
        return os.fstat(descriptor).st_ctime_ns
    finally:
        os.close(descriptor)
        os.unlink(name, dir_fd=folder)


def while_published(out_dir: Path, build_id: str | None, record: Callable[[], None]) -> None:
    """Call ``record`` (to save records of the site of build ``build_id``) under the site's
    lock, if that site is still the one published: skipped while another build holds the
    lock, or once one has published (the records it saves replace these)."""
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(_locked(out_dir.resolve()))
        except (BuildFailed, OSError):
            return
        if published_build_id(out_dir) == build_id:
            record()


def published_build_id(out_dir: Path) -> str | None:
    """The id of the build that wrote the site in ``out_dir``, if fieldbrief wrote it."""
    try:
        marker = regular_file_bytes(out_dir / SITE_MARKER).decode()
    except (OSError, UnicodeDecodeError):
        return None
    return marker.rsplit("build ", 1)[-1].strip() if "build " in marker else None


def safe_join(root: Path, relative: str) -> Path:
    """``root / relative``, refusing absolute paths and any path that leaves ``root``."""
    return root.joinpath(*_parts(relative))


def _parts(relative: str) -> tuple[str, ...]:
    """The names in ``relative`` (as PurePosixPath splits it), refusing absolute paths and
    any path that leaves the folder it is relative to."""
    parts = tuple(part for part in relative.split("/") if part not in ("", "."))
    if not parts or relative.startswith("/") or ".." in parts or "\\" in relative:
        raise BuildFailed(f"refusing to write outside the output folder: {relative!r}")
    return parts


class FilesIn:
    """The regular files of an output folder, each opened for reading through folders opened
    by descriptor without following a link (a folder swapped for a link after it was looked
    at is not followed either), and without waiting (a pipe put in a file's place never
    blocks). The folders on the way are kept open for the next file (a brief's files share
    one). Use it as a context manager."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._folders: _Folders | None = None

    def __enter__(self) -> FilesIn:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._folders is not None:
            self._folders.close()

    def status(self, relative: str) -> os.stat_result:
        """The status of the file at ``relative`` (a link's own), reached so, without opening
        it (as cheap as ``lstat``); OSError, BuildFailed or ValueError as :meth:`open`."""
        parts = _parts(relative)
        return os.stat(parts[-1], dir_fd=self._folder(parts[:-1]), follow_symlinks=False)

    def open(self, relative: str) -> BinaryIO:
        """The file at ``relative``: OSError if it is anything but a regular file reached so,
        BuildFailed if ``relative`` leaves the folder, ValueError if it holds a NUL byte."""
        parts = _parts(relative)
        found = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                        dir_fd=self._folder(parts[:-1]))
        file = os.fdopen(found, "rb")
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            file.close()
            raise OSError(f"{relative} is not a regular file")
        return file

    def _folder(self, parts: tuple[str, ...]) -> int:
        if self._folders is None:
            self._folders = _Folders(self.root.resolve())
        return self._folders.folder(parts)


class _Folders:
    """The folders of a tree, each opened by descriptor from its parent's without following
    a link, and made on the way when ``create``; a few are kept open for the next file."""

    def __init__(self, root: Path, create: bool = False) -> None:
        self.root = os.open(root, FOLDER_FLAGS)
        self.create = create
        self.opened: dict[tuple[str, ...], int] = {}

    def folder(self, parts: tuple[str, ...], create: bool | None = None) -> int:
        """The open folder at ``parts``, made on the way if ``create`` (by default, if the
        tree makes folders)."""
        if len(self.opened) >= MAX_OPEN_FOLDERS and parts not in self.opened:
            self.close_folders()
        return self._open(parts, self.create if create is None else create)

    def _open(self, parts: tuple[str, ...], create: bool) -> int:
        if not parts:
            return self.root
        if (found := self.opened.get(parts)) is not None:
            return found
        parent = self._open(parts[:-1], create)
        try:
            self.opened[parts] = os.open(parts[-1], FOLDER_FLAGS, dir_fd=parent)
        except OSError as error:  # in a twin, most folders are there already
            if not create or error.errno not in (errno.ENOENT, errno.ENOTDIR, errno.ELOOP):
                raise
            _make_folder(parent, parts[-1])
            self.opened[parts] = os.open(parts[-1], FOLDER_FLAGS, dir_fd=parent)
        return self.opened[parts]

    def forget(self, parts: tuple[str, ...]) -> None:
        """Close the folders kept open at and below ``parts`` (which is to be removed)."""
        for opened in [found for found in self.opened if found[:len(parts)] == parts]:
            os.close(self.opened.pop(opened))

    def close_folders(self) -> None:
        for descriptor in self.opened.values():
            os.close(descriptor)
        self.opened.clear()

    def close(self) -> None:
        self.close_folders()
        os.close(self.root)


def _make_folder(parent: int, name: str) -> None:
    """Make the folder ``name`` in the open ``parent`` of a tree being written. What has the
    name and is not a folder is removed first, never followed: the twin is given what the
    published site holds, a file where a folder is now needed too (writing into it failed
    the build, as a bug). A folder made meanwhile by another worker is used."""
    with contextlib.suppress(FileNotFoundError, IsADirectoryError):
        os.unlink(name, dir_fd=parent)
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, dir_fd=parent)


def _link_at(source: int, target: int, name: str) -> None:
    """Link (else copy) the regular file ``name`` of folder ``source`` into ``target``, where
    whatever else has that name is removed (the very file, already linked there, stays)."""
    before = os.stat(name, dir_fd=source, follow_symlinks=False)
    if not stat.S_ISREG(before.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (fieldbrief never follows links there)")
    there = _ignoring(os.stat, name, dir_fd=target, follow_symlinks=False)
    if there is not None and stat.S_ISREG(there.st_mode) and there.st_ino == before.st_ino \
            and there.st_dev == before.st_dev:
        return
    if there is not None:
        _remove_entry(target, name)
    try:
        os.link(name, name, src_dir_fd=source, dst_dir_fd=target, follow_symlinks=False)
    except OSError as error:
        if error.errno in (errno.ENOENT, errno.EEXIST):
            raise
        _copy_at(source, target, name)
    after = os.stat(name, dir_fd=target, follow_symlinks=False)
    if not stat.S_ISREG(after.st_mode):
        os.unlink(name, dir_fd=target)
        raise OSError(errno.EINVAL, "not a regular file (fieldbrief never follows links there)")


def write_new(folder: int, name: str, content: bytes) -> None:
    """Write ``content`` to ``name`` in the open ``folder`` as a new file: whatever had that
    name is removed first, so a file linked to a published one is never written through
    (and a link there is never followed)."""
    _remove_entry(folder, name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    with open(os.open(name, flags, 0o666, dir_fd=folder), "wb") as file:
        file.write(content)


def write_file(root: Path, relative: str, content: bytes) -> None:
    """:func:`write_new` at ``relative`` under ``root``, its folders made as needed and
    reached without following a link."""
    parts = _parts(relative)
    folders = _Folders(root, create=True)
    try:
        write_new(folders.folder(parts[:-1]), parts[-1], content)
    finally:
        folders.close()


@dataclass
class Mirrored:
    """What a :func:`mirror` found, by path relative to the folders it mirrored."""

    files: set[str] = field(default_factory=set)
    """Each file the copy holds as the very file of the source (linked, or found linked)."""
    left_out: list[tuple[str, ...]] = field(default_factory=list)
    """Each link or special file of the source, which the copy does not get, by the names on
    its way (as found: a name may hold any character but ``/``, a backslash too)."""


def mirror(source: Path, target: Path, mirrored: Mirrored | None = None) -> None:
    """Make the folder ``target`` a copy of ``source`` made of hard links: what ``target``
    holds that ``source`` does not (or holds as another file) is removed, the rest linked.
    No link is followed on either side, and links or special files in ``source`` are not
    copied. What it found is added to ``mirrored``."""
    source_folder = os.open(source, FOLDER_FLAGS)
    try:
        target_folder = _writable(os.open(target, FOLDER_FLAGS))
        try:
            _mirror_at(source_folder, target_folder, (), mirrored)
        finally:
            os.close(target_folder)
    finally:
        os.close(source_folder)


FOLDER, FILE, OTHER = "folder", "file", "other"


def _scan(folder: int) -> dict[str, tuple[str, int]]:
    """Each entry of the open ``folder``: its kind (a link is OTHER) and inode."""
    with os.scandir(folder) as entries:
        return {entry.name: (FOLDER if entry.is_dir(follow_symlinks=False) else
                             FILE if entry.is_file(follow_symlinks=False) else OTHER, entry.inode())
                for entry in entries}


def _mirror_at(source: int, target: int, prefix: tuple[str, ...] = (),
               mirrored: Mirrored | None = None) -> None:
    """Mirror the open folder ``source`` into ``target``: what is not wanted is removed first,
    then the folders are mirrored, and the files linked last: the site's marker is in the root
    of the copy only once nothing the site does not hold is left in it (a build killed
    half-way through leaves none, so the copy is known not to be the site's; see
    :func:`drop_stale_twin`)."""
    found_in_source = _scan(source)
    wanted = {name: found for name, found in found_in_source.items() if found[0] != OTHER}
    if mirrored is not None:
        mirrored.left_out.extend((*prefix, name) for name in found_in_source.keys() - wanted.keys())
    present = set()
    for name, (kind, inode) in _scan(target).items():
        want = wanted.get(name)
        if want is None or want[0] != kind or (kind == FILE and want[1] != inode):
            _remove_entry(target, name)
        else:
            present.add(name)
    for name, (kind, _) in sorted(wanted.items(), key=lambda item: item[1][0] == FILE):
        if kind == FILE:
            if name not in present:  # a link, never a copy: a copy would be no cheaper to keep
                os.link(name, name, src_dir_fd=source, dst_dir_fd=target, follow_symlinks=False)
            if mirrored is not None:
                mirrored.files.add("/".join((*prefix, name)))
            continue
        if name not in present:
            os.mkdir(name, dir_fd=target)
        inner_source = os.open(name, FOLDER_FLAGS, dir_fd=source)
        try:
            inner_target = _writable(os.open(name, FOLDER_FLAGS, dir_fd=target))
            try:
                _mirror_at(inner_source, inner_target, (*prefix, name), mirrored)
            finally:
                os.close(inner_target)
        finally:
            os.close(inner_source)


def _writable(folder: int) -> int:
    """The open ``folder``, made writable by its owner if it was not: a folder of the twin may
    be one the published site had read-only (the replaced site becomes the twin), and the
    next build writes into the twin's folders (a read-only one failed every build that
    changed a file in it, --force too)."""
    mode = stat.S_IMODE(os.fstat(folder).st_mode)
    if mode & 0o700 != 0o700:
        try:
            os.fchmod(folder, mode | 0o700)
        except OSError:
            os.close(folder)
            raise
    return folder


def _remove_unclaimed(folder: int, parts: tuple[str, ...], staging: Staging,
                      removed: list[tuple[str, ...]]) -> bool:
    """Remove what in the open ``folder`` (at ``parts``) is not part of the new site, each
    removed name's parts added to ``removed``; whether the folder is empty then."""
    empty = True
    for name, (kind, _) in _scan(folder).items():
        inner = (*parts, name)
        if kind == FOLDER and not staging.claims(inner):
            inner_folder = os.open(name, FOLDER_FLAGS, dir_fd=folder)
            try:
                emptied = _remove_unclaimed(inner_folder, inner, staging, removed)
            finally:
                os.close(inner_folder)
            if emptied:
                os.rmdir(name, dir_fd=folder)
                removed.append(inner)
                continue
        elif kind != FOLDER and not (kind == FILE and staging.holds("/".join(inner))):
            os.unlink(name, dir_fd=folder)
            removed.append(inner)
            continue
        empty = False
    return empty


def _remove_entry(folder: int, name: str) -> None:
    """Remove ``name`` from the open ``folder`` if it is there: a file, a link (not what it
    leads to) or a whole folder."""
    try:
        os.unlink(name, dir_fd=folder)
    except FileNotFoundError:
        pass
    except IsADirectoryError:
        _remove_folder(folder, name)
        if _ignoring(os.stat, name, dir_fd=folder, follow_symlinks=False) is not None:
            raise OSError(errno.ENOTEMPTY, "a folder could not be removed", name) from None


def _copy_at(source: int, target: int, name: str) -> None:
    """Copy ``name`` (a regular file, opened without following a link) with its times."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    with open(os.open(name, flags, dir_fd=source), "rb") as reading:
        status = os.fstat(reading.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise OSError(errno.EINVAL, "not a regular file (fieldbrief never follows links there)")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        with open(os.open(name, flags, 0o644, dir_fd=target), "wb") as writing:
            shutil.copyfileobj(reading, writing)
    os.utime(name, ns=(status.st_atime_ns, status.st_mtime_ns), dir_fd=target, follow_symlinks=False)


def remove_tree(path: Path) -> None:
    """Remove ``path`` and all in it as far as it can (as ``shutil.rmtree`` ignoring errors),
    never following a link; the folders two levels down (one per brief) by several threads."""
    try:
        root = os.open(path, FOLDER_FLAGS)
    except OSError:
        _ignoring(os.unlink, path)  # a file or a link, not a folder
        return
    tops: list[tuple[str, int]] = []
    try:
        with ThreadPoolExecutor(REMOVERS) as pool:
            for name in _files_removed(root):
                folder = _ignoring(os.open, name, FOLDER_FLAGS, dir_fd=root)
                if folder is not None:
                    tops.append((name, folder))
                    for inner in _files_removed(folder):
                        pool.submit(_remove_folder, folder, inner)
    finally:
        for name, folder in tops:
            os.close(folder)
            _ignoring(os.rmdir, name, dir_fd=root)
        os.close(root)
    _ignoring(os.rmdir, path)


def _files_removed(folder: int) -> list[str]:
    """Remove all but the folders in the folder open at ``folder``; the names of those."""
    try:
        with os.scandir(folder) as entries:
            found = [(entry.name, entry.is_dir(follow_symlinks=False)) for entry in entries]
    except OSError:
        return []
    for name, is_folder in found:
        if not is_folder:
            _ignoring(os.unlink, name, dir_fd=folder)
    return [name for name, is_folder in found if is_folder]


def _remove_folder(parent: int, name: str) -> None:
    """Remove the folder ``name`` of the open ``parent`` and all in it, as far as it can,
    depth first without recursion and with one folder open at a time: a planted chain of
    folders of any depth is removed (a recursive removal stopped, silently, at Python's
    recursion limit; a descriptor per level would run out). A folder is left by its ``..``,
    which must be the folder it was entered from, else the removal stops there."""
    folder: int | None = _ignoring(os.open, name, FOLDER_FLAGS, dir_fd=parent)
    if folder is None:
        return
    # each folder entered: its name, the identity of the folder above it, its folders left
    levels = [(name, _identity(parent), _files_removed(folder))]
    try:
        while True:
            left = levels[-1][2]
            if left:
                inner_name = left.pop()
                inner = _ignoring(os.open, inner_name, FOLDER_FLAGS, dir_fd=folder)
                if inner is not None:
                    levels.append((inner_name, _identity(folder), _files_removed(inner)))
                    os.close(folder)
                    folder = inner
                continue
            entered, above, _ = levels.pop()
            if not levels:
                break
            up = _ignoring(os.open, "..", FOLDER_FLAGS, dir_fd=folder)
            os.close(folder)
            folder = up
            if folder is None or _identity(folder) != above:
                return
            _ignoring(os.rmdir, entered, dir_fd=folder)
    finally:
        if folder is not None:
            os.close(folder)
    _ignoring(os.rmdir, name, dir_fd=parent)


def _identity(folder: int) -> tuple[int, int]:
    status = os.fstat(folder)
    return status.st_dev, status.st_ino


def _ignoring(call: Callable[..., T], *args: object, **options: object) -> T | None:
    try:
        return call(*args, **options)
    except OSError:
        return None


def _real_folder(path: Path) -> bool:
    """A folder, not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _same_file_system(first: Path, second: Path) -> bool:
    try:
        return os.lstat(first).st_dev == os.lstat(second).st_dev
    except OSError:
        return False


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildFailed(f"output folder {out_dir} is a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).exists():
        raise BuildFailed(f"output folder {out_dir} is not empty and was not written by "
                          "fieldbrief; choose another --out or empty it first")


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """The lock beside ``out_dir``, opened without following a link and never emptied (a
    link in its place could lead to any file; a pipe would block the build)."""
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    not_a_file = BuildFailed(f"cannot take the lock {lock_path}: it is a link, a pipe or a "
                             "folder, not a regular file; remove it")
    try:
        descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
                             | os.O_CLOEXEC, 0o644)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):
            raise not_a_file from None
        raise
    with os.fdopen(descriptor, "wb") as lock:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise not_a_file
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildFailed(f"another build is publishing into {out_dir}") from None
        yield


LEFTOVERS = ("staging", "search", "old")
"""What a build keeps beside its site while it runs: staged site, search scratch, retired site."""


def _leftover_name(out_dir: Path, kind: str) -> str:
    return f".{out_dir.name}.{kind}-{uuid.uuid4().hex}"


def beside_site(out_dir: Path, kind: str) -> Path:
    """A new folder of this build beside ``out_dir`` (on its file system, so that its files
    are linked there, not copied), named as only fieldbrief names one: a killed build's is
    removed by the next, and nothing else is."""
    path = out_dir.with_name(_leftover_name(out_dir, kind))
    path.mkdir(mode=0o700)
    return path


def _remove_leftovers(out_dir: Path) -> None:
    """Staging, scratch and retired folders of builds that were killed (we hold the lock):
    only names of exactly their shape, the site's name matched as written (a site named
    ``.site.search-pub``, or the staging folder of a build into ``site.search-2``, is no
    leftover of ``site``; ``site[1]``'s are not those of ``site1``)."""
    shape = re.compile(re.escape(f".{out_dir.name}.") + f"({'|'.join(LEFTOVERS)})-[0-9a-f]{{32}}")
    with os.scandir(out_dir.parent) as entries:
        leftovers = [entry.name for entry in entries if shape.fullmatch(entry.name)]
    for name in leftovers:
        remove_tree(out_dir.parent / name)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put the staging folder at ``out_dir``; the old site ends up at ``staging``."""
    if not out_dir.exists():
        staging.rename(out_dir)
        staging.mkdir()  # so the caller's cleanup has something to remove
        return
    if _exchange(staging, out_dir):
        return
    retired = out_dir.with_name(_leftover_name(out_dir, "old"))
    out_dir.rename(retired)
    staging.rename(out_dir)
    retired.rename(staging)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically swap two folders with renameat2; False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    renameat2 = getattr(ctypes.CDLL(libc_name, use_errno=True), "renameat2", None) if libc_name else None
    if renameat2 is None:
        return False
    result = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(second))
