"""Every published brief as data: briefs/<id>/<id>.json beside its page, linked from the
page and the feed, valid against its committed JSON Schema, and gated by its label."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO, SCENARIOS, TmpProject
from fieldbrief.config import SiteConfig
from fieldbrief.load import load_file
from fieldbrief.render_html import HtmlRenderer
from fieldbrief.render_json import BriefExport, brief_json
from fieldbrief import render_site
from fieldbrief.render_site import SitePage
from fieldbrief.resources import ResourcePolicy
from fieldbrief.validate import SiteRules, validate

ATOM = "{http://www.w3.org/2005/Atom}"
MINIMAL = (SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8")
EXPORT_SCHEMA = json.loads((REPO / "schema/brief-export.schema.json").read_text(encoding="utf-8"))
VALID_BRIEFS = [*sorted((REPO / "briefs").glob("*.yaml")),
                *(SCENARIOS / name for name in ("valid_minimal.yaml", "multiscript_long_timeline.yaml",
                                                "regional_multiscript_times.yaml", "written_values.yaml",
                                                "hostile_text.yaml", "long_key_figures_panel.yaml"))]


def exported(path: Path) -> bytes:
    brief = validate(load_file(path), SiteRules(ResourcePolicy.for_project(REPO))).brief
    return brief_json(brief)


@pytest.mark.parametrize("path", VALID_BRIEFS, ids=lambda path: path.name)
def test_every_brief_exports_json_its_schema_accepts_and_its_model_reads_back(path: Path) -> None:
    document = json.loads(exported(path))
    jsonschema.validate(document, EXPORT_SCHEMA)
    assert BriefExport.model_validate(document).model_dump(mode="json", exclude_none=True) == document


def test_the_export_numbers_sources_and_resolves_references() -> None:
    document = json.loads(exported(SCENARIOS / "regional_multiscript_times.yaml"))
    assert list(document)[:2] == ["format_version", "id"]
    assert (document["format_version"], document["tlp"], document["status"]) == ("1", "TLP:CLEAR", "final")
    assert [(source["id"], source["number"]) for source in document["sources"]] == [
        ("ferry-log", 1), ("governorate-statement", 2), ("radio-sahil", 3),
        ("camp-committee", 4), ("cooperative-note", 5)]
    assert document["figures"][1]["claimed_by"] == {"id": "governorate",
                                                    "name": "Governorate of Idra (fictional)"}
    first = document["timeline"][0]
    assert first["date"] == "2026-10-28/2026-10-30"
    assert first["places"] == [{"id": "wadi-sel", "name": "Wadi Sel ford"},
                               {"id": "bir-aslan", "name": "Bir Aslan"}]
    assert first["sources"] == [{"id": "ferry-log", "number": 1}, {"id": "radio-sahil", "number": 3}]
    quote = document["quotes"][1]
    assert (quote["date"], quote["actor"]["name"], quote["source"]) == (
        "2026-11-03T09:15+01:00", "Governorate of Idra (fictional)",
        {"id": "governorate-statement", "number": 2})
    assert document["quotes"][2]["date"] == "--11-03T05:00Z"
    assert document["as_of"] == "2026-11-03T11:00:00+01:00"
    assert document["assessment"][0]["sources"] == [{"id": "governorate-statement", "number": 2},
                                                     {"id": "ferry-log", "number": 1}]


def test_a_published_brief_has_its_json_linked_from_its_page_and_its_feed_entry(
        project: TmpProject) -> None:
    project.add("regional_multiscript_times.yaml")
    (project.root / "site.yaml").write_text("title: Desk\nbase_url: https://briefs.example.org/\n")
    result = project.run("--no-pdf", "-j", "1")
    assert result.code == 0, result.err  # the site's link check accepts the link
    folder = project.root / "site/briefs/regional-multiscript-times"
    data = (folder / "regional-multiscript-times.json").read_bytes()
    assert data == exported(SCENARIOS / "regional_multiscript_times.yaml")
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert ('<link rel="alternate" type="application/json" title="This brief as data (JSON)" '
            'href="regional-multiscript-times.json">') in page
    entry = ElementTree.parse(project.root / "site/feed.xml").getroot().find(f"{ATOM}entry")
    links = {link.get("type"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    assert links["application/json"] == ("https://briefs.example.org/briefs/regional-multiscript-times/"
                                         "regional-multiscript-times.json")


def test_the_print_page_has_no_json_link() -> None:
    brief = validate(load_file(SCENARIOS / "valid_minimal.yaml"),
                     SiteRules(ResourcePolicy.for_project(REPO))).brief
    html = HtmlRenderer(REPO / "templates", SiteConfig(title="Desk"), ResourcePolicy.for_project(REPO))
    assert "application/json" not in html.print_page(brief, datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert 'type="application/json"' in html.brief_page(brief)


def test_a_restricted_brief_gets_no_json_on_the_site_or_in_the_restricted_folder(
        project: TmpProject) -> None:
    project.write("a.yaml", MINIMAL)
    project.write("r.yaml", MINIMAL.replace("id: valid-minimal", "id: red-brief\ntlp: TLP:RED"))
    result = project.run("-j", "1", "--restricted-out", "private")
    assert result.code == 0, result.err
    assert sorted(p.name for p in (project.root / "site/briefs").rglob("*.json")) == ["valid-minimal.json"]
    assert list((project.root / "private").rglob("*.json")) == []
    assert (project.root / "private/red-brief.pdf").is_file()
    assert "red-brief" not in (project.root / "site/feed.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("smuggled", "reason"), [
    (b'{"format_version": "1", "tlp": "TLP:RED", "status": "final"}',
     "it is labelled TLP:RED, and this site publishes TLP:CLEAR only"),
    (b'{"format_version": "1", "tlp": "TLP:CLEAR", "status": "draft"}',
     "its status is draft, and drafts are published only with --drafts"),
    (b'{"format_version": "1", "id": "valid-minimal"}',
     'it is a brief\'s JSON without its handling label ("tlp" and "status" at its top level; '
     "the JSON export must keep them)"),
    (b'["TLP:CLEAR", "final"]',
     'it is a brief\'s JSON without its handling label ("tlp" and "status" at its top level; '
     "the JSON export must keep them)"),
    (b"\xff not json",
     'it is a brief\'s JSON without its handling label ("tlp" and "status" at its top level; '
     "the JSON export must keep them)"),
])
def test_the_gate_refuses_a_brief_json_whose_label_the_site_may_not_carry(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, smuggled: bytes, reason: str) -> None:
    """Whatever path a JSON file takes into a brief's folder, the label it carries decides."""
    project.write("a.yaml", MINIMAL)
    assert project.run("-j", "1", "--no-pdf").code == 0
    published_before = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    project.write("a.yaml", MINIMAL.replace("title: Minimal valid brief", "title: Changed"))
    real_pages = render_site.site_pages

    def pages_with_a_smuggled_json(*args, **kwargs):  # type: ignore[no-untyped-def]
        yield from real_pages(*args, **kwargs)
        yield SitePage("briefs/valid-minimal/extra.json", "smuggled", lambda: smuggled)

    monkeypatch.setattr(render_site, "site_pages", pages_with_a_smuggled_json)
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: the site may not carry briefs/valid-minimal/extra.json: {reason}; nothing was written")
    after = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    assert after == published_before


def test_estimates_gaps_and_indicators_export_their_citations_resolved() -> None:
    flood = json.loads(exported(SCENARIOS / "flood_sitrep_conflicting_figures.yaml"))
    differing = next(figure for figure in flood["figures"] if "estimates" in figure)
    first = differing["estimates"][0]
    assert set(first["claimed_by"]) == {"id", "name"}
    assert all(set(citation) == {"id", "number"} for citation in first["sources"])
    assert all("estimates" not in figure for figure in flood["figures"] if "value" in figure)
    cited_gaps = [gap for gap in flood["gaps"] if gap["sources"]]
    assert cited_gaps and all(set(c) == {"id", "number"} for c in cited_gaps[0]["sources"])
    cyber = json.loads(exported(SCENARIOS / "cyber_incident_indicators.yaml"))
    assert cyber["indicators"] and all(
        set(citation) == {"id", "number"} for item in cyber["indicators"] for citation in item["sources"])
