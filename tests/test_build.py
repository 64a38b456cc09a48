"""Building a site through the CLI: outputs, exit codes, partial builds, nothing lost."""

from __future__ import annotations

from pathlib import Path

from conftest import TmpProject


def test_build_writes_index_pages_and_pdfs(project: TmpProject) -> None:
    project.add("valid_minimal.yaml", "warning_unused_source.yaml")
    result = project.run("--drafts")
    assert result.code == 0, result.err
    site = project.root / "site"
    for path in ("index.html", "briefs/valid-minimal/index.html",
                 "briefs/valid-minimal/valid-minimal.pdf",
                 "briefs/warning-unused-source/index.html",
                 "briefs/warning-unused-source/warning-unused-source.pdf",
                 "assets/shared.css", "assets/screen.css", "assets/print.css"):
        assert (site / path).is_file(), path
    assert (site / "briefs/valid-minimal/valid-minimal.pdf").read_bytes().startswith(b"%PDF-")
    assert result.out.splitlines()[-1].startswith("built 2 briefs (HTML and PDF) into site/ in ")
    assert result.err == ("briefs/warning_unused_source.yaml:20:9: sources[1].id: "
                          "warning: source 'never-cited' is never cited\n")


def test_a_weasyprint_warning_about_the_print_stylesheet_is_shown(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    sheet = project.root / "styles" / "print.css"
    lines = sheet.read_text().count("\n")
    sheet.write_text(sheet.read_text() + ".brief { colour: red; }\n")
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    assert result.err == (f"weasyprint: WARNING: Ignored `colour: red` at {lines + 1}:10, "
                          "unknown property.\n")


def test_out_option_chooses_the_folder(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    assert project.run("--out", "public").code == 0
    assert (project.root / "public/briefs/valid-minimal/valid-minimal.pdf").is_file()
    assert not (project.root / "site").exists()


def test_strict_build_fails_on_warnings_and_writes_nothing(project: TmpProject) -> None:
    project.add("warning_unused_source.yaml")
    result = project.run("--strict")
    assert result.code == 1
    assert not (project.root / "site").exists()


def test_usage_errors_exit_2(project: TmpProject) -> None:
    assert project.run("--no-such-option").code == 2
    missing = project.run("briefs/missing.yaml")
    assert missing.code == 2
    assert missing.err == "build.py: error: no such brief file: briefs/missing.yaml\n"
    assert project.run("check", "--bogus").code == 2


def test_help_exits_0(project: TmpProject) -> None:
    result = project.run("--help")
    assert result.code == 0
    assert "usage: build.py" in result.out


def test_invalid_brief_leaves_the_published_site_untouched(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    assert project.run().code == 0
    before = _snapshot(project.root / "site")
    project.add("invalid_values.yaml")
    result = project.run()
    assert result.code == 1
    assert result.err.splitlines()[-1] == "error: 14 problems in 1 file; nothing was written"
    assert _snapshot(project.root / "site") == before
    assert _leftovers(project.root) == []


def test_named_briefs_are_rebuilt_and_others_kept(project: TmpProject) -> None:
    project.add("valid_minimal.yaml", "warning_unused_source.yaml")
    assert project.run("--drafts").code == 0
    site = project.root / "site"
    kept = (site / "briefs/warning-unused-source/warning-unused-source.pdf").stat().st_mtime_ns
    result = project.run("--drafts", "briefs/valid_minimal.yaml")
    assert result.code == 0, result.err
    assert result.out.splitlines()[0].startswith("rendered briefs/valid_minimal.yaml")
    assert "1 unchanged" in result.out.splitlines()[-1]
    assert (site / "briefs/warning-unused-source/warning-unused-source.pdf").stat().st_mtime_ns == kept
    index = (site / "index.html").read_text()
    assert "Minimal valid brief" in index and "A valid brief with a source nobody cites" in index


def test_deleted_brief_disappears_after_a_successful_build(project: TmpProject) -> None:
    first, _ = project.add("valid_minimal.yaml", "warning_unused_source.yaml")
    assert project.run().code == 0
    first.unlink()
    assert project.run().code == 0
    assert not (project.root / "site/briefs/valid-minimal").exists()
    assert "Minimal valid brief" not in (project.root / "site/index.html").read_text()


def test_refuses_to_replace_a_folder_it_did_not_write(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    precious = project.root / "docs"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    result = project.run("--out", "docs")
    assert result.code == 1
    assert "is not empty and was not written by fieldbrief" in result.err
    assert (precious / "notes.txt").read_text() == "keep me"


def test_no_briefs_builds_an_empty_index(project: TmpProject) -> None:
    result = project.run()
    assert result.code == 0
    assert "0 briefs, newest first." in (project.root / "site/index.html").read_text()


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _leftovers(root: Path) -> list[str]:
    """Staging or retired folders a build must never leave behind."""
    return sorted(p.name for p in root.iterdir()
                  if p.name.startswith((".site.staging-", ".site.old-")))
