"""Quotes, sources, actors and places say more: who translated, whether words are only
attributed, a source's language and original title, more kinds, other names of a place
and its area. Each is read back from the built page and PDF."""

from __future__ import annotations

import re
import typing

import pytest

from conftest import SCENARIOS, TmpProject, pdf_pages_text
from fieldbrief.model import ActorKind, SourceKind

SCENARIO = "cyber_incident_indicators.yaml"
BRIEF_ID = "exercise-cyber-incident-indicators"
OLD_SOURCE_KINDS = ("news report", "official statement", "social-media claim", "press conference",
                    "report", "interview", "dataset", "imagery", "other")
OLD_ACTOR_KINDS = ("armed group", "state forces", "government", "international organisation",
                   "foreign military", "civil society", "population", "media", "other")


def clear_variant() -> str:
    text = (SCENARIOS / SCENARIO).read_text(encoding="utf-8")
    return re.sub(r"tlp: TLP:AMBER\+STRICT\nhandling_note: .*\n", "tlp: TLP:CLEAR\n", text)


def minimal(extra_source: str = "", extra: str = "") -> str:
    text = (SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8")
    return text.replace("    kind: news report\n", f"    kind: news report\n{extra_source}") + extra


@pytest.fixture
def built(project: TmpProject) -> tuple[str, str]:
    """The page's HTML and the PDF's text of the scenario at TLP:CLEAR."""
    project.write(SCENARIO, clear_variant())
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    folder = project.root / "site/briefs" / BRIEF_ID
    page = (folder / "index.html").read_text(encoding="utf-8")
    text = " ".join(pdf_pages_text(folder / f"{BRIEF_ID}.pdf"))
    return page, " ".join(text.split())


def test_quotes_show_their_translator_and_attributed_words_as_attributed(
        built: tuple[str, str]) -> None:
    page, pdf = built
    assert ('<p class="translation" lang="en">Translation by Cyber desk (exercise): “Our billing '
            'systems were encrypted; the water keeps running.”</p>') in page
    assert ('<span class="attribution">Attributed to</span> <span class="speaker">Salt Tide</span> '
            'by Salt Tide leak site (fictional)') in page
    assert "Translation by Cyber desk (exercise): “Our billing systems were encrypted" in pdf
    assert "Attributed to Salt Tide by Salt Tide leak site (fictional)" in pdf
    assert "— Ana Ribeiro, spokesperson" in pdf  # direct words keep the dash


def test_sources_show_their_language_original_title_and_kind(built: tuple[str, str]) -> None:
    page, pdf = built
    assert ('<span class="original-title" lang="pt">(Comunicado sobre os sistemas de faturação)'
            '</span>') in page
    assert "Velande Water Company (fictional) · Press release · in Portuguese · published 3 November 2026" in pdf
    assert "Velande CERT (fictional) · Advisory · in English" in pdf
    assert "Salt Tide leak site (fictional) · Leak site" in pdf


def test_actor_kinds_are_shown_as_written(built: tuple[str, str]) -> None:
    page, pdf = built
    for kind in ("Criminal group", "Company", "Humanitarian organisation", "UN agency",
                 "Local authority", "Individual"):
        assert f"<td>{kind}</td>" in page
    assert "UN Water Desk (fictional) UN agency" in pdf


def test_places_show_other_names_and_their_area(built: tuple[str, str]) -> None:
    page, pdf = built
    assert '<span class="also-known-as">also Porto Salemá, Puerto Salema</span>' in page
    assert "<td>Lower Delta district, Exercise area (ZZ)" in page
    assert "also Porto Salemá, Puerto Salema" in pdf
    assert "Lower Delta district, Exercise area (ZZ)" in pdf
    assert "12.40° S, 39.125° E" in pdf  # the precision written


@pytest.mark.parametrize("kind", typing.get_args(SourceKind))
def test_every_source_kind_is_valid(project: TmpProject, kind: str) -> None:
    project.write("b.yaml", minimal().replace("kind: news report", f"kind: {kind}"))
    assert project.run("check", "briefs/b.yaml").code == 0


@pytest.mark.parametrize("kind", typing.get_args(ActorKind))
def test_every_actor_kind_is_valid(project: TmpProject, kind: str) -> None:
    actor = f"actors:\n  - id: a\n    name: A\n    kind: {kind}\n"
    project.write("b.yaml", minimal(extra=actor))
    assert project.run("check", "briefs/b.yaml").code == 0


def test_existing_kinds_stay_valid() -> None:
    assert set(OLD_SOURCE_KINDS) <= set(typing.get_args(SourceKind))
    assert set(OLD_ACTOR_KINDS) <= set(typing.get_args(ActorKind))


def test_wrong_new_fields_are_reported_at_their_place(project: TmpProject) -> None:
    quote = ("quotes:\n  - text: Words.\n    speaker: Someone\n    language: en\n"
             "    attribution: indirect\n    source: only-source\n")
    place = "places:\n  - id: p\n    name: P\n    country: ML\n    also_known_as: Tombouctou\n"
    project.write("b.yaml", minimal("    language: French\n", quote + place))
    result = project.run("check", "briefs/b.yaml")
    f = "briefs/b.yaml"
    assert result.err.splitlines() == [
        f"{f}:21:15: sources[0].language: 'French' does not have the expected form "
        "(^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$)",
        f"{f}:28:18: quotes[0].attribution: 'indirect' is not allowed; use one of 'direct' or "
        "'attributed'",
        f"{f}:34:20: places[0].also_known_as: must be a list, not a single value; write [Tombouctou]",
        "error: 3 problems in 1 file; nothing was written",
    ]
