"""Scaffolding: ``fieldbrief new project DIR`` and ``fieldbrief new brief ID``.

In: where to write, and for a brief its id and today's date. Out: the new files, all
gathered before any is written; nothing is written when one of them exists already
(nothing is ever overwritten). A new project builds at once: it holds the example
brief, ``site.yaml`` with every setting commented, the JSON Schemas editors check
against, a ``.gitignore`` keeping built output and build state out of git, and the
CI recipes that check, build and publish the site. A new brief holds every section
with ``<<...>>`` placeholders that validation refuses until they are replaced.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError

from fieldbrief import __version__
from fieldbrief.config import CONFIG_FILE, SiteConfig
from fieldbrief.errors import BuildFailed, display_path
from fieldbrief.model import Id
from fieldbrief.project import PACKAGE_DIR
from fieldbrief.schema import SCHEMAS, schema_text

FILES_DIR = PACKAGE_DIR / "scaffold_files"
EXAMPLE_FILES = ("briefs/exercise-river-delta-floods.yaml", "assets/maps/velande-delta-exercise.svg",
                 "sources/exercise-radio-delta-lower-delta-cut-off.txt")
"""The example brief a new project starts with, the map it shows and the archived text of
one of its sources (its quote and a figure are checked against it, and it is published)."""
RECIPES = {".gitignore": "gitignore", "requirements.txt": "requirements.txt",
           ".github/workflows/publish.yml": "dot-github/workflows/publish.yml",
           ".gitlab-ci.yml": "gitlab-ci.yml"}
"""Files of a new project (keys) and the data files they are copied from (values)."""


def example_root() -> Path:
    """Where the example's files are: package data in an installed wheel, the top of
    the repository in a clone."""
    installed = PACKAGE_DIR / "example"
    return installed if installed.is_dir() else PACKAGE_DIR.parent


def new_project(target: Path) -> list[Path]:
    """Write a new project into ``target`` (created if missing); the files written."""
    files = {CONFIG_FILE: site_yaml(target.resolve().name)}
    files.update({name: (example_root() / name).read_bytes() for name in EXAMPLE_FILES})
    files.update({name: _data(source) for name, source in RECIPES.items()})
    files.update({f"schema/{name}": schema_text(model, name).encode()
                  for name, model in SCHEMAS.items()})
    return _write_all(target, files)


def new_brief(root: Path, brief_id: str, today: date) -> Path:
    """Write ``briefs/<brief_id>.yaml`` in the project at ``root``; the file written."""
    try:
        TypeAdapter(Id).validate_python(brief_id)
    except ValidationError as error:
        raise BuildFailed(f"cannot make a brief: {error.errors()[0]['ctx']['error']}") from None
    text = _data("brief.yaml").decode().replace("__ID__", brief_id)
    files = {f"briefs/{brief_id}.yaml": text.replace("__TODAY__", today.isoformat()).encode()}
    if (root / "briefs" / f"{brief_id}.yml").exists():
        raise BuildFailed(f"{display_path(root / 'briefs' / f'{brief_id}.yml')} already exists; "
                          "fieldbrief new never overwrites a file")
    return _write_all(root, files)[0]


def site_yaml(folder_name: str) -> bytes:
    """``site.yaml`` with every setting of :class:`SiteConfig`, each commented out at its
    default and explained by its description; the title is set."""
    lines = ["# yaml-language-server: $schema=schema/site.schema.json",
             "# Settings for the whole site, written by `fieldbrief new project`. Every setting",
             "# is shown at its default; remove the '# ' before one to change it.",
             f"title: {json.dumps(f'{folder_name} briefs', ensure_ascii=False)}", ""]
    for name, field in SiteConfig.model_fields.items():
        if name == "title":
            continue
        lines.extend(f"# {line}" for line in _wrap(field.description or name))
        default = yaml.safe_dump({name: field.get_default(call_default_factory=True)},
                                 default_flow_style=False, allow_unicode=True, sort_keys=False)
        lines.extend(f"# {line}" for line in default.strip().splitlines())
        lines.append("")
    return "\n".join(lines).encode()


def _wrap(text: str, width: int = 86) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _data(name: str) -> bytes:
    return (FILES_DIR / name).read_bytes().replace(b"__VERSION__", __version__.encode())


def _write_all(root: Path, files: dict[str, bytes]) -> list[Path]:
    """Write ``files`` under ``root``, or nothing at all if any of them exists or would
    be written through a link."""
    existing = [root / name for name in files if os.path.lexists(root / name)]
    if existing:
        more = f" (and {len(existing) - 1} more of its files)" if len(existing) > 1 else ""
        raise BuildFailed(f"{display_path(existing[0])}{more} already exists; "
                          "fieldbrief new never overwrites a file")
    for name in files:
        _refuse_linked_folders(root, Path(name).parent)
    written = []
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("xb") as stream:  # "x": fails rather than overwrite a file made meanwhile
            stream.write(content)
        written.append(path)
    return written


def _refuse_linked_folders(root: Path, folder: Path) -> None:
    """BuildFailed if a folder on the way from ``root`` to ``root/folder`` is a link: a
    linked ``briefs/`` could point anywhere, and new files go only into the project."""
    inside = root
    for part in folder.parts:
        inside = inside / part
        if inside.is_symlink():
            raise BuildFailed(f"{display_path(inside)} is a link; fieldbrief new writes only "
                              "into the project's own folders")
