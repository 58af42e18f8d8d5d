"""The declaration PDF (tờ khai): Vietnamese text survives, fonts embedded, pages numbered."""

from __future__ import annotations

import io
import logging
import threading
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from kiosk.errors import KioskError
from kiosk.forms.declaration_pdf import (
    REPLACEMENT_CHAR,
    Declaration,
    DeclarationPdfError,
    Line,
    Section,
    Table,
    format_date_line,
    render_declaration_pdf,
)

VIETNAM = timezone(timedelta(hours=7))
ID_NUMBER = "001185012345"
FOOTER = "Ki-ốt HUE-MC-01 · Hồ sơ 000.00.08.H57-261124-0001"
COLUMNS = ("Họ và tên", "Quê quán", "Chức vụ")
ROWS = (
    ("Nguyễn Thị Thuỷ", "Đắk Lắk", "Giám đốc"),
    ("Trần Văn Hữu", "Thừa Thiên Huế", "Phó giám đốc"),
    ("Lê Thị Ngọc Ánh", "Quảng Trị", "Kế toán trưởng"),
    ("Phạm Quốc Dũng", "Nghệ An", "Trưởng phòng kỹ thuật"),
    ("Hồ Thị Mỹ Duyên", "Bà Rịa - Vũng Tàu", "Thủ quỹ"),
)


def long_answer(chars: int = 3000) -> str:
    """A multi-line answer of ``chars`` characters, each line numbered so its end is checkable."""
    sentence = "Cơ sở in bảo đảm an ninh, trật tự, phòng cháy chữa cháy và vệ sinh môi trường; "
    lines = [f"Dòng {n:02d}: {sentence * 2}".strip() for n in range(1, 60)]
    text = "\n".join(lines)[: chars - len("\nHẾT.")] + "\nHẾT."
    assert len(text) == chars
    return text


def declaration(*, answer: str = "Có", **changes: object) -> Declaration:
    fields: dict[str, object] = {
        "form_title": "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN",
        "form_number": "Mẫu số 06",
        "addressee": "Kính gửi: Sở Văn hóa, Thể thao và Du lịch tỉnh Thừa Thiên Huế",
        "procedure_name": "Cấp giấy phép hoạt động in",
        "procedure_code": "LOCAL-IN-01",
        "sections": (
            Section(
                "I. THÔNG TIN NGƯỜI ĐỀ NGHỊ",
                (
                    Line("Họ và tên", "Nguyễn Thị Thuỷ"),
                    Line("Số định danh cá nhân", ID_NUMBER),
                    Line("Nơi thường trú", "Buôn Ma Thuột, Đắk Lắk"),
                    Line("Ghi chú", "ỗ ộ ữ ự ẫ"),
                ),
            ),
            Section(
                "II. NHÂN SỰ VÀ PHƯƠNG ÁN",
                (Table("Danh sách nhân sự chủ chốt", COLUMNS, ROWS), Line("Phương án", answer)),
            ),
        ),
        "documents": (
            "Bản sao giấy chứng nhận đăng ký doanh nghiệp (bản lưu trữ)",
            "Hợp đồng thuê mặt bằng sản xuất (bản chụp tại ki-ốt)",
        ),
        "place": "Huế",
        "signed_at": datetime(2026, 11, 24, 9, 30, tzinfo=VIETNAM),
        "signer_title": "NGƯỜI ĐỀ NGHỊ",
        "signer_name": "Nguyễn Thị Thuỷ",
        "identity_note": f"Đã xác thực danh tính bằng chip căn cước {ID_NUMBER}, ngày 24/11/2026",
        "footer": FOOTER,
    }
    fields.update(changes)
    return Declaration(**fields)  # type: ignore[arg-type]


def pages_text(pdf: bytes, *, nfc: bool = True) -> list[str]:
    texts = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    return [unicodedata.normalize("NFC", t) if nfc else t for t in texts]


def joined(texts: list[str]) -> str:
    """All pages' text with line breaks as spaces (a wrapped value reads as one line)."""
    return " ".join(" ".join(t.split()) for t in texts)


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    return render_declaration_pdf(declaration(answer=long_answer()))


def test_vietnamese_text_is_extractable(long_pdf: bytes) -> None:
    text = joined(pages_text(long_pdf))
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN",
        "Mẫu số 06",
        "Kính gửi: Sở Văn hóa, Thể thao và Du lịch tỉnh Thừa Thiên Huế",
        "Họ và tên: Nguyễn Thị Thuỷ",
        "Buôn Ma Thuột, Đắk Lắk",
        "ỗ ộ ữ ự ẫ",
        "Hồ sơ kèm theo:",
        "1. Bản sao giấy chứng nhận đăng ký doanh nghiệp (bản lưu trữ)",
        "Huế, ngày 24 tháng 11 năm 2026",
        "NGƯỜI ĐỀ NGHỊ",
        "Dòng 01:",
        "HẾT.",
    ):
        assert expected in text, expected


def test_table_has_header_and_every_cell(long_pdf: bytes) -> None:
    text = joined(pages_text(long_pdf))
    for cell in COLUMNS + tuple(c for row in ROWS for c in row):
        assert cell in text, cell


def test_long_answer_keeps_every_line_in_order_across_pages(long_pdf: bytes) -> None:
    texts = pages_text(long_pdf)
    assert len(texts) > 1
    text = joined(texts)
    positions = [text.index(f"Dòng {n:02d}:") for n in range(1, 19)]
    assert positions == sorted(positions)
    assert text.index("Dòng 18:") < text.index("HẾT.") < text.index("Hồ sơ kèm theo:")


def test_pages_are_numbered_and_carry_the_footer(long_pdf: bytes) -> None:
    texts = pages_text(long_pdf)
    total = len(texts)
    assert total > 1
    for number, page in enumerate(texts, 1):
        assert f"Trang {number}/{total}" in page
        assert FOOTER in page
        for other in range(1, total + 1):
            if other != number:
                assert f"Trang {other}/{total}" not in page


def test_short_declaration_is_one_page() -> None:
    texts = pages_text(render_declaration_pdf(declaration()))
    assert len(texts) == 1
    assert "Trang 1/1" in texts[0]


def test_fonts_are_embedded_subsets_and_nothing_else(long_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(long_pdf))
    seen = set()
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            seen.add(str(font["/BaseFont"]))
            assert font["/Subtype"] == "/TrueType"
            assert "/FontFile2" in font["/FontDescriptor"].get_object()
            assert "/ToUnicode" in font
    assert seen and all("+DejaVuSerif" in name for name in seen)


def test_metadata_has_title_language_and_no_personal_data(long_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(long_pdf))
    meta = reader.metadata
    assert meta is not None
    assert meta.title == "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN"
    assert meta["/Producer"] == "motcua-kiosk"
    assert meta["/CreationDate"] == "D:20261124093000+07'00'"
    assert reader.trailer["/Root"]["/Lang"] == "vi-VN"
    values = " ".join(str(v) for v in meta.values())
    for personal in (ID_NUMBER, "Nguyễn", "Thuỷ", "Buôn Ma Thuột"):
        assert personal not in values


def test_same_declaration_gives_the_same_bytes() -> None:
    decl = declaration()
    assert render_declaration_pdf(decl) == render_declaration_pdf(decl)


def test_concurrent_renders_agree_with_a_serial_one() -> None:
    decl = declaration(answer=long_answer(1200))
    expected = render_declaration_pdf(decl)
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(render_declaration_pdf(decl)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [expected] * 3


def test_decomposed_input_is_printed_in_nfc() -> None:
    name = "Đặng Thị Ngọc Thuỷ"  # printed only in the signature
    nfd_name = unicodedata.normalize("NFD", name)
    assert nfd_name != name
    pdf = render_declaration_pdf(declaration(signer_name=nfd_name))
    raw = joined(pages_text(pdf, nfc=False))  # no normalising here: the PDF itself holds NFC
    assert name in raw
    assert nfd_name not in raw


def test_characters_outside_the_font_are_replaced_visibly_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = "Tên Hán: 阮氏水 😀 chuông\x07 hết"
    with caplog.at_level(logging.WARNING, logger="kiosk.forms.declaration_pdf"):
        pdf = render_declaration_pdf(declaration(answer=answer))
    text = joined(pages_text(pdf))
    assert f"Tên Hán: {REPLACEMENT_CHAR * 3} {REPLACEMENT_CHAR} chuông{REPLACEMENT_CHAR} hết" in (
        text
    )
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    for code in ("U+962E", "U+6C0F", "U+6C34", "U+1F600", "U+0007"):
        assert code in warnings[0]
    assert "chuông" not in warnings[0]  # code points only: no citizen text in the log


def test_markup_characters_are_text_not_markup() -> None:
    answer = "a < b & c > d <b>not bold</b> &amp;"
    text = joined(pages_text(render_declaration_pdf(declaration(answer=answer))))
    assert f"Phương án: {answer}" in text


def test_cell_taller_than_a_page_continues_on_the_next() -> None:
    huge = "\n".join(f"Hàng {n:03d} của một ô rất dài trong bảng kê khai." for n in range(1, 121))
    table = Table("Bảng dài", ("STT", "Nội dung"), (("1", huge), ("2", "Ô cuối")))
    pdf = render_declaration_pdf(declaration(sections=(Section("", (table,)),)))
    texts = pages_text(pdf)
    assert len(texts) >= 3
    text = joined(texts)
    assert "Hàng 001" in text and "Hàng 120" in text and "Ô cuối" in text


def test_table_header_repeats_on_every_page_it_crosses() -> None:
    rows = tuple((str(n), f"Thiết bị số {n}", "Đức") for n in range(1, 90))
    table = Table("Danh mục thiết bị", ("STT", "Tên thiết bị", "Nước sản xuất"), rows)
    texts = pages_text(render_declaration_pdf(declaration(sections=(Section("", (table,)),))))
    with_rows = [t for t in texts if "Thiết bị số" in t]
    assert len(with_rows) >= 2
    assert all("Nước sản xuất" in t for t in with_rows)


def test_optional_parts_may_be_absent() -> None:
    decl = declaration(
        form_number=None,
        documents=(),
        identity_note="",
        footer="",
        place="",
        signed_at=datetime(2026, 2, 5, 8, 0),
        sections=(Section("", (Line("Họ và tên", "Nguyễn Thị Thuỷ"), Table("Con", ("Tên",), ()))),),
    )
    text = joined(pages_text(render_declaration_pdf(decl)))
    assert "Mẫu số" not in text and "Hồ sơ kèm theo" not in text
    assert "Ngày 05 tháng 02 năm 2026" in text
    assert "Con: (không có)" in text
    assert "Trang 1/1" in text


def test_date_line_follows_the_official_style() -> None:
    assert format_date_line("Huế", datetime(2026, 11, 24)) == "Huế, ngày 24 tháng 11 năm 2026"
    assert format_date_line("Huế", datetime(2026, 2, 5)) == "Huế, ngày 05 tháng 02 năm 2026"
    assert format_date_line("Đắk Lắk", datetime(2026, 3, 9)) == "Đắk Lắk, ngày 09 tháng 3 năm 2026"
    assert format_date_line("", datetime(2026, 12, 31)) == "Ngày 31 tháng 12 năm 2026"


def test_malformed_table_is_refused_with_a_clear_error() -> None:
    with pytest.raises(DeclarationPdfError, match="row 2 has 2 cells for 3 columns") as err:
        Table("Nhân sự", COLUMNS, (ROWS[0], ("Trần Văn Hữu", "Huế")))
    assert isinstance(err.value, KioskError)
    with pytest.raises(DeclarationPdfError, match="no columns"):
        Table("Trống", (), ())


def test_lists_are_accepted_and_frozen_to_tuples() -> None:
    table = Table("Nhân sự", list(COLUMNS), [list(r) for r in ROWS])  # type: ignore[arg-type]
    assert table.rows[0] == ROWS[0] and isinstance(table.rows, tuple)
    section = Section("", [table])  # type: ignore[arg-type]
    assert section.items == (table,)
