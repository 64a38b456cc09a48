"""Red-team findings on the copy of the site a build keeps for the next one (6af241f,
``Staging(twin=…)``): each test is a scenario a careless or hostile user can reach, and
fails on the code as committed there."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, TmpProject
from fieldbrief import pipeline, publish
from fieldbrief.stamp import twin_path
from test_redteam_incremental import SECRET, brief, files_showing
from test_twin import assert_twin_is_the_site, twin


def build(project: TmpProject, *options: str) -> None:
    run = project.run("-j", "1", "--no-pdf", *options)
    assert run.code == 0, run.err


def test_a_site_folder_made_read_only_never_stops_later_builds(project: TmpProject) -> None:
    """`chmod a-w site/briefs/open`: the next build publishes a fresh (writable) folder, and
    the replaced site, read-only folder and all, became the kept copy; every later build of
    that brief then failed writing into it ("rendering failed (PermissionError ...) please
    report this as a bug"), --force too, until the folder deep in .fieldbrief/ was found.
    As root (who may write anyway) the read-only folder shows in the site the copy becomes."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    build(project)
    os.chmod(project.root / "site/briefs/open", 0o555)
    project.write("other.yaml", brief("other", "NE", "elections", title="Other, revised"))
    build(project)
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    build(project)  # stages in the copy holding the read-only folder, and writes into it
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    folders = [path for root in (twin(project), project.root / "site")
               for path in [root, *root.rglob("*")] if path.is_dir()]
    assert [path for path in folders if stat.S_IMODE(path.stat().st_mode) & 0o700 != 0o700] == []
    assert_twin_is_the_site(project)


DEPTH = 1100
"""Folders in a planted chain: more than Python's recursion limit."""


def plant_chain(folder: Path) -> None:
    """``folder/d/d/d/...``, DEPTH folders deep (made through descriptors: the path is long)."""
    folder.mkdir()
    descriptor = os.open(folder, os.O_RDONLY)
    for _ in range(DEPTH):
        os.mkdir("d", dir_fd=descriptor)
        inner = os.open("d", os.O_RDONLY, dir_fd=descriptor)
        os.close(descriptor)
        descriptor = inner
    os.close(descriptor)


@pytest.fixture
def chained(project: TmpProject) -> Iterator[TmpProject]:
    """The project, removed with `rm -rf` afterwards: what a chain leaves would stop pytest's
    own clean-up of old temporary folders (shutil.rmtree recurses too)."""
    yield project
    subprocess.run(["rm", "-rf", str(project.root)], check=True)


@pytest.mark.parametrize("planted", ["the kept copy", "the published site"])
def test_a_chain_of_folders_deeper_than_python_recursion_is_removed(chained: TmpProject,
                                                                   planted: str) -> None:
    """A chain of 1,100 folders planted in briefs/ of the kept copy stayed there for ever: it
    could not be removed (a recursive removal stops at Python's recursion limit, silently), so
    no later build could use or replace the copy, and each made a whole new tree instead.
    Planted in the published site, it stayed beside the site in the leftover of the replaced
    site, tried again (and failed) by every later build."""
    project = chained
    project.write("open.yaml", brief("open", "ML", "floods"))
    build(project)
    plant_chain((twin(project) if planted == "the kept copy" else project.root / "site") / "briefs/planted")
    for title in ("Open, revised", "Open, revised again"):
        project.write("open.yaml", brief("open", "ML", "floods", title=title))
        build(project)
        assert not (project.root / "site/briefs/planted").exists()
        assert not (twin(project) / "briefs/planted").exists()
        assert sorted(path.name for path in project.root.iterdir() if path.name.startswith(".site")) \
            == [".site.lock"]
        assert_twin_is_the_site(project)


def relabel_in_place(page: Path) -> None:
    """Give a published page the label TLP:RED in place: the same inode, the same size, its
    modification time set back (its seal as the gate records it is unchanged)."""
    before = page.stat()
    text = page.read_text()
    edited = text.replace('content="TLP:CLEAR"', 'content="TLP:RED!!"', 1)
    assert edited != text and len(edited) == len(text)
    with open(page, "r+") as file:
        file.write(edited)
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))


@pytest.mark.parametrize("moment", ["as the gate starts", "as the site is swapped in"])
def test_a_kept_page_relabelled_in_place_during_a_build_is_read_by_a_later_build(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    """A published page edited in place while a build runs, after the build looked at it
    (it is kept: its seal and change time were checked) or after its gate read the site
    (the swap, and making the replaced site the kept copy, take a while for a large site):
    the build records its site whole only later, at a time after the edit, so no later
    build read the page again: it stayed published with TLP:RED for ever. The time the
    seals are checked against is now taken before the kept files are checked (and the
    gate refused the next build); since a kept brief's files are checked against the
    digest of the bytes written, the next build writes the page again, as its brief says."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    build(project)
    page = project.root / "site/briefs/other/index.html"
    owner, name = (pipeline, "_gate") if moment == "as the gate starts" else \
        (publish.Staging, "_kept_as_twin")
    original = getattr(owner, name)

    def edit_meanwhile(*args: object) -> object:
        relabel_in_place(page)
        return original(*args)

    refused = (1, "error: the site may not carry briefs/other/index.html: it is labelled TLP:RED!!, "
                  "and this site publishes TLP:CLEAR only; nothing was written\n")
    outcomes = []
    for number in range(2):
        with monkeypatch.context() as patch:
            if number == 0:
                patch.setattr(owner, name, edit_meanwhile)
            project.write("open.yaml", brief("open", "ML", "floods", title=f"Open, revised {number}"))
            run = project.run("-j", "1", "--no-pdf")
        outcomes.append((run.code, run.err))
    assert outcomes == [refused if moment == "as the gate starts" else (0, ""), (0, "")]
    assert "rendered briefs/other.yaml" in run.out
    assert "TLP:RED" not in page.read_text() and 'content="TLP:CLEAR"' in page.read_text()


KILLED_AFTER_THE_SWAP = f"""
import os, signal, sys
sys.path.insert(0, {str(REPO)!r})
from fieldbrief import publish
from fieldbrief.cli import main
keep = publish.Staging._kept_as_twin
def killed(staging):
    if staging.twin is None:  # the restricted folder, swapped in first
        return keep(staging)
    os.kill(os.getpid(), signal.SIGKILL)
publish.Staging._kept_as_twin = killed
main(["-j", "1", "--no-pdf"])
"""


def test_a_build_killed_after_its_swap_leaves_no_withdrawn_page_in_the_kept_copy(
        project: TmpProject) -> None:
    """A build that withdraws a brief (relabelled TLP:RED), killed between swapping its site
    in and making the replaced site the kept copy: the replaced site, with the withdrawn
    brief's pages, stayed in .fieldbrief/ as the copy; the next build found nothing to do
    and returned with it still there, and so did every build until one published again."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("secret.yaml", brief("secret", "NE", "elections", title=SECRET))
    build(project)
    project.write("secret.yaml", brief("secret", "NE", "elections", title=SECRET, tlp="TLP:RED"))
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_THE_SWAP], cwd=project.root)
    assert killed.returncode == -9
    assert files_showing(project.root / "site", SECRET) == []
    run = project.run("-j", "1", "--no-pdf")
    assert run.code == 0 and run.out.startswith("nothing changed: 2 briefs unchanged"), run.out
    assert files_showing(twin_path(project.root, project.root / "site"), SECRET) == []
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    build(project)
    assert_twin_is_the_site(project)


def test_a_folder_made_by_another_worker_meanwhile_is_written_into(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers write their briefs into one new tree: two that find briefs/ missing both make
    it, and the later failed ("rendering failed (FileExistsError: [Errno 17] File exists:
    'briefs'); please report this as a bug"), at random, in a first build with -j 2 or more
    (tests/test_search_incremental.py failed so, now and then). Here the other worker makes
    each folder just before this one does."""
    make = os.mkdir

    def made_meanwhile(path: str, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
        if dir_fd is not None:
            make(path, mode, dir_fd=dir_fd)
        make(path, mode, dir_fd=dir_fd)

    project.write("open.yaml", brief("open", "ML", "floods"))
    monkeypatch.setattr(publish.os, "mkdir", made_meanwhile)
    run = project.run("-j", "1", "--no-pdf")
    monkeypatch.undo()
    assert run.code == 0, run.err
    assert "Brief open" in (project.root / "site/briefs/open/index.html").read_text()
