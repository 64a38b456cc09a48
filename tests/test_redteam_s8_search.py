"""Red team, stop 8: the records of the search folder (``.fieldbrief/build-*.search``) and
what a build carries over through them."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

from conftest import TmpProject
from fieldbrief.stamp import manifest_path
from test_search_incremental import brief_text, index_text

WORDS = {brief_id: f"Velmorach{brief_id}" for brief_id in ("alpha", "bravo", "charlie")}


@pytest.fixture
def built(project: TmpProject) -> TmpProject:
    for brief_id, word in WORDS.items():
        project.write(f"{brief_id}.yaml", brief_text(brief_id, f"The {word} crossing."))
    run = project.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, "")
    return project


def all_findable(site: Path) -> bool:
    text = index_text(site)
    return all(word.lower() in text for word in WORDS.values())


@pytest.mark.parametrize("damage", ["a fragment edited", "the search script edited",
                                    "the shard listing edited", "the search folder removed"])
def test_a_search_folder_damaged_by_hand_is_repaired_by_a_build_with_no_brief_changed(
        built: TmpProject, damage: str) -> None:
    """Nothing changed in the briefs, but the published search folder was edited or removed
    by hand: the build said 'nothing changed: 3 briefs unchanged, site/ untouched' and left
    it so (a planted fragment stayed findable, the search script stayed replaced, or every
    brief was unfindable) until some brief changed. Its files are proven against the search
    record as the site pages are."""
    site = built.root / "site"
    search = site / "pagefind"
    if damage == "a fragment edited":
        fragment = next(search.glob("*/fragment/*.pf_fragment"))
        fragment.write_bytes(gzip.compress(b'{"content":"Kelvarro planted"}'))
    elif damage == "the search script edited":
        (search / "pagefind-ui.js").write_bytes(b"alert('kelvarro')")
    elif damage == "the shard listing edited":
        (search / "shards.json").write_text('{"pagefind": "kelvarro", "code": [], "shards": []}')
    else:
        shutil.rmtree(search)
    run = built.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, "")
    assert "kelvarro" not in index_text(site)
    assert all_findable(site)
    assert b"kelvarro" not in (search / "shards.json").read_bytes()


def search_record(project: TmpProject) -> Path:
    return manifest_path(project.root, project.root / "site").with_suffix(".search")


@pytest.mark.parametrize("alias", ["fragment/./", "fragment//"])
def test_a_search_record_naming_kept_files_by_another_spelling_carries_them_whole(
        built: TmpProject, alias: str) -> None:
    """The search record hand-edited to name each fragment by another spelling of its path
    ('fragment/./x.pf_fragment'): the file was proven and carried over under that name, and
    the settle then removed it as never kept under its own, so the kept shards were published
    without their fragments (3 of 4 .pf_fragment files gone: a search found the briefs and
    could not show them). Only names as a build writes them are trusted."""
    record = search_record(built)
    data = json.loads(record.read_text())
    data["files"] = {name.replace("fragment/", alias): print_ for name, print_ in data["files"].items()}
    record.write_text(json.dumps(data))
    built.write("delta.yaml", brief_text("delta", "The Velmorachdelta crossing."))
    run = built.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, "")
    site = built.root / "site"
    assert len(list((site / "pagefind").glob("*/fragment/*.pf_fragment"))) == 4
    assert all_findable(site) and "velmorachdelta" in index_text(site)


@pytest.mark.parametrize("record", [".search", ".json", ".sealed"])
def test_a_huge_file_put_in_place_of_a_build_record_makes_a_full_build(built: TmpProject,
                                                                        record: str) -> None:
    """A 200 GB sparse file (no disk taken) in place of the search record, the manifest or
    the seal record: it was read whole, and the build ended in a MemoryError traceback.
    A file larger than any a build keeps for itself is no record: the build is a full one."""
    path = search_record(built).with_suffix(record)
    with path.open("r+b") as file:
        file.truncate(200 * 2**30)
    built.write("delta.yaml", brief_text("delta", "The Velmorachdelta crossing."))
    run = built.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, "")
    site = built.root / "site"
    assert all_findable(site) and "velmorachdelta" in index_text(site)
    assert path.stat().st_size < 2**20


def test_a_huge_file_put_in_place_of_the_sites_marker_is_never_read_whole(built: TmpProject) -> None:
    """The published site's marker replaced by a 200 GB sparse file: it was read whole for
    the build id, and the build ended in a MemoryError traceback. Its build is now unknown:
    nothing of the site is trusted, and the build is a full one."""
    marker = built.root / "site/.fieldbrief-site"
    with marker.open("r+b") as file:
        file.truncate(200 * 2**30)
    built.write("delta.yaml", brief_text("delta", "The Velmorachdelta crossing."))
    run = built.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, "")
    assert "built 4 briefs" in run.out
    assert all_findable(built.root / "site") and marker.stat().st_size < 2**20


@pytest.mark.parametrize("record", [".search", ".json"])
def test_a_folder_in_place_of_a_build_record_is_named_in_the_error(built: TmpProject, record: str) -> None:
    """A folder made by hand where the search record (or the manifest) is saved: the build
    fails with the published site as it was, as it must, but the error named a temporary
    file that no longer exists ('error: Is a directory (…/.build-….search.x1y2z3.partial)')
    rather than the record in the way."""
    path = search_record(built).with_suffix(record)
    path.unlink()
    path.mkdir()
    built.write("delta.yaml", brief_text("delta", "The Velmorachdelta crossing."))
    run = built.run("--no-pdf", "-j", "1")
    assert run.code == 1
    assert run.err.splitlines()[-1] == f"error: Is a directory ({path})"
    assert not (built.root / "site/briefs/delta").exists()
