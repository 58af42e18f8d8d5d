"""kiosk.vision.pdf: searchable PDFs of generated pages, their text layer, images and size.

Sizes measured for an A4 page at 200 dpi, JPEG quality 75: about 150 KB for a clean rendered
page, 230–260 KB for a photographed one (noise costs JPEG bytes). The bound is 400 KB a page.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pypdf
import pytest
from test_vision_ocr import (
    A4_200DPI,
    HEADING,
    TITLE,
    photograph,
    render_form,
    straighten,
)

from kiosk.vision.errors import ImageUnreadable, OCRFailed, VisionError
from kiosk.vision.pdf import PRODUCER, pdf_text, searchable_pdf, write_searchable_pdf

MAX_PAGE_BYTES = 400 * 1024
A4_POINTS = (595.3, 841.9)
SECOND_TITLE = "TỜ KHAI ĐĂNG KÝ THƯỜNG TRÚ"
SECOND_PARAGRAPH = (
    "Họ và tên: Trần Văn Bình. Ngày sinh: 02 tháng 9 năm 1985. Nơi thường trú: số 18 đường "
    "Nguyễn Trãi, phường Thượng Đình, quận Thanh Xuân, thành phố Hà Nội."
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def images_of(page: pypdf.PageObject) -> list[pypdf.generic.DictionaryObject]:
    resources = page["/Resources"]
    xobjects = resources.get("/XObject", {})
    found = [xobjects[name].get_object() for name in xobjects]
    return [xobject for xobject in found if xobject.get("/Subtype") == "/Image"]


@pytest.fixture(scope="module")
def two_pages() -> tuple[bytes, np.ndarray, np.ndarray]:
    first, _ = render_form()
    frame, corners = photograph(render_form(title=SECOND_TITLE, paragraph=SECOND_PARAGRAPH)[0], 3)
    second = straighten(frame, corners, A4_200DPI)
    pdf = searchable_pdf([first, second], title="Hồ sơ đăng ký", dpi=200)
    return pdf, first, second


def test_two_pages_each_with_its_own_text(two_pages) -> None:
    pdf, _, _ = two_pages
    texts = pdf_text(pdf)
    assert len(texts) == 2
    assert nfc(TITLE) in texts[0] and nfc(HEADING[0]) in texts[0]
    assert nfc(SECOND_TITLE) in texts[1] and nfc(SECOND_TITLE) not in texts[0]
    for word in ("Trần", "Bình", "Nguyễn", "Trãi", "Thượng", "Đình", "Thanh", "Xuân"):
        assert nfc(word) in texts[1]
    assert all(unicodedata.is_normalized("NFC", text) for text in texts)


def test_each_page_is_its_jpeg_image_on_a4(two_pages) -> None:
    pdf, first, _ = two_pages
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for page in reader.pages:
        assert float(page.mediabox.width) == pytest.approx(A4_POINTS[0], abs=1.5)
        assert float(page.mediabox.height) == pytest.approx(A4_POINTS[1], abs=1.5)
        (image,) = images_of(page)
        assert image["/Filter"] == "/DCTDecode"
        assert (image["/Width"], image["/Height"]) == (first.shape[1], first.shape[0])
        assert image["/ColorSpace"] == "/DeviceRGB"  # colour kept: red seals stay red
    # The image decodes to the page as rendered (JPEG-close).
    decoded = cv2.imdecode(
        np.frombuffer(images_of(reader.pages[0])[0].get_data(), np.uint8), cv2.IMREAD_COLOR
    )
    assert np.abs(decoded.astype(int) - first.astype(int)).mean() < 3


def test_text_layer_is_invisible(two_pages) -> None:
    pdf, _, _ = two_pages
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    content = reader.pages[0].get_contents().get_data()
    assert b"3 Tr" in content  # text render mode 3: neither filled nor stroked


def test_metadata(two_pages) -> None:
    pdf, _, _ = two_pages
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.title == nfc("Hồ sơ đăng ký")
    assert metadata.producer == PRODUCER


def test_size_stays_small(two_pages) -> None:
    pdf, _, _ = two_pages
    assert len(pdf) < 2 * MAX_PAGE_BYTES
    # One copy of Tesseract's font for both pages.
    assert pdf.count(b"/GlyphLessFont") == 3  # its font, CID font and descriptor name it


def test_large_page_is_stored_at_the_requested_dpi() -> None:
    page, _ = render_form()
    big = cv2.resize(page, (2480, 3508), interpolation=cv2.INTER_CUBIC)  # A4 at 300 dpi
    pdf = searchable_pdf([big], dpi=150)
    (page_obj,) = pypdf.PdfReader(io.BytesIO(pdf)).pages
    (image,) = images_of(page_obj)
    assert (image["/Width"], image["/Height"]) == (1240, 1754)
    assert float(page_obj.mediabox.width) == pytest.approx(A4_POINTS[0], abs=1.5)
    assert nfc(TITLE) in pdf_text(pdf)[0]


def test_camera_page_keeps_its_pixels_and_fills_a4(photographed_sample) -> None:
    pdf, page = photographed_sample
    (page_obj,) = pypdf.PdfReader(io.BytesIO(pdf)).pages
    (image,) = images_of(page_obj)
    assert (image["/Width"], image["/Height"]) == (page.shape[1], page.shape[0])
    assert float(page_obj.mediabox.height) == pytest.approx(A4_POINTS[1], abs=2.5)
    assert len(pdf) < MAX_PAGE_BYTES


@pytest.fixture(scope="module")
def photographed_sample() -> tuple[bytes, np.ndarray]:
    import json

    from kiosk.paths import SAMPLES_DIR

    truth = json.loads((SAMPLES_DIR / "document-vn.json").read_text(encoding="utf-8"))
    frame = cv2.imread(str(SAMPLES_DIR / truth["image"]), cv2.IMREAD_COLOR)
    page = straighten(frame, np.float32(truth["page_corners"]), (1240, 1754))
    return searchable_pdf([page]), page


def test_camera_page_text_is_searchable(photographed_sample) -> None:
    pdf, _ = photographed_sample
    assert nfc("ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN") in pdf_text(pdf)[0]


def test_landscape_page_gets_a_landscape_page() -> None:
    page, _ = render_form()
    landscape = cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE)[:, :, :]
    landscape = np.ascontiguousarray(landscape)
    pdf = searchable_pdf([landscape])
    (page_obj,) = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert float(page_obj.mediabox.width) == pytest.approx(A4_POINTS[1], abs=1.5)
    assert float(page_obj.mediabox.height) == pytest.approx(A4_POINTS[0], abs=1.5)


def test_blank_page_gives_a_page_without_text() -> None:
    pdf = searchable_pdf([np.full((2339, 1654, 3), 248, np.uint8)])
    assert pdf_text(pdf) == [""]
    assert pypdf.PdfReader(io.BytesIO(pdf)).metadata.title is None


def test_write_from_files_and_arrays(tmp_path: Path) -> None:
    page, _ = render_form()
    path = tmp_path / "page1.jpg"
    assert cv2.imwrite(str(path), page)
    out = tmp_path / "out" / "scan.pdf"
    out.parent.mkdir()
    size = write_searchable_pdf([path, page[:800]], out, title="Bản quét")
    assert out.stat().st_size == size
    assert [p.name for p in out.parent.iterdir()] == ["scan.pdf"]  # no partial file left
    texts = pdf_text(out.read_bytes())
    assert len(texts) == 2 and nfc(TITLE) in texts[0] and nfc(HEADING[1]) in texts[1]


def test_write_stops_on_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"this is not a JPEG")
    out = tmp_path / "scan.pdf"
    with pytest.raises(ImageUnreadable):
        write_searchable_pdf([bad], out)
    assert not out.exists()


@pytest.mark.parametrize(
    "garbage",
    [b"bytes", None, np.zeros((50, 50), np.float64), np.zeros((3, 3, 3), np.uint8)],
    ids=["bytes", "none", "float", "tiny"],
)
def test_garbage_page_is_image_unreadable(garbage) -> None:
    with pytest.raises(ImageUnreadable):
        searchable_pdf([garbage])


def test_no_pages_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        searchable_pdf([])


def test_unknown_language_is_ocr_failed() -> None:
    with pytest.raises(OCRFailed):
        searchable_pdf([np.full((400, 300, 3), 255, np.uint8)], lang="xyz")


def test_pdf_text_of_something_else_is_a_vision_error() -> None:
    with pytest.raises(VisionError):
        pdf_text(b"%PDF-1.5 but nothing else")
    with pytest.raises(VisionError):
        pdf_text(b"")
