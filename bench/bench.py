"""Benchmark: fieldbrief against its floors (bare YAML + Markdown + Jinja2; bare WeasyPrint)
and against Hugo, on N synthetic briefs sized like the Mali brief.

    .venv/bin/pip install -r requirements-dev.txt
    .venv/bin/python bench/bench.py                 # N=1000 for the site, N=100 for PDFs
    .venv/bin/python bench/bench.py --n 200 --pdf-n 20   # a quick run
    .venv/bin/python bench/bench.py --rebuilds-only      # start-up and HTML-only rebuilds, N=1000
    .venv/bin/python bench/bench.py --serve-only         # serve: saving a brief to its reload, N=1000

Prints every figure with its ratio to its floor, as a Markdown table for BENCHMARKS.md.
Every build is a real `build.py` run in a fresh temporary project, timed by wall clock;
memory is the peak of the summed resident memory of the build and all its children.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import random
import resource
import shutil
import subprocess
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import jinja2
import markdown
import psutil
import yaml
from markupsafe import Markup

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from fieldbrief import stamp  # noqa: E402 (from this clone)

WORDS = ("attack convoy district militia army camp road market displaced supply ferry river "
         "statement officials reported claimed border patrol village checkpoint fighters police "
         "aid agency humanitarian access clashes town governor region airport barracks").split()
COUNTRIES = ["ML", "NE", "BF", "TD", "NG", "MR", "SN", "CM"]
TAGS = ["jnim", "isgs", "floods", "displacement", "elections", "border", "aid-access", "sahel"]


def words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def synthetic_brief(number: int) -> str:
    """A brief with the Mali brief's shape and size: 4 figures, 6 timeline entries,
    2 quotes, 5 places, 3 actors, 3 judgements, 4 sources, ~10 KB of YAML."""
    rng = random.Random(number)
    day = date(2025, 1, 1) + timedelta(days=number % 700)
    ids = {"sources": [f"s{i}" for i in range(4)], "places": [f"p{i}" for i in range(5)],
           "actors": [f"a{i}" for i in range(3)]}
    data = {
        "id": f"brief-{number:05d}", "title": f"Brief {number}: {words(rng, 6)}",
        "short_title": f"Brief {number}", "subtitle": words(rng, 12), "as_of": day,
        "period": {"start": day - timedelta(days=30), "end": day},
        "countries": rng.sample(COUNTRIES, 2), "region": "Sahel", "tags": rng.sample(TAGS, 3),
        "language": "en", "desk": "Benchmark desk", "authors": ["Analyst"], "status": "final",
        "revisions": [{"date": day, "change": "First issue."}],
        "bluf": [words(rng, 25) + "." for _ in range(4)],
        "summary": "\n\n".join(words(rng, 70) + " **" + words(rng, 3) + "**." for _ in range(5)),
        "figures": [{"value": f"{rng.randint(3, 400)}+", "counts": words(rng, 5),
                     "claimed_by": "a0", "status": rng.choice(["claimed", "reported", "disputed"]),
                     "sources": ["s1", "s0"]} for _ in range(4)],
        "timeline": [{"date": day - timedelta(days=k), "places": ["p1", "p2"],
                      "text": words(rng, 30) + ".", "sources": ["s0"]} for k in range(6)],
        "places": [{"id": pid, "name": words(rng, 1).title(), "country": "ML",
                    "note": words(rng, 12)} for pid in ids["places"]],
        "actors": [{"id": aid, "name": words(rng, 3).title(), "short_name": aid.upper(),
                    "kind": "armed group", "affiliation": words(rng, 2)} for aid in ids["actors"]],
        "quotes": [{"text": words(rng, 20), "speaker": "A spokesperson", "role": "spokesperson",
                    "actor": "a1", "when": "a Tuesday, date not given", "language": "en",
                    "source": "s2"} for _ in range(2)],
        "assessment": [{"text": words(rng, 40), "confidence": "moderate", "likelihood": "likely",
                        "sources": ["s0"]} for _ in range(2)],
        "outlook": [{"text": words(rng, 35), "confidence": "low", "likelihood": "roughly even chance",
                     "sources": ["s3"]}],
        "sources": [{"id": sid, "title": words(rng, 7).title(), "publisher": "Newswire",
                     "kind": "news report", "accessed": day, "reliability": "C", "credibility": 3,
                     "notes": words(rng, 45)} for sid in ids["sources"]],
    }
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def make_project(root: Path, count: int) -> Path:
    for folder in ("templates", "styles"):
        shutil.copytree(REPO / folder, root / folder)
    (root / "briefs").mkdir()
    for number in range(count):
        (root / "briefs" / f"brief-{number:05d}.yaml").write_text(synthetic_brief(number))
    return root


class PeakMemory:
    """Samples the summed RSS of a process and all its descendants: the build (parent and
    workers) and, apart, the Pagefind indexer it runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.build = 0
        self.indexer = 0
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            build = indexer = 0
            for process in [self.process, *self._children()]:
                try:
                    rss = process.memory_info().rss
                    if "pagefind" in " ".join(process.cmdline()):
                        indexer += rss
                    else:
                        build += rss
                except psutil.Error:
                    pass
            self.build, self.indexer = max(self.build, build), max(self.indexer, indexer)
            time.sleep(0.02)

    def _children(self) -> list[psutil.Process]:
        try:
            return self.process.children(recursive=True)
        except psutil.Error:
            return []

    def stop(self) -> tuple[int, int]:
        self.running = False
        self.thread.join()
        return self.build, self.indexer


CPU_SECONDS: list[float] = []
BUILD_ENVIRONMENT = {**{name: value for name, value in os.environ.items()
                        if name != "PYTHONDONTWRITEBYTECODE"}, "PYTHONPATH": str(REPO)}
"""How every measured build runs: from this clone, with Python's bytecode cache as on an
analyst's machine (a development shell that turns it off adds ~0.15 s to every process)."""
"""CPU time (user + system, the build and every process it ran) of each `run_build`, in order:
the figure to read when other work shares the machine and wall time is noisy."""


def run_build(project: Path, *args: str, memory: bool = False) -> tuple[float, tuple[int, int], str]:
    """Wall time, peak memory (bytes: build, indexer; when ``memory``, else zeros) and
    output of one `build.py` run. Memory is sampled only where it is reported: the
    sampler walks every process of the machine 50 times a second, which on two cores slowed
    a one-brief rebuild by about half a second."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(REPO / "build.py"), *args], cwd=project,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=BUILD_ENVIRONMENT)
    sampler = PeakMemory(process.pid) if memory else None
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    peak = sampler.stop() if sampler else (0, 0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if process.returncode != 0:
        raise SystemExit(f"build failed: {err}")
    return seconds, peak, out.strip()


def rendering_seconds(output: str) -> float:
    """The render time the build printed for the one brief it rendered."""
    times = re.findall(r"^rendered .* \((\d+\.\d+) s\)$", output, re.MULTILINE)
    if len(times) != 1:
        raise SystemExit(f"expected one brief rendered, the build printed: {output}")
    return float(times[0])


FLOOR_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!DOCTYPE html><html><head><title>{{ b.title }}</title></head><body><h1>{{ b.title }}</h1>"
    "<ul>{% for p in b.bluf %}<li>{{ p }}</li>{% endfor %}</ul>{{ summary }}"
    "<table>{% for e in b.timeline %}<tr><td>{{ e.date }}</td><td>{{ e.text }}</td></tr>{% endfor %}"
    "</table>{% for s in b.sources %}<p>{{ s.title }}: {{ s.notes }}</p>{% endfor %}</body></html>")


def floor_html(project: Path, out: Path) -> float:
    """A bare loop: yaml.safe_load + Markdown + one compiled Jinja2 template, no validation."""
    started = time.perf_counter()
    converter = markdown.Markdown()
    for path in sorted((project / "briefs").glob("*.yaml")):
        brief = yaml.safe_load(path.read_text())
        converter.reset()
        page = FLOOR_TEMPLATE.render(b=brief, summary=Markup(converter.convert(brief["summary"])))
        (out / f"{brief['id']}.html").write_text(page)
    return time.perf_counter() - started


def floor_pdf(project: Path) -> float:
    """Bare WeasyPrint over the very print HTML our build renders (its locator map
    included, as the workers give it), one PDF after another."""
    from weasyprint import HTML

    from fieldbrief.load import load_file
    from fieldbrief.maps import brief_map
    from fieldbrief.pipeline import now
    from fieldbrief.project import Project
    from fieldbrief.render_html import HtmlRenderer
    from fieldbrief.validate import SiteRules, validate

    loaded = Project.load(project)
    rules = SiteRules(loaded.resources, loaded.config.default_tlp, loaded.config.page_size)
    html = HtmlRenderer(loaded.templates_dir, loaded.config, loaded.resources)
    valid = [validate(load_file(path), rules) for path in sorted((project / "briefs").glob("*.yaml"))]
    pages = [html.print_page(each.brief, now(), verification=each.verification, locator=brief_map(each.brief))
             for each in valid]
    sheets = [str(project / "styles" / name) for name in ("shared.css", "print.css")]
    started = time.perf_counter()
    for page in pages:
        HTML(string=page, base_url=str(project / "styles") + "/").write_pdf(stylesheets=sheets)
    return time.perf_counter() - started


def hugo_build(project: Path, root: Path) -> float | None:
    """Hugo building the same briefs as Markdown pages with a minimal layout."""
    hugo = shutil.which("hugo", path=str(Path(sys.executable).parent)) or shutil.which("hugo")
    if hugo is None:
        return None
    site = root / "hugo"
    (site / "content/briefs").mkdir(parents=True)
    (site / "layouts/_default").mkdir(parents=True)
    (site / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "Bench"\n'
                                    'disableKinds = ["taxonomy", "term", "RSS", "sitemap"]\n')
    (site / "layouts/_default/single.html").write_text(
        "<!DOCTYPE html><html><head><title>{{ .Title }}</title></head><body><h1>{{ .Title }}</h1>"
        "{{ .Content }}</body></html>")
    (site / "layouts/_default/list.html").write_text(
        "<html><body>{{ range .Pages }}<a href='{{ .RelPermalink }}'>{{ .Title }}</a>{{ end }}</body></html>")
    for path in sorted((project / "briefs").glob("*.yaml")):
        brief = yaml.safe_load(path.read_text())
        body = "\n".join(f"- {point}" for point in brief["bluf"]) + "\n\n" + brief["summary"] + "\n\n" + \
            "\n".join(f"- **{e['date']}** {e['text']}" for e in brief["timeline"]) + "\n\n" + \
            "\n\n".join(f"**{s['title']}**: {s['notes']}" for s in brief["sources"])
        (site / f"content/briefs/{brief['id']}.md").write_text(
            f'---\ntitle: "{brief["title"]}"\ndate: {brief["as_of"]}\n---\n\n{body}\n')
    timings = []
    for _ in range(3):
        shutil.rmtree(site / "public", ignore_errors=True)
        started = time.perf_counter()
        subprocess.run([hugo, "--quiet", "--source", str(site)], check=True, capture_output=True)
        timings.append(time.perf_counter() - started)
    return min(timings)


def touch_one_brief(project: Path) -> None:
    """Change the subtitle of the brief in the middle (every call changes it again)."""
    path = sorted((project / "briefs").glob("*.yaml"))[len(list((project / "briefs").glob("*.yaml"))) // 2]
    path.write_text(path.read_text().replace("subtitle: ", "subtitle: edited ", 1))


def import_seconds(module: str, runs: int = 10) -> float:
    """CPU time of importing ``module`` (interpreter start-up not included), best of ``runs``."""
    code = f"import time; t = time.process_time(); import {module}; print(time.process_time() - t)"
    return min(float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                    check=True, cwd=REPO, env=BUILD_ENVIRONMENT).stdout)
               for _ in range(runs))


def site_rebuilds(big: Path, n: int, row: Callable[..., None]) -> None:
    """The rebuild figures of the HTML-only site in site-html/, with CPU time beside wall time.

    A build in which nothing changed stamps what it saw once its files have settled
    (fieldbrief/stamp.py); the next one stops at the stamp. Both are shown: the first
    build after the settling time (it runs in full and writes the stamp), then the
    median of five after it."""
    time.sleep(stamp.SETTLED + 0.5)
    first = run_build(big, "--no-pdf", "--out", "site-html")[0]
    row(f"rebuild, nothing changed, N={n}, HTML only, first (writes the stamp)",
        f"{first:.2f} s", f"CPU {CPU_SECONDS[-1]:.2f} s")
    for label, change in (("nothing changed, after its stamp", None), ("one brief changed", touch_one_brief)):
        walls, cpus = [], []
        for _ in range(5):
            if change:
                change(big)
            walls.append(run_build(big, "--no-pdf", "--out", "site-html")[0])
            cpus.append(CPU_SECONDS[-1])
        row(f"rebuild, {label}, N={n}, HTML only (median of 5)",
            f"{statistics.median(walls):.2f} s", f"CPU {statistics.median(cpus):.2f} s")


class Serving:
    """`build.py serve --no-pdf` on a project, as an analyst runs it, read through its state
    long-poll (the signal the browser's live-reload script waits for) and its pages."""

    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(REPO / "build.py"), "serve", "--port", "0", "--no-pdf"],
            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=BUILD_ENVIRONMENT)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("serving "):
                self.url = line.split(" at ")[1].split(" ")[0]
                break
        else:
            raise SystemExit("serve did not start")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # never block it
        self.generation = self.next_signal(-1)

    def next_signal(self, since: int, limit: float = 1800) -> int:
        """The generation after ``since``, as soon as serve sends it (fails on a build error)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"{self.url}__fieldbrief__/state?since={since}&timeout=25",
                                        timeout=60) as response:
                state = json.load(response)
            if state["error"]:
                raise SystemExit(f"serve reported: {state['error']}")
            if state["generation"] != since:
                return state["generation"]
        raise SystemExit("serve sent no reload")

    def page(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=60) as response:
            return response.read().decode()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def edit_subtitle(path: Path, number: int) -> str:
    """Give the brief a new subtitle; the text its page will show."""
    text = f"edit number {number} of this brief"
    path.write_text(re.sub(r"^subtitle: .*$", f"subtitle: {text}", path.read_text(), count=1,
                           flags=re.MULTILINE))
    return text


def serve_edits(project: Path, edits: int) -> tuple[list[float], list[float], list[float]]:
    """Seconds from writing a brief to the reload signal, to its updated page being served,
    and to the end of the build after it (the next signal), for each of ``edits`` edits.
    Each edit waits for the build of the one before."""
    brief = sorted((project / "briefs").glob("*.yaml"))[len(list((project / "briefs").glob("*.yaml"))) // 2]
    page = f"briefs/{brief.stem}/"
    serving = Serving(project)
    signals, pages, builds = [], [], []
    try:
        for number in range(edits):
            since = serving.generation
            started = time.perf_counter()
            text = edit_subtitle(brief, number)
            reload = serving.next_signal(since)
            signals.append(time.perf_counter() - started)
            if text not in serving.page(page):
                raise SystemExit(f"the reload came before {page} showed the edit")
            pages.append(time.perf_counter() - started)
            serving.generation = serving.next_signal(reload)
            builds.append(time.perf_counter() - started)
    finally:
        serving.stop()
    return signals, pages, builds


PAGE_FIRST_STEPS = (  # (label, module file, function): cumulative time inside show_first
    ("reading site.yaml (the project)", "config.py", "load_config"),
    ("checking the input folders", "pipeline.py", "_check_folders"),
    ("reading the last build's records (serve reads them after each build)", "incremental.py", "load_manifest"),
    ("reading the brief (YAML with positions)", "project.py", "load_brief"),
    ("validating the brief", "validate.py", "validate"),
    ("drawing its locator map", "maps.py", "brief_map"),
    ("series and translations of the other briefs", "pipeline.py", "_series"),
    ("rendering its page (Jinja2)", "render_html.py", "brief_page"),
    ("publishing gate of the page", "policy.py", "page_refusal"),
)


def profile_page_first(project: Path, edits: int) -> list[tuple[str, float, float]]:
    """(step, milliseconds per edit, share) of serve's page-first step, under cProfile, on a
    project serve has built (its records and site are there)."""
    from fieldbrief.pipeline import BuildOptions
    from fieldbrief.project import Project
    from fieldbrief.serve import LiveSite

    live = LiveSite(lambda: Project.load(project), project / "site", BuildOptions(pdf=False, jobs=1),
                    io.StringIO(), io.StringIO())
    brief = sorted((project / "briefs").glob("*.yaml"))[len(list((project / "briefs").glob("*.yaml"))) // 2]
    live.show_first(brief)  # the process's first map and template compilation, as serve's first edit
    profiler = cProfile.Profile()
    for number in range(edits):
        edit_subtitle(brief, 100 + number)
        profiler.runcall(live.show_first, brief)
    if not live.ahead:
        raise SystemExit("the page-first step showed nothing")
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(timing[3] for (_, _, name), timing in stats.items() if name == "show_first")
    rows = [("the whole page-first step", total, 1.0)]
    for label, module, function in PAGE_FIRST_STEPS:
        seconds = sum(timing[3] for (file, _, name), timing in stats.items()
                      if name == function and file.endswith(f"fieldbrief/{module}"))
        rows.append((label, seconds, seconds / total))
    rest = total - sum(seconds for _, seconds, _ in rows[1:])
    rows.append(("the rest (cards of the other briefs, checks, the renderer's cache key)", rest, rest / total))
    return [(label, seconds / edits * 1000, share) for label, seconds, share in rows]


def serve_figures(root: Path, n: int, row: Callable[..., None]) -> None:
    """serve at N briefs: saving a brief to its reload (median of 10 edits), and a profile."""
    project = make_project(root / "serve", n)
    row("load average (1, 5, 15 min) before", " ".join(f"{load:.1f}" for load in os.getloadavg()))
    signals, pages, builds = serve_edits(project, 10)
    row(f"serve, N={n}: saving a brief to the reload signal (median of 10)",
        f"{statistics.median(signals) * 1000:.0f} ms", f"min {min(signals) * 1000:.0f}, max {max(signals) * 1000:.0f}")
    row(f"serve, N={n}: saving a brief to its updated page served (median of 10)",
        f"{statistics.median(pages) * 1000:.0f} ms", f"min {min(pages) * 1000:.0f}, max {max(pages) * 1000:.0f}")
    row(f"serve, N={n}: saving a brief to the end of the build after it (median of 10)",
        f"{statistics.median(builds):.2f} s", "listings, search index, publishing")
    for label, milliseconds, share in profile_page_first(project, 10):
        row(f"page-first profile: {label}", f"{milliseconds:.1f} ms", f"{share:.0%}")
    row("load average (1, 5, 15 min) after", " ".join(f"{load:.1f}" for load in os.getloadavg()))


def change_site_template(project: Path) -> None:
    index = project / "templates/index.html"
    index.write_text(index.read_text().replace("newest first", "latest first"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="briefs for the site figures")
    parser.add_argument("--pdf-n", type=int, default=100, help="briefs for the PDF figures")
    parser.add_argument("--rebuilds-only", action="store_true",
                        help="only start-up and the HTML-only rebuild figures (no floors, Hugo or PDFs)")
    parser.add_argument("--serve-only", action="store_true",
                        help="only serve's edit-to-reload figures and their profile (HTML only)")
    args = parser.parse_args()
    rows: list[tuple[str, str, str]] = []

    def row(name: str, value: str, ratio: str = "") -> None:
        rows.append((name, value, ratio))
        print(f"{name:58} {value:>14} {ratio}", flush=True)

    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        if args.serve_only:
            serve_figures(root, args.n, row)
            _print_table(rows)
            return
        big = make_project(root / "big", args.n)
        if args.rebuilds_only:
            row("import of fieldbrief.cli (CPU, best of 10)", f"{import_seconds('fieldbrief.cli') * 1000:.0f} ms")
            row("import of the build, fieldbrief.pipeline (CPU, best of 10)",
                f"{import_seconds('fieldbrief.pipeline') * 1000:.0f} ms")
            html_only, _, _ = run_build(big, "--no-pdf", "--out", "site-html")
            row(f"HTML-only full build, N={args.n}, -j 2", f"{html_only:.2f} s", f"CPU {CPU_SECONDS[-1]:.2f} s")
            site_rebuilds(big, args.n, row)
            _print_table(rows)
            return
        floor_out = root / "floor-html"
        floor_out.mkdir()
        html_floor = floor_html(big, floor_out)
        row(f"floor_html, N={args.n}", f"{html_floor:.2f} s")
        hugo = hugo_build(big, root)
        row(f"Hugo, same briefs as Markdown, N={args.n}", f"{hugo:.2f} s" if hugo else "not found")
        html_only, _, _ = run_build(big, "--no-pdf", "--out", "site-html")
        row(f"HTML-only full build, N={args.n}, -j 2", f"{html_only:.2f} s",
            f"{html_only / html_floor:.2f}x floor_html" + (f", {html_only / hugo:.2f}x Hugo" if hugo else ""))
        full, peak_big, _ = run_build(big, memory=True)
        row(f"HTML+PDF full build, N={args.n}, -j 2", f"{full:.1f} s")
        time.sleep(stamp.SETTLED + 0.5)
        run_build(big)  # finds nothing to do and stamps it (see site_rebuilds)
        nothing, _, _ = run_build(big)
        row(f"rebuild, nothing changed, N={args.n}", f"{nothing:.2f} s",
            f"{nothing / hugo:.2f}x Hugo's full build" if hugo else "")
        for label, runs in (("the first after the full build and the two with nothing to do", 1),
                            ("the next 3, median", 3)):
            walls, renders = [], []
            for _ in range(runs):
                touch_one_brief(big)
                wall, _, output = run_build(big)
                walls.append(wall)
                renders.append(rendering_seconds(output))
            one, render = statistics.median(walls), statistics.median(renders)
            row(f"rebuild, one brief changed, N={args.n}, {label}", f"{one:.2f} s",
                f"its render (HTML, PDF, WeasyPrint's start) {render:.2f} s, the rest {one - render:.2f} s")
        change_site_template(big)
        template, _, _ = run_build(big)
        row(f"rebuild, site template (index.html) changed, N={args.n}", f"{template:.2f} s")

        small = make_project(root / "small", args.pdf_n)
        pdf_floor = floor_pdf(small)
        row(f"floor_pdf per brief (N={args.pdf_n}, one process)", f"{pdf_floor / args.pdf_n * 1000:.0f} ms")
        one_job, _, _ = run_build(small, "-j", "1", "--force")
        row(f"our HTML+PDF build per brief, -j 1 (N={args.pdf_n})", f"{one_job / args.pdf_n * 1000:.0f} ms",
            f"{one_job / pdf_floor:.2f}x floor_pdf")
        two_jobs, peak_small, _ = run_build(small, "-j", "2", "--force", memory=True)
        row(f"our HTML+PDF build per brief, -j 2 (N={args.pdf_n})", f"{two_jobs / args.pdf_n * 1000:.0f} ms",
            f"speed-up {one_job / two_jobs:.2f}x over -j 1")
        row(f"peak memory of the build (parent + workers), N={args.pdf_n} / N={args.n}",
            f"{peak_small[0] / 2**20:.0f} / {peak_big[0] / 2**20:.0f} MiB",
            f"N={args.n} is {peak_big[0] / peak_small[0]:.2f}x N={args.pdf_n}")
        row(f"peak memory of the Pagefind indexer it runs, N={args.pdf_n} / N={args.n}",
            f"{peak_small[1] / 2**20:.0f} / {peak_big[1] / 2**20:.0f} MiB",
            f"N={args.n} is {peak_big[1] / max(peak_small[1], 1):.2f}x N={args.pdf_n}")

    _print_table(rows)


def _print_table(rows: list[tuple[str, str, str]]) -> None:
    print("\n| figure | value | ratio |\n|---|---|---|")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
