"""A build in which nothing changed, seen from its stamp: the next build with the same
options stops at once, before loading the build's modules, and every change to what a
build depends on (or has published) makes it build again."""

from __future__ import annotations

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
              "('fieldbrief.pipeline', 'fieldbrief.model', 'pydantic', 'jinja2')))")
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
