"""Indicators: validated per type, shown defanged and never linked, exported as STIX 2.1
and CSV beside the brief's PDF, and gated by the label each export carries."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from pathlib import Path

import pytest
import stix2
from hypothesis import given, strategies as st
from pypdf import PdfReader

from conftest import SCENARIOS, TmpProject, pdf_pages_text
from fieldbrief.policy import STIX_TLP_MARKINGS
from fieldbrief.render_indicators import FORMULA_STARTS, defang, safe_cell
from fieldbrief import render_site
from fieldbrief.render_site import SitePage
from fieldbrief.validate import indicator_problem

SCENARIO = "cyber_incident_indicators.yaml"
BRIEF_ID = "exercise-cyber-incident-indicators"
RAW_VALUES = ("salt-tide-pay.example", "https://update.velande-cdn.example/patch.exe",
              "192.0.2.44", "billing-support@velande-cdn.example")
DEFANGED = ("salt-tide-pay[.]example", "hxxps://update[.]velande-cdn[.]example/patch[.]exe",
            "192.0.2[.]44", "2001:db8:[:]7", "billing-support[@]velande-cdn[.]example")


def clear_variant() -> str:
    """The scenario at TLP:CLEAR, so that the site publishes it."""
    text = (SCENARIOS / SCENARIO).read_text(encoding="utf-8")
    return re.sub(r"tlp: TLP:AMBER\+STRICT\nhandling_note: .*\n", "tlp: TLP:CLEAR\n", text)


def csv_rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def test_an_amber_strict_brief_exports_its_indicators_beside_its_restricted_pdf(
        project: TmpProject) -> None:
    project.add(SCENARIO)
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    restricted = project.root / "restricted"
    assert sorted(p.name for p in restricted.glob(f"{BRIEF_ID}*")) == [
        f"{BRIEF_ID}-indicators.csv", f"{BRIEF_ID}.pdf", f"{BRIEF_ID}.stix.json"]
    assert not (project.root / "site/briefs").exists()
    bundle = stix2.parse((restricted / f"{BRIEF_ID}.stix.json").read_text(), allow_custom=True)
    marking = STIX_TLP_MARKINGS["TLP:AMBER+STRICT"]
    assert [o.name for o in bundle.objects if o.type == "marking-definition"] == ["TLP:AMBER+STRICT"]
    assert all(o.object_marking_refs == [marking] and o.labels == ["fieldbrief-status:final"]
               for o in bundle.objects if o.type != "marking-definition")
    patterns = [o.pattern for o in bundle.objects if o.type == "indicator"]
    assert patterns[:4] == ["[domain-name:value = 'salt-tide-pay.example']",
                            "[url:value = 'https://update.velande-cdn.example/patch.exe']",
                            "[ipv4-addr:value = '192.0.2.44']", "[ipv6-addr:value = '2001:db8::7']"]
    assert patterns[-1] == "[file:name = '-patch\\'d.exe']"
    rows = csv_rows(restricted / f"{BRIEF_ID}-indicators.csv")
    assert rows[0] == ["tlp", "status", "type", "value", "defanged", "note", "sources"]
    assert {row[0] for row in rows[1:]} == {"TLP:AMBER+STRICT"}
    assert rows[1] == ["TLP:AMBER+STRICT", "final", "domain", "salt-tide-pay.example", "salt-tide-pay[.]example",
                       "Payment portal named in the ransom note.", "[3] Victim listing for Velande Water"]


def test_the_same_brief_gives_the_same_exports(project: TmpProject) -> None:
    project.add(SCENARIO)
    assert project.run("-j", "1", "--no-pdf").code == 0
    first = {p.name: p.read_bytes() for p in (project.root / "restricted").glob(f"{BRIEF_ID}*")}
    assert project.run("-j", "1", "--no-pdf", "--force").code == 0
    again = {p.name: p.read_bytes() for p in (project.root / "restricted").glob(f"{BRIEF_ID}*")}
    assert first == again and len(first) == 2


def test_a_clear_brief_publishes_defanged_unlinked_indicators_and_its_exports(
        project: TmpProject) -> None:
    project.write(SCENARIO, clear_variant())
    result = project.run("-j", "1")
    assert result.code == 0, result.err
    folder = project.root / "site/briefs" / BRIEF_ID
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{BRIEF_ID}-indicators.csv", f"{BRIEF_ID}.json", f"{BRIEF_ID}.pdf", f"{BRIEF_ID}.stix.json",
        "index.html"]
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert '<li><a href="#indicators">Indicators</a></li>' in page
    section = page[page.index('<section class="indicators"'):page.index("</section>", page.index('id="indicators"'))]
    for shown in DEFANGED:
        assert f"<code translate=\"no\">{shown}</code>" in section
    assert not any(raw in page for raw in RAW_VALUES)
    hrefs = re.findall(r'href="([^"]*)"', section)
    assert [href for href in hrefs if not href.startswith("#")] == [  # the rest: anchor, citations
        f"{BRIEF_ID}.stix.json", f"{BRIEF_ID}-indicators.csv"]
    assert '<a href="#indicator-2">Indicator 2</a>' in page  # back-link from source notes
    stix = json.loads((folder / f"{BRIEF_ID}.stix.json").read_text())
    assert {ref for o in stix["objects"] for ref in o.get("object_marking_refs", [])} == {
        STIX_TLP_MARKINGS["TLP:CLEAR"]}
    pdf = folder / f"{BRIEF_ID}.pdf"
    text = " ".join(pdf_pages_text(pdf))
    for shown in ("salt-tide-pay[.]example", "192.0.2[.]44", "billing-support[@]velande-"):
        assert shown in text
    assert not any(raw in text for raw in ("salt-tide-pay.example", "192.0.2.44", "https://update"))
    assert _pdf_uris(PdfReader(pdf)) == []


def test_a_draft_briefs_exports_say_it_is_a_draft(project: TmpProject) -> None:
    """A draft published with --drafts carried 'draft' on its page and PDF, but its STIX
    bundle and CSV looked final to every tool that reads them."""
    project.write(SCENARIO, clear_variant().replace("status: final\n", "status: draft\n", 1))
    result = project.run("-j", "1", "--no-pdf", "--drafts")
    assert result.code == 0, result.err
    folder = project.root / "site/briefs" / BRIEF_ID
    stix = json.loads((folder / f"{BRIEF_ID}.stix.json").read_text())
    assert {tuple(o.get("labels", ())) for o in stix["objects"]} == {
        ("fieldbrief-status:draft",), ()}  # () for the marking definition
    rows = csv_rows(folder / f"{BRIEF_ID}-indicators.csv")
    assert {(row[0], row[1]) for row in rows[1:]} == {("TLP:CLEAR", "draft")}


def _pdf_uris(reader: PdfReader) -> list[str]:
    return [str(annotation.get_object()["/A"].get_object()["/URI"])
            for page in reader.pages for annotation in page.get("/Annots") or []
            if "/A" in annotation.get_object() and "/URI" in annotation.get_object()["/A"].get_object()]


def test_a_spreadsheet_runs_no_cell_of_the_indicator_csv(project: TmpProject) -> None:
    project.add(SCENARIO)
    assert project.run("-j", "1", "--no-pdf").code == 0
    rows = csv_rows(project.root / "restricted" / f"{BRIEF_ID}-indicators.csv")
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)
    assert rows[5][5].startswith("'=sender of the phishing mail")
    assert rows[-1][3:5] == ["'-patch'd.exe", "'-patch'd.exe"]


@given(st.text())
def test_no_csv_cell_starts_like_a_formula(text: str) -> None:
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell in (text, "'" + text)


@given(st.from_regex(r"\A(https?|ftp)://[a-z0-9-]{1,10}(\.[a-z0-9-]{1,10}){1,3}(/[a-z0-9./-]{0,12})?\Z"))
def test_a_defanged_url_is_never_an_address(url: str) -> None:
    shown = defang("url", url)
    assert shown.startswith(("hxxp://", "hxxps://", "fxp://"))
    assert not re.match(r"(?i)(https?|ftp)://", shown)
    host = shown.split("://", 1)[1].split("/", 1)[0]
    assert "[.]" in host


@given(st.ip_addresses())
def test_a_defanged_ip_address_is_not_an_address(address: object) -> None:
    shown = defang("ip", str(address))
    assert "[" in shown
    with pytest.raises(ValueError):
        ipaddress.ip_address(shown)


# --- bad input ----------------------------------------------------------------------------

BAD = """\
indicators:
  - type: ip
    value: 999.1.1.1
    sources: [cert-advisory]
  - type: sha256
    value: 3f0c1a9e5b7d
    sources: [cert-advisory]
  - type: url
    value: evil.example/login
    sources: [cert-advisory]
  - type: domain
    value: evil[.]example
    sources: [cert-advisory]
  - type: email
    value: not-an-address
    sources: [cert-advisory]
  - type: file name
    value: C:\\\\Temp\\\\drop.exe
    sources: [cert-advisory]
  - type: md5
    value: 0123456789abcdef0123456789abcdeg
    sources: [cert-advisory]
  - type: domain
    value: salt-tide-pay.example
    sources: [cert-advisoyr]
  - type: hash
    value: x
    sources: [cert-advisory]
  - type: domain
    value: Salt-Tide-Pay.example
    sources: [leak-post]
"""


def test_each_wrong_indicator_is_reported_at_its_value(project: TmpProject) -> None:
    text = clear_variant()
    text = text[:text.index("indicators:")] + BAD + text[text.index("sources:\n  - id:"):]
    project.write("bad.yaml", text)
    result = project.run("check", "briefs/bad.yaml")
    assert result.code == 1
    start = text.count("\n", 0, text.index("indicators:")) + 1
    f = "briefs/bad.yaml"
    assert result.err.splitlines() == [
        f"{f}:{start + 24}:15: indicators[7].sources[0]: unknown source 'cert-advisoyr'; "
        "did you mean 'cert-advisory'?",
        f"{f}:{start + 25}:11: indicators[8].type: 'hash' is not allowed; use one of 'domain', 'ip', "
        "'url', 'email', 'md5', 'sha1', 'sha256' or 'file name'",
        "error: 2 problems in 1 file; nothing was written",
    ]
    # an all-digit hash is kept as written, though YAML reads it as a number
    fixed = text.replace("type: hash", "type: md5").replace("value: x\n", "value: 00000000000000000000000000000000\n")
    project.write("bad.yaml", fixed.replace("cert-advisoyr", "cert-advisory"))
    result = project.run("check", "briefs/bad.yaml")
    assert result.err.splitlines() == [
        f"{f}:{start + 2}:12: indicators[0].value: '999.1.1.1' is not an IP address; write an IPv4 "
        "address as 192.0.2.1, an IPv6 address as 2001:db8::1, or a network as 192.0.2.0/24",
        f"{f}:{start + 5}:12: indicators[1].value: '3f0c1a9e5b7d' is not a sha256 hash: a sha256 "
        "hash has 64 hexadecimal digits, this has 12",
        f"{f}:{start + 8}:12: indicators[2].value: 'evil.example/login' is not a URL: it has no "
        "scheme; write it whole, e.g. 'http://evil.example/login'",
        f"{f}:{start + 11}:12: indicators[3].value: 'evil[.]example' is written defanged; write the "
        "indicator as it is (example.com, http://...): fieldbrief defangs it wherever it is shown",
        f"{f}:{start + 14}:12: indicators[4].value: 'not-an-address' is not an email address; "
        "write it as name@example.com",
        f"{f}:{start + 17}:12: indicators[5].value: 'C:\\\\Temp\\\\drop.exe' is a path, not a file "
        "name; give the name only ('drop.exe')",
        f"{f}:{start + 20}:12: indicators[6].value: '0123456789abcdef0123456789abcdeg' is not an "
        "md5 hash: it has characters that are not hexadecimal digits (0-9, a-f)",
        f"{f}:{start + 29}:12: indicators[9].value: domain 'Salt-Tide-Pay.example' is listed twice "
        "(first at indicators[7]); give it once, citing every source",
        "error: 8 problems in 1 file; nothing was written",
    ]


# --- the publishing gate ------------------------------------------------------------------

def bundle(marking: str, labels: list[str]) -> str:
    """A bundle of one indicator marked with ``marking`` and labelled ``labels``."""
    return json.dumps({"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "indicator", "id": "indicator--1", "object_marking_refs": [marking],
         "labels": labels}]})


RED_BUNDLE = bundle(STIX_TLP_MARKINGS["TLP:RED"], ["fieldbrief-status:final"])
UNMARKED_BUNDLE = bundle("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
                         ["fieldbrief-status:final"])
DRAFT_BUNDLE = bundle(STIX_TLP_MARKINGS["TLP:CLEAR"], ["fieldbrief-status:draft"])
NO_STATUS_BUNDLE = bundle(STIX_TLP_MARKINGS["TLP:CLEAR"], ["final"])


@pytest.mark.parametrize(("name", "content", "reason"), [
    (f"briefs/{BRIEF_ID}/x.stix.json", RED_BUNDLE,
     "it is labelled TLP:RED, and this site publishes TLP:CLEAR only"),
    (f"briefs/{BRIEF_ID}/x.stix.json", UNMARKED_BUNDLE,
     "it is an indicator export without its handling label and status on every item"),
    (f"briefs/{BRIEF_ID}/x.stix.json", DRAFT_BUNDLE,
     "its status is draft, and drafts are published only with --drafts"),
    (f"briefs/{BRIEF_ID}/x.stix.json", NO_STATUS_BUNDLE,
     "it is an indicator export without its handling label and status on every item"),
    (f"briefs/{BRIEF_ID}/x.csv", "tlp,status,type,value\r\nTLP:CLEAR,final,ip,192.0.2.1\r\n"
     "TLP:AMBER,final,ip,192.0.2.2\r\n",
     "it is labelled TLP:AMBER, and this site publishes TLP:CLEAR only"),
    (f"briefs/{BRIEF_ID}/x.csv", "tlp,status,type,value\r\nTLP:CLEAR,draft,ip,192.0.2.1\r\n",
     "its status is draft, and drafts are published only with --drafts"),
    (f"briefs/{BRIEF_ID}/x.csv", "tlp,type,value\r\nTLP:CLEAR,ip,192.0.2.1\r\n",
     "it is an indicator export without its handling label and status on every item"),
    (f"briefs/{BRIEF_ID}/x.csv", "type,value\r\nip,192.0.2.1\r\n",
     "it is an indicator export without its handling label and status on every item"),
    ("x.stix.json", bundle(STIX_TLP_MARKINGS["TLP:CLEAR"], ["fieldbrief-status:final"]),
     "it is an indicator export outside a brief's folder (beside its brief page)"),
])
def test_the_gate_refuses_an_indicator_export_whose_own_label_the_site_may_not_carry(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch, name: str, content: str,
        reason: str) -> None:
    """However an export reaches the staging folder, the label it carries itself decides."""
    project.write(SCENARIO, clear_variant())
    real_pages = render_site.site_pages

    def pages_with_an_export(*args, **kwargs):  # type: ignore[no-untyped-def]
        yield from real_pages(*args, **kwargs)
        yield SitePage(name, "smuggled", lambda: content.encode())

    monkeypatch.setattr(render_site, "site_pages", pages_with_an_export)
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: the site may not carry {name}: {reason}; nothing was written")
    assert not (project.root / "site").exists()


def test_the_gate_refuses_a_stix_bundle_rendered_with_the_wrong_label(
        project: TmpProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A renderer mistake (the bundle marked with another label than the brief's) is caught."""
    from fieldbrief import render_indicators
    project.write(SCENARIO, clear_variant())
    real_bundle = render_indicators.stix_bundle
    monkeypatch.setattr(render_indicators, "stix_bundle", lambda brief: real_bundle(
        brief.model_copy(update={"tlp": "TLP:AMBER"})))
    result = project.run("-j", "1", "--no-pdf")
    assert result.code == 1
    assert result.err.splitlines()[-1] == (
        f"error: the site may not carry briefs/{BRIEF_ID}/{BRIEF_ID}.stix.json: it is labelled "
        "TLP:AMBER, and this site publishes TLP:CLEAR only; nothing was written")


@pytest.mark.parametrize(("kind", "value"), [
    ("domain", "evil\u3002example\u3002com"), ("url", "http://evil\uff0eexample\uff0enet/x"),
    ("file name", "invoice\u202efdp.exe"), ("file name", "  "), ("domain", "ｅｖｉｌ.example"),
    ("url", "http://evil.example.com\\@good.example/"),
])
def test_an_indicator_in_disguise_is_refused(kind: str, value: str) -> None:
    """Look-alike dots showed undefanged; a direction override showed 'invoiceexe.pdf'."""
    assert indicator_problem(kind, value) is not None


def test_every_address_inside_a_url_indicator_is_defanged() -> None:
    shown = defang("url", "http://a.example/redirect?u=https://evil.example.com/x#www.e.com")
    assert shown == "hxxp://a[.]example/redirect?u=hxxps[:]//evil[.]example[.]com/x#www[.]e[.]com"


def test_a_markdown_link_to_an_indicator_is_refused(project: TmpProject) -> None:
    """An autolink in a note made the dropper's URL a live link on the page and in the PDF."""
    text = (SCENARIOS / "valid_minimal.yaml").read_text().replace(
        "sources:\n  - id: only-source", "indicators:\n  - type: url\n"
        "    value: http://update.velande-cdn.example/patch.exe\n    sources: [only-source]\n"
        "  - type: file name\n    value: patch.exe\n"
        "    note: Dropper at <http://update.velande-cdn.example/patch.exe>\n"
        "    sources: [only-source]\nsources:\n  - id: only-source", 1)
    project.write("a.yaml", text)
    result = project.run("check")
    assert result.code == 1
    assert result.err.splitlines()[0].endswith(
        ": indicators[1].note: links to 'http://update.velande-cdn.example/patch…', an address "
        "the brief lists as an indicator; an indicator is never a link: write it in the "
        "indicators, where it is shown defanged")


def test_a_csv_cell_with_a_formula_after_spaces_is_defused() -> None:
    assert safe_cell(" =cmd|'C calc'!A0") == "' =cmd|'C calc'!A0"
