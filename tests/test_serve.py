"""`build.py serve`: serves the site, rebuilds on change, survives any failed build, answers
only at loopback names, bounds and times out connections, refuses malformed requests without a
traceback, and serves nothing from outside the output folder. Network tests use 127.0.0.1 only."""

from __future__ import annotations

import html
import io
import json
import os
import queue
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given
from pypdf import PdfReader
from hypothesis import strategies as st

from conftest import REPO, SCENARIOS, TmpProject
from fieldbrief.pipeline import BuildOptions, build
from fieldbrief.project import Project
from fieldbrief.serve import BUSY_RESPONSE, LiveSite, host_allowed, serve


class Server:
    """``build.py serve`` in its own process, as a user runs it."""

    def __init__(self, project: TmpProject, *options: str) -> None:
        self.errors = tempfile.TemporaryFile("w+")  # read while it runs, without blocking
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--port", "0", *options],
            cwd=project.root, stdout=subprocess.PIPE, stderr=self.errors, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)})
        self.url = self._wait_for_url()
        self.generation = self.state(since=-1)["generation"]

    def _wait_for_url(self) -> str:
        for line in self.process.stdout:
            if line.startswith("serving "):
                return line.split(" at ")[1].split(" ")[0]
        raise AssertionError(f"serve did not start: {self.stderr()}")

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

    def builds_until(self, shown: Callable[[], bool]) -> None:
        """Wait for builds, each without error, until ``shown`` holds. The build after a
        change may not be the next one signalled: serve signals a changed brief's page
        first, then the end of the build it began, which may have read a template before
        the test changed it."""
        deadline = time.monotonic() + 60
        while not shown():
            assert time.monotonic() < deadline, "the change was never shown"
            assert self.next_build()["error"] is None

    def stderr(self) -> str:
        self.errors.seek(0)
        return self.errors.read()

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
    server.builds_until(lambda: all("Made with fieldbrief" in server.get(path)[2]
                                    for path in ("", "briefs/valid-minimal/", "briefs/second/")))


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


# --- The server outlives every failed build -------------------------------------------------

class LocalServer:
    """``serve`` on a thread of this process (HTML only), so a test can patch its constants."""

    def __init__(self, project: TmpProject, options: BuildOptions = BuildOptions(pdf=False, jobs=1)) -> None:
        self.out, self.err = io.StringIO(), io.StringIO()
        self.live = LiveSite(lambda: Project.load(project.root), project.root / "site",
                             options, self.out, self.err)
        self.stop_event = threading.Event()
        started: queue.Queue[str | BaseException] = queue.Queue()
        self.thread = threading.Thread(target=self._run, args=(project.root, started), daemon=True)
        self.thread.start()
        url = started.get(timeout=60)
        if isinstance(url, BaseException):
            raise AssertionError(f"serve stopped: {url!r}")
        self.port = int(url.rsplit(":", 1)[1].strip("/"))

    def _run(self, root: Path, started: queue.Queue[str | BaseException]) -> None:
        try:
            serve(self.live, root, "127.0.0.1", 0, self.stop_event, started.put)
        except BaseException as error:  # noqa: BLE001 (handed to the test)
            started.put(error)

    def get(self, path: str, host: str | None = None) -> tuple[int, str]:
        """GET over one raw connection: (status, body)."""
        host_line = b"" if host is None else b"Host: " + host.encode() + b"\r\n"
        return response(self.request(b"GET /" + path.encode() + b" HTTP/1.1\r\n" + host_line +
                                     b"Connection: close\r\n\r\n"))

    def request(self, raw: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as connection:
            connection.sendall(raw)
            return read_all(connection)

    def state(self) -> dict:
        return json.loads(self.get("__fieldbrief__/state?since=-1&timeout=0",
                                   f"127.0.0.1:{self.port}")[1])

    def next_build(self, generation: int) -> dict:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = json.loads(self.get(f"__fieldbrief__/state?since={generation}&timeout=5",
                                        f"127.0.0.1:{self.port}")[1])
            if state["generation"] != generation:
                return state
        raise AssertionError("no rebuild after the change")

    def close(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=30)


def read_all(connection: socket.socket) -> bytes:
    data = b""
    while chunk := connection.recv(65536):
        data += chunk
    return data


def response(raw: bytes) -> tuple[int, str]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode(errors="replace")


@pytest.fixture
def local(project: TmpProject) -> Iterator[LocalServer]:
    project.add("valid_minimal.yaml")
    running = LocalServer(project)
    yield running
    running.close()


def host(server: LocalServer) -> str:
    return f"127.0.0.1:{server.port}"


@pytest.mark.parametrize(("failure", "line"), [
    (RecursionError("maximum recursion depth exceeded"),
     "error: RecursionError: maximum recursion depth exceeded"),
    (OSError(36, "File name too long", "site/tags/aaaa"),
     "error: OSError: [Errno 36] File name too long: 'site/tags/aaaa'"),
    (ValueError("<b>not</b> a \x1b[31mbrief"), "error: ValueError: <b>not</b> a \\x1b[31mbrief"),
    (KeyError("maybe"), "error: KeyError: 'maybe'"),
    (MemoryError(), "error: MemoryError"),
])
def test_keeps_serving_whatever_exception_a_build_raises(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        failure: Exception, line: str) -> None:
    project.add("valid_minimal.yaml")
    failing = [failure]

    def broken_build(*args: object, **kwargs: object) -> object:
        if failing:
            raise failing[0]
        return build(*args, **kwargs)

    monkeypatch.setattr("fieldbrief.serve.build", broken_build)
    server = LocalServer(project)
    try:
        state = server.state()
        assert state["error"] == line
        assert server.err.getvalue().splitlines() == [line, line]  # the first build, the watcher's
        status, page = server.get("", host(server))
        assert status == 503 and f"<pre>{html.escape(line)}</pre>" in page
        failing.clear()
        brief = project.root / "briefs/valid_minimal.yaml"
        brief.write_text(brief.read_text().replace("Minimal valid brief", "Fixed brief"))
        assert server.next_build(state["generation"])["error"] is None
        status, page = server.get("briefs/valid-minimal/", host(server))
        assert status == 200 and "Fixed brief" in page
    finally:
        server.close()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("broken", [
    pytest.param(lambda text: text.replace("title: Minimal valid brief", "title: !!bool maybe"),
                 id="a YAML tag the loader cannot construct"),
    pytest.param(lambda text: text + "tags: [" + "a" * 300 + "]\n",
                 id="a tag too long for a file name"),
])
def test_keeps_serving_through_a_brief_that_breaks_the_build(project: TmpProject,
                                                             broken: Callable[[str], str]) -> None:
    project.add("valid_minimal.yaml")
    running = Server(project, "--no-pdf")
    try:
        brief = project.root / "briefs/valid_minimal.yaml"
        good = brief.read_text()
        brief.write_text(broken(good))
        running.next_build()
        assert running.process.poll() is None
        assert running.get("briefs/valid-minimal/")[0] == 200
        brief.write_text(good.replace("Minimal valid brief", "Fixed brief"))
        assert running.next_build()["error"] is None
        assert "Fixed brief" in running.get("briefs/valid-minimal/")[2]
    finally:
        running.stop()
    assert "Traceback" not in running.stderr()


def test_keeps_watching_a_brief_linked_from_outside_the_project(project: TmpProject,
                                                               tmp_path: Path) -> None:
    project.add("valid_minimal.yaml")
    outside = tmp_path / "outside.yaml"
    outside.write_text((SCENARIOS / "valid_minimal.yaml").read_text().replace("valid-minimal", "outside"))
    running = Server(project, "--no-pdf")
    try:
        (project.root / "briefs/outside.yaml").symlink_to(outside)
        brief = project.root / "briefs/valid_minimal.yaml"
        brief.write_text(brief.read_text().replace("Minimal valid brief", "Edited brief"))
        running.next_build()
        assert running.process.poll() is None
        assert running.get("")[0] == 200
    finally:
        running.stop()
    assert "Traceback" not in running.stderr()


def test_keeps_watching_an_assets_folder_linked_from_outside(project: TmpProject,
                                                             tmp_path: Path) -> None:
    project.add("valid_minimal.yaml")
    assets = tmp_path / "shared-assets"
    assets.mkdir()
    (assets / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (project.root / "assets").symlink_to(assets)
    running = Server(project, "--no-pdf")
    try:
        (assets / "map.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" width="2"/>')
        assert running.next_build()["error"] == (
            "error: assets/: not a file or folder inside its own folder (a link leading outside, "
            "a loop of links, a pipe or a device); fieldbrief reads templates, styles and assets "
            "only from inside the project's templates/, styles/ and assets/ folders")
        (project.root / "assets").unlink()
        (project.root / "assets").mkdir()
        assert running.next_build()["error"] is None
        assert "Minimal valid brief" in running.get("briefs/valid-minimal/")[2]
    finally:
        running.stop()
    assert "Traceback" not in running.stderr()


# --- Only this machine's names: no DNS rebinding ----------------------------------------------

def test_refuses_a_host_name_that_is_not_loopback(local: LocalServer) -> None:
    for name in ("evil.example", f"evil.example:{local.port}", f"localhost.evil.example:{local.port}",
                 f"127.0.0.1.evil.example:{local.port}", "localhost:1", f"[::2]:{local.port}",
                 f"user@localhost:{local.port}", f"localhost:{local.port}:{local.port}", ""):
        status, body = local.get("", name)
        assert status == 403, name
        assert "Not a local address" in body and len(body) < 1000
    status, _ = local.get("", None)
    assert status == 403, "a request without Host is refused too"


def test_refuses_a_foreign_host_for_the_state_and_script_too(local: LocalServer) -> None:
    for path in ("__fieldbrief__/state?since=-1&timeout=0", "__fieldbrief__/live-reload.js",
                 "assets/shared.css"):
        assert local.get(path, f"rebound.example:{local.port}")[0] == 403


def test_answers_at_loopback_names_with_or_without_the_port(local: LocalServer) -> None:
    for name in ("localhost", f"localhost:{local.port}", f"LOCALHOST:{local.port}", "127.0.0.1",
                 f"127.0.0.1:{local.port}", f"127.8.9.10:{local.port}", f"[::1]:{local.port}", "[::1]"):
        status, page = local.get("", name)
        assert status == 200 and "Minimal valid brief" in page, name


@pytest.mark.parametrize(("header", "listening", "allowed"), [
    ("192.0.2.7:8000", ("192.0.2.7",), True),  # --host 192.0.2.7: its own address
    ("192.0.2.8:8000", ("192.0.2.7",), False),
    ("preview.lan:8000", ("preview.lan", "192.0.2.7"), True),  # --host preview.lan
    ("192.0.2.7:8000", ("preview.lan", "192.0.2.7"), True),
    ("192.0.2.7:8000", ("0.0.0.0", "0.0.0.0"), True),  # every interface: any address
    ("[2001:db8::1]:8000", ("0.0.0.0", "0.0.0.0"), True),
    ("preview.lan:8000", ("0.0.0.0", "0.0.0.0"), False),  # but no name but localhost
    ("rebound.example:8000", ("0.0.0.0", "0.0.0.0"), False),
    ("192.0.2.7:8001", ("0.0.0.0", "0.0.0.0"), False),
    ("localhost:8000", ("0.0.0.0", "0.0.0.0"), True),
    ("localhost", ("127.0.0.1", "127.0.0.1"), True),
    ("127.1:8000", ("127.0.0.1", "127.0.0.1"), False),  # browsers send addresses in full
    ("rebound.example:8000", ("127.0.0.1", "127.0.0.1"), False),
])
def test_host_rule_for_an_explicit_listening_address(header: str, listening: tuple[str, ...],
                                                     allowed: bool) -> None:
    assert host_allowed(header, listening, 8000) is allowed


HOST_PIECES = ("localhost", "LocalHost", "127.0.0.1", "[::1]", "evil.example", ":", "8000", "x",
               "@", ".", "[", "]", "/", "%", " ", "-")  # no digit: 127.0.0.1 + 9 is loopback too
LOOPBACK_HOSTS = {f"{name}{port}" for name in ("localhost", "127.0.0.1", "[::1]")
                  for port in ("", ":8000")}


@given(st.lists(st.sampled_from(HOST_PIECES), max_size=6).map("".join))
def test_only_loopback_names_at_the_serving_port_pass(header: str) -> None:
    assert host_allowed(header, ("127.0.0.1", "127.0.0.1"), 8000) is (header.lower() in LOOPBACK_HOSTS)


# --- Bounded connections, idle time-outs, malformed requests ----------------------------------

def test_closes_connections_that_send_nothing(project: TmpProject, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("fieldbrief.serve.IDLE_SECONDS", 0.5)
    monkeypatch.setattr("fieldbrief.serve.MAX_CONNECTIONS", 8)
    project.add("valid_minimal.yaml")
    server = LocalServer(project)
    try:
        threads_before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(50)]
        try:
            assert threading.active_count() <= threads_before + 8
            for connection in idle:
                raw = read_all(connection)  # the server closes it: after the time-out, or at once
                assert raw in (b"", BUSY_RESPONSE)
        finally:
            for connection in idle:
                connection.close()
        deadline = time.monotonic() + 30
        while threading.active_count() > threads_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() <= threads_before, "their threads are gone"
        assert server.get("", host(server))[0] == 200, "still serving once the idle ones are gone"
    finally:
        server.close()
    assert capsys.readouterr().err == "" and server.err.getvalue() == ""


def test_turns_away_connections_over_the_bound(project: TmpProject, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("fieldbrief.serve.MAX_CONNECTIONS", 4)
    project.add("valid_minimal.yaml")
    server = LocalServer(project)
    try:
        threads_before = threading.active_count()
        held = [socket.create_connection(("127.0.0.1", server.port), timeout=30) for _ in range(4)]
        try:
            for connection in held:  # each is taken: its request reaches a handler
                connection.sendall(b"GET /__fieldbrief__/state?since=-1&timeout=0 HTTP/1.1\r\n")
            deadline = time.monotonic() + 30
            while threading.active_count() < threads_before + 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            extra = [socket.create_connection(("127.0.0.1", server.port), timeout=30)
                     for _ in range(20)]
            for connection in extra:
                assert read_all(connection) == BUSY_RESPONSE
                connection.close()
            assert threading.active_count() <= threads_before + 4
        finally:
            for connection in held:
                connection.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the slots come back when those connections end
            if response(server.request(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"))[0] == 200:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the server did not take new connections again")
    finally:
        server.close()
    assert capsys.readouterr().err == "" and server.err.getvalue() == ""


MALFORMED_PATHS = (
    "__fieldbrief__/state?since=abc", "__fieldbrief__/state?since=1&timeout=abc",
    "__fieldbrief__/state?since=1&timeout=nan", "__fieldbrief__/state?since=1&timeout=-1",
    "__fieldbrief__/state?since=%00", "%00", "index.html%00.png", "a%0ab", "%ff", "%ed%a0%80",
)


def test_answers_a_malformed_request_with_400_and_no_traceback(
        local: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    for path in MALFORMED_PATHS:
        assert local.get(path, host(local))[0] == 400, path
    assert capsys.readouterr().err == "" and local.err.getvalue() == ""


MALFORMED_REQUESTS = (
    (b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n", 414),  # longer than a request line may be
    (b"GET /" + b"a" * 300 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),  # a name too long for a file
    (b"GET /" + b"a/" * 3000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 404),  # a path too long
    (b"GET relative HTTP/1.1\r\nHost: localhost\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", 403),  # which one?
    (b"\x00\x01\x02 garbage\r\n\r\n", 400),
    (b"GET / HTTP/9\r\n\r\n", 400),
)


def test_answers_a_malformed_request_line_without_a_traceback(
        local: LocalServer, capsys: pytest.CaptureFixture[str]) -> None:
    for raw, status in MALFORMED_REQUESTS:
        assert response(local.request(raw))[0] == status, raw[:40]
    assert capsys.readouterr().err == "" and local.err.getvalue() == ""


def test_reports_a_failure_while_answering_in_one_line(
        local: LocalServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def broken(*args: object) -> bytes:
        raise RuntimeError("the page could not be read")

    monkeypatch.setattr("fieldbrief.serve._Handler._with_script", broken)
    assert local.request(f"GET / HTTP/1.0\r\nHost: {host(local)}\r\n\r\n".encode()) == b""
    assert local.err.getvalue() == ("error: RuntimeError: the page could not be read "
                                    "(while answering a request)\n")
    assert capsys.readouterr().err == ""


# --- Only files inside the output folder ------------------------------------------------------

ESCAPING_PATHS = (
    "../secret.txt", "%2e%2e/secret.txt", "%2E%2E%2Fsecret.txt", "..%2fsecret.txt",
    "briefs/../../secret.txt", "briefs/%2e%2e/%2e%2e/secret.txt", "%2e%2e%5csecret.txt",
    "..%5c..%5csecret.txt", "//secret.txt", "/%2e%2e/secret.txt", "%252e%252e/secret.txt",
    "linked/secret.txt", "linked-file.txt", "briefs/%2e%2e/linked-file.txt", "linked/",
    "linked-index/", "linked-index", "linked-index/index.html", "linked-htm/", "linked-htm/index.htm",
)


def test_never_serves_a_file_outside_the_output_folder(local: LocalServer, project: TmpProject) -> None:
    (project.root / "secret.txt").write_text("SECRET outside the site")
    (project.root / "secret.html").write_text("<p>SECRET outside the site</p>")
    (project.root / "site/linked").symlink_to(project.root)
    (project.root / "site/linked-file.txt").symlink_to(project.root / "secret.txt")
    for folder, index in (("linked-index", "index.html"), ("linked-htm", "index.htm")):
        (project.root / "site" / folder).mkdir()
        (project.root / "site" / folder / index).symlink_to(project.root / "secret.html")
    for path in ESCAPING_PATHS:
        status, body = local.get(path, host(local))
        assert status == 404 and "SECRET" not in body, path
        head = local.request(f"HEAD /{path} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode())
        assert response(head)[0] == 404, f"HEAD {path}"


def test_serves_a_link_that_stays_inside_the_output_folder(local: LocalServer, project: TmpProject) -> None:
    (project.root / "site/home.html").symlink_to(project.root / "site/index.html")
    status, page = local.get("home.html", host(local))
    assert status == 200 and "Minimal valid brief" in page


# --- Page first: the edited brief's page before the rest of the build ------------------------

class HeldBuilds:
    """Stands in for ``build`` in ``serve``: once ``hold`` is set, a build waits, before it
    starts, until ``release`` is set (so nothing of it, PDF or search index, has run)."""

    def __init__(self) -> None:
        self.hold, self.entered, self.release = threading.Event(), threading.Event(), threading.Event()

    def __call__(self, *args: object, **kwargs: object) -> object:
        if self.hold.is_set():
            self.entered.set()
            assert self.release.wait(timeout=120), "the test never released the build"
        return build(*args, **kwargs)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldBuilds:
    builds = HeldBuilds()
    monkeypatch.setattr("fieldbrief.serve.build", builds)
    return builds


INJECTED = re.compile(r'(<p id="fieldbrief-pdf-pending"[^>]*>[^<]*</p>)?'
                      r'<script src="/__fieldbrief__/live-reload.js" data-generation="\d+"></script>')


def as_published(page: str) -> str:
    """A page served by ``serve`` without what serve adds to it."""
    return INJECTED.sub("", page)


def test_an_edited_brief_is_served_and_reloaded_before_its_build_runs(
        project: TmpProject, held: HeldBuilds) -> None:
    project.add("valid_minimal.yaml")
    server = LocalServer(project, BuildOptions(jobs=1))  # with its PDF
    try:
        generation = server.state()["generation"]
        published = project.root / "site/briefs/valid-minimal/index.html"
        held.hold.set()
        brief = project.root / "briefs/valid_minimal.yaml"
        brief.write_text(brief.read_text().replace("Minimal valid brief", "Edited brief"))
        state = server.next_build(generation)
        assert state["error"] is None, "the reload signal of the page"
        status, page = server.get("briefs/valid-minimal/", host(server))
        assert status == 200 and "Edited brief" in page
        assert ('<p id="fieldbrief-pdf-pending" role="status"' in page
                and "The PDF of this brief is being made; this page reloads when it is ready.</p>" in page)
        status, pdf_page = server.get("briefs/valid-minimal/valid-minimal.pdf", host(server))
        assert status == 503 and "<h1>This PDF is being made</h1>" in pdf_page
        assert held.entered.wait(timeout=60) and not held.release.is_set()
        assert "Edited brief" not in published.read_text(), "the build has not published anything yet"
        held.release.set()
        state = server.next_build(state["generation"])
        assert state["error"] is None, "the second reload: the build is done"
        status, built = server.get("briefs/valid-minimal/", host(server))
        assert status == 200 and "fieldbrief-pdf-pending" not in built
        assert as_published(page) == as_published(built) == published.read_text(), \
            "the page shown first is the page the build publishes"
        raw = server.request(b"GET /briefs/valid-minimal/valid-minimal.pdf HTTP/1.0\r\n"
                             b"Host: localhost\r\n\r\n")
        head, _, pdf = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200") and b"Content-type: application/pdf" in head
        assert "Edited brief" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text(), "the PDF is the new one"
    finally:
        held.release.set()
        server.close()


@pytest.mark.parametrize(("edit", "page", "shown", "error"), [
    pytest.param(lambda text: text.replace("status: final", "status: finished"),
                 "briefs/valid-minimal/", "Minimal valid brief",
                 "briefs/valid_minimal.yaml:5:9: status: 'finished' is not allowed; "
                 "use one of 'draft' or 'final'", id="invalid value"),
    pytest.param(lambda text: text.replace("id: valid-minimal", "id: second"),
                 "briefs/second/", "Second brief",
                 "briefs/valid_minimal.yaml:1:5: id: id 'second' is already used by briefs/second.yaml",
                 id="another brief's id"),
])
def test_an_invalid_edit_never_replaces_the_served_page(
        project: TmpProject, held: HeldBuilds, edit: Callable[[str], str], page: str, shown: str,
        error: str) -> None:
    project.add("valid_minimal.yaml")
    project.write("second.yaml", (SCENARIOS / "valid_minimal.yaml").read_text()
                  .replace("id: valid-minimal", "id: second").replace("Minimal valid brief", "Second brief"))
    server = LocalServer(project)
    try:
        generation = server.state()["generation"]
        held.hold.set()
        brief = project.root / "briefs/valid_minimal.yaml"
        brief.write_text(edit(brief.read_text().replace("Minimal valid brief", "Edited brief")))
        assert held.entered.wait(timeout=60), "the build was reached"
        assert server.state() == {"generation": generation, "error": None}, "no reload before it"
        status, served = server.get(page, host(server))
        assert status == 200 and shown in served and "Edited brief" not in served
        held.release.set()
        assert server.next_build(generation)["error"] == error
        status, served = server.get(page, host(server))
        assert status == 200 and shown in served and "Edited brief" not in served
    finally:
        held.release.set()
        server.close()


@pytest.mark.parametrize("withheld", [
    pytest.param(lambda text: text.replace("status: final", "tlp: TLP:AMBER\nstatus: final"), id="amber"),
    pytest.param(lambda text: text.replace("status: final", "status: draft"), id="draft"),
])
def test_a_brief_edited_to_be_withheld_is_never_shown_ahead_and_leaves_the_preview(
        project: TmpProject, held: HeldBuilds, withheld: Callable[[str], str]) -> None:
    project.add("valid_minimal.yaml")
    server = LocalServer(project)
    try:
        generation = server.state()["generation"]
        held.hold.set()
        brief = project.root / "briefs/valid_minimal.yaml"
        brief.write_text(withheld(brief.read_text().replace("Minimal valid brief", "Withheld brief")))
        assert held.entered.wait(timeout=60), "the build was reached"
        assert server.state() == {"generation": generation, "error": None}, "no reload before it"
        status, page = server.get("briefs/valid-minimal/", host(server))
        assert status == 200 and "Minimal valid brief" in page and "Withheld brief" not in page
        held.release.set()
        assert server.next_build(generation)["error"] is None
        status, page = server.get("briefs/valid-minimal/", host(server))
        assert status == 404 and "Withheld brief" not in page
    finally:
        held.release.set()
        server.close()


def test_a_brief_saved_while_a_build_runs_is_still_shown_first(project: TmpProject,
                                                               held: HeldBuilds) -> None:
    project.add("valid_minimal.yaml")
    server = LocalServer(project)
    try:
        state = server.state()
        held.hold.set()
        brief = project.root / "briefs/valid_minimal.yaml"
        good = brief.read_text()
        brief.write_text(good.replace("Minimal valid brief", "Edited once"))
        state = server.next_build(state["generation"])
        assert held.entered.wait(timeout=60), "its build is under way (held)"
        brief.write_text(good.replace("Minimal valid brief", "Edited twice"))
        state = server.next_build(state["generation"])
        assert state["error"] is None and not held.release.is_set()
        assert "Edited twice" in server.get("briefs/valid-minimal/", host(server))[1]
        held.release.set()
        published = project.root / "site/briefs/valid-minimal/index.html"
        while server.live.ahead or "Edited twice" not in published.read_text():
            state = server.next_build(state["generation"])  # the held build, then one more
        status, page = server.get("briefs/valid-minimal/", host(server))
        assert status == 200 and as_published(page) == published.read_text()
    finally:
        held.release.set()
        server.close()


SERIES = "title: Test floods\ndesk: Test desk\ncadence: weekly\n"


def issue(number: int, as_of: str, value: str) -> str:
    return (f"id: issue-{number}\ntitle: Issue {number}\nseries: floods\nnumber: {number}\n"
            f"as_of: {as_of}\ncountries: [ZZ]\nstatus: final\ndesk: Test desk\nbluf:\n  - One.\n"
            f"  - Two.\nsummary: Text.\nfigures:\n  - key: displaced\n    value: \"{value}\"\n"
            "    counts: people displaced\n    status: reported\n    sources: [s]\n"
            "sources:\n  - id: s\n    title: S\n    publisher: P\n    kind: report\n"
            "    reliability: B\n    credibility: 2\n")


@pytest.mark.parametrize(("edited", "page", "change", "shown"), [
    ("b.yaml", "briefs/issue-2/", ('value: "150"', 'value: "175"'), "Changes since No. 1"),
    ("valid_minimal.yaml", "briefs/valid-minimal/", ("One paragraph", "One edited paragraph"),
     '<link rel="alternate" hreflang="fr" href="../minimal-fr/index.html">'),
])
def test_a_page_shown_first_is_the_page_its_build_publishes_with_its_series_and_languages(
        project: TmpProject, held: HeldBuilds, edited: str, page: str, change: tuple[str, str],
        shown: str) -> None:
    (project.root / "series").mkdir(exist_ok=True)
    (project.root / "series/floods.yaml").write_text(SERIES)
    project.write("a.yaml", issue(1, "2026-11-01", "100"))
    project.write("b.yaml", issue(2, "2026-11-08", "150"))
    project.add("valid_minimal.yaml")
    project.write("fr.yaml", (SCENARIOS / "valid_minimal.yaml").read_text()
                  .replace("id: valid-minimal", "id: minimal-fr")
                  .replace("status: final", "status: final\nlanguage: fr\ntranslation_of: valid-minimal"))
    server = LocalServer(project)
    try:
        generation = server.state()["generation"]
        held.hold.set()
        brief = project.root / "briefs" / edited
        brief.write_text(brief.read_text().replace(*change))
        generation = server.next_build(generation)["generation"]
        status, first = server.get(page, host(server))
        assert status == 200 and shown in first and "fieldbrief-pdf-pending" not in first  # HTML only
        assert change[1].removeprefix('value: "').removesuffix('"') in first, "the edit is on it"
        held.release.set()
        server.next_build(generation)
        published = (project.root / "site" / page / "index.html").read_text()
        assert as_published(first) == published
    finally:
        held.release.set()
        server.close()
