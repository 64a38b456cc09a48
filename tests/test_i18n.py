"""Languages: complete catalogs, pages and PDFs without an English label, CLDR dates, and
right-to-left layout read back from the PDF."""

from __future__ import annotations

import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from pypdf import PdfReader

from fieldbrief.cli import main
from fieldbrief.config import SiteConfig
from fieldbrief.i18n import LOCALE_DIR, catalog_languages, catalog_path
from fieldbrief.load import load_file
from fieldbrief.model import Brief
from fieldbrief.render_html import HtmlRenderer
from fieldbrief.resources import ResourcePolicy
from fieldbrief.validate import SiteRules, validate
from conftest import REPO, TmpProject, pdf_pages_text

TRANSLATED = [language for language in catalog_languages() if language != "en"]
ARABIC_EXAMPLE = "exercise-wadi-samar-drought-ar"
LOCAL_DATES = {"fr": "23 novembre 2026", "ar": "23 نوفمبر 2026", "es": "23 de noviembre de 2026",
               "pt": "23 de novembro de 2026"}
"""The Arabic example's as-of date (2026-11-23T08:00Z) in each language."""


def extracted_messages() -> set[str | tuple[str, ...]]:
    """Every message the templates and the package mark, extracted as `make catalogs` does."""
    with (LOCALE_DIR / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    return {message for _, _, message, _, _ in
            extract_from_dir(str(REPO), method_map, options_map, keywords=keywords) if message}


def read_catalog(language: str) -> Catalog:
    with catalog_path(language).open("rb") as po:
        return read_po(po, locale=language)


def catalog_problems(catalog: Catalog, messages: set[str | tuple[str, ...]]) -> dict[str, list[str]]:
    missing, untranslated, fuzzy = [], [], []
    for message in sorted(messages, key=str):
        entry = catalog.get(message if isinstance(message, str) else message[0])
        key = message if isinstance(message, str) else message[0]
        if entry is None:
            missing.append(key)
        elif entry.fuzzy:
            fuzzy.append(key)
        elif not all(entry.string if isinstance(entry.string, tuple) else (entry.string,)):
            untranslated.append(key)
    return {name: ids for name, ids in
            (("missing", missing), ("untranslated", untranslated), ("fuzzy", fuzzy)) if ids}


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_catalog_translates_every_template_and_label_message(language: str) -> None:
    problems = catalog_problems(read_catalog(language), extracted_messages())
    assert not problems, (f"{catalog_path(language).relative_to(REPO)}: run `make catalogs` and "
                          f"translate: {problems}")


def test_catalog_check_names_a_new_template_string() -> None:
    catalog = read_catalog("fr")
    problems = catalog_problems(catalog, extracted_messages() | {"A new label"})
    assert problems == {"missing": ["A new label"]}


def test_every_language_of_the_issue_has_a_catalog() -> None:
    assert {"fr", "ar", "es", "pt"} <= set(TRANSLATED)


# --- the Arabic example in every language ----------------------------------------------------

class VisibleText(HTMLParser):
    """The text of a page's <body> a reader sees (no scripts or styles)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_body = self.in_body or tag == "body"
        self.skipping += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if self.in_body and not self.skipping:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_labels(language: str) -> set[str]:
    """The fixed words of the English labels the catalog of ``language`` translates (the
    parts of each message between its placeholders and tags, three letters or more)."""
    labels = set()
    for entry in read_catalog(language):
        if not entry.id:
            continue
        english = entry.id if isinstance(entry.id, str) else entry.id[0]
        translated = entry.string if isinstance(entry.string, str) else entry.string[0]
        if english == translated:
            continue
        for fragment in re.split(r"%\(\w+\)[sd]|<[^>]+>", english):
            fragment = fragment.strip(" :;,.·()[]✓“”")
            if len(fragment) >= 3 and fragment not in translated:  # 'Horizon' is French too
                labels.add(fragment)
    return labels


def english_in(text: str, labels: set[str]) -> list[str]:
    return sorted(label for label in labels if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text))


@pytest.fixture(scope="module")
def localized_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Arabic example brief built once in each catalog language (its content stays
    Arabic, so any English on the page is a label that escaped the catalog)."""
    root = tmp_path_factory.mktemp("languages") / "project"
    root.mkdir()
    project = TmpProject(root)
    text = (REPO / "briefs" / f"{ARABIC_EXAMPLE}.yaml").read_text(encoding="utf-8")
    for language in TRANSLATED:
        project.write(f"{language}.yaml", text.replace(f"id: {ARABIC_EXAMPLE}", f"id: in-{language}")
                      .replace("language: ar", f"language: {language}"))
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        code = main([], stdout=out, stderr=err)
    assert (code, err.getvalue()) == (0, "")
    return root / "site"


@pytest.mark.parametrize("language", TRANSLATED)
def test_page_has_no_english_label_and_a_local_date(localized_site: Path, language: str) -> None:
    html = (localized_site / "briefs" / f"in-{language}" / "index.html").read_text(encoding="utf-8")
    text = visible_text(html)
    assert english_in(text, english_labels(language)) == []
    assert LOCAL_DATES[language] in text
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in html


@pytest.mark.parametrize("language", TRANSLATED)
def test_pdf_has_no_english_label_and_local_words(localized_site: Path, language: str) -> None:
    pages = pdf_pages_text(localized_site / "briefs" / f"in-{language}" / f"in-{language}.pdf")
    text = " ".join(pages)
    assert english_in(text, english_labels(language)) == []
    month = LOCAL_DATES[language].split()[-2]  # Arabic runs come out of the PDF in visual order
    assert month in pages[-1], "the running footer's date"
    assert str(len(pages)) in pages[-1]


@pytest.mark.parametrize("language", TRANSLATED)
def test_pdf_declares_the_brief_language(localized_site: Path, language: str) -> None:
    reader = PdfReader(localized_site / "briefs" / f"in-{language}" / f"in-{language}.pdf")
    assert reader.trailer["/Root"]["/Lang"] == language


def french_mali_brief() -> Brief:
    loaded = load_file(REPO / "briefs" / "mali-jnim-attacks-fr.yaml")
    return validate(loaded, SiteRules(ResourcePolicy.for_project(REPO))).brief


def test_french_mali_example_reads_french_and_keeps_its_quotes_in_english(example_site: Path) -> None:
    french = (example_site / "briefs" / "mali-jnim-attacks-fr" / "index.html").read_text(encoding="utf-8")
    text = visible_text(french)
    assert "23 novembre 2026" in text and "2 juin (année non précisée)" in text
    assert ('<blockquote lang="en" dir="auto">The enemy suffered significant losses in every '
            "location where they engaged with the security and defense forces.</blockquote>") in french
    for quote in french_mali_brief().quotes:  # its quotes keep the article's English words
        text = text.replace(quote.text, "")
    assert english_in(text, english_labels("fr")) == []
    pdf = " ".join(pdf_pages_text(example_site / "briefs" / "mali-jnim-attacks-fr" / "mali-jnim-attacks-fr.pdf"))
    assert "Page 1 sur 5" in pdf and "À jour au 23 novembre 2026" in pdf


# --- right to left ----------------------------------------------------------------------------

def text_runs(path: Path, page: int) -> list[tuple[float, float, str]]:
    """(x, y, text) of each text run on a page, x from the page's left edge in points."""
    runs: list[tuple[float, float, str]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip():
            runs.append((cm[0] * tm[4] + cm[2] * tm[5] + cm[4], cm[1] * tm[4] + cm[3] * tm[5] + cm[5],
                         text.strip()))

    PdfReader(path).pages[page].extract_text(visitor_text=visit)
    return runs


def x_of(runs: list[tuple[float, float, str]], text: str) -> float:
    return next(x for x, _, run in runs if run == text)


@pytest.fixture(scope="module")
def arabic_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rtl") / "project"
    root.mkdir()
    TmpProject(root).add(f"{ARABIC_EXAMPLE}.yaml", source=REPO / "briefs")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert main([], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    return root / "site" / "briefs" / ARABIC_EXAMPLE / f"{ARABIC_EXAMPLE}.pdf"


def test_arabic_pdf_headings_sit_on_the_right(arabic_pdf: Path) -> None:
    width = float(PdfReader(arabic_pdf).pages[0].mediabox.width)
    runs = text_runs(arabic_pdf, 0)
    for heading in ("أرقام رئيسية", "ملخص الوضع", "التسلسل الزمني"):
        assert x_of(runs, heading) > width / 2, heading


def test_arabic_pdf_table_reads_from_the_right(arabic_pdf: Path) -> None:
    runs = text_runs(arabic_pdf, 0)
    when, where, what = (x_of(runs, label) for label in ("متى", "أين", "ما الذي حدث"))
    assert when > where > what


def test_arabic_pdf_key_figures_start_on_the_right(arabic_pdf: Path) -> None:
    runs = text_runs(arabic_pdf, 0)
    assert x_of(runs, "12 / 7") > x_of(runs, "18,500") > x_of(runs, "3,200")


def test_arabic_pdf_running_header_mirrors(arabic_pdf: Path) -> None:
    width = float(PdfReader(arabic_pdf).pages[1].mediabox.width)
    runs = text_runs(arabic_pdf, 1)
    title = next(x for x, _, run in runs if "جفاف وادي سمر" in run)
    marking = min(x for x, _, run in runs if run == "TLP:CLEAR")
    assert marking < width / 2 < title


def test_arabic_page_isolates_numbers_and_ids(example_site: Path) -> None:
    html = (example_site / "briefs" / ARABIC_EXAMPLE / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in html
    assert 'dir="rtl" data-pagefind-body>' in html
    assert '<bdi class="source-number">[1]</bdi>' in html
    assert '<blockquote lang="fr" dir="auto">Nous livrons' in html
    assert "<bdi>55–80%</bdi>" in html


def test_a_changed_catalog_changes_the_pages_fingerprint(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Catalogs are inputs of the build record: editing a translation rebuilds the briefs."""
    locale = tmp_path / "locale"
    shutil.copytree(LOCALE_DIR, locale)
    monkeypatch.setattr("fieldbrief.render_html.LOCALE_DIR", locale)
    html = HtmlRenderer(REPO / "templates", SiteConfig(title="Catalogs"), ResourcePolicy.for_project(REPO))
    before = html.templates_digest("brief.html")
    po = locale / "fr" / "LC_MESSAGES" / "messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('"Chiffres clés"', '"Chiffres-clés"'),
                  encoding="utf-8")
    assert html.templates_digest("brief.html") != before


# --- translations of one brief ----------------------------------------------------------------

MINIMAL = (REPO / "tests" / "briefs" / "valid_minimal.yaml").read_text(encoding="utf-8")


def french_of(original: str) -> str:
    return (MINIMAL.replace("id: valid-minimal", "id: minimal-fr")
            .replace("title: Minimal valid brief", "title: Note minimale valide")
            .replace("status: final", f"status: final\nlanguage: fr\ntranslation_of: {original}"))


def test_french_and_english_mali_pages_link_to_each_other(example_site: Path) -> None:
    english = (example_site / "briefs/mali-jnim-attacks/index.html").read_text(encoding="utf-8")
    french = (example_site / "briefs/mali-jnim-attacks-fr/index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" hreflang="fr" href="../mali-jnim-attacks-fr/index.html">' in english
    assert '<link rel="alternate" hreflang="en" href="../mali-jnim-attacks/index.html">' in french
    assert ('<a href="../mali-jnim-attacks-fr/index.html" hreflang="fr" lang="fr">Français</a>'
            in english)
    assert '<span aria-current="page" lang="fr">Français</span>' in french


def test_index_shows_one_entry_with_two_languages(example_site: Path) -> None:
    index = (example_site / "index.html").read_text(encoding="utf-8")
    assert index.count('<li class="brief-card">') == 4  # Mali, Wadi Samar, delta floods, the series
    assert "briefs/mali-jnim-attacks-fr/index.html\">Attaques" not in index
    assert ('<span class="brief-languages"><a class="language-badge" href="briefs/mali-jnim-attacks/'
            'index.html" hreflang="en" lang="en">English</a><a class="language-badge" href="briefs/'
            'mali-jnim-attacks-fr/index.html" hreflang="fr" lang="fr">Français</a></span>') in index
    feed = (example_site / "feed.xml").read_text(encoding="utf-8")
    assert feed.count('<entry xml:lang="fr">') == 1 and feed.count('<entry xml:lang="ar">') == 1


def test_translation_of_an_unknown_brief_is_an_error(project: TmpProject) -> None:
    project.write("fr.yaml", french_of("no-such-brief"))
    result = project.run()
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "briefs/fr.yaml:7:17: translation_of: no brief has the id 'no-such-brief'")


def test_a_translation_less_restricted_than_its_original_is_refused(project: TmpProject) -> None:
    """The same words may not reach the site under a looser label than the original's."""
    project.write("en.yaml", MINIMAL.replace("status: final", "status: final\ntlp: TLP:AMBER"))
    project.write("fr.yaml", french_of("valid-minimal"))
    result = project.run("--no-pdf")
    assert (result.code, result.err.splitlines()[0]) == (1,
        "briefs/fr.yaml:7:17: translation_of: 'valid-minimal' is TLP:AMBER, and a translation "
        "carries the same words: label this brief TLP:AMBER or stricter (it is TLP:CLEAR)")
    assert not (project.root / "site").exists()


def test_a_translation_in_the_language_of_its_original_is_refused(project: TmpProject) -> None:
    project.write("en.yaml", MINIMAL)
    project.write("fr.yaml", french_of("valid-minimal").replace("language: fr", "language: en-GB"))
    result = project.run("check")
    assert (result.code, result.err.splitlines()[0]) == (1,
        "briefs/fr.yaml:7:17: translation_of: 'valid-minimal' is in the same language (en-GB): "
        "a translation is in another")


def test_a_new_translation_rebuilds_its_original_page(project: TmpProject) -> None:
    project.write("en.yaml", MINIMAL)
    assert project.run().code == 0
    project.write("fr.yaml", french_of("valid-minimal"))
    result = project.run()
    assert result.code == 0, result.err
    assert sorted(line.split()[1] for line in result.out.splitlines()
                  if line.startswith("rendered ")) == ["briefs/en.yaml", "briefs/fr.yaml"]
    page = (project.root / "site/briefs/valid-minimal/index.html").read_text(encoding="utf-8")
    assert 'hreflang="fr" href="../minimal-fr/index.html"' in page


# --- words drawn by the map and the series stage ------------------------------------------

def french_issue(name: str) -> str:
    """An issue of the example series, its labels in French (its content stays as written)."""
    return (REPO / "briefs" / f"{name}.yaml").read_text(encoding="utf-8").replace(
        "status: final", "status: final\nlanguage: fr", 1)


@pytest.fixture(scope="module")
def french_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Mali brief in both languages and two issues of a series in French, on a site
    whose own pages are French."""
    root = tmp_path_factory.mktemp("french") / "project"
    root.mkdir()
    project = TmpProject(root)
    project.add("mali-jnim-attacks.yaml", "mali-jnim-attacks-fr.yaml", source=REPO / "briefs")
    for name in ("velande-floods-sitrep-1", "velande-floods-sitrep-2"):
        project.write(f"{name}.yaml", french_issue(name))
    (root / "site.yaml").write_text("title: Notes de situation\nlanguage: fr\n", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        assert main(["--no-pdf"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    return root / "site"


def part(html: str, pattern: str) -> str:
    found = re.search(pattern, html, re.S)
    assert found, pattern
    return found.group(0)


def test_french_mali_map_and_its_text_alternative_read_french(french_site: Path) -> None:
    html = (french_site / "briefs/mali-jnim-attacks-fr/index.html").read_text(encoding="utf-8")
    figure = part(html, r'<figure class="map locator-map".*?</figure>')
    svg_words = " ".join(re.findall(r"<(?:text|title)[^>]*>([^<]*)<", figure))
    assert "Carte de situation" in svg_words and "ALGÉRIE" in svg_words and "SÉNÉGAL" in svg_words
    text = visible_text(f"<body>{figure}</body>")
    assert english_in(text, english_labels("fr")) == []
    assert ("Carte : Mali, et pays voisins : Algérie, Burkina Faso, Côte d’Ivoire, Guinée, Mauritanie, "
            "Niger, Sénégal. Aucun lieu n’est marqué. Barre d’échelle : 500 km.") in text
    assert "projection centrée sur 17,6° N, 4,0° O." in text


def test_an_issue_of_a_series_in_french_has_no_english_label(french_site: Path) -> None:
    html = (french_site / "briefs/velande-floods-sitrep-2/index.html").read_text(encoding="utf-8")
    boxes = [part(html, r'<nav class="series-nav".*?</nav>'),
             part(html, r'<section class="series-changes".*?</section>'),
             *re.findall(r'<span class="figure-change.*?</span>', html),
             *re.findall(r'<p class="judgement-change">.*?</p>', html)]
    text = visible_text("<body>" + " ".join(boxes) + "</body>")
    assert english_in(text, english_labels("fr")) == []
    assert "Changements depuis le n° 1" in text
    assert "4, en hausse par rapport à 2 dans le n° 1 : +2" in text
    assert "probabilité relevée : probable (auparavant : chances à peu près égales)" in text


def test_a_series_page_and_feed_on_a_french_site_have_no_english_label(french_site: Path) -> None:
    page = (french_site / "series/velande-floods/index.html").read_text(encoding="utf-8")
    listing = part(page, r'<ol class="brief-list series-issues">.*?</ol>')
    charts = part(page, r'<section class="series-charts".*?</section>')
    labels = re.findall(r'aria-label="([^"]*)"', charts)
    text = visible_text(f"<body>{listing} {charts} {' '.join(labels)}</body>")
    text = re.sub(r"EXERCISE – [^<]*?\(fictional\)", "", text)  # the issues' own titles
    assert english_in(text, english_labels("fr")) == []
    assert "Premier numéro." in text and "Lire le n° 2" in text
    feed = (french_site / "series/velande-floods/feed.xml").read_text(encoding="utf-8")
    assert "<summary type=\"text\">Premier numéro. " in feed
    assert "Depuis le n° 1 :" in feed


def test_listing_pages_of_a_french_site_name_their_groups_in_french(french_site: Path) -> None:
    """The overviews of countries, tags and months, and each group's page, in the site's language."""
    headings = {folder: re.search(r'<h1 class="index-title">(.*?)</h1>',
                                  (french_site / folder / "index.html").read_text(encoding="utf-8")).group(1)
                for folder in ("countries", "tags", "archive")}
    assert headings == {"countries": "Pays", "tags": "Mots-clés", "archive": "Archives"}
    archive = (french_site / "archive/index.html").read_text(encoding="utf-8")
    assert ">novembre 2026</a>" in archive and "November" not in archive
    mali = (french_site / "countries/ml/index.html").read_text(encoding="utf-8")
    assert '<h1 class="index-title">Mali</h1>' in mali
