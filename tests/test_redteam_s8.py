"""Red-team findings on a286207 (a kept brief's files, and the site-wide pages, are proven to
be the bytes their build wrote, by ``pipeline._kept_file``): each test is a scenario a
careless or hostile user can reach, and fails on the code as committed there."""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from conftest import TmpProject
from fieldbrief.stamp import manifest_path
from test_incremental import brief_text, rendered


def build(project: TmpProject, *options: str) -> None:
    run = project.run("-j", "1", "--no-pdf", *options)
    assert (run.code, run.err) == (0, ""), run.err


@pytest.fixture
def built(project: TmpProject) -> TmpProject:
    for brief_id in ("alpha", "bravo"):
        project.write(f"{brief_id}.yaml", brief_text(brief_id))
    build(project)
    return project


def test_a_site_folder_replaced_by_a_link_to_a_copy_is_written_again_as_a_folder(
        built: TmpProject, tmp_path: Path) -> None:
    """`site/countries` moved out of the site and linked back: the site-wide pages in it were
    read through the link (from outside the site), found unchanged, and the build said
    "nothing changed"; every later build then failed, "cannot keep countries/index.html of
    the published site ...: Not a directory", until the link was found by hand."""
    site, outside = built.root / "site", tmp_path / "outside"
    published = (site / "countries/index.html").read_bytes()
    shutil.move(site / "countries", outside)
    (site / "countries").symlink_to(outside)
    run = built.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert not run.out.startswith("nothing changed"), run.out
    assert not (site / "countries").is_symlink()
    assert (site / "countries/index.html").read_bytes() == published
    built.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    build(built)
    assert not (site / "countries").is_symlink()


@pytest.mark.parametrize("planted", ["briefs/alpha/index.html", "index.html"])
def test_a_huge_file_planted_at_a_published_page_is_written_again(built: TmpProject,
                                                                 planted: str) -> None:
    """A sparse file of 200 GB (`truncate -s 200G`) in place of a brief's page or a site
    page: the build read it whole to digest it, and ended in a traceback (MemoryError); a
    smaller one (a few GB) took that much memory. A file of another size than the one
    written is not read."""
    page = built.root / "site" / planted
    published = page.read_bytes()
    page.unlink()
    with open(page, "wb") as file:
        file.truncate(200 * 2**30)
    run = built.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert page.read_bytes() == published


@pytest.mark.parametrize("name", ["../outside.html", "/etc/passwd", "a\0b", ""])
def test_a_manifest_naming_a_site_page_outside_the_site_is_not_read(built: TmpProject,
                                                                   name: str) -> None:
    """A hand-edited manifest whose site pages name a path that leaves the site (or none):
    a build in which nothing else changed failed, "refusing to write outside the output
    folder: '../outside.html'" (it writes nothing there: it only meant to read), or ended in
    a traceback (ValueError: embedded null byte). The page is not the site's: not kept, and
    the site's own pages are written."""
    path = manifest_path(built.root, built.root / "site")
    manifest = json.loads(path.read_text())
    manifest["site_pages"][name] = manifest["site_pages"]["index.html"]
    path.write_text(json.dumps(manifest))
    run = built.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert rendered(run.out) == [] and run.out.startswith("built 0 briefs")


def test_a_pipe_swapped_in_for_a_page_after_it_was_looked_at_never_blocks_the_build(
        built: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A brief's page replaced by a named pipe just after the build looked at it (as a
    regular file): the build opened the pipe to read it, and waited for a writer for ever.
    A page is opened without waiting, and read only if the file opened is a regular file."""
    page = built.root / "site/briefs/alpha/index.html"
    published = page.read_bytes()
    looks = os.lstat(page)
    page.unlink()
    os.mkfifo(page)
    real_lstat = os.lstat
    monkeypatch.setattr(os, "lstat", lambda path, *args, **options: (
        looks if os.path.abspath(path) == str(page) else real_lstat(path, *args, **options)))
    outcome = []
    running = threading.Thread(target=lambda: outcome.append(built.run("-j", "1", "--no-pdf")),
                               daemon=True)
    running.start()
    running.join(timeout=120)  # a guard against a hang, not a measure of speed
    blocked = running.is_alive()
    if blocked:  # let the build go: the pipe has a writer now, who writes nothing
        os.close(os.open(page, os.O_WRONLY | os.O_NONBLOCK))
        running.join()
    monkeypatch.undo()
    assert not blocked, "the build waited on the pipe"
    assert [(run.code, run.err) for run in outcome] == [(0, "")]
    assert rendered(outcome[0].out) == ["briefs/alpha.yaml"]
    assert page.read_bytes() == published
