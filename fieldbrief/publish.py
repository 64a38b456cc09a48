"""Stage 5, publish: write a finished site into place, all of it or none of it.

In: every output file of the build as bytes, keyed by its path inside the site,
plus the folders to carry over unchanged from the site already published. The new
site is assembled in a staging folder beside the output folder and swapped in only
when complete: on Linux with one atomic ``renameat2(RENAME_EXCHANGE)``, elsewhere
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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from fieldbrief.errors import BuildFailed

SITE_MARKER = ".fieldbrief-site"
"""A file in the root of every site fieldbrief writes; its presence allows replacing it."""
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def publish(out_dir: Path, files: Mapping[str, bytes], carry_over: Iterable[str] = (),
            finish: Callable[[Path], None] = lambda staging: None) -> None:
    """Replace ``out_dir`` by a folder holding ``files`` and the ``carry_over`` paths.

    ``finish`` runs on the complete staging folder before the swap; if it raises,
    nothing is published.
    """
    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out_dir):
        _remove_leftovers(out_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
        try:
            for relative in carry_over:
                _copy_into(out_dir, staging, relative)
            for relative, content in files.items():
                target = safe_join(staging, relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            (staging / SITE_MARKER).write_text("This folder is written by fieldbrief; "
                                               "a build replaces it whole.\n")
            finish(staging)
            os.chmod(staging, 0o755)
            _swap_in(staging, out_dir)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


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


def _copy_into(old_site: Path, staging: Path, relative: str) -> None:
    source, target = safe_join(old_site, relative), safe_join(staging, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


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
