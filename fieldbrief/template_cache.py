"""Stage 4a helper, template cache: compiled Jinja2 templates kept between builds.

Compiling the templates a brief page uses costs each process (the build and each of its
workers) more than rendering the page, so their compiled code is kept in the user's
cache folder, ``$XDG_CACHE_HOME/fieldbrief/templates`` (``~/.cache/fieldbrief/templates``
when unset), and reused while the template's source is unchanged (Jinja2 checks its
checksum on every load).

What is kept is marshalled Python code, run when it is loaded: a cache file that someone
else could write would be theirs to run. So the folder is only used when it is the
user's own (owned by them, a real folder, writable by no one else, created so), and
never when it lies inside the project, whose files anyone who can commit to it writes.
Otherwise, or when it cannot be written, templates are compiled as before.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket, FileSystemBytecodeCache

from fieldbrief import __version__


class UserTemplateCache(FileSystemBytecodeCache):
    """Jinja2's file cache, in a folder checked to be the user's own; a cache file that
    cannot be read or written (cut short, unreadable) is skipped, never a failed build."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def user_cache_root(environ: Mapping[str, str] = os.environ) -> Path:
    """The user's cache folder, as the XDG base directory specification says (a relative
    ``XDG_CACHE_HOME`` is ignored)."""
    configured = environ.get("XDG_CACHE_HOME", "")
    if configured and os.path.isabs(configured):
        return Path(configured)
    return Path.home() / ".cache"


def template_cache(project_root: Path, options: Mapping[str, object],
                   environ: Mapping[str, str] = os.environ) -> UserTemplateCache | None:
    """The cache for templates compiled with ``options``, or None where none may be used.

    The folder's name is a digest of everything the compiled code depends on besides the
    template's source: fieldbrief's and Jinja2's versions, the Python that compiled it
    (Jinja2 checks the Python version too) and the environment's options."""
    key = hashlib.sha256(repr((__version__, jinja2.__version__, sys.implementation.cache_tag,
                               sorted(options.items()))).encode()).hexdigest()[:16]
    folder = private_cache_folder(project_root, "templates", key, environ)
    return None if folder is None else UserTemplateCache(str(folder))


def private_cache_folder(project_root: Path, kind: str, key: str,
                         environ: Mapping[str, str] = os.environ) -> Path | None:
    """``fieldbrief/<kind>/<key>`` in the user's cache folder, made if need be, or None
    where it may not be used: inside the project, or not the user's own private folders."""
    try:
        base = user_cache_root(environ).resolve()
    except (OSError, RuntimeError):
        return None
    if base.is_relative_to(project_root.resolve()):
        return None
    folder = base / "fieldbrief" / kind / key
    try:
        folder.mkdir(mode=stat.S_IRWXU, parents=True, exist_ok=True)
    except OSError:
        return None
    if not all(_own_private_folder(path) for path in (folder, folder.parent, folder.parent.parent)):
        return None
    return folder


def _own_private_folder(path: Path) -> bool:
    """Is ``path`` a folder (not a link) owned by this user, writable by no one else?"""
    try:
        found = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(found.st_mode) and found.st_uid == os.getuid()
            and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH))
