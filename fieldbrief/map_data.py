"""Stage 4 helper, map base data: country boundaries in, decoded outlines out.

The locator maps are drawn from Natural Earth's 1:50m countries (public domain), as
the npm package ``world-atlas`` ships them in TopoJSON: boundaries are arcs shared by
the countries on either side, so a border is simplified once and both neighbours
keep the same line, and the arcs two countries share tell which countries are
neighbours. ``make map-data`` installs the pinned package (mapdata/package-lock.json)
and keeps only ``countries-50m.json`` and its licence; nothing is fetched at build time.

In: that file. Out: a :class:`World` of arcs in degrees and countries keyed by their
ISO 3166-1 alpha-2 code (territories without one by their Natural Earth name).
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

import pycountry

from fieldbrief.errors import BuildFailed
from fieldbrief.i18n import N_
from fieldbrief.incremental import digest
from fieldbrief.project import builtin_dir

MAP_DATA_DIR = builtin_dir("mapdata")  # in the wheel, or at the top of a clone
MAP_DATA_FILE = MAP_DATA_DIR / "countries-50m.json"
MAP_DATA_SOURCE = N_("Natural Earth 1:50m (public domain), via world-atlas 2.0.2 (ISC licence)")

Point = tuple[float, float]  # (longitude, latitude) in degrees
Box = tuple[float, float, float, float]  # (west, south, east, north) in degrees; east may pass 180
Ring = tuple[int, ...]  # arc indices; ~i is arc i reversed
WRAP_DEGREES = 90.0  # a step between two points of an arc longer than this may cross 180


@dataclass(frozen=True)
class Country:
    key: str  # ISO 3166-1 alpha-2 code, or the Natural Earth name of a territory without one
    name: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: its outer ring, then its holes


class Arcs:
    """The arcs in degrees, each decoded when first asked for: a map needs the few
    hundred arcs near its area, not the world's two thousand."""

    def __init__(self, quantised: list[list[list[int]]], transform: dict[str, list[float]]) -> None:
        self._quantised = quantised
        self._transform = transform
        self._decoded: dict[int, tuple[Point, ...]] = {}

    def __len__(self) -> int:
        return len(self._quantised)

    def __getitem__(self, index: int) -> tuple[Point, ...]:
        if index not in self._decoded:
            self._decoded[index] = _decode_arc(self._quantised[index], self._transform)
        return self._decoded[index]

    def box(self, index: int) -> Box:
        """The arc's box, as :func:`_box` of the decoded arc gives it, decoding only an arc
        with a step long enough to cross the antimeridian. Otherwise the box is taken from
        the smallest and largest quantised positions: turning them into degrees is the same
        arithmetic for every point, and never reverses an order, so it gives the same floats."""
        arc = self._quantised[index]
        (scale_x, scale_y), (origin_x, origin_y) = self._transform["scale"], self._transform["translate"]
        longest = WRAP_DEGREES / scale_x
        dxs, dys = zip(*arc)  # the first position, then the steps from each to the next
        if len(arc) > 1 and (max(dxs[1:]) > longest or min(dxs[1:]) < -longest):
            return _box(self[index])
        xs, ys = tuple(accumulate(dxs)), tuple(accumulate(dys))
        return (min(xs) * scale_x + origin_x, min(ys) * scale_y + origin_y,
                max(xs) * scale_x + origin_x, max(ys) * scale_y + origin_y)


@dataclass(frozen=True)
class World:
    arcs: Arcs
    arc_boxes: tuple[Box, ...]
    countries: dict[str, Country]


def missing_data_message() -> str:
    return (f"the map base data {MAP_DATA_FILE} is not installed; run `make map-data` "
            "(or set `map: none` in the brief)")


@cache
def load_world() -> World:
    """The base data, read once per process; its arcs are decoded as maps need them."""
    try:
        data = MAP_DATA_FILE.read_bytes()
    except FileNotFoundError:
        raise BuildFailed(missing_data_message()) from None
    with _collection_paused():
        topology = json.loads(data)
        arcs = Arcs(topology["arcs"], topology["transform"])
        boxes = tuple(arcs.box(index) for index in range(len(arcs)))
    countries = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = _country(geometry)
        if country is not None:
            countries.setdefault(country.key, country)
    return World(arcs, boxes, countries)


@contextmanager
def _collection_paused() -> Iterator[None]:
    """The garbage collector held while the file is parsed and measured: its eighty
    thousand small lists (which hold no cycles) would start a collection every few
    hundred, which took half of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@cache
def map_data_digest() -> str:
    """What the maps are drawn from, for the build's fingerprints ('missing' when absent)."""
    return digest(MAP_DATA_FILE.read_bytes()) if MAP_DATA_FILE.is_file() else "missing"


def _decode_arc(arc: list[list[int]], transform: dict[str, list[float]]) -> tuple[Point, ...]:
    """TopoJSON's quantised, delta-encoded positions as degrees."""
    (scale_x, scale_y), (origin_x, origin_y) = transform["scale"], transform["translate"]
    xs = [x * scale_x + origin_x for x in accumulate(step[0] for step in arc)]
    ys = [y * scale_y + origin_y for y in accumulate(step[1] for step in arc)]
    return tuple(zip(_unwrapped(xs), ys))


def _unwrapped(longitudes: list[float]) -> list[float]:
    """Longitudes without the jump at the antimeridian (179.9 then 180.1, not -179.9), so
    a line's box is where the line is (Fiji's, Chukotka's)."""
    shift = 0.0
    result = [longitudes[0]] if longitudes else []
    for previous, current in zip(longitudes, longitudes[1:]):
        if current - previous > 180:
            shift -= 360
        elif previous - current > 180:
            shift += 360
        result.append(current + shift)
    return result


def _box(points: tuple[Point, ...]) -> Box:
    longitudes = [p[0] for p in points]
    latitudes = [p[1] for p in points]
    return (min(longitudes), min(latitudes), max(longitudes), max(latitudes))


def _country(geometry: dict) -> Country | None:
    name = geometry.get("properties", {}).get("name", "")
    if geometry.get("type") == "Polygon":
        polygons = (geometry["arcs"],)
    elif geometry.get("type") == "MultiPolygon":
        polygons = geometry["arcs"]
    else:
        return None
    known = pycountry.countries.get(numeric=geometry["id"]) if "id" in geometry else None
    key = known.alpha_2 if known else name
    shaped = tuple(tuple(tuple(ring) for ring in polygon) for polygon in polygons)
    return Country(key, name, shaped)
