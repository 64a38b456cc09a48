"""Incremental and parallel builds: only what changed is rebuilt, never a stale output,
and the same output and messages whatever the number of workers."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SCENARIOS, TmpProject
from fieldbrief import stamp
from fieldbrief.project import Project

EPOCH = "1767225600"


def brief_text(brief_id: str, title: str | None = None, tlp: str = "TLP:CLEAR") -> str:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    return (text.replace("id: valid-minimal", f"id: {brief_id}\ntlp: {tlp}")
                .replace("title: Minimal valid brief", f"title: {title or 'Brief ' + brief_id}"))


@pytest.fixture
def built(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for brief_id in ("alpha", "bravo", "charlie"):
        project.write(f"{brief_id}.yaml", brief_text(brief_id))
    result = project.run("-j", "2")
    assert result.code == 0, result.err
    return project


def rendered(result_out: str) -> list[str]:
    return [line.split()[1] for line in result_out.splitlines() if line.startswith("rendered ")]


def inode(project: TmpProject, relative: str) -> int:
    return (project.root / "site" / relative).stat().st_ino


def test_nothing_changed_touches_nothing(built: TmpProject) -> None:
    before = {p: p.stat().st_mtime_ns for p in (built.root / "site").rglob("*")}
    result = built.run()
    assert result.out.startswith("nothing changed: 3 briefs unchanged, site/ untouched (")
    assert {p: p.stat().st_mtime_ns for p in (built.root / "site").rglob("*")} == before


def test_a_changed_brief_is_rebuilt_alone(built: TmpProject) -> None:
    kept = inode(built, "briefs/alpha/alpha.pdf")
    built.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    result = built.run()
    assert rendered(result.out) == ["briefs/bravo.yaml"]
    assert result.out.splitlines()[-1].startswith("built 1 brief (HTML and PDF), 2 unchanged into site/")
    assert inode(built, "briefs/alpha/alpha.pdf") == kept, "kept as the same file"
    assert "Bravo, revised" in (built.root / "site/briefs/bravo/index.html").read_text()
    assert "Bravo, revised" in (built.root / "site/index.html").read_text(), "site pages follow"


def test_a_changed_brief_template_rebuilds_every_brief(built: TmpProject) -> None:
    partial = built.root / "templates/partials/summary.html"
    partial.write_text(partial.read_text().replace("Situation summary", "Summary of the situation"))
    result = built.run()
    assert rendered(result.out) == ["briefs/alpha.yaml", "briefs/bravo.yaml", "briefs/charlie.yaml"]
    assert "Summary of the situation" in (built.root / "site/briefs/charlie/index.html").read_text()


def test_a_changed_index_template_keeps_brief_pages(built: TmpProject) -> None:
    index = built.root / "templates/index.html"
    index.write_text(index.read_text().replace("newest first", "latest first"))
    result = built.run()
    assert rendered(result.out) == []
    assert result.out.splitlines()[-1].startswith("built 0 briefs (HTML and PDF), 3 unchanged")
    assert "latest first" in (built.root / "site/index.html").read_text()


def test_a_changed_print_stylesheet_rebuilds_the_pdfs(built: TmpProject) -> None:
    sheet = built.root / "styles/print.css"
    sheet.write_text(sheet.read_text() + "\n.kicker { letter-spacing: .2em; }\n")
    assert rendered(built.run().out) == ["briefs/alpha.yaml", "briefs/bravo.yaml", "briefs/charlie.yaml"]


def test_a_changed_site_config_rebuilds_everything(built: TmpProject) -> None:
    (built.root / "site.yaml").write_text("title: Renamed desk\n")
    assert len(rendered(built.run().out)) == 3
    assert "Renamed desk" in (built.root / "site/briefs/alpha/index.html").read_text()


def test_a_deleted_brief_disappears(built: TmpProject) -> None:
    (built.root / "briefs/charlie.yaml").unlink()
    result = built.run()
    assert rendered(result.out) == []
    assert not (built.root / "site/briefs/charlie").exists()
    assert "Brief charlie" not in (built.root / "site/index.html").read_text()


def test_a_renamed_brief_file_is_built_under_its_id(built: TmpProject) -> None:
    (built.root / "briefs/charlie.yaml").rename(built.root / "briefs/zulu.yaml")
    result = built.run()
    assert result.code == 0, result.err
    assert rendered(result.out) == ["briefs/zulu.yaml"]
    assert (built.root / "site/briefs/charlie/charlie.pdf").is_file()


def test_a_changed_image_rebuilds_its_brief(built: TmpProject) -> None:
    (built.root / "assets").mkdir()
    (built.root / "assets/map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    built.write("alpha.yaml", brief_text("alpha").replace(
        "\nsources:", "\nmap:\n  image: assets/map.svg\n  alt: A map.\n  credit: Desk\nsources:"))
    assert rendered(built.run().out) == ["briefs/alpha.yaml"]
    (built.root / "assets/map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="2"/>')
    assert rendered(built.run().out) == ["briefs/alpha.yaml"]
    assert 'width="2"' in (built.root / "site/briefs/alpha/image-map.svg").read_text()


def test_a_brief_changing_label_moves_between_site_and_restricted(built: TmpProject) -> None:
    built.write("alpha.yaml", brief_text("alpha", tlp="TLP:RED"))
    built.run()
    assert (built.root / "restricted/alpha.pdf").is_file()
    assert not (built.root / "site/briefs/alpha").exists()
    built.write("alpha.yaml", brief_text("alpha"))
    built.run()
    assert (built.root / "site/briefs/alpha/alpha.pdf").is_file()
    assert not (built.root / "restricted/alpha.pdf").exists()


def test_force_rebuilds_everything(built: TmpProject) -> None:
    assert len(rendered(built.run("--force").out)) == 3


def test_an_output_removed_behind_our_back_is_rebuilt(built: TmpProject) -> None:
    (built.root / "site/briefs/bravo/bravo.pdf").unlink()
    assert rendered(built.run().out) == ["briefs/bravo.yaml"]
    assert (built.root / "site/briefs/bravo/bravo.pdf").is_file()


def test_a_site_replaced_by_another_build_is_rebuilt_whole(built: TmpProject, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    shutil.copytree(built.root, other, ignore=shutil.ignore_patterns("site", ".fieldbrief"))
    (other / "briefs/alpha.yaml").write_text(brief_text("alpha", "Alpha from elsewhere"))
    site = built.root / "site"
    shutil.rmtree(site)
    with pytest.MonkeyPatch.context() as patch:  # another project builds into our folder
        patch.chdir(other)
        assert TmpProject.run_here("--out", str(site)).code == 0
    result = built.run()
    assert len(rendered(result.out)) == 3, "our manifest no longer describes the site"
    assert "Alpha from elsewhere" not in (site / "briefs/alpha/index.html").read_text()


def test_a_corrupt_manifest_means_a_full_build(built: TmpProject) -> None:
    for manifest in (built.root / ".fieldbrief").glob("build-*.json"):
        manifest.write_text("{not json")
    assert len(rendered(built.run().out)) == 3


def test_invalid_brief_after_a_build_changes_nothing(built: TmpProject) -> None:
    before = {p: p.read_bytes() for p in (built.root / "site").rglob("*") if p.is_file()}
    built.write("bravo.yaml", "id: bravo\n")
    assert built.run().code == 1
    assert {p: p.read_bytes() for p in (built.root / "site").rglob("*") if p.is_file()} == before
    built.write("bravo.yaml", brief_text("bravo"))
    assert built.run().out.startswith("nothing changed"), "the manifest was not touched"


def test_output_is_the_same_whatever_the_number_of_workers(project: TmpProject, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for number in range(6):
        project.write(f"b{number}.yaml", brief_text(f"b{number}"))
    one = project.run("-j", "1", "--out", "one", "--restricted-out", "r1")
    two = project.run("-j", "2", "--out", "two", "--restricted-out", "r2")
    assert one.code == two.code == 0

    def lines(out: str) -> list[str]:
        return [line.split(" (")[0] for line in out.splitlines()[:-1]]

    assert lines(one.out) == lines(two.out) == [f"rendered briefs/b{n}.yaml" for n in range(6)]

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
                if p.is_file() and p.name != ".fieldbrief-site"}

    assert tree(project.root / "one") == tree(project.root / "two")


def test_missing_harfbuzz_subsetting_is_warned_about_once(project: TmpProject, monkeypatch) -> None:
    import ctypes.util
    import fieldbrief.cli as cli
    monkeypatch.setattr(cli, "_warned_about_harfbuzz", False)
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: None)
    project.write("a.yaml", brief_text("alpha"))
    first, second = project.run("--force"), project.run("--force")
    warning = ("warning: libharfbuzz-subset0 is missing, so every PDF takes about 2.5x longer; "
               "install it: sudo apt-get install libharfbuzz-subset0\n")
    assert first.err == warning
    assert second.err == "", "once per process"
    assert project.run("--no-pdf").err == ""


def test_a_terminal_gets_a_progress_bar_instead_of_lines(project: TmpProject) -> None:
    import io
    from fieldbrief.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    project.write("a.yaml", brief_text("alpha"))
    project.write("b.yaml", brief_text("bravo"))
    out = Terminal()
    assert main(["-j", "1"], stdout=out, stderr=io.StringIO()) == 0
    assert "rendered briefs/" not in out.getvalue()
    last = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", out.getvalue().splitlines()[-1])  # the bar cleared
    assert last.startswith("built 2 briefs (HTML and PDF) into site/ in ")


def test_template_references_cover_what_jinja_follows() -> None:
    """The fingerprint's cheap reference finder never misses a template Jinja2 would load."""
    from jinja2 import Environment, meta

    from fieldbrief.render_html import referenced_templates

    env = Environment(extensions=["jinja2.ext.i18n"])
    sources = [path.read_text() for path in Path("templates").rglob("*.html")]
    sources.append("{%- include ['partials/a.html', \"partials/b.html\"] -%}\n"
                   "{%+ from 'm.html' import x with context %}{% extends\n  'base.html' %}")
    for source in sources:
        followed = {name for name in meta.find_referenced_templates(env.parse(source)) if name}
        assert followed <= set(referenced_templates(source))


def test_a_changed_nested_partial_rebuilds_every_brief(built: TmpProject) -> None:
    partial = built.root / "templates/partials/series_timeline_mark.html"
    partial.write_text(partial.read_text() + "{# touched #}\n")
    result = built.run()
    assert rendered(result.out) == ["briefs/alpha.yaml", "briefs/bravo.yaml", "briefs/charlie.yaml"]


@pytest.fixture
def built_html(project: TmpProject) -> TmpProject:
    for brief_id in ("alpha", "bravo"):
        project.write(f"{brief_id}.yaml", brief_text(brief_id))
    assert project.run("--no-pdf", "-j", "1").code == 0
    return project


def relabel(page: Path) -> None:
    page.write_text(page.read_text().replace('content="TLP:CLEAR"', 'content="TLP:RED"'))


def mark_draft(page: Path) -> None:
    text = page.read_text()
    page.write_text(text.replace('name="fieldbrief-status" content="final"',
                                 'name="fieldbrief-status" content="draft"'))
    assert len(page.read_text()) == len(text)


def mark_draft_in_place(page: Path) -> None:
    """An edit in place (the same inode) to the same size, its modification time then set
    back: the page's seal as the gate takes it (inode, size, modification time) is unchanged,
    but its change time is not."""
    before = page.stat()
    text = page.read_text()
    with open(page, "r+", encoding="utf-8") as file:
        file.write(text.replace('name="fieldbrief-status" content="final"',
                                'name="fieldbrief-status" content="draft"'))
    os.utime(page, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (page.stat().st_ino, page.stat().st_size, page.stat().st_mtime_ns) == \
        (before.st_ino, before.st_size, before.st_mtime_ns)


@pytest.mark.parametrize("tamper", [
    pytest.param(relabel, id="relabelled TLP:RED"),
    pytest.param(mark_draft, id="marked draft, same size"),
    pytest.param(mark_draft_in_place, id="marked draft in place, its time set back"),
])
def test_a_kept_page_relabelled_by_hand_is_written_again_from_its_brief(
        built_html: TmpProject, tamper: Callable[[Path], None]) -> None:
    """A kept brief's page relabelled by hand in the published site: the gate refused every
    later build until the page was repaired by hand; the page is now found changed (its bytes
    are not those its build wrote) and written again, as its brief says."""
    page = built_html.root / "site/briefs/alpha/index.html"
    published = page.read_bytes()
    tamper(page)
    built_html.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    result = built_html.run("--no-pdf", "-j", "1")
    assert (result.code, result.err) == (0, "")
    assert rendered(result.out) == ["briefs/alpha.yaml", "briefs/bravo.yaml"]
    assert page.read_bytes() == published
    assert "Bravo, revised" in (built_html.root / "site/briefs/bravo/index.html").read_text()


def test_a_kept_page_untouched_is_not_read_again(built_html: TmpProject,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The seal still spares the gate every unchanged kept page (the point of sealing), build
    after build. Only the build right after the one that wrote a page reads it once more:
    the kept copy of the site takes its link to the page after the gate read it, which
    changes the page's change time as an edit would (tests/test_redteam_twin.py)."""
    from fieldbrief import policy
    read: list[str] = []
    original = policy.page_refusal
    monkeypatch.setattr(policy, "page_refusal",
                        lambda relative, *rest: read.append(relative) or original(relative, *rest))
    for number, title in enumerate(("Bravo, revised", "Bravo, revised again", "Bravo, third")):
        read.clear()
        built_html.write("bravo.yaml", brief_text("bravo", title))
        assert built_html.run("--no-pdf", "-j", "1").code == 0
        assert "briefs/bravo/index.html" in read
        assert ("briefs/alpha/index.html" in read) == (number == 0)


def build_then_rebuild_bravo(project: TmpProject, monkeypatch: pytest.MonkeyPatch,
                             settled: float) -> TmpProject:
    """alpha (with an image) and bravo built; then bravo changed and rebuilt, alpha found
    unchanged by a build that counts files as left alone long enough after ``settled`` s."""
    monkeypatch.setattr(stamp, "SETTLED", settled)
    (project.root / "assets").mkdir()
    (project.root / "assets/map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="1"/>')
    project.write("alpha.yaml", brief_text("alpha").replace(
        "\nsources:", "\nmap:\n  image: assets/map.svg\n  alt: A map.\n  credit: Desk\nsources:"))
    project.write("bravo.yaml", brief_text("bravo"))
    assert project.run("--no-pdf", "-j", "1").code == 0
    project.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    assert rendered(project.run("--no-pdf", "-j", "1").out) == ["briefs/bravo.yaml"]
    return project


@pytest.fixture
def sealed(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> TmpProject:
    """alpha and its image sealed by the build that rebuilt bravo: files count as left alone
    long enough at once (SETTLED 0; the test's own edits change their change times, the file
    system's clock counting nanoseconds)."""
    return build_then_rebuild_bravo(project, monkeypatch, 0.0)


def edit_in_place_keeping_time(path: Path, old: str, new: str) -> None:
    """Replace ``old`` by ``new`` (as long) in the file itself, then set its times back: its
    inode, size and modification time are as before, only its change time is not."""
    before = path.stat()
    text = path.read_text()
    assert len(old) == len(new) and old in text
    with open(path, "r+", encoding="utf-8") as file:
        file.write(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_ino, path.stat().st_size, path.stat().st_mtime_ns) == \
        (before.st_ino, before.st_size, before.st_mtime_ns)


def test_a_sealed_brief_edited_in_place_with_its_time_set_back_is_rebuilt(sealed: TmpProject) -> None:
    edit_in_place_keeping_time(sealed.root / "briefs/alpha.yaml", "Brief alpha", "Brief ALPHA")
    assert rendered(sealed.run("--no-pdf", "-j", "1").out) == ["briefs/alpha.yaml"]
    assert "Brief ALPHA" in (sealed.root / "site/briefs/alpha/index.html").read_text()


def test_a_sealed_brief_s_image_edited_in_place_with_its_time_set_back_rebuilds_it(
        sealed: TmpProject) -> None:
    edit_in_place_keeping_time(sealed.root / "assets/map.svg", 'width="1"', 'width="2"')
    assert rendered(sealed.run("--no-pdf", "-j", "1").out) == ["briefs/alpha.yaml"]
    assert 'width="2"' in (sealed.root / "site/briefs/alpha/image-map.svg").read_text()


def briefs_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The brief files the build reads to tell whether they changed, as it reads them."""
    read: list[str] = []
    original = Project.brief_bytes
    monkeypatch.setattr(Project, "brief_bytes",
                        lambda self, path, **rest: read.append(path.name) or original(self, path, **rest))
    return read


def test_a_sealed_brief_left_alone_is_not_read_again(sealed: TmpProject,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    read = briefs_read(monkeypatch)
    sealed.write("bravo.yaml", brief_text("bravo", "Bravo, again"))
    assert rendered(sealed.run("--no-pdf", "-j", "1").out) == ["briefs/bravo.yaml"]
    assert read == ["bravo.yaml"]  # bravo's record is of its earlier text


def test_a_brief_changed_shortly_before_the_build_that_found_it_unchanged_is_read_again(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """Git's "racily clean" files: a file changed less than SETTLED seconds before a build
    read it could change again within the same tick of a coarse clock, keeping its times,
    so that build leaves it unsealed."""
    build_then_rebuild_bravo(project, monkeypatch, 3600.0)
    monkeypatch.setattr(stamp, "SETTLED", 0.0)
    read = briefs_read(monkeypatch)
    project.write("bravo.yaml", brief_text("bravo", "Bravo, again"))
    assert rendered(project.run("--no-pdf", "-j", "1").out) == ["briefs/bravo.yaml"]
    assert read == ["alpha.yaml", "bravo.yaml"]


def fully_built(project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """alpha and bravo built by a full build, whose files are too fresh to seal; from then
    on, files count as left alone long enough at once (SETTLED 0)."""
    monkeypatch.setattr(stamp, "SETTLED", 3600.0)
    project.write("alpha.yaml", brief_text("alpha"))
    project.write("bravo.yaml", brief_text("bravo"))
    assert project.run("--no-pdf", "-j", "1").code == 0
    monkeypatch.setattr(stamp, "SETTLED", 0.0)


def kept_files_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The published files the build reads to prove it may keep them, as it reads them."""
    from fieldbrief import incremental
    read: list[str] = []
    original = incremental.holds_written
    monkeypatch.setattr(incremental, "holds_written",
                        lambda file, written: read.append(file.name) or original(file, written))
    return read


def test_a_build_with_nothing_to_do_records_the_seals_it_took_for_the_next_build(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full build's files are too fresh to seal; the build after it with nothing to do
    reads each to prove it. It records the seals it took: the first brief changed after a
    full build read every page, data file and search file kept again (0.3 s of 1000 briefs)."""
    fully_built(project, monkeypatch)
    read = kept_files_read(monkeypatch)
    assert project.run("--no-pdf", "-j", "1").out.startswith("nothing changed: 2 briefs unchanged")
    assert len(read) > 10  # each page and data file of both briefs, each site page and search file
    read.clear()
    project.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    assert rendered(project.run("--no-pdf", "-j", "1").out) == ["briefs/bravo.yaml"]
    assert read == []
    assert "Bravo, revised" in (project.root / "site/briefs/bravo/index.html").read_text()
    assert "Brief alpha" in (project.root / "site/briefs/alpha/index.html").read_text()


def pages_gated(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages the publishing gate reads, as it reads them."""
    from fieldbrief import policy
    read: list[str] = []
    original = policy.page_refusal
    monkeypatch.setattr(policy, "page_refusal",
                        lambda relative, *rest: read.append(relative) or original(relative, *rest))
    return read


def test_a_build_with_nothing_to_do_renews_the_gates_seals_so_the_next_gates_only_what_changed(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The copy of the site a full build links to each file afterwards changes the file's
    change time, so the gate's seals of that build vouched for none of them: the first
    build after it that published read every page and PDF again to gate it."""
    fully_built(project, monkeypatch)
    read = pages_gated(monkeypatch)
    assert project.run("--no-pdf", "-j", "1").out.startswith("nothing changed: 2 briefs unchanged")
    assert "briefs/alpha/index.html" in read and "index.html" in read
    read.clear()
    project.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    assert rendered(project.run("--no-pdf", "-j", "1").out) == ["briefs/bravo.yaml"]
    assert "briefs/bravo/index.html" in read
    assert "briefs/alpha/index.html" not in read


@pytest.mark.parametrize("published, edited", [("Brief alpha", "Brief ALPHA"),
                                               ('content="TLP:CLEAR"', 'content="TLP:AMBER"')])
def test_a_page_edited_by_hand_after_a_build_with_nothing_to_do_recorded_its_seals_is_written_again(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, published: str, edited: str) -> None:
    """In place, its modification time set back: the seals that build recorded (of the
    file, and the gate's) must not vouch for it; relabelled, it is never published."""
    fully_built(project, monkeypatch)
    assert project.run("--no-pdf", "-j", "1").out.startswith("nothing changed")
    page = project.root / "site/briefs/alpha/index.html"
    edit_in_place_keeping_time(page, published, edited)
    project.write("bravo.yaml", brief_text("bravo", "Bravo, revised"))
    result = project.run("--no-pdf", "-j", "1")
    assert (result.code, result.err) == (0, "")
    assert published in page.read_text() and edited not in page.read_text()
