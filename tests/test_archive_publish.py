"""Archives published with the source's permission (``publish_archive: true``): a page of
the site showing the archived text, escaped, with each verified quote highlighted and
linked both ways; never published otherwise, never for a brief the site may not carry.
Also: archives attached to the PDF/A-3b (on the site only those allowed to be published),
and their SHA-256 in the JSON export."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from conftest import REPO, TmpProject
from test_conformance import attachment_problems
from fieldbrief.archive import Archive
from fieldbrief.model import Brief
from fieldbrief.policy import PublishingPolicy, gate
from fieldbrief.render_archive import pieces
from fieldbrief.verify import quote_words, verify

ARTICLE = ('The minister spoke at noon.\nShe said: "We will rebuild the\nbridge by spring," '
           'and left.\nLater: "Nobody will be forgotten."\n')
BRIEF = """id: {id}
title: Bridge
as_of: 2026-03-18
countries: [ZZ]
status: final
tlp: {tlp}
desk: Test desk
bluf: [One., Two.]
summary: Summary.
quotes:
  - text: We will rebuild the bridge by spring.
    speaker: Minister
    language: en
    source: paper
  - text: Nobody will be forgotten.
    speaker: Minister
    language: en
    source: paper
sources:
  - id: paper
    title: Daily Paper report
    publisher: Daily
    kind: news report
    reliability: B
    credibility: 2
    archive: sources/{archive}
    archived: 2026-03-18
{publish}"""
PUBLISH = "    publish_archive: true\n"
PAGE = "site/briefs/bridge/sources/paper.html"


def _bridge(project: TmpProject, archive: str | bytes = ARTICLE, *, name: str = "paper.txt",
            publish: bool = True, tlp: str = "TLP:CLEAR", brief_id: str = "bridge") -> Path:
    folder = project.root / "sources"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(archive if isinstance(archive, bytes) else archive.encode())
    return project.write(f"{brief_id}.yaml", BRIEF.format(id=brief_id, tlp=tlp, archive=name,
                                                          publish=PUBLISH if publish else ""))


def _text(page: str) -> str:
    """The archived text as the page shows it, with its highlights as [[...]]."""
    shown = re.search(r'<div class="archive-text"[^>]*>(.*?)</div>', page, re.S)
    assert shown is not None
    text = re.sub(r"<a class=\"back-to-quote\"[^>]*>.*?</a>|<span[^>]*></span>", "", shown[1])
    text = text.replace("<mark>", "[[").replace("</mark>", "]]")
    return text.replace("&#34;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# --- the archive page ---------------------------------------------------------------------

def test_a_published_archive_is_a_page_with_its_verified_quotes_highlighted(project: TmpProject) -> None:
    _bridge(project)
    result = project.run("--no-pdf")
    assert (result.code, result.err) == (0, "")
    page = (project.root / PAGE).read_text()
    assert _text(page) == ('The minister spoke at noon.\nShe said: "[[We will rebuild the\nbridge '
                           'by spring]]," and left.\nLater: "[[Nobody will be forgotten]]."\n')
    assert '<meta name="fieldbrief-tlp" content="TLP:CLEAR">' in page
    assert '<span class="tlp tlp-clear">TLP:CLEAR</span>' in page
    assert ("This is an archived copy of source [1] of the brief <a href=\"../index.html\">Bridge</a>, "
            "published with the permission of the source.") in page
    sha = hashlib.sha256(ARTICLE.encode()).hexdigest()
    assert f'<dt>SHA-256</dt><dd><code class="digest">{sha}</code>' in page
    assert "<dt>Title</dt><dd>Daily Paper report</dd>" in page
    assert "<dt>Publisher</dt><dd>Daily</dd>" in page
    assert "<dt>Archived</dt><dd>18 March 2026</dd>" in page


def test_each_highlight_and_its_quote_link_to_each_other(project: TmpProject) -> None:
    _bridge(project)
    assert project.run("--no-pdf").code == 0  # the build checks every link and its #id
    brief = (project.root / "site/briefs/bridge/index.html").read_text()
    archive = (project.root / PAGE).read_text()
    for number in (1, 2):
        assert re.search(rf'<a class="verified-mark" href="sources/paper.html#quote-{number}"', brief)
        assert f'<span class="quote-anchor" id="quote-{number}"></span><mark>' in archive
        assert f'</mark><a class="back-to-quote" href="../index.html#quote-{number}">' in archive
        assert f'<figure class="quote" id="quote-{number}">' in brief
    assert '<a class="archive-link" href="sources/paper.html">Read the archived copy</a>' in brief


def test_the_pdf_mark_still_links_to_the_source_note(project: TmpProject) -> None:
    _bridge(project)
    assert project.run().code == 0
    reader = PdfReader(project.root / "site/briefs/bridge/bridge.pdf")
    uris = [annotation.get_object().get("/A", {}).get("/URI")
            for page in reader.pages for annotation in page.get("/Annots", [])]
    assert not [uri for uri in uris if uri and "sources/" in uri]


def test_hostile_text_in_an_archive_is_shown_as_text_never_as_markup(project: TmpProject) -> None:
    hostile = ('She said: "We will rebuild the bridge by spring." Later: "Nobody will be '
               'forgotten." </div></pre><script>alert(1)</script><img src=x onerror=alert(2)>'
               '\x00\x1b[31m\ud800'.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
    _bridge(project, hostile)
    assert project.run("--no-pdf").code == 0
    page = (project.root / PAGE).read_text()
    assert "<script" not in page and "<img" not in page and "</pre>" not in page
    assert "&lt;/div&gt;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert "\x00" not in page and "\x1b" not in page
    assert _text(page).endswith("\ufffd\ufffd[31m\ufffd\ufffd\ufffd")


def test_an_html_archive_is_published_as_its_text_not_its_markup(project: TmpProject) -> None:
    html = ('<html><head><style>p{}</style><script>steal()</script></head><body>'
            '<p onclick="x()">She said: "We will rebuild the bridge by spring."</p>'
            '<p>Later: "Nobody will be forgotten." <a href="javascript:x()">more</a></p></body></html>')
    _bridge(project, html, name="paper.html")
    assert project.run("--no-pdf").code == 0
    page = (project.root / PAGE).read_text()
    assert "steal" not in page and "onclick" not in page and "javascript:" not in page
    assert "[[Nobody will be forgotten]]" in _text(page)


def test_archive_pages_are_left_out_of_the_search_index(project: TmpProject) -> None:
    _bridge(project)
    assert project.run("--no-pdf").code == 0
    assert 'data-pagefind-ignore="all"' in (project.root / PAGE).read_text()
    assert 'data-pagefind-body' not in (project.root / PAGE).read_text()
    listing = json.loads((project.root / "site/pagefind/shards.json").read_text())
    assert [shard["languages"] for shard in listing["shards"]] == [{"en": 1}]  # the brief page only


# --- what is never published --------------------------------------------------------------

def test_without_publish_archive_no_archive_reaches_the_site(project: TmpProject) -> None:
    _bridge(project, publish=False)
    assert project.run().code == 0
    site = project.root / "site"
    assert not (site / "briefs/bridge/sources").exists()
    published = [p.read_bytes() for p in site.rglob("*") if p.is_file()]
    assert not [data for data in published if ARTICLE.encode() in data or b"The minister spoke" in data]
    assert "Read the archived copy" not in (site / "briefs/bridge/index.html").read_text()


def test_publish_archive_without_an_archive_is_an_error_at_its_field(project: TmpProject) -> None:
    _bridge(project)
    path = project.root / "briefs/bridge.yaml"
    path.write_text(path.read_text().replace("    archive: sources/paper.txt\n", ""))
    result = project.run("check")
    assert result.err.splitlines() == [
        "briefs/bridge.yaml:27:22: sources[0].publish_archive: there is no archive to publish: "
        "add 'archive: sources/<file>' or remove this field",
        "error: 1 problem in 1 file; nothing was written"]


def test_a_restricted_brief_never_gets_an_archive_page(project: TmpProject) -> None:
    _bridge(project, tlp="TLP:AMBER")
    result = project.run()
    assert result.code == 0, result.err
    assert not (project.root / "site/briefs").exists()
    restricted = sorted(p.relative_to(project.root / "restricted").as_posix()
                        for p in (project.root / "restricted").rglob("*") if p.is_file())
    assert restricted == [".fieldbrief-site", ".gitignore", "README.txt", "bridge.pdf"]


def test_one_archive_cited_by_two_briefs_is_published_only_by_the_one_the_site_carries(
        project: TmpProject) -> None:
    _bridge(project)
    _bridge(project, tlp="TLP:RED", brief_id="bridge-red")
    assert project.run("--no-pdf").code == 0
    assert (project.root / PAGE).is_file()
    assert not (project.root / "site/briefs/bridge-red").exists()


def test_the_gate_refuses_an_archive_page_the_site_may_not_carry(tmp_path: Path) -> None:
    folder = tmp_path / "briefs/x"
    (folder / "sources").mkdir(parents=True)
    marked = ('<html><head><meta name="fieldbrief-tlp" content="{}">'
              '<meta name="fieldbrief-status" content="final"></head><body></body></html>')
    (folder / "index.html").write_text(marked.format("TLP:CLEAR"))
    (folder / "sources/a.html").write_text(marked.format("TLP:RED"))
    (folder / "sources/b.html").write_text("<html><head></head><body>text</body></html>")
    (folder / "sources/c.txt").write_text("an archive copied as it is")
    assert gate(tmp_path, PublishingPolicy(("TLP:CLEAR",))) == [
        "the site may not carry briefs/x/sources/a.html: it is labelled TLP:RED, and this site "
        "publishes TLP:CLEAR only",
        'the site may not carry briefs/x/sources/b.html: it is a brief page without its handling '
        'label (<meta name="fieldbrief-tlp">; the brief template must keep it)',
        "the site may not carry briefs/x/sources/c.txt: it is a file in a brief's sources/ folder "
        "that is not an archive page (an archive is published only as a page carrying its "
        "brief's label)"]


# --- the incremental build ----------------------------------------------------------------

def test_the_page_follows_its_archive_and_goes_when_publishing_stops(project: TmpProject) -> None:
    brief = _bridge(project)
    assert project.run("--no-pdf").code == 0
    _bridge(project, tlp="TLP:CLEAR", brief_id="other", publish=False)  # another brief changes
    assert _rendered(project) == ["briefs/other.yaml"]
    assert (project.root / PAGE).is_file(), "kept with its unchanged brief"
    (project.root / "sources/paper.txt").write_text("Update. " + ARTICLE)
    assert _rendered(project) == ["briefs/bridge.yaml", "briefs/other.yaml"]  # both cite it
    assert _text((project.root / PAGE).read_text()).startswith("Update. The minister")
    brief.write_text(brief.read_text().replace(PUBLISH, ""))
    assert project.run("--no-pdf").code == 0
    assert not (project.root / PAGE).exists()
    assert "sources/paper.html" not in (project.root / "site/briefs/bridge/index.html").read_text()


def _rendered(project: TmpProject) -> list[str]:
    """The briefs a build renders (the others are kept as they were)."""
    result = project.run("--no-pdf", "-j", "1")
    assert result.code == 0, result.err
    return [line.split()[1] for line in result.out.splitlines() if line.startswith("rendered ")]


# --- highlights: overlapping and coinciding quotes ----------------------------------------

@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8),
                      min_size=1, max_size=10),
       gaps=st.lists(st.sampled_from([" ", "  ", "\n", " \n ", "\t", "\u00a0", "\r\n"]),
                     min_size=10, max_size=10),
       before=st.text(st.sampled_from("ab \n"), max_size=12))
def test_a_verified_quote_span_is_exactly_its_words_in_the_archive(words: list[str], gaps: list[str],
                                                                   before: str) -> None:
    wrapped = "".join(word + gap for word, gap in zip(words, gaps))
    text = before + ' "' + wrapped + '" after'
    brief = Brief.model_validate(yaml.safe_load(BRIEF.format(
        id="bridge", tlp="TLP:CLEAR", archive="paper.txt", publish="")) | {"quotes": [
            {"text": " ".join(words), "speaker": "Minister", "language": "en", "source": "paper"}]})
    archive = Archive("paper", text, "0" * 64, "sources/paper.txt", text.encode())
    check = verify(brief, {"paper": archive}, "warn").quotes[0]
    assert check.status == "verified" and check.span is not None
    start, end = check.span
    assert quote_words(text[start:end]) == quote_words(" ".join(words))
    assert text[start] == words[0][0] and text[end - 1] == words[-1][-1]


def test_overlapping_and_coinciding_quotes_are_each_highlighted_and_anchored() -> None:
    cut = list(pieces("abcdefgh", {1: (1, 5), 2: (3, 7), 3: (3, 7)}))
    assert [(p.text, p.marked, p.starts, p.ends) for p in cut] == [
        ("a", False, (), ()), ("bc", True, (1,), ()), ("de", True, (2, 3), (1,)),
        ("fg", True, (), (2, 3)), ("h", False, (), ())]


@given(st.text(min_size=1, max_size=60),
       st.lists(st.tuples(st.integers(0, 70), st.integers(0, 70)), max_size=5))
def test_pieces_keep_the_text_and_mark_exactly_the_quotes(text: str, raw: list[tuple[int, int]]) -> None:
    spans = dict(enumerate(raw, 1))
    cut = list(pieces(text, spans))
    assert len("".join(p.text for p in cut)) == len(text)
    valid = {n: (s, min(e, len(text))) for n, (s, e) in spans.items() if 0 <= s < e and s < len(text)}
    marked, at = set(), 0
    for piece in cut:
        if piece.marked:
            marked.update(range(at, at + len(piece.text)))
        at += len(piece.text)
    assert marked == {i for start, end in valid.values() for i in range(start, end)}
    assert sorted(n for p in cut for n in p.starts) == sorted(valid)
    assert sorted(n for p in cut for n in p.ends) == sorted(valid)


# --- PDF/A-3b attachments and the JSON export ---------------------------------------------

@pytest.mark.parametrize("name, media_type", [
    ("paper.txt", "/text/plain"), ("paper.md", "/text/markdown"), ("paper.html", "/text/html")])
def test_pdf_a_3b_attaches_each_archive_beside_the_yaml(project: TmpProject, name: str,
                                                        media_type: str) -> None:
    source = _bridge(project, ARTICLE, name=name)
    assert project.run("--pdf-variant", "pdf/a-3b").code == 0
    reader = PdfReader(project.root / "site/briefs/bridge/bridge.pdf")
    assert reader.attachments == {"bridge.yaml": [source.read_bytes()], name: [ARTICLE.encode()]}
    specs = {spec.get_object()["/F"]: spec.get_object() for spec in reader.trailer["/Root"]["/AF"]}
    assert specs[name]["/AFRelationship"] == "/Source"
    assert specs[name]["/EF"]["/F"].get_object()["/Subtype"] == media_type
    assert attachment_problems(reader) == []


def test_pdf_a_3b_attaches_a_pdf_archive_as_a_pdf(project: TmpProject) -> None:
    _bridge(project)  # a PDF with a text layer: the brief's own, as first built
    assert project.run().code == 0
    pdf = (project.root / "site/briefs/bridge/bridge.pdf").read_bytes()
    (project.root / "sources/paper.pdf").write_bytes(pdf)
    brief = project.root / "briefs/bridge.yaml"
    brief.write_text(brief.read_text().replace("sources/paper.txt", "sources/paper.pdf"))
    assert project.run("--pdf-variant", "pdf/a-3b").code == 0
    reader = PdfReader(project.root / "site/briefs/bridge/bridge.pdf")
    assert reader.attachments["paper.pdf"] == [pdf]
    specs = {spec.get_object()["/F"]: spec.get_object() for spec in reader.trailer["/Root"]["/AF"]}
    assert specs["paper.pdf"]["/EF"]["/F"].get_object()["/Subtype"] == "/application/pdf"


def test_a_pdf_a_3b_on_the_site_attaches_only_archives_allowed_to_be_published(
        project: TmpProject) -> None:
    source = _bridge(project, publish=False)
    assert project.run("--pdf-variant", "pdf/a-3b").code == 0
    reader = PdfReader(project.root / "site/briefs/bridge/bridge.pdf")
    assert reader.attachments == {"bridge.yaml": [source.read_bytes()]}


def test_a_restricted_pdf_a_3b_attaches_every_archive(project: TmpProject) -> None:
    source = _bridge(project, publish=False, tlp="TLP:AMBER")
    assert project.run("--pdf-variant", "pdf/a-3b").code == 0
    reader = PdfReader(project.root / "restricted/bridge.pdf")
    assert reader.attachments == {"bridge.yaml": [source.read_bytes()], "paper.txt": [ARTICLE.encode()]}


@pytest.mark.parametrize("variant", [[], ["--pdf-variant", "pdf/ua-1"]])
def test_other_pdf_variants_attach_no_archive(project: TmpProject, variant: list[str]) -> None:
    _bridge(project)
    assert project.run(*variant).code == 0
    assert PdfReader(project.root / "site/briefs/bridge/bridge.pdf").attachments == {}


def test_the_json_export_carries_each_archive_sha256(project: TmpProject) -> None:
    _bridge(project, publish=False)
    assert project.run("--no-pdf").code == 0
    document = json.loads((project.root / "site/briefs/bridge/bridge.json").read_text())
    schema = json.loads((REPO / "schema/brief-export.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["sources"][0]["archive_sha256"] == hashlib.sha256(ARTICLE.encode()).hexdigest()
