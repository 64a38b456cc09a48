"""`build.py serve`: serves the site, rebuilds on change, survives a broken brief."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from conftest import REPO, SCENARIOS, TmpProject


class Server:
    def __init__(self, project: TmpProject) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--port", "0"], cwd=project.root,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        self.url = self._wait_for_url()
        self.generation = self.state(since=-1)["generation"]

    def _wait_for_url(self) -> str:
        for line in self.process.stdout:
            if line.startswith("serving "):
                return line.split(" at ")[1].split(" ")[0]
        raise AssertionError(f"serve did not start: {self.process.stderr.read()}")

    def get(self, path: str) -> tuple[int, str, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as response:
                return response.status, response.headers["Content-Type"], response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.headers["Content-Type"], error.read().decode()

    def state(self, since: int, timeout: float = 0) -> dict:
        return json.loads(self.get(f"__fieldbrief__/state?since={since}&timeout={timeout}")[2])

    def next_build(self) -> dict:
        """Wait for the build after the last one seen."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self.state(self.generation, timeout=5)
            if state["generation"] != self.generation:
                self.generation = state["generation"]
                return state
        raise AssertionError("no rebuild after the change")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def server(project: TmpProject) -> Iterator[Server]:
    project.add("valid_minimal.yaml")
    running = Server(project)
    yield running
    running.stop()


def test_serves_the_site_with_live_reload(server: Server) -> None:
    status, content_type, page = server.get("")
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert "Minimal valid brief" in page
    assert f'<script src="/__fieldbrief__/live-reload.js" data-generation="{server.generation}"></script></body>' in page
    status, content_type, script = server.get("__fieldbrief__/live-reload.js")
    assert status == 200 and "window.location.reload()" in script
    status, content_type, _ = server.get("briefs/valid-minimal/valid-minimal.pdf")
    assert (status, content_type) == (200, "application/pdf")


def test_rebuilds_a_changed_brief(server: Server, project: TmpProject) -> None:
    brief = project.root / "briefs/valid_minimal.yaml"
    brief.write_text(brief.read_text().replace("Minimal valid brief", "Edited brief"))
    assert server.next_build()["error"] is None
    assert "Edited brief" in server.get("briefs/valid-minimal/")[2]


def test_keeps_serving_and_shows_the_error_when_a_brief_breaks(server: Server, project: TmpProject) -> None:
    brief = project.root / "briefs/valid_minimal.yaml"
    good = brief.read_text()
    brief.write_text(good.replace("status: final", "status: finished"))
    state = server.next_build()
    assert state["error"] == ("briefs/valid_minimal.yaml:5:9: status: 'finished' is not allowed; "
                              "use one of 'draft' or 'final'")
    status, _, page = server.get("briefs/valid-minimal/")
    assert status == 200 and "Minimal valid brief" in page, "the last good site is still served"
    brief.write_text(good)
    assert server.next_build()["error"] is None


def test_template_change_rebuilds_everything(server: Server, project: TmpProject) -> None:
    project.write("second.yaml", (SCENARIOS / "valid_minimal.yaml").read_text()
                  .replace("id: valid-minimal", "id: second"))
    assert server.next_build()["error"] is None
    base = project.root / "templates/base.html"
    base.write_text(base.read_text().replace("Built with fieldbrief", "Made with fieldbrief"))
    assert server.next_build()["error"] is None
    for path in ("", "briefs/valid-minimal/", "briefs/second/"):
        assert "Made with fieldbrief" in server.get(path)[2]


def test_first_build_failing_serves_an_error_page(project: TmpProject) -> None:
    project.add("invalid_values.yaml")
    running = Server(project)
    try:
        status, _, page = running.get("")
        assert status == 503
        assert "briefs/invalid_values.yaml:1:5: id: &#x27;Invalid_Values&#x27; is not a valid id" in page
    finally:
        running.stop()


def test_output_folder_changes_do_not_trigger_builds(server: Server, project: TmpProject) -> None:
    (project.root / "site" / "stray.txt").write_text("not an input")
    (project.root / "notes.txt").write_text("not an input either")
    assert server.state(server.generation, timeout=2)["generation"] == server.generation
