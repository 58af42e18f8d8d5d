"""Receipt and ticket layouts: data checks, Vietnamese formatting, wrapping, rendering, QR."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
from PIL import Image

from devices.printer.blocks import (
    MARGIN_PX,
    FieldBlock,
    ItemBlock,
    QRBlock,
    SeparatorBlock,
    SpacerBlock,
    TextBlock,
    dots_for_width_mm,
)
from devices.printer.raster import line_width, render_layout, wrap_runs
from kiosk.printing.receipt import (
    QueueTicketData,
    ReceiptData,
    ReceiptDataError,
    mask_id,
    receipt_layout,
    ticket_layout,
)
from kiosk.printing.receipt import test_page_layout as make_test_page

ICT = timezone(timedelta(hours=7))
LONG_PROCEDURE = (
    "Cấp giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với "
    "đất lần đầu cho hộ gia đình, cá nhân đã được cấp giấy chứng nhận trước đây nhưng có "
    "thay đổi về diện tích, ranh giới thửa đất hoặc thông tin của người sử dụng đất"
)


def make_receipt(**changes: object) -> ReceiptData:
    data = ReceiptData(
        agency_name="UBND phường Hồng Hà",
        agency_code="000.00.08.H21",
        procedure_name="Đăng ký khai sinh",
        procedure_code="1.001193",
        dossier_code="000.00.08.H21-261124-0001",
        applicant_name="Nguyễn Văn Ộ",
        applicant_id="001203004567",
        documents=["Tờ khai đăng ký khai sinh", "Giấy chứng sinh (bản chính)"],
        fee_vnd=50000,
        received_at=datetime(2024, 11, 26, 8, 15, tzinfo=ICT),
        appointment_date=date(2024, 12, 3),
        kiosk_id="K01",
        tracking_hint="Tra cứu tại ki-ốt hoặc cổng dịch vụ công bằng mã hồ sơ",
    )
    return replace(data, **changes) if changes else data


def make_ticket(**changes: object) -> QueueTicketData:
    data = QueueTicketData(
        number="A012",
        service_name="Hộ tịch",
        counter="3",
        people_ahead=5,
        estimated_wait_min=15,
        priority_label="Ưu tiên: người cao tuổi",
        issued_at=datetime(2024, 11, 26, 8, 15),
        agency_name="UBND phường Hồng Hà",
        kiosk_id="K01",
    )
    return replace(data, **changes) if changes else data


def texts(blocks: list) -> str:
    out = []
    for b in blocks:
        if isinstance(b, TextBlock | ItemBlock):
            out.append(b.text)
        elif isinstance(b, FieldBlock):
            out.append(f"{b.label}: {b.value}")
    return "\n".join(out)


def ink_box(img: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box of the black dots."""
    return Image.eval(img.convert("L"), lambda v: 255 - v).getbbox()


def read_qr(img: Image.Image) -> str:
    arr = np.array(img.convert("L"))
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(arr)
    assert points is not None, "no QR found in the image"
    return text


# ----------------------------------------------------------------- data


def test_qr_payload_is_compact_sorted_json_with_the_dossier_facts() -> None:
    payload = make_receipt().qr_payload()
    assert " " not in payload
    doc = json.loads(payload)
    assert list(doc) == sorted(doc)
    assert doc == {
        "v": 1,
        "dossier_code": "000.00.08.H21-261124-0001",
        "procedure_code": "1.001193",
        "applicant_id": "001203004567",
        "issuer": "motcua-kiosk/K01",
        "issued_at": "2024-11-26T08:15:00+07:00",
        "appointment_date": "2024-12-03",
    }


def test_qr_opens_the_tracking_page_when_the_province_has_one() -> None:
    url = "https://dichvucong.example.gov.vn/tra-cuu?ma-ho-so={code}"
    data = make_receipt(tracking_url=url)
    assert data.qr_payload() == (
        "https://dichvucong.example.gov.vn/tra-cuu?ma-ho-so=000.00.08.H21-261124-0001"
    )
    assert ReceiptData.from_json(data.to_json()) == data
    # a provisional reference is known only to the kiosk: its QR keeps the facts
    provisional = make_receipt(tracking_url=url, provisional=True)
    assert json.loads(provisional.qr_payload())["dossier_code"] == provisional.dossier_code


def test_json_round_trip_keeps_every_field() -> None:
    data = make_receipt(provisional=True)
    again = ReceiptData.from_json(data.to_json())
    assert again == data
    assert again.received_at.utcoffset() == timedelta(hours=7)
    assert "Nguyễn Văn Ộ" in data.to_json()  # UTF-8, not \\u escapes


def test_text_is_normalised_to_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn Ộ")
    data = make_receipt(applicant_name=decomposed, documents=[decomposed])
    assert data.applicant_name == unicodedata.normalize("NFC", decomposed)
    assert data.documents == ["Nguyễn Văn Ộ"]
    assert make_ticket(service_name=unicodedata.normalize("NFD", "Hộ tịch")).service_name == (
        "Hộ tịch"
    )


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("dossier_code"), "lacks field(s): dossier_code"),
        (lambda d: d.update(colour="red"), "unknown field(s): colour"),
        (lambda d: d.update(fee_vnd=-1), "fee_vnd: -1 is negative"),
        (lambda d: d.update(fee_vnd=True), "fee_vnd: expected int, got a boolean"),
        (lambda d: d.update(fee_vnd="50000"), "fee_vnd: expected int"),
        (lambda d: d.update(documents="Tờ khai"), "documents: expected list"),
        (lambda d: d.update(documents=["a", 3]), "documents[1]: expected str"),
        (lambda d: d.update(appointment_date="03/12/2024"), "appointment_date: '03/12/2024'"),
        (lambda d: d.update(received_at="hôm nay"), "received_at: 'hôm nay' is not an ISO"),
        (lambda d: d.update(applicant_name=None), "applicant_name: expected str"),
        (lambda d: d.update(provisional="yes"), "provisional: expected bool"),
    ],
)
def test_bad_receipt_json_names_the_field(mutate, message: str) -> None:
    original = make_receipt().to_json()
    doc = json.loads(original)
    mutate(doc)
    text = json.dumps(doc, ensure_ascii=False)
    with pytest.raises(ReceiptDataError) as info:
        ReceiptData.from_json(text)
    assert message in str(info.value)
    assert json.loads(text) == doc  # the input is not modified: nothing is lost


@pytest.mark.parametrize(
    ("text", "message"),
    [("{not json", "not valid JSON"), ("[1, 2]", "must be an object")],
)
def test_receipt_json_that_is_not_an_object(text: str, message: str) -> None:
    with pytest.raises(ReceiptDataError) as info:
        ReceiptData.from_json(text)
    assert message in str(info.value)


def test_ticket_refuses_negative_people_ahead() -> None:
    with pytest.raises(ValueError, match="people_ahead -1"):
        make_ticket(people_ahead=-1)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        receipt_layout(make_receipt(), "fr")


def test_paper_widths_in_dots() -> None:
    assert dots_for_width_mm(80) == 576
    assert dots_for_width_mm(58) == 384
    with pytest.raises(ValueError, match="unsupported paper width 57 mm"):
        dots_for_width_mm(57)


def test_id_is_masked_on_paper_but_whole_in_the_qr() -> None:
    assert mask_id("001203004567") == "001******567"
    data = make_receipt()
    assert "001******567" in texts(receipt_layout(data))
    assert "001203004567" not in texts(receipt_layout(data))
    assert json.loads(data.qr_payload())["applicant_id"] == "001203004567"


# ----------------------------------------------------------------- layouts


def test_receipt_layout_in_vietnamese() -> None:
    text = texts(receipt_layout(make_receipt()))
    for heading in (
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mã hồ sơ",
        "Người nộp: Nguyễn Văn Ộ",
        "Giấy tờ đã nhận",
        "Lệ phí: 50.000 đ",
        "Ngày hẹn trả kết quả",
        "03/12/2024",
        "000.00.08.H21-261124-0001",
        "Giấy chứng sinh (bản chính)",
    ):
        assert heading in text
    assert "BẢN TẠM" not in text
    assert text == unicodedata.normalize("NFC", text)


def test_receipt_layout_in_english_and_provisional() -> None:
    text = texts(receipt_layout(make_receipt(provisional=True, fee_vnd=0), "en"))
    assert "RECEIPT OF APPLICATION AND APPOINTMENT FOR RESULTS" in text
    assert "Applicant: Nguyễn Văn Ộ" in text
    assert "Fee: Free of charge" in text
    assert "PROVISIONAL" in text
    assert "GIẤY TIẾP NHẬN" not in text


def test_receipt_layout_carries_the_qr_payload() -> None:
    data = make_receipt()
    qrs = [b for b in receipt_layout(data) if isinstance(b, QRBlock)]
    assert [q.data for q in qrs] == [data.qr_payload()]
    assert qrs[0].caption == data.tracking_hint


def test_ticket_layout() -> None:
    text = texts(ticket_layout(make_ticket()))
    for part in (
        "PHIẾU THỨ TỰ",
        "A012",
        "Hộ tịch",
        "Ưu tiên: người cao tuổi",
        "Mời đến quầy số 3",
        "Số người chờ trước bạn: 5",
        "khoảng 15 phút",
    ):
        assert part in text
    bare = make_ticket(counter=None, priority_label=None, estimated_wait_min=None)
    plain = texts(ticket_layout(bare, "en"))
    assert "QUEUE TICKET" in plain and "People ahead of you: 5" in plain
    assert "counter" not in plain and "Estimated" not in plain and "Ưu tiên" not in plain


# ----------------------------------------------------------------- wrapping and rendering


def test_vietnamese_text_renders_within_the_paper() -> None:
    img = render_layout([TextBlock("Nguyễn Văn Ộ — Ngày hẹn trả kết quả")], 576)
    assert img.mode == "1" and img.width == 576
    box = ink_box(img)
    assert box is not None
    left, top, right, bottom = box
    assert left >= MARGIN_PX and right <= 576 - MARGIN_PX
    assert top > 0 and bottom < img.height  # nothing touches the edge: nothing clipped
    assert img.getpixel((0, 0)) == 255  # white paper


def test_stacked_diacritics_are_drawn_above_and_below() -> None:
    plain = ink_box(render_layout([TextBlock("O")], 576))
    marked = ink_box(render_layout([TextBlock("Ộ")], 576))
    assert plain is not None and marked is not None
    assert marked[1] < plain[1]  # the circumflex above
    assert marked[3] > plain[3]  # the dot below


def test_long_procedure_name_wraps_on_words_and_loses_nothing() -> None:
    inner = 384 - 2 * MARGIN_PX
    lines = wrap_runs([(LONG_PROCEDURE, False)], "normal", inner)
    assert len(lines) >= 4
    for line in lines:
        assert line_width(line, "normal") <= inner
    rebuilt = " ".join("".join(text for text, _ in line).strip() for line in lines)
    assert rebuilt == LONG_PROCEDURE
    img = render_layout([FieldBlock("Thủ tục", LONG_PROCEDURE)], 384)
    box = ink_box(img)
    assert box is not None and box[0] >= MARGIN_PX and box[2] <= 384 - MARGIN_PX


def test_a_word_longer_than_the_line_is_broken_not_clipped() -> None:
    word = "000.00.08.H21-261124-0001" * 3
    lines = wrap_runs([(word, True)], "large", 200)
    assert len(lines) > 1
    assert "".join(text for line in lines for text, _ in line) == word
    assert all(line_width(line, "large") <= 200 for line in lines)


def test_fit_shrinks_a_code_before_wrapping_it() -> None:
    code = "000.00.08.H21-261124-0001"
    wrapped = render_layout([TextBlock(code, bold=True, size="large")], 384)
    fitted = render_layout([TextBlock(code, bold=True, size="large", fit=True)], 384)
    assert fitted.height < wrapped.height
    box = ink_box(fitted)
    assert box is not None and box[2] <= 384 - MARGIN_PX


def test_items_hang_under_their_marker() -> None:
    one = render_layout([ItemBlock("1.", "Tờ khai")], 576)
    box = ink_box(one)
    assert box is not None and box[0] >= MARGIN_PX
    long = render_layout([ItemBlock("2.", LONG_PROCEDURE)], 576)
    assert long.height > one.height * 2


def test_separator_and_spacer() -> None:
    img = render_layout([SpacerBlock(40), SeparatorBlock(), SeparatorBlock("dashed")], 384)
    box = ink_box(img)
    assert box is not None
    assert box[1] >= 40 + MARGIN_PX
    assert box[0] == MARGIN_PX and box[2] == 384 - MARGIN_PX


@pytest.mark.parametrize("width", [576, 384])
def test_receipt_qr_reads_back_to_the_payload(width: int) -> None:
    data = make_receipt(procedure_name=LONG_PROCEDURE)
    img = render_layout(receipt_layout(data), width)
    assert img.width == width
    assert json.loads(read_qr(img)) == json.loads(data.qr_payload())
    assert read_qr(img) == data.qr_payload()


def test_ticket_and_test_page_render() -> None:
    ticket = render_layout(ticket_layout(make_ticket()), 384)
    assert ticket.width == 384 and ink_box(ticket) is not None
    page = render_layout(make_test_page("K01", 576, datetime(2024, 11, 26, 8, 15)), 576)
    assert read_qr(page).startswith("motcua-kiosk/K01 test")


def test_too_narrow_paper_and_unknown_block_are_refused() -> None:
    with pytest.raises(ValueError, match="too narrow"):
        render_layout([TextBlock("x")], 40)
    with pytest.raises(TypeError, match="not a layout block"):
        render_layout(["plain string"], 576)  # type: ignore[list-item]
