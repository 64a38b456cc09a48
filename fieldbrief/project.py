"""The project: where briefs, templates and styles live, its site configuration, and
which briefs there are.

In: the project's root folder (and ``site.yaml`` in it, if any). Out: a :class:`Project`
naming every input folder, and the sorted list of brief files. Nothing here reads a brief.

Templates and stylesheets are found on a search path, file by file: the project's own
``templates/`` and ``styles/`` first, then fieldbrief's built-in ones. A desk overrides
one partial or one stylesheet by putting a file of that name in its project; everything
else stays built-in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fieldbrief.config import CONFIG_FILE, SiteConfig, load_config
from fieldbrief.load import LoadedFile, load_file, read_regular_file
from fieldbrief.resources import ResourcePolicy

BRIEF_SUFFIXES = (".yaml", ".yml")
PACKAGE_DIR = Path(__file__).resolve().parent


def builtin_dir(name: str) -> Path:
    """fieldbrief's own ``templates`` or ``styles`` folder: package data in an installed
    wheel (``fieldbrief/<name>``), the folder at the top of the repository in a clone."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


BUILTIN_TEMPLATES = builtin_dir("templates")
BUILTIN_STYLES = builtin_dir("styles")


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
    def template_dirs(self) -> tuple[Path, ...]:
        """Where templates are looked up, in order: the project's, then the built-in ones."""
        return _search_path(self.templates_dir, BUILTIN_TEMPLATES)

    @property
    def style_dirs(self) -> tuple[Path, ...]:
        return _search_path(self.styles_dir, BUILTIN_STYLES)

    def stylesheets(self) -> dict[str, Path]:
        return stylesheets_on(self.style_dirs)

    @property
    def resources(self) -> ResourcePolicy:
        """What a rendered document may load: project files, built-in styles and
        templates, and listed hosts."""
        return ResourcePolicy.for_project(self.root, self.config.allowed_hosts,
                                          (BUILTIN_STYLES, BUILTIN_TEMPLATES))

    def load_brief(self, path: Path) -> LoadedFile:
        """Read one brief: a regular file inside the project, within the size limit."""
        return load_file(path, self.config.max_brief_bytes, self.root)

    def brief_bytes(self, path: Path, resolve: Callable[[Path], Path] = Path.resolve) -> bytes:
        """The bytes of one brief file, under the same rules as :meth:`load_brief`
        (``resolve`` finds real paths: see :func:`~fieldbrief.load.read_regular_file`)."""
        return read_regular_file(path, self.config.max_brief_bytes, self.root, resolve=resolve)

    def brief_files(self) -> list[Path]:
        if not self.briefs_dir.is_dir():
            return []
        # Not only regular files: a folder or pipe named like a brief is refused at its
        # name when read, rather than passed over in silence.
        return sorted(path for path in self.briefs_dir.iterdir() if path.suffix in BRIEF_SUFFIXES)



def stylesheets_on(search_path: Sequence[Path]) -> dict[str, Path]:
    """Every stylesheet by file name, each from the first folder of ``search_path``
    that has it, sorted by name."""
    found: dict[str, Path] = {}
    for folder in reversed(search_path):
        found.update((sheet.name, sheet) for sheet in folder.glob("*.css") if sheet.is_file())
    return dict(sorted(found.items()))


def _search_path(own: Path, builtin: Path) -> tuple[Path, ...]:
    """``own`` then ``builtin``; once, when they are the same folder (building the
    repository's own briefs in a clone)."""
    return (own,) if own.resolve() == builtin.resolve() else (own, builtin)
