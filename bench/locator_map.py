"""Benchmark: what a generated locator map adds to a brief's build.

    .venv/bin/python bench/locator_map.py

Times, in one process as a worker sees them: decoding the base data (once per worker
process), the first map of a set of countries (projecting and simplifying its outlines
and inset: the base layer, then cached), and every further map of that set (placing
markers and labels, writing the SVG), best of many runs each, in CPU time (process_time: the figure a busy machine does not inflate). The sets are the Mali
brief's (ML) and the crowded test brief's (BF, NE, twelve places). Then the first map of
a new process whose base layer an earlier process kept (fieldbrief/map_cache.py): the
layer found from the kept countries' boxes, read from its file, checked, and the map
drawn on it, without the base data.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402

from fieldbrief.i18n import localizer  # noqa: E402
from fieldbrief.locator_map import MapMaker, MapPlace, compose, layer_key  # noqa: E402
from fieldbrief.map_cache import LayerCache  # noqa: E402
from fieldbrief.map_data import MAP_DATA_FILE, load_world  # noqa: E402

RUNS = 20


def crowded_places() -> list[MapPlace]:
    brief = yaml.safe_load((REPO / "tests/briefs/map_crowded_two_countries.yaml").read_text())
    return [MapPlace(p["name"], *p["coordinates"]) for p in brief["places"] if "coordinates" in p]


def best(action, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.process_time()
        action()
        times.append(time.process_time() - started)
    return min(times)


def main() -> None:
    started = time.process_time()
    world = load_world()
    maker = MapMaker(world)
    print(f"| read {MAP_DATA_FILE.name} ({MAP_DATA_FILE.stat().st_size // 1024} KiB) and find "
          f"its arcs' boxes, once per worker process (arcs are decoded as maps need them) | "
          f"{(time.process_time() - started) * 1000:.0f} ms |")
    for label, countries, places in (
            ("Mali brief (ML, no positions)", ["ML"], []),
            ("crowded test brief (BF, NE, 12 places)", ["BF", "NE"], crowded_places()),
            ("France (FR, dense coasts and borders)", ["FR"], [])):
        def first() -> None:
            maker._layers.clear()  # noqa: SLF001 (the cache the first map of a set fills)
            maker.draw(countries, places, localizer("en"))
        cold = best(first, runs=5)
        again = best(lambda: maker.draw(countries, places, localizer("en")))
        print(f"| {label}: first map of its set of countries | {cold * 1000:.1f} ms |")
        print(f"| {label}: each further map (base layer cached) | {again * 1000:.1f} ms |")
        print(f"| {label}: first map of a new process, its base layer kept | "
              f"{kept_layer_map(maker, countries, places) * 1000:.1f} ms |")


def kept_layer_map(maker: MapMaker, countries: list[str], places: list[MapPlace]) -> float:
    """CPU time of a map drawn on a layer read from the cache's file (a new cache object
    each run, so the file is read each time, as by a new process)."""
    with tempfile.TemporaryDirectory() as folder:
        key = layer_key(maker.main_box, countries, places)
        assert key is not None
        LayerCache(Path(folder)).put(key, maker.layer(key))
        LayerCache(Path(folder)).put_main_boxes(maker.all_main_boxes())

        def kept() -> None:
            cache = LayerCache(Path(folder))
            boxes = cache.main_boxes()
            assert boxes is not None
            found_key = layer_key(boxes.get, countries, places)
            found = cache.get(found_key) if found_key else None
            assert found is not None
            compose(found, places, (), localizer("en"))
        return best(kept)


if __name__ == "__main__":
    main()
