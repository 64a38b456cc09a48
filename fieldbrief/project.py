"""The project: where briefs, templates and styles live, its site configuration, and
which briefs there are.

In: the project's root folder (and ``site.yaml`` in it, if any). Out: a :class:`Project`
naming every input folder, and the sorted list of brief files. Nothing here reads a brief.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fieldbrief.config import CONFIG_FILE, SiteConfig, load_config
from fieldbrief.load import LoadedFile, load_file, read_regular_file
from fieldbrief.resources import ResourcePolicy

BRIEF_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Project:
    root: Path
    config: SiteConfig = field(default_factory=SiteConfig)

    @classmethod
    def load(cls, root: Path, config_file: Path | None = None) -> Project:
        """The project at ``root`` with its ``site.yaml`` (or ``config_file``) read and checked."""
        return cls(root, load_config(config_file or root / CONFIG_FILE, root))

    @property
    def briefs_dir(self) -> Path:
        return self.root / "briefs"

    @property
    def templates_dir(self) -> Path:
        return self.root / "templates"

    @property
    def styles_dir(self) -> Path:
        return self.root / "styles"

    @property
    def resources(self) -> ResourcePolicy:
        """What a rendered document may load: project files, and listed hosts."""
        return ResourcePolicy.for_project(self.root, self.config.allowed_hosts)

    def load_brief(self, path: Path) -> LoadedFile:
        """Read one brief: a regular file inside the project, within the size limit."""
        return load_file(path, self.config.max_brief_bytes, self.root)

    def brief_bytes(self, path: Path) -> bytes:
        """The bytes of one brief file, under the same rules as :meth:`load_brief`."""
        return read_regular_file(path, self.config.max_brief_bytes, self.root)

    def brief_files(self) -> list[Path]:
        if not self.briefs_dir.is_dir():
            return []
        return sorted(path for path in self.briefs_dir.iterdir()
                      if path.suffix in BRIEF_SUFFIXES and path.is_file())

