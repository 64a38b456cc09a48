"""Compiled templates kept between builds: only in the user's own cache folder.

A cached template is marshalled Python code, run when it is loaded. The tests plant a
cache file whose code leaves a mark, and check that it runs only from the user's own
private cache folder (which shows the planting works), never from inside the project
nor from a folder others may write."""

from __future__ import annotations

import marshal
import pickle
import shutil
from pathlib import Path

import pytest
from jinja2.bccache import bc_magic

from conftest import Run, TmpProject

BRIEF_PAGE = "site/briefs/valid-minimal/index.html"


@pytest.fixture
def cached(project: TmpProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project built once with its compiled templates kept in a cache outside it: that
    cache's folder of compiled templates."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project.add("valid_minimal.yaml")
    assert fresh_build(project).code == 0
    [folder] = (tmp_path / "cache" / "fieldbrief" / "templates").iterdir()
    return folder


def plant(folder: Path, marker: Path) -> None:
    """Make every cached template in ``folder`` code that writes ``marker`` when loaded
    (each file keeps its template's checksum, so Jinja2 takes it as up to date)."""
    code = compile(f"open({str(marker)!r}, 'w').close()", "<planted>", "exec")
    for path in folder.iterdir():
        with path.open("rb") as cache_file:
            assert cache_file.read(len(bc_magic)) == bc_magic
            checksum = pickle.load(cache_file)
        path.write_bytes(bc_magic + pickle.dumps(checksum, 2) + marshal.dumps(code))


def fresh_build(project: TmpProject) -> Run:
    """Build the project's pages anew (no earlier site or build records)."""
    shutil.rmtree(project.root / "site", ignore_errors=True)
    for record in project.root.glob(".fieldbrief/build-*.json"):
        record.unlink()
    return project.run("--no-pdf", "-j", "1")


def page(project: TmpProject) -> str:
    return (project.root / BRIEF_PAGE).read_text(encoding="utf-8")


def test_compiled_templates_are_kept_in_the_users_cache_not_in_the_project(
        project: TmpProject, cached: Path) -> None:
    assert any(cached.iterdir())
    assert [path for path in project.root.rglob("*") if "jinja2" in path.name] == []


def test_a_cached_template_in_the_users_own_folder_is_used(
        project: TmpProject, cached: Path, tmp_path: Path) -> None:
    """The control for the tests below: a planted file runs from where the cache belongs."""
    plant(cached, tmp_path / "ran")
    fresh_build(project)
    assert (tmp_path / "ran").exists()


def test_a_cache_planted_in_the_project_is_never_loaded(
        project: TmpProject, cached: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = page(project)
    inside = project.root / ".fieldbrief" / "cache"
    planted = inside / cached.relative_to(tmp_path / "cache")
    shutil.copytree(cached, planted)
    plant(planted, tmp_path / "ran")
    monkeypatch.setenv("XDG_CACHE_HOME", str(inside))
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected
    assert not (tmp_path / "ran").exists()


def test_a_cache_folder_others_may_write_is_not_used(
        project: TmpProject, cached: Path, tmp_path: Path) -> None:
    expected = page(project)
    plant(cached, tmp_path / "ran")
    cached.chmod(0o777)
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected
    assert not (tmp_path / "ran").exists()


def test_a_cache_file_cut_short_is_compiled_again(project: TmpProject, cached: Path) -> None:
    expected = page(project)
    for path in cached.iterdir():
        path.write_bytes(path.read_bytes()[:len(bc_magic) + 3])
    result = fresh_build(project)
    assert result.code == 0, result.err
    assert page(project) == expected
