"""Red-team findings on the copy of the site a build keeps (session 7, d411f11: a build
brings only its changes over to the replaced site, and keeps what the copy was made to
hold without looking again): each test is a scenario a careless or hostile user can
reach, and fails on the code as committed there."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import pytest

from conftest import TmpProject
from fieldbrief import publish, search
from fieldbrief.errors import BuildFailed
from fieldbrief.incremental import written_digest
from fieldbrief.stamp import twin_path
from test_redteam_incremental import SECRET, brief, files_showing
from test_twin import assert_twin_is_the_site, site_bytes, two_briefs


def revise_open(project: TmpProject) -> None:
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))


@pytest.mark.parametrize("kind", ["file", "link"])
def test_a_name_with_a_backslash_in_the_published_site_never_fails_the_build_that_drops_it(
        project: TmpProject, tmp_path: Path, kind: str) -> None:
    """A file (or link) named ``a\\b.html`` put into the published site by hand: the next
    build published its site without it, then failed bringing its changes over to the
    replaced site ("error: refusing to write outside the output folder: 'briefs/open/a\\\\b.html';
    nothing was written", exit 1): the names it had found on disk were read again as paths
    given to it, where a backslash is refused."""
    two_briefs(project)
    planted = project.root / "site/briefs/open/a\\b.html"
    if kind == "file":
        planted.write_text(f"<html><body>{SECRET}</body></html>")
    else:
        (tmp_path / "outside.html").write_text(SECRET)
        planted.symlink_to(tmp_path / "outside.html")
    revise_open(project)
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    assert not planted.exists() and not planted.is_symlink()
    assert_twin_is_the_site(project)


@pytest.mark.parametrize("replaced", ["briefs/open", "briefs"])
def test_a_file_put_in_place_of_a_published_folder_never_fails_the_build(
        project: TmpProject, replaced: str) -> None:
    """A brief's folder (or the folder of all briefs) of the published site replaced by a
    file: the copy the build is staged in is given that file, and the build failed writing
    the brief's page into it ("rendering failed (NotADirectoryError: [Errno 20] Not a
    directory: 'open'); please report this as a bug")."""
    two_briefs(project)
    folder = project.root / "site" / replaced
    shutil.rmtree(folder)
    folder.write_text(SECRET)
    revise_open(project)
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    assert files_showing(project.root / "site", SECRET) == []
    assert_twin_is_the_site(project)


@pytest.mark.parametrize("copy", ["kept", "gone"])
def test_a_file_with_a_backslash_in_a_published_search_shard_is_never_carried_over(
        project: TmpProject, copy: str) -> None:
    """``a\\b.pf_fragment`` put into each published search shard: a build staged in the kept
    copy carried it over with the shard (it is named like Pagefind's data), so it stayed
    published; a build without the copy (gone, or on another file system) failed, every
    build until --force: "error: refusing to write outside the output folder:
    'pagefind/en-…/fragment/a\\\\b.pf_fragment'; nothing was written"."""
    two_briefs(project)
    for shard in (project.root / "site/pagefind").glob("en-*"):
        (shard / "fragment/a\\b.pf_fragment").write_text(SECRET)
    if copy == "gone":
        shutil.rmtree(twin_path(project.root, project.root / "site"))
    revise_open(project)
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert files_showing(project.root / "site", SECRET) == []


def test_a_build_failing_as_it_carries_search_shards_over_stops_the_indexing_it_began(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The changed shards start indexing before the unchanged ones are carried over: a
    failure carrying one over (a published shard file gone or made a link meanwhile, or
    Ctrl-C) ended the build with Pagefind still writing into the staged site being removed
    (and into the next build's copy of the site, under ``serve``), the site's lock let go."""
    two_briefs(project)
    indexing: list[search.SearchIndexing] = []
    running = threading.Event()
    keep_all = publish.Staging.keep_all

    def index_until_stopped(self: search.SearchIndexing, source: Path, output: Path) -> None:
        indexing.append(self)
        running.set()
        while not self.stopped:
            time.sleep(0.01)
        raise BuildFailed("building the search index was stopped")

    def failing_for_shards(self: publish.Staging, relatives: Iterable[str]) -> None:
        names = list(relatives)
        if names and names[0].startswith("pagefind/en-"):
            running.wait(timeout=60)
            raise BuildFailed("cannot keep a search shard (for the test)")
        keep_all(self, names)

    monkeypatch.setattr(search.SearchIndexing, "_run", index_until_stopped)
    monkeypatch.setattr(publish.Staging, "keep_all", failing_for_shards)
    revise_open(project)
    try:
        run = project.run("-j", "1", "--no-pdf")
        assert (run.code, run.err) == (1, "error: cannot keep a search shard (for the test); "
                                          "nothing was written\n")
        assert [started.stopped for started in indexing] == [True]
    finally:
        for started in indexing:
            started.stopped = True


@pytest.mark.parametrize("entry", ["not json", '{"languages": {"en": {"page_count": 3}}}'])
def test_a_search_shard_entry_edited_by_hand_is_indexed_again(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    """``pagefind-entry.json`` of each published shard replaced by hand: a shard whose pages
    had not changed was carried over on the strength of the file being there, and its entry
    read for ``shards.json``: the next build, and every one after it, ended in a traceback
    (json.decoder.JSONDecodeError), or listed the shard with the edited page count. Now the
    build publishes what a build from scratch does."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    two_briefs(project)
    for shard in (project.root / "site/pagefind").glob("en-*"):
        (shard / "pagefind-entry.json").unlink()
        (shard / "pagefind-entry.json").write_text(entry)
    revise_open(project)
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert project.run("-j", "1", "--no-pdf", "--force", "--out", "fresh").code == 0
    assert site_bytes(project.root / "site") == site_bytes(project.root / "fresh")


def test_a_labelled_page_carried_over_as_search_code_is_gated_after_the_search_index(
        project: TmpProject) -> None:
    """The search folder is gated on its own, once Pagefind has written it (the rest of the
    site is gated while it indexes): a page the build records name as search code (here
    added to them by hand, with its digest) is carried over with the code, and must be read
    by the gate like any page of the site."""
    two_briefs(project)
    search_folder = project.root / "site/pagefind"
    page = ('<html><head><meta name="fieldbrief-tlp" content="TLP:RED"><meta name="fieldbrief-status" '
            f'content="final"></head><body>{SECRET}</body></html>')
    (search_folder / "notes.html").write_text(page)
    record_file = next((project.root / ".fieldbrief").glob("build-*.search"))
    record = json.loads(record_file.read_text())
    record["files"]["pagefind/notes.html"] = written_digest(page.encode())
    record_file.write_text(json.dumps(record))
    published = site_bytes(project.root / "site")
    revise_open(project)
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err.splitlines()[-1]) == (1, (
        "error: the site may not carry pagefind/notes.html: it is labelled TLP:RED, and this site "
        "publishes TLP:CLEAR only; nothing was written"))
    assert site_bytes(project.root / "site") == published


def test_search_code_written_while_the_site_is_settled_is_published(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site is settled while Pagefind still runs (dbac064), and Pagefind's search code is
    written into ``pagefind/`` from an indexing thread: a file written just before the settle
    but recorded as written just after it was removed as planted, and the site was published
    without it: the build failed ("error: search/index.html would load ../pagefind/pagefind-ui.js,
    which is not a file of the site; nothing was written"). Here the settle is made to come in
    exactly between the two."""
    written, settled = threading.Event(), threading.Event()
    write_new, wrote, settle = publish.write_new, publish.Staging.wrote, publish.Staging.settle

    def writing(folder: int, name: str, content: bytes) -> None:
        write_new(folder, name, content)
        if name == "pagefind-ui.js":
            written.set()

    def recording(staging: publish.Staging, relatives: Iterable[str]) -> None:
        names = list(relatives)
        if "pagefind/pagefind-ui.js" in names:
            settled.wait(60)
        wrote(staging, names)

    def settling(staging: publish.Staging) -> None:
        if staging.out_dir.name == "site":
            written.wait(60)
        settle(staging)
        settled.set()

    monkeypatch.setattr(publish, "write_new", writing)
    monkeypatch.setattr(publish.Staging, "wrote", recording)
    monkeypatch.setattr(publish.Staging, "settle", settling)
    project.write("open.yaml", brief("open", "ML", "floods"))
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    listing = json.loads((project.root / "site/pagefind/shards.json").read_text())
    assert [name for name in listing["code"] if not (project.root / "site/pagefind" / name).is_file()] == []


def test_a_search_shard_folder_replaced_by_a_file_listed_as_search_code_never_fails_the_build(
        project: TmpProject) -> None:
    """Each published search shard folder replaced by a file of its name, and the name added
    to ``shards.json``'s code: the next build staged without the kept copy claimed the folder
    for Pagefind and then carried the file over into it as search code, and Pagefind failed
    ("error: building the search index failed: thread 'main' … panicked … File exists")."""
    two_briefs(project)
    search_folder = project.root / "site/pagefind"
    listing = json.loads((search_folder / "shards.json").read_text())
    for shard in listing["shards"]:
        name = shard["path"].rstrip("/")
        shutil.rmtree(search_folder / name)
        (search_folder / name).write_text(SECRET)
        listing["code"].append(name)
    (search_folder / "shards.json").write_text(json.dumps(listing))
    for twin in (project.root / ".fieldbrief").glob("build-*.site"):
        shutil.rmtree(twin)
    revise_open(project)
    run = project.run("-j", "1", "--no-pdf")
    assert (run.code, run.err) == (0, "")
    assert "Open, revised" in (project.root / "site/briefs/open/index.html").read_text()
    assert files_showing(project.root / "site", SECRET) == []
    listing = json.loads((search_folder / "shards.json").read_text())
    assert all((search_folder / shard["path"] / "pagefind-entry.json").is_file() for shard in listing["shards"])
    assert all((search_folder / name).is_file() for name in listing["code"])


def test_the_search_scratch_folder_lies_beside_the_site_and_a_killed_builds_is_removed(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages of the shards to index are gathered in a scratch folder on the site's own file
    system (linked, never copied into a small temporary file system); one a killed build left
    behind, with copies of published pages, is removed by the next build."""
    two_briefs(project)
    leftover = project.root / f".site.search-{uuid.uuid4().hex}"
    (leftover / "briefs/open").mkdir(parents=True)
    (leftover / "briefs/open/index.html").write_text(f"<html><body>{SECRET}</body></html>")
    seen: list[tuple[Path, int]] = []
    gathered = search.SearchIndexing._gathered

    def watched(self: search.SearchIndexing, shard: search.Shard) -> tuple[Path, Path]:
        pages, output = gathered(self, shard)
        seen.extend((path, path.stat().st_nlink) for path in pages.rglob("index.html"))
        return pages, output

    monkeypatch.setattr(search.SearchIndexing, "_gathered", watched)
    revise_open(project)
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert seen and all(path.is_relative_to(project.root) and links > 1
                        for path, links in seen)
    assert list(project.root.glob(".site.search-*")) == []


def test_a_search_shard_folder_made_while_the_site_is_settled_never_fails_the_build(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The site is settled while Pagefind runs. A shard's folder was claimed for Pagefind but
    made by Pagefind itself: a settle that found ``pagefind/`` holding nothing it kept (a
    --force build drops the published search code) removed its files, and Pagefind made its
    folder in there before the settle removed ``pagefind/`` itself; the build failed, now and
    then, in CI ("error: Directory not empty (pagefind)", exit 1). Here Pagefind starts exactly
    between the settle's listing of ``pagefind/`` and its removal."""
    listed, settling = threading.Event(), threading.Event()
    scan, settle, run_pagefind = publish._scan, publish.Staging.settle, search.SearchIndexing._run
    claimed: list[Path] = []

    def settled(staging: publish.Staging) -> None:
        settling.set()
        settle(staging)

    def listing(folder: int) -> dict[str, tuple[str, int]]:
        found = scan(folder)
        if settling.is_set() and os.readlink(f"/proc/self/fd/{folder}").endswith("/pagefind"):
            listed.set()
            deadline = time.monotonic() + 60
            while not all(output.is_dir() for output in claimed) and time.monotonic() < deadline:
                time.sleep(0.01)
        return found

    def indexing(self: search.SearchIndexing, source: Path, output: Path) -> None:
        if output.parent.name == "pagefind":
            claimed.append(output)
        listed.wait(60)
        run_pagefind(self, source, output)

    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    monkeypatch.setattr(publish, "_scan", listing)
    monkeypatch.setattr(publish.Staging, "settle", settled)
    monkeypatch.setattr(search.SearchIndexing, "_run", indexing)
    run = project.run("-j", "1", "--no-pdf", "--force")
    assert (run.code, run.err) == (0, "")
    assert claimed and listed.is_set()
    listing_file = json.loads((project.root / "site/pagefind/shards.json").read_text())
    assert all((project.root / "site/pagefind" / shard["path"] / "pagefind-entry.json").is_file()
               for shard in listing_file["shards"])
    assert_twin_is_the_site(project)
