"""Stage 4 helper, locator map: countries and located places in, an SVG map out.

Pure: it is handed the decoded base data (:mod:`fieldbrief.map_data`) and reads no
file. The map is drawn in a Lambert azimuthal equal-area projection centred on the
area shown: on the few thousand kilometres a locator map spans it keeps areas true
and shapes and distances within a few per cent, so one scale bar holds across the
map, and its formulas are a dozen lines (no projection library to install).

The brief's countries are highlighted, the countries sharing a border with them are
drawn and named, the others in the frame drawn plain; each place with coordinates
gets a marker and a label placed where it overlaps no other label, marker or name
(beside the marker, further out with a lead line, or as a number with a key). A
small inset shows the area within its continent. Projected, simplified outlines are
cached per set of countries (see :class:`MapMaker`).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from fieldbrief.i18n import HEMISPHERES, N_, Localizer
from fieldbrief.map_data import Box, Country, Point, Ring, World

EARTH_RADIUS = 6_371_008.8  # metres, the mean radius
METRES_PER_DEGREE = EARTH_RADIUS * math.pi / 180
WIDTH, MAP_HEIGHT, STRIP = 640.0, 400.0, 96.0  # the map, and the strip under it (scale, inset)
HEIGHT = MAP_HEIGHT + STRIP
INSET = (WIDTH - 170.0, MAP_HEIGHT + 8.0, 162.0, STRIP - 14.0)  # x, y, width, height
INSET_RADIUS = 3_200_000.0  # metres from the centre the inset shows at least
PAD = 0.07  # of the area's size, around it
TOLERANCE = 0.6  # in map units (a 640th of the width): finer detail is not drawn
PLACE_SIZE, COUNTRY_SIZE, MARKER_RADIUS = 11.5, 12.0, 3.5
MAX_LAYERS = 64  # base layers a map maker keeps (about 50 KB each)
INSET_DEGREES = 0.1  # detail finer than this is lost in the inset anyway
NEAR_MAIN_DEGREES = 15.0  # parts of a country further from its largest part are left out
FONT = "DejaVu Sans, Noto Sans, Liberation Sans, Arial, sans-serif"
DISCLAIMER = N_("The boundaries and names shown and the designations used on this map do not "
                "imply official endorsement or acceptance by its publisher.")
TITLE = N_("Locator map")
SCALE_NOTE = N_("Scale at the centre of the map; Lambert azimuthal equal-area projection")
KILOMETRES, METRES = N_("%(distance)s km"), N_("%(distance)s m")


@dataclass(frozen=True)
class MapPlace:
    """A place to mark: its name and position as the sources give it."""

    name: str
    latitude: float
    longitude: float
    position_text: str = ""  # the coordinates as the brief writes them, for the text alternative
    from_gazetteer: bool = False  # the position is a gazetteer's, not the sources'


@dataclass(frozen=True)
class Label:
    text: str
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 in map units
    size: float
    kind: str  # "place", "number" or "country"


@dataclass(frozen=True)
class LocatorMap:
    """A drawn map, and what it shows in words for its text alternative and key."""

    svg: Markup
    countries: tuple[str, ...]  # highlighted
    neighbours: tuple[str, ...]
    shown: tuple[MapPlace, ...]
    key: tuple[tuple[int, str], ...]  # (number on the map, place name) where names did not fit
    not_shown: tuple[str, ...]  # places without a position
    scale: str  # the scale bar's length, e.g. '200 km'
    centre: str  # the projection's centre, e.g. '17.3° N, 4.1° W'
    labels: tuple[Label, ...]


# --- projection ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Projection:
    """Lambert azimuthal equal-area on the sphere, then scaled and shifted to map units."""

    lon0: float
    lat0: float
    scale: float = 1.0  # map units per metre
    x0: float = 0.0  # metres at the map's left edge
    y0: float = 0.0  # metres at the map's top edge

    def metres(self, lon: float, lat: float) -> tuple[float, float]:
        phi, lam = math.radians(lat), math.radians(lon - self.lon0)
        phi0 = math.radians(self.lat0)
        cos_c = math.sin(phi0) * math.sin(phi) + math.cos(phi0) * math.cos(phi) * math.cos(lam)
        k = math.sqrt(2 / max(1e-12, 1 + cos_c))
        return (EARTH_RADIUS * k * math.cos(phi) * math.sin(lam),
                EARTH_RADIUS * k * (math.cos(phi0) * math.sin(phi)
                                    - math.sin(phi0) * math.cos(phi) * math.cos(lam)))

    def degrees(self, x: float, y: float) -> Point:
        """The inverse, from metres: (longitude, latitude)."""
        rho = math.hypot(x, y)
        if rho < 1e-9:
            return (self.lon0, self.lat0)
        c = 2 * math.asin(min(1.0, rho / (2 * EARTH_RADIUS)))
        phi0 = math.radians(self.lat0)
        lat = math.asin(math.cos(c) * math.sin(phi0) + y * math.sin(c) * math.cos(phi0) / rho)
        lam = math.atan2(x * math.sin(c), rho * math.cos(phi0) * math.cos(c)
                         - y * math.sin(phi0) * math.sin(c))
        return (self.lon0 + math.degrees(lam), math.degrees(lat))

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        """Map units: x to the right, y down."""
        x, y = self.metres(lon, lat)
        return ((x - self.x0) * self.scale, (self.y0 - y) * self.scale)

    def many(self, points: Sequence[Point]) -> list[tuple[float, float]]:
        """Map units of many points: :meth:`__call__` with the constant parts computed once."""
        sin0, cos0 = math.sin(math.radians(self.lat0)), math.cos(math.radians(self.lat0))
        radius, x0, y0, lon0 = EARTH_RADIUS * self.scale, self.x0 * self.scale, self.y0 * self.scale, self.lon0
        sin, cos, sqrt, rad = math.sin, math.cos, math.sqrt, math.radians
        result = []
        for lon, lat in points:
            phi, lam = rad(lat), rad(lon - lon0)
            sin_phi, cos_phi, cos_lam = sin(phi), cos(phi), cos(lam)
            k = radius * sqrt(2 / max(1e-12, 1 + sin0 * sin_phi + cos0 * cos_phi * cos_lam))
            result.append((k * cos_phi * sin(lam) - x0, y0 - k * (cos0 * sin_phi - sin0 * cos_phi * cos_lam)))
        return result


def fitted(lon0: float, lat0: float, bounds: tuple[float, float, float, float],
           left: float, top: float, width: float, height: float) -> Projection:
    """The projection that shows ``bounds`` (metres: x0, y0, x1, y1) centred in the box."""
    x_min, y_min, x_max, y_max = bounds
    scale = min(width / max(1.0, x_max - x_min), height / max(1.0, y_max - y_min))
    mid_x, mid_y = (x_min + x_max) / 2, (y_min + y_max) / 2
    return Projection(lon0, lat0, scale, mid_x - (width / 2 + left) / scale,
                      mid_y + (height / 2 + top) / scale)


# --- geometry -----------------------------------------------------------------------------

def simplified(points: Sequence[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker: the fewest points that keep the line within ``tolerance``."""
    kept = list(points)
    if len(kept) < 3:
        return kept
    keep = [False] * len(kept)
    keep[0] = keep[-1] = True
    stack = [(0, len(kept) - 1)]
    while stack:
        first, last = stack.pop()
        index = _farthest(kept, first, last, tolerance)
        if index is not None:
            keep[index] = True
            stack.extend(((first, index), (index, last)))
    return [point for point, flag in zip(kept, keep) if flag]


def _farthest(points: Sequence[tuple[float, float]], first: int, last: int, tolerance: float
              ) -> int | None:
    """The point between ``first`` and ``last`` farthest from the line through them (from
    the point itself, for a closed line), if it is further than ``tolerance``."""
    (ax, ay), (bx, by) = points[first], points[last]
    dx, dy = bx - ax, by - ay
    closed = dx == 0 and dy == 0
    limit = tolerance * tolerance * (1.0 if closed else dx * dx + dy * dy)
    worst, index = limit, None
    for i in range(first + 1, last):
        px, py = points[i]
        if closed:
            measure = (px - ax) * (px - ax) + (py - ay) * (py - ay)
        else:
            cross = dx * (ay - py) - (ax - px) * dy
            measure = cross * cross
        if measure > worst:
            worst, index = measure, i
    return index


def clipped(ring: Sequence[tuple[float, float]], box: tuple[float, float, float, float]
            ) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: the part of a ring inside an axis-aligned box."""
    x0, y0, x1, y1 = box
    edges: list[tuple[Callable[[tuple[float, float]], bool], int, float]] = [
        (lambda p: p[0] >= x0, 0, x0), (lambda p: p[0] <= x1, 0, x1),
        (lambda p: p[1] >= y0, 1, y0), (lambda p: p[1] <= y1, 1, y1)]
    points = list(ring)
    for inside, axis, value in edges:
        if not points:
            break
        result = []
        for i, current in enumerate(points):
            previous = points[i - 1]
            if inside(current):
                if not inside(previous):
                    result.append(_crossing(previous, current, axis, value))
                result.append(current)
            elif inside(previous):
                result.append(_crossing(previous, current, axis, value))
        points = result
    return points


def _crossing(a: tuple[float, float], b: tuple[float, float], axis: int, value: float
              ) -> tuple[float, float]:
    t = (value - a[axis]) / ((b[axis] - a[axis]) or 1e-12)
    return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))


def area_and_centroid(ring: Sequence[tuple[float, float]]) -> tuple[float, tuple[float, float]]:
    area = cx = cy = 0.0
    for i, (x1, y1) in enumerate(ring):
        x0, y0 = ring[i - 1]
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(area) < 1e-9:
        return 0.0, ring[0] if ring else (0.0, 0.0)
    return abs(area) / 2, (cx / (3 * area), cy / (3 * area))


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def text_width(text: str, size: float) -> float:
    """A generous width for ``text`` in a sans-serif font: boxes are computed from it, so
    a label is never wider on the page than the room kept for it."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.62 for ch in text)
    return ems * size


def text_box(text: str, x: float, baseline: float, anchor: str, size: float
             ) -> tuple[float, float, float, float]:
    """The box a label covers, from how it is drawn (as a test reads it back from the SVG)."""
    width = text_width(text, size)
    left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
    return (left, baseline - 0.9 * size, left + width, baseline + 0.25 * size)


# --- the base layer: outlines projected and simplified, cached per set of countries -------

@dataclass(frozen=True)
class Outline:
    key: str
    name: str
    path: str  # SVG path data
    label_at: tuple[float, float] | None  # where its name goes, inside the frame
    label_area: float


LayerKey = tuple[tuple[str, ...], Box]
"""What a base layer is drawn from: the countries on the map, and its bounds in degrees."""


def layer_key(main_box: Callable[[str], Box | None], countries: Sequence[str],
              places: Sequence[MapPlace]) -> LayerKey | None:
    """The base layer of a map of ``countries`` with ``places``: those of the countries on
    the base map (``main_box`` gives None for the others; None if there are none), and
    the bounds of their main parts (the boxes ``main_box`` gives) and of the places,
    rounded to a hundredth of a degree."""
    found = {country: main_box(country) for country in dict.fromkeys(countries)}
    boxes = {country: box for country, box in found.items() if box is not None}
    if not boxes:
        return None
    bounds = _place_bounds(places, _covering(list(boxes.values())))
    known = tuple(boxes)
    return known, (round(bounds[0], 2), round(bounds[1], 2), round(bounds[2], 2), round(bounds[3], 2))


@dataclass(frozen=True)
class BaseLayer:
    projection: Projection
    countries: tuple[Outline, ...]  # every country in the frame
    highlighted: tuple[str, ...]
    neighbours: tuple[str, ...]
    inset_countries: tuple[tuple[str, bool], ...]  # path, highlighted
    inset_frame: str  # path data of the main map's frame, in the inset
    centre: Point


class MapMaker:
    """Draws locator maps from one world; keeps each set of countries' base layer."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._layers: dict[LayerKey, BaseLayer] = {}
        self._ring_boxes: dict[Ring, Box] = {}
        self._coarse: dict[int, list[Point]] = {}

    def coarse_arc(self, index: int) -> list[Point]:
        """An arc thinned to what an inset can show, made once (an inset spans a continent)."""
        if index not in self._coarse:
            self._coarse[index] = _thinned(self.world.arcs[index], INSET_DEGREES)
        return self._coarse[index]

    def draw(self, countries: Sequence[str], places: Sequence[MapPlace], words: Localizer,
             not_shown: Sequence[str] = ()) -> LocatorMap | None:
        """The map of ``countries`` with ``places`` marked, its words (country names, scale,
        title) in ``words``' language; None if no country is on the base map (a fictional
        exercise area)."""
        key = layer_key(self.main_box, countries, places)
        if key is None:
            return None
        return compose(self.layer(key), places, tuple(not_shown), words)

    def main_box(self, country: str) -> Box | None:
        """The box of the country's main parts (None if it is not on the base map): with
        the places, what a map's bounds are found from."""
        found = self.world.countries.get(country)
        return None if found is None else self._main_box(found)

    def all_main_boxes(self) -> dict[str, Box]:
        """:meth:`main_box` of every country on the base map, by its key."""
        return {key: self._main_box(country) for key, country in self.world.countries.items()}

    def _main_box(self, country: Country) -> Box:
        return _covering([self._ring_box(polygon[0]) for polygon in _main_polygons(self.world, country)])

    def layer(self, key: LayerKey) -> BaseLayer:
        """The layer of a map's countries and rounded bounds (see :func:`layer_key`), drawn
        from those rounded bounds: maps whose bounds round alike share it, and each map is
        the same whichever map this maker drew before it."""
        if key not in self._layers:
            if len(self._layers) >= MAX_LAYERS:
                del self._layers[next(iter(self._layers))]  # the oldest
            self._layers[key] = self._build_layer(*key)
        return self._layers[key]

    def _ring_box(self, ring: Ring) -> Box:
        if ring not in self._ring_boxes:
            self._ring_boxes[ring] = _covering([self.world.arc_boxes[_arc_index(i)] for i in ring])
        return self._ring_boxes[ring]

    def _build_layer(self, countries: tuple[str, ...], bounds: Box) -> BaseLayer:
        west, south, east, north = bounds
        centre = ((west + east) / 2, (south + north) / 2)
        unit = Projection(*centre)
        corners = [unit.metres(lon, lat) for lon, lat in _box_outline(bounds)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        pad = PAD * max(max(xs) - min(xs), max(ys) - min(ys), 50_000.0)
        area = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
        projection = fitted(*centre, area, 0, 0, WIDTH, MAP_HEIGHT)
        frame = (0.0, 0.0, WIDTH, MAP_HEIGHT)
        window = self._window(projection, frame)
        shared = self._neighbours(countries)
        outlines = self._outlines(projection, window, frame, TOLERANCE, {*countries, *shared})
        inset = self._inset(countries, centre, projection)
        return BaseLayer(projection, tuple(outlines), countries,
                         tuple(o.key for o in outlines if o.key in shared), *inset, centre)

    def _window(self, projection: Projection, frame: tuple[float, float, float, float]) -> Box:
        """The longitudes and latitudes the frame covers (a little more)."""
        x0, y0, x1, y1 = frame
        points = [projection.degrees(x0 / projection.scale + projection.x0 + dx / projection.scale,
                                     projection.y0 - (y0 + dy) / projection.scale)
                  for dx in (0, (x1 - x0) / 2, x1 - x0) for dy in (0, (y1 - y0) / 2, y1 - y0)]
        west, south, east, north = _union([(p[0], p[1], p[0], p[1]) for p in points])
        return (west - 1, south - 1, east + 1, north + 1)

    def _outlines(self, projection: Projection, window: Box, frame: tuple[float, ...],
                  tolerance: float, named: Collection[str] = (),
                  coarse: bool = False) -> list[Outline]:
        """Every country in ``window``, projected and simplified; where to write the names
        of those ``named``."""
        arcs: dict[int, list[tuple[float, float]]] = {}
        outlines = []
        for country in self.world.countries.values():
            rings = [ring for polygon in country.polygons for ring in polygon
                     if _meets(self._ring_box(ring), window)]
            if not rings:
                continue
            drawn = [self._ring_points(ring, projection, tolerance, arcs, coarse, window)
                     for ring in rings]
            drawn = [ring for ring in drawn if len(ring) >= 3]
            if not drawn:
                continue
            inside = ([area_and_centroid(clipped(ring, frame)) for ring in drawn]
                      if country.key in named else [(0.0, (0.0, 0.0))])
            area, label_at = max(inside, key=lambda found: found[0])
            outlines.append(Outline(country.key, country.name, _path(drawn),
                                    label_at if area > 0 else None, area))
        return outlines

    def _ring_points(self, ring: Ring, projection: Projection, tolerance: float,
                     arcs: dict[int, list[tuple[float, float]]], coarse: bool, window: Box
                     ) -> list[tuple[float, float]]:
        """A ring on the map. Its arcs outside ``window`` are drawn from the coarse arcs:
        they are clipped off, and stay outside the frame (the window is a degree wider)."""
        points: list[tuple[float, float]] = []
        for index in ring:
            arc = _arc_index(index)
            if arc not in arcs:
                # thinned in degrees first (to points at least two tolerances apart on the
                # map), so points that would merge are never projected
                outside = not _meets(self.world.arc_boxes[arc], window)
                source = self.coarse_arc(arc) if coarse or outside else self.world.arcs[arc]
                thinned = _thinned(source, 2 * tolerance / (projection.scale * METRES_PER_DEGREE),
                                   math.cos(math.radians(projection.lat0)))
                arcs[arc] = simplified(projection.many(thinned), tolerance)
            line = arcs[arc] if index >= 0 else arcs[arc][::-1]
            points.extend(line[1:] if points else line)
        return points

    def _neighbours(self, countries: tuple[str, ...]) -> set[str]:
        """Countries sharing a boundary arc with one of ``countries``."""
        def arcs_of(country: Country) -> set[int]:
            return {_arc_index(i) for polygon in country.polygons for ring in polygon for i in ring}
        ours = set().union(*(arcs_of(self.world.countries[key]) for key in countries))
        return {key for key, country in self.world.countries.items()
                if key not in countries and arcs_of(country) & ours}

    def _inset(self, countries: tuple[str, ...], centre: Point, main: Projection
               ) -> tuple[tuple[tuple[str, bool], ...], str]:
        """The area within its continent: the countries around, the main map's frame."""
        x, y, width, height = INSET
        half_width = max(INSET_RADIUS, 1.6 * WIDTH / main.scale)
        half_height = half_width * height / width
        projection = fitted(*centre, (-half_width, -half_height, half_width, half_height),
                            x, y, width, height)
        frame = (x, y, x + width, y + height)
        outlines = self._outlines(projection, self._window(projection, frame), frame, 0.6,
                                  coarse=True)
        corners = [projection(*main.degrees(mx / main.scale + main.x0, main.y0 - my / main.scale))
                   for mx, my in ((0, 0), (WIDTH, 0), (WIDTH, MAP_HEIGHT), (0, MAP_HEIGHT))]
        return (tuple((o.path, o.key in countries) for o in outlines), _path([corners]))


def _thinned(points: Sequence[Point], degrees: float, lon_factor: float = 1.0) -> list[Point]:
    """The points of a line at least ``degrees`` apart (latitude plus longitude times
    ``lon_factor``, the cosine of the area's latitude), its ends kept."""
    kept = [points[0]]
    last_lon, last_lat = points[0]
    for lon, lat in points[1:-1]:
        if abs(lon - last_lon) * lon_factor + abs(lat - last_lat) >= degrees:
            kept.append((lon, lat))
            last_lon, last_lat = lon, lat
    if len(points) > 1:
        kept.append(points[-1])
    return kept


def _arc_index(index: int) -> int:
    return index if index >= 0 else ~index


def _union(boxes: Iterable[Box]) -> Box:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def _covering(boxes: Sequence[Box]) -> Box:
    """The smallest box holding ``boxes``, across the antimeridian where that is smaller
    (Fiji, Russia): its east is then past 180, e.g. 177 to 190 for 177 E to 170 W."""
    spans = sorted((box[0], box[2]) for box in boxes)
    merged: list[list[float]] = []
    for west, east in spans:
        if merged and west <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], east)
        else:
            merged.append([west, east])
    gaps = [(merged[(i + 1) % len(merged)][0] + (360 if i == len(merged) - 1 else 0)
             - merged[i][1], i) for i in range(len(merged))]
    _, widest = max(gaps)
    west = merged[(widest + 1) % len(merged)][0]
    east = merged[widest][1] + (360 if widest < len(merged) - 1 else 0)
    return (west, min(b[1] for b in boxes), east, max(b[3] for b in boxes))


def _meets(a: Box, b: Box) -> bool:
    """Whether two boxes share a point, either of them taken a turn of the globe east or west
    (asked of every ring of every country for each map, so written out)."""
    if a[1] > b[3] or b[1] > a[3]:
        return False
    west, east = a[0], a[2]
    return ((west <= b[2] and b[0] <= east) or (west - 360 <= b[2] and b[0] <= east - 360)
            or (west + 360 <= b[2] and b[0] <= east + 360))


def _box_outline(box: Box) -> list[Point]:
    """Points around a box of degrees (its corners and the middles of its sides)."""
    west, south, east, north = box
    middle_lon, middle_lat = (west + east) / 2, (south + north) / 2
    return [(lon, lat) for lon in (west, middle_lon, east) for lat in (south, middle_lat, north)]


def _main_polygons(world: World, country: Country) -> list[tuple[Ring, ...]]:
    """A country's largest part and the parts near it: France without French Guiana,
    Norway without Svalbard, so the map is of the area, not of every overseas part."""
    def box(polygon: tuple[Ring, ...]) -> Box:
        return _covering([world.arc_boxes[_arc_index(i)] for i in polygon[0]])

    def size(polygon: tuple[Ring, ...]) -> float:
        west, south, east, north = box(polygon)
        return (east - west) * (north - south)

    largest = box(max(country.polygons, key=size))
    return [polygon for polygon in country.polygons
            if _distance(box(polygon), largest) <= NEAR_MAIN_DEGREES]


def _distance(a: Box, b: Box) -> float:
    """Degrees between two boxes (the shorter way round the globe)."""
    return min(max(0.0, a[0] + shift - b[2], b[0] - a[2] - shift, a[1] - b[3], b[1] - a[3])
               for shift in (0, -360, 360))


def _place_bounds(places: Sequence[MapPlace], countries: Box) -> Box:
    return _covering([countries, *((p.longitude, p.latitude, p.longitude, p.latitude)
                                   for p in places)])


def _path(rings: Iterable[Sequence[tuple[float, float]]]) -> str:
    return "".join("M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in ring) + "Z" for ring in rings)


# --- composing the map ---------------------------------------------------------------------

def compose(layer: BaseLayer, places: Sequence[MapPlace], not_shown: tuple[str, ...],
            words: Localizer) -> LocatorMap:
    """The map: ``places`` marked and labelled on ``layer``, in ``words``' language."""
    projection = layer.projection
    markers = [projection(p.longitude, p.latitude) for p in places]
    marker_boxes = [(x - MARKER_RADIUS, y - MARKER_RADIUS, x + MARKER_RADIUS, y + MARKER_RADIUS)
                    for x, y in markers]
    placed, key = place_labels([p.name for p in places], markers, marker_boxes)
    names = {o.key: _country_name(o, words) for o in layer.countries}
    country_labels = _country_labels(layer, names, [*marker_boxes, *(label.box for label, _ in placed)])
    scale_metres = _nice_length(WIDTH / 5 / projection.scale)
    scale = _distance_text(scale_metres, words)
    svg = _svg(layer, places, markers, country_labels, placed, scale_metres, words)
    return LocatorMap(
        svg=svg, countries=tuple(names.get(k, k) for k in layer.highlighted),
        neighbours=tuple(sorted(names[k] for k in layer.neighbours)), shown=tuple(places),
        key=tuple(key), not_shown=not_shown, scale=scale,
        centre=_centre_text(layer.centre, words),
        labels=tuple(country_labels) + tuple(label for label, _ in placed))


def _country_name(outline: Outline, words: Localizer) -> str:
    """The base data's name in English (Natural Earth's), else CLDR's in the map's language."""
    return outline.name if words.english else words.country(outline.key) or outline.name


def _country_labels(layer: BaseLayer, names: dict[str, str],
                    taken: Sequence[tuple[float, float, float, float]]) -> list[Label]:
    """Names of the brief's countries and their neighbours, largest first, each moved
    from its country's middle until it overlaps no place's marker or label and no name
    placed before it (places come first: a country is named in the caption too)."""
    named = set(layer.highlighted) | set(layer.neighbours)
    labels: list[Label] = []
    for outline in sorted((o for o in layer.countries if o.key in named and o.label_at),
                          key=lambda o: -o.label_area):
        assert outline.label_at is not None
        text = names[outline.key].upper()
        x, y = outline.label_at
        for dx, dy in COUNTRY_NAME_SHIFTS:
            box = _inside_frame(text_box(text, x + dx * COUNTRY_SIZE, y + dy * COUNTRY_SIZE,
                                         "middle", COUNTRY_SIZE))
            if box and not any(overlaps(box, other) for other in
                               [*taken, *(label.box for label in labels)]):
                ours = outline.key in layer.highlighted
                labels.append(Label(text, box, COUNTRY_SIZE, "country ours" if ours else "country"))
                break
    return labels


COUNTRY_NAME_SHIFTS = [(0, 0), (0, -1.4), (0, 1.4), (0, -2.8), (0, 2.8), (-4, 0), (4, 0),
                       (-4, -1.4), (4, 1.4), (-4, 1.4), (4, -1.4), (0, -4.2), (0, 4.2)]
"""Where a country's name may go, in multiples of its size from the country's middle."""


def _inside_frame(box: tuple[float, float, float, float]) -> tuple[float, float, float, float] | None:
    """The box moved inside the map's frame, or None if it is wider than the frame."""
    margin = 3.0
    width, height = box[2] - box[0], box[3] - box[1]
    if width > WIDTH - 2 * margin:
        return None
    x0 = min(max(box[0], margin), WIDTH - margin - width)
    y0 = min(max(box[1], margin), MAP_HEIGHT - margin - height)
    return (x0, y0, x0 + width, y0 + height)


CANDIDATES = [(1, 0), (-1, 0), (0, -1), (0, 1), (1, -1), (-1, -1), (1, 1), (-1, 1)]
"""Directions a label may take from its marker, in order of preference."""
GAPS = (5.0, 18.0, 32.0)
"""How far from the marker a label may go; beyond the first, a lead line joins them."""
WRITTEN_ROUNDING = 0.1
"""Room kept between labels for the rounding of their positions (written to one decimal:
two labels that just clear each other could each move 0.05 towards the other)."""


def place_labels(names: Sequence[str], markers: Sequence[tuple[float, float]],
                 obstacles: Sequence[tuple[float, float, float, float]]
                 ) -> tuple[list[tuple[Label, tuple[float, float] | None]], list[tuple[int, str]]]:
    """A label for each marker that overlaps no other label, marker or country name:
    beside it, further out with a lead line (returned as the point the line ends at),
    or, where no name fits, a number explained in the returned key."""
    taken = list(obstacles)
    placed: list[tuple[Label, tuple[float, float] | None]] = []
    key: list[tuple[int, str]] = []
    for name, marker in zip(names, markers):
        found = _free_spot(name, marker, PLACE_SIZE, taken)
        if found is None:
            number = len(key) + 1
            key.append((number, name))
            found = _free_spot(str(number), marker, PLACE_SIZE, taken)
            if found is None:
                continue  # the marker alone; the key still names the place
            found = (Label(str(number), found[0].box, PLACE_SIZE, "number"), found[1])
        placed.append(found)
        taken.append(found[0].box)
    return placed, key


def _free_spot(text: str, marker: tuple[float, float], size: float,
               taken: Sequence[tuple[float, float, float, float]], gaps: Sequence[float] = GAPS
               ) -> tuple[Label, tuple[float, float] | None] | None:
    x, y = marker
    width, height = text_width(text, size), 1.15 * size
    for gap in gaps:
        for dx, dy in CANDIDATES:
            left = x + gap if dx > 0 else x - gap - width if dx < 0 else x - width / 2
            top = y + gap if dy > 0 else y - gap - height if dy < 0 else y - height / 2
            box = (left, top, left + width, top + height)
            if not (0 <= box[0] and box[2] <= WIDTH and 0 <= box[1] and box[3] <= MAP_HEIGHT):
                continue
            if any(overlaps(_with_margin(box, WRITTEN_ROUNDING), other) for other in taken):
                continue
            lead = None if gap == gaps[0] else _nearest_on(box, marker)
            return Label(text, box, size, "place"), lead
    return None


def _with_margin(box: tuple[float, float, float, float], margin: float
                 ) -> tuple[float, float, float, float]:
    return (box[0] - margin, box[1] - margin, box[2] + margin, box[3] + margin)


def _nearest_on(box: tuple[float, float, float, float], point: tuple[float, float]
                ) -> tuple[float, float]:
    return (min(max(point[0], box[0]), box[2]), min(max(point[1], box[1]), box[3]))


def _nice_length(metres: float) -> float:
    """The round length (1, 2 or 5 times a power of ten) nearest below ``metres``."""
    power = 10 ** math.floor(math.log10(metres))
    return max(step * power for step in (1, 2, 5) if step * power <= metres)


def _distance_text(metres: float, words: Localizer) -> str:
    if metres >= 1000:
        return words.gettext(KILOMETRES) % {"distance": f"{metres / 1000:g}"}
    return words.gettext(METRES) % {"distance": f"{metres:g}"}


def _centre_text(centre: Point, words: Localizer) -> str:
    lon, lat = (centre[0] + 180) % 360 - 180, centre[1]
    return (f"{words.number(abs(lat), 1)}° {words.gettext(HEMISPHERES['N' if lat >= 0 else 'S'])}, "
            f"{words.number(abs(lon), 1)}° {words.gettext(HEMISPHERES['E' if lon >= 0 else 'W'])}")


def _svg(layer: BaseLayer, places: Sequence[MapPlace], markers: Sequence[tuple[float, float]],
         country_labels: Sequence[Label],
         placed: Sequence[tuple[Label, tuple[float, float] | None]], scale_metres: float,
         words: Localizer) -> Markup:
    highlighted = set(layer.highlighted)
    parts = [f'<svg class="locator-map-svg" xmlns="http://www.w3.org/2000/svg" '
             f'viewBox="0 0 {WIDTH:g} {HEIGHT:g}" role="img" aria-labelledby="map-title" '
             f'aria-describedby="map-description" font-family="{FONT}">',
             f'<title id="map-title">{escape(words.gettext(TITLE))}</title>',
             f'<defs><clipPath id="map-frame"><rect width="{WIDTH:g}" height="{MAP_HEIGHT:g}"/>'
             f'</clipPath><clipPath id="map-inset"><rect x="{INSET[0]:g}" y="{INSET[1]:g}" '
             f'width="{INSET[2]:g}" height="{INSET[3]:g}"/></clipPath></defs>',
             f'<rect class="sea" width="{WIDTH:g}" height="{MAP_HEIGHT:g}" fill="#d7e6f0"/>',
             '<g clip-path="url(#map-frame)" stroke-linejoin="round">']
    for outline in layer.countries:
        ours = outline.key in highlighted
        parts.append(f'<path id="country-{escape(outline.key)}" class="country'
                     f'{" highlighted" if ours else ""}" d="{outline.path}" fill-rule="evenodd" '
                     f'fill="{"#f6d8a0" if ours else "#f3f1ec"}" stroke="{"#6b4f1d" if ours else "#8c8c8c"}" '
                     f'stroke-width="{1.2 if ours else 0.6}"/>')
    parts.append("</g>")
    for label in country_labels:
        x, baseline = (label.box[0] + label.box[2]) / 2, label.box[3] - 0.25 * label.size
        ours = label.kind == "country ours"
        parts.append(f'<text class="country-name{" highlighted" if ours else ""}" x="{x:.1f}" '
                     f'y="{baseline:.1f}" text-anchor="middle" font-size="{label.size:g}" '
                     f'fill="{"#4a3510" if ours else "#66625a"}">{escape(label.text)}</text>')
    for number, ((x, y), place) in enumerate(zip(markers, places), 1):
        style = ('class="marker gazetteer" fill="#ffffff" stroke="#b3261e" stroke-width="1.6"'
                 if place.from_gazetteer else
                 'class="marker" fill="#b3261e" stroke="#ffffff" stroke-width="1.2"')
        parts.append(f'<circle id="place-{number}" {style} cx="{x:.1f}" cy="{y:.1f}" '
                     f'r="{MARKER_RADIUS:g}"/>')
    for label, lead in placed:
        parts.append(_place_label(label, lead, markers))
    parts.append(f'<rect width="{WIDTH:g}" height="{MAP_HEIGHT:g}" fill="none" stroke="#555555" '
                 f'stroke-width="1"/>')
    parts.append(_scale_bar(scale_metres * layer.projection.scale, _distance_text(scale_metres, words),
                            words.gettext(SCALE_NOTE)))
    parts.append(_inset_svg(layer))
    parts.append("</svg>")
    return Markup("".join(parts))


def _place_label(label: Label, lead: tuple[float, float] | None,
                 markers: Sequence[tuple[float, float]]) -> str:
    x0, y0, x1, y1 = label.box
    baseline = y1 - 0.25 * label.size
    line = ""
    if lead is not None:
        mx, my = min(markers, key=lambda m: math.hypot(m[0] - lead[0], m[1] - lead[1]))
        line = (f'<line class="lead" x1="{mx:.1f}" y1="{my:.1f}" x2="{lead[0]:.1f}" '
                f'y2="{lead[1]:.1f}" stroke="#333333" stroke-width="0.7"/>')
    return (f'{line}<rect x="{x0:.1f}" y="{y0:.1f}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" '
            f'fill="#ffffff" fill-opacity="0.75" rx="1.5"/>'
            f'<text class="place-name {label.kind}" x="{x0:.1f}" '
            f'y="{baseline:.1f}" text-anchor="start" font-size="{label.size:g}" fill="#1b1b1b">'
            f'{escape(label.text)}</text>')


def _scale_bar(length: float, text: str, note: str) -> str:
    x, y = 16.0, MAP_HEIGHT + 34.0
    return (f'<g class="scale-bar" font-size="10" fill="#333333">'
            f'<path d="M{x:g} {y - 5:g}V{y:g}H{x + length:.1f}V{y - 5:g}" fill="none" '
            f'stroke="#333333" stroke-width="1.2"/>'
            f'<text x="{x:g}" y="{y + 13:g}" text-anchor="middle">0</text>'
            f'<text x="{x + length:.1f}" y="{y + 13:g}" text-anchor="middle">{escape(text)}</text>'
            f'<text x="{x:g}" y="{y + 30:g}" font-size="9" fill="#555555">{escape(note)}</text></g>')


def _inset_svg(layer: BaseLayer) -> str:
    x, y, width, height = INSET
    parts = [f'<g class="inset"><rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" '
             f'fill="#d7e6f0"/><g clip-path="url(#map-inset)">']
    for ours in (False, True):  # one path of each fill: the inset's countries are not told apart
        outlines = "".join(path for path, highlighted in layer.inset_countries if highlighted == ours)
        if outlines:
            parts.append(f'<path d="{outlines}" fill-rule="evenodd" fill="{"#e0a84a" if ours else "#f3f1ec"}" '
                         f'stroke="#9a9a9a" stroke-width="0.3"/>')
    parts.append(f'<path class="inset-frame" d="{layer.inset_frame}" fill="none" stroke="#b3261e" '
                 f'stroke-width="1"/></g><rect x="{x:g}" y="{y:g}" width="{width:g}" '
                 f'height="{height:g}" fill="none" stroke="#555555" stroke-width="0.8"/></g>')
    return "".join(parts)
