"""The site configuration: one optional ``site.yaml`` at the top of the project.

In: the YAML file (or nothing, for all defaults). Out: a frozen :class:`SiteConfig`,
validated like a brief, with every problem at its line and column.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from fieldbrief.errors import quoted
from fieldbrief.load import load_file
from fieldbrief.model import LanguageTag, PageSize, Strict, Text, TlpLabel
from fieldbrief.validate import validate_model

CONFIG_FILE = "site.yaml"
HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$")


def _check_host(value: str) -> str:
    if not HOSTNAME.match(value):
        raise ValueError(f"{quoted(value)} is not a host name: write it without scheme or path, "
                         "e.g. 'tiles.example.org' or 'maps.example.org:8443'")
    return value


def _never_published(value: object) -> object:
    if value in ("TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"):
        raise ValueError(f"{value} briefs are never published on a site; their PDFs go to "
                         "the restricted folder (--restricted-out)")
    return value


class SiteConfig(Strict):
    """Settings for the whole site; every field is optional."""

    title: Text = Field("Situation briefs", description="the site's name, on every page and in the feed")
    description: Text | None = Field(None, description="one line about the site, for its index and feed")
    base_url: Annotated[str, Field(pattern=r"^https?://\S+/$")] | None = Field(
        None, description="absolute URL of the published site, ending in '/'")
    language: LanguageTag = Field("en", description="language of the site's own pages (a BCP 47 tag)")
    default_tlp: TlpLabel = Field("TLP:CLEAR", description="label of briefs that set none")
    publish_tlp: list[Annotated[Literal["TLP:CLEAR", "TLP:GREEN"],
                                BeforeValidator(_never_published)]] = Field(
        ["TLP:CLEAR"], min_length=1,
        description="labels whose briefs go on the site; AMBER, AMBER+STRICT and RED never do")
    page_size: PageSize = Field("A4", description="PDF page size of briefs that set none")
    docx: bool = Field(False, description=(
        "also write each brief as a Word document, briefs/<id>/<id>.docx, for clearance "
        "(the same as --docx)"))
    allowed_hosts: list[Annotated[str, AfterValidator(_check_host)]] = Field(
        [], description="hosts that briefs may load images from over http(s); default none")
    max_brief_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024,
                                 description="largest brief file accepted, at most 64 MiB")
    max_archive_bytes: int = Field(4 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024,
                                   description="largest archived source text accepted, at most 256 MiB")
    verification: Literal["off", "warn", "require"] = Field("warn", description=(
        "checking quotes against archived sources: off; warn (default: a quote that is not "
        "found is an error, a source printing it as narration a warning); require (also a quote "
        "without an archived source is an error)"))
    render_seconds: int = Field(120, ge=1, le=3600,
                                description="time one brief's page and PDF may take to render")
    render_memory_mib: int = Field(2048, ge=256, le=65536,
                                   description="memory one brief's rendering may add, in MiB")


def load_config(path: Path, root: Path | None = None) -> SiteConfig:
    """The configuration in ``path``, or the defaults when there is no such file (nor link).

    With ``root``, the file must be a regular file inside that folder (see ``load_file``).
    """
    if not os.path.lexists(path):
        return SiteConfig()
    return validate_model(load_file(path, root=root), SiteConfig)
