"""Stage 5, publish: write a finished site into place, all of it or none of it.

In: every output file of the build, written one by one as it is rendered (so memory
stays flat however many briefs there are), plus the files to keep unchanged from the
site already published. The new site is assembled in a staging folder beside the
output folder and swapped in only when complete: on Linux with one atomic ``renameat2(RENAME_EXCHANGE)``, elsewhere
with two renames. A build that fails or is killed half-way leaves the published site
as it was; its staging folder is removed by the next build. Kept files are reached
folder by folder through descriptors opened without following links, and the replaced
site is removed the same way (several folders at once: most of that time is spent
waiting on the file system), so a link planted in the published site is never followed. A lock file keeps two
builds from publishing into one folder at once. The output folder is only ever
replaced if it is empty or was written by fieldbrief.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

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
    published site when the block ends without an exception; otherwise nothing is
    published. Kept files are hard links to the published ones (copies where links
    are impossible): the build never changes a published file in place.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = out_dir.resolve()
        _check_replaceable(self.out_dir)
        self.build_id = uuid.uuid4().hex
        self.written: set[str] = set()
        self._trees: tuple[_Folders, _Folders] | None = None  # published, staged: once keeping
        self.kept: dict[str, tuple[int, int]] = {}
        """Inode and change time (ns) each kept file had in the published site before it was
        linked (a file copied instead is not here)."""

    def __enter__(self) -> Staging:
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _locked(self.out_dir)
        self._lock.__enter__()
        _remove_leftovers(self.out_dir)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.staging-",
                                          dir=self.out_dir.parent))
        return self

    def write(self, relative: str, content: bytes) -> None:
        target = safe_join(self.path, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        self.written.add(relative)

    def keep(self, relative: str) -> None:
        """Carry a file of the published site over unchanged."""
        self.keep_all((relative,))

    def keep_all(self, relatives: Iterable[str]) -> None:
        """Carry files of the published site over unchanged: each a hard link to the
        published file (a copy where links are impossible), reached without following a
        link; a build that finds anything but a regular file there stops."""
        for relative in relatives:
            parts = _parts(relative)
            try:
                if self._trees is None:
                    self._trees = (_Folders(self.out_dir), _Folders(self.path, create=True))
                published, staged = self._trees
                found = _link_at(published.folder(parts[:-1]), staged.folder(parts[:-1]), parts[-1])
            except OSError as error:
                raise BuildFailed(f"cannot keep {relative} of the published site {self.out_dir}: "
                                  f"{error.strerror or error}") from None
            if found is not None:
                self.kept[relative] = found

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            for tree in self._trees or ():
                tree.close()
            if kind is None:
                (self.path / SITE_MARKER).write_text(
                    f"This folder is written by fieldbrief; a build replaces it whole.\n"
                    f"build {self.build_id}\n")
                os.chmod(self.path, 0o755)
                _swap_in(self.path, self.out_dir)
        finally:
            remove_tree(self.path)
            self._lock.__exit__(None, None, None)


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


def regular_file(root: Path, relative: str) -> bool:
    """Whether ``relative`` names a regular file under ``root`` reached without following a
    link (in any of its folders either)."""
    try:
        parts = _parts(relative)
    except BuildFailed:
        return False
    path = str(root)
    for number, part in enumerate(parts, 1):
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return False
        if not (stat.S_ISREG(mode) if number == len(parts) else stat.S_ISDIR(mode)):
            return False
    return True


class _Folders:
    """The folders of a tree, each opened by descriptor from its parent's without following
    a link, and made on the way when ``create``; a few are kept open for the next file."""

    def __init__(self, root: Path, create: bool = False) -> None:
        self.root = os.open(root, FOLDER_FLAGS)
        self.create = create
        self.opened: dict[tuple[str, ...], int] = {}

    def folder(self, parts: tuple[str, ...]) -> int:
        if len(self.opened) >= MAX_OPEN_FOLDERS and parts not in self.opened:
            self._close_folders()
        return self._open(parts)

    def _open(self, parts: tuple[str, ...]) -> int:
        if not parts:
            return self.root
        if (found := self.opened.get(parts)) is not None:
            return found
        parent = self._open(parts[:-1])
        if self.create:
            try:
                os.mkdir(parts[-1], dir_fd=parent)
            except FileExistsError:
                pass
        self.opened[parts] = os.open(parts[-1], FOLDER_FLAGS, dir_fd=parent)
        return self.opened[parts]

    def _close_folders(self) -> None:
        for descriptor in self.opened.values():
            os.close(descriptor)
        self.opened.clear()

    def close(self) -> None:
        self._close_folders()
        os.close(self.root)


def _link_at(source: int, target: int, name: str) -> tuple[int, int] | None:
    """Link (else copy) the regular file ``name`` of folder ``source`` into ``target``; the
    inode and change time it had before, if the file linked is that one (linking changes it)."""
    before = os.stat(name, dir_fd=source, follow_symlinks=False)
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
    return (before.st_ino, before.st_ctime_ns) if after.st_ino == before.st_ino else None


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
    folder = _ignoring(os.open, name, FOLDER_FLAGS, dir_fd=parent)
    if folder is None:
        return
    try:
        for inner in _files_removed(folder):
            _remove_folder(folder, inner)
    finally:
        os.close(folder)
    _ignoring(os.rmdir, name, dir_fd=parent)


def _ignoring(call: Callable[..., T], *args: object, **options: object) -> T | None:
    try:
        return call(*args, **options)
    except OSError:
        return None


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


def _remove_leftovers(out_dir: Path) -> None:
    """Staging and retired folders of builds that were killed (we hold the lock)."""
    for prefix in (f".{out_dir.name}.staging-", f".{out_dir.name}.old-"):
        for leftover in out_dir.parent.glob(f"{prefix}*"):
            remove_tree(leftover)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Put the staging folder at ``out_dir``; the old site ends up at ``staging``."""
    if not out_dir.exists():
        staging.rename(out_dir)
        staging.mkdir()  # so the caller's cleanup has something to remove
        return
    if _exchange(staging, out_dir):
        return
    retired = staging.with_name(staging.name.replace(".staging-", ".old-"))
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
