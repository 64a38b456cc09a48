"""The installable package: its pins, the wheel in a fresh virtualenv, and the search
path that lets a project override one template or stylesheet."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

from conftest import REPO, TmpProject, pdf_pages_text


def _pins(lines: list[str]) -> dict[str, str]:
    pins = {}
    for line in lines:
        requirement = line.split("#")[0].strip()
        if requirement:
            name, version = requirement.split("==")
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    return pins


def test_pyproject_depends_on_exactly_the_runtime_pins_of_requirements_txt() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    runtime = requirements[:next(i for i, line in enumerate(requirements) if line.startswith("# Tests"))]
    assert _pins(project["dependencies"]) == _pins(runtime)


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout, installed into a new virtualenv that borrows the
    dependencies of the running one (a .pth file), so nothing is downloaded. Returns its bin/."""
    work = tmp_path_factory.mktemp("package")
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                 "--disable-pip-version-check", "-q", "-w", work / "dist", REPO, cwd=work)
    assert built.returncode == 0, built.stderr
    venv = work / "venv"
    made = _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    assert made.returncode == 0, made.stderr
    site_packages = Path(_run(venv / "bin" / "python", "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                              cwd=work).stdout.strip())
    (site_packages / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((work / "dist").glob("fieldbrief-*.whl"))
    done = _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install",
                "--no-deps", "--no-index", "--disable-pip-version-check", "-q", wheel, cwd=work)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def test_installed_command_starts_a_project_that_builds_with_the_packaged_templates(
        installed: Path, tmp_path: Path) -> None:
    made = _run(installed / "fieldbrief", "new", "project", "desk", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    desk = tmp_path / "desk"
    where = _run(installed / "python", "-c", "import fieldbrief.project as p; print(p.BUILTIN_TEMPLATES)",
                 cwd=desk)
    assert Path(where.stdout.strip()).is_relative_to(installed.parent), "templates come from the wheel"
    built = _run(installed / "fieldbrief", "build", "-j", "1", cwd=desk)
    assert built.returncode == 0, built.stderr
    page = desk / "site" / "briefs" / "exercise-river-delta-floods" / "index.html"
    assert "Floods in the Velande river delta" in page.read_text(encoding="utf-8")
    assert (desk / "site" / "assets" / "print.css").read_bytes() == (REPO / "styles" / "print.css").read_bytes()
    assert pdf_pages_text(page.with_name("exercise-river-delta-floods.pdf"))


def test_installed_command_reports_the_placeholders_of_a_new_brief(installed: Path,
                                                                   tmp_path: Path) -> None:
    _run(installed / "fieldbrief", "new", "project", "desk", cwd=tmp_path)
    desk = tmp_path / "desk"
    assert _run(installed / "fieldbrief", "new", "brief", "x", cwd=desk).returncode == 0
    checked = _run(installed / "fieldbrief", "check", cwd=desk)
    assert checked.returncode == 1
    assert ("briefs/x.yaml:7:8: title: still a placeholder: replace '<<the brief's title, one line>>'"
            in checked.stderr.splitlines())


def test_installed_command_is_named_fieldbrief_in_its_messages(installed: Path, tmp_path: Path) -> None:
    run = _run(installed / "fieldbrief", "check", "--no-such-option", cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.splitlines()[-1] == ("fieldbrief check: error: unrecognized arguments: "
                                           "--no-such-option")


# --- the search path: a project overrides one file, the rest stays built-in -------------------

OVERRIDE_MARK = "Cleared by the Sahel desk"


@pytest.fixture
def bare(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project of briefs only: every template and style comes from fieldbrief."""
    root = tmp_path / "bare"
    (root / "briefs").mkdir(parents=True)
    shutil.copytree(REPO / "sources", root / "sources")
    shutil.copy(REPO / "briefs" / "mali-jnim-attacks.yaml", root / "briefs")
    monkeypatch.chdir(root)
    return root


def test_a_project_overriding_one_partial_gets_it_in_html_and_pdf(bare: Path) -> None:
    partial = (REPO / "templates" / "partials" / "bluf.html").read_text(encoding="utf-8")
    (bare / "templates" / "partials").mkdir(parents=True)
    (bare / "templates" / "partials" / "bluf.html").write_text(
        f"<p class=\"desk-mark\">{OVERRIDE_MARK}</p>\n{partial}", encoding="utf-8")
    run = TmpProject.run_here("-j", "1")
    assert run.code == 0, run.err
    folder = bare / "site" / "briefs" / "mali-jnim-attacks"
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert OVERRIDE_MARK in page
    assert 'id="situation"' in page, "the other partials stay built-in"
    assert OVERRIDE_MARK in pdf_pages_text(folder / "mali-jnim-attacks.pdf")[0]


def test_a_project_overriding_one_stylesheet_publishes_it_beside_the_built_in_ones(bare: Path) -> None:
    (bare / "styles").mkdir()
    (bare / "styles" / "screen.css").write_text("body { color: #123456 }\n", encoding="utf-8")
    run = TmpProject.run_here("--no-pdf")
    assert run.code == 0, run.err
    assets = bare / "site" / "assets"
    assert (assets / "screen.css").read_text(encoding="utf-8") == "body { color: #123456 }\n"
    assert (assets / "shared.css").read_bytes() == (REPO / "styles" / "shared.css").read_bytes()


def test_a_project_overriding_the_print_stylesheet_gets_it_in_the_pdf(bare: Path) -> None:
    (bare / "styles").mkdir()
    print_css = (REPO / "styles" / "print.css").read_text(encoding="utf-8")
    (bare / "styles" / "print.css").write_text(
        f"{print_css}\n.bluf::before {{ content: \"{OVERRIDE_MARK}\" }}\n", encoding="utf-8")
    run = TmpProject.run_here("-j", "1")
    assert run.code == 0, run.err
    text = pdf_pages_text(bare / "site" / "briefs" / "mali-jnim-attacks" / "mali-jnim-attacks.pdf")
    assert OVERRIDE_MARK in text[0]


def test_pre_commit_hook_runs_fieldbrief_check_on_changed_briefs(project: TmpProject) -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(hook for hook in hooks if hook["id"] == "fieldbrief-check")
    assert re.search(hook["files"], "briefs/mali-jnim-attacks.yaml")
    assert not re.search(hook["files"], "templates/brief.html")
    assert hook["pass_filenames"] is True
    command, *arguments = hook["entry"].split()
    assert command == "fieldbrief"
    brief, = project.add("valid_minimal.yaml")
    assert project.run(*arguments, str(brief.relative_to(project.root))).code == 0


def test_build_is_also_a_command_word_as_the_installed_command_spells_it(project: TmpProject) -> None:
    project.add("valid_minimal.yaml")
    run = project.run("build", "--no-pdf", "-j", "1")
    assert run.code == 0, run.err
    assert (project.root / "site" / "briefs" / "valid-minimal" / "index.html").is_file()
