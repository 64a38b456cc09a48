"""`new project` and `new brief`: what they write, that it builds (or, for a brief with
placeholders, that it is refused with positions), and that nothing is ever overwritten."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from conftest import SCENARIOS, TmpProject
from fieldbrief.config import SiteConfig, load_config
from fieldbrief.model import Brief

run = TmpProject.run_here


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project made by `new project`, the working folder."""
    monkeypatch.chdir(tmp_path)
    made = run("new", "project", "desk")
    assert made.code == 0, made.err
    assert made.out == "wrote 11 files into desk/; build it with: cd desk && fieldbrief build\n"
    monkeypatch.chdir(tmp_path / "desk")
    return tmp_path / "desk"


def test_new_project_passes_check_strict_and_builds_at_once(desk: Path) -> None:
    assert run("check", "--strict") == run("check", "--strict")  # deterministic
    checked = run("check", "--strict")
    assert (checked.code, checked.err) == (0, "")
    built = run("--no-pdf", "--strict")
    assert built.code == 0, built.err
    assert (desk / "site" / "briefs" / "exercise-river-delta-floods" / "index.html").is_file()


def test_new_project_site_yaml_shows_every_setting_commented_at_its_default(desk: Path) -> None:
    text = (desk / "site.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=schema/site.schema.json"
    for name in SiteConfig.model_fields:
        assert re.search(rf"^(# )?{name}:", text, re.MULTILINE), name
    settings = re.compile(rf"# ((?:{'|'.join(SiteConfig.model_fields)}):.*|- .*)")
    uncommented = "\n".join(match[1] for line in text.splitlines() if (match := settings.fullmatch(line)))
    assert load_config(desk / "site.yaml") == SiteConfig(title="desk briefs")
    assert SiteConfig(**yaml.safe_load(uncommented)) == SiteConfig(), "the defaults, as shown"


def test_new_project_gitignore_keeps_built_output_and_build_state_out(desk: Path) -> None:
    ignored = (desk / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert {"/site/", "/restricted/", "/.fieldbrief/", "/public/"} <= set(ignored)


def test_new_project_refuses_to_overwrite_and_writes_nothing(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / "site.yaml").write_text("title: Ours\n", encoding="utf-8")
    refused = run("new", "project", "desk")
    assert refused.code == 1
    assert refused.err == ("error: desk/site.yaml already exists; fieldbrief new never overwrites "
                           "a file; nothing was written\n")
    assert [path.name for path in (tmp_path / "desk").iterdir()] == ["site.yaml"]
    assert (tmp_path / "desk" / "site.yaml").read_text(encoding="utf-8") == "title: Ours\n"


# --- the CI recipes ------------------------------------------------------------------------

def test_github_workflow_checks_strictly_builds_and_uploads_only_the_site(desk: Path) -> None:
    workflow = yaml.safe_load((desk / ".github" / "workflows" / "publish.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert "fieldbrief check --strict" in commands
    assert "fieldbrief build --strict --out site --restricted-out restricted" in commands
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload-pages-artifact")]
    assert [step["with"]["path"] for step in uploads] == ["site"]
    assert workflow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages")
    assert "restricted" not in yaml.safe_dump([step.get("with") for step in steps if "uses" in step])


def test_gitlab_pipeline_checks_strictly_and_publishes_only_public(desk: Path) -> None:
    pipeline = yaml.safe_load((desk / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert pipeline["check"]["script"] == ["fieldbrief check --strict"]
    assert pipeline["pages"]["script"][-1] == "fieldbrief build --strict --out public --restricted-out restricted"
    assert pipeline["pages"]["artifacts"] == {"paths": ["public"]}
    assert [job for job in pipeline.values() if isinstance(job, dict) and "artifacts" in job] == [pipeline["pages"]]


def test_ci_recipes_install_the_version_they_were_written_by(desk: Path) -> None:
    from fieldbrief import __version__
    pins = [line for line in (desk / "requirements.txt").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    assert pins == [f"fieldbrief=={__version__}"]


# --- new brief ---------------------------------------------------------------------------

def test_new_brief_check_reports_every_placeholder_with_its_position(desk: Path) -> None:
    made = run("new", "brief", "floods-update")
    assert made.out == ("wrote briefs/floods-update.yaml: replace its <<...>> placeholders; "
                        "fieldbrief check lists those left\n")
    checked = run("check", "briefs/floods-update.yaml")
    assert checked.code == 1
    lines = checked.err.splitlines()
    assert lines[0] == ("briefs/floods-update.yaml:7:8: title: still a placeholder: replace "
                        "'<<the brief's title, one line>>'")
    assert "briefs/floods-update.yaml:18:13: countries[0]: still a placeholder: replace '<<XX>>'" in lines
    assert all("still a placeholder" in line for line in lines[:-1]), "nothing but placeholders"
    assert lines[-1] == "error: 49 problems in 1 file; nothing was written"


def test_new_brief_is_refused_by_the_build_which_publishes_nothing(desk: Path) -> None:
    run("new", "brief", "floods-update")
    built = run("--no-pdf", "--drafts")
    assert built.code == 1
    assert built.err.splitlines()[-1] == "error: 49 problems in 1 file; nothing was written"
    assert not (desk / "site").exists()


def test_new_brief_has_the_schema_header_today_and_every_field_of_a_brief(desk: Path) -> None:
    run("new", "brief", "floods-update")
    text = (desk / "briefs" / "floods-update.yaml").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "# yaml-language-server: $schema=../schema/brief.schema.json"
    assert (desk / "schema" / "brief.schema.json").is_file()
    data = yaml.safe_load(text)
    assert (data["id"], data["as_of"], data["status"]) == ("floods-update", date.today(), "draft")
    for name in Brief.model_fields:
        assert re.search(rf"^(# )?{name}:", text, re.MULTILINE), name


def test_new_brief_filled_in_builds(desk: Path) -> None:
    """Replacing the placeholders (and deleting unwanted sections) is all it takes."""
    run("new", "brief", "floods-update")
    path = desk / "briefs" / "floods-update.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    minimal = yaml.safe_load((SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8"))
    kept = {key: data[key] for key in ("id", "as_of", "status", "language", "tlp", "revisions")}
    path.write_text(yaml.safe_dump({**minimal, **kept}), encoding="utf-8")
    assert run("check", "--strict").code == 0


def test_a_placeholder_left_inside_finished_text_is_reported(project: TmpProject) -> None:
    text = (SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8")
    project.write("unfinished.yaml", text.replace("One paragraph of summary.",
                                                  "Floods hit <<which towns?>> on Tuesday."))
    checked = project.run("check")
    assert checked.code == 1
    assert checked.err.splitlines()[0] == ("briefs/unfinished.yaml:10:10: summary: still a "
                                           "placeholder: replace '<<which towns?>>'")


@pytest.mark.parametrize(("brief_id", "reason"), [
    ("Floods_Update", "'Floods_Update' is not a valid id"),
    ("../escape", "'../escape' is not a valid id"),
])
def test_new_brief_with_a_bad_id_says_why(desk: Path, brief_id: str, reason: str) -> None:
    made = run("new", "brief", brief_id)
    assert made.code == 1
    assert made.err == (f"error: cannot make a brief: {reason}: use lowercase letters, digits and "
                        "single hyphens, at most 80 characters (e.g. 'mali-jnim-attacks'); "
                        "nothing was written\n")
    assert sorted(path.name for path in (desk / "briefs").iterdir()) == ["exercise-river-delta-floods.yaml"]


@pytest.mark.parametrize("existing", ["floods-update.yaml", "floods-update.yml"])
def test_new_brief_refuses_to_overwrite_a_brief_of_that_id(desk: Path, existing: str) -> None:
    (desk / "briefs" / existing).write_text("id: floods-update\n", encoding="utf-8")
    made = run("new", "brief", "floods-update")
    assert made.code == 1
    assert made.err == (f"error: briefs/{existing} already exists; fieldbrief new never overwrites "
                        "a file; nothing was written\n")
    assert (desk / "briefs" / existing).read_text(encoding="utf-8") == "id: floods-update\n"


@pytest.mark.parametrize("linked", ["briefs", "schema"])
def test_new_never_writes_through_a_linked_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   linked: str) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "desk").mkdir()
    (tmp_path / "desk" / linked).symlink_to(tmp_path / "elsewhere")
    made = run("new", "project", "desk")
    assert made.code == 1
    assert made.err == (f"error: desk/{linked} is a link; fieldbrief new writes only into the "
                        "project's own folders; nothing was written\n")
    assert sorted(path.name for path in (tmp_path / "desk").iterdir()) == [linked]
    assert list((tmp_path / "elsewhere").iterdir()) == []
    if linked == "briefs":
        monkeypatch.chdir(tmp_path / "desk")
        made = run("new", "brief", "floods-update")
        assert made.err == ("error: briefs is a link; fieldbrief new writes only into the "
                            "project's own folders; nothing was written\n")
        assert list((tmp_path / "elsewhere").iterdir()) == []


def test_new_without_what_to_make_is_a_usage_error(desk: Path) -> None:
    made = run("new")
    assert made.code == 2
    assert made.err.splitlines()[-1] == "build.py new: error: the following arguments are required: {project,brief}"
