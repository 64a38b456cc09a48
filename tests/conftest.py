"""Shared fixtures: a throw-away project with chosen briefs, and the CLI run in-process."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser
from pypdf import PdfReader

from fieldbrief import stamp
from fieldbrief.cli import main

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "tests" / "briefs"


@dataclass
class Run:
    code: int
    out: str
    err: str


class TmpProject:
    """A project folder with the real templates, styles, archived sources and series
    declarations, and a chosen set of briefs."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("templates", "styles", "sources", "series"):  # what the repo's briefs use
            shutil.copytree(REPO / folder, root / folder)
        (root / "briefs").mkdir()

    def add(self, *names: str, source: Path = SCENARIOS) -> list[Path]:
        """Copy briefs (file names in ``source``) into the project's briefs/ folder."""
        copied = []
        for name in names:
            copied.append(Path(shutil.copy(source / name, self.root / "briefs" / name)))
        return copied

    def write(self, name: str, text: str) -> Path:
        path = self.root / "briefs" / name
        path.write_text(text, encoding="utf-8")
        return path

    def run(self, *argv: str) -> Run:
        return self.run_here(*argv)

    @staticmethod
    def run_here(*argv: str) -> Run:
        """Run the CLI in the current folder, capturing its output."""
        out, err = io.StringIO(), io.StringIO()
        code = main(list(argv), stdout=out, stderr=err)
        return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def no_stamps(monkeypatch: pytest.MonkeyPatch) -> None:
    """No build in a test stops at a stamp unless the test says so (tests/test_stamp.py):
    whether a stamp is made depends on how long ago the test wrote its files."""
    monkeypatch.setattr(stamp, "SETTLED", float("inf"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(root)
    return TmpProject(root)


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's own briefs, built once into a temporary folder."""
    site = tmp_path_factory.mktemp("example") / "site"
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(REPO)
        code = main(["--out", str(site)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert err.getvalue() == "", "the example briefs build without any warning"
    return site


def pdf_pages_text(path: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium through Playwright, one for the whole run: Playwright's sync API
    cannot start a second instance while one is running."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("the browser tests need Chromium: sudo apt-get install -y chromium "
                    "(make test installs it when run as root)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()
