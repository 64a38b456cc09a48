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


def index_search(site: Path) -> None:
    command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-subdir", "pagefind",
               "--quiet"]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
    except subprocess.CalledProcessError as error:
        raise BuildFailed(f"building the search index failed: {error.stderr.strip() or error}") from None
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BuildFailed(f"building the search index failed: {error}") from None
