"""Each brief's rendering has a budget of time and memory (render_seconds and
render_memory_mib in site.yaml): past it, the build fails naming the brief, instead
of hanging or exhausting the machine."""

from __future__ import annotations

import resource

import pytest

from conftest import SCENARIOS, TmpProject
from fieldbrief import workers
from fieldbrief.budget import MIB


def brief_text(brief_id: str) -> str:
    return (SCENARIOS / "valid_minimal.yaml").read_text().replace("id: valid-minimal", f"id: {brief_id}")


def never_ending_layout(*args: object) -> dict[str, bytes]:
    while True:
        pass


def memory_hungry_layout(*args: object) -> dict[str, bytes]:
    blocks = []
    while True:
        blocks.append(bytearray(64 * MIB))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_render_past_its_time_fails_the_build_naming_the_brief(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    (project.root / "site.yaml").write_text("render_seconds: 1\n")
    project.write("a.yaml", brief_text("alpha"))
    project.write("b.yaml", brief_text("bravo"))
    monkeypatch.setattr(workers, "_render_brief", never_ending_layout)
    result = project.run("-j", jobs)
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
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


def use_bomb(levels: int = 11) -> str:
    """An SVG of 3 KB whose <use> elements expand to 10**levels rectangles."""
    groups = "".join(f'<g id="a{level}">' + f'<use xlink:href="#a{level - 1}"/>' * 10 + "</g>"
                     for level in range(1, levels + 1))
    return ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
            f'width="100" height="100"><defs><rect id="a0" width="1" height="1"/>{groups}</defs>'
            f'<use xlink:href="#a{levels}"/></svg>')


def test_an_svg_that_never_finishes_drawing_is_stopped_by_the_budget(project: TmpProject) -> None:
    """WeasyPrint catches every exception while it draws an SVG image; the budget still
    stops the render and fails the build."""
    (project.root / "site.yaml").write_text("render_seconds: 2\n")
    (project.root / "assets").mkdir()
    (project.root / "assets/bomb.svg").write_text(use_bomb())
    project.write("a.yaml", brief_text("alpha").replace(
        "summary: One paragraph of summary.\n",
        "summary: One paragraph of summary.\nmap:\n  image: assets/bomb.svg\n  alt: A map.\n"
        "  credit: Test desk\n"))
    result = project.run("-j", "1")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: 1 brief(s) failed to render: briefs/a.yaml: rendering took more than 2 s, its "
        "budget (render_seconds in site.yaml); nothing was written")
    assert not (project.root / "site").exists()
