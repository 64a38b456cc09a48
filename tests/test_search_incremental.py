"""The search index in shards: one edited brief re-indexes only its shard, the page merges
every shard in the browser, and a brief the site withholds never enters any index file.

The browser tests search as a reader does, in Debian's Chromium driven by Playwright,
on a site served over HTTP while it is rebuilt between searches.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from conftest import SCENARIOS, TmpProject
from fieldbrief.search import bucket_of
from test_browser import _QuietHandler


def brief_text(brief_id: str, summary: str, tlp: str = "TLP:CLEAR", status: str = "final",
               language: str = "en") -> str:
    text = (SCENARIOS / "valid_minimal.yaml").read_text()
    return (text.replace("id: valid-minimal", f"id: {brief_id}\ntlp: {tlp}\nlanguage: {language}")
                .replace("title: Minimal valid brief", f"title: Brief {brief_id}")
                .replace("status: final", f"status: {status}")
                .replace("summary: One paragraph of summary.", f"summary: {summary}"))


def shard_folders(site: Path) -> dict[str, Path]:
    """Each shard's folder by the brief pages it holds, as the site lists them."""
    listing = json.loads((site / "pagefind/shards.json").read_text())
    return {shard["path"]: site / "pagefind" / shard["path"] for shard in listing["shards"]}


def files_of(folder: Path) -> dict[str, tuple[int, bytes]]:
    return {path.relative_to(folder).as_posix(): (path.stat().st_ino, path.read_bytes())
            for path in folder.rglob("*") if path.is_file()}


def index_text(site: Path) -> str:
    """Every file of the search folder as text, compressed ones inflated, in lower case."""
    texts = []
    for path in (site / "pagefind").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            texts.append((gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
                         .decode("utf-8", "replace"))
    return "\n".join(texts).lower()


# --- the shards on disk ------------------------------------------------------------------------

def test_an_unchanged_shard_is_kept_byte_identical_after_one_brief_changes(project: TmpProject) -> None:
    # charlie and foxtrot hash into one bucket; the others each into their own
    assert bucket_of("briefs/charlie/index.html") == bucket_of("briefs/foxtrot/index.html")
    for brief_id in ("alpha", "bravo", "charlie", "delta", "foxtrot"):
        project.write(f"{brief_id}.yaml", brief_text(brief_id, f"Summary of {brief_id}."))
    assert project.run("--no-pdf").code == 0
    site = project.root / "site"
    before = {name: files_of(folder) for name, folder in shard_folders(site).items()}
    assert len(before) == 4

    project.write("charlie.yaml", brief_text("charlie", "Summary of charlie, revised."))
    assert project.run("--no-pdf").code == 0

    after = {name: files_of(folder) for name, folder in shard_folders(site).items()}
    assert after.keys() == before.keys(), "the same pages make the same shards"
    changed = [name for name in after if after[name] != before[name]]
    assert len(changed) == 1 and changed[0].startswith("en-%02d-" % bucket_of("briefs/charlie/index.html"))
    for name in after.keys() - changed:
        assert after[name] == before[name], f"{name}: the same files, kept as links, not rewritten"
    assert all(after[changed[0]][file][0] != inode for file, (inode, _) in before[changed[0]].items()
               if file in after[changed[0]]), "the changed brief's shard was written again"


def test_nothing_withheld_enters_any_index_file(project: TmpProject) -> None:
    project.write("open.yaml", brief_text("open", "The Velmorach crossing was open."))
    project.write("red.yaml", brief_text("red", "The Quorbenna convoy moved.", tlp="TLP:RED"))
    project.write("amber.yaml", brief_text("amber", "The Zentrosk depot burned.", tlp="TLP:AMBER"))
    project.write("draft.yaml", brief_text("draft", "The Brimhallow ferry sank.", status="draft"))
    assert project.run("--no-pdf").code == 0
    text = index_text(project.root / "site")
    assert "velmorach" in text, "the published brief's words are in the index (the check reads it)"
    for word in ("quorbenna", "zentrosk", "brimhallow"):
        assert word not in text


def test_a_published_brief_relabelled_red_leaves_the_index(project: TmpProject) -> None:
    project.write("open.yaml", brief_text("open", "The Velmorach crossing was open."))
    project.write("later.yaml", brief_text("later", "The Quorbenna convoy moved."))
    assert project.run("--no-pdf").code == 0
    assert "quorbenna" in index_text(project.root / "site")
    project.write("later.yaml", brief_text("later", "The Quorbenna convoy moved.", tlp="TLP:RED"))
    assert project.run("--no-pdf").code == 0
    text = index_text(project.root / "site")
    assert "velmorach" in text and "quorbenna" not in text


def test_each_shard_holds_one_language_and_the_list_counts_its_pages(project: TmpProject) -> None:
    project.write("en.yaml", brief_text("en", "English words."))
    project.write("fr.yaml", brief_text("fr", "Des mots français.", language="fr"))
    project.write("ar.yaml", brief_text("ar", "كلمات عربية.", language="ar"))
    assert project.run("--no-pdf").code == 0
    listing = json.loads((project.root / "site/pagefind/shards.json").read_text())
    assert sorted((shard["path"][:2], shard["languages"]) for shard in listing["shards"]) == [
        ("ar", {"ar": 1}), ("en", {"en": 1}), ("fr", {"fr": 1})]
    assert (project.root / "site/pagefind/pagefind-ui.js").is_file()


def _in_place(path: Path, replace: bytes, by: bytes) -> None:
    """Edit ``path`` in place to the same size, its modification time set back."""
    before = path.stat()
    data = path.read_bytes()
    edited = data.replace(replace, by, 1) if replace else by + data[len(by):]
    assert edited != data and len(edited) == len(data)
    with open(path, "r+b") as file:
        file.write(edited)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


TAMPERED = b"Tampered by hand: the Kelvarro dam broke."


@pytest.mark.parametrize("target", ["a fragment", "the entry", "the search script"])
@pytest.mark.parametrize("in_place", [True, False], ids=["edited in place, its time set back", "rewritten"])
def test_a_search_file_edited_by_hand_is_written_again(project: TmpProject, target: str,
                                                       in_place: bool) -> None:
    """A file of a kept search shard, or Pagefind's script, edited by hand in the published
    site: carried over by every later build that kept the shard (a fragment is what a
    search result shows). Now each is carried over only as the bytes recorded when it was
    written; otherwise the shard is indexed again, the script written again."""
    assert bucket_of("briefs/alpha/index.html") != bucket_of("briefs/bravo/index.html")
    for brief_id in ("alpha", "bravo"):
        project.write(f"{brief_id}.yaml", brief_text(brief_id, f"The Velmorach crossing of {brief_id}."))
    assert project.run("--no-pdf", "-j", "1").code == 0
    site = project.root / "site"
    alpha_shard = next(folder for name, folder in shard_folders(site).items()
                       if name.startswith("en-%02d-" % bucket_of("briefs/alpha/index.html")))
    path = {"a fragment": next(alpha_shard.glob("fragment/*.pf_fragment")),
            "the entry": alpha_shard / "pagefind-entry.json",
            "the search script": site / "pagefind/pagefind-ui.js"}[target]
    if target == "the entry":  # still an entry counting the shard's pages
        if in_place:
            _in_place(path, b'"version":"1', b'"version":"9')
        else:
            path.write_bytes(path.read_bytes().replace(b"{", b'{"note":"' + TAMPERED + b'",', 1))
    elif in_place:
        _in_place(path, b"", TAMPERED)
    else:
        path.write_bytes(path.read_bytes() + TAMPERED)
    tampered = path.read_bytes()
    project.write("bravo.yaml", brief_text("bravo", "The Velmorach crossing of bravo, revised."))
    run = project.run("--no-pdf", "-j", "1")
    assert (run.code, run.err) == (0, "")
    assert not path.exists() or path.read_bytes() != tampered
    assert "kelvarro" not in index_text(site) and "tampered" not in index_text(site)
    assert index_text(site).count("velmorach") >= 2


# --- searching in the browser ------------------------------------------------------------------

@pytest.fixture
def served(project: TmpProject) -> Iterator[str]:
    """The project's site/ folder over HTTP (each request reads the folder as it is now)."""
    handler = functools.partial(_QuietHandler, directory=str(project.root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def search(browser: Browser, base_url: str, words: str) -> list[str]:
    """The titles the search page lists for ``words`` (none: it says there are no results)."""
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(base_url + "search/index.html")
    page.get_by_role("textbox", name="Search every brief for a word, a place, an actor or a source:").fill(words)
    expect(page.locator(".pagefind-ui__message")).to_have_text(
        re.compile(rf"^(No results|\d+ results?) for {words}$"))
    titles = page.locator(".pagefind-ui__result-link").all_text_contents()
    context.close()
    assert errors == [], "no JavaScript errors"
    return titles


def test_search_after_one_brief_changed_finds_its_new_words_and_not_its_old(
        project: TmpProject, browser: Browser, served: str) -> None:
    assert bucket_of("briefs/alpha/index.html") != bucket_of("briefs/bravo/index.html")
    project.write("alpha.yaml", brief_text("alpha", "Convoys crossed at Quillibrand before dawn."))
    project.write("bravo.yaml", brief_text("bravo", "Floods reached Stavrokel market."))
    project.write("charlie.yaml", brief_text("charlie", "Nothing of note."))
    assert project.run("--no-pdf").code == 0
    assert search(browser, served, "Quillibrand") == ["Brief alpha"]
    kept = shard_folders(project.root / "site")
    bravo_shard = next(name for name in kept if name.startswith("en-%02d-" % bucket_of("briefs/bravo/index.html")))
    bravo_files = files_of(kept[bravo_shard])

    project.write("alpha.yaml", brief_text("alpha", "Convoys crossed at Marrowdeep before dawn."))
    result = project.run("--no-pdf")
    assert result.code == 0
    assert "rendered briefs/alpha.yaml" in result.out and "rendered briefs/bravo.yaml" not in result.out

    assert search(browser, served, "Marrowdeep") == ["Brief alpha"], "its new words"
    assert search(browser, served, "Quillibrand") == [], "not its removed words"
    assert files_of(shard_folders(project.root / "site")[bravo_shard]) == bravo_files
    assert search(browser, served, "Stavrokel") == ["Brief bravo"], "a kept shard still merges"


def test_search_never_finds_a_withheld_brief(project: TmpProject, browser: Browser, served: str) -> None:
    project.write("open.yaml", brief_text("open", "The Velmorach crossing was open."))
    project.write("red.yaml", brief_text("red", "The Velmorach convoy met Quorbenna.", tlp="TLP:RED"))
    project.write("draft.yaml", brief_text("draft", "The Velmorach ferry reached Brimhallow.",
                                           status="draft"))
    assert project.run("--no-pdf").code == 0
    assert search(browser, served, "Velmorach") == ["Brief open"]
    assert search(browser, served, "Quorbenna") == []
    assert search(browser, served, "Brimhallow") == []


def test_search_on_an_english_site_searches_the_english_briefs(project: TmpProject, browser: Browser,
                                                               served: str) -> None:
    """As with one Pagefind bundle: the search page searches the index of its own language."""
    project.write("en.yaml", brief_text("en", "Herders gathered at Oumbrasso."))
    project.write("en2.yaml", brief_text("en2", "Traders left Oumbrasso."))
    project.write("fr.yaml", brief_text("fr", "Les éleveurs à Oumbrasso.", language="fr"))
    assert project.run("--no-pdf").code == 0
    assert sorted(search(browser, served, "Oumbrasso")) == ["Brief en", "Brief en2"]


def test_search_on_a_french_site_searches_the_french_briefs(project: TmpProject, browser: Browser,
                                                            served: str) -> None:
    (project.root / "site.yaml").write_text("language: fr\n")
    project.write("en.yaml", brief_text("en", "Herders gathered at Oumbrasso."))
    project.write("fr.yaml", brief_text("fr", "Les éleveurs à Oumbrasso.", language="fr"))
    assert project.run("--no-pdf").code == 0
    context = browser.new_context()
    page = context.new_page()
    page.goto(served + "search/index.html?q=Oumbrasso")
    expect(page.locator(".pagefind-ui__result-link")).to_have_text(["Brief fr"])
    context.close()


@pytest.mark.parametrize("script, why", [
    ("kill -KILL $$", "Pagefind was stopped by signal SIGKILL and said nothing (the system may "
                      "have run out of memory)"),
    ("exit 3", "Pagefind ended with exit status 3 and said nothing"),
    ("echo 'Error: no pages to index' >&2; exit 1", "Error: no pages to index"),
])
def test_a_search_indexer_that_fails_is_said_to_fail_and_why(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, script: str,
        why: str) -> None:
    """A Pagefind killed by the system printed nothing, and the build said only
    'building the search index failed: ; nothing was written'."""
    from fieldbrief import search
    indexer = tmp_path / "pagefind"
    indexer.write_text(f"#!/bin/sh\n{script}\n")
    indexer.chmod(0o755)
    monkeypatch.setattr(search, "_executable", lambda: str(indexer))
    project.write("alpha.yaml", brief_text("alpha", "Alpha's summary."))
    result = project.run("--no-pdf", "-j", "1")
    assert result.code == 1
    assert result.err.splitlines()[-1] == \
        f"error: building the search index failed: {why}; nothing was written"
    assert not (project.root / "site").exists()
