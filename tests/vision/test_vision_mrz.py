"""The MRZ reader on generated card backs and passport pages (devices/simulated/card_images).

Every picture is made at test time from a fixed seed: a CCCD back (2021 or 2024) on a desk at
several difficulties, a bare MRZ strip, a passport page. The reader must return the exact lines,
repair only what the check digits prove, and refuse (MRZUnreadable) what they cannot.
"""

from __future__ import annotations

import tracemalloc
from datetime import date

import cv2
import numpy as np
import pytest

from devices.simulated import card_images as ci
from devices.simulated.lds_builder import LDSProfile
from kiosk.emrtd.mrz import check_digit, mrz_key, parse_mrz
from kiosk.paths import SAMPLES_DIR
from kiosk.vision.errors import ImageUnreadable, MRZNotFound, MRZUnreadable
from kiosk.vision.mrz_reader import MRZRead, read_mrz

# Four pictures per difficulty, twenty in all: the seeds are fixed, so is the outcome.
SAMPLES = [(tier, seed) for tier in ("easy", "medium", "hard", "strip") for seed in (0, 1, 2, 3)]
SAMPLES += [("passport", seed) for seed in (0, 1, 2, 3)]


def holder(**changes: object) -> ci.CardHolder:
    profile = LDSProfile(
        id_number="001090012345",
        full_name="Nguyễn Văn An",
        date_of_birth=date(1990, 5, 15),
        sex="M",
        residence="Số 12 đường Trần Phú, Phường Hà Đông, Thành phố Hà Nội",
        date_of_issue=date(2021, 4, 10),
        date_of_expiry=date(2030, 5, 15),
    )
    fields = {"profile": profile, "old_id": "123456789", "passport_number": "C4946426"}
    fields.update(changes)
    return ci.CardHolder(**fields)  # type: ignore[arg-type]


def strip(lines: list[str]) -> np.ndarray:
    """A clean picture of exactly these MRZ characters (which may break their check digits)."""
    return ci.render_mrz_strip(lines, mm=10.0)


@pytest.mark.parametrize(("tier", "seed"), SAMPLES)
def test_generated_pictures_read_exactly(tier: str, seed: int) -> None:
    sample = ci.mrz_sample(seed, tier)
    result = read_mrz(sample.image)
    assert result.lines == list(sample.mrz_lines)
    assert result.valid and result.info.valid
    truth = parse_mrz("\n".join(sample.mrz_lines))
    assert result.mrz_key == ("" if truth.date_of_expiry == "<<<<<<" else truth.mrz_key)
    if tier == "passport":
        assert result.info.format == "TD3"
        assert result.id_number is None and result.can is None
    else:
        assert result.info.format == "TD1"
        assert result.id_number == sample.holder.profile.id_number
        assert result.can == sample.holder.profile.id_number[-6:]
    assert 0 < result.seconds < 10


def test_cccd_fields_and_key() -> None:
    card = ci.render_cccd_back(holder(), mm=12.0)
    result = read_mrz(card)
    assert isinstance(result, MRZRead)
    assert result.lines == ci.cccd_mrz_lines(holder())
    assert result.info.names == ("NGUYEN", "VAN AN")
    assert result.info.document_number == "090012345"
    assert (result.info.date_of_birth, result.info.date_of_expiry) == ("900515", "300515")
    assert result.id_number == "001090012345" and result.can == "012345"
    assert result.mrz_key == mrz_key("090012345", "900515", "300515") == result.info.mrz_key
    assert result.repaired == []


def test_card_without_expiry_has_no_mrz_key() -> None:
    old = holder(profile=LDSProfile("079155004321", "Trần Thị Bình", date(1955, 2, 3), "F"))
    result = read_mrz(ci.render_cccd_back(old))
    assert result.info.date_of_expiry == "<<<<<<"
    assert result.id_number == "079155004321"
    assert result.mrz_key == ""


def test_passport_td3() -> None:
    lines = ci.passport_mrz_lines(holder())
    result = read_mrz(ci.render_passport_page(holder()))
    assert result.lines == lines
    assert result.info.format == "TD3"
    assert result.info.document_number == "C4946426"
    assert result.info.names == ("NGUYEN", "VAN AN")
    assert result.info.optional_data.startswith("001090012345")


@pytest.mark.parametrize("turn", [cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE])
def test_card_upside_down_or_sideways(turn: int) -> None:
    card = ci.render_card2024_back(holder())
    assert read_mrz(cv2.rotate(card, turn)).lines == ci.cccd_mrz_lines(holder())


def test_gray_and_bgra_pictures() -> None:
    card = ci.render_cccd_back(holder(), mm=10.0)
    expected = ci.cccd_mrz_lines(holder())
    assert read_mrz(cv2.cvtColor(card, cv2.COLOR_BGR2GRAY)).lines == expected
    assert read_mrz(cv2.cvtColor(card, cv2.COLOR_BGR2BGRA)).lines == expected


def test_confusion_repaired_and_reported() -> None:
    truth = ci.passport_mrz_lines(holder())
    printed = [truth[0], truth[1][:6] + "Z" + truth[1][7:]]  # C4946426: the second 2 as Z
    assert truth[1][6] == "2"
    result = read_mrz(strip(printed))
    assert result.lines == truth
    assert result.repaired == ["2:7 Z→2"]


def test_cccd_digit_fields_take_digits_only() -> None:
    """On a CCCD the document number and the ID are digits: an O there is read as 0 by the
    layout itself, and the check digits then confirm it."""
    truth = ci.cccd_mrz_lines(holder())
    printed = [truth[0][:8] + "O" + truth[0][9:], truth[1], truth[2]]
    assert truth[0][8] == "0"
    result = read_mrz(strip(printed))
    assert result.lines == truth


def test_check_digit_that_cannot_be_repaired() -> None:
    truth = ci.cccd_mrz_lines(holder())
    wrong = str((int(truth[1][6]) + 5) % 10)  # the date of birth's check digit
    printed = [truth[0], truth[1][:6] + wrong + truth[1][7:], truth[2]]
    with pytest.raises(MRZUnreadable) as caught:
        read_mrz(strip(printed))
    assert "date_of_birth" in str(caught.value)
    assert caught.value.msgid.endswith("Please scan it again.")
    loose = read_mrz(strip(printed), strict=False)
    assert loose.valid is False and loose.lines == printed and loose.id_number is None


def test_cross_checks_refuse_a_consistent_looking_lie() -> None:
    """Check digits all hold, but the ID number's year of birth is not the MRZ's."""
    truth = ci.cccd_mrz_lines(holder())
    dob = "850515"
    body = f"{dob}{check_digit(dob)}{truth[1][7:]}"
    composite = check_digit(truth[0][5:30] + body[0:7] + body[8:15] + body[18:29])
    printed = [truth[0], body[:29] + composite, truth[2]]
    assert parse_mrz("\n".join(printed)).valid
    with pytest.raises(MRZUnreadable, match="says born in 1990"):
        read_mrz(strip(printed))


def test_unclear_name_is_refused_not_guessed() -> None:
    """A smudge over the name (no check digit covers it) makes the reader refuse."""
    card = ci.render_cccd_back(holder(), mm=10.0)
    h, w = card.shape[:2]
    y = int(h * 0.93)
    x0, x1 = int(w * 0.17), int(w * 0.21)  # the middle of "NGUYEN"
    card[y - 14 : y + 14, x0:x1] = cv2.GaussianBlur(card[y - 14 : y + 14, x0:x1], (0, 0), 6)
    with pytest.raises(MRZUnreadable, match="no check digit protects"):
        read_mrz(card)


@pytest.mark.parametrize("name", ["desk-empty.jpg", "document-vn.jpg", "portrait-demo.jpg"])
def test_no_mrz_in_the_picture(name: str) -> None:
    picture = cv2.imread(str(SAMPLES_DIR / name))
    with pytest.raises(MRZNotFound) as caught:
        read_mrz(picture)
    assert "back of the card" in caught.value.msgid


def test_card_front_has_no_mrz() -> None:
    with pytest.raises(MRZNotFound):
        read_mrz(ci.qr_sample(0, "easy", generation=2021).image)


@pytest.mark.parametrize(
    "bad",
    [np.zeros((0, 0, 3), np.uint8), np.zeros((10, 10, 3), np.float32), "picture.jpg", None],
)
def test_not_a_picture(bad: object) -> None:
    with pytest.raises(ImageUnreadable):
        read_mrz(bad)  # type: ignore[arg-type]


def test_forty_megapixels_are_shrunk_first() -> None:
    """A 40-megapixel gray photo: read without any full-size copy (tracemalloc follows NumPy
    and OpenCV's Python arrays)."""
    card = cv2.cvtColor(ci.render_cccd_back(holder(), mm=14.0), cv2.COLOR_BGR2GRAY)
    big = np.full((5000, 8000), 205, np.uint8)
    card = cv2.resize(card, None, fx=5, fy=5, interpolation=cv2.INTER_LINEAR)
    big[200 : 200 + card.shape[0], 300 : 300 + card.shape[1]] = card
    del card
    tracemalloc.start()
    try:
        result = read_mrz(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.lines == ci.cccd_mrz_lines(holder())
    assert peak < 0.5 * big.nbytes


def test_unknown_reader() -> None:
    with pytest.raises(ValueError):
        read_mrz(strip(ci.cccd_mrz_lines(holder())), reader="magic")


def test_generated_pictures_are_reproducible() -> None:
    first, again = ci.mrz_sample(11, "hard"), ci.mrz_sample(11, "hard")
    assert np.array_equal(first.image, again.image)
    assert first.mrz_lines == again.mrz_lines
    assert not np.array_equal(first.image, ci.mrz_sample(12, "hard").image)
