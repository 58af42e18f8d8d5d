"""Receipt and queue-ticket layouts: what the paper says, as blocks any printer can render.

``receipt_layout`` (Mẫu 01 of Thông tư 01/2018/TT-VPCP), ``ticket_layout`` and ``test_page_layout``
turn the data (``ReceiptData``, ``QueueTicketData``) into blocks (devices/printer/blocks.py); the
printer typesets them (devices/printer/raster.py). Money, dates and the masked ID number are
formatted here the Vietnamese way.

Errors:

    KioskError
     └── ReceiptDataError    a receipt JSON file (``kiosk receipt render F.json``) is not valid
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from devices.printer.blocks import (
    Block,
    FieldBlock,
    ItemBlock,
    QRBlock,
    SeparatorBlock,
    SpacerBlock,
    TextBlock,
)
from kiosk.errors import KioskError
from kiosk.infra.text import format_date, format_datetime, format_fee, nfc

QR_ISSUER_PREFIX = "motcua-kiosk/"


QR_PAYLOAD_VERSION = 1


class ReceiptDataError(KioskError):
    """A receipt's data (usually a JSON file given to ``kiosk receipt render``) is not valid."""


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
        FieldBlock(t["fee"], format_fee(data.fee_vnd, lang)),
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
