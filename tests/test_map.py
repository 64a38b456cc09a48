"""The generated locator map: what the SVG shows, where its labels go, where it appears
(page, PDF, country pages), when it is left out, and that drawing it needs no network."""

from __future__ import annotations

import itertools
import math
import re
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PageObject, PdfReader

from conftest import REPO, TmpProject, pdf_pages_text
from fieldbrief import map_data, maps
from fieldbrief.i18n import localizer
from fieldbrief.locator_map import MapMaker, MapPlace, overlaps, text_box
from fieldbrief.map_data import load_world

SVG = "{http://www.w3.org/2000/svg}"
CROWDED = "map_crowded_two_countries.yaml"
CROWDED_PLACES = ["Ouagadougou", "Tanghin", "Pissy", "Saaba", "Bobo-Dioulasso", "Dori",
                  "Fada N'Gourma", "Niamey", "Tillabéri", "Dosso", "Zinder", "Agadez"]
MALI_NEIGHBOURS = ["ALGERIA", "BURKINA FASO", "CÔTE D'IVOIRE", "GUINEA", "MAURITANIA", "NIGER",
                   "SENEGAL"]


def page_svg(page: Path) -> ET.Element:
    """The map's SVG in a built page, parsed as XML (so it is well-formed)."""
    found = re.search(r'<svg class="locator-map-svg".*?</svg>', page.read_text(), re.S)
    assert found, f"no generated map in {page}"
    return ET.fromstring(found.group(0))


def label_boxes(svg: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each label's text and box, computed from how the SVG draws it."""
    return [(text.text or "", text_box(text.text or "", float(text.get("x", 0)),
                                       float(text.get("y", 0)), text.get("text-anchor", "start"),
                                       float(text.get("font-size", 0))))
            for text in svg.iter(f"{SVG}text")
            if text.get("class", "").startswith(("place-name", "country-name"))]


def assert_no_overlap(boxes: list[tuple[str, tuple[float, float, float, float]]]) -> None:
    for (first, a), (second, b) in itertools.combinations(boxes, 2):
        assert not overlaps(a, b), f"the labels {first!r} and {second!r} overlap"


@pytest.fixture(scope="module")
def crowded_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crowded") / "project"
    root.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = TmpProject(root)
        project.add(CROWDED)
        result = project.run("--jobs", "1")
    assert result.code == 0, result.err
    return root / "site"


def test_crowded_brief_map_shows_both_countries_their_neighbours_and_every_place(
        crowded_site: Path) -> None:
    svg = page_svg(crowded_site / "briefs/map-crowded-two-countries/index.html")
    highlighted = {path.get("id") for path in svg.iter(f"{SVG}path")
                   if "highlighted" in path.get("class", "")}
    assert highlighted == {"country-BF", "country-NE"}
    assert len([c for c in svg.iter(f"{SVG}circle") if c.get("class") == "marker"]) == 12
    names = {text.text for text in svg.iter(f"{SVG}text")}
    assert {"BURKINA FASO", "NIGER", "MALI", "NIGERIA", "BENIN", "ALGERIA"} <= names
    page = (crowded_site / "briefs/map-crowded-two-countries/index.html").read_text()
    key = re.findall(r'<li value="(\d+)">([^<]*)</li>', page)
    labelled = names | {name.replace("&#39;", "'") for _, name in key}
    assert set(CROWDED_PLACES) <= labelled, "each place is named on the map or in its key"


def test_crowded_brief_map_labels_do_not_overlap(crowded_site: Path) -> None:
    svg = page_svg(crowded_site / "briefs/map-crowded-two-countries/index.html")
    boxes = label_boxes(svg)
    assert len(boxes) >= 12 + 2
    assert_no_overlap(boxes)


def test_crowded_brief_lists_the_place_without_coordinates_as_not_shown(crowded_site: Path) -> None:
    page = (crowded_site / "briefs/map-crowded-two-countries/index.html").read_text()
    assert ('<p class="map-not-shown">Not shown: no position in the sources — '
            'Displacement camp (not located).</p>') in page


def test_crowded_brief_pdf_has_the_map_as_vector_paths_with_place_names_on_page_one(
        crowded_site: Path) -> None:
    pdf = crowded_site / "briefs/map-crowded-two-countries/map-crowded-two-countries.pdf"
    first = pdf_pages_text(pdf)[0]
    for name in CROWDED_PLACES:
        assert name in first, f"{name} is not in the text of page 1"
    assert_map_drawn_as_vectors(PdfReader(pdf).pages[0])


def assert_map_drawn_as_vectors(page: PageObject) -> None:
    """The page draws the map's outlines as vector paths and holds no raster image."""
    drawing = page.get_contents().get_data()
    forms = [xobject.get_object() for xobject in page["/Resources"].get("/XObject", {}).values()]
    drawing += b"".join(form.get_data() for form in forms if form.get("/Subtype") == "/Form")
    assert len(re.findall(rb"[\d.]+ [\d.]+ l\b", drawing)) > 500, "the outlines are vector paths"
    assert b"/Image" not in b"".join(str(f.get("/Subtype")).encode() for f in forms), \
        "no raster image on page 1"


def printed_sizes(page: PageObject) -> dict[str, float]:
    """Each run of text on the page and its type size in points as printed (the size
    set by Tf scaled by the text and drawing matrices, as pypdf hands them over)."""
    sizes: dict[str, float] = {}

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        x = tm[2] * cm[0] + tm[3] * cm[2]
        y = tm[2] * cm[1] + tm[3] * cm[3]
        if text.strip():
            sizes.setdefault(text.strip(), size * math.hypot(x, y))

    page.extract_text(visitor_text=visit)
    return sizes


def test_crowded_brief_pdf_prints_place_labels_at_six_and_a_half_points_or_more(
        crowded_site: Path) -> None:
    pdf = crowded_site / "briefs/map-crowded-two-countries/map-crowded-two-countries.pdf"
    sizes = printed_sizes(PdfReader(pdf).pages[0])
    small = {name: round(sizes[name], 2) for name in CROWDED_PLACES if sizes[name] < 6.5}
    assert small == {}, "place labels smaller than 6.5 pt on paper"


def test_mali_pdf_has_the_map_beside_the_key_figures_on_page_one(example_site: Path) -> None:
    pdf = example_site / "briefs/mali-jnim-attacks/mali-jnim-attacks.pdf"
    first, second = pdf_pages_text(pdf)[:2]
    assert "Key figures" in first
    for name in ("MALI", "MAURITANIA", "SENEGAL", "Map of Mali, with Algeria"):
        assert name in first, f"{name} is not in the text of page 1"
    assert "Map of Mali" not in second
    assert_map_drawn_as_vectors(PdfReader(pdf).pages[0])


def test_country_page_maps_the_places_published_briefs_locate_in_that_country(
        crowded_site: Path) -> None:
    svg = page_svg(crowded_site / "countries/ne/index.html")
    assert {p.get("id") for p in svg.iter(f"{SVG}path") if "highlighted" in p.get("class", "")} \
        == {"country-NE"}
    names = {text.text for text in svg.iter(f"{SVG}text")}
    assert {"Niamey", "Tillabéri", "Dosso", "Zinder", "Agadez"} <= names
    assert "Ouagadougou" not in names, "a place in Burkina Faso is not on Niger's page"
    assert_no_overlap(label_boxes(svg))


def test_mali_brief_without_positions_gets_mali_and_its_seven_neighbours_and_the_not_shown_list(
        example_site: Path) -> None:
    page = example_site / "briefs/mali-jnim-attacks/index.html"
    svg = page_svg(page)
    assert [p.get("id") for p in svg.iter(f"{SVG}path") if "highlighted" in p.get("class", "")] \
        == ["country-ML"]
    assert not [c for c in svg.iter(f"{SVG}circle")], "no place has a position"
    names = {text.text for text in svg.iter(f"{SVG}text")}
    assert {"MALI", *MALI_NEIGHBOURS} <= names
    text = page.read_text()
    assert ('<p class="map-not-shown">Not shown: no position in the sources — Binoli, Kayes, '
            'Sandere, Locations near the Mauritania frontier (not named), Timbuktu.</p>') in text
    assert ("Map of Mali, with Algeria, Burkina Faso, Côte d&#39;Ivoire, Guinea, Mauritania, "
            "Niger, Senegal.") in text
    assert "do not imply official endorsement or acceptance" in text


def test_exercise_brief_keeps_its_own_map_and_gets_no_generated_one(example_site: Path) -> None:
    page = (example_site / "briefs/exercise-river-delta-floods/index.html").read_text()
    assert "locator-map" not in page
    assert '<img src="image-velande-delta-exercise.svg"' in page or "<img src=" in page
    assert "locator-map" not in (example_site / "countries/zz/index.html").read_text()


MAP_OFF = (REPO / "tests/briefs/valid_minimal.yaml").read_text().replace(
    "summary: One paragraph of summary.\n", "summary: One paragraph of summary.\nmap: none\n")


def test_map_none_turns_the_generated_map_off(project: TmpProject) -> None:
    project.write("off.yaml", MAP_OFF)
    assert project.run("--no-pdf").code == 0
    page = (project.root / "site/briefs/valid-minimal/index.html").read_text()
    assert "locator-map" not in page and 'href="#map"' not in page


def test_map_given_as_other_text_is_refused_naming_the_choices(project: TmpProject) -> None:
    project.write("off.yaml", MAP_OFF.replace("map: none", "map: off"))
    result = project.run("--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[0] == "briefs/off.yaml:11:6: map: off is not allowed; use one of 'none'"


def test_brief_without_map_field_gets_the_generated_map_listed_in_its_contents(
        project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    assert project.run("--no-pdf").code == 0
    page = (project.root / "site/briefs/valid-minimal/index.html").read_text()
    assert '<li><a href="#map">Map</a></li>' in page
    assert 'id="country-ML"' in page


def test_build_with_a_map_makes_no_network_request(project: TmpProject,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[object] = []

    def record(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network access is not allowed in this test")

    monkeypatch.setattr(socket.socket, "connect", record)
    monkeypatch.setattr(socket.socket, "connect_ex", record)
    project.add(CROWDED)
    result = project.run("--jobs", "1")
    assert result.code == 0, result.err
    assert attempts == []
    assert "locator-map" in (project.root / "site/briefs/map-crowded-two-countries/index.html").read_text()


def test_missing_base_data_fails_the_build_with_how_to_install_it(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere/countries-50m.json"
    monkeypatch.setattr(map_data, "MAP_DATA_FILE", missing)
    monkeypatch.setattr(maps, "_maker", None)
    map_data.load_world.cache_clear()
    map_data.map_data_digest.cache_clear()  # as in a new process: no layer kept for it is read
    try:
        project.add("valid_minimal.yaml")
        result = project.run("--no-pdf", "--jobs", "1")
    finally:
        map_data.load_world.cache_clear()
        map_data.map_data_digest.cache_clear()
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: 1 brief(s) failed to render: the map base data {missing} is not installed; "
        "run `make map-data` (or set `map: none` in the brief); nothing was written")


LATITUDES = st.floats(11.0, 15.0)
LONGITUDES = st.floats(-5.0, 2.0)
NAMES = st.text(st.characters(codec="utf-8", categories=["L", "Zs"]), min_size=1, max_size=24)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(NAMES, LATITUDES, LONGITUDES), min_size=1, max_size=25))
@example([("A", 13.97265625, 0.0), ("A", 14.197265625, 0.0)])  # just clear, till written to 0.1
def test_labels_never_overlap_however_crowded_the_places(places: list[tuple[str, float, float]]) -> None:
    drawn = _maker().draw(["BF"], [MapPlace(name, lat, lon) for name, lat, lon in places], localizer("en"))
    assert drawn is not None
    svg = ET.fromstring(str(drawn.svg))
    assert_no_overlap(label_boxes(svg))
    shown = {text.text for text in svg.iter(f"{SVG}text")}
    keyed = {name for _, name in drawn.key}
    numbered = len([t for t in svg.iter(f"{SVG}text") if "number" in t.get("class", "")])
    assert numbered <= len(drawn.key)
    assert all(name in shown or name in keyed for name, _, _ in places)


_MAKER: list[MapMaker] = []


def _maker() -> MapMaker:
    if not _MAKER:
        _MAKER.append(MapMaker(load_world()))
    return _MAKER[0]


GAZETTEER_BRIEF = (REPO / "tests/briefs/valid_minimal.yaml").read_text() + """\
places:
  - {id: kayes, name: Kayes, country: ML, locate: gazetteer}
  - {id: timbuktu, name: Tombuctu, also_known_as: [Tombouctou], country: ML, locate: gazetteer}
  - {id: binoli, name: Binoli, country: ML, locate: gazetteer}
  - {id: sandere, name: Sandere, country: ML}
"""


def test_places_that_ask_for_the_gazetteer_are_marked_where_it_puts_them_and_say_so(
        project: TmpProject) -> None:
    project.write("gazetteer.yaml", GAZETTEER_BRIEF)
    result = project.run("--no-pdf")
    assert result.code == 0, result.err
    page = project.root / "site/briefs/valid-minimal/index.html"
    svg = page_svg(page)
    assert [c.get("class") for c in svg.iter(f"{SVG}circle")] == ["marker gazetteer"] * 2
    assert {"Kayes", "Tombuctu"} <= {text.text for text in svg.iter(f"{SVG}text")}
    text = " ".join(page.read_text().split())
    assert ("Places marked: Kayes (position from GeoNames, not from the sources); "
            "Tombuctu (position from GeoNames, not from the sources).") in text
    assert '<p class="map-gazetteer">Hollow markers: position from GeoNames, not from the sources.</p>' in text
    assert ('<p class="map-not-shown">Not shown: no position in the sources — Binoli, Sandere.</p>'
            in text), "a name the gazetteer does not know, and a place that did not ask"


def test_locate_beside_coordinates_is_refused(project: TmpProject) -> None:
    project.write("both.yaml", (REPO / "tests/briefs/valid_minimal.yaml").read_text() + (
        "places:\n  - {id: kayes, name: Kayes, country: ML, coordinates: [14.45, -11.44], "
        "locate: gazetteer}\n"))
    result = project.run("--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "briefs/both.yaml:24:81: places[0].locate: remove 'locate': the place has coordinates "
        "from the sources, and the map uses them")


@pytest.mark.parametrize("pair, problems", [
    ("[true, false]", ["24:57: places[0].coordinates[0]: a number is expected, not a yes/no value "
                       "(read as true)",
                       "24:63: places[0].coordinates[1]: a number is expected, not a yes/no value "
                       "(read as false)"]),
    ("[yes, 0]", ["24:57: places[0].coordinates[0]: a number is expected, not a yes/no value "
                  "(read as true)"]),
    ("[.nan, 0]", ["24:57: places[0].coordinates[0]: a coordinate is a finite number of degrees, "
                   "not .nan"]),
    ("[0, -.inf]", ["24:60: places[0].coordinates[1]: a coordinate is a finite number of degrees, "
                    "not -.inf"]),
])
def test_coordinates_that_are_not_finite_numbers_are_refused(
        project: TmpProject, pair: str, problems: list[str]) -> None:
    """Lax validation placed true/false at 1 and 0 degrees, and refused .nan as 'less than
    or equal to 90'."""
    project.write("p.yaml", (REPO / "tests/briefs/valid_minimal.yaml").read_text() + (
        f"places:\n  - {{id: kayes, name: Kayes, country: ML, coordinates: {pair}}}\n"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[:-1] == [f"briefs/p.yaml:{problem}" for problem in problems]


@pytest.mark.parametrize("code, centre", [("FJ", "17.1° S, 178.2° E"), ("RU", "61.5° N, 101.1° E")])
def test_a_country_across_the_antimeridian_is_mapped_where_it_is(code: str, centre: str) -> None:
    drawn = _maker().draw([code], [], localizer("en"))
    assert drawn is not None
    assert drawn.centre == centre
    svg = ET.fromstring(str(drawn.svg))
    assert f"country-{code}" in {p.get("id") for p in svg.iter(f"{SVG}path")}


def test_every_arcs_box_is_the_box_of_its_decoded_points() -> None:
    """Boxes are found from the quantised positions, without decoding most arcs: they must
    be the very floats the decoded points give (a map leaves out the countries whose boxes
    miss its frame), antimeridian arcs included."""
    world = map_data.load_world()
    assert world.arc_boxes == tuple(map_data._box(world.arcs[index])  # noqa: SLF001
                                    for index in range(len(world.arcs)))
    assert any(box[2] > 180 for box in world.arc_boxes)
