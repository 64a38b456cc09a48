"""Stage 5, publish: write a finished site into place, all of it or none of it.

In: every output file of the build as bytes, keyed by its path inside the site,
plus the paths to carry over unchanged from the site already published. The new
site is assembled in a staging folder beside the output folder and swapped in
only when complete, so a failed build never leaves a half-written site. The
output folder is only ever replaced if it is empty or was written by fieldbrief.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from fieldbrief.errors import BuildFailed

SITE_MARKER = ".fieldbrief-site"
"""A file in the root of every site fieldbrief writes; its presence allows replacing it."""


def publish(out_dir: Path, files: Mapping[str, bytes], carry_over: Iterable[str] = ()) -> None:
    """Replace ``out_dir`` by a folder holding ``files`` and the ``carry_over`` paths."""
    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
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
        _swap_in(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def safe_join(root: Path, relative: str) -> Path:
    """``root / relative``, refusing absolute paths and any path that leaves ``root``."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        raise BuildFailed(f"refusing to write outside the output folder: {relative!r}")
    return root.joinpath(*parts)


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise BuildFailed(f"output folder {out_dir} is a file")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / SITE_MARKER).exists():
        raise BuildFailed(f"output folder {out_dir} is not empty and was not written by "
                          "fieldbrief; choose another --out or empty it first")


def _copy_into(old_site: Path, staging: Path, relative: str) -> None:
    source, target = safe_join(old_site, relative), safe_join(staging, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


def _swap_in(staging: Path, out_dir: Path) -> None:
    """Move the finished staging folder to ``out_dir``, removing the old site after."""
    os.chmod(staging, 0o755)
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
    retired.rmdir()
    out_dir.rename(retired)
    staging.rename(out_dir)
    shutil.rmtree(retired, ignore_errors=True)
