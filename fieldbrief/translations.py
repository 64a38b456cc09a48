"""Stage 3b, gather translations: the cards of the briefs in, for each brief the briefs
that are the same text in other languages out.

A brief names the brief it translates with ``translation_of``; the original and its
translations form one set. This runs once, after every brief is validated and before
any is rendered, so a renderer gets its brief's set as data and never opens another
brief; the set is part of the page's fingerprint, so adding a translation rebuilds the
original's page too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fieldbrief.i18n import primary
from fieldbrief.model import TLP_ORDER, BriefCard


@dataclass(frozen=True)
class Translation:
    """One language of a brief: its language tag and its id (its page)."""

    language: str
    id: str


def translation_sets(cards: Iterable[BriefCard]) -> dict[str, tuple[Translation, ...]]:
    """For every brief that has a translation or is one, all the languages of its text:
    the original first, then the translations by language."""
    by_id = {card.id: card for card in cards}
    sets: dict[str, list[BriefCard]] = {}
    for card in by_id.values():
        original = card.translation_of if card.translation_of in by_id else card.id
        sets.setdefault(original, []).append(card)
    result: dict[str, tuple[Translation, ...]] = {}
    for original, members in sets.items():
        if len(members) > 1:
            members.sort(key=lambda card: (card.id != original, card.language, card.id))
            versions = tuple(Translation(card.language, card.id) for card in members)
            result.update((card.id, versions) for card in members)
    return result


def translation_problem(card: BriefCard, by_id: dict[str, BriefCard]) -> str | None:
    """What is wrong with the brief ``card`` names as its original, if anything."""
    if card.translation_of is None:
        return None
    original = by_id.get(card.translation_of)
    if original is None:
        return f"no brief has the id '{card.translation_of}'"
    if original.id == card.id:
        return "a brief cannot be a translation of itself"
    if original.translation_of is not None:
        return (f"'{original.id}' is itself a translation of '{original.translation_of}': "
                "name the original")
    if TLP_ORDER.index(card.tlp) < TLP_ORDER.index(original.tlp):
        return (f"'{original.id}' is {original.tlp}, and a translation carries the same words: "
                f"label this brief {original.tlp} or stricter (it is {card.tlp})")
    if primary(card.language) == primary(original.language):
        return f"'{original.id}' is in the same language ({card.language}): a translation is in another"
    return None
