"""The declaration (tờ khai) of a dossier as a PDF of the filled form, in Vietnamese.

A plain data model (``Declaration`` of ``Section``s holding ``Line``s and ``Table``s, the
attached documents, the place, date and signer) that the form engine fills, and one renderer,
``render_declaration_pdf(decl) -> bytes``. The model knows nothing of the catalog or the forms.

The page follows Vietnamese official forms: A4, the national heading ("CỘNG HÒA XÃ HỘI CHỦ
NGHĨA VIỆT NAM" / "Độc lập - Tự do - Hạnh phúc", underlined) centred, the form number top right,
the form title, "Kính gửi: ...", the answered fields as "label: value" (multi-line answers keep
their lines and flow across pages), tables with borders and a header row repeated on every page
they cross, "Hồ sơ kèm theo", the place and date in italics ("Huế, ngày 05 tháng 02 năm 2026":
day below 10 and months 1 and 2 take a leading zero, as Nghị định 30/2020/NĐ-CP writes them),
the signer's title, identity note and name, and on every page the footer and "Trang i/n". Fixed
texts are Vietnamese whatever ``lang`` is: the form is filed with a Vietnamese agency.

Text is DejaVu Serif (assets/fonts, a free licence, full Vietnamese coverage; official papers
are set in a serif face), embedded as subsets. Every string is NFC-normalised. A character the
font cannot draw (a Chinese name, an emoji, a control character) is replaced by U+FFFD "�" —
visible on paper and in the extracted text, so a clerk sees that something was there — and a
warning logs its code points (never the surrounding text). Output is deterministic: the same
declaration gives the same bytes (the PDF dates are ``signed_at``). Metadata carries the form
title, the procedure and "motcua-kiosk", never personal data. Rendering is serialised by a lock
(ReportLab's font objects keep per-document state).

Errors:

    KioskError
     └── DeclarationPdfError    the declaration is malformed (a table row of the wrong width)
                                 or cannot be laid out on A4
"""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable
from reportlab.platypus.doctemplate import LayoutError

from kiosk.errors import KioskError
from kiosk.paths import FONTS_DIR

log = logging.getLogger(__name__)

PRODUCER = "motcua-kiosk"
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
ATTACHMENTS_HEADING = "Hồ sơ kèm theo:"
PROCEDURE_LINE = "Thủ tục: {name} (mã thủ tục {code})"
PAGE_LABEL = "Trang {page}/{total}"
NO_ROWS = "(không có)"

#: What stands in for a character the font cannot draw.
REPLACEMENT_CHAR = "\ufffd"

PAGE_SIZE = A4
MARGIN_LEFT = 25 * mm
MARGIN_RIGHT = 20 * mm
MARGIN_TOP = 20 * mm
MARGIN_BOTTOM = 22 * mm  # the footer sits inside it, 12 mm above the paper's edge
FOOTER_BASELINE = 12 * mm

BODY_SIZE = 11.0
BODY_LEADING = 15.0
SMALL_SIZE = 7.5
KEEP_LINES = 3  # a heading or a label goes to the next page unless this many lines follow it

_FONT_FILES = {
    "regular": ("MotcuaSerif", "DejaVuSerif.ttf"),
    "bold": ("MotcuaSerif-Bold", "DejaVuSerif-Bold.ttf"),
    "italic": ("MotcuaSerif-Italic", "DejaVuSerif-Italic.ttf"),
    "bolditalic": ("MotcuaSerif-BoldItalic", "DejaVuSerif-BoldItalic.ttf"),
}
FONT_FAMILY = "MotcuaSerif"

_render_lock = threading.Lock()


class DeclarationPdfError(KioskError):
    """A declaration is malformed or cannot be laid out (``str(err)`` says which part)."""


# ---------------------------------------------------------------------------------------------
# The input model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One answered field: ``label: value``. A value with line breaks keeps them."""

    label: str
    value: str


@dataclass(frozen=True)
class Table:
    """A repeatable group: a header of ``columns`` and ``rows`` of text, one cell per column."""

    label: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        object.__setattr__(self, "rows", tuple(tuple(row) for row in self.rows))
        if not self.columns:
            raise DeclarationPdfError(f"table {self.label!r} has no columns")
        for number, row in enumerate(self.rows, 1):
            if len(row) != len(self.columns):
                raise DeclarationPdfError(
                    f"table {self.label!r}: row {number} has {len(row)} cells "
                    f"for {len(self.columns)} columns"
                )


@dataclass(frozen=True)
class Section:
    """Lines and tables under an optional heading (``title`` may be empty)."""

    title: str
    items: tuple[Line | Table, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", tuple(self.items))
        for item in self.items:
            if not isinstance(item, Line | Table):
                raise DeclarationPdfError(
                    f"section {self.title!r}: {type(item).__name__} is not a Line or a Table"
                )


@dataclass(frozen=True)
class Declaration:
    """A filled form, ready to print. Free texts are the citizen's answers and the labels."""

    form_title: str  # "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN"
    form_number: str | None  # "Mẫu số 06", printed top right, or None
    addressee: str  # "Kính gửi: Sở Văn hóa, Thể thao và Du lịch tỉnh ..."
    procedure_name: str
    procedure_code: str
    sections: tuple[Section, ...]
    documents: tuple[str, ...]  # "Hồ sơ kèm theo": each document, e.g. "... (bản sao)"
    place: str  # "Huế" for "Huế, ngày 24 tháng 11 năm 2026"
    signed_at: datetime
    signer_title: str  # "NGƯỜI ĐỀ NGHỊ"
    signer_name: str
    identity_note: str  # "Đã xác thực danh tính bằng chip căn cước ..."
    footer: str  # kiosk id and dossier reference, small, on every page
    lang: str = "vi"  # language of the labels and answers (BCP 47); fixed texts stay Vietnamese

    def __post_init__(self) -> None:
        object.__setattr__(self, "sections", tuple(self.sections))
        object.__setattr__(self, "documents", tuple(self.documents))
        if not self.form_title.strip():
            raise DeclarationPdfError("the declaration has no form title")
        if not isinstance(self.signed_at, datetime):
            raise DeclarationPdfError(f"signed_at is {type(self.signed_at).__name__}, not datetime")


# ---------------------------------------------------------------------------------------------
# Fonts and text
# ---------------------------------------------------------------------------------------------


@cache
def _fonts() -> frozenset[int]:
    """Register the four faces once; the code points all four can draw."""
    coverage: frozenset[int] | None = None
    for name, filename in _FONT_FILES.values():
        path = FONTS_DIR / filename
        try:
            font = TTFont(name, str(path))
        except Exception as exc:  # a missing or damaged shipped file: an installation fault
            raise DeclarationPdfError(f"cannot load font {path}: {exc}") from exc
        pdfmetrics.registerFont(font)
        cmap = frozenset(font.face.charToGlyph)
        coverage = cmap if coverage is None else coverage & cmap
    pdfmetrics.registerFontFamily(
        FONT_FAMILY,
        normal=_FONT_FILES["regular"][0],
        bold=_FONT_FILES["bold"][0],
        italic=_FONT_FILES["italic"][0],
        boldItalic=_FONT_FILES["bolditalic"][0],
    )
    assert coverage is not None
    return coverage


class _Text:
    """NFC and font coverage for every string of one render; counts what it replaced."""

    def __init__(self, coverage: frozenset[int]) -> None:
        self._coverage = coverage
        self.replaced: dict[str, int] = {}

    def plain(self, text: str) -> str:
        """``text`` in NFC, one line: tabs and line breaks become spaces, unknown chars U+FFFD."""
        return self._clean(text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " "))

    def lines(self, text: str) -> list[str]:
        """``text`` in NFC split at its line breaks (CRLF, CR, LF), each line cleaned."""
        normalised = text.replace("\r\n", "\n").replace("\r", "\n")
        return [self._clean(line) for line in normalised.split("\n")]

    def _clean(self, text: str) -> str:
        text = unicodedata.normalize("NFC", text).replace("\t", " ")
        out: list[str] = []
        for char in text:
            if ord(char) in self._coverage and unicodedata.category(char) not in ("Cc", "Cs"):
                out.append(char)
            else:
                key = f"U+{ord(char):04X}"
                self.replaced[key] = self.replaced.get(key, 0) + 1
                out.append(REPLACEMENT_CHAR)
        return "".join(out)

    def markup(self, text: str) -> str:
        """``plain(text)`` escaped for a ReportLab paragraph."""
        return escape(self.plain(text))


def format_date_line(place: str, when: datetime) -> str:
    """ "Huế, ngày 05 tháng 02 năm 2026" (leading zero for days 1-9 and months 1-2)."""
    day = f"{when.day:02d}" if when.day < 10 else str(when.day)
    month = f"{when.month:02d}" if when.month < 3 else str(when.month)
    date_text = f"ngày {day} tháng {month} năm {when.year}"
    return f"{place}, {date_text}" if place.strip() else date_text[0].upper() + date_text[1:]


def _pdf_date(when: datetime) -> str:
    """A PDF date string (PDF 32000-1 §7.9.4) for ``when``, with its UTC offset if it has one."""
    stamp = when.strftime("D:%Y%m%d%H%M%S")
    offset = when.utcoffset()
    if offset is None:
        return stamp
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{stamp}{sign}{minutes // 60:02d}'{minutes % 60:02d}'"


# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------


@cache
def _styles() -> dict[str, ParagraphStyle]:
    _fonts()
    regular, bold = _FONT_FILES["regular"][0], _FONT_FILES["bold"][0]
    italic = _FONT_FILES["italic"][0]
    body = ParagraphStyle(
        "body", fontName=regular, fontSize=BODY_SIZE, leading=BODY_LEADING, alignment=TA_LEFT
    )
    return {
        "body": body,
        "value": ParagraphStyle("value", parent=body, leftIndent=6 * mm),
        "heading": ParagraphStyle(
            "heading", parent=body, fontName=bold, spaceBefore=8, spaceAfter=3
        ),
        "line": ParagraphStyle("line", parent=body, spaceAfter=2),
        "label": ParagraphStyle("label", parent=body, spaceBefore=2, spaceAfter=1),
        "item": ParagraphStyle("item", parent=body, leftIndent=6 * mm, firstLineIndent=-6 * mm),
        "national": ParagraphStyle(
            "national", parent=body, fontName=bold, fontSize=11.5, leading=15, alignment=TA_CENTER
        ),
        "motto": ParagraphStyle(
            "motto", parent=body, fontName=bold, fontSize=12.5, leading=16, alignment=TA_CENTER
        ),
        "form_number": ParagraphStyle(
            "form_number", parent=body, fontName=italic, fontSize=10, alignment=TA_RIGHT
        ),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=bold,
            fontSize=13,
            leading=17,
            alignment=TA_CENTER,
            spaceBefore=14,
        ),
        "procedure": ParagraphStyle(
            "procedure", parent=body, fontName=italic, fontSize=9.5, leading=13, alignment=TA_CENTER
        ),
        "addressee": ParagraphStyle(
            "addressee", parent=body, alignment=TA_CENTER, spaceBefore=8, spaceAfter=6
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=9.5, leading=12),
        "cell_head": ParagraphStyle(
            "cell_head", parent=body, fontName=bold, fontSize=9.5, leading=12, alignment=TA_CENTER
        ),
        "sign_date": ParagraphStyle("sign_date", parent=body, fontName=italic, alignment=TA_CENTER),
        "sign_title": ParagraphStyle(
            "sign_title", parent=body, fontName=bold, alignment=TA_CENTER, spaceBefore=2
        ),
        "sign_note": ParagraphStyle(
            "sign_note",
            parent=body,
            fontName=italic,
            fontSize=9,
            leading=12,
            alignment=TA_CENTER,
            spaceBefore=10,
            spaceAfter=10,
        ),
        "sign_name": ParagraphStyle("sign_name", parent=body, fontName=bold, alignment=TA_CENTER),
    }


def _frame_width() -> float:
    return PAGE_SIZE[0] - MARGIN_LEFT - MARGIN_RIGHT


def _heading(decl: Declaration, text: _Text, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    flow: list[Flowable] = []
    if decl.form_number and decl.form_number.strip():
        flow.append(Paragraph(text.markup(decl.form_number), styles["form_number"]))
    flow.append(Paragraph(escape(NATIONAL_NAME), styles["national"]))
    motto = styles["motto"]
    flow.append(Paragraph(escape(NATIONAL_MOTTO), motto))
    # The rule under the motto, as long as the motto (drawn below the dots of "ậ", "ự", "ạ"
    # rather than through them, as a font underline would).
    motto_width = pdfmetrics.stringWidth(NATIONAL_MOTTO, motto.fontName, motto.fontSize)
    flow.append(
        HRFlowable(
            width=motto_width,
            thickness=0.7,
            color=colors.black,
            spaceBefore=1,
            spaceAfter=0,
            hAlign="CENTER",
        )
    )
    flow.append(Paragraph(text.markup(decl.form_title), styles["title"]))
    if decl.procedure_name.strip() or decl.procedure_code.strip():
        line = PROCEDURE_LINE.format(
            name=text.plain(decl.procedure_name).strip(),
            code=text.plain(decl.procedure_code).strip(),
        )
        flow.append(Paragraph(escape(line), styles["procedure"]))
    if decl.addressee.strip():
        flow.append(Paragraph(text.markup(decl.addressee), styles["addressee"]))
    return flow


def _line(item: Line, text: _Text, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    label = text.markup(item.label).strip()
    label = label if label.endswith(":") else f"{label}:"
    value_lines = text.lines(item.value)
    while value_lines and not value_lines[-1].strip():
        value_lines.pop()
    if len(value_lines) <= 1:
        value = escape(value_lines[0]) if value_lines else ""
        return [Paragraph(f"{label} {value}".rstrip(), styles["line"])]
    # A multi-line answer: the label on its own line, then each line of the answer, which
    # may break across pages between and within lines (never the label alone at a page's foot).
    flow: list[Flowable] = [CondPageBreak(KEEP_LINES * BODY_LEADING)]
    flow.append(Paragraph(label, styles["label"]))
    for line in value_lines:
        if line.strip():
            flow.append(Paragraph(escape(line), styles["value"]))
        else:
            flow.append(Spacer(1, BODY_LEADING * 0.6))
    return flow


def _column_widths(
    columns: Sequence[str], rows: Sequence[Sequence[str]], width: float, style: ParagraphStyle
) -> list[float]:
    """Share ``width`` between columns so that as few cells as possible wrap.

    Columns whose widest cell fits a fair share of what is left get that width (short columns
    such as a year stay on one line); the others share the rest, never below their longest word.
    """
    padding = 8.0
    font, size = style.fontName, style.fontSize
    bold = _FONT_FILES["bold"][0]
    minimum: list[float] = []
    natural: list[float] = []
    for index, header in enumerate(columns):
        cells = [row[index] for row in rows]
        words = [w for cell in cells for w in cell.split()]
        longest = max((pdfmetrics.stringWidth(w, font, size) for w in words), default=0.0)
        head_words = header.split()
        head_longest = max((pdfmetrics.stringWidth(w, bold, size) for w in head_words), default=0)
        minimum.append(max(longest, head_longest, 12.0) + padding)
        widest_line = max(
            (pdfmetrics.stringWidth(line, font, size) for c in cells for line in c.split("\n")),
            default=0.0,
        )
        natural.append(max(widest_line, pdfmetrics.stringWidth(header, bold, size)) + padding)
    if sum(natural) <= width:  # everything fits on one line: share the slack by need
        return [w * width / sum(natural) for w in natural]
    if sum(minimum) >= width:  # even single words do not fit: long words will be split
        return [w * width / sum(minimum) for w in minimum]
    # Water-filling: settle the columns that fit their fair share, repeat with what is left.
    result: list[float | None] = [None] * len(columns)
    left = width
    while True:
        open_columns = [i for i, r in enumerate(result) if r is None]
        share = left / len(open_columns)
        settled = [i for i in open_columns if natural[i] <= share]
        if not settled:
            break
        for i in settled:
            result[i] = natural[i]
            left -= natural[i]
    open_columns = [i for i, r in enumerate(result) if r is None]
    # The wide columns: each its longest word, the rest in proportion to what they would need.
    spare = left - sum(minimum[i] for i in open_columns)
    if spare < 0:  # the settled columns took too much: fall back to minimum + shares
        spare_all = width - sum(minimum)
        wants = [n - m for n, m in zip(natural, minimum, strict=True)]
        return [m + spare_all * w / sum(wants) for m, w in zip(minimum, wants, strict=True)]
    wants_open = {i: natural[i] - minimum[i] for i in open_columns}
    total_want = sum(wants_open.values()) or 1.0
    for i in open_columns:
        result[i] = minimum[i] + spare * wants_open[i] / total_want
    return [float(r) for r in result if r is not None]


def _table(item: Table, text: _Text, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    flow: list[Flowable] = []
    label = text.markup(item.label).strip()
    if not item.rows:
        if label:
            flow.append(Paragraph(f"{label.rstrip(':')}: {escape(NO_ROWS)}", styles["line"]))
        return flow
    columns = [text.plain(c).strip() for c in item.columns]
    rows = [["\n".join(text.lines(cell)).strip() for cell in row] for row in item.rows]
    cell, head = styles["cell"], styles["cell_head"]
    widths = _column_widths(columns, rows, _frame_width(), cell)
    data: list[list[Any]] = [[Paragraph(escape(c), head) for c in columns]]
    for row in rows:
        data.append([Paragraph(escape(c).replace("\n", "<br/>"), cell) for c in row])
    # Start on a new page unless the label, the header and the first row (up to a few lines)
    # fit: a header never stands alone at a page's foot.
    first_rows = sum(
        min(max(p.wrap(w - 8, 10_000)[1] for p, w in zip(r, widths, strict=True)), 4 * 12) + 7
        for r in data[:2]
    )
    flow.append(CondPageBreak(first_rows + (BODY_LEADING + 3 if label else 0) + 3))
    if label:
        flow.append(Paragraph(label if label.endswith(":") else f"{label}:", styles["label"]))
    table = RLTable(
        data,
        colWidths=widths,
        repeatRows=1,
        splitByRow=1,
        splitInRow=1,  # a cell taller than a page continues on the next one
        hAlign="LEFT",
        spaceBefore=3,
        spaceAfter=6,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT_FILES["regular"][0], cell.fontSize),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    flow.append(table)
    return flow


def _documents(
    documents: Iterable[str], text: _Text, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    names = [text.plain(d).strip() for d in documents]
    names = [n for n in names if n]
    if not names:
        return []
    flow: list[Flowable] = [CondPageBreak((KEEP_LINES + 1) * BODY_LEADING + 11)]
    flow.append(Paragraph(escape(ATTACHMENTS_HEADING), styles["heading"]))
    for number, name in enumerate(names, 1):
        flow.append(Paragraph(f"{number}.\u00a0{escape(name)}", styles["item"]))
    return flow


def _signature(decl: Declaration, text: _Text, styles: dict[str, ParagraphStyle]) -> Flowable:
    """The place and date, the signer's title, identity note and name, in the right half."""
    block: list[Flowable] = [
        Paragraph(
            escape(format_date_line(text.plain(decl.place).strip(), decl.signed_at)),
            styles["sign_date"],
        ),
    ]
    if decl.signer_title.strip():
        block.append(Paragraph(text.markup(decl.signer_title), styles["sign_title"]))
    if decl.identity_note.strip():
        block.append(Paragraph(text.markup(decl.identity_note), styles["sign_note"]))
    else:
        block.append(Spacer(1, 14 * mm))
    if decl.signer_name.strip():
        block.append(Paragraph(text.markup(decl.signer_name), styles["sign_name"]))
    width = _frame_width()
    holder = RLTable(
        [["", block]],
        colWidths=[width * 0.42, width * 0.58],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), _FONT_FILES["regular"][0], BODY_SIZE),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    return KeepTogether([Spacer(1, 6 * mm), holder])


def _story(decl: Declaration, text: _Text) -> list[Flowable]:
    styles = _styles()
    story = _heading(decl, text, styles)
    for section in decl.sections:
        if section.title.strip():
            story.append(CondPageBreak((KEEP_LINES + 1) * BODY_LEADING + 11))
            story.append(Paragraph(text.markup(section.title), styles["heading"]))
        for item in section.items:
            story.extend(
                _line(item, text, styles) if isinstance(item, Line) else _table(item, text, styles)
            )
    story.extend(_documents(decl.documents, text, styles))
    story.append(_signature(decl, text, styles))
    return story


# ---------------------------------------------------------------------------------------------
# The canvas: page furniture once the page count is known
# ---------------------------------------------------------------------------------------------


class _NumberedCanvas(Canvas):
    """Holds finished pages back until the end, then stamps "Trang i/n" and the footer on each."""

    footer_text = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._held_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._held_pages)
        for number, state in enumerate(self._held_pages, 1):
            self.__dict__.update(state)
            self._page_furniture(number, total)
            super().showPage()
        super().save()

    def _page_furniture(self, number: int, total: int) -> None:
        width = PAGE_SIZE[0]
        self.saveState()
        self.setStrokeColor(colors.Color(0.55, 0.55, 0.55))
        self.setLineWidth(0.4)
        rule_y = FOOTER_BASELINE + SMALL_SIZE + 3
        self.line(MARGIN_LEFT, rule_y, width - MARGIN_RIGHT, rule_y)
        self.setFillColor(colors.Color(0.25, 0.25, 0.25))
        self.setFont(_FONT_FILES["regular"][0], SMALL_SIZE)
        page_label = PAGE_LABEL.format(page=number, total=total)
        label_width = pdfmetrics.stringWidth(page_label, _FONT_FILES["regular"][0], SMALL_SIZE)
        self.drawRightString(width - MARGIN_RIGHT, FOOTER_BASELINE, page_label)
        footer = _fit(self.footer_text, width - MARGIN_LEFT - MARGIN_RIGHT - label_width - 12)
        self.drawString(MARGIN_LEFT, FOOTER_BASELINE, footer)
        self.restoreState()


def _fit(text: str, width: float) -> str:
    """``text`` cut with "…" to fit ``width`` points in the footer's font."""
    font = _FONT_FILES["regular"][0]
    if pdfmetrics.stringWidth(text, font, SMALL_SIZE) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, SMALL_SIZE) > width:
        text = text[:-1]
    return text + "…"


# ---------------------------------------------------------------------------------------------
# The renderer
# ---------------------------------------------------------------------------------------------


def render_declaration_pdf(decl: Declaration) -> bytes:
    """The filled form as PDF bytes (A4, Vietnamese, fonts embedded as subsets).

    Raises ``DeclarationPdfError`` if the fonts are missing or the content cannot be laid out.
    """
    coverage = _fonts()
    text = _Text(coverage)
    footer = text.plain(decl.footer).strip()
    story = _story(decl, text)
    if text.replaced:
        log.warning(
            "declaration PDF: %d character(s) outside the font replaced by U+FFFD: %s",
            sum(text.replaced.values()),
            ", ".join(sorted(text.replaced)),
        )
    title = text.plain(decl.form_title).strip()
    subject = PROCEDURE_LINE.format(
        name=text.plain(decl.procedure_name).strip(), code=text.plain(decl.procedure_code).strip()
    )
    pdf_lang = "vi-VN" if decl.lang == "vi" else decl.lang
    creation_date = _pdf_date(decl.signed_at)

    canvas_class = type("_DeclarationCanvas", (_NumberedCanvas,), {"footer_text": footer})
    out = io.BytesIO()
    doc = BaseDocTemplate(
        out,
        pagesize=PAGE_SIZE,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author="",
        subject=subject,
        creator=PRODUCER,
        producer=PRODUCER,
        keywords=text.plain(decl.procedure_code).strip(),
        lang=pdf_lang,
        invariant=1,  # no wall-clock time or random id in the file: same input, same bytes
        initialFontName=_FONT_FILES["regular"][0],
    )
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        _frame_width(),
        PAGE_SIZE[1] - MARGIN_TOP - MARGIN_BOTTOM,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="body",
    )

    def _on_page(canvas: Canvas, _doc: BaseDocTemplate) -> None:
        canvas.setDateFormatter(lambda *_: creation_date)

    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_on_page)])
    with _render_lock:
        try:
            doc.build(story, canvasmaker=canvas_class)
        except LayoutError as exc:
            raise DeclarationPdfError(f"the declaration cannot be laid out on A4: {exc}") from exc
    return out.getvalue()
