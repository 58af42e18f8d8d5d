"""The QR reader on generated card pictures, and the parser of the CCCD's QR text.

Pictures come from devices/simulated/card_images (seeded): the 2021 CCCD front and the 2024
card back, held close, far (modules under two pixels), turned and seen at an angle, or with a
glare spot on the code.
"""

from __future__ import annotations

import unicodedata
from datetime import date

import cv2
import numpy as np
import pytest
import qrcode
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.simulated import card_images as ci
from kiosk.identity.model import Identity, IdentitySource
from kiosk.paths import SAMPLES_DIR
from kiosk.vision.cccd_qr import CCCDQR, parse_cccd_qr
from kiosk.vision.errors import ImageUnreadable, NotACCCDQR, QRNotFound
from kiosk.vision.qr_reader import read_cccd_qr, read_qr

PAYLOAD = (
    "001090012345|123456789|Nguyễn Văn An|15051990|Nam|"
    "Số 12 đường Trần Phú, Phường Hà Đông, Thành phố Hà Nội|10042021"
)


def qr_picture(text: str, box: int = 6, encoding: str = "utf-8") -> np.ndarray:
    code = qrcode.QRCode(box_size=box, border=4)
    code.add_data(text.encode(encoding))
    code.make(fit=True)
    return cv2.cvtColor(np.array(code.make_image().convert("L")), cv2.COLOR_GRAY2BGR)


# --- reading pictures -----------------------------------------------------------------------


@pytest.mark.parametrize("tier", ci.QR_DIFFICULTIES)
def test_generated_cards_read_exactly(tier: str) -> None:
    """Five pictures per tier; every one decodes to the exact payload, names with diacritics."""
    for seed in range(5):
        sample = ci.qr_sample(seed, tier)
        assert sample.qr_payload in read_qr(sample.image), (tier, seed)
        card = read_cccd_qr(sample.image)
        assert card.full_name == sample.holder.profile.full_name
        assert card.residence == sample.holder.profile.residence
        assert card.id_number == sample.holder.profile.id_number


def test_vietnamese_name_exact_from_both_card_generations() -> None:
    for generation in (2021, 2024):
        sample = ci.qr_sample(7, "easy", generation=generation)
        card = read_cccd_qr(sample.image)
        assert card.full_name == sample.holder.profile.full_name
        assert unicodedata.is_normalized("NFC", card.full_name)
        assert (card.old_id == "") == (generation == 2024 or not sample.holder.old_id)


def test_utf8_without_eci_is_not_taken_for_another_charset() -> None:
    text = "Đặng Thị Thủy Tiên|Bùi Hữu Nghĩa|Hồ Chí Minh"
    assert read_qr(qr_picture(text)) == [text]


def test_small_glossy_code_needs_the_enhanced_passes() -> None:
    """A code that one plain zxing-cpp pass misses is still read."""
    import zxingcpp

    missed = 0
    for seed in range(6):
        sample = ci.qr_sample(seed, "glossy")
        gray = cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY)
        plain = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
        missed += not plain
        assert read_qr(sample.image) == [sample.qr_payload]
    assert missed >= 2


def test_several_codes() -> None:
    first, second = qr_picture("https://dichvucong.gov.vn"), qr_picture(PAYLOAD, box=4)
    canvas = np.full((max(first.shape[0], second.shape[0]) + 40, 1200, 3), 255, np.uint8)
    canvas[20 : 20 + first.shape[0], 20 : 20 + first.shape[1]] = first
    canvas[20 : 20 + second.shape[0], 600 : 600 + second.shape[1]] = second
    assert sorted(read_qr(canvas)) == sorted(["https://dichvucong.gov.vn", PAYLOAD])
    assert read_cccd_qr(canvas).id_number == "001090012345"


def test_forty_megapixels_are_shrunk_first() -> None:
    """A 40-megapixel gray photo of a card front: read without a full-size copy."""
    import tracemalloc

    sample = ci.qr_sample(2, "easy", generation=2021)
    card = cv2.cvtColor(ci.render_cccd_front(sample.holder, mm=14.0), cv2.COLOR_BGR2GRAY)
    big = np.full((5000, 8000), 60, np.uint8)
    card = cv2.resize(card, None, fx=5, fy=5, interpolation=cv2.INTER_LINEAR)
    big[300 : 300 + card.shape[0], 500 : 500 + card.shape[1]] = card
    del card
    tracemalloc.start()
    try:
        texts = read_qr(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert texts == [sample.qr_payload]
    assert peak < 0.5 * big.nbytes


def test_no_qr_code() -> None:
    with pytest.raises(QRNotFound) as caught:
        read_qr(cv2.imread(str(SAMPLES_DIR / "desk-empty.jpg")))
    assert "QR code" in caught.value.msgid


def test_a_url_is_not_a_cccd() -> None:
    with pytest.raises(NotACCCDQR) as caught:
        read_cccd_qr(qr_picture("https://dichvucong.gov.vn/p/home/dvc-trang-chu.html"))
    assert "citizen ID card" in caught.value.msgid


@pytest.mark.parametrize("bad", [np.zeros((0, 5), np.uint8), np.ones((4, 4), np.int16), b"png"])
def test_not_a_picture(bad: object) -> None:
    with pytest.raises(ImageUnreadable):
        read_qr(bad)  # type: ignore[arg-type]


# --- parsing the text -----------------------------------------------------------------------


def test_parse_2021_payload() -> None:
    card = parse_cccd_qr(PAYLOAD)
    assert card == CCCDQR(
        id_number="001090012345",
        old_id="123456789",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1990, 5, 15),
        sex="Nam",
        residence="Số 12 đường Trần Phú, Phường Hà Đông, Thành phố Hà Nội",
        issue_date=date(2021, 4, 10),
        extra=[],
    )
    assert card.can == "012345"
    assert card.sex_letter == "M"


def test_parse_2024_payload_with_empty_and_extra_fields() -> None:
    text = "048303007890||Lê Thị Thu Hà|30092003|Nữ|Số 8 Bạch Đằng, Hải Châu, Đà Nẵng|01072024||X1"
    card = parse_cccd_qr(text)
    assert card.old_id == ""
    assert card.full_name == "Lê Thị Thu Hà"
    assert card.sex == "Nữ" and card.sex_letter == "F"
    assert card.issue_date == date(2024, 7, 1)
    assert card.extra == ["", "X1"]
    assert card.can == "007890"


def test_decomposed_text_is_normalised() -> None:
    card = parse_cccd_qr(unicodedata.normalize("NFD", PAYLOAD))
    assert card.full_name == "Nguyễn Văn An"
    assert unicodedata.is_normalized("NFC", card.residence)


def test_to_identity() -> None:
    identity = Identity.from_card_qr(parse_cccd_qr(PAYLOAD))
    assert identity.source is IdentitySource.QR
    assert identity.id_number == "001090012345"
    assert identity.full_name == "Nguyễn Văn An"
    assert identity.age_on(date(2025, 5, 14)) == 34


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("https://dichvucong.gov.vn", "fields"),
        ("", "fields"),
        ("001090012345|123456789|Nguyễn Văn An|15051990|Nam|Hà Nội", "fields"),
        (PAYLOAD.replace("001090012345", "00109001234"), "12-digit"),
        (PAYLOAD.replace("001090012345", "999090012345"), "not valid"),
        (PAYLOAD.replace("15051990", "31021990"), "not a date"),
        (PAYLOAD.replace("15051990", "15051985"), "born in 1990"),
        (PAYLOAD.replace("|Nam|", "|Nữ|"), "sex"),
        (PAYLOAD.replace("|Nam|", "|X|"), "sex"),
        (PAYLOAD.replace("123456789", "12345"), "old"),
        (PAYLOAD.replace("Nguyễn Văn An", ""), "name"),
        (PAYLOAD.replace("10042021", "10041980"), "before the birth"),
        (PAYLOAD.replace("10042021", "2021"), "ddmmyyyy"),
    ],
)
def test_not_a_cccd_payload(text: str, reason: str) -> None:
    with pytest.raises(NotACCCDQR, match=reason):
        parse_cccd_qr(text)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_not_a_cccd(text: str) -> None:
    try:
        card = parse_cccd_qr(text)
    except NotACCCDQR:
        return
    assert len(card.id_number) == 12


_FIELD = st.one_of(
    st.text(max_size=14),
    st.from_regex(r"[0-9]{12}", fullmatch=True),
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.sampled_from(["001090012345", "15051990", "10042021", "Nam", "Nữ", ""]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_FIELD, min_size=0, max_size=10))
def test_arbitrary_fields_raise_only_not_a_cccd(fields: list[str]) -> None:
    try:
        card = parse_cccd_qr("|".join(fields))
    except NotACCCDQR:
        return
    assert card.date_of_birth <= card.issue_date
