"""Images in the PDF: a map that fails to load, or loads what it may not, fails the
build (WeasyPrint would only log it and ship the PDF without the map); an SVG that
exceeds the structural bounds of fieldbrief.images is refused before WeasyPrint sees it.
"""

from __future__ import annotations

import pytest

from conftest import SCENARIOS, TmpProject
from fieldbrief.images import MAX_DRAWN_ELEMENTS, svg_problem

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="64" height="64">{}</svg>'
MAP = """map:
  image: assets/maps/{}
  alt: A map.
  credit: Test desk
"""


def use_bomb(levels: int, fan: int = 10) -> str:
    """Each level's group uses the level below ``fan`` times: fan ** levels circles."""
    groups = "".join(f'<g id="l{level}">' + f'<use xlink:href="#l{level - 1}"/>' * fan + "</g>"
                     for level in range(1, levels + 1))
    return SVG.format(f'<defs><circle id="l0" r="1"/>{groups}</defs><use href="#l{levels}"/>')


def _with_map(project: TmpProject, name: str, svg: str) -> None:
    (project.root / "assets/maps").mkdir(parents=True)
    (project.root / "assets/maps" / name).write_text(svg)
    project.write("mapped.yaml", (SCENARIOS / "valid_minimal.yaml").read_text() + MAP.format(name))


def _assert_failed_and_nothing_published(project: TmpProject, result, message: str) -> None:
    assert result.code == 1
    assert result.err == (f"error: 1 brief(s) failed to render: briefs/mapped.yaml: {message}; "
                          "nothing was written\n")
    assert not (project.root / "site").exists()


def test_map_svg_loading_a_file_outside_the_project_or_a_url_not_allowed_fails_the_build(
        project: TmpProject) -> None:
    _with_map(project, "leaky.svg", SVG.format(
        '<image href="../../../../../../../../etc/hostname" width="9" height="9"/>'
        '<image xlink:href="http://127.0.0.1:9/tile.png" width="9" height="9"/>'))
    result = project.run()
    _assert_failed_and_nothing_published(project, result, (
        "the PDF may only load files from the project's styles/, templates/ and assets/ "
        "folders, and URLs on hosts listed in allowed_hosts; refused file:///etc/hostname, "
        "http://127.0.0.1:9/tile.png"))


def test_map_svg_with_an_image_that_fails_to_load_fails_the_build(project: TmpProject) -> None:
    _with_map(project, "broken.svg", SVG.format('<image href="missing.png" width="9" height="9"/>'))
    result = project.run()
    missing = project.root / "assets/maps/missing.png"
    _assert_failed_and_nothing_published(project, result, (
        f'Error fetching "{missing.as_uri()}": '
        f"<urlopen error [Errno 2] No such file or directory: '{missing}'>"))


def test_map_that_is_not_an_image_fails_the_build(project: TmpProject) -> None:
    _with_map(project, "broken.svg", SVG.format('<image href="broken.png" width="9" height="9"/>'))
    (project.root / "assets/maps/broken.png").write_bytes(b"not a PNG at all")
    result = project.run()
    broken = project.root / "assets/maps/broken.png"
    _assert_failed_and_nothing_published(project, result, (
        f"the PDF failed to render: Failed to load image at '{broken.as_uri()}'"))


def test_map_svg_use_bomb_is_refused_before_rendering(project: TmpProject) -> None:
    bomb = use_bomb(9)
    assert len(bomb) < 2500, "a small file asking for a billion circles"
    _with_map(project, "bomb.svg", bomb)
    result = project.run()  # check, which every build runs first, refuses it at map.image
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"briefs/mapped.yaml:24:10: map.image: the SVG draws more than {MAX_DRAWN_ELEMENTS} "
        "elements once its <use> references are expanded")
    assert not (project.root / "site").exists()


def test_svg_use_bomb_drawn_by_a_map_svg_is_refused_before_rendering(project: TmpProject) -> None:
    """A map that passes check but draws the bomb as an image: the fetcher refuses it."""
    _with_map(project, "outer.svg", SVG.format('<image href="bomb.svg" width="10" height="10"/>'))
    (project.root / "assets/maps/bomb.svg").write_text(use_bomb(9))
    assert project.run("check").code == 0
    result = project.run()
    _assert_failed_and_nothing_published(project, result, (
        f"assets/maps/bomb.svg: the SVG draws more than {MAX_DRAWN_ELEMENTS} "
        "elements once its <use> references are expanded"))


@pytest.mark.parametrize(("svg", "problem"), [
    (use_bomb(9), f"the SVG draws more than {MAX_DRAWN_ELEMENTS} elements once its <use> "
                  "references are expanded"),
    (use_bomb(12, fan=1), "the SVG nests <use> references more than 8 deep"),
    ('<!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><svg>&b;</svg>',
     "an SVG may not have a DOCTYPE (its entities could expand without bound)"),
    ('<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd"><svg/>',
     "an SVG may not have a DOCTYPE (its entities could expand without bound)"),
    (SVG.format('<g id="a"><use href="#b"/></g><g id="b"><use href="#a"/></g>'),
     "the SVG's <use> references form a cycle through #b"),
    (SVG.format('<use href="other.svg#shape"/>'),
     "a <use> may only copy an element of the same SVG (#id), not 'other.svg#shape'"),
    (SVG.format("<g>" * 101 + "</g>" * 101), "the SVG nests elements more than 100 deep"),
    (SVG.format("<circle r='1'/>" * MAX_DRAWN_ELEMENTS), f"the SVG has more than {MAX_DRAWN_ELEMENTS} elements"),
])
def test_svg_beyond_a_structural_bound_is_refused(svg: str, problem: str) -> None:
    assert svg_problem(svg.encode()) == problem


@pytest.mark.parametrize("data", [
    use_bomb(3).encode(),  # 1,000 circles
    (SCENARIOS.parent.parent / "assets/maps/velande-delta-exercise.svg").read_bytes(),
    b"\x89PNG\r\n\x1a\n",  # not XML: not an SVG
    SVG.format('<g id="a"/><use href="#a"/><use href="#nowhere"/>').encode(),
])
def test_svg_within_bounds_or_not_svg_passes(data: bytes) -> None:
    assert svg_problem(data) is None
