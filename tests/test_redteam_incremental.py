"""Red-team findings on the incremental paths of issue 16: site pages kept from the published
site, search shards carried over, the replaced site removed in the background, and serve's
page shown ahead of its build. Each test is a scenario a careless or hostile user can reach;
each fails on the code as merged (d3ac27f)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import REPO, TmpProject
from fieldbrief import publish
from fieldbrief.policy import PublishingPolicy, gate
from test_serve import HeldBuilds, LocalServer, held, host  # noqa: F401 (held: a fixture)

SECRET = "Zanzibarquux withheld title"


def brief(brief_id: str, country: str, tag: str, *, tlp: str = "TLP:CLEAR",
          title: str | None = None, value: str = "12") -> str:
    return (f"id: {brief_id}\ntitle: {title or 'Brief ' + brief_id}\nas_of: 2026-01-15\n"
            f"countries: [{country}]\ntags: [{tag}]\ntlp: {tlp}\nstatus: final\ndesk: Test desk\n"
            "bluf:\n  - First point.\n  - Second point.\nsummary: One paragraph of summary.\n"
            f"figures:\n  - value: {value}\n    counts: things counted\n    status: confirmed\n"
            "    sources: [only-source]\n"
            "sources:\n  - id: only-source\n    title: The only source\n    publisher: Test publisher\n"
            "    kind: news report\n    reliability: B\n    credibility: 2\n")


def files_showing(root: Path, words: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    """Every file under ``root`` (outside the folders ``skip``) whose bytes hold ``words``."""
    found = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if relative.split("/")[0] in skip or path.is_symlink():
                continue
            try:
                if words.encode() in path.read_bytes():
                    found.append(relative)
            except OSError:
                continue
    return sorted(found)


# --- the replaced site, removed in the background -----------------------------------------

def test_a_withdrawn_brief_is_nowhere_beside_the_site_when_the_build_that_withdrew_it_returns(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """`build.py && git add -A` (or rsync of the project) right after relabelling a brief must
    not carry its old page: when the replaced site was removed in the background, the build
    returned while `.site.old-<id>/` still held it (with 600 briefs, for about 2 s)."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("secret.yaml", brief("secret", "NE", "elections", title=SECRET))
    assert project.run("-j", "1", "--no-pdf").code == 0
    project.write("secret.yaml", brief("secret", "NE", "elections", tlp="TLP:RED", title=SECRET))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert files_showing(project.root, SECRET, skip=("briefs", "restricted", ".fieldbrief")) == []


def test_a_python_module_in_the_project_folder_is_never_run_by_a_build(
        project: TmpProject, tmp_path: Path) -> None:
    """The background removal ran `python -c ...` in the build's folder, so a `shutil.py`
    committed to the project (by anyone who may add a brief) was imported and run."""
    marker = tmp_path / "ran"
    (project.root / "shutil.py").write_text(
        f"open({str(marker)!r}, 'w').write('ran')\n"
        "import sys\nsys.path[:] = [p for p in sys.path if p not in ('', '.')]\n"
        "del sys.modules['shutil']\nimport shutil as _real\nsys.modules['shutil'] = _real\n"
        "rmtree = _real.rmtree\n")
    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert not marker.exists()


# --- kept site pages and search shards ----------------------------------------------------

def test_a_build_that_publishes_after_another_never_keeps_that_builds_listings(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two builds started close together: the second plans from the records and site of before
    the first, takes the lock once the first has swapped its site in, and keeps (as unchanged)
    the listing the first one published, with a brief that it itself withholds.

    Here the first build runs at the moment the second takes the lock."""
    project.write("zulu.yaml", brief("zulu", "NE", "floods"))
    project.write("yankee.yaml", brief("yankee", "ML", "floods"))
    project.write("xray.yaml", brief("xray", "NE", "elections", tlp="TLP:RED", title=SECRET))
    assert project.run("-j", "1", "--no-pdf").code == 0
    # the second build's briefs: xray still withheld, yankee retitled (so the feed is rewritten)
    project.write("yankee.yaml", brief("yankee", "ML", "floods", title="Yankee, revised"))
    enter = publish.Staging.__enter__
    state = {"first": True}

    def first_build_meanwhile(staging: publish.Staging) -> publish.Staging:
        if state["first"] and staging.out_dir.name == "site":
            state["first"] = False
            project.write("xray.yaml", brief("xray", "NE", "elections", title=SECRET))  # published
            assert project.run("-j", "1", "--no-pdf").code == 0
            project.write("xray.yaml", brief("xray", "NE", "elections", tlp="TLP:RED", title=SECRET))
        return enter(staging)

    monkeypatch.setattr(publish.Staging, "__enter__", first_build_meanwhile)
    result = project.run("-j", "1", "--no-pdf")
    assert (result.code, result.err.splitlines()[-1]) == (1, (
        "error: another build published into site while this one was preparing (run this build "
        "again); nothing was written")), result.err  # the site stays the first build's


def test_a_hand_edited_listing_page_is_not_published_again(project: TmpProject) -> None:
    """A site page edited by hand in the published site (text added: the gate only reads
    labels) is kept as it is by every later build that does not change what it lists; before
    the site pages were incremental, the next build wrote it afresh."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    index = project.root / "site" / "index.html"
    index.write_text(index.read_text().replace("<main", "<p>Tampered by hand</p><main", 1))
    project.write("other.yaml", brief("other", "NE", "elections", value="13"))  # no listing shows it
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert "Tampered by hand" not in index.read_text()


@pytest.mark.parametrize("tamper", [
    pytest.param(lambda page: page.unlink(), id="deleted"),
    pytest.param(lambda page: page.write_text(page.read_text().replace("<main", "<p>Tampered by hand</p><main", 1)),
                 id="edited"),
])
def test_a_site_page_deleted_or_edited_by_hand_is_restored_by_the_next_build(
        project: TmpProject, tamper) -> None:
    """Even by a build in which no brief changed: it was left as it was (a missing
    country page, a listing showing what no brief says)."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    for name in ("index.html", "countries/ml/index.html"):
        page = project.root / "site" / name
        written = page.read_bytes()
        tamper(page)
        run = project.run("-j", "1", "--no-pdf")
        assert run.code == 0 and "built 0 briefs (HTML only), 1 unchanged" in run.out, run.out
        assert page.read_bytes() == written


@pytest.mark.parametrize("planted", [
    pytest.param(lambda search: (search / "notes.txt").write_text("Tampered by hand"), id="a file"),
    pytest.param(lambda search: (search / "notes.txt").symlink_to(search.parents[2] / "outside.txt"),
                 id="a link to a file outside the site"),
])
def test_a_file_planted_in_the_published_search_folder_is_not_carried_over(
        project: TmpProject, planted) -> None:
    """Anything in the published site that a build did not record is gone after the next build
    (a file planted in briefs/ or at the top is dropped); in pagefind/ it is carried over for
    ever, a link to outside the project too."""
    (project.root.parent / "outside.txt").write_text("Tampered by hand")
    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    planted(project.root / "site" / "pagefind")
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert not (project.root / "site" / "pagefind" / "notes.txt").exists()
    assert not (project.root / "site" / "pagefind" / "notes.txt").is_symlink()


def _two_shards(project: TmpProject) -> tuple[Path, Path]:
    """A site whose briefs 'open' and 'other' are indexed in two shards (buckets 8 and 15):
    the folder of the shard kept when only 'open' changes, and of the one indexed again."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    search = project.root / "site" / "pagefind"
    kept, = search.glob("en-15-*")
    indexed, = search.glob("en-08-*")
    return kept, indexed


def _edit_open_and_build(project: TmpProject) -> None:
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    run = project.run("-j", "1", "--no-pdf")
    assert run.code == 0, run.err


def _site_files(project: TmpProject) -> list[Path]:
    return [path for path in (project.root / "site").rglob("*") if path.is_file()]


def test_only_what_pagefind_writes_is_carried_over_in_a_kept_search_shard(project: TmpProject) -> None:
    """Files planted in a shard folder of the published site (a page, a script, one beside
    the index data) were carried over into every later site with the shard."""
    kept, _ = _two_shards(project)
    (kept / "evil.html").write_text("<p>Planted</p>")
    (kept / "fragment" / "evil.js").write_text("alert(1)")
    _edit_open_and_build(project)
    _edit_open_and_build(project)
    assert [path.name for path in _site_files(project) if "evil" in path.name] == []
    assert (kept / "pagefind-entry.json").is_file() and list((kept / "fragment").iterdir())


def test_a_kept_search_shard_that_is_a_link_is_not_followed_out_of_the_site(project: TmpProject) -> None:
    """A shard folder replaced by a link to a folder outside the project: its files (a secret
    among them) were hard-linked into the new site."""
    kept, _ = _two_shards(project)
    outside = project.root.parent / "outside-shard"
    kept.rename(outside)
    (outside / "secret.txt").write_text("Outside the project")
    kept.symlink_to(outside)
    _edit_open_and_build(project)
    outside_inodes = {path.stat().st_ino for path in outside.rglob("*") if path.is_file()}
    assert [path for path in _site_files(project) if path.stat().st_ino in outside_inodes] == []
    assert kept.is_dir() and not kept.is_symlink()


def test_search_code_named_inside_a_shard_is_never_kept_for_pagefind_to_write_into(
        project: TmpProject) -> None:
    """``shards.json`` listed a file of a shard indexed again as search code: it was kept as a
    hard link, and Pagefind then wrote its index into it, and into a file outside linked to it."""
    _, indexed = _two_shards(project)
    listing_path = project.root / "site" / "pagefind" / "shards.json"
    listing = json.loads(listing_path.read_text())
    listing["code"].append(f"{indexed.name}/pagefind-entry.json")
    listing_path.write_text(json.dumps(listing))
    victim = project.root.parent / "victim.txt"
    victim.write_text("precious\n")
    (indexed / "pagefind-entry.json").unlink()
    os.link(victim, indexed / "pagefind-entry.json")
    _edit_open_and_build(project)
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("listing", [
    pytest.param(lambda path: path.write_text("[]"), id="a list"),
    pytest.param(lambda path: path.write_text("[" * 100_000 + "]" * 100_000), id="nested too deep"),
    pytest.param(lambda path: (path.unlink(), os.mkfifo(path)), id="a pipe"),
])
def test_a_damaged_search_listing_only_makes_the_search_code_written_afresh(
        project: TmpProject, listing) -> None:
    """It crashed every build with a traceback (a list), or hung it (a pipe)."""
    _two_shards(project)
    listing(project.root / "site" / "pagefind" / "shards.json")
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "-j", "1", "--no-pdf"],
                         cwd=project.root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    assert json.loads((project.root / "site" / "pagefind" / "shards.json").read_text())["code"]


# --- serve: a page shown ahead -------------------------------------------------------------

def test_a_page_shown_ahead_leaves_the_preview_once_its_brief_is_withheld(
        project: TmpProject, held: HeldBuilds, monkeypatch: pytest.MonkeyPatch) -> None:
    """An edit shown ahead, then the brief relabelled AMBER before a build read it: serve sees
    the relabel (page_ahead refuses it) but goes on serving the first edit's page, words and
    all, until a build that began after it ends (with a build already running, the whole of
    the next build too)."""
    from fieldbrief import serve as serve_module
    refused = threading.Event()
    original = serve_module.page_ahead

    def watching(*args: object, **kwargs: object) -> object:
        page = original(*args, **kwargs)
        if page is None:
            refused.set()
        return page

    monkeypatch.setattr(serve_module, "page_ahead", watching)
    project.add("valid_minimal.yaml")
    server = LocalServer(project)
    try:
        generation = server.state()["generation"]
        held.hold.set()
        path = project.root / "briefs/valid_minimal.yaml"
        text = path.read_text().replace("Minimal valid brief", SECRET)
        path.write_text(text)
        server.next_build(generation)
        assert SECRET in server.get("briefs/valid-minimal/", host(server))[1], "shown ahead"
        path.write_text(text.replace("status: final", "tlp: TLP:AMBER\nstatus: final"))
        assert refused.wait(timeout=60), "serve saw the relabel"
        status, page = server.get("briefs/valid-minimal/", host(server))
        assert SECRET not in page, (status, "a withheld brief's words served")
    finally:
        held.release.set()
        server.close()



@pytest.mark.parametrize("rebuild", [
    pytest.param(("-j", "1", "--no-pdf", "--force"), id="--force"),
    pytest.param(("-j", "1", "--no-pdf"), id="build records deleted"),
])
def test_a_rebuild_from_scratch_writes_the_search_code_afresh(project: TmpProject,
                                                              rebuild: tuple[str, ...]) -> None:
    """Pagefind's script is carried over from whatever site is in the output folder, even when
    the build may not trust it (--force, no build records, another project's site): a script
    edited by hand in the published site survives every rebuild."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    script = project.root / "site" / "pagefind" / "pagefind-ui.js"
    script.write_text(script.read_text() + "/* tampered by hand */\n")
    if "--force" not in rebuild:
        for record in (project.root / ".fieldbrief").glob("build-*.json"):
            record.unlink()
    assert project.run(*rebuild).code == 0
    assert "tampered by hand" not in script.read_text()


# --- the tail of publishing: kept files, the gate, the removal of the replaced site ------

def test_a_kept_page_replaced_by_a_link_in_the_published_site_is_not_followed(
        project: TmpProject) -> None:
    """A brief page of the published site replaced by a link to a page outside the project
    (carrying the same labels, so the gate lets it through): keeping it hard-linked the file
    the link led to, and published it."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    page = project.root / "site/briefs/open/index.html"
    outside = project.root.parent / "outside.html"
    outside.write_text(page.read_text().replace("Brief open", "Planted outside"))
    page.unlink()
    page.symlink_to(outside)
    project.write("other.yaml", brief("other", "NE", "elections", value="13"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert not page.is_symlink()
    assert "Planted outside" not in page.read_text()
    assert "Brief open" in page.read_text()


def test_removing_the_replaced_site_never_follows_a_link_planted_in_it(project: TmpProject) -> None:
    outside = project.root.parent / "outside"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "keep.txt").write_text("not the site's")
    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    (project.root / "site/briefs/open/planted").symlink_to(outside)
    (project.root / "site/briefs/planted").symlink_to(outside / "inner")
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert (outside / "inner" / "keep.txt").read_text() == "not the site's"
    assert not (project.root / "site/briefs/planted").is_symlink()
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".site.")] == [".site.lock"]


def test_the_gate_refuses_a_link_in_the_site(tmp_path: Path) -> None:
    """Files reached through a link are not read by the gate (nor is a linked folder walked):
    a site carries none."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "page.html").write_text("<html><head></head><body>x</body></html>")
    site = tmp_path / "site"
    site.mkdir()
    (site / "notes.txt").symlink_to(tmp_path / "outside" / "page.html")
    (site / "linked").symlink_to(tmp_path / "outside")
    assert gate(site, PublishingPolicy(("TLP:CLEAR",))) == [
        "the site may not carry linked: it is a link or a special file, not a regular file",
        "the site may not carry notes.txt: it is a link or a special file, not a regular file"]



def test_kept_files_are_copied_where_they_cannot_be_linked(project: TmpProject,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A file system without hard links (or a published file owned by another user): kept
    files are copied, with their bytes and modification time, and no copy of the site is
    kept for the next build (it is made of links)."""
    def no_links(*args: object, **options: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", no_links)
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    page = project.root / "site/briefs/open/index.html"
    before, content = page.stat(), page.read_bytes()
    project.write("other.yaml", brief("other", "NE", "elections", value="13"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert not list((project.root / ".fieldbrief").glob("*.site"))
    after = page.stat()
    assert page.read_bytes() == content
    assert (after.st_ino != before.st_ino, after.st_mtime_ns) == (True, before.st_mtime_ns)


@pytest.mark.parametrize("planted", ["a link", "a pipe"])
def test_the_lock_beside_the_site_is_never_a_way_out_of_the_project(project: TmpProject,
                                                                   planted: str) -> None:
    """The lock was opened for writing through a link (the file it led to was emptied) and
    through a pipe (the build hung); now the build stops and says what to remove."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    lock = project.root / ".site.lock"
    victim = project.root.parent / "victim.txt"
    victim.write_text("precious\n")
    if planted == "a link":
        lock.symlink_to(victim)
    else:
        os.mkfifo(lock)
    run = subprocess.run([sys.executable, str(REPO / "build.py"), "-j", "1", "--no-pdf"],
                         cwd=project.root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert victim.read_text() == "precious\n"
    assert run.returncode == 1 and run.stderr.splitlines()[-1] == (
        f"error: cannot take the lock {lock}: it is a link, a pipe or a folder, not a regular "
        "file; remove it; nothing was written"), run.stderr
    assert not (project.root / "site").exists()


@pytest.mark.parametrize("name", ["the records' temporary file", "record of the sealed site",
                                  "git's ignore file"])
def test_the_build_records_are_never_written_through_a_link(project: TmpProject, name: str) -> None:
    """A link planted in .fieldbrief/ where the build writes a file: the build wrote through
    it (the manifest, written first to a file of a fixed name, holds restricted briefs'
    titles and summaries)."""
    from fieldbrief.stamp import manifest_path
    project.write("open.yaml", brief("open", "ML", "floods"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    records = manifest_path(project.root, Path("site"))
    planted = {"the records' temporary file": records.with_suffix(".tmp"),
               "record of the sealed site": records.with_suffix(".sealed"),
               "git's ignore file": records.parent / ".gitignore"}[name]
    victim = project.root.parent / "victim.txt"
    victim.write_text("precious\n")
    nowhere = project.root.parent / "made-outside.txt"  # a link to nothing: writing makes it
    planted.unlink(missing_ok=True)
    planted.symlink_to(nowhere if planted.name == ".gitignore" else victim)
    project.write("open.yaml", brief("open", "ML", "floods", title="Open, revised"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    assert victim.read_text() == "precious\n" and not nowhere.exists()
    assert records.is_file() and not records.is_symlink()
