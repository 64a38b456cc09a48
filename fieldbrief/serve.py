"""``build.py serve``: build, serve on localhost, rebuild on change, reload the browser.

A build runs first; then a local HTTP server serves the output folder while a watcher
follows ``briefs/``, ``templates/``, ``styles/``, ``assets/`` and the site
configuration. Each change runs an incremental build: a changed brief is rebuilt
alone, a changed template rebuilds what uses it. Pages served get a small script that reloads them after
each build. A failed build keeps the last good site on screen and shows the error
over it, and in the terminal, until it is fixed.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, urlsplit

import watchfiles

from fieldbrief.config import CONFIG_FILE
from fieldbrief.errors import FieldbriefError, InvalidInput
from fieldbrief.pipeline import STATIC_DIR, BuildOptions, build
from fieldbrief.progress import PlainProgress
from fieldbrief.project import Project

WATCHED_FOLDERS = ("briefs", "templates", "styles", "assets")
STATE_PATH = "/__fieldbrief__/state"
SCRIPT_PATH = "/__fieldbrief__/live-reload.js"
LONG_POLL_SECONDS = 25.0
WATCH_TICK_MS = 300


@dataclass
class BuildState:
    """The outcome of the latest build, shared by the watcher and the server threads."""

    generation: int = 0
    error: str | None = None
    changed: threading.Condition = field(default_factory=threading.Condition)

    def record(self, error: str | None) -> None:
        with self.changed:
            self.generation += 1
            self.error = error
            self.changed.notify_all()

    def wait(self, since: int, timeout: float) -> tuple[int, str | None]:
        with self.changed:
            self.changed.wait_for(lambda: self.generation != since, timeout=timeout)
            return self.generation, self.error


@dataclass
class LiveSite:
    """Builds the project into ``out_dir`` and remembers how the last build went."""

    load_project: Callable[[], Project]  # read again before every build: site.yaml may change
    out_dir: Path
    options: BuildOptions
    out: TextIO
    err: TextIO
    state: BuildState = field(default_factory=BuildState)

    def rebuild(self) -> None:
        """Build what changed; record the outcome (pages reload only if something was written)."""
        try:
            report = build(self.load_project(), self.out_dir, (), self.options,
                           PlainProgress(self.out))
        except FieldbriefError as error:
            message = _describe(error)
            self._say(self.err, message)
            self.state.record(message)
            return
        for warning in report.warnings:
            self._say(self.err, str(warning))
        if report.wrote or self.state.error:
            self._say(self.out, f"built {len(report.rendered)} brief(s), "
                                f"{len(report.unchanged)} unchanged, in {report.seconds:.2f} s")
            self.state.record(None)

    def _say(self, stream: TextIO, text: str) -> None:
        stream.write(text + "\n")
        stream.flush()


def serve(live: LiveSite, root: Path, host: str, port: int, stop: threading.Event,
          on_ready: Callable[[str], None]) -> None:
    """Serve the project at ``root`` until ``stop`` is set, rebuilding on every change."""
    live.rebuild()
    handler = functools.partial(_Handler, live=live)
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{host}:{server.server_address[1]}/"
    watching = False
    try:
        for changes in watchfiles.watch(root, watch_filter=_Watched(root), stop_event=stop,
                                        yield_on_timeout=True, rust_timeout=WATCH_TICK_MS):
            if not watching:  # the watcher is up: catch what changed while it started
                watching = True
                live.rebuild()
                on_ready(url)
            elif changes:
                live.rebuild()
    finally:
        server.shutdown()
        server.server_close()


class _Watched:
    """Only the project's inputs: never the output folders a build writes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        relative = Path(path).resolve().relative_to(self.root)
        return relative.parts[:1] in {(folder,) for folder in WATCHED_FOLDERS} or \
            relative == Path(CONFIG_FILE)


def _describe(error: FieldbriefError) -> str:
    if isinstance(error, InvalidInput):
        return "\n".join(str(problem) for problem in error.problems)
    return f"error: {error}"


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the output folder, adds the live-reload script, answers state polls."""

    def __init__(self, *args: object, live: LiveSite, **kwargs: object) -> None:
        self.live = live
        super().__init__(*args, directory=str(live.out_dir), **kwargs)  # type: ignore[arg-type]

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        path = urlsplit(self.path).path
        if path == STATE_PATH:
            return self._state()
        if path == SCRIPT_PATH:
            return self._send(200, "text/javascript", (STATIC_DIR / "live-reload.js").read_bytes())
        target = Path(self.translate_path(self.path))
        if target.is_dir():
            target = target / "index.html"
        if target.suffix == ".html" and target.is_file():
            return self._send(200, "text/html; charset=utf-8", self._with_script(target.read_bytes()))
        if not self.live.out_dir.is_dir():
            return self._send(503, "text/html; charset=utf-8", self._error_page())
        return super().do_GET()

    def _state(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        since = int(query.get("since", ["-1"])[0])
        timeout = min(float(query.get("timeout", [LONG_POLL_SECONDS])[0]), LONG_POLL_SECONDS)
        generation, error = self.live.state.wait(since, timeout)
        body = json.dumps({"generation": generation, "error": error}).encode()
        self._send(200, "application/json", body)

    def _with_script(self, page: bytes) -> bytes:
        tag = (f'<script src="{SCRIPT_PATH}" data-generation="{self.live.state.generation}">'
               "</script>").encode()
        head, found, tail = page.rpartition(b"</body>")
        return head + tag + found + tail if found else page + tag

    def _error_page(self) -> bytes:
        message = self.live.state.error or "The site has not been built yet."
        return self._with_script(("<!DOCTYPE html><html lang='en'><title>Build failed</title>"
                                  "<body><h1>The build failed</h1><pre>"
                                  f"{html.escape(message)}</pre></body></html>").encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # requests are not news; builds and errors are printed instead
