"""The committed JSON Schemas: fresh, and in agreement with the validator."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import REPO, SCENARIOS
from fieldbrief.schema import SCHEMAS, schema_text


class _EditorLoader(yaml.SafeLoader):
    """Reads YAML as an editor's language server does: dates stay text."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _schema(name: str) -> dict:
    return json.loads((REPO / "schema" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("file_name", sorted(SCHEMAS))
def test_committed_schema_is_fresh(file_name: str) -> None:
    committed = (REPO / "schema" / file_name).read_text(encoding="utf-8")
    assert committed == schema_text(SCHEMAS[file_name], file_name), \
        "regenerate with: python -m fieldbrief.schema"


@pytest.mark.parametrize("brief", [*sorted((REPO / "briefs").glob("*.yaml")),
                                   SCENARIOS / "valid_minimal.yaml",
                                   SCENARIOS / "multiscript_long_timeline.yaml"],
                         ids=lambda path: path.name)
def test_valid_briefs_pass_the_schema(brief: Path) -> None:
    document = yaml.load(brief.read_text(encoding="utf-8"), Loader=_EditorLoader)
    jsonschema.validate(document, _schema("brief.schema.json"))


@pytest.mark.parametrize("name", ["invalid_unknown_field.yaml", "invalid_values.yaml"])
def test_invalid_briefs_fail_the_schema(name: str) -> None:
    document = yaml.load((SCENARIOS / name).read_text(encoding="utf-8"), Loader=_EditorLoader)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, _schema("brief.schema.json"))


def test_site_schema_accepts_a_full_config() -> None:
    config = {"title": "Desk briefs", "base_url": "https://briefs.example.org/",
              "default_tlp": "TLP:GREEN", "page_size": "Letter",
              "allowed_hosts": ["tiles.example.org"], "max_brief_bytes": 2048}
    jsonschema.validate(config, _schema("site.schema.json"))
