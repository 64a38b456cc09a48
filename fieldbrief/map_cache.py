"""Stage 4 helper, map cache: locator maps' base layers kept between processes.

Most of what a locator map costs a new process is its base layer (:class:`BaseLayer`):
decoding the world's boundaries and projecting and simplifying the outlines in its
frame. A build that renders one changed brief pays it for that one map; so each layer
is kept, as JSON, in the user's cache folder, ``$XDG_CACHE_HOME/fieldbrief/maps``
(``~/.cache/fieldbrief/maps`` when unset), and the next process that draws a map on the
same layer reads it instead of the world.

A layer is a function of its key (:func:`~fieldbrief.locator_map.layer_key`: the
countries on the map and its bounds, rounded), the base data and the code that draws
it. The key names the file. It is found from the places and the box of each country's
main parts, kept beside the layers (``countries.json``), so a new process finds a kept
layer without the base data, also when a place within the bounds was added or moved.
The rest names the folder: fieldbrief's version, a digest of the map modules' source, of
the base data (:func:`~fieldbrief.map_data.map_data_digest`), the Python that drew it
and the country codes (pycountry's) that named its countries. Changing any of them
leaves the old files unread.

A kept layer is data, never code, and is trusted no more than the project's files:
the folder is used only when it is the user's own and private and lies outside the
project (as for compiled templates, :mod:`fieldbrief.template_cache`); a file is read
only when it is a regular file of the user's, not a link, and its content is taken only
when it was kept under that name, highlights the key's countries, and every field has
the type and form a freshly drawn layer has (outlines are SVG path data of numbers
alone, names are plain text, which the map escapes as it does the base data's; numbers
within the ranges a map's lie in). Anything else is ignored, and the layer drawn afresh
and kept anew.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from functools import cache
from pathlib import Path

import pycountry

from fieldbrief import __version__, locator_map, map_data
from fieldbrief.incremental import digest
from fieldbrief.locator_map import MAX_LAYERS, BaseLayer, LayerKey, Outline, Projection
from fieldbrief.map_data import Box
from fieldbrief.stamp import replace_file
from fieldbrief.template_cache import private_cache_folder

CACHE_FORMAT = 2
BOXES_FILE = "countries.json"
MAX_ENTRY_BYTES = 4_000_000  # a layer is some 50 KB
MAX_NAME_LENGTH = 200
_NUMBER = r"-?\d+\.\d"
_POINT = f"{_NUMBER} {_NUMBER}"
PATH_DATA = re.compile(f"(?:M{_POINT}(?:L{_POINT})*Z)*")
"""SVG path data as :func:`fieldbrief.locator_map._path` writes it: numbers, M, L and Z."""
DEGREES = ((-540.0, 540.0), (-90.0, 90.0))  # longitude (east may pass 180), latitude
MAP_UNITS = ((-1e4, 1e4), (-1e4, 1e4))
MAX_LABEL_AREA = 1e8  # square map units
PROJECTION_LIMITS = (*DEGREES, (1e-9, 1.0), (-1e8, 1e8), (-1e8, 1e8))
"""Where a drawn layer's numbers lie (with room to spare): the centre in degrees, map units
per metre, the frame's edges in metres. Beyond them a map would divide by zero or overflow."""


class LayerCache:
    """Base layers kept as files in one folder (checked to be the user's own), with the
    boxes their bounds are found from, and the last few used in this process (many briefs
    of a full build share a layer)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._recent: dict[str, BaseLayer] = {}
        self._boxes: dict[str, Box] | None = None

    def main_boxes(self) -> dict[str, Box] | None:
        """Every country's :meth:`~fieldbrief.locator_map.MapMaker.main_box`, if kept and
        sound: what finds a map's layer without the base data."""
        if self._boxes is None:
            data = _entry_bytes(self.folder / BOXES_FILE)
            try:
                self._boxes = None if data is None else boxes_from_json(_json(data))
            except (ValueError, TypeError, KeyError, IndexError, RecursionError):
                return None
        return self._boxes

    def put_main_boxes(self, boxes: dict[str, Box]) -> None:
        self._boxes = boxes
        _keep(self.folder / BOXES_FILE, {"format": CACHE_FORMAT, "countries": boxes})

    def get(self, key: LayerKey) -> BaseLayer | None:
        """The kept layer of ``key``, if there is a sound one."""
        name = key_digest(key)
        if name not in self._recent:
            layer = self._read(name, key)
            if layer is None:
                return None
            self._remember(name, layer)
        return self._recent[name]

    def put(self, key: LayerKey, layer: BaseLayer) -> None:
        """Keep ``layer`` for the next process (silently not, if it cannot be written)."""
        name = key_digest(key)
        self._remember(name, layer)
        _keep(self.folder / f"{name}.json", layer_to_json(layer, name))

    def _read(self, name: str, key: LayerKey) -> BaseLayer | None:
        data = _entry_bytes(self.folder / f"{name}.json")
        if data is None:
            return None
        try:
            return layer_from_json(_json(data), name, key[0])
        except (ValueError, TypeError, KeyError, IndexError, RecursionError):
            return None

    def _remember(self, name: str, layer: BaseLayer) -> None:
        if len(self._recent) >= MAX_LAYERS:
            del self._recent[next(iter(self._recent))]  # the oldest
        self._recent[name] = layer


def layer_cache(project_root: Path) -> LayerCache | None:
    """The cache of layers drawn by this code from this base data, or None where none may
    be used (see the module's docstring) or named (its code unreadable); one per folder
    in a process."""
    try:
        key = _folder_key()
    except OSError:
        return None
    folder = private_cache_folder(project_root, "maps", key)
    return None if folder is None else _cache_in(folder)


@cache
def _cache_in(folder: Path) -> LayerCache:
    return LayerCache(folder)


def key_digest(key: LayerKey) -> str:
    """A layer's file name: its countries and rounded bounds (JSON writes a float as its
    repr, so exactly)."""
    return digest(json.dumps([list(key[0]), list(key[1])]))


def _keep(path: Path, content: dict[str, object]) -> None:
    try:
        replace_file(path, json.dumps(content).encode())
    except OSError:
        pass  # a cache only saves time


def _json(data: bytes) -> object:
    return json.loads(data, parse_constant=_refused)


def _folder_key() -> str:
    return digest(__version__, str(CACHE_FORMAT), _code_digest(), map_data.map_data_digest())[:16]


@cache
def _code_digest() -> str:
    """The source of the modules a layer's content depends on, the Python that ran them
    and the country codes they gave the base data's countries (pycountry's table)."""
    sources = [Path(module.__file__ or "").read_bytes()
               for module in (locator_map, map_data, sys.modules[__name__])]
    codes = Path(pycountry.DATABASE_DIR, "iso3166-1.json").read_bytes()
    return digest(*sources, sys.version, codes)


def _entry_bytes(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file (no link, no pipe) of the user's that no
    one else may write, with one name only and of a layer's size; None otherwise."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as file:
        found = os.fstat(descriptor)
        if not (stat.S_ISREG(found.st_mode) and found.st_uid == os.getuid()
                and found.st_nlink == 1 and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
                and found.st_size <= MAX_ENTRY_BYTES):
            return None
        try:
            return file.read(MAX_ENTRY_BYTES + 1)
        except OSError:
            return None


def _refused(constant: str) -> float:
    raise ValueError(f"{constant} is not a finite number")


# --- the layer as JSON, and back (every field checked) ------------------------------------

def layer_to_json(layer: BaseLayer, name: str) -> dict[str, object]:
    projection = layer.projection
    return {
        "format": CACHE_FORMAT, "key": name,
        "projection": [projection.lon0, projection.lat0, projection.scale, projection.x0,
                       projection.y0],
        "countries": [[o.key, o.name, o.path, None if o.label_at is None else list(o.label_at),
                       o.label_area] for o in layer.countries],
        "highlighted": list(layer.highlighted), "neighbours": list(layer.neighbours),
        "inset_countries": [[path, ours] for path, ours in layer.inset_countries],
        "inset_frame": layer.inset_frame, "centre": list(layer.centre)}


def layer_from_json(data: object, name: str, countries: tuple[str, ...]) -> BaseLayer:
    """The layer ``data`` holds, if it is one kept as ``name``, highlighting ``countries``,
    and every field has the form a drawn layer's has; ValueError (or TypeError, KeyError)
    otherwise."""
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("key") != name:
        raise ValueError("not a layer kept for this map")
    outlines = tuple(_outline(item) for item in _list(data["countries"]))
    keys = {outline.key for outline in outlines}
    highlighted = tuple(_text(key) for key in _list(data["highlighted"]))
    if highlighted != countries:
        raise ValueError("the highlighted countries are not the ones asked for")
    neighbours = tuple(_text(key) for key in _list(data["neighbours"]))
    if not set(neighbours) <= keys - set(highlighted):
        raise ValueError("a neighbour is not on the map")
    inset = tuple((_path_data(path), _flag(ours))
                  for path, ours in (_pair(item) for item in _list(data["inset_countries"])))
    projection = Projection(*(_number(value, *limits) for value, limits
                              in zip(_list(data["projection"], 5), PROJECTION_LIMITS)))
    return BaseLayer(projection, outlines, highlighted, neighbours, inset,
                     _path_data(data["inset_frame"]), _point(data["centre"], DEGREES))


def boxes_from_json(data: object) -> dict[str, Box]:
    """The countries' boxes ``data`` holds, if each is four numbers in degrees."""
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        raise ValueError("not the countries' boxes")
    countries = data["countries"]
    if not isinstance(countries, dict):
        raise ValueError("not the countries' boxes")
    return {_text(key): _box(box) for key, box in countries.items()}


def _box(value: object) -> Box:
    west, south, east, north = _list(value, 4)
    return (_number(west, *DEGREES[0]), _number(south, *DEGREES[1]),
            _number(east, *DEGREES[0]), _number(north, *DEGREES[1]))


def _outline(item: object) -> Outline:
    key, name, path, label_at, label_area = _list(item, 5)
    return Outline(_text(key), _text(name), _path_data(path),
                   None if label_at is None else _point(label_at, MAP_UNITS),
                   _number(label_area, 0.0, MAX_LABEL_AREA))


def _list(value: object, length: int | None = None) -> list[object]:
    if type(value) is not list or (length is not None and len(value) != length):
        raise ValueError("not a list of the expected length")
    return value


def _pair(value: object) -> tuple[object, object]:
    first, second = _list(value, 2)
    return first, second


def _number(value: object, low: float, high: float) -> float:
    if type(value) is not float or not low <= value <= high:
        raise ValueError("not a number a drawn layer holds")
    return value


def _point(value: object, limits: tuple[tuple[float, float], tuple[float, float]]) -> tuple[float, float]:
    x, y = _list(value, 2)
    return (_number(x, *limits[0]), _number(y, *limits[1]))


def _flag(value: object) -> bool:
    if type(value) is not bool:
        raise ValueError("not a yes/no value")
    return value


def _text(value: object) -> str:
    if type(value) is not str or not value or len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise ValueError("not a country's key or name")
    return value


def _path_data(value: object) -> str:
    if type(value) is not str or not PATH_DATA.fullmatch(value):
        raise ValueError("not path data as a map writes it")
    return value
