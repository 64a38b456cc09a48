"""Handling labels: no build, however timed, publishes a label the site may not carry.

The publishing policy places each brief from the bytes that were checked; the renderer
must use exactly those bytes, and a final gate reads the label every staged page and
PDF actually carries before the site is swapped in.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import REPO, SCENARIOS, TmpProject
from fieldbrief import pipeline, render_site
from fieldbrief.policy import pdf_markers
from fieldbrief.render_site import SitePage

FORBIDDEN = ("TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")


def brief_text(brief_id: str, *, tlp: str = "TLP:CLEAR", status: str = "final",
               title: str | None = None) -> str:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    return (text.replace("id: valid-minimal", f"id: {brief_id}\ntlp: {tlp}")
                .replace("title: Minimal valid brief", f"title: {title or 'Brief ' + brief_id}")
                .replace("status: final", f"status: {status}"))


def site_labels(site: Path) -> dict[str, set[str]]:
    """Every handling label and status the published site carries, file by file, read
    back independently of fieldbrief's own gate (pypdf for PDFs)."""
    found: dict[str, set[str]] = {}
    for path in sorted(site.rglob("*")):
        relative = path.relative_to(site).as_posix()
        if path.suffix == ".html":
            text = path.read_text(encoding="utf-8")
            labels = set(re.findall(r'class="tlp tlp-[a-z-]+">(TLP:[A-Z+]+)<', text))
            labels |= set(re.findall(r'<meta name="fieldbrief-(?:tlp|status)" content="([^"]+)"', text))
            if "status-draft" in text:
                labels.add("draft")
            found[relative] = labels
        elif path.suffix == ".pdf":
            reader = PdfReader(path)
            text = " ".join(page.extract_text() for page in reader.pages)
            labels = {label for label in ("TLP:CLEAR", "TLP:GREEN", *FORBIDDEN) if label in text}
            if "Draft" in text or "DRAFT" in text:
                labels.add("draft")
            found[relative] = labels
    return found


def forbidden_on(site: Path) -> dict[str, set[str]]:
    return {name: labels & {*FORBIDDEN, "draft"} for name, labels in site_labels(site).items()
            if labels & {*FORBIDDEN, "draft"}}


@pytest.mark.parametrize("change", [{"tlp": "TLP:RED"}, {"status": "draft"}])
def test_a_brief_saved_during_the_build_is_not_published_under_its_old_label(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, change: dict[str, str]) -> None:
    """The issue's reproduction, made deterministic: after the first brief is rendered,
    the last one is rewritten with a label (or status) the site may not publish."""
    for number in range(1, 7):
        project.write(f"b{number}.yaml", brief_text(f"brief-{number}"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    published_before = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    for number in range(1, 7):  # every brief changes, so every brief is rendered again
        project.write(f"b{number}.yaml", brief_text(f"brief-{number}", title=f"Second {number}"))
    real_render = pipeline.render
    calls = []

    def render_then_edit(job):  # type: ignore[no-untyped-def]
        calls.append(job.label)
        if len(calls) == 1:
            project.write("b6.yaml", brief_text("brief-6", title="Renamed while building", **change))
        return real_render(job)

    monkeypatch.setattr(pipeline, "render", render_then_edit)
    result = project.run("-j", "1")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: 1 brief(s) failed to render: briefs/b6.yaml changed during the build "
        "(it was checked as one text and read as another); build again; nothing was written")
    after = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    assert after == published_before
    assert forbidden_on(project.root / "site") == {}


def test_the_gate_refuses_a_staged_page_whose_label_the_site_may_not_carry(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever path a page takes into the staging folder, the label it carries decides."""
    project.write("a.yaml", brief_text("alpha"))
    assert project.run("-j", "1").code == 0
    published_before = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    project.write("a.yaml", brief_text("alpha", title="Changed"))
    real_page = render_site.site_pages

    def pages_with_a_red_page(*args, **kwargs):  # type: ignore[no-untyped-def]
        yield from real_page(*args, **kwargs)
        yield SitePage("briefs/smuggled/index.html", "smuggled", lambda: (
            b'<html><head><meta name="fieldbrief-tlp" content="TLP:RED">'
            b'<meta name="fieldbrief-status" content="final"></head><body></body></html>'))

    monkeypatch.setattr(render_site, "site_pages", pages_with_a_red_page)
    result = project.run("-j", "1")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: the site may not carry briefs/smuggled/index.html: it is labelled TLP:RED, and "
        "this site publishes TLP:CLEAR only; nothing was written")
    after = {p: p.read_bytes() for p in (project.root / "site").rglob("*") if p.is_file()}
    assert after == published_before


def test_the_gate_refuses_a_brief_page_without_a_label(project: TmpProject) -> None:
    """A custom template that drops the label marker fails safe: nothing is published."""
    project.write("a.yaml", brief_text("alpha"))
    brief_template = project.root / "templates/brief.html"
    brief_template.write_text(brief_template.read_text().replace(
        '<meta name="fieldbrief-tlp" content="{{ brief.tlp }}">', ""))
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        "error: the site may not carry briefs/alpha/index.html: it is a brief page without its "
        'handling label (<meta name="fieldbrief-tlp">; the brief template must keep it); '
        "nothing was written")
    assert not (project.root / "site").exists()


def test_every_published_pdf_carries_its_label_in_its_metadata(project: TmpProject) -> None:
    project.write("a.yaml", brief_text("alpha"))
    (project.root / "site.yaml").write_text("publish_tlp: [TLP:CLEAR, TLP:GREEN]\n")
    project.write("g.yaml", brief_text("green", tlp="TLP:GREEN"))
    project.write("r.yaml", brief_text("red", tlp="TLP:RED"))
    assert project.run("-j", "1").code == 0
    site, restricted = project.root / "site", project.root / "restricted"
    assert PdfReader(site / "briefs/green/green.pdf").metadata["/fieldbrieftlp"] == "TLP:GREEN"
    assert pdf_markers((site / "briefs/alpha/alpha.pdf").read_bytes()) == ("TLP:CLEAR", "final")
    assert pdf_markers((restricted / "red.pdf").read_bytes()) == ("TLP:RED", "final")
    assert forbidden_on(site) == {}


RACING_BUILD = """
import sys
from fieldbrief.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_edits_racing_builds_never_publish_a_forbidden_label(project: TmpProject) -> None:
    """Builds run while another process keeps flipping one brief between CLEAR, RED and
    draft: whatever each build ends with, the published site never holds a label the
    policy forbids."""
    for number in range(1, 5):
        project.write(f"b{number}.yaml", brief_text(f"brief-{number}"))
    variants = [brief_text("brief-4", title="Flip clear"), brief_text("brief-4", tlp="TLP:RED", title="Flip red"),
                brief_text("brief-4", status="draft", title="Flip draft"),
                brief_text("brief-4", tlp="TLP:AMBER+STRICT", title="Flip amber")]
    stop = threading.Event()

    def flip() -> None:
        turn = 0
        while not stop.is_set():
            staged = project.root / "b4.yaml.saving"  # saved as editors do: whole, by rename
            staged.write_text(variants[turn % len(variants)], encoding="utf-8")
            staged.replace(project.root / "briefs" / "b4.yaml")
            turn += 1
            time.sleep(0.002)

    flipper = threading.Thread(target=flip)
    flipper.start()
    outcomes = []
    try:
        for _ in range(4):
            run = subprocess.run([sys.executable, "-c", RACING_BUILD, "-j", "2", "--no-pdf"],
                                 cwd=project.root, capture_output=True, text=True, timeout=120,
                                 env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
            assert "Traceback" not in run.stderr
            outcomes.append(run.returncode)
            if (project.root / "site").exists():
                assert forbidden_on(project.root / "site") == {}
    finally:
        stop.set()
        flipper.join()
    assert set(outcomes) <= {0, 1}


def test_restricted_pdfs_and_build_records_are_never_committed(project: TmpProject) -> None:
    """`git add -A` after a build with a RED brief stages neither its PDF nor the build
    records (which hold its title and summary)."""
    project.write("a.yaml", brief_text("alpha"))
    project.write("r.yaml", brief_text("red", tlp="TLP:RED", title="Secret operation"))
    assert project.run("-j", "1", "--restricted-out", "private-pdfs").code == 0
    subprocess.run(["git", "init", "-q"], cwd=project.root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project.root, check=True)
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=project.root,
                            check=True, capture_output=True, text=True).stdout.split()
    assert "briefs/r.yaml" in staged and "site/briefs/alpha/index.html" in staged
    assert [name for name in staged if name.startswith(("private-pdfs/", ".fieldbrief/"))] == []
    assert (project.root / "private-pdfs/red.pdf").is_file()


@pytest.mark.parametrize(("option", "folder", "message"), [
    ("--out", ".fieldbrief", "--out .fieldbrief lies inside .fieldbrief/ (the project's build "
                             "records); choose a folder outside it"),
    ("--out", ".fieldbrief/site", "--out .fieldbrief/site lies inside .fieldbrief/ (the "
                                  "project's build records); choose a folder outside it"),
    ("--out", "briefs/site", "--out briefs/site lies inside briefs/ (the project's briefs); "
                             "choose a folder outside it"),
    ("--restricted-out", "assets/private", "--restricted-out assets/private lies inside assets/ "
                                           "(the project's assets); choose a folder outside it"),
    ("--out", "restricted/site", "the restricted folder restricted must be outside the site "
                                 "folder restricted/site, and the other way round"),
])
def test_output_folders_may_not_lie_inside_the_projects_own_folders(
        project: TmpProject, option: str, folder: str, message: str) -> None:
    project.write("a.yaml", brief_text("alpha"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    records = sorted((project.root / ".fieldbrief").iterdir())
    result = project.run("-j", "1", "--no-pdf", option, folder)
    assert result.code == 1
    assert result.err == f"error: {message}; nothing was written\n"
    assert sorted((project.root / ".fieldbrief").iterdir()) == records


def test_a_build_that_cannot_save_its_record_leaves_the_site_as_it_was(project: TmpProject) -> None:
    """The build record is written before the swap: if it cannot be (a full disk, say),
    the build fails and the published site is the one it was."""
    project.write("a.yaml", brief_text("alpha"))
    assert project.run("-j", "1", "--no-pdf").code == 0
    site = project.root / "site"
    before = {p: p.read_bytes() for p in site.rglob("*") if p.is_file()}
    project.write("a.yaml", brief_text("alpha", title="A new title"))
    (record,) = (project.root / ".fieldbrief").glob("build-*.json")
    record.unlink()
    record.mkdir()  # the record cannot be written: a folder stands where it is renamed to
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 1
    assert result.err.startswith("error: Is a directory (")
    assert {p: p.read_bytes() for p in site.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(("name", "target"), [
    ("styles/leak.css", "/etc/passwd"),
    ("templates/partials/summary.html", "/etc/hostname"),
    ("assets/maps", "/etc"),
    ("styles/loop.css", "styles/loop.css"),
    ("styles/pipe.css", None),
])
def test_inputs_that_lead_out_of_the_project_or_never_end_are_refused(
        project: TmpProject, name: str, target: str | None) -> None:
    """Nothing outside the project is read, hashed or published through a symbolic link,
    and no pipe is read (it would wait for ever)."""
    project.write("a.yaml", brief_text("alpha"))
    path = project.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    if target is None:
        os.mkfifo(path)
    else:
        path.symlink_to(target if target.startswith("/") else project.root / target)
    result = project.run("-j", "1")
    assert result.code == 1
    assert result.err == (
        f"error: {name}: not a file or folder inside its own folder (a link leading outside, a "
        "loop of links, a pipe or a device); fieldbrief reads templates, styles and assets only "
        "from inside the project's templates/, styles/ and assets/ folders; nothing was written\n")
    assert not (project.root / "site").exists()


def test_two_files_whose_names_display_alike_may_not_share_an_id(project: TmpProject) -> None:
    """Names are escaped for display, so 'a<ESC>.yaml' and 'a\\x1b.yaml' read alike: they
    are still two files, and one id between them is an error (it let a brief later
    relabelled RED stay on the site, through the outputs kept for the other)."""
    project.write("a\x1b.yaml", brief_text("x", title="Public brief A"))
    project.write("a\\x1b.yaml", brief_text("x", title="Brief B"))
    result = project.run("check")
    assert result.code == 1
    assert "id 'x' is already used by briefs/a\\x1b.yaml" in result.err
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 1
    assert not (project.root / "site").exists()


def test_a_brief_file_name_that_is_not_utf8_builds_an_archival_pdf(project: TmpProject) -> None:
    """The name PDF/A gives the attached YAML could not hold a name that is not UTF-8:
    the build ended in a traceback. The attachment is then named by the brief's id."""
    path = os.path.join(os.fsencode(project.root / "briefs"), b"bad\xff.yaml")
    with open(path, "w", encoding="utf-8") as file:
        file.write(brief_text("odd-name"))
    result = project.run("-j", "1", "--pdf-variant", "pdf/a-3b")
    assert result.code == 0, result.err
    reader = PdfReader(project.root / "site/briefs/odd-name/odd-name.pdf")
    assert list(reader.attachments) == ["odd-name.yaml"]
