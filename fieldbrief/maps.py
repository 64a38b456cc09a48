"""Stage 4 helper, maps: which locator map each brief page and country page gets.

In: validated briefs (or the cards of published briefs) and the base data. Out:
:class:`~fieldbrief.locator_map.LocatorMap` values handed to the renderers, which
stay pure (they never read the base data themselves). A brief gets a map unless it
gives its own image, says ``map: none``, or is about a fictional exercise area (ZZ).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fieldbrief import gazetteer
from fieldbrief.i18n import Localizer, localizer
from fieldbrief.locator_map import LocatorMap, MapMaker, MapPlace, compose, layer_key
from fieldbrief.map_cache import layer_cache
from fieldbrief.map_data import load_world
from fieldbrief.model import EXERCISE_COUNTRY, Brief, BriefCard, Place
from fieldbrief.render_html import GAZETTEER_NOTE, format_coordinates
_maker: MapMaker | None = None


def maker() -> MapMaker:
    """One map maker per process: the base data is decoded once (when a map's layer is not
    kept from an earlier process), layers cached."""
    global _maker
    if _maker is None:
        _maker = MapMaker(load_world())
    return _maker


def brief_map(brief: Brief) -> LocatorMap | None:
    """The brief's generated map: its countries, and its places with coordinates, in the
    brief's language."""
    if not brief.wants_locator_map:
        return None
    words = localizer(brief.language)
    marked = [(place, _marked(place, words)) for place in brief.places]
    located = [found for _, found in marked if found is not None]
    missing = [place.name for place, found in marked if found is None]
    return _draw(brief.countries, located, words, missing)


def country_places(cards: Sequence[BriefCard], language: str) -> dict[str, tuple[MapPlace, ...]]:
    """For each country of the published briefs, every place they locate in it (a place
    named alike at the same position by two briefs is marked once), in the site's
    ``language``: what its country page's map shows, gathered before any map is drawn."""
    words = localizer(language)
    places: dict[str, dict[tuple[str, float, float], MapPlace]] = {
        code: {} for card in cards for code in card.countries}
    for place in (place for card in cards for place in card.places):
        if place.country in places:
            spot = (place.name, place.latitude, place.longitude)
            places[place.country].setdefault(spot, MapPlace(*spot, format_coordinates(spot[1:], words)))
    return {code: tuple(located.values()) for code, located in sorted(places.items())}


def country_map(code: str, places: tuple[MapPlace, ...], language: str) -> LocatorMap | None:
    """The map of a country page (none for the exercise area)."""
    if code == EXERCISE_COUNTRY:
        return None
    return _draw([code], list(places), localizer(language))


def _draw(countries: Sequence[str], places: Sequence[MapPlace], words: Localizer,
          not_shown: Sequence[str] = ()) -> LocatorMap | None:
    """The map on the base layer an earlier process kept, else on one drawn now (and kept).
    The project is the working folder (see :mod:`fieldbrief.cli`): the cache is never in it."""
    cache = layer_cache(Path.cwd())
    boxes = cache.main_boxes() if cache else None
    key = layer_key(boxes.get, countries, places) if boxes is not None else None
    layer = cache.get(key) if cache and key else None
    if layer is None:
        key = layer_key(maker().main_box, countries, places)
        if key is None:
            return None
        layer = maker().layer(key)
        if cache:
            cache.put(key, layer)
            if boxes is None:
                cache.put_main_boxes(maker().all_main_boxes())
    return compose(layer, places, tuple(not_shown), words)


def _marked(place: Place, words: Localizer) -> MapPlace | None:
    """The place where the sources put it, or, if it asks, where the gazetteer does."""
    if place.coordinates is not None:
        latitude, longitude = place.coordinates
        return MapPlace(place.name, latitude, longitude, format_coordinates(place.coordinates, words))
    found = (gazetteer.position([place.name, *place.also_known_as], place.country)
             if place.locate == "gazetteer" else None)
    if found is None:
        return None
    note = words.gettext(GAZETTEER_NOTE) % {"gazetteer": gazetteer.GAZETTEER}
    return MapPlace(place.name, *found, note, from_gazetteer=True)
