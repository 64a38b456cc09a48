"""Full-text search for a static host: Pagefind indexes of the brief pages, in shards.

In: the staged site with its brief pages written or kept, which brief pages the site holds
(with their language), and which of them this build wrote. Out: ``pagefind/`` inside it:
Pagefind's search code (kept from the published site, or written once per Pagefind
version), one Pagefind bundle per shard, and ``shards.json``, from which the search page's
script merges the shards of its language in the browser (Pagefind's ``mergeIndex``).

Why shards: Pagefind has no incremental mode, and indexing costs about 9 ms of CPU per brief
page, so re-indexing a thousand pages for one edited brief took longer than the rest of the
build. Each page belongs to one shard, chosen by its language and a stable hash of its path;
a shard is indexed again only when one of its pages was written in this build or its set of
pages changed (the set, with the Pagefind version, names the shard's folder), and otherwise
kept from the published site, provided each of its files still holds the bytes recorded when
it was written (:meth:`SearchIndexing.fingerprints`, kept beside the build's manifest). One
shard holds one language, so the page searches exactly the index Pagefind would have chosen
for it in a single bundle.

Only brief pages are indexed, and Pagefind reads only what carries ``data-pagefind-body``.
The Pagefind binary comes from the ``pagefind[bin]`` package on PyPI; nothing is downloaded
at build time.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from fieldbrief.errors import BuildFailed
from fieldbrief.publish import FilesIn, Staging, beside_site, safe_join
from fieldbrief.incremental import kept_files, written_digest
from fieldbrief.stamp import regular_file_bytes, replace_file

BUNDLE = "pagefind"
"""The search folder inside the site."""
LISTING = f"{BUNDLE}/shards.json"
"""The shards and the search code, as the search page's script reads them."""
SHARDS_PER_LANGUAGE = 16
"""Buckets per language: more make one edit cheaper to index and a search fetch more files
(BENCHMARKS.md, issue 16, has the figures that chose this)."""
SHARD_FILES = ("pagefind-entry.json", "pagefind-worker.js")
"""Besides its index data (subfolders, ``*.pf_meta``, ``wasm.*.pagefind``), what a shard keeps of
Pagefind's output: a shard may be the first index the page opens, which loads Pagefind's
WebAssembly and worker from its own folder. The interface files live once in ``pagefind/``."""
INTERFACE_FILES = ("pagefind.js", "pagefind-ui.js", "pagefind-ui.css")
"""What the search page loads from ``pagefind/`` itself."""
TIMEOUT = 600
EMPTY_PAGE = '<!DOCTYPE html><html lang="en"><body><main data-pagefind-body>fieldbrief</main></body></html>'


@dataclass(frozen=True)
class Shard:
    """The brief pages of one language that hash into one bucket."""

    language: str
    bucket: int
    pages: tuple[str, ...]  # relative to the site, sorted
    folder: str  # named by what it holds: other pages, or another Pagefind, make another folder


@functools.cache
def pagefind_version() -> str:
    return version("pagefind_bin")


def bucket_of(page: str) -> int:
    """A stable bucket for a page path (the same on every machine and every run)."""
    return int.from_bytes(hashlib.sha256(page.encode()).digest()[:4], "big") % SHARDS_PER_LANGUAGE


def plan_shards(pages: dict[str, str]) -> list[Shard]:
    """The shards of ``pages`` (page path -> its language), in a stable order."""
    groups: dict[tuple[str, int], list[str]] = {}
    for page, language in pages.items():
        groups.setdefault((language.lower(), bucket_of(page)), []).append(page)
    shards = []
    for (language, bucket), members in sorted(groups.items()):
        held = tuple(sorted(members))
        name = hashlib.sha256("\n".join((pagefind_version(), *held)).encode()).hexdigest()[:12]
        shards.append(Shard(language, bucket, held, f"{language}-{bucket:02d}-{name}"))
    return shards


class SearchIndexing:
    """The search folder of a staged site, its changed shards indexed in the background.

    Start it once the brief pages are written or kept; the rest of the site (which is not
    indexed) can be written meanwhile. :meth:`wait` raises if indexing failed.
    """

    def __init__(self, site: Staging, pages: dict[str, str], jobs: int = 1,
                 recorded: dict[str, str] | None = None) -> None:
        """``recorded``: the fingerprints of the published search folder's files (see
        :meth:`fingerprints`), when the published site is the one the last build wrote (and
        no --force). A file is carried over only if proven to be the bytes recorded; without
        a record nothing of the published search folder is trusted, and all is indexed."""
        self.site = site
        self.shards = plan_shards(pages)
        self.recorded: dict[str, dict[str, str]] = {}
        """The fingerprints recorded, by the folder of ``pagefind/`` they are in ('' for its own files)."""
        for name, print_ in (recorded or {}).items():
            parts = name.split("/")
            self.recorded.setdefault(parts[1] if len(parts) > 2 else "", {})[name] = print_
        self.kept: dict[str, dict[str, str]] = {}
        """The files carried over (fingerprints refreshed), by shard folder ('' for the code)."""
        self.code_files: tuple[str, ...] = ()
        self.written_code: dict[str, str] = {}
        self.written_listing: dict[str, str] = {}
        self.running: set[subprocess.Popen[str]] = set()
        self.lock = threading.Lock()
        self.stopped = False
        self.carried_counts: dict[str, dict[str, int]] = {}
        """The pages of each shard carried over, by language, as its published entry counts them."""
        self.scratch = beside_site(site.out_dir, "search")
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        self.futures: list[Future[None]] = []
        try:
            with FilesIn(site.out_dir) as published:
                kept = [shard for shard in self.shards if self._can_carry_over(shard, published)]
                for shard in self.shards:
                    if shard not in kept:
                        self.futures.append(self.pool.submit(self._index, *self._gathered(shard)))
                for shard in kept:  # while the changed shards are indexed
                    self.site.keep_all(self.kept[shard.folder])
                if not self._code_carried_over(published):
                    self.futures.append(self.pool.submit(self._write_code))
        except BaseException:  # no caller can stop what was started: Pagefind would write on
            self.stop()        # into a staged site being removed, with the site's lock let go
            raise

    def wait(self) -> None:
        """Finish, and list the shards (on failure, :meth:`stop` ends what still runs)."""
        for future in self.futures:
            future.result()
        self.pool.shutdown()
        listing = self._listing()
        self.site.write(LISTING, listing)
        self.written_listing = {LISTING: written_digest(listing)}

    def fingerprints(self) -> dict[str, str]:
        """Every file of the new search folder, by path in the site: the digest of its
        bytes, then its seal if one was taken (call it after :meth:`wait`). The next build
        carries a file over only if it still holds these bytes (a file of a kept shard
        edited by hand was carried over by every later build), and the listing never (it
        is written by every build); a build with nothing else to do checks them all."""
        found = {name: recorded for files in self.kept.values() for name, recorded in files.items()}
        for shard in self.shards:
            if shard.folder not in self.kept:
                found.update(_digests(self.site.path, f"{BUNDLE}/{shard.folder}"))
        found.update(self.written_code)
        found.update(self.written_listing)
        return found

    def stop(self) -> None:
        """Stop what still runs (after a failure elsewhere in the build)."""
        with self.lock:
            self.stopped = True
            for process in self.running:
                if process.poll() is None:
                    process.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _can_carry_over(self, shard: Shard, published: FilesIn) -> bool:
        """Whether an unchanged shard is carried over from the published site: none of its
        pages was written in this build, and the published site holds each file recorded of
        a shard of exactly its pages as the bytes recorded, its entry counting them all (an
        entry edited by hand into something else ended every build in a traceback, or was
        listed with its counts). Only those files are carried over: a link, or any other
        file put there, is left behind."""
        folder = f"{BUNDLE}/{shard.folder}/"
        recorded = self.recorded.get(shard.folder, {})
        if any(page in self.site.written for page in shard.pages) \
                or f"{folder}pagefind-entry.json" not in recorded \
                or not all(_shard_data(name[len(folder):]) for name in recorded):
            return False
        proven = kept_files(published, recorded)
        counts = _page_counts(published, f"{folder}pagefind-entry.json")
        if proven is None or counts is None or sum(counts.values()) != len(shard.pages):
            return False
        self.carried_counts[shard.folder] = counts
        self.kept[shard.folder] = proven
        return True

    def _code_carried_over(self, published: FilesIn) -> bool:
        """Carry Pagefind's search code over when the published site holds the files
        recorded as this version's code (the record names the Pagefind that wrote it) as the
        bytes recorded; none named as a shard folder of this build (one claimed for
        Pagefind, with the file carried into it, failed the build)."""
        recorded = {name: print_ for name, print_ in self.recorded.get("", {}).items()
                    if name != LISTING}
        names = [name[len(BUNDLE) + 1:] for name in recorded]
        folders = {shard.folder for shard in self.shards}
        if not all(_code_file(name) and name not in folders for name in names) \
                or not set(INTERFACE_FILES) <= set(names) \
                or (proven := kept_files(published, recorded)) is None:
            return False
        self.site.keep_all(proven)
        self.kept[""] = proven
        self.code_files = tuple(sorted(names))
        return True

    def _gathered(self, shard: Shard) -> tuple[Path, Path]:
        """The shard's pages alone, at their own addresses, in a scratch folder, and the
        claimed folder its index goes to. Done here, not in the indexing thread: a thread
        making a file waits at each step for this one, busy rendering the site, to yield."""
        pages = self.scratch / shard.folder
        for page in shard.pages:
            target = safe_join(pages, page)
            target.parent.mkdir(parents=True, exist_ok=True)
            _link(self.site.path / page, target)
        return pages, self.site.claim(f"{BUNDLE}/{shard.folder}")

    def _index(self, pages: Path, output: Path) -> None:
        """Index the ``pages`` gathered for a shard into its folder ``output``."""
        self._run(pages, output)
        entry = json.loads((output / "pagefind-entry.json").read_text(encoding="utf-8"))
        wasm = {f"wasm.{index.get('wasm') or 'unknown'}.pagefind" for index in entry["languages"].values()}
        for path in list(output.iterdir()):  # the interface, and the WebAssembly of no language here
            if path.is_file() and (not _shard_file(path.name) or
                                   path.name.startswith("wasm.") and path.name not in wasm):
                path.unlink()

    def _write_code(self) -> None:
        """Pagefind's search code (script, interface, styles), from indexing a placeholder page
        (its index is thrown away: only the code is kept)."""
        with tempfile.TemporaryDirectory(prefix="fieldbrief-search-") as scratch:
            (Path(scratch) / "site").mkdir()
            (Path(scratch) / "site" / "index.html").write_text(EMPTY_PAGE, encoding="utf-8")
            self._run(Path(scratch) / "site", Path(scratch) / "out")
            code = sorted(path.name for path in (Path(scratch) / "out").iterdir()
                          if path.is_file() and not _shard_file(path.name))
            for name in code:
                content = (Path(scratch) / "out" / name).read_bytes()
                self.site.write(f"{BUNDLE}/{name}", content)
                self.written_code[f"{BUNDLE}/{name}"] = written_digest(content)
            self.code_files = tuple(code)

    def _run(self, source: Path, output: Path) -> None:
        command = [_executable(), "--site", str(source), "--output-path", str(output), "--quiet"]
        with self.lock:
            if self.stopped:
                raise BuildFailed("building the search index was stopped")
            try:
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.PIPE, text=True)
            except OSError as error:
                raise BuildFailed(f"building the search index failed: {error}") from None
            self.running.add(process)
        try:
            _, errors = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise BuildFailed("building the search index took more than 10 minutes") from None
        finally:
            with self.lock:
                self.running.discard(process)
        if process.returncode != 0:
            raise BuildFailed(f"building the search index failed: {_why(process.returncode, errors)}")

    def _listing(self) -> bytes:
        """``shards.json``: each shard's folder and its pages by language, as Pagefind counted them."""
        shards = []
        for shard in self.shards:
            counts = self.carried_counts.get(shard.folder)
            if counts is None:  # indexed in this build
                entry = json.loads((self.site.path / BUNDLE / shard.folder / "pagefind-entry.json")
                                   .read_text(encoding="utf-8"))
                counts = {language: index["page_count"] for language, index in entry["languages"].items()}
            shards.append({"path": f"{shard.folder}/", "languages": counts})
        return json.dumps({"pagefind": pagefind_version(), "code": list(self.code_files),
                           "shards": shards}).encode()


def _shard_file(name: str) -> bool:
    return name in SHARD_FILES or name.endswith(".pf_meta") or \
        (name.startswith("wasm.") and name.endswith(".pagefind"))


PAGEFIND_NAME = re.compile(r"[A-Za-z0-9_.-]+")
"""Every name Pagefind gives a file or folder it writes."""
SHARD_DATA = {"fragment": ".pf_fragment", "index": ".pf_index", "filter": ".pf_filter"}
"""The folders of a shard's index data, and the ending of every file Pagefind writes in each."""


def _code_file(name: str) -> bool:
    """A name ``shards.json`` may list as search code: a file of ``pagefind/`` itself, not
    of a shard (a shard indexed again must never start from a kept file: Pagefind would
    write into it, and into every file linked to it)."""
    return "/" not in name and name not in ("", ".", "..", "shards.json") and not name.startswith(".") \
        and not _shard_file(name)


def _shard_data(relative: str) -> bool:
    """A file Pagefind writes in a shard folder (``relative`` to it, '/'-separated):
    anything else found there was put there by someone else, and is not carried over.
    Pagefind names its files with letters, digits, ``_``, ``-`` and ``.`` only (a name with a
    backslash, kept, failed every build staged without the kept copy as one writing outside
    the site)."""
    parts = relative.split("/")
    if not all(PAGEFIND_NAME.fullmatch(part) for part in parts):
        return False
    if len(parts) == 1:
        return _shard_file(parts[0])
    return len(parts) == 2 and parts[1].endswith(SHARD_DATA.get(parts[0], "/"))


def _digests(site: Path, folder: str) -> dict[str, str]:
    """The digest of each regular file under ``folder`` of the staged ``site`` (as written
    there by Pagefind), by path in the site."""
    found = {}
    for root, _, names in os.walk(site / folder):
        for name in names:
            relative = (Path(root) / name).relative_to(site).as_posix()
            try:
                found[relative] = written_digest(regular_file_bytes(Path(root) / name))
            except OSError:
                continue  # not a regular file: never carried over
    return found


def load_record(path: Path, site_build: str | None) -> dict[str, str] | None:
    """The fingerprints of the search folder of the site of build ``site_build``, as saved
    at ``path`` by that build with this Pagefind; None if there are none to trust."""
    try:
        record = json.loads(regular_file_bytes(path))
        files = record["files"]
        if record["site_build"] != site_build or record["pagefind"] != pagefind_version() \
                or not all(isinstance(name, str) and _search_path(name) and isinstance(print_, str)
                           for name, print_ in files.items()):
            return None
    except (OSError, ValueError, RecursionError, KeyError, TypeError, AttributeError):
        return None
    return files


def _search_path(name: str) -> bool:
    """Whether ``name`` is the path of a file of the search folder as a build records it:
    one spelling only (a kept file named 'fragment/./x' was carried over under that name,
    and the settle removed the file under its own as never kept)."""
    parts = name.split("/")
    return len(parts) > 1 and parts[0] == BUNDLE \
        and all(PAGEFIND_NAME.fullmatch(part) and part not in (".", "..") for part in parts[1:])


def save_record(path: Path, site_build: str, files: dict[str, str]) -> None:
    """Save the fingerprints of the search folder of build ``site_build`` (see :func:`load_record`)."""
    replace_file(path, json.dumps({"site_build": site_build, "pagefind": pagefind_version(),
                                   "files": files}).encode())


MAX_ENTRY_BYTES = 2**20


def _page_counts(published: FilesIn, entry: str) -> dict[str, int] | None:
    """The pages of a shard by language, as its ``pagefind-entry.json`` (at ``entry`` in the
    published site) counts them; None if it is not a regular file holding such counts."""
    try:
        with published.open(entry) as file:
            languages = json.loads(file.read(MAX_ENTRY_BYTES)).get("languages")
        counts = {language: index["page_count"] for language, index in languages.items()}
    except (OSError, ValueError, RecursionError, AttributeError, KeyError, TypeError, BuildFailed):
        return None
    if not all(isinstance(language, str) and type(count) is int and count >= 0
               for language, count in counts.items()):
        return None
    return counts


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _why(returncode: int, errors: str) -> str:
    """Why Pagefind failed: in its own words, else by how it ended (a Pagefind killed by
    the system, out of memory, printed nothing, and the build said only 'failed: ')."""
    if errors.strip():
        return errors.strip()
    if returncode < 0:
        return (f"Pagefind was stopped by signal {signal.Signals(-returncode).name} and said "
                "nothing (the system may have run out of memory)")
    return f"Pagefind ended with exit status {returncode} and said nothing"


def _executable() -> str:
    """The Pagefind binary of the ``pagefind_bin`` package (run directly: no Python start-up)."""
    from pagefind_bin import get_executable
    return str(get_executable())
