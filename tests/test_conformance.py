"""What we publish, checked as independent validators check it.

- PDF/UA-1 and PDF/A-3b, structurally: each example brief's PDF in every variant
  (default, ``pdf/ua-1``, ``pdf/a-3b``) is read back with pypdf and its structure tree
  walked, rule by rule of veraPDF's validation profiles (the rule numbers in the
  messages are theirs; README.md lists which ones this covers).
- HTML: the W3C Nu HTML checker (npm's ``vnu-jar``, run by Java) over every built page,
  in one Java process.
- What the site tells readers and crawlers: a meta description on every page, and a feed
  whose self link is absolute or absent.

The example site is built once per variant for this module.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from xml.etree import ElementTree
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from conftest import REPO
from fieldbrief.cli import main

VARIANTS = ("default", "pdf/ua-1", "pdf/a-3b")
BRIEFS = sorted(path.stem for path in (REPO / "briefs").glob("*.yaml"))
ATOM = "{http://www.w3.org/2005/Atom}"
VNU_JAR = REPO / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"

# The standard structure types of ISO 32000-1 (14.8.4): anything else needs a RoleMap (7.1-5).
STANDARD_TYPES = {
    "Document", "Part", "Art", "Sect", "Div", "BlockQuote", "Caption", "TOC", "TOCI", "Index",
    "NonStruct", "Private", "P", "H", "H1", "H2", "H3", "H4", "H5", "H6", "L", "LI", "Lbl",
    "LBody", "Table", "TR", "TH", "TD", "THead", "TBody", "TFoot", "Span", "Quote", "Note",
    "Reference", "BibEntry", "Code", "Link", "Annot", "Ruby", "RB", "RT", "RP", "Warichu",
    "WT", "WP", "Figure", "Formula", "Form"}
# PDF/UA-1 7.2: which parents an element may have, and which children.
ALLOWED_PARENTS = {
    "LI": ({"L"}, "7.2-17"), "LBody": ({"LI"}, "7.2-18"),
    "TR": ({"Table", "THead", "TBody", "TFoot"}, "7.2-4"), "THead": ({"Table"}, "7.2-5"),
    "TBody": ({"Table"}, "7.2-6"), "TFoot": ({"Table"}, "7.2-7"), "TH": ({"TR"}, "7.2-8"),
    "TD": ({"TR"}, "7.2-9"), "TOCI": ({"TOC"}, "7.2-26")}
ALLOWED_CHILDREN = {
    "Table": ({"TR", "THead", "TBody", "TFoot", "Caption"}, "7.2-3"),
    "TR": ({"TH", "TD"}, "7.2-10"), "L": ({"L", "LI", "Caption"}, "7.2-19"),
    "LI": ({"Lbl", "LBody"}, "7.2-20"), "THead": ({"TR"}, "7.2-36"),
    "TBody": ({"TR"}, "7.2-37"), "TFoot": ({"TR"}, "7.2-38"),
    "TOC": ({"TOC", "TOCI", "Caption"}, "7.2-27")}


@pytest.fixture(scope="module")
def sites(example_site: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example briefs built in each variant (the default one is the session's)."""
    built = {"default": example_site}
    for variant in VARIANTS[1:]:
        site = tmp_path_factory.mktemp("conformance") / "site"
        err = io.StringIO()
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(REPO)
            code = main(["--out", str(site), "--pdf-variant", variant],
                        stdout=io.StringIO(), stderr=err)
        assert code == 0, err.getvalue()
        built[variant] = site
    return built


def _pdf(sites: dict[str, Path], variant: str, brief: str) -> PdfReader:
    return PdfReader(sites[variant] / "briefs" / brief / f"{brief}.pdf")


# --- reading a structure tree ---------------------------------------------------------

def _kids(element: DictionaryObject) -> list[object]:
    """An element's /K as a list: struct elements, marked-content ids and object refs."""
    kids = element.get("/K")
    if kids is None:
        return []
    kids = kids.get_object()
    return [kid.get_object() for kid in kids] if isinstance(kids, ArrayObject) else [kids]


def _elements(root: DictionaryObject) -> Iterator[tuple[DictionaryObject, DictionaryObject]]:
    """Every structure element below the root, with its parent, depth first."""
    waiting = [(kid, root) for kid in reversed(_kids(root))]
    while waiting:
        element, parent = waiting.pop()
        if isinstance(element, DictionaryObject) and "/S" in element:
            yield element, parent
            waiting.extend((kid, element) for kid in reversed(_kids(element)))


def _type(element: DictionaryObject) -> str:
    return str(element["/S"])[1:]


def _same(one: object, other: object) -> bool:
    return getattr(one, "indirect_reference", one) == getattr(other, "indirect_reference", other)


# --- the rules --------------------------------------------------------------------------

def structure_problems(reader: PdfReader) -> list[str]:
    """Problems of the document's tagging, each prefixed with the profile rule it breaks."""
    catalog = reader.trailer["/Root"]
    if "/StructTreeRoot" not in catalog:
        return ["7.1-11: no structure tree"]
    root = catalog["/StructTreeRoot"].get_object()
    problems = _catalog_problems(catalog)
    elements = list(_elements(root))
    headings = []
    for element, parent in elements:
        kind, parent_kind = _type(element), str(parent.get("/S", "/StructTreeRoot"))[1:]
        children = [_type(kid) for kid in _kids(element) if isinstance(kid, DictionaryObject)
                    and "/S" in kid]
        if kind not in STANDARD_TYPES:
            problems.append(f"7.1-5: {kind} is not a standard structure type")
        if not _same(element.get("/P"), parent):
            problems.append(f"7.1-12: {kind} does not name its parent {parent_kind} in /P")
        if kind in ALLOWED_PARENTS and parent_kind not in ALLOWED_PARENTS[kind][0]:
            problems.append(f"{ALLOWED_PARENTS[kind][1]}: {kind} inside {parent_kind}")
        if kind in ALLOWED_CHILDREN and set(children) - ALLOWED_CHILDREN[kind][0]:
            problems.append(f"{ALLOWED_CHILDREN[kind][1]}: {kind} holds {children}")
        if kind == "L" and "Caption" in children[1:]:
            problems.append("7.2-40: a list's Caption is not its first kid")
        if kind == "Figure" and not ("/Alt" in element or "/ActualText" in element):
            problems.append("7.3-1: a Figure without Alt or ActualText")
        if re.fullmatch(r"H[1-6]", kind):
            headings.append(int(kind[1]))
    problems += _heading_problems(headings)
    problems += _id_problems(root, [element for element, _ in elements])
    return problems


def _catalog_problems(catalog: DictionaryObject) -> list[str]:
    problems = []
    if not catalog.get("/MarkInfo", {}).get("/Marked"):
        problems.append("6.2-1: MarkInfo /Marked is not true")
    if not catalog.get("/ViewerPreferences", {}).get("/DisplayDocTitle"):
        problems.append("7.1-10: ViewerPreferences /DisplayDocTitle is not true")
    if not str(catalog.get("/Lang", "")):
        problems.append("7.2-34: the catalog names no language")
    return problems


def _heading_problems(levels: list[int]) -> list[str]:
    """7.4.2-1: the first heading is H1, and no heading skips a level on the way down."""
    problems = [] if not levels or levels[0] == 1 else [f"7.4.2-1: the first heading is H{levels[0]}"]
    problems += [f"7.4.2-1: H{after} follows H{before}"
                 for before, after in zip(levels, levels[1:]) if after > before + 1]
    return problems


def _id_problems(root: DictionaryObject, elements: list[DictionaryObject]) -> list[str]:
    """ISO 32000-1 Table 322: elements with an /ID are found through the root's /IDTree; and
    (7.5-1) every /Headers entry of a cell names such an ID."""
    ids = {str(element["/ID"]): element for element in elements if "/ID" in element}
    tree = root.get("/IDTree")
    if not ids:
        return []
    if tree is None:
        return [f"ISO 32000-1 Table 322: {len(ids)} elements have an /ID, the root no /IDTree"]
    names = tree.get_object()["/Names"]
    listed = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    problems = [f"/IDTree: {key} does not lead to its element" for key, element in ids.items()
                if not _same(listed.get(key), element)]
    if [str(key) for key in names[::2]] != sorted(listed, key=str.encode):
        problems.append("/IDTree: names are not in order")
    for element in elements:
        attributes = element.get("/A")
        headers = attributes.get_object().get("/Headers", []) if attributes else []
        problems += [f"7.5-1: a cell names the header {header}, which no element has"
                     for header in headers if str(header) not in ids]
    return problems


def annotation_problems(reader: PdfReader) -> list[str]:
    """7.18.1-2, 7.18.3-1, 7.18.5-1 and 7.18.5-2: every link is tagged as a Link and
    described in words, and every page with annotations sets its tab order."""
    parents = _parent_tree(reader)
    problems = []
    for number, page in enumerate(reader.pages, start=1):
        annotations = [annotation.get_object() for annotation in page.get("/Annots", [])]
        if annotations and page.get("/Tabs") != "/S":
            problems.append(f"7.18.3-1: page {number} has annotations, no /Tabs /S")
        for annotation in annotations:
            if annotation.get("/Subtype") != "/Link":
                continue
            element = parents.get(annotation.get("/StructParent"))
            if element is None or _type(element) != "Link":
                problems.append(f"7.18.5-1: a link on page {number} is not in a Link element")
            description = str(annotation.get("/Contents", ""))
            target = annotation.get("/A", {}).get("/URI", annotation.get("/Dest", ""))
            if not description.strip() or description == str(target):
                problems.append(f"7.18.5-2: the link to {target} on page {number} is "
                                f"described as {description!r}")
    return problems


def _parent_tree(reader: PdfReader) -> dict[int, DictionaryObject]:
    """The structure tree's /ParentTree, from struct-parent key to element (a flat /Nums)."""
    root = reader.trailer["/Root"].get("/StructTreeRoot")
    numbers = root["/ParentTree"].get_object()["/Nums"] if root is not None else []
    return {int(numbers[i]): numbers[i + 1].get_object() for i in range(0, len(numbers), 2)
            if isinstance(numbers[i + 1], (IndirectObject, DictionaryObject))}


def font_problems(reader: PdfReader) -> list[str]:
    """7.21.4.1-1 (PDF/A-3b 6.2.11.4.1-1): every font's program is embedded."""
    problems = []
    for page in reader.pages:
        fonts = page.get("/Resources", {}).get("/Font", {})
        for name, font in fonts.items():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor", {})
            if not {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor):
                problems.append(f"7.21.4.1-1: font {font.get('/BaseFont', name)} is not embedded")
    return sorted(set(problems))


def attachment_problems(reader: PdfReader) -> list[str]:
    """PDF/A-3b 6.8-1 to 6.8-4 and PDF/UA-1 7.11-1: each attachment names its file (F, UF),
    its media type and its relationship, and is associated with the document (/AF)."""
    catalog = reader.trailer["/Root"]
    names = catalog.get("/Names", {}).get("/EmbeddedFiles", {}).get("/Names", [])
    associated = [entry.get_object() for entry in catalog.get("/AF", [])]
    problems = []
    for spec in (names[i + 1].get_object() for i in range(0, len(names), 2)):
        name = str(spec.get("/UF", ""))
        if not (str(spec.get("/F", "")) and name):
            problems.append(f"6.8-2, 7.11-1: an attachment without both F and UF: {name!r}")
        subtype = str(spec["/EF"]["/F"].get_object().get("/Subtype", ""))
        if not re.fullmatch(r"/[-\w+.]+/[-\w+.]+", subtype.replace("#2f", "/").replace("#2F", "/")):
            problems.append(f"6.8-1: {name} has no media type")
        if "/AFRelationship" not in spec:
            problems.append(f"6.8-3: {name} has no AFRelationship")
        if not any(_same(entry, spec) for entry in associated):
            problems.append(f"6.8-4: {name} is not in the catalog's /AF")
    return problems


def _xmp(reader: PdfReader) -> str:
    return reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()


# --- the tests ------------------------------------------------------------------------------

@pytest.mark.parametrize("brief", BRIEFS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_pdf_structure_tree_follows_pdf_ua_1(sites: dict[str, Path], variant: str,
                                             brief: str) -> None:
    reader = _pdf(sites, variant, brief)
    assert structure_problems(reader) == []
    assert annotation_problems(reader) == []
    assert font_problems(reader) == []


@pytest.mark.parametrize("brief", BRIEFS)
def test_pdf_ua_1_identifies_itself(sites: dict[str, Path], brief: str) -> None:
    """PDF/UA-1 5-1, 5-2, 7.1-8 (XMP metadata) and 7.1-9 (with a dc:title)."""
    xmp = _xmp(_pdf(sites, "pdf/ua-1", brief))
    assert re.search(r'pdfuaid:part="1"|<pdfuaid:part>1</pdfuaid:part>', xmp)
    assert re.search(r"<dc:title>\s*<rdf:Alt>\s*<rdf:li[^>]*>[^<]+</rdf:li>", xmp)


@pytest.mark.parametrize("brief", BRIEFS)
def test_pdf_a_3b_identifies_itself_and_its_attachment(sites: dict[str, Path], brief: str) -> None:
    """PDF/A-3b 6.6.4-1 to 6.6.4-3, 6.2.3 (an output intent) and 6.8-1 to 6.8-4."""
    reader = _pdf(sites, "pdf/a-3b", brief)
    xmp = _xmp(reader)
    assert re.search(r'pdfaid:part="3"|<pdfaid:part>3</pdfaid:part>', xmp)
    assert re.search(r'pdfaid:conformance="B"|<pdfaid:conformance>B</pdfaid:conformance>', xmp)
    assert [intent.get_object()["/S"] for intent in reader.trailer["/Root"]["/OutputIntents"]] \
        == ["/GTS_PDFA1"]
    assert attachment_problems(reader) == []


def test_yaml_attachment_is_application_yaml(sites: dict[str, Path]) -> None:
    reader = _pdf(sites, "pdf/a-3b", "mali-jnim-attacks")
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    files = {str(names[i]): names[i + 1].get_object()["/EF"]["/F"].get_object()
             for i in range(0, len(names), 2)}
    assert files["mali-jnim-attacks.yaml"]["/Subtype"] == "/application/yaml"


def test_pdf_links_are_described_in_the_words_a_reader_sees(sites: dict[str, Path]) -> None:
    reader = _pdf(sites, "pdf/ua-1", "mali-jnim-attacks")
    descriptions = {str(annotation.get_object()["/Contents"]) for page in reader.pages
                    for annotation in page.get("/Annots", [])}
    assert "[1] — Jihadist Attacks Intensify in Mali, Spark Increasing Insecurity" in descriptions
    assert "Key figure 1" in descriptions
    assert not any(description.startswith(("source-", "figure-")) for description in descriptions)


def test_structure_check_finds_what_weasyprint_makes_of_description_lists(tmp_path: Path) -> None:
    """The check itself: a <dl> of <div>s, and an <li> holding paragraphs, as WeasyPrint
    tags them, break the very rules veraPDF reported."""
    from weasyprint import HTML
    html = ('<html lang="en"><head><title>t</title></head><body><h1>t</h1>'
            '<dl><div><dt>a</dt><dd>b</dd></div></dl><ol><li><p>c</p><p>d</p></li></ol></body></html>')
    reader = PdfReader(io.BytesIO(HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")))
    problems = structure_problems(reader)
    assert "7.2-19: L holds ['Div']" in problems
    assert "7.2-17: LI inside Div" in problems
    assert "7.2-20: LI holds ['Lbl', 'P', 'P']" in problems


# --- HTML: the W3C Nu checker -----------------------------------------------------------

def _vnu_command() -> list[str]:
    java = shutil.which("java")
    if java is None or not VNU_JAR.exists():
        pytest.fail("the Nu HTML checker needs Java and node_modules/vnu-jar: run `make test` "
                    "(it installs both), or `npm ci --ignore-scripts` and "
                    "`sudo apt-get install -y default-jre-headless`")
    return [java, "-Xss8m", "-jar", str(VNU_JAR), "--format", "json"]


def test_nu_html_checker_finds_no_error_on_any_page(example_site: Path) -> None:
    pages = sorted(example_site.rglob("*.html"))  # (its CSS checker knows no paged media)
    assert len(pages) > 15
    result = subprocess.run([*_vnu_command(), *map(str, pages)], capture_output=True,
                            text=True, timeout=300, check=False)
    messages = json.loads(result.stderr)["messages"]
    errors = [f"{m.get('url', '').rpartition(str(example_site))[2]}:{m.get('lastLine')}: "
              f"{m['message']}" for m in messages if m["type"] in ("error", "non-document-error")]
    assert errors == []


# --- pages and feed -----------------------------------------------------------------------

def test_every_page_has_a_meta_description(example_site: Path) -> None:
    pages = sorted(example_site.rglob("*.html"))
    described = {page.relative_to(example_site).as_posix(): re.findall(
        r'<meta name="description" content="([^"]+)">', page.read_text()) for page in pages}
    assert [page for page, found in described.items() if len(found) != 1] == []
    assert described["tags/sahel/index.html"] == [
        "sahel: 1 brief, newest first: Coordinated jihadist attacks on military posts in Mali"]
    assert described["search/index.html"] == [
        "Search every brief of Situation briefs for a word, a place, an actor or a source."]


def test_feed_without_base_url_has_no_relative_self_link(example_site: Path) -> None:
    feed = ElementTree.parse(example_site / "feed.xml").getroot()
    assert [link.get("rel") for link in feed.findall(f"{ATOM}link")] == ["alternate"]
