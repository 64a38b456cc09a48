"""The copy of the published site a build keeps for the next one (fieldbrief.publish,
``Staging(twin=…)``): the next build updates it in place and swaps it in, so only what
changed is written. It lies in the project's build state, made of hard links to the
published files; these tests hold it to what the published site promises: nothing in it
is ever published unless this build wrote or kept it, nothing is written through a
published file or through a link, and it holds nothing the site does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import TmpProject
from fieldbrief import pipeline
from fieldbrief.errors import BuildFailed
from fieldbrief.stamp import twin_path
from test_redteam_incremental import SECRET, brief, files_showing

SITE_MARKER = ".fieldbrief-site"


def twin(project: TmpProject) -> Path:
    found = twin_path(project.root, project.root / "site")
    assert found.is_dir()
    return found


def tree(root: Path) -> dict[str, int]:
    """Every file under ``root`` (links too), by path: its inode."""
    return {path.relative_to(root).as_posix(): path.lstat().st_ino
            for path in root.rglob("*") if not path.is_dir() or path.is_symlink()}


def assert_twin_is_the_site(project: TmpProject) -> None:
    """The kept copy holds exactly the published files, each the very same file."""
    assert tree(twin(project)) == tree(project.root / "site")


def two_briefs(project: TmpProject) -> None:
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0


def test_after_each_build_the_kept_copy_is_the_published_site_in_links(project: TmpProject) -> None:
    two_briefs(project)
    assert_twin_is_the_site(project)
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    (project.root / "briefs/other.yaml").unlink()
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    assert not (project.root / "site/briefs/other").exists()
    assert_twin_is_the_site(project)


@pytest.mark.parametrize("planted", ["index.html", "planted.html", "briefs/open/planted.html",
                                     "briefs/other/index.html", "pagefind/planted.js",
                                     "planted/deep/page.html"])
def test_a_file_planted_in_the_kept_copy_is_never_published(project: TmpProject, planted: str) -> None:
    """Whether it takes the name of a published file (a page of a brief not rendered again,
    a site page) or a name of its own, in a folder of its own or of the site."""
    two_briefs(project)
    target = twin(project) / planted
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.write_text(f"<html><body>{SECRET}</body></html>")
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert files_showing(project.root / "site", SECRET) == []
    assert files_showing(twin(project), SECRET) == []
    assert_twin_is_the_site(project)


@pytest.mark.parametrize("planted", ["briefs/open", "briefs", "index.html", "pagefind"])
def test_a_link_planted_in_the_kept_copy_is_never_followed(project: TmpProject, tmp_path: Path,
                                                           planted: str) -> None:
    """The brief folder the changed brief is written into, the folder of all briefs, a
    site page rewritten, the search folder: each replaced by a link to a folder (or file)
    outside the project. The build writes nothing there and publishes nothing from there."""
    two_briefs(project)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_text(f"<html><body>{SECRET}</body></html>")
    (outside / "open").mkdir()
    before = {path: path.read_bytes() for path in outside.rglob("*") if path.is_file()}
    target = twin(project) / planted
    is_folder = target.is_dir()
    if is_folder:
        os.rename(target, tmp_path / "moved-away")
    else:
        target.unlink()
    target.symlink_to(outside if is_folder else outside / "index.html")
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert {path: path.read_bytes() for path in outside.rglob("*") if path.is_file()} == before
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    assert files_showing(project.root / "site", SECRET) == []
    assert_twin_is_the_site(project)


@pytest.mark.parametrize("planted, kind", [("briefs/open/planted.html", "file"), ("planted.html", "file"),
                                           ("briefs/other/link.html", "link"), ("link", "link"),
                                           ("briefs/open/pipe", "pipe")])
def test_what_is_planted_in_the_published_site_is_in_neither_site_nor_copy_after_a_build(
        project: TmpProject, tmp_path: Path, planted: str, kind: str) -> None:
    """The replaced site becomes the copy, updated by what the build changed: a file, a link
    or a pipe put into the published site by hand is not published again, and does not stay
    in the copy either."""
    two_briefs(project)
    (tmp_path / "outside.html").write_text(f"<html><body>{SECRET}</body></html>")
    target = project.root / "site" / planted
    if kind == "file":
        target.write_text(f"<html><body>{SECRET}</body></html>")
    elif kind == "link":
        target.symlink_to(tmp_path / "outside.html")
    else:
        os.mkfifo(target)
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert not (project.root / "site" / planted).is_symlink()
    assert not (project.root / "site" / planted).exists()
    assert_twin_is_the_site(project)


def test_no_published_file_is_written_through_by_the_build_that_replaces_it(
        project: TmpProject, tmp_path: Path) -> None:
    """The kept copy shares its files with the published site: a build writing a page of
    the changed brief, a site page or a search shard into it must make a new file, never
    write into the one there (which is the published one). Every published file is held
    by a link outside before the build; each still has its bytes after it."""
    two_briefs(project)
    project.run("-j", "1", "--no-pdf")  # the kept copy now holds the published files
    site = project.root / "site"
    held = tmp_path / "held"
    held.mkdir()
    before = {}
    for number, path in enumerate(p for p in site.rglob("*") if p.is_file()):
        os.link(path, held / str(number))
        before[str(number)] = path.read_bytes()
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert {name: (held / name).read_bytes() for name in before} == before
    assert "Open, revised" in (site / "briefs/open/index.html").read_text()


def test_a_brief_withdrawn_from_the_site_is_not_in_the_kept_copy(project: TmpProject) -> None:
    project.write("open.yaml", brief("open", "ML", "floods", title=SECRET))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert files_showing(twin(project), SECRET) != []
    project.write("open.yaml", brief("open", "ML", "floods", title=SECRET, tlp="TLP:RED"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert files_showing(project.root / "site", SECRET) == []
    assert files_showing(twin(project), SECRET) == []


def test_a_build_that_fails_leaves_no_copy_holding_what_it_wrote(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a failed build wrote (a page the gate refused, say) stays nowhere; the next
    build makes the copy again."""
    two_briefs(project)
    published = tree(project.root / "site")

    def refused(*args: object) -> None:
        raise BuildFailed("refused for the test")

    gate = pipeline._gate
    monkeypatch.setattr(pipeline, "_gate", refused)
    project.write("open.yaml", brief("open", "ML", "floods", title=SECRET))
    result = project.run("-j", "1", "--no-pdf")
    assert (result.code, result.err) == (1, "error: refused for the test; nothing was written\n")
    assert tree(project.root / "site") == published
    assert not list((project.root / ".fieldbrief").glob("build-*.site"))
    monkeypatch.setattr(pipeline, "_gate", gate)
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert_twin_is_the_site(project)


def site_bytes(site: Path) -> dict[str, bytes]:
    return {path.relative_to(site).as_posix(): path.read_bytes() for path in site.rglob("*")
            if path.is_file() and path.name != SITE_MARKER}


SLOTS = ("alpha", "beta", "gamma")
versions = st.one_of(st.none(), st.tuples(st.sampled_from(["TLP:CLEAR", "TLP:RED"]),
                                          st.integers(0, 2)))
steps = st.lists(st.tuples(st.tuples(versions, versions, versions),
                           st.sampled_from([None, "index.html", "briefs/alpha/index.html", "x/y.html"])),
                 min_size=1, max_size=3)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_builds_through_the_kept_copy_publish_what_a_build_from_scratch_does(
        tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
        steps: list[tuple[tuple[tuple[str, int] | None, ...], str | None]]) -> None:
    """Briefs added, edited, withdrawn (relabelled RED) and removed, with a file planted
    in the kept copy between builds: after each build the site is byte for byte the one a
    build from scratch writes, and the kept copy is the site."""
    root = tmp_path_factory.mktemp("twin") / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    project = TmpProject(root)
    for briefs, planted in steps:
        for slot, version in zip(SLOTS, briefs, strict=True):
            path = root / "briefs" / f"{slot}.yaml"
            if version is None:
                path.unlink(missing_ok=True)
            else:
                project.write(path.name, brief(slot, "ML", "floods", tlp=version[0],
                                               title=f"Brief {slot} {version[1]}"))
        kept = twin_path(root, root / "site")
        if planted and kept.is_dir():
            (kept / planted).parent.mkdir(parents=True, exist_ok=True)
            (kept / planted).unlink(missing_ok=True)
            (kept / planted).write_text(SECRET)
        run = project.run("-j", "1", "--no-pdf")
        assert run.code == 0
        assert project.run("-j", "1", "--no-pdf", "--force", "--out", "fresh").code == 0
        assert site_bytes(root / "site") == site_bytes(root / "fresh")
        if not run.out.startswith("nothing changed"):  # a build with nothing to do leaves the copy
            assert_twin_is_the_site(project)  # (a file planted there is removed by the next build)
        assert files_showing(root / "site", SECRET) == []
