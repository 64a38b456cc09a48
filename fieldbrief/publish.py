"""Stage 5, publish: write a finished site into place, all of it or none of it.

In: every output file of the build, written one by one as it is rendered (so memory
stays flat however many briefs there are), plus the files to keep unchanged from the
site already published. The new site is assembled in a staging folder beside the
output folder and swapped in only when complete: on Linux with one atomic ``renameat2(RENAME_EXCHANGE)``, elsewhere
with two renames. A build that fails or is killed half-way leaves the published site
as it was; its staging folder is removed by the next build. A lock file keeps two
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
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from fieldbrief.errors import BuildFailed

SITE_MARKER = ".fieldbrief-site"
"""A file in the root of every site fieldbrief writes; its presence allows replacing it."""
RENAME_EXCHANGE = 2
AT_FDCWD = -100


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
        source, target = safe_join(self.out_dir, relative), safe_join(self.path, relative)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, target)
        except OSError:
            shutil.copy2(source, target)

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is None:
                (self.path / SITE_MARKER).write_text(
                    f"This folder is written by fieldbrief; a build replaces it whole.\n"
                    f"build {self.build_id}\n")
                os.chmod(self.path, 0o755)
                _swap_in(self.path, self.out_dir)
        finally:
            shutil.rmtree(self.path, ignore_errors=True)
            self._lock.__exit__(None, None, None)


def published_build_id(out_dir: Path) -> str | None:
    """The id of the build that wrote the site in ``out_dir``, if fieldbrief wrote it."""
    try:
        marker = (out_dir / SITE_MARKER).read_text()
    except OSError:
        return None
    return marker.rsplit("build ", 1)[-1].strip() if "build " in marker else None


def safe_join(root: Path, relative: str) -> Path:
    """``root / relative``, refusing absolute paths and any path that leaves ``root``."""
    path = PurePosixPath(relative)
    if not path.parts or path.is_absolute() or ".." in path.parts or "\\" in relative:
        raise BuildFailed(f"refusing to write outside the output folder: {relative!r}")
    return root.joinpath(*path.parts)


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildFailed(f"output folder {out_dir} is a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).exists():
        raise BuildFailed(f"output folder {out_dir} is not empty and was not written by "
                          "fieldbrief; choose another --out or empty it first")


@contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildFailed(f"another build is publishing into {out_dir}") from None
        yield


def _remove_leftovers(out_dir: Path) -> None:
    """Staging and retired folders of builds that were killed (we hold the lock)."""
    for prefix in (f".{out_dir.name}.staging-", f".{out_dir.name}.old-"):
        for leftover in out_dir.parent.glob(f"{prefix}*"):
            shutil.rmtree(leftover, ignore_errors=True)


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
