"""Locator maps' base layers kept between processes (fieldbrief/map_cache.py): a map drawn
from a kept layer is the very map drawn afresh; a layer is read only where it belongs,
only for the map it was kept for, and only when it is sound.

A new process is simulated by dropping the process's map maker (its decoded world and
layers). To show where a kept layer is read, the tests plant a well-formed layer whose
map names Mali "PLANTED": the control test shows it is used from the user's own cache
folder, the others that it is used from nowhere else."""

from __future__ import annotations

import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, Run, TmpProject
from fieldbrief import locator_map, map_cache, map_data, maps
from fieldbrief.i18n import localizer
from fieldbrief.locator_map import LayerKey, MapMaker, MapPlace, compose, layer_key
from fieldbrief.map_cache import BOXES_FILE, LayerCache, key_digest, layer_cache
from fieldbrief.map_data import load_world

BRIEF_PAGE = "site/briefs/valid-minimal/index.html"
NIGER_BRIEF = (REPO / "tests/briefs/valid_minimal.yaml").read_text().replace(
    "countries: [ML]", "countries: [NE]")
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each build in the test starts without the map maker of an earlier one."""
    monkeypatch.setattr(maps, "_maker", None)


@pytest.fixture
def kept(project: TmpProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         new_process: None) -> Path:
    """A project with one brief (a map of Mali) built once, its map's layer kept in a cache
    folder outside it: that layer's file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project.add("valid_minimal.yaml")
    assert fresh_build(project).code == 0
    [folder] = (tmp_path / "cache" / "fieldbrief" / "maps").iterdir()
    [entry] = [path for path in folder.iterdir() if path.name != BOXES_FILE]
    return entry


def fresh_build(project: TmpProject) -> Run:
    """Build the project's pages anew (no earlier site or build records), as a new process."""
    shutil.rmtree(project.root / "site", ignore_errors=True)
    for record in project.root.glob(".fieldbrief/build-*.json"):
        record.unlink()
    maps._maker = None  # noqa: SLF001 - restored by the new_process fixture
    map_cache._cache_in.cache_clear()  # noqa: SLF001 - and the layers it used
    return project.run("--no-pdf", "-j", "1")


def unread() -> None:
    raise AssertionError("the base data was read")


def page(project: TmpProject, path: str = BRIEF_PAGE) -> str:
    return (project.root / path).read_text(encoding="utf-8")


def map_words(project: TmpProject, path: str = BRIEF_PAGE) -> set[str]:
    """The words written on the page's map (its SVG parsed as XML, so it is well-formed)."""
    found = re.search(r'<svg class="locator-map-svg".*?</svg>', page(project, path), re.S)
    assert found, "no generated map on the page"
    return {text.text or "" for text in ET.fromstring(found.group(0)).iter(f"{SVG}text")}


def planted(entry: Path, change: Callable[[dict], None] | None = None) -> str:
    """The kept layer with Mali's name changed to 'Planted' (and ``change`` made): the text
    of a layer the build would use if it read it."""
    data = json.loads(entry.read_text())
    for outline in data["countries"]:
        if outline[0] == "ML":
            outline[1] = "Planted"
    if change:
        change(data)
    return json.dumps(data)


# --- the cache is used, and gives the same map --------------------------------------------

def test_a_new_build_draws_the_map_on_the_kept_layer_without_reading_the_base_data(
        project: TmpProject, kept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = page(project)
    monkeypatch.setattr(maps, "load_world", unread)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected


WITH_PLACE = (REPO / "tests/briefs/valid_minimal.yaml").read_text() + """\
places:
  - {id: bamako, name: Bamako, country: ML, coordinates: [12.65, -8.0]}
"""
PLACE_ADDED = WITH_PLACE + """\
  - {id: mopti, name: Mopti, country: ML, coordinates: [14.49, -4.19]}
"""


def test_a_place_added_inside_the_country_is_drawn_on_the_kept_layer_without_the_base_data(
        project: TmpProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        new_process: None) -> None:
    """The layer is named by the map's bounds (found from the kept countries' boxes), not
    by its places: a place within them draws on the same layer."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project.write("valid_minimal.yaml", WITH_PLACE)
    assert fresh_build(project).code == 0
    project.write("valid_minimal.yaml", PLACE_ADDED)
    with monkeypatch.context() as patch:
        patch.setattr(maps, "load_world", unread)
        result = fresh_build(project)
    assert result.code == 0, result.err
    assert {"Bamako", "Mopti"} <= map_words(project)
    on_kept_layer = page(project)
    shutil.rmtree(tmp_path / "cache")
    assert fresh_build(project).code == 0
    assert page(project) == on_kept_layer


@pytest.mark.parametrize("change", [b"", b'{"format": 2, "countries": {"ML": [0.0, 0.0, 1e9, 1.0]}}',
                                    b'{"format": 2, "countries": {"ML": [0, 0, 1, 1]}}'])
def test_countries_boxes_cut_short_or_out_of_range_are_not_used(
        project: TmpProject, kept: Path, change: bytes) -> None:
    expected = page(project)
    (kept.parent / BOXES_FILE).write_bytes(change)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected


def test_a_planted_layer_in_the_users_own_cache_folder_is_used(
        project: TmpProject, kept: Path) -> None:
    """The control for the tests below: a planted layer shows where the cache belongs."""
    entry_text = planted(kept)
    kept.write_text(entry_text)
    assert fresh_build(project).code == 0
    assert "PLANTED" in map_words(project)


COUNTRIES = ["ML", "BF", "NE", "NG", "FR", "NO", "FJ", "RU", "CL", "ID", "CD", "ZZ"]
PLACES = st.lists(st.builds(MapPlace, st.text("abcdé -", min_size=1, max_size=12),
                            st.floats(-40.0, 70.0), st.floats(-30.0, 60.0)), max_size=3)


_SHARED = MapMaker(load_world())


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> LayerCache:
    """A cache folder holding the countries' boxes (as a first map keeps them)."""
    cache = LayerCache(tmp_path_factory.mktemp("layers"))
    cache.put_main_boxes(_SHARED.all_main_boxes())
    return cache


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(COUNTRIES), min_size=1, max_size=3), PLACES,
       st.sampled_from(["en", "fr"]))
def test_a_map_on_a_kept_layer_is_byte_identical_to_one_drawn_by_a_new_map_maker(
        shared_cache: LayerCache, countries: list[str], places: list[MapPlace],
        language: str) -> None:
    """The layer is found from the countries' boxes read back from their file, without
    the base data; layers of every map drawn so far stay in one folder: a layer kept for
    another map is never taken for this one."""
    words = localizer(language)
    fresh = MapMaker(load_world()).draw(countries, places, words, ["unplaced"])
    boxes = LayerCache(shared_cache.folder).main_boxes()
    assert boxes is not None, "the boxes read back as sound"
    key = layer_key(boxes.get, countries, places)
    assert key == layer_key(_SHARED.main_box, countries, places)
    if key is None:
        assert fresh is None
        return
    if shared_cache.get(key) is None:
        shared_cache.put(key, _SHARED.layer(key))
    layer = LayerCache(shared_cache.folder).get(key)  # read from its file
    assert layer is not None, "every layer drawn reads back as sound"
    assert compose(layer, places, ("unplaced",), words) == fresh


def test_a_map_is_the_same_whichever_map_its_maker_drew_before() -> None:
    """The layer of bounds that round alike was drawn from the first map's bounds: the
    second map depended on which brief a worker happened to draw before it (and so
    differed between a full build and one that rebuilt only that brief)."""
    words = localizer("en")
    before = [MapPlace("A", 12.0, -8.0)]
    after = [MapPlace("A", 12.0, -8.003)]
    maker = MapMaker(load_world())
    maker.draw(["BF"], before, words)
    assert maker.draw(["BF"], after, words) == MapMaker(load_world()).draw(["BF"], after, words)


# --- a layer kept by other code, from other data, or for another map is not read -----------

@pytest.fixture
def other_base_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Base data in which Mali is named 'Mali Renamed', read as by a new process."""
    topology = json.loads(map_data.MAP_DATA_FILE.read_text())
    for geometry in topology["objects"]["countries"]["geometries"]:
        if geometry.get("properties", {}).get("name") == "Mali":
            geometry["properties"]["name"] = "Mali Renamed"
    changed = tmp_path / "countries-50m.json"
    changed.write_text(json.dumps(topology))
    monkeypatch.setattr(map_data, "MAP_DATA_FILE", changed)
    map_data.load_world.cache_clear()
    map_data.map_data_digest.cache_clear()
    yield
    map_data.load_world.cache_clear()
    map_data.map_data_digest.cache_clear()


def test_a_layer_kept_from_other_base_data_is_not_read(
        project: TmpProject, kept: Path, other_base_data: None) -> None:
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "MALI RENAMED" in map_words(project)


def test_a_layer_kept_by_other_code_is_not_read(
        project: TmpProject, kept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    kept.write_text(planted(kept))
    changed = tmp_path / "locator_map.py"
    changed.write_bytes(Path(locator_map.__file__).read_bytes() + b"# changed\n")
    monkeypatch.setattr(locator_map, "__file__", str(changed))
    map_cache._code_digest.cache_clear()  # noqa: SLF001 - as in a new process
    try:
        result = fresh_build(project)
        folder = layer_cache(project.root)
    finally:
        map_cache._code_digest.cache_clear()  # noqa: SLF001
    assert result.code == 0, result.err
    assert "MALI" in map_words(project)
    assert folder is not None and folder.folder != kept.parent


def test_a_layer_kept_for_the_same_country_with_other_places_is_not_read(
        project: TmpProject, kept: Path) -> None:
    """Mali's layer for a brief that also marks Dakar (a wider frame), put in the place of
    the layer of Mali alone."""
    expected = page(project)
    dakar = layer_key(_SHARED.main_box, ["ML"], [MapPlace("Dakar", 14.69, -17.45)])
    assert dakar is not None
    kept.write_text(json.dumps(map_cache.layer_to_json(_SHARED.layer(dakar), key_digest(dakar))))
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected


def key_without_places(countries: list[str]) -> LayerKey:
    key = layer_key(_SHARED.main_box, countries, [])
    assert key is not None
    return key


def test_a_layer_kept_for_another_country_is_not_read_even_if_it_says_it_is_for_this_one(
        project: TmpProject, kept: Path) -> None:
    """Mali's layer put in the place of Niger's, saying it was kept for Niger's map."""
    niger = key_digest(key_without_places(["NE"]))

    def claim(data: dict) -> None:
        data["key"] = niger

    (kept.parent / f"{niger}.json").write_text(planted(kept, claim))
    (project.root / "briefs/valid_minimal.yaml").unlink()
    project.write("niger.yaml", NIGER_BRIEF)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert 'id="country-NE" class="country highlighted"' in page(project)
    assert "PLANTED" not in map_words(project)


# --- an unsound or misplaced layer is ignored, and the right map drawn ----------------------

MARKUP = 'M0.0 0.0Z"/><script>alert(1)</script><path d="'


def outline_path_with_markup(data: dict) -> None:
    data["countries"][0][2] = MARKUP


def inset_with_markup(data: dict) -> None:
    data["inset_frame"] = MARKUP


def number_as_text(data: dict) -> None:
    data["projection"][2] = "1e9"


def not_a_number(data: dict) -> None:
    data["projection"][0] = float("nan")


def neighbour_not_on_the_map(data: dict) -> None:
    data["neighbours"].append("Atlantis")


def scale_zero(data: dict) -> None:
    data["projection"][2] = 0.0


def scale_below_a_float(data: dict) -> None:
    data["projection"][2] = 1e-310


def frame_beyond_the_globe(data: dict) -> None:
    data["projection"][3] = 1e308


@pytest.mark.parametrize("change", [outline_path_with_markup, inset_with_markup, number_as_text,
                                    not_a_number, neighbour_not_on_the_map, scale_zero,
                                    scale_below_a_float, frame_beyond_the_globe])
def test_a_planted_layer_not_in_the_form_of_a_drawn_one_is_ignored(
        project: TmpProject, kept: Path, change: Callable[[dict], None]) -> None:
    expected = page(project)
    kept.write_text(planted(kept, change))
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected
    assert "<script>" not in page(project)


def test_a_planted_name_with_markup_is_written_as_text(project: TmpProject, kept: Path) -> None:
    kept.write_text(planted(kept).replace('"Planted"', '"<b>Planted</b>"'))
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "<b>" not in page(project) and "&lt;B&gt;PLANTED&lt;/B&gt;" in page(project)


def test_a_build_whose_map_code_cannot_be_read_draws_its_map_without_the_cache(
        project: TmpProject, kept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache's folder is named by the map code's source: where it cannot be read (an
    unusual installation), no layer is kept or read, and the build goes on."""
    expected = page(project)
    kept.write_text(planted(kept))
    monkeypatch.setattr(locator_map, "__file__", str(tmp_path / "nowhere.py"))
    map_cache._code_digest.cache_clear()  # noqa: SLF001 - as in a new process
    try:
        result = fresh_build(project)
    finally:
        map_cache._code_digest.cache_clear()  # noqa: SLF001
    assert result.code == 0, result.err
    assert page(project) == expected


@pytest.mark.parametrize("cut", [0, 1, 1000])
def test_a_layer_cut_short_is_drawn_again_and_kept_anew(
        project: TmpProject, kept: Path, cut: int) -> None:
    expected, whole = page(project), kept.read_bytes()
    kept.write_bytes(whole[:cut])
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected
    assert kept.read_bytes() == whole


def test_a_layer_file_that_is_a_link_is_not_followed(
        project: TmpProject, kept: Path, tmp_path: Path) -> None:
    outside, text = tmp_path / "outside.json", planted(kept)
    outside.write_text(text)
    kept.unlink()
    kept.symlink_to(outside)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "MALI" in map_words(project) and "PLANTED" not in map_words(project)
    assert not kept.is_symlink(), "the link is replaced by the layer drawn anew"
    assert outside.read_text() == text, "nothing is written where it led"


def test_a_layer_file_with_a_second_name_is_not_read(
        project: TmpProject, kept: Path, tmp_path: Path) -> None:
    kept.write_text(planted(kept))
    os.link(kept, tmp_path / "second-name.json")
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "PLANTED" not in map_words(project)


def test_a_pipe_in_place_of_a_layer_does_not_hold_the_build(project: TmpProject, kept: Path) -> None:
    expected = page(project)
    kept.unlink()
    os.mkfifo(kept)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected


def test_a_layer_file_others_may_write_is_not_read(project: TmpProject, kept: Path) -> None:
    kept.write_text(planted(kept))
    kept.chmod(0o666)
    assert fresh_build(project).code == 0
    assert "PLANTED" not in map_words(project)


# --- the cache folder is used only where it belongs -----------------------------------------

def test_a_cache_folder_others_may_write_is_not_used(project: TmpProject, kept: Path) -> None:
    kept.write_text(planted(kept))
    kept.parent.chmod(0o777)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "PLANTED" not in map_words(project)


def test_a_cache_folder_that_is_a_link_is_not_used(
        project: TmpProject, kept: Path, tmp_path: Path) -> None:
    kept.write_text(planted(kept))
    elsewhere = tmp_path / "elsewhere"
    kept.parent.rename(elsewhere)
    kept.parent.symlink_to(elsewhere)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "PLANTED" not in map_words(project)


def test_a_cache_planted_in_the_project_is_never_read(
        project: TmpProject, kept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inside = project.root / ".cache"
    shutil.copytree(tmp_path / "cache", inside)
    copied = inside / kept.relative_to(tmp_path / "cache")
    copied.write_text(planted(kept))
    monkeypatch.setenv("XDG_CACHE_HOME", str(inside))
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert "PLANTED" not in map_words(project)
    assert copied.read_text() == planted(kept), "nothing written there either"
