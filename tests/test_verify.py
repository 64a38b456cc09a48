"""Quotes verified against the archived texts of their sources: what verification
catches (a paraphrase shown as a quote, a changed word), what it must not flag
(a line break, curly quotes), archives as inputs of the build, the policy setting,
the audit report, and the marks a reader sees in the HTML and the PDF."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, TmpProject, pdf_pages_text
from fieldbrief.verify import normalise, quote_words

MALI = "mali-jnim-attacks.yaml"
ARTICLE = "mali-jnim-attacks-article.txt"
ENEMY = ("The enemy suffered significant losses in every location where they engaged with "
         "the security and defense forces.")
HEAD = """id: quoted
title: Quoted
as_of: 2026-03-18
countries: [ZZ]
status: final
desk: Test desk
bluf: [One., Two.]
summary: Summary.
quotes:
  - text: {text}
    speaker: Minister
    language: en
    source: paper
sources:
  - id: paper
    title: Paper
    publisher: Daily
    kind: news report
    reliability: B
    credibility: 2
    archive: {archive}
"""


def _mali(project: TmpProject, *replacements: tuple[str, str]) -> Path:
    """The Mali brief and its archived article in ``project``, with text replaced."""
    (project.root / "sources").mkdir(exist_ok=True)
    shutil.copy(REPO / "sources" / ARTICLE, project.root / "sources" / ARTICLE)
    text = (REPO / "briefs" / MALI).read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    return project.write(MALI, text)


def _quoted(project: TmpProject, text: str, archive_text: str | bytes,
            name: str = "paper.txt") -> None:
    folder = project.root / "sources"
    folder.mkdir(exist_ok=True)
    data = archive_text if isinstance(archive_text, bytes) else archive_text.encode()
    (folder / name).write_bytes(data)
    project.write("quoted.yaml", HEAD.format(text=text, archive=f"sources/{name}"))


MALI_PHRASES_AND_FIGURES = [
    "briefs/mali-jnim-attacks.yaml: phrase \"neutralizing over 80 militants\" (bluf[1]): verified "
    "(archive of 'rtw-article', line 6)",
    "briefs/mali-jnim-attacks.yaml: phrase \"reportedly neutralizing over 80 militan…\" (summary): "
    "verified (archive of 'rtw-article', line 6)",
    "briefs/mali-jnim-attacks.yaml: phrase \"coordinated and high quality\" (summary): verified "
    "(archive of 'rtw-article', line 10)",
    "briefs/mali-jnim-attacks.yaml: phrase \"further north near the Mauritania front…\" "
    "(places[3].note): verified (archive of 'rtw-article', line 9)",
    "briefs/mali-jnim-attacks.yaml: phrase \"early Tuesday\" (gaps[0].text): verified "
    "(archive of 'rtw-article', line 6)",
    "briefs/mali-jnim-attacks.yaml: phrase \"on June 2 … just a day earlier\" (sources[0].notes): "
    "verified (archive of 'rtw-article', line 10)",
    "briefs/mali-jnim-attacks.yaml: phrase \"a day earlier\" (sources[0].notes): verified "
    "(archive of 'rtw-article', line 10)",
    "briefs/mali-jnim-attacks.yaml: figure 1 '80+' (militants the military says it neutrali…): "
    "verified (archive of 'rtw-article', line 6)",
    "briefs/mali-jnim-attacks.yaml: figure 2 '3' (army barracks seized): verified "
    "(archive of 'rtw-article', line 7)",
    "briefs/mali-jnim-attacks.yaml: figure 3 '7' (locations attacked on the Tuesday): verified "
    "(archive of 'rtw-article', line 9)",
    "briefs/mali-jnim-attacks.yaml: figure 4 'at least 30' (soldiers killed in the attack on "
    "Timbuk…): verified (archive of 'rtw-article', line 10)",
]
"""The audit of the Mali brief's quoted phrases and figures: every one verifies."""


# --- the Mali brief -----------------------------------------------------------------------

def test_every_quote_of_the_mali_brief_verifies_in_the_audit_report(project: TmpProject) -> None:
    _mali(project)
    result = project.run("check", "--report")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "briefs/mali-jnim-attacks.yaml: quote 1 (Souleymane Dembele): verified "
        "(archive of 'rtw-article', line 8)",
        "briefs/mali-jnim-attacks.yaml: quote 2 (JNIM): verified (archive of 'rtw-article', line 10)",
        *MALI_PHRASES_AND_FIGURES,
        "verification: 2 quotes (2 verified, 0 not found, 0 no archive); 7 quoted phrases "
        "(7 verified, 0 not found, 0 no archive); 4 figures (4 verified, 0 not found, 0 no archive)",
        "1 brief valid",
    ]


def test_a_paraphrase_turned_into_a_quote_is_an_error(project: TmpProject) -> None:
    _mali(project, ("  - text: coordinated and high quality\n    speaker: JNIM",
                    "  - text: The situation is deeply concerning\n    speaker: Michael Langley"),
          ("    source: jnim-statement\n    note: A phrase", "    source: africom-press-conference\n"
                                                             "    note: A phrase"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines() == [
        "briefs/mali-jnim-attacks.yaml:155:11: quotes[1].text: quote not found in the archive of "
        "'rtw-article'; closest passage (line 11): 'the situation as deeply concerning'; if the "
        "source paraphrases, this is reported speech: move it to the summary or the timeline",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_a_quote_with_one_word_changed_is_an_error(project: TmpProject) -> None:
    _mali(project, ("in every location where", "in each location where"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "briefs/mali-jnim-attacks.yaml:146:11: quotes[0].text: quote not found in the archive of "
        "'rtw-article'; closest passage (line 8): '\"The enemy suffered significant losses in every "
        "location where they engaged with the security and d…'; "
        "if the source paraphrases, this is reported speech: move it to the summary or the "
        "timeline")


def test_words_the_source_narrates_are_a_warning_and_strict_makes_it_fail(project: TmpProject) -> None:
    _mali(project, ("  - text: coordinated and high quality\n", "  - text: deeply concerning\n"),
          ("    source: jnim-statement\n    note: A phrase", "    source: africom-press-conference\n"
                                                             "    note: A phrase"))
    warning = ("briefs/mali-jnim-attacks.yaml:155:11: quotes[1].text: warning: the source does not "
               "present these words as a quotation (archive of 'rtw-article', line 11); if it "
               "reports them as narration or indirect speech, move them to the summary or the "
               "timeline")
    result = project.run("check")
    assert (result.code, result.err.splitlines()) == (0, [warning])
    strict = project.run("check", "--strict")
    assert (strict.code, strict.err.splitlines()[0]) == (1, warning)


# --- what verification must not flag ------------------------------------------------------

def test_a_quote_across_a_line_break_and_a_hyphenated_word_verifies(project: TmpProject) -> None:
    _quoted(project, "The floods were coordinated with the dam releases, and nobody warned us.",
            "The minister said: \"The floods were coordi-\nnated with the dam releases,\n"
            "and  nobody\u00a0warned us,\" before leaving.\n")
    result = project.run("check", "--report", "--strict")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines()[0] == ("briefs/quoted.yaml: quote 1 (Minister): verified "
                                          "(archive of 'paper', line 1)")


def test_curly_quotes_dashes_and_soft_hyphens_match_straight_ones(project: TmpProject) -> None:
    _quoted(project, "We won’t leave — not now.",
            "Report.\nShe told us: “We won't lea\u00adve - not now,” and left.\n")
    result = project.run("check", "--report", "--strict")
    assert (result.code, result.err) == (0, "")
    assert "verified (archive of 'paper', line 2)" in result.out


def test_a_translated_quote_is_checked_on_its_original_words(project: TmpProject) -> None:
    _quoted(project, "Nous ne partirons pas.", "Le maire a dit : « Nous ne partirons pas », puis il est parti.")
    brief = project.root / "briefs" / "quoted.yaml"
    brief.write_text(brief.read_text().replace("    language: en\n", "    language: fr\n"
                                                "    translation: We will not leave.\n"))
    result = project.run("check", "--report", "--strict")
    assert (result.code, result.err) == (0, "")
    assert "quote 1 (Minister): verified (archive of 'paper', line 1)" in result.out


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8),
                      min_size=1, max_size=12),
       gaps=st.lists(st.sampled_from([" ", "  ", "\n", " \n ", "\t", "\u00a0", "\r\n"]),
                     min_size=12, max_size=12),
       before=st.integers(0, 3))
def test_any_rewrapping_of_a_passage_still_finds_it_at_its_line(words: list[str], gaps: list[str],
                                                                 before: int) -> None:
    wrapped = "".join(word + gap for word, gap in zip(words, gaps))
    archive = normalise("Lead line.\n" * before + wrapped)
    found = archive.text.find(quote_words(" ".join(words)))
    assert found >= 0
    assert archive.line_of(found) == before + 1


def test_case_is_never_normalised() -> None:
    archive = normalise("He said: \"We will rebuild.\"")
    assert quote_words("we will rebuild.") not in archive.text
    assert quote_words("We will rebuild.") in archive.text


# --- archives: formats, and the rules of project files ------------------------------------

def test_an_html_archive_is_read_as_its_text_without_scripts(project: TmpProject) -> None:
    _quoted(project, "Help is on the way",
            "<html><head><style>p{}</style><script>var x = '\"Help is on the way\"';</script></head>"
            "<body><p>The mayor: &ldquo;Help is <em>on</em> the way.&rdquo;</p></body></html>",
            name="paper.html")
    result = project.run("check", "--report", "--strict")
    assert (result.code, result.err) == (0, "")
    assert "quote 1 (Minister): verified" in result.out


def test_a_pdf_archive_is_read_as_its_text(project: TmpProject) -> None:
    from weasyprint import HTML
    pdf = HTML(string="<p>The mayor said: \"Help is on the way.\"</p>").write_pdf()
    _quoted(project, "Help is on the way", pdf, name="paper.pdf")
    result = project.run("check", "--report", "--strict")
    assert (result.code, result.err) == (0, "")
    assert "quote 1 (Minister): verified" in result.out


@pytest.mark.parametrize(("archive", "message"), [
    ("sources/missing.txt", "no such file: 'sources/missing.txt' (archives are never fetched: save "
                            "the source's text in sources/)"),
    ("briefs/quoted.yaml", "'briefs/quoted.yaml' is not inside the project's sources/ folder; "
                           "archive the source's text there and write e.g. 'sources/article.txt'"),
    ("sources/../../outside.txt", "'sources/../../outside.txt' is not inside the project's sources/ "
                                  "folder; archive the source's text there and write e.g. "
                                  "'sources/article.txt'"),
    ("sources/paper.docx", "'sources/paper.docx' is not plain text (.txt), Markdown (.md), HTML "
                           "(.html) or PDF (.pdf)"),
])
def test_an_archive_that_may_not_be_read_is_an_error_at_its_field(project: TmpProject, archive: str,
                                                                   message: str) -> None:
    _quoted(project, "x", "x", name="paper.docx")
    project.write("quoted.yaml", HEAD.format(text="x", archive=archive))
    result = project.run("check")
    assert result.err.splitlines() == [f"briefs/quoted.yaml:21:14: sources[0].archive: {message}",
                                       "error: 1 problem in 1 file; nothing was written"]


def test_an_archive_over_the_size_limit_is_refused(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("max_archive_bytes: 1024\n")
    _quoted(project, "x", "x" * 2000)
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/quoted.yaml:21:14: sources[0].archive: the file is 2000 bytes, more than the "
        "limit of 1024 (max_archive_bytes in site.yaml)")


def test_a_changed_archive_rebuilds_the_brief_that_cites_it(project: TmpProject) -> None:
    _quoted(project, "Help is on the way", "\"Help is on the way,\" said the mayor.")
    assert project.run("--no-pdf").code == 0
    assert project.run("--no-pdf").out.startswith("nothing changed")
    (project.root / "sources" / "paper.txt").write_text("Update: \"Help is on the way,\" he said.")
    assert project.run("--no-pdf").out.splitlines()[-1].startswith("built 1 brief (HTML only)")
    page = (project.root / "site/briefs/quoted/index.html").read_text()
    assert hashlib.sha256(
        b"Update: \"Help is on the way,\" he said.").hexdigest() in page
    (project.root / "sources" / "paper.txt").write_text("The mayor said help was coming.")
    result = project.run("--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[0].startswith(
        "briefs/quoted.yaml:10:11: quotes[0].text: quote not found in the archive of 'paper'")


# --- policy -------------------------------------------------------------------------------

def test_verification_off_checks_nothing(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("verification: 'off'\n")
    _quoted(project, "Words never said", "Other words.")
    result = project.run("check", "--report")
    assert (result.code, result.err) == (0, "")
    assert result.out.splitlines() == [
        "verification: 0 quotes (0 verified, 0 not found, 0 no archive); 0 quoted phrases "
        "(0 verified, 0 not found, 0 no archive); 0 figures (0 verified, 0 not found, 0 no archive)",
        "1 brief valid"]


def test_require_makes_a_quote_without_an_archived_source_an_error(project: TmpProject) -> None:
    (project.root / "site.yaml").write_text("verification: require\n")
    project.write("quoted.yaml", HEAD.format(text="x", archive="sources/paper.txt")
                  .replace("    archive: sources/paper.txt\n", ""))
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/quoted.yaml:13:13: quotes[0].source: quote cannot be checked: source 'paper' has "
        "no archived text (verification: require in site.yaml); add 'archive: sources/<file>' to "
        "the source it came from")


# --- what the reader sees -----------------------------------------------------------------

@pytest.fixture(scope="module")
def mali_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mali")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        project = TmpProject(root)
        _mali(project)
        result = project.run()
        assert result.code == 0, result.err
    return root / "site" / "briefs" / "mali-jnim-attacks"


def test_verified_quotes_and_the_archive_are_shown_in_the_html(mali_site: Path) -> None:
    page = (mali_site / "index.html").read_text()
    marks = re.findall(r'<a class="verified-mark" href="#source-rtw-article"[^>]*>([^<]*)</a>', page)
    assert marks == ["✓ checked against archived copy [1]"] * 2
    digest = "807b6f4bc9b6d5bb24d995a4b95411d724c55046e92c30a92a334cfd63586994"
    assert (f'Archived copy kept 23 November 2026 · SHA-256 <code class="digest">{digest}</code>'
            in page)
    assert "Malian armed forces · Official statement · reported in [1] · no archived copy" in page


def test_verified_quotes_and_the_archive_are_shown_in_the_pdf(mali_site: Path) -> None:
    text = re.sub(r"\s+", " ", " ".join(pdf_pages_text(mali_site / "mali-jnim-attacks.pdf")))
    assert text.count("✓ checked against archived copy [1]") == 2
    assert "Archived copy kept 23 November 2026 · SHA-256 807b6f4bc9b6d5bb" in text


def test_archives_are_never_copied_to_the_site(mali_site: Path) -> None:
    site = mali_site.parent.parent
    article = (REPO / "sources" / ARTICLE).read_bytes()
    assert not [p for p in site.rglob("*") if p.is_file() and p.read_bytes() == article]
    assert "Colonel Souleymane Dembele addressed the nation" not in (mali_site / "index.html").read_text()


@pytest.mark.parametrize(("name", "data", "message"), [
    ("paper.pdf", b"%PDF-1.7 not really", "'sources/paper.pdf' cannot be read as PDF (PdfStreamError)"),
    ("paper.html", b"<script>only a script</script>",
     "'sources/paper.html' holds no text (a scanned PDF without a text layer?); archive the "
     "source's text"),
    ("paper.txt", b"caf\xe9", "'sources/paper.txt' is not UTF-8 text; save it as UTF-8"),
])
def test_an_archive_that_cannot_be_read_is_an_error_at_its_field(project: TmpProject, name: str,
                                                                  data: bytes, message: str) -> None:
    _quoted(project, "x", data, name=name)
    result = project.run("check")
    assert result.err.splitlines()[0] == f"briefs/quoted.yaml:21:14: sources[0].archive: {message}"


def test_an_archive_linked_from_outside_the_project_is_refused(project: TmpProject,
                                                                tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("\"Help is on the way,\" said the mayor.")
    (project.root / "sources").mkdir(exist_ok=True)
    (project.root / "sources" / "link.txt").symlink_to(secret)
    project.write("quoted.yaml", HEAD.format(text="Help is on the way", archive="sources/link.txt"))
    result = project.run("check")
    assert result.err.splitlines()[0] == (
        "briefs/quoted.yaml:21:14: sources[0].archive: 'sources/link.txt' is not inside the "
        "project's sources/ folder; archive the source's text there and write e.g. "
        "'sources/article.txt'")


def test_a_sources_folder_linked_outside_the_project_is_refused(project: TmpProject,
                                                                 tmp_path: Path) -> None:
    """The folder is checked too, not only the file inside it: a committed `sources` link
    would otherwise read (and publish) files from anywhere."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "paper.txt").write_text("\"Help is on the way,\" said the mayor.")
    shutil.rmtree(project.root / "sources", ignore_errors=True)
    (project.root / "sources").symlink_to(outside, target_is_directory=True)
    project.write("quoted.yaml", HEAD.format(text="Help is on the way", archive="sources/paper.txt"))
    result = project.run("check")
    assert (result.code, result.err.splitlines()[0]) == (1,
        "briefs/quoted.yaml:21:14: sources[0].archive: 'sources/paper.txt' is not inside the "
        "project's sources/ folder; archive the source's text there and write e.g. "
        "'sources/article.txt'")
