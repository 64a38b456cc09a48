"""Trust by construction: what the analyst wrote is what is shown, every problem is one
positioned line, and whatever passes `check` builds. Messages are asserted whole."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from conftest import REPO, SCENARIOS, TmpProject, pdf_pages_text

MINIMAL = (SCENARIOS / "valid_minimal.yaml").read_text(encoding="utf-8")


def minimal(project: TmpProject, name: str = "a.yaml", replace: dict[str, str] | None = None,
            append: str = "") -> Path:
    """valid_minimal.yaml with whole lines replaced and lines appended, as briefs/``name``."""
    text = MINIMAL
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    return project.write(name, text + append)


def errors(project: TmpProject, *argv: str) -> list[str]:
    result = project.run("check", *argv)
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    return result.err.splitlines()


# --- 1, 2, 3: values shown as written ----------------------------------------------------

def test_values_are_shown_as_written_on_the_page_in_the_index_and_in_the_pdf(project: TmpProject) -> None:
    project.add("written_values.yaml")
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    page = (project.root / "site/briefs/written-values/index.html").read_text()
    assert "16.77° N, 3.0° W" in page and "16° N, 0.0450° W" in page
    assert '<span class="figure-value">1_000' in page and '<span class="figure-value">0x10' in page
    assert '<dd class="as-of">2 November 2026</dd>' in page
    assert "As of 2 November 2026</span>" in (project.root / "site/index.html").read_text()
    pdf = "\n".join(pdf_pages_text(project.root / "site/briefs/written-values/written-values.pdf"))
    assert "16.77° N, 3.0° W" in pdf and "1_000" in pdf and "0x10" in pdf
    assert "2 November 2026" in pdf and "00:00" not in pdf


def test_a_quoted_date_stays_a_date_in_the_index_rebuilt_from_the_manifest(project: TmpProject) -> None:
    project.add("written_values.yaml")
    assert project.run("--no-pdf", "-j", "1").code == 0
    minimal(project, "b.yaml")  # a second build: the index is made from the kept cards
    assert project.run("--no-pdf", "-j", "1").code == 0
    index = (project.root / "site/index.html").read_text()
    assert "As of 2 November 2026</span>" in index and "00:00" not in index


@pytest.mark.parametrize(("written", "reading"), [
    ("11:00", "the number 660"),
    ("1:30:00", "the number 5400"),
    ("yes", "the boolean true"),
    ("Off", "the boolean false"),
    ("2026-01-15", "a date"),
    ("2026-01-15 06:30:00", "a date and time"),
    ("1.5e+3", "the number 1500.0"),
    ("null", "an empty value"),
])
def test_text_that_yaml_reads_as_something_else_asks_for_quotes(
        project: TmpProject, written: str, reading: str) -> None:
    minimal(project, replace={"title: Minimal valid brief": f"title: {written}"})
    assert errors(project) == [
        f"briefs/a.yaml:2:8: title: must be text, but YAML reads {written} as {reading}; "
        f"put it in quotes: '{written}'",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_text_through_an_alias_asks_for_quotes_too(project: TmpProject) -> None:
    minimal(project, append="timeline:\n  - when: &eleven 11:00\n    text: x\n    sources: [only-source]\n"
                             "  - when: *eleven\n    text: y\n    sources: [only-source]\n")
    assert errors(project)[:2] == [
        "briefs/a.yaml:24:11: timeline[0].when: must be text, but YAML reads 11:00 as the number "
        "660; put it in quotes: '11:00'",
        "briefs/a.yaml:27:11: timeline[1].when: must be text, but YAML reads 11:00 as the number "
        "660; put it in quotes: '11:00'",
    ]


def test_norway_is_not_false(project: TmpProject) -> None:
    minimal(project, replace={"countries: [ML]": "countries: [ML, NO]"})
    assert errors(project)[0] == ("briefs/a.yaml:4:17: countries[1]: must be text, but YAML "
                                  "reads NO as the boolean false; put it in quotes: 'NO'")


def test_choice_read_as_a_boolean_is_shown_as_written(project: TmpProject) -> None:
    minimal(project, replace={"status: final": "status: yes"})
    assert errors(project)[0] == ("briefs/a.yaml:5:9: status: yes is not allowed; "
                                  "use one of 'draft' or 'final'")


# --- 4: every problem in one run ----------------------------------------------------------

def test_unknown_ids_are_reported_with_the_schema_errors(project: TmpProject) -> None:
    project.add("invalid_schema_and_references.yaml")
    f = "briefs/invalid_schema_and_references.yaml"
    assert errors(project) == [
        f"{f}:5:9: status: 'published' is not allowed; use one of 'draft' or 'final'",
        f"{f}:15:15: figures[0].sources[0]: unknown source 'artcle'; did you mean 'article'?",
        f"{f}:20:11: sources[0].kind: 'blog' is not allowed; use one of 'news report', "
        "'official statement', 'press release', 'press conference', 'interview', 'broadcast', "
        "'social-media claim', 'leak site', 'advisory', 'situation report', 'field report', "
        "'report', 'academic paper', 'dataset', 'satellite imagery', 'imagery' or 'other'",
        "error: 3 problems in 1 file; nothing was written",
    ]


# --- 5: files outside the project, and long values ----------------------------------------

REFUSED_LINK = ("1:1: refused: the file is a link to a file outside the project; "
                "fieldbrief reads only files inside the project folder")


def test_brief_linked_to_a_file_outside_the_project_is_not_read(project: TmpProject) -> None:
    (project.root / "briefs/x.yaml").symlink_to("/etc/passwd")
    assert errors(project) == [f"briefs/x.yaml:{REFUSED_LINK}",
                               "error: 1 problem in 1 file; nothing was written"]
    result = project.run("--no-pdf")
    assert result.code == 1 and "refused: the file is" in result.err
    assert "root" not in result.err
    assert not (project.root / "site").exists()


def test_site_config_linked_outside_the_project_is_not_read(project: TmpProject) -> None:
    (project.root / "site.yaml").symlink_to("/etc/passwd")
    minimal(project)
    assert errors(project) == [f"site.yaml:{REFUSED_LINK}",
                               "error: 1 problem in 1 file; nothing was written"]


def test_config_file_outside_the_project_is_not_read(project: TmpProject) -> None:
    minimal(project)
    assert errors(project, "--config", "/etc/passwd") == [
        "/etc/passwd:1:1: refused: the file is outside the project; fieldbrief reads only "
        "files inside the project folder",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_site_config_that_is_a_pipe_is_refused_without_waiting(project: TmpProject) -> None:
    os.mkfifo(project.root / "site.yaml")
    minimal(project)
    assert errors(project) == [
        "site.yaml:1:1: refused: the file is not a regular file (a folder, device or pipe)",
        "error: 1 problem in 1 file; nothing was written",
    ]


@pytest.mark.parametrize("folder", ["site.yaml", "briefs/b.yaml", "series/weekly.yaml"])
def test_a_folder_named_like_a_project_file_is_refused_at_its_name(
        project: TmpProject, folder: str) -> None:
    minimal(project)
    (project.root / folder).mkdir(parents=True)
    assert errors(project) == [
        f"{folder}:1:1: refused: the file is not a regular file (a folder, device or pipe)",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_long_map_image_is_shown_as_an_excerpt(project: TmpProject) -> None:
    minimal(project, replace={"summary: One paragraph of summary.": (
        "summary: One paragraph of summary.\nmap:\n  image: assets/" + "m" * 1500 + ".png\n"
        "  alt: A map.\n  credit: Test desk")})
    assert errors(project)[0] == ("briefs/a.yaml:12:10: map.image: "
                                  "'assets/mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm…' does not exist")


def test_link_to_a_brief_inside_the_project_is_read(project: TmpProject) -> None:
    (project.root / "drafts").mkdir()
    (project.root / "drafts/a.yaml").write_text(MINIMAL)
    (project.root / "briefs/a.yaml").symlink_to(project.root / "drafts/a.yaml")
    assert project.run("check").out == "1 brief valid\n"


@pytest.mark.parametrize(("line", "field", "message"), [
    ("status: " + "x" * 5000, "5:9: status",
     "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…' is not allowed; use one of 'draft' or 'final'"),
    ("id: A" + "b" * 5000, "1:5: id",
     "'Abbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb…' is not a valid id: use lowercase letters, "
     "digits and single hyphens, at most 80 characters (e.g. 'mali-jnim-attacks')"),
    ("desk: [" + "y" * 5000 + "]", "6:7: desk", "must be text, not a list"),
    ("y" * 1000 + ": 1", "11:1: yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…",
     "unknown field 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…'; allowed here: actors, "
     "as_of, assessment, authors, bluf, countries, desk, figures, gaps, handling_note, id, "
     "indicators, language, map, next_update, not_quotations, number, outlook, page_size, period, places, "
     "quotes, region, revisions, series, short_title, sources, status, subtitle, summary, tags, timeline, "
     "title, tlp, translation_of"),
    ("countries: [" + "Z" * 5000 + "]", "4:13: countries[0]",
     "'ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ…' is not an ISO 3166-1 alpha-2 country code "
     "(e.g. 'ML' for Mali; ZZ for a fictional exercise area)"),
])
def test_messages_show_only_an_excerpt_of_a_long_value(
        project: TmpProject, line: str, field: str, message: str) -> None:
    first = line.split(":")[0]
    replaced = {"id:": "id: valid-minimal", "status:": "status: final", "desk:": "desk: Test desk",
                "countries:": "countries: [ML]"}
    if f"{first}:" in replaced:
        minimal(project, replace={replaced[f"{first}:"]: line})
    else:
        minimal(project, replace={"summary: One paragraph of summary.":
                                  f"summary: One paragraph of summary.\n{line}"})
    assert errors(project)[0] == f"briefs/a.yaml:{field}: {message}"


# --- 6: explicit tags and dates out of range ----------------------------------------------

@pytest.mark.parametrize("line", [
    "title: !!bool maybe", 'title: !!float ""', 'title: !!int ""', 'title: !!timestamp "x"',
    "title: !!binary AAEC", "title: !!null x", "title: !!python/name:os.system",
])
def test_explicit_scalar_tags_are_refused_with_a_position(project: TmpProject, line: str) -> None:
    minimal(project, replace={"title: Minimal valid brief": line})
    tag = line.split()[1]
    assert errors(project) == [
        f"briefs/a.yaml:2:8: title: the YAML tag '{tag}' is not allowed; remove it (put text in quotes)",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_explicit_str_tag_is_text(project: TmpProject) -> None:
    minimal(project, replace={"desk: Test desk": "desk: !!str 11:00"})
    assert project.run("check").code == 0


@pytest.mark.parametrize(("written", "message"), [
    ("9999-12-31T23:59:59-23:00", "'9999-12-31T23:59:59-23:00' is outside the years 1000 to 9999 in UTC"),
    ("1000-01-01T00:00+01:00", "'1000-01-01T00:00+01:00' is outside the years 1000 to 9999 in UTC"),
    ("0001-01-01", "'0001-01-01' is outside the years 1000 to 9999"),
    ("'0999-12-31'", "'0999-12-31' is outside the years 1000 to 9999"),
    ("2026-01-15T10:00+99:00", "'2026-01-15T10:00+99:00' is not a real date (a time zone offset "
                               "must be under 24 hours)"),
    ("2026-01-15T10:00:00+24:00", "'2026-01-15T10:00:00+24:00' is not a real date (a time zone "
                                  "offset must be under 24 hours)"),
    ("'2026-02-30'", "'2026-02-30' is not a real date (day is out of range for month)"),
])
def test_dates_outside_the_sane_range_are_refused(project: TmpProject, written: str, message: str) -> None:
    minimal(project, replace={"as_of: 2026-01-15": f"as_of: {written}"})
    assert errors(project) == [f"briefs/a.yaml:3:8: as_of: {message}",
                               "error: 1 problem in 1 file; nothing was written"]


def test_a_revision_time_needs_its_offset(project: TmpProject) -> None:
    minimal(project, append="revisions:\n  - date: 2026-01-14T10:00\n    change: x\n")
    assert errors(project)[0] == ("briefs/a.yaml:24:11: revisions[0].date: '2026-01-14T10:00' "
                                  "has a time without an offset; add Z for UTC or an offset "
                                  "such as +01:00")
    minimal(project, append="revisions:\n  - date: 2026-01-14 10:00:00\n    change: x\n")
    assert errors(project)[0] == ("briefs/a.yaml:24:11: revisions[0].date: '2026-01-14T10:00:00' "
                                  "has a time without an offset; add Z for UTC or an offset "
                                  "such as +01:00")


@pytest.mark.parametrize("as_of", ["9999-12-31T00:59:59-23:00", "1000-01-01T00:00-23:59",
                                   "'1000-01-01'", "9999-12-31", "2026-01-15T06:30Z"])
def test_dates_at_the_ends_of_the_range_build(project: TmpProject, as_of: str) -> None:
    minimal(project, replace={"as_of: 2026-01-15": f"as_of: {as_of}"})
    result = project.run("--no-pdf", "-j", "1")
    assert result.code == 0, result.err
    assert (project.root / "site/feed.xml").exists()


# --- 7: characters XML cannot carry ------------------------------------------------------

@pytest.mark.parametrize(("escape", "character"), [
    ("\\0", "U+0000 (a control character)"), ("\\x01", "U+0001 (a control character)"),
    ("\\e", "U+001B (a control character)"), ("\\r", "U+000D (a control character)"),
    ("\\x7f", "U+007F (a control character)"), ("\\x85", "U+0085 (a control character)"),
    ("\\uFFFE", "U+FFFE (a noncharacter)"), ("\\uFDD0", "U+FDD0 (a noncharacter)"),
    ("\\U0010FFFF", "U+10FFFF (a noncharacter)"),
])
@pytest.mark.parametrize(("field", "line", "position"), [
    ("title", 'title: "a{}b"', "2:8: title"),
    ("tags", 'tags: ["a{}b"]', "23:8: tags[0]"),
    ("sources", "  - id: only-source\n    notes: \"{}\"", "18:12: sources[0].notes"),
])
def test_characters_xml_cannot_carry_are_refused_in_every_field(
        project: TmpProject, escape: str, character: str, field: str, line: str, position: str) -> None:
    if field == "title":
        minimal(project, replace={"title: Minimal valid brief": line.format(escape)})
    elif field == "tags":
        minimal(project, append=line.format(escape) + "\n")
    else:
        minimal(project, replace={"  - id: only-source": line.format(escape)})
    assert errors(project) == [
        f"briefs/a.yaml:{position}: character {character} is not allowed in text; remove it",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_control_character_in_a_field_name_is_refused(project: TmpProject) -> None:
    minimal(project, append='"tit\\nle": x\n')
    assert errors(project)[0] == ("briefs/a.yaml:23:1: character U+000A (a control character) "
                                  "is not allowed in a field name; remove it")


def test_feed_of_a_brief_with_tab_and_newline_is_well_formed_xml(project: TmpProject) -> None:
    import xml.etree.ElementTree as ElementTree
    minimal(project, replace={"title: Minimal valid brief": 'title: "a\\tb"',
                              "  - First point.": '  - "First\\npoint."'})
    assert project.run("--no-pdf", "-j", "1").code == 0
    ElementTree.parse(project.root / "site/feed.xml")


# --- 8: one problem, one line -------------------------------------------------------------

def test_values_and_file_names_cannot_forge_message_lines(project: TmpProject) -> None:
    minimal(project, "x\n::error file=y::z\x1b[2K.yaml",
            replace={"id: valid-minimal": 'id: "x\\u2028briefs/other.yaml:1:1: fake\\u202e"'})
    result = project.run("check")
    assert result.err.splitlines() == [
        "briefs/x\\n::error file=y::z\\x1b[2K.yaml:1:5: id: 'x\\u2028briefs/other.yaml:1:1: fake\\u202e' "
        "is not a valid id: use lowercase letters, digits and single hyphens, at most 80 "
        "characters (e.g. 'mali-jnim-attacks')",
        "error: 1 problem in 1 file; nothing was written",
    ]


# --- 9, 10: bounded paths and bounded work ------------------------------------------------

def test_tags_are_bounded_because_they_name_folders(project: TmpProject) -> None:
    minimal(project, append=f"tags: [{'t' * 61}, '!!!', ok]\n")
    assert errors(project) == [
        "briefs/a.yaml:23:8: tags[0]: allows at most 60 characters, has 61",
        "briefs/a.yaml:23:71: tags[1]: '!!!' needs a letter or digit: a tag names its page",
        "error: 2 problems in 1 file; nothing was written",
    ]


def test_longest_tag_builds(project: TmpProject) -> None:
    minimal(project, append=f"tags: [{'ŧ' * 60}]\n")
    assert project.run("--no-pdf", "-j", "1").code == 0
    assert (project.root / "site/tags" / ("ŧ" * 60) / "index.html").exists()


def test_aliases_cannot_multiply_a_large_value(project: TmpProject) -> None:
    big = "x" * 100_000
    minimal(project, replace={"summary: One paragraph of summary.":
                              f"summary: &big {big}\nauthors: [" + ", ".join(["*big"] * 3000) + "]"})
    assert errors(project) == [
        "briefs/a.yaml:11:65: the document grows to more than 1048576 characters through "
        "aliases (at most max_brief_bytes, as if written out)",
        "error: 1 problem in 1 file; nothing was written",
    ]


def test_lists_are_bounded(project: TmpProject) -> None:
    figure = "  - value: 1\n    counts: x\n    status: confirmed\n    sources: [only-source]\n"
    minimal(project, replace={"figures:\n": "figures:\n" + figure * 50})
    assert errors(project)[0] == "briefs/a.yaml:12:3: figures: allows at most 50 item(s), has 51"


def _limited_lists(schema: object) -> list[dict]:
    """Every part of a JSON Schema that bounds a list's length."""
    if isinstance(schema, list):
        return [found for item in schema for found in _limited_lists(item)]
    if not isinstance(schema, dict):
        return []
    own = [schema] if "maxItems" in schema and "prefixItems" not in schema else []  # not pairs
    return own + [found for value in schema.values() for found in _limited_lists(value)]


def test_every_list_limit_is_documented_in_the_schema() -> None:
    schema = json.loads((REPO / "schema/brief.schema.json").read_text(encoding="utf-8"))
    limited = _limited_lists(schema)
    assert len(limited) >= 15
    for part in limited:
        assert re.search(rf"\b(at most|to) {part['maxItems']}\b", part.get("description", "")), part


@pytest.mark.parametrize(("line", "message"), [
    ('summary: "See [x](https://[::1/) now"',
     "summary: links to 'https://[::1/'; a brief may link only to http(s) and mailto: addresses"),
    ("summary: See <https://[x> now",
     "summary: links to 'https://[x'; a brief may link only to http(s) and mailto: addresses"),
])
def test_an_ill_formed_url_in_markdown_is_a_positioned_error(project: TmpProject, line: str,
                                                             message: str) -> None:
    """urlsplit raises on an unbalanced '[': check said so with a traceback."""
    text = (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "summary: One paragraph of summary.", line)
    project.write("a.yaml", text)
    result = project.run("check")
    assert result.code == 1
    assert "Traceback" not in result.err
    assert result.err.splitlines()[0].split(": ", 1)[1].startswith(message)


def test_an_ill_formed_source_url_is_refused_by_check(project: TmpProject) -> None:
    """A source URL that check let through made the build's link check raise."""
    text = (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "    credibility: 2\n", '    credibility: 2\n    url: "https://["\n')
    assert 'url: "https://["' in text
    path = project.write("a.yaml", text)
    line = text.splitlines().index('    url: "https://["') + 1
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        f"briefs/a.yaml:{line}:10: sources[0].url: 'https://[' is not a well-formed web address "
        "(e.g. https://example.org/report)")
    assert path.exists()


def test_an_argument_cannot_forge_output_lines(project: TmpProject) -> None:
    result = project.run("check", "--zz=\nbriefs/forged.yaml:1:1:\x1b[31mX")
    assert result.code == 2
    assert result.err == ("build.py check: error: an argument holds control characters: "
                          "--zz=\\nbriefs/forged.yaml:1:1:\\x1b[31mX\n")


def test_max_brief_bytes_is_bounded(project: TmpProject) -> None:
    """A huge limit made the loader raise OverflowError or MemoryError."""
    (project.root / "site.yaml").write_text("max_brief_bytes: 1000000000000000000000000000000\n")
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "site.yaml:1:18: max_brief_bytes: Input should be less than or equal to 67108864")


def test_html_only_build_does_not_claim_restricted_pdfs(project: TmpProject) -> None:
    project.write("r.yaml", (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "status: final", "status: final\ntlp: TLP:RED"))
    result = project.run("--no-pdf", "-j", "1")
    assert result.code == 0
    assert "1 restricted (left off the site; no PDF made)" in result.out


@pytest.mark.parametrize(("name", "content", "message"), [
    ("doctype.svg", b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
                    b'<svg xmlns="http://www.w3.org/2000/svg">&a;</svg>',
     "an SVG may not have a DOCTYPE (its entities could expand without bound)"),
    ("broken.png", b"\x89PNG\r\n\x1a\nnot really a png",
     "the file is not an image that can be drawn (PNG, JPEG, GIF, WebP or SVG)"),
    ("a" * 230 + ".png", b"x",
     "the file name of 'assets/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…' is longer than 200 bytes; "
     "rename the file"),
])
def test_a_map_image_the_build_could_not_draw_is_refused_by_check(
        project: TmpProject, name: str, content: bytes, message: str) -> None:
    """What check accepts, the build builds: these failed only at build time."""
    (project.root / "assets").mkdir()
    (project.root / "assets" / name).write_bytes(content)
    project.write("m.yaml", (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "summary: One paragraph of summary.\n",
        f"summary: One paragraph of summary.\nmap:\n  image: assets/{name}\n  alt: A map.\n"
        "  credit: Test desk\n"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0].endswith(f" map.image: {message}"), result.err


@pytest.mark.parametrize("merged", ["5", "[1, 2]"])
def test_a_merge_key_of_anything_but_mappings_is_an_error_not_dropped(project: TmpProject,
                                                                     merged: str) -> None:
    project.write("a.yaml", (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "summary: One paragraph of summary.", f"summary: One paragraph of summary.\n<<: {merged}"))
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0].endswith(
        ": <<: a merge key '<<' takes a mapping or a list of mappings (e.g. '<<: *defaults'); "
        "nothing else can be merged")
