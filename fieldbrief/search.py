"""Full-text search for a static host: a Pagefind index built over the finished site.

In: a site folder with its pages written. Out: ``pagefind/`` inside it, holding the
index (split into small chunks, fetched on demand) and the search interface. Only
brief pages are indexed: they carry ``data-pagefind-body``. The Pagefind binary comes
from the ``pagefind[bin]`` package on PyPI; nothing is downloaded at build time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fieldbrief.errors import BuildFailed


class SearchIndexing:
    """Pagefind indexing the brief pages of a site folder, in the background.

    Start it once the brief pages are written; the rest of the site (which is not
    indexed) can be written meanwhile. :meth:`wait` raises if indexing failed.
    """

    def __init__(self, site: Path) -> None:
        command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-subdir",
                   "pagefind", "--quiet"]
        if (site / "briefs").is_dir():  # read only brief pages; the others are not indexed
            command += ["--glob", "briefs/**/*.html"]
        try:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, text=True)
        except OSError as error:
            raise BuildFailed(f"building the search index failed: {error}") from None

    def wait(self) -> None:
        try:
            _, errors = self.process.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise BuildFailed("building the search index took more than 10 minutes") from None
        if self.process.returncode != 0:
            raise BuildFailed(f"building the search index failed: {errors.strip()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
