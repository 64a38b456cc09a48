"""Untrusted input: the site config, limits, the fetch policy, and nothing lost on failure."""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, TmpProject
from fieldbrief.errors import BuildFailed
from fieldbrief.publish import safe_join

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f1bc4b0000000049454e44ae426082")


class Listener:
    """An HTTP server on 127.0.0.1 that records every connection it gets."""

    def __init__(self, redirect_to: str | None = None) -> None:
        self.requests: list[str] = []
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                listener.requests.append(self.path)
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()
                self.wfile.write(PNG_1X1)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def with_map(project: TmpProject, image: str, name: str = "mapped.yaml") -> Path:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    return project.write(name, text.replace("summary: One paragraph of summary.\n",
                                            "summary: One paragraph of summary.\nmap:\n"
                                            f"  image: {image}\n  alt: A map.\n"
                                            "  credit: Test desk\n"))


# --- the site configuration ---------------------------------------------------------------

def test_site_config_is_validated_with_positions(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text(
        "titel: Desk briefs\nallowed_hosts: [https://tiles.example.org/]\nmax_brief_bytes: 10\n")
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "site.yaml:1:1: titel: unknown field 'titel'; did you mean 'title'?",
        "site.yaml:2:17: allowed_hosts[0]: 'https://tiles.example.org/' is not a host name: "
        "write it without scheme or path, e.g. 'tiles.example.org' or 'maps.example.org:8443'",
        "site.yaml:3:18: max_brief_bytes: Input should be greater than or equal to 1024",
        "error: 3 problems in 1 file; nothing was written",
    ]


def test_site_title_comes_from_the_config(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("title: Sahel desk briefs\n")
    project.add("valid_minimal.yaml")
    assert project.run().code == 0
    assert "<title>Sahel desk briefs</title>" in (project.root / "site/index.html").read_text()


def test_missing_config_file_is_a_usage_error(project: TmpProject) -> None:
    result = project.run("--config", "nope.yaml")
    assert (result.code, result.err) == (2, "build.py: error: no such configuration file: nope.yaml\n")


# --- limits on the YAML itself ------------------------------------------------------------

def test_file_size_limit_is_configurable(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("max_brief_bytes: 1024\n")
    project.write("big.yaml", "id: big\nsummary: " + "x" * 2000 + "\n")
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/big.yaml:1:1: the file is 2018 bytes, more than the limit of 1024 "
        "(max_brief_bytes in site.yaml)")


def test_alias_bomb_is_refused(project: TmpProject) -> None:
    levels = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        levels.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    project.write("bomb.yaml", "\n".join(levels) + "\n")
    result = project.run("check")
    assert result.code == 1
    assert "the document has more than 100000 values (alias expansion?)" in result.err


def test_deep_nesting_is_refused(project: TmpProject) -> None:
    project.write("deep.yaml", "id: " + "[" * 5000 + "]" * 5000 + "\n")
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/deep.yaml:1:54: invalid YAML: values are nested more than 50 levels deep")


def test_python_tags_are_not_constructed(project: TmpProject, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    project.write("tag.yaml", f"id: !!python/object/apply:os.system ['touch {marker}']\n")
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0] == ("briefs/tag.yaml:1:5: id: the YAML tag "
                                         "'!!python/object/apply:os.system' is not allowed; "
                                         "remove it (put text in quotes)")
    assert not marker.exists()


# --- warnings ----------------------------------------------------------------------------

def test_quote_without_source_and_claim_without_claimant_warn(project: TmpProject) -> None:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    text = text.replace("    status: confirmed\n", "    status: claimed\n")
    text += "quotes:\n  - text: Exact words.\n    speaker: Someone\n    language: en\n"
    project.write("warned.yaml", text)
    result = project.run("check")
    assert result.code == 0
    assert result.err.splitlines() == [
        "briefs/warned.yaml:14:13: figures[0].status: warning: a claimed figure needs a "
        "claimant; add 'claimed_by: <actor id>'",
        "briefs/warned.yaml:24:5: quotes[0]: warning: quote has no source; add 'source: <id>'",
    ]
    assert project.run("check", "--strict").code == 1


# --- the fetch policy --------------------------------------------------------------------

@pytest.mark.parametrize(("image", "message"), [
    ("file:///etc/passwd",
     "'file:' URLs are not allowed; use a file under assets/ or an https URL"),
    ("../../../../../etc/passwd", "'../../../../../etc/passwd' is outside the project's assets/ folder"),
    ("assets/../briefs/mapped.yaml", "'assets/../briefs/mapped.yaml' is outside the project's assets/ folder"),
    ("assets/missing.png", "'assets/missing.png' does not exist"),
    ("data:image/png;base64,iVBORw0KGgo=",
     "'data:' URLs are not allowed; use a file under assets/ or an https URL"),
])
def test_map_images_outside_the_policy_are_refused(project: TmpProject, image: str, message: str) -> None:
    with_map(project, image)
    result = project.run()
    assert result.code == 1
    assert result.err.splitlines()[0] == f"briefs/mapped.yaml:12:10: map.image: {message}"
    assert not (project.root / "site").exists()


def test_symlink_out_of_assets_is_refused(project: TmpProject) -> None:
    (project.root / "assets").mkdir()
    (project.root / "assets" / "passwd.png").symlink_to("/etc/passwd")
    with_map(project, "assets/passwd.png")
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/mapped.yaml:12:10: map.image: 'assets/passwd.png' is outside the project's assets/ folder")
    result = project.run()  # a build refuses the link itself, before it reads anything
    assert result.code == 1
    assert result.err.startswith("error: assets/passwd.png: not a file or folder inside its own folder")


def test_url_to_an_unlisted_host_is_never_contacted(project: TmpProject, listener: Listener) -> None:
    with_map(project, f"http://{listener.host}/tile.png")
    result = project.run()
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"briefs/mapped.yaml:12:10: map.image: images may not be loaded from '{listener.host}'; "
        "list the host in allowed_hosts of site.yaml to allow it")
    assert listener.requests == [], "no connection was made"


def test_listed_host_is_fetched_once_for_the_pdf(project: TmpProject, listener: Listener) -> None:
    (project.root / "site.yaml").write_text(f"allowed_hosts: ['{listener.host}']\n")
    with_map(project, f"http://{listener.host}/tile.png")
    result = project.run()
    assert result.code == 0, result.err
    assert listener.requests == ["/tile.png"]
    page = (project.root / "site/briefs/valid-minimal/index.html").read_text()
    assert f'<img src="http://{listener.host}/tile.png"' in page


def test_redirect_from_a_listed_host_is_not_followed(project: TmpProject, listener: Listener) -> None:
    elsewhere = Listener(redirect_to=None)
    bouncer = Listener(redirect_to=f"http://{elsewhere.host}/secret.png")
    try:
        (project.root / "site.yaml").write_text(f"allowed_hosts: ['{bouncer.host}']\n")
        with_map(project, f"http://{bouncer.host}/tile.png")
        result = project.run()
        assert result.code == 1
        assert ('briefs/mapped.yaml: Error fetching "http://' + bouncer.host + '/tile.png": '
                "HTTP Error 302: Found") in result.err
        assert bouncer.requests == ["/tile.png"]
        assert elsewhere.requests == [], "the redirect target was never contacted"
    finally:
        bouncer.close()
        elsewhere.close()


def test_template_loading_a_foreign_resource_fails_the_build(project: TmpProject) -> None:
    base = project.root / "templates" / "base.html"
    base.write_text(base.read_text().replace(
        "</head>", '<script src="https://cdn.example.org/x.js"></script></head>'))
    project.add("valid_minimal.yaml")
    result = project.run()
    assert result.code == 1
    assert ("briefs/valid-minimal/index.html would load https://cdn.example.org/x.js, "
            "which is not on an allowed host") in result.err


# --- paths and publishing ----------------------------------------------------------------

@pytest.mark.parametrize("relative", ["../escape.html", "/etc/passwd", "a/../../b", "a\\..\\b", ""])
def test_safe_join_refuses_paths_leaving_the_site(tmp_path: Path, relative: str) -> None:
    with pytest.raises(BuildFailed):
        safe_join(tmp_path, relative)


def test_killed_build_leaves_the_published_site_byte_identical(project: TmpProject) -> None:
    text = (REPO / "briefs/mali-jnim-attacks.yaml").read_text()
    for number in range(6):
        project.write(f"copy{number}.yaml", text.replace("id: mali-jnim-attacks", f"id: copy-{number}"))
    assert project.run().code == 0
    before = _snapshot(project.root / "site")
    (project.root / "briefs/copy0.yaml").write_text(text.replace("id: mali-jnim-attacks", "id: copy-0")
                                                    .replace("Coordinated", "Changed"))
    build = subprocess.Popen([sys.executable, str(REPO / "build.py")], cwd=project.root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert build.stdout.readline().startswith("rendered "), "killed in the middle of rendering"
    build.send_signal(signal.SIGKILL)
    build.wait()
    assert _snapshot(project.root / "site") == before
    result = project.run()
    assert result.code == 0, result.err
    assert "Changed jihadist attacks" in (project.root / "site/briefs/copy-0/index.html").read_text()
    assert not [p for p in project.root.iterdir() if ".staging-" in p.name or ".old-" in p.name]


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _children_of(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (read from /proc)."""
    children = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.add(int(stat.parent.name))
    return children


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_build_leaves_no_worker_behind(project: TmpProject) -> None:
    """Worker processes die with the build that started them, even under SIGKILL."""
    text = (REPO / "briefs/mali-jnim-attacks.yaml").read_text()
    for number in range(8):
        project.write(f"copy{number}.yaml", text.replace("id: mali-jnim-attacks", f"id: copy-{number}"))
    build = subprocess.Popen([sys.executable, str(REPO / "build.py"), "-j", "2"], cwd=project.root,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert build.stdout.readline().startswith("rendered "), "killed in the middle of rendering"
    workers = _children_of(build.pid)
    assert workers, "the build renders in worker processes"
    build.send_signal(signal.SIGKILL)
    build.wait()
    for _ in range(100):
        if not [pid for pid in workers if _alive(pid)]:
            break
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []
