"""The fetch policy: which files and URLs a brief's page or PDF may load.

Nothing is fetched from the network unless the site configuration lists the host,
and no local file is read unless it lies inside the project's own ``styles/``,
``templates/`` or ``assets/`` folder, or fieldbrief's built-in styles and templates
(after resolving ``..`` and symbolic links).
Validation, the PDF renderer's URL fetcher and the check of the built HTML all ask
this one policy.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from fieldbrief.errors import quoted
from fieldbrief.images import image_file_problem

REMOTE_SCHEMES = ("http", "https")
MAX_FILE_NAME_BYTES = 200
"""An image is published as 'image-<name>': the name must leave room under the 255 bytes
file systems allow."""


def split_url(url: str) -> SplitResult | None:
    """``url`` split into its parts, or None when it is not well formed (an unbalanced
    '[' in its host, a port that is not a number): such a URL is allowed nowhere."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it checks it)
    except ValueError:
        return None
    return parts


@dataclass(frozen=True)
class Image:
    """Where an image allowed by the policy is found, on the web page and in the PDF."""

    web_src: str  # relative to the brief's page, or an allowed URL
    print_src: str  # a file: URL under assets/, or an allowed URL
    local_file: Path | None  # the file to publish beside the page, if local


@dataclass(frozen=True)
class ResourcePolicy:
    root: Path  # the project folder, resolved
    allowed_hosts: frozenset[str] = frozenset()
    builtin_dirs: tuple[Path, ...] = ()  # fieldbrief's own styles and templates, resolved

    @classmethod
    def for_project(cls, root: Path, allowed_hosts: Iterable[str] = (),
                    builtin_dirs: Iterable[Path] = ()) -> ResourcePolicy:
        return cls(root.resolve(), frozenset(host.lower() for host in allowed_hosts),
                   tuple(folder.resolve() for folder in builtin_dirs))

    @property
    def assets_dir(self) -> Path:
        return self.root / "assets"

    @property
    def readable_dirs(self) -> tuple[Path, ...]:
        return (self.root / "styles", self.root / "templates", self.assets_dir)

    def allows_url(self, url: str) -> bool:
        """May a renderer load ``url`` (a ``file:`` or remote URL)?"""
        parts = split_url(url)
        if parts is not None and parts.scheme == "file":
            return not parts.netloc and self._readable(Path(unquote(parts.path)))
        return self.allows_remote(url)

    def allows_remote(self, url: str) -> bool:
        parts = split_url(url)
        return (parts is not None and parts.scheme in REMOTE_SCHEMES and not parts.username
                and not parts.password and self._host_allowed(parts.hostname or "", parts.port))

    def image_problem(self, reference: str) -> str | None:
        """Why a brief may not use ``reference`` as an image, or None when it may."""
        parts = split_url(reference)
        if parts is None:
            return f"{quoted(reference)} is not a well-formed URL"
        scheme = parts.scheme
        if scheme in REMOTE_SCHEMES:
            if self.allows_remote(reference):
                return None
            host = parts.netloc
            return (f"images may not be loaded from {quoted(host)}; list the host in allowed_hosts "
                    "of site.yaml to allow it")
        if scheme:
            return f"{quoted(scheme + ':')} URLs are not allowed; use a file under assets/ or an https URL"
        path = (self.root / reference).resolve()
        if not path.is_relative_to(self.assets_dir):
            return f"{quoted(reference)} is outside the project's assets/ folder"
        if not path.is_file():
            return f"{quoted(reference)} does not exist"
        if len(path.name.encode()) > MAX_FILE_NAME_BYTES:
            return (f"the file name of {quoted(reference)} is longer than {MAX_FILE_NAME_BYTES} "
                    "bytes; rename the file")
        return image_file_problem(path)

    def image(self, reference: str) -> Image:
        """Locate an image that :meth:`image_problem` accepted."""
        if self.allows_remote(reference):
            return Image(reference, reference, None)
        path = (self.root / reference).resolve()
        return Image(f"image-{path.name}", path.as_uri(), path)

    def unreadable_inputs(self) -> list[str]:
        """What in templates/, styles/ or assets/ a build may not read: a link leading
        outside its folder (or such a folder itself), a loop of links, a pipe or device.
        A build refuses them all before it reads anything."""
        found = []
        for folder in self.readable_dirs:
            if folder.is_symlink():
                found.append(f"{folder.name}/")
                continue
            for parent, folders, files in os.walk(folder):
                for name in (*folders, *files):
                    if not _stays_inside(Path(parent, name), folder):
                        found.append(Path(parent, name).relative_to(self.root).as_posix())
        return sorted(found)

    def _readable(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved.is_relative_to(folder)
                   for folder in (*self.readable_dirs, *self.builtin_dirs))

    def _host_allowed(self, host: str, port: int | None) -> bool:
        host = host.lower()
        return host in self.allowed_hosts or (port is not None and f"{host}:{port}" in self.allowed_hosts)


def _stays_inside(path: Path, folder: Path) -> bool:
    """A folder or regular file that, with every link followed, lies inside ``folder``."""
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, or a loop of links
        return False
    return real.is_relative_to(folder) and (real.is_dir() or real.is_file())


LOADING_ATTRIBUTES = {"img": "src", "script": "src", "iframe": "src", "frame": "src",
                      "embed": "src", "source": "src", "video": "src", "audio": "src",
                      "track": "src", "input": "src", "object": "data", "link": "href"}
"""Tags whose attribute makes a browser load something as the page opens."""
LOADING_LINKS = {"stylesheet", "icon", "preload", "modulepreload", "manifest", "prefetch"}


TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>")
ATTRIBUTE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
TELLING = re.compile(r"\b(?:id|src|href|data)\s*=", re.IGNORECASE)
"""In a tag's attributes, where one that :func:`scan_page` reads may be given a value (a tag
without any, most of a listing page's, is not read further)."""


@dataclass
class PageParts:
    """What a page loads, what it links to (each once), and the ids it offers as targets."""

    loads: dict[str, None] = field(default_factory=dict)  # dicts: ordered sets
    links: dict[str, None] = field(default_factory=dict)
    ids: set[str] = field(default_factory=set)


def scan_page(page: str) -> PageParts:
    """The start tags of a page fieldbrief wrote (a scan, much faster than a full parse;
    brief text reaches pages escaped, so it can never form a tag)."""
    parts = PageParts()
    for tag in TAG.finditer(page):
        if not tag[2] or not TELLING.search(tag[2]):
            continue
        name = tag[1].lower()
        values = {m[1].lower(): html.unescape(m[2] or m[3] or m[4] or "")
                  for m in ATTRIBUTE.finditer(tag[2])}
        if values.get("id"):
            parts.ids.add(values["id"])
        attribute = LOADING_ATTRIBUTES.get(name)
        is_loading_link = bool(LOADING_LINKS & set(values.get("rel", "").lower().split()))
        if attribute and values.get(attribute) and (name != "link" or is_loading_link):
            parts.loads[values[attribute]] = None
        elif name in ("a", "link") and values.get("href"):
            parts.links[values["href"]] = None
    return parts


def site_problems(site: Path, policy: ResourcePolicy, pages: Iterable[str],
                  scanned: dict[str, PageParts]) -> list[str]:
    """Every broken internal link, and everything a page would load that it may not,
    in the HTML ``pages`` of the site folder ``site`` (``scanned``: pages already scanned).

    A page may load files of the site itself and URLs on allowed hosts, nothing else;
    a link inside the site must reach an existing file, and its #fragment an id there.
    """
    files = SiteFiles(site)
    parsed = _ParsedPages(site)
    parsed.update(scanned)
    problems = []
    for name in sorted(pages):
        parts = parsed[name]
        for reference in parts.loads:
            problems.extend(_load_problem(name, reference, files, policy))
        for reference in parts.links:
            problems.extend(_link_problem(name, reference, files, parsed))
    return problems


class SiteFiles:
    """The regular files under a site folder (links not followed), by path relative to it:
    ``relative in files`` looks at the names on the way to ``relative`` only (each folder
    once), so that checking the links of a few pages does not walk a site of thousands of
    files."""

    def __init__(self, site: Path) -> None:
        self.site = str(site)
        self._folders: dict[str, bool] = {"": True}  # each folder looked at: is it one

    def __contains__(self, relative: object) -> bool:
        if not isinstance(relative, str):
            return False
        folder, _, name = relative.rpartition("/")
        if relative.startswith("/") or name in ("", ".", "..") or not self._is_folder(folder):
            return False  # no file of the site is named with a leading '/' or a part '.', '..' or ''
        return _kind(f"{self.site}/{relative}") == stat.S_IFREG

    def _is_folder(self, folder: str) -> bool:
        """Whether ``folder`` is a folder of the site, reached without following a link."""
        if folder not in self._folders:
            parent, _, name = folder.rpartition("/")
            self._folders[folder] = (name not in ("", ".", "..") and self._is_folder(parent)
                                     and _kind(f"{self.site}/{folder}") == stat.S_IFDIR)
        return self._folders[folder]


def _kind(path: str) -> int | None:
    """The kind of file at ``path`` (stat.S_IFREG, S_IFDIR...), a link's own; None if none."""
    try:
        return stat.S_IFMT(os.lstat(path).st_mode)
    except (OSError, ValueError):  # ValueError: a name with a NUL byte
        return None


class _ParsedPages(dict[str, PageParts]):
    """Pages of a site folder, each parsed the first time it is needed."""

    def __init__(self, site: Path) -> None:
        super().__init__()
        self.site = site

    def __missing__(self, name: str) -> PageParts:
        parts = self[name] = scan_page((self.site / name).read_text(encoding="utf-8"))
        return parts


def _load_problem(page: str, reference: str, files: SiteFiles, policy: ResourcePolicy) -> Iterator[str]:
    parts = split_url(reference)
    if parts is None:
        yield f"{page} would load {reference}, which is not a well-formed URL"
    elif parts.scheme:
        if not policy.allows_remote(reference):
            yield f"{page} would load {reference}, which is not on an allowed host"
    elif _target(page, reference) not in files:
        yield f"{page} would load {reference}, which is not a file of the site"


def _link_problem(page: str, reference: str, files: SiteFiles,
                  pages: _ParsedPages) -> Iterator[str]:
    parts = split_url(reference)
    if parts is None:
        yield f"{page} links to {reference}, which is not a well-formed URL"
        return
    if parts.scheme or parts.netloc:
        return  # external links are the reader's choice, not a broken page
    target = _target(page, reference) if parts.path else page
    if target not in files:
        yield f"{page} links to {reference}, which does not exist"
    elif (parts.fragment and target.endswith(".html")
          and unquote(parts.fragment) not in pages[target].ids):
        yield f"{page} links to {reference}, but {target} has no id '{unquote(parts.fragment)}'"


def _target(page: str, reference: str) -> str:
    """The site file a relative reference from ``page`` points at."""
    path = unquote(urlsplit(reference).path)
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    return f"{target}/index.html" if path.endswith("/") or target == "." else target
