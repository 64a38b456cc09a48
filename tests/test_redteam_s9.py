"""Red-team findings on a5dbc26 (a build with nothing to do saves the seals it took of the
published files, and renews the publishing gate's seals by gating the published site
itself, ``unchanged_site._gated_again``): each test is a scenario a careless or hostile user can
reach, and fails on the code as committed there."""

from __future__ import annotations

import errno
import os

import pytest

from conftest import TmpProject
from test_incremental import fully_built


@pytest.fixture
def full(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    """Two briefs built in full (files too fresh to seal), then files settle at once: the
    next build with nothing to do gates the published site again."""
    fully_built(project, monkeypatch)
    return project


def test_a_page_not_utf8_planted_in_the_site_does_not_crash_a_build_with_nothing_to_do(
        full: TmpProject) -> None:
    """A file planted in the published site is removed by the next build that publishes,
    before its gate reads anything; the build with nothing to do gated the published site
    as it is, planted file and all, and a page that is not UTF-8 ended it in a traceback
    (UnicodeDecodeError)."""
    (full.root / "site/notes.html").write_bytes(b"<html>\xff\xfe</html>")
    run = full.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, ""), run.err
    assert run.out.startswith("nothing changed")


def test_a_folder_too_deep_planted_in_the_site_does_not_fail_a_build_with_nothing_to_do(
        full: TmpProject) -> None:
    """A tree deeper than a path can name (PATH_MAX) planted in the published site: the
    gate walks it by paths, and the build with nothing to do failed (File name too long)."""
    folder = os.open(full.root / "site", os.O_RDONLY)
    try:
        for _ in range(30):
            os.mkdir("d" * 200, dir_fd=folder)
            inner = os.open("d" * 200, os.O_RDONLY, dir_fd=folder)
            os.close(folder)
            folder = inner
    finally:
        os.close(folder)
    run = full.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, ""), run.err
    assert run.out.startswith("nothing changed")


def test_a_clock_that_cannot_be_read_does_not_fail_a_build_with_nothing_to_do(
        full: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """No file can be made in the site's copy (its file system full: ENOSPC, or out of
    inodes): a record that cannot be saved only costs reading, yet the clock's file was
    made outside the part that may fail, and the build with nothing to do failed."""
    from fieldbrief import publish

    def full_disk(folder: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(publish, "_clock_in", full_disk)
    run = full.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, ""), run.err
    assert run.out.startswith("nothing changed")


def test_a_huge_file_planted_in_the_site_does_not_crash_a_build_with_nothing_to_do(
        full: TmpProject) -> None:
    """A sparse file of 200 GB (`truncate -s 200G`) planted in the published site as a PDF:
    a build that publishes removes it before its gate reads anything, but the build with
    nothing to do gated the site as it is, read it whole, and ended in a traceback
    (MemoryError); a smaller one (a few GB) took that much memory. The site is only
    gated again when it holds nothing the last build did not gate."""
    with open(full.root / "site/notes.pdf", "wb") as file:
        file.truncate(200 * 2**30)
    run = full.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, ""), run.err
    assert run.out.startswith("nothing changed")
