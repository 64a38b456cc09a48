"""Stage 5 of a build with nothing to do: the published site proven to be as its build
wrote it, and the seals taken proving it recorded.

A build that finds no brief to render still proves the published site before it says
"untouched": every site page and every file of the search folder must hold the bytes its
build wrote (one edited or deleted by hand is written again by a build that publishes).
Proving a file that has no seal means reading it, and a full build's files have none: they
are too fresh to seal when it ends, and the copy of the site it links to each of them
afterwards changes their change times. So the build with nothing to do records the seals
it took (of the brief files, site pages and search files it read) and renews the
publishing gate's, and the first brief changed after a full build reads no kept file again.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from fieldbrief.errors import BuildFailed
from fieldbrief.incremental import (Manifest, Record, kept_files, kept_site_page, save_manifest,
                                    save_sealed, sealed_at)
from fieldbrief.policy import PublishingPolicy, Seal, gate_site, unchanged_seals
from fieldbrief.publish import FilesIn, clock_of_site, while_published
from fieldbrief.search import load_record, save_record


@dataclass(frozen=True)
class UnchangedSite:
    """The site-wide pages and search files of a published site a build found nothing to
    change in, as their records, seals refreshed."""

    site_build: str
    site_pages: dict[str, str]
    search: dict[str, str]
    search_recorded: dict[str, str]  # the search record as the build found it


def proven_site(out_dir: Path, previous: Manifest, search_record: Path) -> UnchangedSite | None:
    """The site in ``out_dir`` as the last build recorded it (``previous``, and the search
    record at ``search_record``), if every site page and every file of the search folder is
    still as that build wrote it; None if not (a search folder edited or removed by hand was
    left so by every build with no brief changed)."""
    search = load_record(search_record, previous.site_build)
    if search is None or previous.site_build is None:
        return None
    pages: dict[str, str] = {}
    with FilesIn(out_dir) as files:
        for page, recorded in previous.site_pages.items():
            if (kept := kept_site_page(files, page, recorded)) is None:
                return None
            pages[page] = kept
        kept_search = kept_files(files, search)
    return None if kept_search is None else UnchangedSite(previous.site_build, pages, kept_search, search)


def record_seals(manifest_file: Path, search_record: Path, out_dir: Path, twin: Path,
                 policy: PublishingPolicy, previous: Manifest, records: dict[str, Record],
                 unchanged: UnchangedSite) -> None:
    """Save the seals a build with nothing to do took (``records``, the brief records with
    their files' seals; ``unchanged``, the site pages' and search files'), and the
    publishing gate's seals renewed (see :func:`_gated_again`), if any changed. Only while
    the site is still the one recorded (under its lock); a record that cannot be saved only
    costs the next build that reading, as a stamp that cannot be saved does."""

    def save() -> None:
        gated = _gated_again(out_dir, twin, policy, previous, sealed_at(manifest_file, unchanged.site_build))
        manifest = previous.model_copy(update={"records": records, "site_pages": unchanged.site_pages,
                                               **({"gated": gated[0]} if gated else {})})
        with contextlib.suppress(OSError, BuildFailed):
            if manifest != previous:
                save_manifest(manifest_file, manifest)
            if gated:  # only once the seals it dates are saved
                save_sealed(manifest_file, unchanged.site_build, gated[1])
            if unchanged.search != unchanged.search_recorded:
                save_record(search_record, unchanged.site_build, unchanged.search)

    while_published(out_dir, unchanged.site_build, save)


def _gated_again(out_dir: Path, twin: Path, policy: PublishingPolicy, previous: Manifest,
                 sealed: int | None) -> tuple[dict[str, Seal], int] | None:
    """The publishing gate's seals of the published site, and the time they count from,
    renewed where the last build's no longer vouch for every file it let through (the copy
    of the site a full build links to each file afterwards changes the file's change time);
    None if they all still do, or the gate refuses the site (the next build that publishes
    refuses it too). As a build that publishes gates its site: the time is taken first,
    then the files not changed since are found, then the others are read. The site is
    gated as it is, with whatever was planted in it (a build that publishes removes that
    first): a clock that cannot be read, a file the last build did not gate (which may be of
    any size), or a file or folder the gate cannot read (a page that is not UTF-8, a tree
    too deep to name), only leaves the seals as they were."""
    if previous.gate_policy != policy.key:
        return None
    try:
        if (now := clock_of_site(out_dir, twin)) is None:
            return None
        with FilesIn(out_dir) as files:
            trusted = unchanged_seals(previous.gated, functools.partial(_status_in, files), sealed)
        if len(trusted) == len(previous.gated):
            return None
        problems, seals = gate_site(out_dir, policy, trusted, known=previous.gated)
    except (OSError, ValueError, BuildFailed):
        return None
    return None if problems else (seals, now)


def _status_in(files: FilesIn, relative: str) -> os.stat_result | None:
    try:
        return files.status(relative)
    except (OSError, ValueError, BuildFailed):
        return None
