"""A build in which nothing changed, seen from its stamp: the next build with the same
options stops at once, before loading the build's modules, and every change to what a
build depends on (or has published) makes it build again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import REPO, TmpProject
from fieldbrief import pipeline, stamp

EPOCH = "1767225600"
SUBTITLE = "subtitle: Twelve words of subtitle.\n"
BRIEF = ("id: alpha\ntitle: Brief alpha\n" + SUBTITLE + "as_of: 2026-01-15\ncountries: [ML]\n"
         "tlp: TLP:CLEAR\nstatus: final\ndesk: Test desk\nbluf:\n  - First point.\n  - Second point.\n"
         "summary: One paragraph of summary.\nsources:\n  - id: only-source\n"
         "    title: The only source\n    publisher: Test publisher\n    kind: news report\n"
         "    reliability: B\n    credibility: 2\n")
WITH_ARCHIVE = BRIEF.replace("    credibility: 2\n", "    credibility: 2\n    archive: {archive}\n")


class Builds:
    """Counts the builds that ran the pipeline, as opposed to those the stamp stopped."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ran = 0
        real = pipeline.build

        def counted(*args: object, **kwargs: object) -> pipeline.BuildReport:
            self.ran += 1
            return real(*args, **kwargs)  # type: ignore[arg-type]
        monkeypatch.setattr(pipeline, "build", counted)


@pytest.fixture
def stamped(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> tuple[TmpProject, Builds]:
    """A built project whose last build found nothing to do and stamped it (files count
    as settled at once here; the settling time has its own test)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(stamp, "SETTLED", 0)
    project.write("alpha.yaml", BRIEF)
    assert project.run("--no-pdf", "-j", "1").code == 0
    builds = Builds(monkeypatch)
    assert project.run("--no-pdf", "-j", "1").out.startswith("nothing changed: 1 brief unchanged")
    assert (project.run("--no-pdf", "-j", "1").out.startswith("nothing changed: 1 brief unchanged")
            and builds.ran == 1), "the second build in which nothing changed used the stamp"
    return project, builds


def page(project: TmpProject) -> str:
    return (project.root / "site" / "briefs" / "alpha" / "index.html").read_text()


def test_a_build_after_one_that_changed_nothing_stops_before_loading_the_build(
        stamped: tuple[TmpProject, Builds]) -> None:
    project, _ = stamped
    script = ("import sys; from fieldbrief.cli import main; code = main(['--no-pdf', '-j', '1']); "
              "print(code, sorted(name for name in sys.modules if name in "
              "('fieldbrief.pipeline', 'fieldbrief.model', 'pydantic', 'jinja2', 'logging', "
              "'ctypes.util', 'subprocess')))")
    run = subprocess.run([sys.executable, "-c", script], cwd=project.root, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    lines = run.stdout.splitlines()
    assert lines[0].startswith("nothing changed: 1 brief unchanged, site/ untouched (")
    assert lines[-1] == "0 []", run.stderr


def test_the_stamp_repeats_the_warnings_of_the_build_it_stands_for(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamp, "SETTLED", 0)
    project.write("alpha.yaml", BRIEF.replace("summary: One paragraph of summary.\n",
                                              "summary: One [link](https://example.org) here.\n"))
    first = project.run("--no-pdf", "-j", "1")
    assert first.code == 0 and first.err, "the brief has a warning"
    builds = Builds(monkeypatch)
    runs = [project.run("--no-pdf", "-j", "1") for _ in range(2)]
    assert builds.ran == 1
    assert runs[0].err == runs[1].err == first.err
    assert runs[1].out.startswith("nothing changed: 1 brief unchanged, site/ untouched (")


def _same_size_edit_with_its_time_put_back(project: TmpProject) -> None:
    path = project.root / "briefs" / "alpha.yaml"
    before = path.stat()
    path.write_text(path.read_text().replace("Twelve", "Eleven"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


def _template_edited(project: TmpProject) -> None:
    template = project.root / "templates" / "base.html"
    template.write_text(template.read_text().replace("</footer>", "<p>Edited template.</p></footer>", 1))


def _linked_brief_target_edited(project: TmpProject) -> None:
    """(The brief is a link made before the stamp; see the fixture below.)"""
    target = project.root / "drafts-folder" / "alpha.yaml"
    target.write_text(target.read_text().replace("Twelve", "Eleven"))


def _settings_edited(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("title: Another desk\n")


def _page_deleted_by_hand(project: TmpProject) -> None:
    (project.root / "site" / "briefs" / "alpha" / "index.html").unlink()


CHANGES: dict[str, Callable[[TmpProject], None]] = {
    "same-size edit, time put back": _same_size_edit_with_its_time_put_back,
    "template edited": _template_edited,
    "settings edited": _settings_edited,
    "published page deleted": _page_deleted_by_hand,
}
SHOWN = {"same-size edit, time put back": "Eleven words of subtitle.",
         "template edited": "<p>Edited template.</p>", "settings edited": "Another desk",
         "published page deleted": "Twelve words of subtitle."}


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_after_a_stamp_is_built(stamped: tuple[TmpProject, Builds], change: str) -> None:
    project, builds = stamped
    CHANGES[change](project)
    run = project.run("--no-pdf", "-j", "1")
    assert run.code == 0 and builds.ran == 2, run.err
    assert SHOWN[change] in page(project)


@pytest.mark.parametrize("argv, environment", [
    (["--drafts"], {}), (["--restricted-out", "private"], {}), ([], {"SOURCE_DATE_EPOCH": "1767312000"}),
])
def test_other_options_are_not_covered_by_the_stamp(stamped: tuple[TmpProject, Builds],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    argv: list[str], environment: dict[str, str]) -> None:
    project, builds = stamped
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert project.run("--no-pdf", "-j", "1", *argv).code == 0
    assert builds.ran == 2


def test_a_new_or_removed_brief_is_built(stamped: tuple[TmpProject, Builds]) -> None:
    project, builds = stamped
    project.write("bravo.yaml", BRIEF.replace("id: alpha", "id: bravo"))
    assert "built 1 brief (HTML only), 1 unchanged" in project.run("--no-pdf", "-j", "1").out
    (project.root / "briefs" / "bravo.yaml").unlink()
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert builds.ran == 3 and not (project.root / "site" / "briefs" / "bravo").exists()


def test_an_archive_in_a_hidden_folder_of_sources_is_covered(project: TmpProject,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the project's own hidden top-level folders (.git, .fieldbrief) are passed
    over: below them, a hidden folder may hold an archive or an image."""
    monkeypatch.setattr(stamp, "SETTLED", 0)
    archive = project.root / "sources" / ".kept" / "source.txt"
    archive.parent.mkdir()
    archive.write_text("Twelve words of subtitle, said the source.\n")
    project.write("alpha.yaml", WITH_ARCHIVE.format(archive="sources/.kept/source.txt"))
    assert project.run("--no-pdf", "-j", "1").code == 0
    builds = Builds(monkeypatch)
    for _ in range(2):
        assert project.run("--no-pdf", "-j", "1").out.startswith("nothing changed")
    assert builds.ran == 1
    archive.write_text("Something else entirely.\n")
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert builds.ran == 2


def test_a_linked_brief_is_covered_through_its_target(project: TmpProject,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamp, "SETTLED", 0)
    (project.root / "drafts-folder").mkdir()
    (project.root / "drafts-folder" / "alpha.yaml").write_text(BRIEF)
    (project.root / "briefs" / "alpha.yaml").symlink_to(project.root / "drafts-folder" / "alpha.yaml")
    assert project.run("--no-pdf", "-j", "1").code == 0
    builds = Builds(monkeypatch)
    project.run("--no-pdf", "-j", "1")
    project.run("--no-pdf", "-j", "1")
    assert builds.ran == 1
    _linked_brief_target_edited(project)
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert builds.ran == 2 and "Eleven words of subtitle." in page(project)


def test_a_project_with_a_linked_folder_is_never_stamped(project: TmpProject,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """What is behind a linked folder could change unseen: every build runs in full."""
    monkeypatch.setattr(stamp, "SETTLED", 0)
    project.write("alpha.yaml", BRIEF)
    (project.root / "elsewhere").mkdir()
    (project.root / "notes").symlink_to(project.root / "elsewhere")
    builds = Builds(monkeypatch)
    for _ in range(3):
        assert project.run("--no-pdf", "-j", "1").code == 0
    assert builds.ran == 3
    assert not stamp.stamp_path(project.root, Path("site")).exists()


def test_files_changed_moments_before_a_build_are_not_stamped(project: TmpProject,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A file changed twice within a tick of the file system's clock can keep its times:
    no stamp vouches for files younger than the settling time."""
    project.write("alpha.yaml", BRIEF)
    builds = Builds(monkeypatch)
    for _ in range(3):
        assert project.run("--no-pdf", "-j", "1").code == 0
    assert builds.ran == 3
    assert not stamp.stamp_path(project.root, Path("site")).exists()


def test_a_build_that_changed_something_removes_the_stamp(stamped: tuple[TmpProject, Builds]) -> None:
    project, _ = stamped
    assert stamp.stamp_path(project.root, Path("site")).exists()
    _template_edited(project)
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert not stamp.stamp_path(project.root, Path("site")).exists()


NAMES = st.text(st.characters(codec="utf-8", exclude_characters="/\0"), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(NAMES.filter(lambda name: name not in (".", "..") and not name.startswith(".")),
                      min_size=1, max_size=6, unique=True),
       chosen=st.integers(min_value=0), change=st.sampled_from(["same size, time put back", "mode",
                                                               "renamed", "removed", "added beside"]))
def test_every_change_to_a_project_file_changes_the_scene(tmp_path_factory: pytest.TempPathFactory,
                                                          names: list[str], chosen: int,
                                                          change: str) -> None:
    """Whatever the files are called, any change to one of them is seen by the stamp."""
    root = tmp_path_factory.mktemp("scene")
    for name in names:
        (root / name).write_bytes(b"0123456789")
    target = root / names[chosen % len(names)]
    before = stamp.observe(root, ["build"], [], [])
    if change == "same size, time put back":
        times = target.stat()
        target.write_bytes(b"9876543210")
        os.utime(target, ns=(times.st_atime_ns, times.st_mtime_ns))
    elif change == "mode":
        target.chmod(0o600)
    elif change == "renamed":
        target.rename(root / ("~" * 13))  # longer than any generated name
    elif change == "removed":
        target.unlink()
    else:
        (root / ("~" * 13)).write_bytes(b"")
    assert stamp.observe(root, ["build"], [], []).digest != before.digest


# --- red team: what the stamp must see, or must not break --------------------------------


@pytest.mark.parametrize("folder", ["briefs/bravo.yaml", "site.yaml", "series/weekly.yaml"])
def test_an_empty_folder_named_like_an_input_after_a_stamp_is_refused(
        stamped: tuple[TmpProject, Builds], folder: str) -> None:
    """A folder where the build reads a file is refused at its name, even an empty one,
    which holds no file whose state a stamp would have seen."""
    project, _ = stamped
    (project.root / folder).mkdir()
    run = project.run("--no-pdf", "-j", "1")
    assert (run.code, run.err.splitlines()) == (1, [
        f"{folder}:1:1: refused: the file is not a regular file (a folder, device or pipe)",
        "error: 1 problem in 1 file; nothing was written"])


def test_a_stamp_that_cannot_be_written_leaves_the_build_as_it_went(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stamp only saves time: when it can be neither written nor removed (here a
    folder is in its place; so is a stamp in a .fieldbrief/ made read-only, once a file is
    touched) the build still succeeds, and leaves no half-written file behind."""
    monkeypatch.setattr(stamp, "SETTLED", 0)
    project.write("alpha.yaml", BRIEF)
    assert project.run("--no-pdf", "-j", "1").code == 0
    blocked = stamp.stamp_path(project.root, Path("site"))
    blocked.mkdir()
    (blocked / "kept").write_text("")
    run = project.run("--no-pdf", "-j", "1")
    assert (run.code, run.out.startswith("nothing changed: 1 brief unchanged, site/ untouched (")) == (0, True), run.err
    assert sorted(path.name for path in blocked.parent.iterdir()
                  if path.name.startswith(blocked.name)) == [blocked.name]


@pytest.mark.parametrize("content", [
    '{"format": 1, "scene": "0", "briefs": 1e999, "warnings": []}',  # a count too large for int
    "[" * 100_000,  # nested beyond what the JSON reader can follow
])
def test_a_damaged_stamp_is_passed_over(stamped: tuple[TmpProject, Builds], content: str) -> None:
    """A stamp is the project's own file, but one damaged (or copied from elsewhere) only
    makes the build run in full."""
    project, builds = stamped
    stamp.stamp_path(project.root, Path("site")).write_text(content)
    run = project.run("--no-pdf", "-j", "1")
    assert run.code == 0 and builds.ran == 2
    assert run.out.startswith("nothing changed: 1 brief unchanged, site/ untouched (")


def test_the_warnings_a_stamp_repeats_cannot_drive_the_terminal(stamped: tuple[TmpProject, Builds]) -> None:
    """They are written as every message is: controls shown as escapes."""
    project, builds = stamped
    path = stamp.stamp_path(project.root, Path("site"))
    content = json.loads(path.read_text())
    path.write_text(json.dumps({**content, "warnings": ["briefs/alpha.yaml:1:1: \x1b]0;title\x07"]}))
    run = project.run("--no-pdf", "-j", "1")
    assert builds.ran == 1 and run.err == "briefs/alpha.yaml:1:1: \\x1b]0;title\\x07\n"


def test_an_output_folder_that_now_leads_elsewhere_is_checked_again(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the output folders are (once links are followed) decides whether the build may
    write there at all, even when there is nothing in them yet."""
    monkeypatch.setattr(stamp, "SETTLED", 0)
    project.write("alpha.yaml", BRIEF)
    private = project.root.parent / "private"
    private.symlink_to(project.root.parent / "not-yet")
    argv = ("--no-pdf", "-j", "1", "--restricted-out", str(private))
    assert project.run(*argv).code == 0
    assert project.run(*argv).out.startswith("nothing changed")
    private.unlink()
    private.symlink_to(project.root / "briefs" / "private")
    run = project.run(*argv)
    assert (run.code, run.err) == (1, f"error: --restricted-out {private} lies inside briefs/ "
                                      "(the project's briefs); choose a folder outside it; "
                                      "nothing was written\n")


def test_a_brief_whose_chain_of_links_now_leads_outside_the_project_is_refused(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A link's hops may be where the stamp does not look (a hidden top-level folder), and
    its end may be the very same file seen from outside the project (a hard link): where
    the link leads is part of what the stamp sees."""
    monkeypatch.setattr(stamp, "SETTLED", 0)
    inside = project.root / "drafts" / "alpha.yaml"
    inside.parent.mkdir()
    inside.write_text(BRIEF)
    outside = project.root.parent / "alpha.yaml"
    os.link(inside, outside)
    hop = project.root / ".links" / "alpha.yaml"
    hop.parent.mkdir()
    hop.symlink_to(inside)
    (project.root / "briefs" / "alpha.yaml").symlink_to(hop)
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert project.run("--no-pdf", "-j", "1").out.startswith("nothing changed")
    hop.unlink()
    hop.symlink_to(outside)
    run = project.run("--no-pdf", "-j", "1")
    assert (run.code, run.err.splitlines()) == (1, [
        "briefs/alpha.yaml:1:1: refused: the file is a link to a file outside the project; "
        "fieldbrief reads only files inside the project folder",
        "error: 1 problem in 1 file; nothing was written"])


@pytest.mark.parametrize("name", [".venv", "node_modules"])
def test_a_linked_folder_where_no_input_is_read_does_not_stop_stamps(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """A top-level hidden folder or node_modules is passed over whether it is a folder or a
    link to one (a clone's node_modules linked to another's, a linked virtualenv)."""
    monkeypatch.setattr(stamp, "SETTLED", 0)
    project.write("alpha.yaml", BRIEF)
    (project.root.parent / "elsewhere").mkdir()
    (project.root / name).symlink_to(project.root.parent / "elsewhere")
    builds = Builds(monkeypatch)
    for _ in range(3):
        assert project.run("--no-pdf", "-j", "1").code == 0
    assert builds.ran == 2


@pytest.mark.parametrize("kind", ["pipe", "link"])
def test_a_stamp_that_is_not_a_regular_file_is_passed_over(project: TmpProject, kind: str) -> None:
    """A pipe in the stamp's place would block the build for ever; a link could lead
    outside the project (here to a pipe). Either only makes the build run in full."""
    project.write("alpha.yaml", BRIEF)
    assert project.run("--no-pdf", "-j", "1").code == 0
    path = stamp.stamp_path(project.root, Path("site"))
    if kind == "pipe":
        os.mkfifo(path)
    else:
        os.mkfifo(project.root.parent / "pipe")
        path.symlink_to(project.root.parent / "pipe")
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "--no-pdf", "-j", "1"],
                         cwd=project.root, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.stdout.startswith("nothing changed: 1 brief unchanged, site/ untouched ("), run.stderr


@pytest.mark.parametrize("state_file, outcome", [
    pytest.param(lambda root: stamp.manifest_path(root, Path("site")), "built 1 brief (HTML only) into site/",
                 id="the build records"),
    pytest.param(lambda root: stamp.manifest_path(root, Path("site")).with_suffix(".sealed"),
                 "nothing changed: 1 brief unchanged, site/ untouched", id="the record of the sealed site"),
    pytest.param(lambda root: root / "site" / ".fieldbrief-site", "built 1 brief (HTML only) into site/",
                 id="the site's marker"),
])
def test_a_pipe_in_place_of_a_file_the_build_keeps_never_hangs_it(project: TmpProject,
                                                                   state_file, outcome: str) -> None:
    """Its records and the site's marker are read like the stamp: a regular file or
    nothing (then the build runs in full; the seal only spares the gate reading)."""
    project.write("alpha.yaml", BRIEF)
    assert project.run("--no-pdf", "-j", "1").code == 0
    path = state_file(project.root)
    path.unlink()
    os.mkfifo(path)
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "--no-pdf", "-j", "1"],
                         cwd=project.root, capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0 and run.stdout.splitlines()[-1].startswith(outcome), run.stderr
