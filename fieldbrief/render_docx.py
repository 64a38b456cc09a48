"""Stage 4c, render Word: a validated brief in, the bytes of a .docx out, with python-docx.

For clearance: reviewers comment on and track changes in a Word copy of the brief. It
has the sections of the web page in the same order (render_html decides which), each a
real Word heading (so the navigation pane lists them); key figures, timeline, places,
actors, indicators and revisions as tables; citations as numbers linked to bookmarks on
the source notes. The TLP label and handling note are in the header and footer of every
page, and in the document properties, where the publishing gate reads them back
(``category`` the label, ``contentStatus`` the status); the brief's language is set on
all text, a quote's own language on its words. Its fixed words (headings, table headers,
labels, dates) come from the same catalogs as the page's, in the brief's language.

Rendering is pure: the brief, the build date and the map's bytes (when it is a local
raster image; Word cannot show SVG, so an SVG map is given by its text alternative) come
in, bytes go out. A fixed build date gives byte-identical files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Sequence
from datetime import datetime
from html.parser import HTMLParser

from docx import Document
from docx.document import Document as DocxDocument
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Mm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from fieldbrief.i18n import (ACTOR_KINDS, CONFIDENCE_LEVELS, CREDIBILITY, FIGURE_STATUSES,
                             INDICATOR_TYPES, LIKELIHOOD_TERMS, N_, PAGE_OF, RELIABILITY,
                             SOURCE_KINDS, Localizer, localizer)
from fieldbrief.markup import to_html, to_inline_html
from fieldbrief.model import Brief, Figure, Gap, Source, Statement
from fieldbrief.locator_map import DISCLAIMER, LocatorMap
from fieldbrief.render_html import (brief_sections, country_name, display_date, first_upper, format_coordinates,
                                    format_date, format_period, language_name)
from fieldbrief.render_indicators import defang

TLP_COLOURS = {"TLP:CLEAR": "FFFFFF", "TLP:GREEN": "33FF00", "TLP:AMBER": "FFC000",
               "TLP:AMBER+STRICT": "FFC000", "TLP:RED": "FF2B2B"}
"""FIRST TLP 2.0 label colours, each on black."""
RIGHT_TO_LEFT = {"ar", "fa", "he", "ps", "ur", "yi", "dv", "ckb", "sd", "ug"}
RASTER_TYPES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8")
PAGE_SIZES = {"A4": (Mm(210), Mm(297), Mm(20)), "Letter": (Inches(8.5), Inches(11), Inches(0.8))}
"""Width, height and side margins of each page size."""
Container = DocxDocument | _Cell
LABEL = N_("%(label)s:")
"""A label before its value ('As of:'), with the colon each language puts after it."""
STATUSES = {"draft": N_("Draft"), "final": N_("Final")}
FIGURE_HEADERS = ((N_("Figure"), 2), (N_("What it counts"), 5), (N_("Status"), 2),
                  (N_("Given by"), 2.5), (N_("Sources"), 1.5))
TIMELINE_HEADERS = ((N_("Date"), 2.5), (N_("Event"), 7), (N_("Sources"), 1.5))
INDICATOR_HEADERS = ((N_("Type"), 1.5), (N_("Indicator (defanged)"), 4.5), (N_("Note"), 3.5),
                     (N_("Sources"), 1.5))
PLACE_HEADERS = ((N_("Place"), 2.5), (N_("Country"), 2), (N_("Coordinates"), 2.5), (N_("Note"), 4.5))
ACTOR_HEADERS = ((N_("Actor"), 3.5), (N_("Kind"), 2), (N_("Note"), 6))
REVISION_HEADERS = ((N_("Date"), 3), (N_("Change"), 8))
MAP_ELSEWHERE = N_("(the map itself is on the web page and in the PDF)")


def render_docx(brief: Brief, generated_at: datetime, map_image: bytes | None = None,
                locator: LocatorMap | None = None) -> bytes:
    """The brief as a Word document; ``map_image``: the analyst's map's bytes when it is a
    local file; ``locator``: the generated map, which Word gets as its description."""
    document = Document()
    words = localizer(brief.language)
    _set_page(document, brief.page_size or "A4")
    _set_language(document, brief.language)
    _set_properties(document, brief, generated_at)
    _mark_pages(document, brief, words)
    _title_block(document, brief, words)
    numbers = {source.id: number for number, source in enumerate(brief.sources, 1)}
    writer = _Sections(document, brief, numbers, map_image, locator, words)
    for anchor, heading in brief_sections(brief, with_locator=locator is not None):
        document.add_heading(words.gettext(heading), level=1)
        writer.write(anchor)
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_dates(buffer.getvalue(), generated_at)


# --- the document as a whole -----------------------------------------------------------------

def _set_page(document: DocxDocument, size: str) -> None:
    section = document.sections[0]
    section.page_width, section.page_height, margin = PAGE_SIZES[size]
    section.left_margin = section.right_margin = section.top_margin = section.bottom_margin = margin


def _set_language(document: DocxDocument, tag: str) -> None:
    """The brief's language on all text: the document defaults every run (and, for a
    language written right to left, every paragraph) inherits."""
    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _language_of(run_defaults, tag)
    if tag.split("-")[0] in RIGHT_TO_LEFT:  # paragraphs run from the right
        paragraph_defaults = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
        spacing = paragraph_defaults.find(qn("w:spacing"))  # w:bidi comes before it
        position = list(paragraph_defaults).index(spacing) if spacing is not None else len(paragraph_defaults)
        paragraph_defaults.insert(position, OxmlElement("w:bidi"))


def _language_of(run_properties: object, tag: str) -> None:
    element = run_properties.find(qn("w:lang"))  # type: ignore[attr-defined]
    if element is None:
        element = OxmlElement("w:lang")
        run_properties.append(element)  # type: ignore[attr-defined]
    for attribute in ("w:val", "w:eastAsia", "w:bidi"):
        element.attrib.pop(qn(attribute), None)
    element.set(qn("w:bidi" if tag.split("-")[0] in RIGHT_TO_LEFT else "w:val"), tag)


def _set_properties(document: DocxDocument, brief: Brief, generated_at: datetime) -> None:
    """Title, author and language for Word's Properties; label and status for the gate."""
    properties = document.core_properties
    properties.title = brief.title
    properties.subject = brief.subtitle or ""
    properties.author = brief.prepared_by
    properties.last_modified_by = "fieldbrief"
    properties.language = brief.language
    properties.keywords = ", ".join(brief.tags)
    properties.identifier = brief.id
    properties.category = brief.tlp or ""
    properties.content_status = brief.status
    properties.comments = brief.handling_note or ""
    properties.revision = 1
    moment = generated_at.replace(tzinfo=None)
    properties.created = properties.modified = properties.last_printed = moment


def _mark_pages(document: DocxDocument, brief: Brief, words: Localizer) -> None:
    """The label and handling note at the top and bottom of every page."""
    section = document.sections[0]
    for part, trailer in ((section.header, brief.header_title), (section.footer, None)):
        paragraph = part.paragraphs[0]
        _label(paragraph, brief.tlp or "")
        if brief.handling_note:
            paragraph.add_run(f"  {brief.handling_note}")
        if trailer:
            paragraph.add_run(f"  ·  {trailer}")
        else:
            paragraph.add_run("  ·  ")
            _page_of(paragraph, words.gettext(PAGE_OF))


def _page_of(paragraph: Paragraph, message: str) -> None:
    """'Page %(page)s of %(pages)s' with Word's page fields in place of its placeholders."""
    for index, piece in enumerate(re.split(r"%\((page|pages)\)s", message)):
        if index % 2:
            _field(paragraph, "PAGE" if piece == "page" else "NUMPAGES")
        elif piece:
            paragraph.add_run(piece)


def _label(paragraph: Paragraph, label: str) -> Run:
    run = paragraph.add_run(label)
    run.bold = True
    run.font.color.rgb = RGBColor.from_string(TLP_COLOURS.get(label, "FFFFFF"))
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), "000000")
    run._r.get_or_add_rPr().append(shading)
    return run


def _field(paragraph: Paragraph, code: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), f" {code} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _title_block(document: DocxDocument, brief: Brief, words: Localizer) -> None:
    document.add_heading(brief.title, level=0)
    if brief.subtitle:
        document.add_paragraph(brief.subtitle, style="Subtitle")
    facts = [(N_("As of"), format_date(brief.as_of, words)),
             (N_("Period"), format_period(brief.period, words) if brief.period else None),
             (N_("Countries"), ", ".join(country_name(code, words) for code in brief.countries)),
             (N_("Region"), brief.region), (N_("Prepared by"), brief.prepared_by),
             (N_("Status"), words.label(STATUSES, brief.status)),
             (N_("Language"), language_name(brief.language, words))]
    for name, value in facts:
        if value:
            paragraph = document.add_paragraph()
            _bold_label(paragraph, words, name)
            paragraph.add_run(value)
    paragraph = document.add_paragraph()
    _bold_label(paragraph, words, N_("Handling"))
    _label(paragraph, brief.tlp or "")
    if brief.handling_note:
        paragraph.add_run(f" {brief.handling_note}")


def _bold_label(paragraph: Paragraph, words: Localizer, label: str) -> None:
    paragraph.add_run(words.gettext(LABEL) % {"label": words.gettext(label)} + " ").bold = True


def _fixed_dates(data: bytes, moment: datetime) -> bytes:
    """The .docx with every zip entry dated ``moment`` (python-docx uses the clock)."""
    stamp = max(moment.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(zipfile.ZipInfo(entry.filename, stamp), source.read(entry),
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


# --- the sections ----------------------------------------------------------------------------

class _Sections:
    """Writes each section of one brief, by the anchor render_html gives it."""

    def __init__(self, document: DocxDocument, brief: Brief, numbers: dict[str, int],
                 map_image: bytes | None, locator: LocatorMap | None, words: Localizer) -> None:
        self.document, self.brief, self.numbers, self.map_image = document, brief, numbers, map_image
        self.locator, self.words = locator, words
        self.places = {place.id: place for place in brief.places}
        self.actors = {actor.id: actor for actor in brief.actors}
        self.writers: dict[str, Callable[[], None]] = {
            "bottom-line": self.bluf, "key-figures": self.figures, "map": self.map,
            "situation": self.summary, "timeline": self.timeline, "quotes": self.quotes,
            "assessment": lambda: self.statements(brief.assessment),
            "outlook": lambda: self.statements(brief.outlook), "gaps": self.gaps,
            "indicators": self.indicators, "places-and-actors": self.places_and_actors,
            "sources": self.sources, "revisions": self.revisions}

    def write(self, anchor: str) -> None:
        self.writers[anchor]()

    def bluf(self) -> None:
        for point in self.brief.bluf:
            _markdown(self.document, point, style="List Bullet")

    def summary(self) -> None:
        _markdown(self.document, self.brief.summary)

    def figures(self) -> None:
        table = self.table(FIGURE_HEADERS)
        for figure in self.brief.figures:
            for value, status, claimed_by, sources, note in _figure_rows(figure):
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(str(value)).bold = True
                _inline(cells[1].paragraphs[0], figure.counts)
                if note:
                    _markdown(cells[1], note, style="Caption")
                cells[2].paragraphs[0].add_run(first_upper(self.words.label(FIGURE_STATUSES, status)
                                                           if status else ""))
                cells[3].paragraphs[0].add_run(self._actor_name(claimed_by))
                self.cite(cells[4].paragraphs[0], sources)

    def map(self) -> None:
        figure = self.brief.map_image
        if figure is None:
            self.locator_map()
            return
        if self.map_image and self.map_image.startswith(RASTER_TYPES):
            self.document.add_picture(io.BytesIO(self.map_image), width=Inches(6))
            self.document.paragraphs[-1].runs[0]._r.xpath(".//wp:docPr")[0].set("descr", figure.alt)
        else:
            paragraph = self.document.add_paragraph()
            _bold_label(paragraph, self.words, N_("Map"))
            paragraph.add_run(f"{figure.alt} {self.words.gettext(MAP_ELSEWHERE)}")
        if figure.caption:
            _markdown(self.document, figure.caption, style="Caption")
        self.document.add_paragraph(self.words.gettext(N_("Credit: %(credit)s")) % {"credit": figure.credit},
                                    style="Caption")

    def locator_map(self) -> None:
        """The generated map in words (Word cannot show its SVG): what it shows and omits."""
        assert self.locator is not None
        words = self.words
        paragraph = self.document.add_paragraph()
        _bold_label(paragraph, words, N_("Map"))
        shown = ", ".join(place.name for place in self.locator.shown) or words.gettext(N_("no places"))
        paragraph.add_run(words.gettext(N_("%(countries)s; places shown: %(places)s")) % {
            "countries": ", ".join(self.locator.countries), "places": shown}
            + " " + words.gettext(MAP_ELSEWHERE))
        if self.locator.not_shown:
            not_shown = words.gettext(N_("Not shown: no position in the sources — %(places)s."))
            self.document.add_paragraph(not_shown % {"places": ", ".join(self.locator.not_shown)},
                                        style="Caption")
        self.document.add_paragraph(words.gettext(DISCLAIMER), style="Caption")

    def timeline(self) -> None:
        table = self.table(TIMELINE_HEADERS)
        for entry in self.brief.timeline:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(display_date(entry, self.words) or "")
            _inline(cells[1].paragraphs[0], entry.text)
            if entry.places:
                cells[1].add_paragraph(", ".join(self.places[p].name for p in entry.places),
                                       style="Caption")
            self.cite(cells[2].paragraphs[0], entry.sources)

    def quotes(self) -> None:
        for quote in self.brief.quotes:
            words = self.document.add_paragraph(style="Quote")
            run = words.add_run(f"“{quote.text}”")
            _language_of(run._r.get_or_add_rPr(), quote.language)
            if quote.translation:
                self.document.add_paragraph(self.words.gettext(N_("Translation: “%(text)s”"))
                                            % {"text": quote.translation}, style="Quote")
            when = display_date(quote, self.words)
            who = ", ".join(part for part in (quote.speaker, quote.role, when) if part)
            attribution = self.document.add_paragraph(f"— {who}")
            if quote.attribution == "attributed":
                attribution.add_run(" " + self.words.gettext(N_("(attributed by the source)")))
            if quote.language != self.brief.language:
                attribution.add_run("; " + self.words.gettext(N_("in %(language)s")) % {
                    "language": language_name(quote.language, self.words)})
            self.cite(attribution, quote.sources)
            if quote.context:
                _markdown(self.document, quote.context, style="Caption")

    def statements(self, statements: Sequence[Statement]) -> None:
        """Numbered from 1 in each section, as the page numbers them (Assessment 1, Outlook 1)."""
        for number, statement in enumerate(statements, 1):
            paragraph = self.document.add_paragraph()
            paragraph.add_run(f"{number}. ").bold = True
            _inline(paragraph, statement.text)
            paragraph.add_run(f" ({'; '.join(self.judgement(statement))})").italic = True
            self.cite(paragraph, statement.sources)

    def judgement(self, statement: Statement) -> list[str]:
        """'confidence moderate; likely (55–80%); horizon: two weeks' in the brief's language."""
        words = self.words
        parts = [words.gettext(N_("confidence %(level)s")) % {
            "level": words.gettext(CONFIDENCE_LEVELS[statement.confidence])}]
        if statement.likelihood:
            term = words.gettext(LIKELIHOOD_TERMS[statement.likelihood])
            parts.append(f"{term[:1].lower()}{term[1:]} ({words.probability(statement.likelihood)})")
        for message, value in ((N_("horizon: %(value)s"), statement.horizon),
                               (N_("if: %(value)s"), statement.condition)):
            if value:
                parts.append(words.gettext(message) % {"value": value})
        return parts

    def gaps(self) -> None:
        for gap in self.brief.gaps:
            assert isinstance(gap, Gap)
            self.cite(_markdown(self.document, gap.text, style="List Bullet"), gap.sources)

    def indicators(self) -> None:
        table = self.table(INDICATOR_HEADERS)
        for indicator in self.brief.indicators:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(self.words.label(INDICATOR_TYPES, indicator.type))
            cells[1].paragraphs[0].add_run(defang(indicator.type, indicator.value)).font.name = "Courier New"
            if indicator.note:
                _inline(cells[2].paragraphs[0], indicator.note)
            self.cite(cells[3].paragraphs[0], indicator.sources)

    def places_and_actors(self) -> None:
        if self.brief.places:
            self.document.add_heading(self.words.gettext(N_("Places")), level=2)
            table = self.table(PLACE_HEADERS)
            for place in self.brief.places:
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(place.name).bold = True
                cells[1].paragraphs[0].add_run(country_name(place.country, self.words))
                if place.coordinates:
                    cells[2].paragraphs[0].add_run(format_coordinates(place.coordinates, self.words))
                if place.note:
                    _inline(cells[3].paragraphs[0], place.note)
        if self.brief.actors:
            self.document.add_heading(self.words.gettext(N_("Actors")), level=2)
            table = self.table(ACTOR_HEADERS)
            for actor in self.brief.actors:
                cells = table.add_row().cells
                cells[0].paragraphs[0].add_run(self._actor_name(actor.id)).bold = True
                cells[1].paragraphs[0].add_run(first_upper(self.words.label(ACTOR_KINDS, actor.kind)))
                if actor.note:
                    _inline(cells[2].paragraphs[0], actor.note)

    def sources(self) -> None:
        for source in self.brief.sources:
            number = self.numbers[source.id]
            paragraph = self.document.add_paragraph()
            paragraph.add_run(f"[{number}] ").bold = True
            title = f"{source.title} ({source.original_title})" if source.original_title else source.title
            if source.url:
                _hyperlink(paragraph, title, url=source.url)
            else:
                paragraph.add_run(title)
            _bookmark(paragraph, _source_bookmark(number), number)
            self.document.add_paragraph(" · ".join(self.source_facts(source)), style="Caption")
            if source.notes:
                _markdown(self.document, source.notes)

    def revisions(self) -> None:
        table = self.table(REVISION_HEADERS)
        for revision in self.brief.revisions:
            cells = table.add_row().cells
            cells[0].paragraphs[0].add_run(format_date(revision.date, self.words))
            cells[1].paragraphs[0].add_run(revision.change)

    def source_facts(self, source: Source) -> list[str]:
        """Publisher, kind, dates, and Admiralty grade of a source note, in the brief's language."""
        words = self.words
        facts = [source.publisher + (f" ({source.author})" if source.author else ""),
                 first_upper(words.label(SOURCE_KINDS, source.kind))]
        if source.published:
            facts.append(words.gettext(N_("published %(date)s")) % {"date": source.published})
        if source.accessed:
            facts.append(words.gettext(N_("accessed %(date)s")) % {"date": format_date(source.accessed, words)})
        if source.via:
            facts.append(words.gettext(N_("reported in [%(number)s]")) % {"number": self.numbers[source.via]})
        meaning = (f"{words.gettext(RELIABILITY[source.reliability])}; "
                   f"{words.gettext(CREDIBILITY[source.credibility])}")
        facts.append(words.gettext(N_("grade %(grade)s: %(meaning)s")) % {"grade": source.grade,
                                                                          "meaning": meaning})
        return facts

    def table(self, headers: Sequence[tuple[str, float]]) -> Table:
        return _table(self.document, [(self.words.gettext(name), width) for name, width in headers])

    def cite(self, paragraph: Paragraph, sources: Sequence[str]) -> None:
        """Citation numbers, each linked to its source note."""
        for source_id in dict.fromkeys(sources):
            number = self.numbers[source_id]
            _hyperlink(paragraph, f"[{number}]", anchor=_source_bookmark(number))

    def _actor_name(self, actor_id: str | None) -> str:
        actor = self.actors.get(actor_id or "")
        if actor is None:
            return ""
        return f"{actor.name} ({actor.short_name})" if actor.short_name else actor.name


def _figure_rows(figure: Figure) -> list[tuple[object, str | None, str | None, list[str], str | None]]:
    if figure.estimates:
        return [(estimate.value, estimate.status, estimate.claimed_by, estimate.sources, estimate.note)
                for estimate in figure.estimates]
    return [(figure.value, figure.status, figure.claimed_by, figure.sources, figure.note)]


def _source_bookmark(number: int) -> str:
    return f"source_{number}"


def _table(document: DocxDocument, columns: Sequence[tuple[str, float]]) -> Table:
    """A table with a heading row; ``columns``: each heading and its share of the width."""
    table = document.add_table(rows=1, cols=len(columns))
    table.style = "Table Grid"
    table.autofit = False
    section = document.sections[0]
    width = section.page_width - section.left_margin - section.right_margin
    total = sum(share for _, share in columns)
    for column, cell, (heading, share) in zip(table.columns, table.rows[0].cells, columns, strict=True):
        column.width = int(width * share / total)
        cell.paragraphs[0].add_run(heading).bold = True
    _repeat_as_header(table)
    return table


def _repeat_as_header(table: Table) -> None:
    """The heading row is repeated on every page the table runs over."""
    properties = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _bookmark(paragraph: Paragraph, name: str, number: int) -> None:
    start, end = OxmlElement("w:bookmarkStart"), OxmlElement("w:bookmarkEnd")
    start.set(qn("w:id"), str(number))
    start.set(qn("w:name"), name)
    end.set(qn("w:id"), str(number))
    paragraph._p.insert(1 if paragraph._p.pPr is not None else 0, start)
    paragraph._p.append(end)


def _hyperlink(paragraph: Paragraph, text: str, *, url: str | None = None, anchor: str | None = None,
               bold: bool = False, italic: bool = False) -> None:
    """A link to ``url``, or to the bookmark ``anchor`` inside the document."""
    link = OxmlElement("w:hyperlink")
    if url is not None:
        link.set(qn("r:id"), paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True))
    else:
        link.set(qn("w:anchor"), anchor or "")
    run = Run(OxmlElement("w:r"), paragraph)
    run.text = text
    run.bold, run.italic = bold or None, italic or None
    run.font.color.rgb = RGBColor(0x0B, 0x4F, 0x8A)
    run.font.underline = True
    link.append(run._r)
    paragraph._p.append(link)


# --- Markdown ---------------------------------------------------------------------------------

def _markdown(container: Container, text: str, style: str | None = None) -> Paragraph:
    """Block Markdown as paragraphs of ``container`` (list items as Word list paragraphs);
    the last paragraph written, for what follows it (citations)."""
    writer = _HtmlToWord(container, style)
    writer.feed(str(to_html(text)))
    writer.close()
    return writer.paragraph or container.add_paragraph(style=style)


def _inline(paragraph: Paragraph, text: str) -> None:
    writer = _HtmlToWord(None, None, paragraph)
    writer.feed(str(to_inline_html(text)))
    writer.close()


class _HtmlToWord(HTMLParser):
    """Writes the sanitised HTML of a Markdown text (render_html's own) as Word runs."""

    LIST_STYLES = {"ul": "List Bullet", "ol": "List Number"}

    def __init__(self, container: Container | None, style: str | None,
                 paragraph: Paragraph | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.container, self.style, self.paragraph = container, style, paragraph
        self.fresh = False  # the current paragraph was opened and has no text yet
        self.between = False  # a block ended: the line breaks after it are not text
        self.lists: list[str] = []
        self.bold = self.italic = self.code = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6") and self.container:
            self.between = False
            if not (tag == "p" and self.fresh):
                style = self.LIST_STYLES[self.lists[-1]] if tag == "li" and self.lists else self.style
                self.paragraph, self.fresh = self.container.add_paragraph(style=style), True
        elif tag in self.LIST_STYLES:
            self.lists.append(tag)
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "code":
            self.code += 1
        elif tag == "a":
            self.href = dict(attrs).get("href")
        elif tag == "br" and self.paragraph is not None:
            self.paragraph.add_run().add_break()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"):
            self.between = True
        if tag in self.LIST_STYLES and self.lists:
            self.lists.pop()
        elif tag in ("strong", "b"):
            self.bold -= 1
        elif tag in ("em", "i"):
            self.italic -= 1
        elif tag == "code":
            self.code -= 1
        elif tag == "a":
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.paragraph is None or ((self.fresh or self.between) and not data.strip()):
            return
        self.fresh = False
        data = " ".join(data.split("\n"))  # a line break in Markdown source is a space
        if self.href and self.href.startswith(("http://", "https://")):
            _hyperlink(self.paragraph, data, url=self.href, bold=self.bold > 0, italic=self.italic > 0)
            return
        run = self.paragraph.add_run(data)
        run.bold, run.italic = (self.bold > 0) or None, (self.italic > 0) or None
        if self.code:
            run.font.name = "Courier New"
            run.font.size = Pt(9)

