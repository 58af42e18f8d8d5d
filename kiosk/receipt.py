"""Receipt and queue-ticket layouts, device-independent, and their rendering to a raster image.

A layout is a list of blocks (text, label/value field, numbered item, separator, spacer, QR).
``render_layout`` turns it into a black-on-white ``PIL.Image`` (mode "1") of the paper's width
in printer dots, drawn with the shipped Roboto fonts. Printing that raster is how Vietnamese
comes out right on any ESC/POS printer: their code pages cannot print precomposed letters such
as "ễ" or "ộ". Lines wrap by measured pixel width; nothing is ever clipped. A character Roboto
lacks (a name with "Ǫ" or "★") is drawn with DejaVu Sans; one neither font has (a Han character
in a foreign name) is printed as "□" and logged, never dropped silently.

Errors:

    KioskError
     └── ReceiptDataError    a receipt JSON file (``kiosk receipt render F.json``) is not valid
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Literal
from urllib.parse import quote

import qrcode
from PIL import Image, ImageDraw, ImageFont

from kiosk.errors import KioskError
from kiosk.paths import FONT_BOLD, FONT_REGULAR, FONTS_DIR

log = logging.getLogger(__name__)

Align = Literal["left", "center", "right"]
TextSize = Literal["small", "normal", "large", "xlarge", "huge"]

#: Font size in printer dots (203 dpi) for each text size.
TEXT_SIZE_PX: dict[str, int] = {"small": 20, "normal": 24, "large": 30, "xlarge": 44, "huge": 110}

_SIZES: list[str] = list(TEXT_SIZE_PX)

#: Printable width in dots of common paper rolls at 203 dpi.
_DOTS_FOR_WIDTH_MM = {80: 576, 58: 384}

MARGIN_PX = 8
LINE_GAP_PX = 4
QR_ISSUER_PREFIX = "motcua-kiosk/"
QR_PAYLOAD_VERSION = 1


class ReceiptDataError(KioskError):
    """A receipt's data (usually a JSON file given to ``kiosk receipt render``) is not valid."""


def dots_for_width_mm(width_mm: int) -> int:
    """Printable width in dots for a paper roll: 80 mm -> 576, 58 mm -> 384."""
    try:
        return _DOTS_FOR_WIDTH_MM[width_mm]
    except KeyError:
        raise ValueError(f"unsupported paper width {width_mm} mm (use 58 or 80)") from None


def nfc(text: str) -> str:
    """The NFC form of ``text`` (every string that reaches paper goes through it)."""
    return unicodedata.normalize("NFC", text)


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True)
class TextBlock:
    """A paragraph, wrapped to the paper width.

    ``fit`` (for codes and numbers): use a smaller size, down to "small", before wrapping.
    """

    text: str
    align: Align = "left"
    bold: bool = False
    size: TextSize = "normal"
    fit: bool = False


@dataclass(frozen=True)
class FieldBlock:
    """``label: value`` with the label in bold, wrapped as one paragraph."""

    label: str
    value: str
    size: TextSize = "normal"
    value_bold: bool = False


@dataclass(frozen=True)
class ItemBlock:
    """A list item: ``marker`` (e.g. "1.") then ``text`` with a hanging indent."""

    marker: str
    text: str
    size: TextSize = "normal"


@dataclass(frozen=True)
class SeparatorBlock:
    """A horizontal rule across the paper."""

    style: Literal["solid", "dashed"] = "solid"


@dataclass(frozen=True)
class SpacerBlock:
    """Blank paper, ``height_px`` dots high."""

    height_px: int = 12


@dataclass(frozen=True)
class QRBlock:
    """A QR code, centred; ``module_px`` None picks the largest module that fits comfortably."""

    data: str
    module_px: int | None = None
    caption: str | None = None


Block = TextBlock | FieldBlock | ItemBlock | SeparatorBlock | SpacerBlock | QRBlock


# --------------------------------------------------------------------------- data


def _expect(name: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    # bool is an int in Python: do not accept True as a fee or a count.
    if isinstance(value, bool) and kind is not bool:
        raise ReceiptDataError(f"{name}: expected {_kind_name(kind)}, got a boolean")
    if not isinstance(value, kind):
        raise ReceiptDataError(
            f"{name}: expected {_kind_name(kind)}, got {type(value).__name__} {value!r}"
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return " or ".join(k.__name__ for k in kind)
    return kind.__name__


def _parse_datetime(name: str, value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    _expect(name, value, str)
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise ReceiptDataError(
            f"{name}: {value!r} is not an ISO date and time (e.g. 2024-11-26T08:15:00+07:00)"
        ) from None


def _parse_date(name: str, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    _expect(name, value, str)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ReceiptDataError(f"{name}: {value!r} is not an ISO date (e.g. 2024-12-03)") from None


@dataclass
class ReceiptData:
    """What the dossier receipt ("giấy tiếp nhận hồ sơ và hẹn trả kết quả") shows."""

    agency_name: str
    agency_code: str
    procedure_name: str
    procedure_code: str
    dossier_code: str
    applicant_name: str
    applicant_id: str
    documents: list[str]
    fee_vnd: int
    received_at: datetime
    appointment_date: date
    kiosk_id: str
    tracking_hint: str
    provisional: bool = False
    tracking_url: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "documents":
                _expect("documents", value, list)
                docs = [_expect(f"documents[{i}]", d, str) for i, d in enumerate(value)]
                self.documents = [nfc(d) for d in docs]
            elif f.name == "fee_vnd":
                _expect("fee_vnd", value, int)
                if value < 0:
                    raise ReceiptDataError(f"fee_vnd: {value} is negative")
            elif f.name == "received_at":
                self.received_at = _parse_datetime("received_at", value)
            elif f.name == "appointment_date":
                self.appointment_date = _parse_date("appointment_date", value)
            elif f.name == "provisional":
                _expect("provisional", value, bool)
            elif f.name == "tracking_url":
                _expect("tracking_url", value, str)
            else:
                setattr(self, f.name, nfc(_expect(f.name, value, str)))

    def to_json(self) -> str:
        """The receipt as a JSON document (UTF-8 text, dates in ISO 8601)."""
        doc = asdict(self)
        doc["received_at"] = self.received_at.isoformat()
        doc["appointment_date"] = self.appointment_date.isoformat()
        return json.dumps(doc, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str | bytes) -> ReceiptData:
        """Parse what ``to_json`` wrote; raises ReceiptDataError naming the bad field."""
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ReceiptDataError(f"receipt JSON is not valid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise ReceiptDataError("receipt JSON must be an object with the receipt's fields")
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(doc) - set(names))
        if unknown:
            raise ReceiptDataError(f"receipt JSON has unknown field(s): {', '.join(unknown)}")
        required = [f.name for f in fields(cls) if f.name not in ("provisional", "tracking_url")]
        missing = [n for n in required if n not in doc]
        if missing:
            raise ReceiptDataError(f"receipt JSON lacks field(s): {', '.join(missing)}")
        return cls(**doc)

    def qr_payload(self) -> str:
        """The text in the receipt's QR.

        With a ``tracking_url`` (and a final dossier code): that address with the code in it,
        so a phone opens the province's tracking page. Otherwise compact JSON with sorted keys:
        the dossier code, procedure, applicant's ID, issuing kiosk and times, which the kiosk's
        look-up reads (a provisional reference is only known to the kiosk that issued it).
        """
        if self.tracking_url and not self.provisional:
            return self.tracking_url.replace("{code}", quote(self.dossier_code, safe=""))
        doc = {
            "v": QR_PAYLOAD_VERSION,
            "dossier_code": self.dossier_code,
            "procedure_code": self.procedure_code,
            "applicant_id": self.applicant_id,
            "issuer": QR_ISSUER_PREFIX + self.kiosk_id,
            "issued_at": self.received_at.isoformat(timespec="seconds"),
            "appointment_date": self.appointment_date.isoformat(),
        }
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass
class QueueTicketData:
    """What a queue ticket ("phiếu thứ tự") shows."""

    number: str
    service_name: str
    counter: str | None
    people_ahead: int
    estimated_wait_min: int | None
    priority_label: str | None
    issued_at: datetime
    agency_name: str
    kiosk_id: str

    def __post_init__(self) -> None:
        self.number = nfc(self.number)
        self.service_name = nfc(self.service_name)
        self.agency_name = nfc(self.agency_name)
        self.counter = nfc(self.counter) if self.counter else None
        self.priority_label = nfc(self.priority_label) if self.priority_label else None
        if self.people_ahead < 0:
            raise ValueError(f"people_ahead {self.people_ahead} is negative")


# --------------------------------------------------------------------------- formatting

_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "title": "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "provisional": "BẢN TẠM: hồ sơ đang chờ gửi về hệ thống, mã hồ sơ có thể thay đổi",
        "dossier_code": "Mã hồ sơ",
        "procedure": "Thủ tục",
        "applicant": "Người nộp",
        "applicant_id": "Số định danh",
        "documents": "Giấy tờ đã nhận",
        "no_documents": "(không có)",
        "fee": "Lệ phí",
        "free": "Miễn phí",
        "received_at": "Thời gian tiếp nhận",
        "appointment": "Ngày hẹn trả kết quả",
        "kiosk": "Ki-ốt",
        "ticket_title": "PHIẾU THỨ TỰ",
        "service": "Dịch vụ",
        "counter": "Mời đến quầy số {counter}",
        "people_ahead": "Số người chờ trước bạn: {n}",
        "wait": "Thời gian chờ dự kiến: khoảng {n} phút",
        "issued_at": "In lúc",
        "ticket_hint": "Vui lòng chú ý màn hình và loa gọi số",
        "test_title": "TRANG IN THỬ",
        "test_alphabet": "Chữ tiếng Việt",
        "test_width": "Chiều rộng",
        "test_dots": "điểm",
        "test_printed": "Thời gian in",
    },
    "en": {
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "title": "RECEIPT OF APPLICATION AND APPOINTMENT FOR RESULTS",
        "provisional": "PROVISIONAL: the dossier is waiting to be sent; its code may change",
        "dossier_code": "Dossier code",
        "procedure": "Procedure",
        "applicant": "Applicant",
        "applicant_id": "ID number",
        "documents": "Documents received",
        "no_documents": "(none)",
        "fee": "Fee",
        "free": "Free of charge",
        "received_at": "Received at",
        "appointment": "Results on",
        "kiosk": "Kiosk",
        "ticket_title": "QUEUE TICKET",
        "service": "Service",
        "counter": "Please go to counter {counter}",
        "people_ahead": "People ahead of you: {n}",
        "wait": "Estimated wait: about {n} min",
        "issued_at": "Issued at",
        "ticket_hint": "Please watch the screen and listen for your number",
        "test_title": "TEST PAGE",
        "test_alphabet": "Vietnamese letters",
        "test_width": "Width",
        "test_dots": "dots",
        "test_printed": "Printed at",
    },
}


def _texts(lang: str) -> dict[str, str]:
    try:
        return _TEXTS[lang]
    except KeyError:
        raise ValueError(f"unsupported language {lang!r} (use 'vi' or 'en')") from None


def format_vnd(amount: int, lang: str = "vi") -> str:
    """Money the Vietnamese way: 50000 -> "50.000 đ"; 0 -> "Miễn phí" ("Free of charge")."""
    if amount < 0:
        raise ValueError(f"amount {amount} is negative")
    if amount == 0:
        return _texts(lang)["free"]
    grouped = f"{amount:,}"
    if lang == "vi":
        return grouped.replace(",", ".") + " đ"
    return grouped + " VND"


def format_date(value: date) -> str:
    """dd/mm/yyyy, as on every Vietnamese form."""
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime) -> str:
    """HH:MM dd/mm/yyyy."""
    return value.strftime("%H:%M %d/%m/%Y")


def _unbreakable(text: str) -> str:
    return text.replace(" ", "\u00a0")


def mask_id(number: str) -> str:
    """A 12-digit ID with its middle hidden (the province code and last 3 digits stay)."""
    if len(number) <= 6:
        return number
    return number[:3] + "*" * (len(number) - 6) + number[-3:]


def collect_place(agency_name: str, place: str) -> str:
    """Where the result is handed back: the receiving agency, followed by the place (địa danh)
    unless its name already says it ("Trung tâm Phục vụ hành chính công tỉnh, Huế")."""
    if not place or place.casefold() in agency_name.casefold():
        return agency_name
    return f"{agency_name}, {place}"


# --------------------------------------------------------------------------- layouts


def receipt_layout(data: ReceiptData, lang: str = "vi") -> list[Block]:
    """The dossier receipt, after the form of Thông tư 01/2018/TT-VPCP (Mẫu 01)."""
    t = _texts(lang)
    blocks: list[Block] = [
        TextBlock(data.agency_name.upper(), align="center", bold=True),
        SpacerBlock(10),
        TextBlock(t["nation"], align="center", bold=True, size="small"),
        TextBlock(t["motto"], align="center", size="small"),
        SeparatorBlock(),
        TextBlock(t["title"], align="center", bold=True, size="large"),
    ]
    if data.provisional:
        blocks.append(TextBlock(t["provisional"], align="center", bold=True, size="small"))
    blocks += [
        SpacerBlock(6),
        TextBlock(t["dossier_code"], align="center"),
        TextBlock(data.dossier_code, align="center", bold=True, size="large", fit=True),
        SpacerBlock(6),
        FieldBlock(t["procedure"], f"{data.procedure_name} ({data.procedure_code})"),
        FieldBlock(t["applicant"], data.applicant_name),
        FieldBlock(t["applicant_id"], mask_id(data.applicant_id)),
        FieldBlock(t["documents"], "" if data.documents else t["no_documents"]),
    ]
    blocks += [ItemBlock(f"{i}.", doc) for i, doc in enumerate(data.documents, start=1)]
    blocks += [
        FieldBlock(t["fee"], format_vnd(data.fee_vnd, lang)),
        FieldBlock(t["received_at"], _unbreakable(format_datetime(data.received_at))),
        SeparatorBlock("dashed"),
        TextBlock(t["appointment"], align="center"),
        TextBlock(format_date(data.appointment_date), align="center", bold=True, size="xlarge"),
        SeparatorBlock("dashed"),
        QRBlock(data.qr_payload(), caption=data.tracking_hint),
        TextBlock(f"{t['kiosk']}: {data.kiosk_id}", align="center", size="small"),
    ]
    return blocks


def ticket_layout(data: QueueTicketData, lang: str = "vi") -> list[Block]:
    """A queue ticket: the number in very large type, the service, the wait."""
    t = _texts(lang)
    blocks: list[Block] = [
        TextBlock(data.agency_name.upper(), align="center", bold=True),
        SeparatorBlock(),
        TextBlock(t["ticket_title"], align="center", bold=True, size="large"),
        TextBlock(data.number, align="center", bold=True, size="huge", fit=True),
        TextBlock(data.service_name, align="center", size="large"),
    ]
    if data.priority_label:
        blocks.append(TextBlock(data.priority_label, align="center", bold=True))
    if data.counter:
        blocks.append(TextBlock(t["counter"].format(counter=data.counter), align="center"))
    blocks.append(TextBlock(t["people_ahead"].format(n=data.people_ahead), align="center"))
    if data.estimated_wait_min is not None:
        blocks.append(TextBlock(t["wait"].format(n=data.estimated_wait_min), align="center"))
    blocks += [
        SeparatorBlock("dashed"),
        TextBlock(t["ticket_hint"], align="center", size="small"),
        TextBlock(
            f"{t['issued_at']} {format_datetime(data.issued_at)} · {t['kiosk']}: {data.kiosk_id}",
            align="center",
            size="small",
        ),
    ]
    return blocks


def test_page_layout(
    kiosk_id: str, width_px: int, printed_at: datetime, lang: str = "vi"
) -> list[Block]:
    """A page for staff to check the printer: every text size, Vietnamese letters, a QR."""
    t = _texts(lang)
    blocks: list[Block] = [
        TextBlock(t["test_title"], align="center", bold=True, size="xlarge"),
        SeparatorBlock(),
        FieldBlock(t["kiosk"], kiosk_id),
        FieldBlock(t["test_width"], f"{width_px} {t['test_dots']}"),
        FieldBlock(t["test_printed"], format_datetime(printed_at)),
        SeparatorBlock("dashed"),
        TextBlock(t["test_alphabet"], bold=True),
        TextBlock("ĂÂĐÊÔƠƯ ăâđêôơư ÁÀẢÃẠ áàảãạ ỐỒỔỖỘ ốồổỗộ ỨỪỬỮỰ ứừửữự"),
        TextBlock("Nguyễn Văn Ộ — Trần Thị Ễ — Lê Quỳnh Hương"),
    ]
    blocks += [TextBlock(f"{size}: Một cửa", size=size) for size in ("small", "normal", "large")]
    blocks += [
        TextBlock("Ngày hẹn trả kết quả", bold=True, size="xlarge", align="center"),
        SeparatorBlock("dashed"),
        QRBlock(f"{QR_ISSUER_PREFIX}{kiosk_id} test {printed_at.isoformat(timespec='seconds')}"),
    ]
    return blocks


# --------------------------------------------------------------------------- rendering


FALLBACK_REGULAR = FONTS_DIR / "DejaVuSans.ttf"
FALLBACK_BOLD = FONTS_DIR / "DejaVuSans-Bold.ttf"
MISSING_GLYPH = "\u25a1"  # □, drawn with the fallback font


@lru_cache(maxsize=32)
def _font(size: TextSize, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), TEXT_SIZE_PX[size])


@lru_cache(maxsize=32)
def _fallback_font(size: TextSize, bold: bool) -> ImageFont.FreeTypeFont:
    path = FALLBACK_BOLD if bold else FALLBACK_REGULAR
    return ImageFont.truetype(str(path), TEXT_SIZE_PX[size])


@lru_cache(maxsize=8)
def _covered(path: str) -> frozenset[int]:
    """The code points a TrueType font has glyphs for (its cmap)."""
    from reportlab.pdfbase.ttfonts import TTFontFile

    return frozenset(TTFontFile(path).charToGlyph)


@lru_cache(maxsize=256)
def _warn_missing(ch: str) -> None:
    log.warning("U+%04X (%s) is in no receipt font: printed as %s", ord(ch), ch, MISSING_GLYPH)


def font_pieces(text: str, size: TextSize, bold: bool) -> list[tuple[str, ImageFont.FreeTypeFont]]:
    """``text`` cut into pieces each drawn with one font: Roboto, else DejaVu Sans, else "□"."""
    primary = _covered(str(FONT_BOLD if bold else FONT_REGULAR))
    fallback = _covered(str(FALLBACK_BOLD if bold else FALLBACK_REGULAR))
    pieces: list[tuple[str, ImageFont.FreeTypeFont]] = []
    for ch in text:
        code = ord(ch)
        if code in primary or (unicodedata.category(ch) in ("Cc", "Cf", "Mn") and code < 0x370):
            font = _font(size, bold)
        else:
            if code not in fallback:
                _warn_missing(ch)
                ch = MISSING_GLYPH
            font = _fallback_font(size, bold)
        if pieces and pieces[-1][1] is font:
            pieces[-1] = (pieces[-1][0] + ch, font)
        else:
            pieces.append((ch, font))
    return pieces


@lru_cache(maxsize=8192)
def text_length(text: str, size: TextSize, bold: bool) -> float:
    """Width in dots of ``text`` as drawn (fallback fonts included)."""
    return sum(font.getlength(piece) for piece, font in font_pieces(text, size, bold))


def draw_text(
    draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, size: TextSize, bold: bool
) -> float:
    """Draw ``text`` with its baseline-left anchor at ``xy``; returns the width drawn."""
    x, y = xy
    for piece, font in font_pieces(text, size, bold):
        draw.text((x, y), piece, font=font, fill=0, anchor="la")
        x += font.getlength(piece)
    return x - xy[0]


@lru_cache(maxsize=32)
def _line_box(size: TextSize) -> tuple[int, int]:
    """(offset, height) of one line: room for stacked diacritics (Ộ, Ễ) and descenders (ỵ)."""
    top, bottom = 0, 0
    for bold in (False, True):
        font = _font(size, bold)
        ascent, descent = font.getmetrics()
        tall = font.getbbox("ỘỄẤẬỸ", anchor="la")
        deep = font.getbbox("gjpqyỵỴ", anchor="la")
        top = min(top, tall[1])
        bottom = max(bottom, ascent + descent, deep[3])
    return -top, bottom - top + LINE_GAP_PX


def _split_long(word: str, size: TextSize, bold: bool, width: float) -> list[str]:
    """Break a word wider than ``width`` into pieces that fit (at least one char each)."""
    pieces: list[str] = []
    current = ""
    for ch in word:
        if current and text_length(current + ch, size, bold) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


Run = tuple[str, bool]  # (text, bold)
_SPACES = re.compile(r"[ \t\r\n]+")  # not NBSP: "08:15\u00a026/11/2024" stays on one line
Line = list[Run]


def wrap_runs(
    runs: Iterable[Run], size: TextSize, first_width: float, width: float | None = None
) -> list[Line]:
    """Greedy word wrap of styled runs by measured width; each line is a list of runs.

    The first line may be ``first_width`` wide, the others ``width`` (default: the same).
    A word wider than a line is broken between characters rather than clipped.
    """
    next_width = first_width if width is None else width
    tokens: list[tuple[str, bool]] = []
    for text, bold in runs:
        for word in _SPACES.split(nfc(text)):
            if not word:
                continue
            tokens.append((word, bold))
    lines: list[Line] = []
    line: Line = []
    used = 0.0
    limit = first_width
    for word, bold in tokens:
        space = text_length(" ", size, bold) if line else 0.0
        wlen = text_length(word, size, bold)
        if line and used + space + wlen <= limit:
            line.append((" " + word, bold))
            used += space + wlen
            continue
        if line:
            lines.append(line)
            line, used, limit = [], 0.0, next_width
        if wlen <= limit:
            line, used = [(word, bold)], wlen
            continue
        pieces = _split_long(word, size, bold, limit)
        for piece in pieces[:-1]:
            lines.append([(piece, bold)])
            limit = next_width
        line, used = [(pieces[-1], bold)], text_length(pieces[-1], size, bold)
    if line:
        lines.append(line)
    return lines


def line_width(line: Line, size: TextSize) -> float:
    """Measured width of a wrapped line."""
    return sum(text_length(text, size, bold) for text, bold in line)


def _draw_lines(
    lines: Sequence[Line], size: TextSize, width_px: int, align: Align, indent: int = 0
) -> Image.Image:
    offset, height = _line_box(size)
    img = Image.new("L", (width_px, max(1, height * len(lines))), 255)
    draw = ImageDraw.Draw(img)
    inner = width_px - 2 * MARGIN_PX
    for row, line in enumerate(lines):
        lw = line_width(line, size)
        x = float(MARGIN_PX + indent)
        if align == "center":
            x = MARGIN_PX + (inner - lw) / 2
        elif align == "right":
            x = MARGIN_PX + inner - lw
        y = row * height + offset
        for text, bold in line:
            x += draw_text(draw, (x, y), text, size, bold)
    return img


def _render_block(block: Block, width_px: int) -> Image.Image:
    inner = width_px - 2 * MARGIN_PX
    if isinstance(block, TextBlock):
        size = block.size
        lines = wrap_runs([(block.text, block.bold)], size, inner)
        if block.fit and len(lines) > 1:
            smaller = _SIZES[_SIZES.index(size) - 1 :: -1] if size != "small" else []
            for candidate in smaller:
                fitted = wrap_runs([(block.text, block.bold)], candidate, inner)
                if len(fitted) == 1:
                    size, lines = candidate, fitted
                    break
        return _draw_lines(lines or [[("", False)]], size, width_px, block.align)
    if isinstance(block, FieldBlock):
        runs: list[Run] = [(block.label + ":", True)]
        if block.value:
            runs.append((block.value, block.value_bold))
        return _draw_lines(wrap_runs(runs, block.size, inner), block.size, width_px, "left")
    if isinstance(block, ItemBlock):
        indent = int(text_length(block.marker + " ", block.size, False)) + 16
        body = wrap_runs([(block.text, False)], block.size, inner - indent) or [[("", False)]]
        img = _draw_lines(body, block.size, width_px, "left", indent=indent)
        marker_xy = (MARGIN_PX + 16, _line_box(block.size)[0])
        draw_text(ImageDraw.Draw(img), marker_xy, block.marker, block.size, False)
        return img
    if isinstance(block, SeparatorBlock):
        img = Image.new("L", (width_px, 14), 255)
        draw = ImageDraw.Draw(img)
        if block.style == "solid":
            draw.rectangle((MARGIN_PX, 6, width_px - MARGIN_PX - 1, 7), fill=0)
        else:
            for x in range(MARGIN_PX, width_px - MARGIN_PX, 12):
                draw.rectangle((x, 6, min(x + 6, width_px - MARGIN_PX - 1), 7), fill=0)
        return img
    if isinstance(block, SpacerBlock):
        return Image.new("L", (width_px, max(1, block.height_px)), 255)
    if isinstance(block, QRBlock):
        return _render_qr(block, width_px)
    raise TypeError(f"not a layout block: {block!r}")


def qr_image(data: str, module_px: int, border: int = 2) -> Image.Image:
    """A QR code for ``data`` (UTF-8, error correction M) as a black-on-white "L" image."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module_px, border=border
    )
    code.add_data(data.encode("utf-8"))
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("L")


def qr_module_for(block: QRBlock, width_px: int) -> int:
    """Dots per QR module: the block's own, else the largest that fits comfortably (max 6)."""
    if block.module_px is not None:
        return block.module_px
    inner = width_px - 2 * MARGIN_PX
    probe = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    probe.add_data(block.data.encode("utf-8"))
    probe.make(fit=True)
    modules = probe.modules_count + 4
    return max(1, min(6, int(min(inner * 0.7, 340) // modules)))


def _render_qr(block: QRBlock, width_px: int) -> Image.Image:
    inner = width_px - 2 * MARGIN_PX
    code = qr_image(block.data, qr_module_for(block, width_px))
    if code.width > inner:
        raise ValueError(f"QR of {code.width} dots does not fit {inner} dots of paper")
    parts = [Image.new("L", (width_px, code.height), 255)]
    parts[0].paste(code, ((width_px - code.width) // 2, 0))
    if block.caption:
        lines = wrap_runs([(block.caption, False)], "small", inner)
        parts.append(_draw_lines(lines, "small", width_px, "center"))
    return _stack(parts, width_px)


def _stack(parts: Sequence[Image.Image], width_px: int) -> Image.Image:
    height = sum(p.height for p in parts)
    out = Image.new("L", (width_px, max(1, height)), 255)
    y = 0
    for part in parts:
        out.paste(part, (0, y))
        y += part.height
    return out


def render_layout(blocks: Sequence[Block], width_px: int) -> Image.Image:
    """Draw the blocks top to bottom on white paper ``width_px`` dots wide; mode "1"."""
    if width_px < 2 * MARGIN_PX + 64:
        raise ValueError(f"paper width {width_px} dots is too narrow")
    parts = [Image.new("L", (width_px, MARGIN_PX), 255)]
    parts += [_render_block(block, width_px) for block in blocks]
    parts.append(Image.new("L", (width_px, MARGIN_PX), 255))
    grey = _stack(parts, width_px)
    return grey.point(lambda v: 255 if v >= 128 else 0, mode="1")


__all__ = [
    "Align",
    "Block",
    "FieldBlock",
    "ItemBlock",
    "QRBlock",
    "QueueTicketData",
    "ReceiptData",
    "ReceiptDataError",
    "SeparatorBlock",
    "SpacerBlock",
    "TextBlock",
    "collect_place",
    "dots_for_width_mm",
    "draw_text",
    "font_pieces",
    "format_date",
    "format_datetime",
    "format_vnd",
    "mask_id",
    "nfc",
    "qr_image",
    "qr_module_for",
    "receipt_layout",
    "render_layout",
    "test_page_layout",
    "text_length",
    "ticket_layout",
    "wrap_runs",
]
