"""Red-team findings on the copy of the site a build keeps for the next one (6af241f,
``Staging(twin=…)``): each test is a scenario a careless or hostile user can reach, and
fails on the code as committed there."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from conftest import TmpProject
from test_redteam_incremental import brief
from test_twin import assert_twin_is_the_site, twin


def build(project: TmpProject, *options: str) -> None:
    run = project.run("-j", "1", "--no-pdf", *options)
    assert run.code == 0, run.err


def test_a_site_folder_made_read_only_never_stops_later_builds(project: TmpProject) -> None:
    """`chmod a-w site/briefs/open`: the next build publishes a fresh (writable) folder, and
    the replaced site, read-only folder and all, became the kept copy; every later build of
    that brief then failed writing into it ("rendering failed (PermissionError ...) please
    report this as a bug"), --force too, until the folder deep in .fieldbrief/ was found.
    As root (who may write anyway) the read-only folder shows in the kept copy."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    build(project)
    os.chmod(project.root / "site/briefs/open", 0o555)
    project.write("other.yaml", brief("other", "NE", "elections", title="Other, revised"))
    build(project)
    folders = [path for path in [twin(project), *twin(project).rglob("*")] if path.is_dir()]
    assert [path for path in folders if stat.S_IMODE(path.stat().st_mode) & 0o700 != 0o700] == []
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    build(project)
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    assert_twin_is_the_site(project)
