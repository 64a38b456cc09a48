"""Red-team findings on the incremental paths of issue 16: site pages kept from the published
site, search shards carried over, the replaced site removed in the background, and serve's
page shown ahead of its build. Each test is a scenario a careless or hostile user can reach;
each fails on the code as merged (d3ac27f)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from conftest import TmpProject
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
    files are copied, with their bytes and modification time."""
    project.write("open.yaml", brief("open", "ML", "floods"))
    project.write("other.yaml", brief("other", "NE", "elections"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    page = project.root / "site/briefs/open/index.html"
    before, content = page.stat(), page.read_bytes()

    def no_links(*args: object, **options: object) -> None:
        raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

    monkeypatch.setattr(os, "link", no_links)
    project.write("other.yaml", brief("other", "NE", "elections", value="13"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    after = page.stat()
    assert page.read_bytes() == content
    assert (after.st_ino != before.st_ino, after.st_mtime_ns) == (True, before.st_mtime_ns)
