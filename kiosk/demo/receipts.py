"""Sample receipts and a sample queue ticket with real-looking Vietnamese content.

Used by ``kiosk receipt render --sample`` (and ``--json`` to get a template to edit), by the
README's screenshots and by tests. The content follows what the kiosk itself prints
(kiosk/flow/kiosk_flow.py ``receipt_data`` and ``_print_ticket``): procedures, fees, document
titles and
processing times are those of config/procedures/, appointment dates are counted in working days
from the receipt time as kiosk/dossier/workdays.py counts them, ID numbers have the shape of a real
12-digit personal identification number (province of birth registration, sex and century,
year of birth), dossier codes the shape of Thông tư 01/2018/TT-VPCP. Agency codes are
placeholders of the QCVN 102:2016 form, like those of config/agencies.toml.

    "dak-lak"   the default: an import licence (1.003725, fee 50.000 đ) filed in Đắk Lắk
    "hue-2024"  a printing-establishment registration (2.001740, free) filed in 2024, when the
                province was still Thừa Thiên Huế
"""

from __future__ import annotations

from datetime import date, datetime

from kiosk.dossier.model import format_dossier_code
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.printing.receipt import QueueTicketData, ReceiptData
from kiosk.tickets.store import find_priority_class, format_ticket_number

#: Vietnam's time zone (no daylight saving), as on every receipt the kiosk prints.

TRACKING_HINT = "Tra cứu tại ki-ốt hoặc Cổng dịch vụ công bằng mã hồ sơ"

DAK_LAK_CENTRE = "Trung tâm Phục vụ hành chính công tỉnh Đắk Lắk"
DAK_LAK_AGENCY_CODE = "000.00.08.H16"
DAK_LAK_KIOSK = "DLK-KIOSK-01"

HUE_CENTRE = "Trung tâm Phục vụ hành chính công tỉnh Thừa Thiên Huế"
HUE_AGENCY_CODE = "000.00.08.H57"
HUE_KIOSK = "TTH-KIOSK-02"

DEFAULT_SAMPLE = "dak-lak"


def _dak_lak() -> ReceiptData:
    received = datetime(2025, 11, 24, 8, 42, tzinfo=VIETNAM_TZ)
    return ReceiptData(
        agency_name=DAK_LAK_CENTRE,
        agency_code=DAK_LAK_AGENCY_CODE,
        procedure_name="Cấp giấy phép nhập khẩu xuất bản phẩm không kinh doanh",
        procedure_code="1.003725",
        dossier_code=format_dossier_code(DAK_LAK_AGENCY_CODE, received.date(), 37),
        applicant_name="Nguyễn Thị Ngọc Ánh",
        applicant_id="066186004213",  # registered in Đắk Lắk (066), a woman born in 1986
        documents=[
            "Đơn đề nghị cấp giấy phép nhập khẩu xuất bản phẩm không kinh doanh (Mẫu số 29)",
            "Danh mục xuất bản phẩm nhập khẩu (Mẫu số 30)",
            "Thẻ căn cước hoặc hộ chiếu của người đến làm thủ tục (đối chiếu)",
            "Bản sao vận đơn, hóa đơn hoặc giấy báo nhận hàng (nếu hàng đang được lưu giữ)",
        ],
        fee_vnd=50000,
        received_at=received,
        appointment_date=date(2025, 12, 15),  # 15 working days
        kiosk_id=DAK_LAK_KIOSK,
        tracking_hint=TRACKING_HINT,
    )


def _hue_2024() -> ReceiptData:
    received = datetime(2024, 11, 26, 14, 5, tzinfo=VIETNAM_TZ)
    return ReceiptData(
        agency_name=HUE_CENTRE,
        agency_code=HUE_AGENCY_CODE,
        procedure_name="Xác nhận đăng ký hoạt động cơ sở in",
        procedure_code="2.001740",
        dossier_code=format_dossier_code(HUE_AGENCY_CODE, received.date(), 112),
        applicant_name="Nguyễn Phước Bửu Lộc",
        applicant_id="046079002518",  # registered in Thừa Thiên Huế (046), a man born in 1979
        documents=[
            "Tờ khai đăng ký hoạt động cơ sở in (Mẫu số 11)",
            "Thẻ căn cước của chủ cơ sở (đối chiếu khi nộp trực tiếp)",
            "Bản sao giấy chứng nhận đăng ký doanh nghiệp hoặc đăng ký hộ kinh doanh (nếu có)",
        ],
        fee_vnd=0,
        received_at=received,
        appointment_date=date(2024, 11, 29),  # 3 working days
        kiosk_id=HUE_KIOSK,
        tracking_hint=TRACKING_HINT,
    )


_RECEIPTS = {"dak-lak": _dak_lak, "hue-2024": _hue_2024}

#: The names ``sample_receipt`` accepts, the default first.
SAMPLE_RECEIPTS: tuple[str, ...] = tuple(_RECEIPTS)


def sample_receipt(name: str = DEFAULT_SAMPLE) -> ReceiptData:
    """A fresh copy of the named sample receipt; ValueError names the samples there are."""
    try:
        build = _RECEIPTS[name]
    except KeyError:
        raise ValueError(
            f"unknown sample receipt {name!r} (samples: {', '.join(SAMPLE_RECEIPTS)})"
        ) from None
    return build()


def sample_ticket() -> QueueTicketData:
    """A priority queue ticket issued by the Đắk Lắk kiosk, as the kiosk prints one."""
    elderly = find_priority_class("elderly")
    return QueueTicketData(
        number=format_ticket_number("IN", 7, priority=True),
        service_name="Xuất bản, In và Phát hành",
        counter="2",
        people_ahead=4,
        estimated_wait_min=12,
        priority_label="Ưu tiên: " + elderly.label_vi.lower(),
        issued_at=datetime(2025, 11, 24, 8, 31, tzinfo=VIETNAM_TZ),
        agency_name=DAK_LAK_CENTRE,
        kiosk_id=DAK_LAK_KIOSK,
    )


__all__ = [
    "DEFAULT_SAMPLE",
    "SAMPLE_RECEIPTS",
    "sample_receipt",
    "sample_ticket",
]
