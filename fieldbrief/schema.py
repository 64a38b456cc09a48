"""JSON Schemas of the brief and site formats, generated from the pydantic models.

Editors with the YAML language server use them for completion and checking; readers of
a brief's data export (``briefs/<id>/<id>.json``) check it against its own. The
committed copies in ``schema/`` are kept fresh by a test; regenerate them with

    python -m fieldbrief.schema
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from fieldbrief.config import SiteConfig
from fieldbrief.model import Brief
from fieldbrief.render_json import BriefExport

SCHEMAS: dict[str, type[BaseModel]] = {"brief.schema.json": Brief, "site.schema.json": SiteConfig,
                                       "brief-export.schema.json": BriefExport}
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


def schema_text(model: type[BaseModel], file_name: str) -> str:
    """The JSON Schema of ``model`` as the text committed in ``schema/file_name``."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": f"https://fieldbrief.example/schema/{file_name}",
              **model.model_json_schema(mode="validation")}
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(folder: Path = SCHEMA_DIR) -> list[Path]:
    folder.mkdir(exist_ok=True)
    written = []
    for file_name, model in SCHEMAS.items():
        path = folder / file_name
        path.write_text(schema_text(model, file_name), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_schemas():
        sys.stdout.write(f"wrote {written_path}\n")
