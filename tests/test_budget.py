"""Each brief's rendering has a budget of time and memory (render_seconds and
render_memory_mib in site.yaml): past it, the build fails naming the brief, instead
of hanging or exhausting the machine."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, TmpProject
from fieldbrief import workers
from fieldbrief.budget import MIB


def brief_text(brief_id: str) -> str:
    return (SCENARIOS / "valid_minimal.yaml").read_text().replace("id: valid-minimal", f"id: {brief_id}")


NEVER_ENDING_RENDER = textwrap.dedent("""
    # sitecustomize, loaded as the build starts: every brief's render never ends
    from fieldbrief import workers

    def never_ending_layout(*args):
        while True:
            pass

    workers._render_brief = never_ending_layout
""")


def memory_hungry_layout(*args: object) -> dict[str, bytes]:
    blocks = []
    while True:
        blocks.append(bytearray(64 * MIB))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_render_past_its_time_fails_the_build_naming_the_brief(
        project: TmpProject, tmp_path: Path, jobs: str) -> None:
    """The build runs in its own process, its render replaced as it starts: under pytest,
    threads left by other tests (the browser's) make the build start its workers from a
    fork server, which never sees a render replaced in the test's process."""
    (project.root / "site.yaml").write_text("render_seconds: 1\n")
    project.write("a.yaml", brief_text("alpha"))
    project.write("b.yaml", brief_text("bravo"))
    (tmp_path / "sitecustomize.py").write_text(NEVER_ENDING_RENDER)
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "-j", jobs], cwd=project.root,
                            capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"})
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: 2 brief(s) failed to render: briefs/a.yaml: rendering took more than 1 s, its "
        "budget (render_seconds in site.yaml); briefs/b.yaml: rendering took more than 1 s, its "
        "budget (render_seconds in site.yaml); nothing was written")
    assert not (project.root / "site").exists()


def test_a_render_past_its_memory_fails_the_build_naming_the_brief(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    (project.root / "site.yaml").write_text("render_memory_mib: 256\n")
    project.write("a.yaml", brief_text("alpha"))
    limits_before = resource.getrlimit(resource.RLIMIT_DATA)
    monkeypatch.setattr(workers, "_render_brief", memory_hungry_layout)
    result = project.run("-j", "1")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: 1 brief(s) failed to render: briefs/a.yaml: rendering needed more than 256 MiB, "
        "its budget (render_memory_mib in site.yaml); nothing was written")
    assert resource.getrlimit(resource.RLIMIT_DATA) == limits_before
    assert not (project.root / "site").exists()


def test_budgets_are_checked_in_site_yaml(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("render_seconds: 0\nrender_memory_mib: 10\n")
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[:2] == [
        "site.yaml:1:17: render_seconds: Input should be greater than or equal to 1",
        "site.yaml:2:20: render_memory_mib: Input should be greater than or equal to 256",
    ]



def long_timeline(entries: int) -> str:
    """The minimal brief with a long timeline: seconds of real layout in the PDF."""
    lines = "".join(f"  - date: 2026-01-{1 + number % 28:02d}\n    text: Event number {number} "
                    "on the road between two towns, as the source reports it.\n"
                    "    sources: [only-source]\n" for number in range(entries))
    text = brief_text("alpha")
    assert "\ntimeline:" not in text
    return text.replace("\nsources:", f"\ntimeline:\n{lines}sources:", 1)


def test_a_layout_past_its_time_is_stopped_inside_weasyprint(project: TmpProject) -> None:
    """A real render, stopped by the budget in the middle of WeasyPrint's layout (which
    catches some exceptions on its own, e.g. while drawing an SVG image)."""
    (project.root / "site.yaml").write_text("render_seconds: 1\n")
    project.write("a.yaml", long_timeline(500))
    assert project.run("check").code == 0
    result = project.run("-j", "1")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: 1 brief(s) failed to render: briefs/a.yaml: rendering took more than 1 s, its "
        "budget (render_seconds in site.yaml); nothing was written")
    assert not (project.root / "site").exists()


FINALISERS_UNDER_A_BUDGET = textwrap.dedent("""
    from fieldbrief.budget import budget
    from fieldbrief.errors import BuildFailed

    class Faulty:
        def __del__(self):
            raise ValueError("a finaliser's own error")

    class Slow:
        def __del__(self):
            while True:
                pass

    try:
        with budget("briefs/a.yaml", 1, 1024):
            Faulty()
            Slow()  # its finaliser runs at once and is interrupted there
            while True:
                pass
    except BuildFailed as failure:
        print(failure)
""")


def test_a_time_out_inside_a_finaliser_prints_no_traceback() -> None:
    """Python cannot raise out of a finaliser: an interruption landing there went to
    sys.unraisablehook, which printed a traceback to the user (and under pytest, a
    second interruption inside pytest's hook failed the test run)."""
    result = subprocess.run([sys.executable, "-c", FINALISERS_UNDER_A_BUDGET], capture_output=True,
                            text=True, timeout=60, cwd=REPO)
    assert result.stdout == ("briefs/a.yaml: rendering took more than 1 s, its budget "
                             "(render_seconds in site.yaml)\n")
    assert "_OutOfTime" not in result.stderr
    assert "ValueError: a finaliser's own error" in result.stderr  # others are still shown
