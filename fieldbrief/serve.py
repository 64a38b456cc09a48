"""``build.py serve``: build, serve on localhost, rebuild on change, reload the browser.

A build runs first; then a local HTTP server serves the output folder while a watcher
follows ``briefs/``, ``templates/``, ``styles/``, ``assets/``, ``sources/`` and the site
configuration. Each change runs an incremental build: a changed brief is rebuilt
alone, a changed template rebuilds what uses it. Pages served get a small script that reloads them after
each build. A failed build, whatever the cause, keeps the last good site on screen and
shows the error over it, and in the terminal, until it is fixed.

Page first: when the change is one brief file and nothing else, that brief's page is
rendered before the build (:func:`~fieldbrief.pipeline.page_ahead`: the page the build
will publish, checked by the same rules and the same publishing gate) and served in
place of the published one, and pages reload at once; the build then makes its PDF,
the listings and the search index, and its end reloads them again. Until then the page
says that its PDF is being made, and the PDF's address says so too. A brief that the
build would not publish (invalid, withheld by its label or status, clashing with
another) is never shown ahead: the build reports it as before.

The server answers only requests addressed to this machine by a loopback name (or to the
address asked for with ``--host``), so a web page that rebinds its own name to 127.0.0.1
cannot read the preview. It serves only files inside the output folder, gives up on a
connection that sends nothing, holds a bounded number of connections, and answers a
malformed request with 400, never a traceback.
"""

from __future__ import annotations

import functools
import html
import http.server
import ipaddress
import json
import math
import os
import re
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TextIO
from urllib.parse import parse_qs, unquote

import watchfiles

from fieldbrief.config import CONFIG_FILE
from fieldbrief.errors import FieldbriefError, InvalidInput, printable
from fieldbrief.incremental import Manifest, load_manifest
from fieldbrief.stamp import manifest_path
from fieldbrief.pipeline import STATIC_DIR, BuildOptions, PageAhead, build, page_ahead
from fieldbrief.progress import PlainProgress
from fieldbrief.project import BRIEF_SUFFIXES, Project
from fieldbrief.render_html import HtmlRenderer

WATCHED_FOLDERS = ("briefs", "templates", "styles", "assets", "sources", "series")
STATE_PATH = "/__fieldbrief__/state"
SCRIPT_PATH = "/__fieldbrief__/live-reload.js"
LONG_POLL_SECONDS = 25.0
WATCH_TICK_MS = 300
IDLE_SECONDS = 10.0  # a connection that sends nothing for this long is closed
MAX_CONNECTIONS = 64  # beyond this, a new connection gets 503 and is closed
WILDCARD_HOSTS = ("", "0.0.0.0", "::")  # listening on every interface
BUSY_RESPONSE = (b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 20\r\nConnection: close\r\n\r\ntoo many connections")
PDF_PENDING = ('<p id="fieldbrief-pdf-pending" role="status" style="position:fixed;inset:auto 1em 1em auto;'
               'margin:0;padding:.5em .9em;background:#fff8d6;color:#3d3200;border:1px solid #c9a800;'
               'font:14px/1.4 sans-serif;z-index:2147483646">The PDF of this brief is being made; '
               'this page reloads when it is ready.</p>')
_HOST_HEADER = re.compile(r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?")


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
    """Builds the project into ``out_dir`` and remembers how the last build went.

    ``ahead`` holds pages rendered before the build that publishes them, by their path in
    the site, each with the count of pages shown so far: they, and the notice that their
    PDFs are being made, are served in place of the published files until a build that
    started after they were shown ends, whatever its outcome (the site is the truth again)."""

    load_project: Callable[[], Project]  # read again before every build: site.yaml may change
    out_dir: Path
    options: BuildOptions
    out: TextIO
    err: TextIO
    state: BuildState = field(default_factory=BuildState)
    ahead: dict[str, tuple[int, PageAhead]] = field(default_factory=dict)
    _shown: int = 0  # pages shown ahead so far
    _lock: threading.Lock = field(default_factory=threading.Lock)  # the watcher's and the builder's threads
    _renderer: tuple[object, HtmlRenderer] | None = None
    _records: tuple[object, Manifest] | None = None

    def rebuild(self) -> None:
        """Build what changed; record the outcome (pages reload only if something was written).

        Any failure is reported and recorded, never raised: the server outlives every brief.
        """
        shown_before = self._shown
        try:
            project = self.load_project()
            report = build(project, self.out_dir, (), self.options, PlainProgress(self.out))
        except Exception as error:  # noqa: BLE001 (a broken brief never stops the server)
            message = _describe(error)
            self._say(self.err, message)
            self._forget_ahead(shown_before)
            self.state.record(message)
            return
        for warning in report.warnings:
            self._say(self.err, str(warning))
        self._manifest(project)  # read now, while nobody waits: the next edit's page needs it
        forgot_ahead = self._forget_ahead(shown_before)
        if report.wrote or self.state.error or forgot_ahead:
            self._say(self.out, f"built {len(report.rendered)} brief(s), "
                                f"{len(report.unchanged)} unchanged, in {report.seconds:.2f} s")
            self.state.record(None)

    def show_first(self, brief: Path) -> None:
        """Serve the page the build will publish for ``brief`` before the build, and reload.

        Shows nothing when the build would not publish it, or on any failure: the build that
        follows reports those as before. Then every page shown ahead is dropped too (the
        built site is served until that build ends): one of them may be an earlier edit of
        this brief, which may now be withheld."""
        try:
            project = self.load_project()
            page = page_ahead(project, project.briefs_dir / brief.name, self.out_dir, self.options,
                              self._html(project), self._manifest(project))
        except Exception:  # noqa: BLE001 (the build that follows says what is wrong)
            page = None
        if page is not None:
            self._show(page)
        elif self._forget_ahead(self._shown):
            self.state.record(None)

    def _show(self, page: PageAhead) -> None:
        with self._lock:
            self._shown += 1
            self.ahead = {**self.ahead, page.page: (self._shown, page)}  # requests read it meanwhile
        self._say(self.out, f"showing {page.page} first; building the rest")
        self.state.record(None)

    def _forget_ahead(self, shown_before: int) -> bool:
        """Serve the built pages again in place of those shown ahead before the build began
        (it read their briefs after they were shown); whether there were any."""
        with self._lock:
            kept = {path: item for path, item in self.ahead.items() if item[0] > shown_before}
            forgotten, self.ahead = len(kept) < len(self.ahead), kept
        return forgotten

    def shown_ahead(self, path: str) -> PageAhead | None:
        """The page shown ahead of its build at ``path`` in the site, if any."""
        item = self.ahead.get(path)
        return item[1] if item else None

    def pdf_pending(self, path: str) -> bool:
        """Whether ``path`` is the PDF of a page shown ahead of its build."""
        return any(page.pdf == path for _, page in self.ahead.values())

    def _html(self, project: Project) -> HtmlRenderer:
        """One renderer while the templates' folders and the configuration stay the same, so
        templates are compiled once (Jinja2 reloads a template whose file changed)."""
        key = (project.template_dirs, project.config.model_dump_json())
        if self._renderer is None or self._renderer[0] != key:
            self._renderer = (key, HtmlRenderer(project.template_dirs, project.config,
                                                project.resources))
        return self._renderer[1]

    def _manifest(self, project: Project) -> Manifest:
        """The last build's records, read again only when a build has saved new ones (it
        replaces the file: a new inode)."""
        path = manifest_path(project.root, self.out_dir)
        try:
            status = path.stat()
            key: object = (path, status.st_ino, status.st_size, status.st_mtime_ns)
        except OSError:
            key = None
        if self._records is None or self._records[0] != key:
            self._records = (key, load_manifest(path))
        return self._records[1]

    def _say(self, stream: TextIO, text: str) -> None:
        stream.write(text + "\n")
        stream.flush()


def serve(live: LiveSite, root: Path, host: str, port: int, stop: threading.Event,
          on_ready: Callable[[str], None]) -> None:
    """Serve the project at ``root`` until ``stop`` is set, rebuilding on every change.

    Builds after a change run on their own thread, so that a brief saved while one runs
    is still shown first at once."""
    live.rebuild()
    server = _Server((host, port), functools.partial(_Handler, live=live), live.err)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://{host}:{server.server_address[1]}/"
    watching = False
    builds = _Builds(live)
    try:
        for changes in watchfiles.watch(root, watch_filter=_Watched(root), stop_event=stop,
                                        yield_on_timeout=True, rust_timeout=WATCH_TICK_MS):
            if not watching:  # the watcher is up: catch what changed while it started
                watching = True
                live.rebuild()
                on_ready(url)
            elif changes:
                if (brief := _one_brief(root, changes)) is not None:
                    live.show_first(brief)
                builds.ask()
    finally:
        builds.close()
        server.shutdown()
        server.server_close()


class _Builds:
    """Builds on a thread of their own, one at a time, whenever asked: what changes while
    one runs is built by the next."""

    def __init__(self, live: LiveSite) -> None:
        self.live = live
        self.wanted = threading.Event()
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def ask(self) -> None:
        self.wanted.set()

    def _run(self) -> None:
        while self.wanted.wait() and not self.closing:
            self.wanted.clear()
            self.live.rebuild()

    def close(self) -> None:
        """Stop, once the build under way (if any) has ended: it never stops half-way."""
        self.closing = True
        self.wanted.set()
        self.thread.join()


class _Watched:
    """Only the project's inputs: never the output folders a build writes.

    Paths are compared as the watcher names them, under ``root``, without resolving
    symbolic links: a brief or an ``assets/`` folder linked from elsewhere is still an input.
    """

    def __init__(self, root: Path) -> None:
        self.roots = (root.absolute(), root.resolve())  # however the watcher spells the root

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        candidate = Path(path)
        for root in self.roots:
            if candidate.is_relative_to(root):
                relative = candidate.relative_to(root)
                return relative.parts[:1] in {(folder,) for folder in WATCHED_FOLDERS} or \
                    relative == Path(CONFIG_FILE)
        return False


def _one_brief(root: Path, changes: set[tuple[watchfiles.Change, str]]) -> Path | None:
    """The brief file, if the change is to one brief file and to no other input (other
    files in ``briefs/``, such as an editor's backups, are not briefs)."""
    folders = {root.absolute() / "briefs", root.resolve() / "briefs"}
    inside = [Path(path) for _, path in changes if Path(path).parent in folders]
    briefs = {path.name for path in inside if path.suffix in BRIEF_SUFFIXES}
    if len(briefs) != 1 or len(inside) != len(changes):
        return None
    brief = root / "briefs" / briefs.pop()
    return brief if brief.is_file() else None


def _describe(error: Exception) -> str:
    """The error as the terminal and the page show it: what went wrong, without a traceback,
    one problem a line, each line printable (see :func:`~fieldbrief.errors.printable`)."""
    if isinstance(error, InvalidInput):
        return "\n".join(str(problem) for problem in error.problems)
    if isinstance(error, FieldbriefError):
        return printable(f"error: {error}")
    detail = str(error)
    return printable(f"error: {type(error).__name__}" + (f": {detail}" if detail else ""))


def _is_control(char: str) -> bool:
    return ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0


def host_allowed(header: str | None, listening: tuple[str, ...], port: int) -> bool:
    """Whether a request's ``Host`` header names this server in a way no web page can forge.

    A page can rebind a name it owns to 127.0.0.1, but not ``localhost`` or an address, so
    only loopback names and addresses are accepted, and the host the server listens on (as
    given, and the address it stands for); listening on every interface (``0.0.0.0``), any
    address is. A port, if given, must be the serving port.
    """
    match = _HOST_HEADER.fullmatch(header or "")
    if match is None or (match["port"] is not None and int(match["port"]) != port):
        return False
    name = match["name"].lower()
    address = _address(name)
    if address is not None:
        return address.is_loopback or any(
            bound in WILDCARD_HOSTS or address == _address(bound) for bound in listening)
    return name == "localhost" or name in {bound.lower() for bound in listening}


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address a host spells (IPv6 with or without ``[...]``), or None for a name."""
    try:
        return ipaddress.ip_address(name.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


class _Server(http.server.ThreadingHTTPServer):
    """One thread per connection, at most ``MAX_CONNECTIONS`` at a time; errors in one line."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Callable[..., _Handler],
                 err: TextIO) -> None:
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.err = err
        super().__init__(address, handler)
        self.names = (address[0], self.server_address[0])  # as given (maybe a name), as bound

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        if not self.slots.acquire(blocking=False):
            self._turn_away(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def _turn_away(self, request: socket.socket) -> None:
        """Say 503 if the socket takes it at once (it never waits), and close."""
        try:
            request.setblocking(False)
            request.send(BUSY_RESPONSE)
        except OSError:
            pass
        self.shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """One line, not a traceback; a browser that went away is not worth a line."""
        error = sys.exc_info()[1]
        if isinstance(error, Exception) and not isinstance(error, (ConnectionError, TimeoutError)):
            self.err.write(f"{_describe(error)} (while answering a request)\n")
            self.err.flush()


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the output folder, adds the live-reload script, answers state polls."""

    default_request_version = "HTTP/1.0"  # even an answer to garbage starts with a status line

    def __init__(self, *args: object, live: LiveSite, **kwargs: object) -> None:
        self.live = live
        super().__init__(*args, directory=str(live.out_dir), **kwargs)  # type: ignore[arg-type]

    def setup(self) -> None:
        self.timeout = IDLE_SECONDS  # read when the connection opens, so tests can shorten it
        super().setup()

    def parse_request(self) -> bool:
        """Refuse, before any method runs, a foreign Host, a malformed path, or a file outside."""
        if not super().parse_request():
            return False
        server: _Server = self.server  # type: ignore[assignment]
        if not host_allowed(self._host(), server.names, server.server_address[1]):
            self.send_error(HTTPStatus.FORBIDDEN, "Not a local address",
                            "This preview answers only at a loopback address, such as 127.0.0.1.")
            return False
        if self._url_path() is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "Malformed path")
            return False
        if not Path(self.translate_path(self.path)).is_relative_to(self.live.out_dir.resolve()):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return False
        return True

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        path = self._url_path()
        if path == STATE_PATH:
            return self._state()
        if path == SCRIPT_PATH:
            return self._send(200, "text/javascript", (STATIC_DIR / "live-reload.js").read_bytes())
        in_site = path.removeprefix("/") + ("index.html" if path.endswith("/") else "")
        if (ahead := self.live.shown_ahead(in_site)) is not None:
            return self._send(200, "text/html; charset=utf-8",
                              self._with_script(ahead.html, PDF_PENDING if ahead.pdf else ""))
        if self.live.pdf_pending(in_site):
            return self._send(503, "text/html; charset=utf-8", self._pdf_pending_page())
        target = Path(self.translate_path(self.path))
        if target.suffix == ".html" and os.path.isfile(target):
            return self._send(200, "text/html; charset=utf-8", self._with_script(target.read_bytes()))
        if not self.live.out_dir.is_dir():
            return self._send(503, "text/html; charset=utf-8", self._error_page())
        return super().do_GET()

    def translate_path(self, path: str) -> str:
        """The file a URL path names (a folder's index.html), symbolic links resolved, so that
        :meth:`parse_request` can refuse what lies outside the output folder whichever way the
        path gets there. Folders are never listed."""
        local = Path(super().translate_path(path)).resolve()
        return str((local / "index.html").resolve() if os.path.isdir(local) else local)

    def _host(self) -> str | None:
        hosts = self.headers.get_all("Host") or []
        return hosts[0] if len(hosts) == 1 else None

    def _url_path(self) -> str | None:
        """The request's path, decoded; None unless it is an absolute path of printable text."""
        raw = self.path.partition("?")[0].partition("#")[0]
        try:
            path = unquote(raw, errors="strict")
        except UnicodeDecodeError:
            return None
        if not raw.startswith("/") or any(_is_control(char) for char in path):
            return None
        return path

    def _state(self) -> None:
        query = parse_qs(self.path.partition("?")[2].partition("#")[0])
        try:
            since = int(query.get("since", ["-1"])[0])
            timeout = float(query.get("timeout", [LONG_POLL_SECONDS])[0])
        except ValueError:
            return self.send_error(HTTPStatus.BAD_REQUEST, "since and timeout must be numbers")
        if not math.isfinite(timeout) or timeout < 0:
            return self.send_error(HTTPStatus.BAD_REQUEST, "timeout must be a number of seconds")
        generation, error = self.live.state.wait(since, min(timeout, LONG_POLL_SECONDS))
        body = json.dumps({"generation": generation, "error": error}).encode()
        self._send(200, "application/json", body)

    def _with_script(self, page: bytes, notice: str = "") -> bytes:
        tag = (f'{notice}<script src="{SCRIPT_PATH}" data-generation="{self.live.state.generation}">'
               "</script>").encode()
        head, found, tail = page.rpartition(b"</body>")
        return head + tag + found + tail if found else page + tag

    def _error_page(self) -> bytes:
        message = self.live.state.error or "The site has not been built yet."
        return self._with_script(("<!DOCTYPE html><html lang='en'><title>Build failed</title>"
                                  "<body><h1>The build failed</h1><pre>"
                                  f"{html.escape(message)}</pre></body></html>").encode())

    def _pdf_pending_page(self) -> bytes:
        return self._with_script(b"<!DOCTYPE html><html lang='en'><title>PDF being made</title>"
                                 b"<body><h1>This PDF is being made</h1><p>This page reloads when "
                                 b"it is ready.</p></body></html>")

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # requests are not news; builds and errors are printed instead
