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

import json
from dataclasses import dataclass
from functools import cache
from itertools import accumulate
from pathlib import Path

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


@dataclass(frozen=True)
class Country:
    key: str  # ISO 3166-1 alpha-2 code, or the Natural Earth name of a territory without one
    name: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: its outer ring, then its holes


@dataclass(frozen=True)
class World:
    arcs: tuple[tuple[Point, ...], ...]
    arc_boxes: tuple[Box, ...]
    countries: dict[str, Country]


def missing_data_message() -> str:
    return (f"the map base data {MAP_DATA_FILE} is not installed; run `make map-data` "
            "(or set `map: none` in the brief)")


@cache
def load_world() -> World:
    """The base data, decoded once per process."""
    try:
        topology = json.loads(MAP_DATA_FILE.read_bytes())
    except FileNotFoundError:
        raise BuildFailed(missing_data_message()) from None
    arcs = tuple(_decode_arc(arc, topology["transform"]) for arc in topology["arcs"])
    countries = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        country = _country(geometry)
        if country is not None:
            countries.setdefault(country.key, country)
    return World(arcs, tuple(_box(arc) for arc in arcs), countries)


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
