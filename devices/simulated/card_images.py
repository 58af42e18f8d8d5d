"""Generated pictures of identity documents, as the kiosk's document camera would see them.

Everything is seeded and made from scratch (Pillow text, NumPy textures, OpenCV warps), so the
vision tests and ``bench/vision.py`` need no real card and no personal data:

    render_cccd_back(person)        back of the 2021 CCCD: chip, fingerprints, TD1 MRZ in OCR-B
    render_cccd_front(person)       front of the 2021 CCCD: photo, fields, the QR code (top right)
    render_card2024_back(person)    back of the 2024 Căn cước: QR code, fields, TD1 MRZ
    render_passport_page(person)    a passport data page with its TD3 MRZ (2 × 44)
    render_mrz_strip(lines)         nothing but an MRZ, as a scanner or a crop would give it
    photograph(card, conditions)    that card lying on a desk under the camera: scale, tilt,
                                    perspective, uneven light, glare, blur, noise, JPEG, low res
    mrz_sample(seed, difficulty)    one picture with its MRZ lines (ground truth)
    qr_sample(seed, difficulty)     one picture with its QR payload (ground truth)

Difficulties for the MRZ: ``easy``, ``medium``, ``hard`` (small, blurred, noisy, badly lit, JPEG
artefacts, low-resolution frames, glare), ``strip`` (only the MRZ), ``passport`` (a TD3 page) and
``harsh`` (past what a kiosk camera should deliver, glare on the MRZ itself: for measuring that
the reader refuses rather than misreads). For the QR: ``easy``, ``small`` (modules under two
pixels), ``tilted`` (turned, seen at an angle), ``glossy`` (a glare spot on the code).

The QR payload follows the card: ``ID|old ID|full name|ddmmyyyy|sex|residence|issue ddmmyyyy``
in UTF-8 (NFC), the 2024 card leaving the old ID empty and adding fields after the seventh.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

from devices.simulated.lds_builder import LDSProfile, mrz_name, sex_letter, sex_text, td1_mrz
from kiosk.emrtd.mrz import check_digit
from kiosk.identity.id_number import PROVINCE_CODES
from kiosk.paths import FONT_BOLD, FONT_OCRB, FONT_REGULAR

OCRB_FONT = FONT_OCRB

CARD_MM = (85.6, 53.98)  # ID-1 (ISO/IEC 7810)
PASSPORT_MM = (125.0, 88.0)  # ID-3
MRZ_PITCH_MM = 2.54  # 10 characters per inch (ICAO 9303-3)
MRZ_LINE_MM = 4.23  # 6 lines per inch
OCRB_ADVANCE_EM = 0.723  # OCR-B's fixed advance, in em

MRZ_DIFFICULTIES = ("easy", "medium", "hard", "strip", "passport", "harsh")
QR_DIFFICULTIES = ("easy", "small", "tilted", "glossy")

INK = (24, 24, 30)
RED = (200, 30, 30)

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
SURNAMES += ["Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Trương", "Lương", "Tạ"]
MIDDLE_M = ["Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Xuân", "Công", "Hoàng", "Đình"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Thúy", "Hồng", "Diệu", "Bảo"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Khánh", "Long", "Nam"]
GIVEN_M += ["Phúc", "Quân", "Sơn", "Thắng", "Tuấn", "Việt", "Lộc", "Trọng", "Khôi", "Đông"]
GIVEN_F = ["Anh", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Nga", "Nguyệt", "Phương"]
GIVEN_F += ["Quỳnh", "Thảo", "Thủy", "Trang", "Uyên", "Yến", "Ánh", "Hằng", "Diễm", "Ngân"]
STREETS = ["Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Điện Biên Phủ", "Bạch Đằng"]
STREETS += ["Lý Thường Kiệt", "Hùng Vương", "Quang Trung", "Nguyễn Trãi", "Võ Thị Sáu"]
WARDS = ["Phường Hà Đông", "Phường Bến Thành", "Phường Hải Châu", "Xã Đông Anh", "Phường Ba Đình"]
WARDS += ["Xã Hòa Vang", "Phường Thủy Xuân", "Phường Vĩnh Hải", "Xã Tân Phú", "Phường Đống Đa"]
CITIES = ["Thành phố Hà Nội", "Thành phố Hồ Chí Minh", "Thành phố Đà Nẵng", "Tỉnh Nghệ An"]
CITIES += ["Thành phố Huế", "Tỉnh Khánh Hòa", "Tỉnh Đồng Nai", "Thành phố Hải Phòng"]


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# --- people ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardHolder:
    """A made-up citizen and the card facts that are not in ``LDSProfile``."""

    profile: LDSProfile
    old_id: str = ""  # the 9-digit CMND number, printed in the 2021 card's QR
    passport_number: str = ""  # e.g. C1234567
    place_of_birth: str = ""


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _day(rng: np.random.Generator, start: date, end: date) -> date:
    return date.fromordinal(int(rng.integers(start.toordinal(), end.toordinal() + 1)))


def _birthday(born: date, age: int) -> date:
    try:
        return born.replace(year=born.year + age)
    except ValueError:  # 29 February
        return date(born.year + age, 3, 1)


def random_holder(rng: np.random.Generator) -> CardHolder:
    """A plausible citizen: a real province code, an ID number that matches the sex and the year
    of birth, an expiry at the 25th, 40th or 60th birthday (none after 60)."""
    female = bool(rng.integers(2))
    born = _day(rng, date(1940, 1, 1), date(2006, 12, 31))
    given = _pick(rng, GIVEN_F if female else GIVEN_M)
    middle = [_pick(rng, MIDDLE_F if female else MIDDLE_M)]
    if rng.random() < 0.3:
        middle.append(_pick(rng, MIDDLE_F if female else MIDDLE_M))
    name = " ".join([_pick(rng, SURNAMES), *middle, given])
    century = (born.year - 1900) // 100
    province = sorted(PROVINCE_CODES)[int(rng.integers(len(PROVINCE_CODES)))]
    serial = f"{int(rng.integers(1_000_000)):06d}"
    id_number = f"{province}{2 * century + int(female)}{born.year % 100:02d}{serial}"
    issued = _day(rng, date(2021, 1, 1), date(2024, 12, 31))
    expiry = None
    for age in (25, 40, 60):
        if _birthday(born, age) > issued:
            expiry = _birthday(born, age)
            break
    residence = (
        f"Số {int(rng.integers(1, 200))} đường {_pick(rng, STREETS)}, "
        f"{_pick(rng, WARDS)}, {_pick(rng, CITIES)}"
    )
    profile = LDSProfile(
        id_number=id_number,
        full_name=nfc(name),
        date_of_birth=born,
        sex="F" if female else "M",
        hometown=nfc(f"{_pick(rng, WARDS)}, {_pick(rng, CITIES)}"),
        residence=nfc(residence),
        date_of_issue=issued,
        date_of_expiry=expiry,
    )
    old_id = f"{int(rng.integers(10**8, 10**9))}" if rng.random() < 0.7 else ""
    passport = f"{_pick(rng, 'CCCNB')}{int(rng.integers(10**7)):07d}"
    return CardHolder(profile, old_id, passport, nfc(_pick(rng, CITIES)))


# --- machine-readable zones -----------------------------------------------------------------


def cccd_mrz_lines(holder: CardHolder) -> list[str]:
    """The three 30-character lines on the back of the CCCD (``lds_builder.td1_mrz``)."""
    mrz = td1_mrz(holder.profile)
    return [mrz[i : i + 30] for i in range(0, 90, 30)]


def passport_mrz_lines(holder: CardHolder) -> list[str]:
    """The two 44-character lines of a Vietnamese passport, the ID number as personal number."""
    p = holder.profile
    expiry = p.date_of_expiry or _birthday(p.date_of_issue or date(2024, 1, 1), 10)
    number = (holder.passport_number or "C0000000").ljust(9, "<")
    dob, doe = p.date_of_birth.strftime("%y%m%d"), expiry.strftime("%y%m%d")
    personal = (p.id_number + "<<").ljust(14, "<")
    line1 = ("P<VNM" + mrz_name(p.full_name, 39))[:44]
    line2 = (
        f"{number}{check_digit(number)}VNM{dob}{check_digit(dob)}{sex_letter(p.sex)}"
        f"{doe}{check_digit(doe)}{personal}{check_digit(personal)}"
    )
    composite = check_digit(line2[0:10] + line2[13:20] + line2[21:43])
    return [line1, line2 + composite]


def cccd_qr_payload(
    holder: CardHolder, *, generation: int = 2021, extra: Sequence[str] = ()
) -> str:
    """The text of the card's QR code: 7 ``|``-separated fields; the 2024 card has no old ID
    and may add fields (``extra``)."""
    p = holder.profile
    fields = [
        p.id_number,
        holder.old_id if generation < 2024 else "",
        p.full_name,
        p.date_of_birth.strftime("%d%m%Y"),
        sex_text(p.sex),
        p.residence,
        (p.date_of_issue or date(2021, 1, 1)).strftime("%d%m%Y"),
        *extra,
    ]
    return nfc("|".join(fields))


# --- drawing --------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


class _Canvas:
    """A card face in millimetres: ``mm`` pixels per millimetre, text sizes in mm of em."""

    def __init__(self, size_mm: tuple[float, float], mm: float, paper: np.ndarray) -> None:
        self.mm = mm
        self.image = Image.fromarray(cv2.cvtColor(paper, cv2.COLOR_BGR2RGB))
        self.draw = ImageDraw.Draw(self.image)
        self.size_mm = size_mm

    def px(self, value: float) -> int:
        return round(value * self.mm)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float,
        *,
        bold: bool = False,
        fill: tuple[int, int, int] = INK,
        anchor: str = "la",
        font_path: Path | None = None,
    ) -> None:
        path = font_path or (FONT_BOLD if bold else FONT_REGULAR)
        font = _font(str(path), max(4, self.px(size)))
        self.draw.text((self.px(x), self.px(y)), nfc(text), font=font, fill=fill, anchor=anchor)

    def wrapped(self, x: float, y: float, text: str, size: float, width: float, **kw) -> float:
        """Draw ``text`` broken at spaces to fit ``width`` mm; returns the y below it."""
        font = _font(str(FONT_BOLD if kw.get("bold") else FONT_REGULAR), max(4, self.px(size)))
        line = ""
        for word in nfc(text).split():
            candidate = f"{line} {word}".strip()
            if line and font.getlength(candidate) > self.px(width):
                self.text(x, y, line, size, **kw)
                y += size * 1.25
                line = word
            else:
                line = candidate
        if line:
            self.text(x, y, line, size, **kw)
            y += size * 1.25
        return y

    def mrz(self, lines: Sequence[str], left: float, first_baseline: float) -> None:
        """OCR-B at 10 characters per inch, 6 lines per inch, baselines from ``first_baseline``."""
        size = self.px(MRZ_PITCH_MM / OCRB_ADVANCE_EM)
        font = _font(str(OCRB_FONT), size)
        for i, line in enumerate(lines):
            y = self.px(first_baseline + i * MRZ_LINE_MM)
            self.draw.text((self.px(left), y), line, font=font, fill=(18, 18, 22), anchor="ls")

    def paste(self, array: np.ndarray, x: float, y: float) -> None:
        rgb = cv2.cvtColor(array, cv2.COLOR_BGR2RGB) if array.ndim == 3 else array
        self.image.paste(Image.fromarray(rgb), (self.px(x), self.px(y)))

    def bgr(self) -> np.ndarray:
        return cv2.cvtColor(np.asarray(self.image), cv2.COLOR_RGB2BGR)


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column coordinates as float32 arrays that broadcast to h × w."""
    return np.arange(h, dtype=np.float32)[:, None], np.arange(w, dtype=np.float32)[None, :]


def _guilloche(w: int, h: int, tint: tuple[int, int, int], seed: int) -> np.ndarray:
    """A pale security background: interfering sine waves over a tint (BGR)."""
    rng = np.random.default_rng(seed)
    yy, xx = _grid(h, w)
    scale = 40.0 / max(w, h)
    f1, f2, f3 = (float(v) for v in rng.uniform(0.8, 1.6, 3))
    wave = np.sin((xx * f1 + 18 * np.sin(yy * scale * f2 * 3)) * scale * 9)
    wave += np.sin((yy * f3 - 14 * np.cos(xx * scale * 2.5)) * scale * 11)
    pattern = (wave + 2) / 4  # 0..1
    base = np.array(tint, np.float32)
    paper = base[None, None, :] * (0.94 + 0.06 * pattern[..., None])
    return np.clip(paper, 0, 255).astype(np.uint8)


def _qr_matrix(
    payload: str, error_correction: int = qrcode.constants.ERROR_CORRECT_M
) -> np.ndarray:
    code = qrcode.QRCode(error_correction=error_correction, border=0, box_size=1)
    code.add_data(payload.encode("utf-8"))
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


def render_qr(payload: str, size_px: int, quiet_modules: int = 2) -> np.ndarray:
    """The QR code of ``payload`` (UTF-8 bytes), black on white, ``size_px`` square (BGR)."""
    matrix = np.pad(_qr_matrix(payload), quiet_modules)
    modules = matrix.shape[0]
    box = max(1, math.ceil(size_px / modules))
    big = np.where(np.kron(matrix, np.ones((box, box), bool)), 20, 250).astype(np.uint8)
    gray = cv2.resize(big, (size_px, size_px), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def _photo(w: int, h: int) -> np.ndarray:
    """A grey portrait silhouette (no real face)."""
    img = np.full((h, w, 3), (235, 228, 222), np.uint8)
    cv2.ellipse(
        img, (w // 2, int(h * 0.38)), (int(w * 0.22), int(h * 0.2)), 0, 0, 360, (150, 150, 160), -1
    )
    cv2.ellipse(img, (w // 2, h), (int(w * 0.45), int(h * 0.38)), 0, 180, 360, (90, 90, 110), -1)
    return img


def _fingerprint(w: int, h: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = _grid(h, w)
    cx, cy = w * rng.uniform(0.4, 0.6), h * rng.uniform(0.4, 0.6)
    r = np.hypot((xx - cx) / w, (yy - cy) / (h * 1.2))
    theta = np.arctan2(yy - cy, xx - cx)
    ridges = np.sin(r * 150 + 2 * np.sin(theta * 2 + float(rng.uniform(0, 6))))
    inside = r < 0.45
    shade = np.where(inside & (ridges > 0.2), 110, 238).astype(np.uint8)
    return cv2.cvtColor(shade, cv2.COLOR_GRAY2BGR)


def _chip(canvas: _Canvas, x: float, y: float) -> None:
    d, px = canvas.draw, canvas.px
    d.rounded_rectangle(
        (px(x), px(y), px(x + 11), px(y + 9)),
        radius=px(1.5),
        fill=(212, 175, 90),
        outline=(150, 120, 60),
        width=max(1, px(0.2)),
    )
    for gx in (x + 3.7, x + 7.3):
        d.line((px(gx), px(y), px(gx), px(y + 9)), fill=(150, 120, 60), width=max(1, px(0.15)))
    d.line(
        (px(x), px(y + 4.5), px(x + 11), px(y + 4.5)), fill=(150, 120, 60), width=max(1, px(0.15))
    )


def _emblem(canvas: _Canvas, x: float, y: float, d_mm: float) -> None:
    px = canvas.px
    canvas.draw.ellipse(
        (px(x), px(y), px(x + d_mm), px(y + d_mm)),
        fill=(210, 40, 35),
        outline=(200, 160, 50),
        width=max(1, px(0.4)),
    )
    cx, cy, r = x + d_mm / 2, y + d_mm / 2, d_mm * 0.3
    star = []
    for k in range(10):
        rad = r if k % 2 == 0 else r * 0.4
        a = -math.pi / 2 + k * math.pi / 5
        star.append((px(cx + rad * math.cos(a)), px(cy + rad * math.sin(a))))
    canvas.draw.polygon(star, fill=(250, 215, 60))


def render_cccd_back(holder: CardHolder, mm: float = 14.0, seed: int = 0) -> np.ndarray:
    """Back of the 2021 CCCD (BGR, ``mm`` pixels per millimetre) with its TD1 MRZ."""
    w, h = CARD_MM
    c = _Canvas(CARD_MM, mm, _guilloche(round(w * mm), round(h * mm), (236, 236, 230), seed))
    _chip(c, 5, 6)
    c.text(19, 5, "Đặc điểm nhân dạng / Personal identification:", 1.7)
    c.text(19, 7.6, "Nốt ruồi C: 1cm dưới trước mép trái", 1.7)
    c.text(
        19,
        11.5,
        "Ngày, tháng, năm / Date, month, year: "
        + (holder.profile.date_of_issue or date(2021, 1, 1)).strftime("%d/%m/%Y"),
        1.7,
    )
    c.text(19, 14.5, "CỤC TRƯỞNG CỤC CẢNH SÁT", 1.6, bold=True)
    c.text(19, 16.6, "QUẢN LÝ HÀNH CHÍNH VỀ TRẬT TỰ XÃ HỘI", 1.6, bold=True)
    px = c.px
    c.draw.ellipse((px(22), px(19), px(34), px(31)), outline=RED, width=max(1, px(0.5)))
    sx = np.linspace(24, 40, 30)
    sy = 26 + 2 * np.sin(np.linspace(0, 4 * np.pi, 30))
    c.draw.line(
        [(px(a), px(b)) for a, b in zip(sx, sy, strict=True)],
        fill=(40, 40, 120),
        width=max(1, px(0.3)),
    )
    c.text(25, 33, "Nguyễn Văn Hòa", 1.8, bold=True)
    for i, label in enumerate(("Ngón trỏ trái", "Ngón trỏ phải")):
        x = 58 + i * 13.5
        c.paste(_fingerprint(px(12), px(16), seed + i), x, 4)
        c.text(x + 6, 21.5, label, 1.4, anchor="ma")
    c.draw.rectangle((0, px(36.5), px(w), px(h)), fill=(244, 244, 240))
    c.mrz(cccd_mrz_lines(holder), (w - 30 * MRZ_PITCH_MM) / 2, 42.2)
    return c.bgr()


def render_cccd_front(holder: CardHolder, mm: float = 14.0, seed: int = 0) -> np.ndarray:
    """Front of the 2021 CCCD (BGR) with the QR code top right."""
    p = holder.profile
    c = _Canvas(
        CARD_MM,
        mm,
        _guilloche(round(CARD_MM[0] * mm), round(CARD_MM[1] * mm), (240, 232, 222), seed),
    )
    _emblem(c, 4, 3, 11)
    c.text(41, 3.2, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 2.0, bold=True, anchor="ma")
    c.text(41, 5.8, "Độc lập - Tự do - Hạnh phúc", 2.0, bold=True, anchor="ma")
    c.text(41, 9.2, "CĂN CƯỚC CÔNG DÂN", 3.0, bold=True, fill=RED, anchor="ma")
    c.text(41, 12.6, "Citizen Identity Card", 1.8, anchor="ma")
    c.paste(render_qr(cccd_qr_payload(holder), c.px(15)), 67.5, 2.5)
    c.paste(_photo(c.px(19), c.px(25)), 4, 17)
    c.text(26, 17, "Số / No.:", 1.8)
    c.text(38, 16.4, p.id_number, 3.0, bold=True, fill=RED)
    c.text(26, 21, "Họ và tên / Full name:", 1.7)
    c.text(26, 23.3, p.full_name.upper(), 2.6, bold=True)
    c.text(26, 27.2, "Ngày sinh / Date of birth: " + p.date_of_birth.strftime("%d/%m/%Y"), 1.7)
    c.text(
        26, 29.8, f"Giới tính / Sex: {sex_text(p.sex)}    Quốc tịch / Nationality: Việt Nam", 1.7
    )
    c.text(26, 32.4, "Quê quán / Place of origin:", 1.7)
    y = c.wrapped(28, 34.6, p.hometown, 1.8, 55)
    c.text(26, y + 0.2, "Nơi thường trú / Place of residence:", 1.7)
    c.wrapped(28, y + 2.4, p.residence, 1.8, 55)
    until = p.date_of_expiry.strftime("%d/%m/%Y") if p.date_of_expiry else "Không thời hạn"
    c.text(4, 45, "Có giá trị đến:", 1.5)
    c.text(4, 47.2, until, 1.6, bold=True)
    c.text(4, 49.6, "Date of expiry", 1.4)
    return c.bgr()


def render_card2024_back(
    holder: CardHolder, mm: float = 14.0, seed: int = 0, extra: Sequence[str] = ()
) -> np.ndarray:
    """Back of the 2024 Căn cước card (BGR): QR code top left, fields, TD1 MRZ."""
    p = holder.profile
    c = _Canvas(
        CARD_MM,
        mm,
        _guilloche(round(CARD_MM[0] * mm), round(CARD_MM[1] * mm), (232, 236, 240), seed),
    )
    c.paste(render_qr(cccd_qr_payload(holder, generation=2024, extra=extra), c.px(17)), 4, 3)
    c.text(24, 3.2, "Nơi cư trú / Place of residence:", 1.6)
    y = c.wrapped(24, 5.3, p.residence, 1.7, 58)
    c.text(24, y + 0.3, "Nơi đăng ký khai sinh / Place of birth:", 1.6)
    y = c.wrapped(24, y + 2.4, holder.place_of_birth or p.hometown, 1.7, 58)
    issued = (p.date_of_issue or date(2024, 7, 1)).strftime("%d/%m/%Y")
    c.text(24, y + 0.4, f"Ngày, tháng, năm cấp / Date of issue: {issued}", 1.6)
    until = p.date_of_expiry.strftime("%d/%m/%Y") if p.date_of_expiry else "Không thời hạn"
    c.text(24, y + 3.0, f"Ngày, tháng, năm hết hạn / Date of expiry: {until}", 1.6)
    c.text(24, y + 6.0, "BỘ CÔNG AN / MINISTRY OF PUBLIC SECURITY", 1.6, bold=True)
    c.draw.rectangle((0, c.px(36.5), c.px(CARD_MM[0]), c.px(CARD_MM[1])), fill=(242, 244, 246))
    c.mrz(cccd_mrz_lines(holder), (CARD_MM[0] - 30 * MRZ_PITCH_MM) / 2, 42.2)
    return c.bgr()


def render_passport_page(holder: CardHolder, mm: float = 10.0, seed: int = 0) -> np.ndarray:
    """A passport data page (BGR) with its TD3 MRZ."""
    p = holder.profile
    w, h = PASSPORT_MM
    c = _Canvas(PASSPORT_MM, mm, _guilloche(round(w * mm), round(h * mm), (226, 236, 232), seed))
    c.text(w / 2, 3, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 2.4, bold=True, anchor="ma")
    c.text(w / 2, 6.2, "SOCIALIST REPUBLIC OF VIET NAM", 2.0, anchor="ma")
    c.text(w / 2, 9.4, "HỘ CHIẾU / PASSPORT", 2.8, bold=True, fill=RED, anchor="ma")
    c.paste(_photo(c.px(30), c.px(40)), 6, 16)
    expiry = p.date_of_expiry or _birthday(p.date_of_issue or date(2024, 1, 1), 10)
    rows = [
        ("Loại / Type", "P"),
        ("Mã số / Code", "VNM"),
        ("Số hộ chiếu / Passport No.", holder.passport_number),
        ("Họ và tên / Full name", p.full_name.upper()),
        ("Quốc tịch / Nationality", "VIỆT NAM / VIETNAMESE"),
        ("Ngày sinh / Date of birth", p.date_of_birth.strftime("%d/%m/%Y")),
        ("Giới tính / Sex", f"{sex_text(p.sex)} / {sex_letter(p.sex)}"),
        ("Số ĐDCN / Personal No.", p.id_number),
        ("Có giá trị đến / Date of expiry", expiry.strftime("%d/%m/%Y")),
    ]
    y = 15.0
    for label, value in rows:
        c.text(42, y, label, 1.6)
        c.text(42, y + 2.0, value, 2.2, bold=True)
        y += 5.6
    c.draw.rectangle((0, c.px(h - 23), c.px(w), c.px(h)), fill=(240, 244, 242))
    c.mrz(passport_mrz_lines(holder), (w - 44 * MRZ_PITCH_MM) / 2, h - 12.5)
    return c.bgr()


def render_mrz_strip(lines: Sequence[str], mm: float = 12.0) -> np.ndarray:
    """Only the MRZ on plain paper, with a 3 mm margin."""
    width = len(lines[0]) * MRZ_PITCH_MM + 6
    height = len(lines) * MRZ_LINE_MM + 4.5
    paper = np.full((round(height * mm), round(width * mm), 3), 244, np.uint8)
    c = _Canvas((width, height), mm, paper)
    c.mrz(lines, 3, 3 + 2.5)
    return c.bgr()


# --- the camera's view ----------------------------------------------------------------------


@dataclass(frozen=True)
class Conditions:
    """How the card lies under the camera and how the picture is spoiled."""

    frame: tuple[int, int] = (1280, 720)  # width, height of the camera frame
    card_width: float = 800.0  # pixels the card's width spans in the frame
    angle: float = 0.0  # degrees, the card turned on the desk
    perspective: float = 0.0  # largest corner shift, as a share of the card's width
    offset: tuple[float, float] = (0.0, 0.0)  # card centre from the frame centre, share of frame
    light: float = 0.0  # 0 = even light; 0.5 = a side half as bright as the other
    glare: float = 0.0  # 0 = none; 1 = a spot that saturates the paper
    glare_at: tuple[float, float] = (0.5, 0.5)  # where on the card (share of width, height)
    glare_size: float = 0.15  # spot radius, share of the card's width
    blur: float = 0.0  # Gaussian sigma, pixels
    motion: float = 0.0  # motion blur length, pixels
    noise: float = 0.0  # sensor noise sigma, grey levels
    jpeg: int = 95  # JPEG quality
    background: int = 0  # texture seed
    shadow: bool = True


def _desk(w: int, h: int, seed: int) -> np.ndarray:
    """A desk top: wood grain, grey fabric or a dark mat, chosen by ``seed``."""
    rng = np.random.default_rng(seed)
    kind = seed % 3
    coarse = rng.normal(0, 1, (max(2, h // 8), max(2, w // 48))).astype(np.float32)
    grain = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    if kind == 0:
        rings = np.sin(np.linspace(0, float(rng.uniform(20, 50)) * np.pi, h, dtype=np.float32))
        tex = cv2.GaussianBlur(grain + 0.6 * rings[:, None], (0, 0), sigmaX=9, sigmaY=1.5)
        lo, hi = np.array([38, 58, 86], np.float32), np.array([70, 100, 140], np.float32)
    elif kind == 1:
        fine = rng.normal(0, 1, (h, w)).astype(np.float32)
        tex = cv2.GaussianBlur(fine, (0, 0), 1.2) + 0.3 * grain
        lo, hi = np.array([80, 80, 84], np.float32), np.array([140, 138, 136], np.float32)
    else:
        fine = rng.normal(0, 1, (h, w)).astype(np.float32)
        tex = cv2.GaussianBlur(fine, (0, 0), 2.5) + grain
        lo, hi = np.array([25, 28, 30], np.float32), np.array([60, 62, 66], np.float32)
    tex = (tex - tex.min()) / max(1e-6, float(tex.max() - tex.min()))
    return lo + tex[..., None] * (hi - lo)


def card_corners(
    card_shape: tuple[int, int], cond: Conditions, rng: np.random.Generator
) -> np.ndarray:
    """Where the card's four corners land in the frame (tl, tr, br, bl). A card that would not
    fit in the frame is made smaller (the camera's field of view frames it)."""
    fw, fh = cond.frame
    ch, cw = card_shape
    a = math.radians(cond.angle)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    jitter = rng.uniform(-1, 1, (4, 2)) * cond.perspective
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], np.float64) * [0.5, 0.5 * ch / cw]
    shape = unit @ rot.T + jitter  # in card widths, around the centre
    margin = 0.02 * min(fw, fh)
    width = cond.card_width
    cx = fw / 2 + cond.offset[0] * fw
    cy = fh / 2 + cond.offset[1] * fh
    lo, hi = shape.min(axis=0), shape.max(axis=0)
    room = min(
        (cx - margin) / -lo[0],
        (fw - margin - cx) / hi[0],
        (cy - margin) / -lo[1],
        (fh - margin - cy) / hi[1],
    )
    width = min(width, room)
    return (shape * width + [cx, cy]).astype(np.float32)


def photograph(
    card: np.ndarray, cond: Conditions, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The card lying on a desk as the camera sees it (BGR uint8), and its corners there."""
    fw, fh = cond.frame
    frame = _desk(fw, fh, cond.background)
    # Scale the card close to its size in the frame first (area filter: no aliasing).
    ch, cw = card.shape[:2]
    factor = min(1.0, 1.25 * cond.card_width / cw)
    if factor < 1:
        card = cv2.resize(
            card, (round(cw * factor), round(ch * factor)), interpolation=cv2.INTER_AREA
        )
    ch, cw = card.shape[:2]
    corners = card_corners((ch, cw), cond, rng)
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    homography = cv2.getPerspectiveTransform(src, corners)
    if cond.shadow:
        mask = np.zeros((fh, fw), np.float32)
        shift = np.array([cond.card_width * 0.012, cond.card_width * 0.018], np.float32)
        cv2.fillConvexPoly(mask, (corners + shift).astype(np.int32), 1.0)
        frame *= (
            1 - 0.5 * cv2.GaussianBlur(mask, (0, 0), max(1.0, cond.card_width * 0.012))[..., None]
        )
    warped = cv2.warpPerspective(
        card.astype(np.float32), homography, (fw, fh), flags=cv2.INTER_LINEAR
    )
    inside = cv2.warpPerspective(np.ones((ch, cw), np.float32), homography, (fw, fh))[..., None]
    frame = frame * (1 - inside) + warped * inside
    if cond.glare > 0:
        gx, gy = cond.glare_at
        centre = cv2.perspectiveTransform(np.array([[[gx * cw, gy * ch]]], np.float32), homography)
        x0, y0 = centre[0, 0]
        radius = cond.glare_size * cond.card_width
        yy, xx = _grid(fh, fw)
        spot = np.exp(-(((xx - x0) / (1.6 * radius)) ** 2 + ((yy - y0) / radius) ** 2))
        frame += (cond.glare * 255 * spot * inside[..., 0])[..., None]
    if cond.light > 0:
        yy, xx = _grid(fh, fw)
        theta = float(rng.uniform(0, 2 * math.pi))
        ramp = (math.cos(theta) * (xx / fw - 0.5) + math.sin(theta) * (yy / fh - 0.5)) + 0.5
        frame *= (1 - cond.light * np.clip(ramp, 0, 1))[..., None]
    if cond.motion > 0:
        length = max(2, round(cond.motion))
        kernel = np.zeros((length, length), np.float32)
        kernel[length // 2, :] = 1 / length
        rot = cv2.getRotationMatrix2D(
            ((length - 1) / 2, (length - 1) / 2), float(rng.uniform(0, 180)), 1
        )
        kernel = cv2.warpAffine(kernel, rot, (length, length))
        frame = cv2.filter2D(frame, -1, kernel / max(1e-6, float(kernel.sum())))
    if cond.blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), cond.blur)
    if cond.noise > 0:
        frame += rng.normal(0, cond.noise, frame.shape).astype(np.float32)
    image = np.clip(frame, 0, 255).astype(np.uint8)
    return jpeg(image, cond.jpeg), corners


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` after a JPEG round trip at ``quality`` (100: unchanged)."""
    if quality >= 100:
        return image
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def random_conditions(rng: np.random.Generator, difficulty: str) -> Conditions:
    """Camera conditions for an MRZ picture of the given difficulty (see the module doc)."""
    u = rng.uniform
    common = {
        "angle": float(u(-8, 8)),
        "offset": (float(u(-0.06, 0.06)), float(u(-0.06, 0.06))),
        "background": int(rng.integers(1 << 30)),
    }
    if difficulty == "easy":
        return Conditions(
            card_width=float(u(780, 1000)),
            angle=float(u(-3, 3)),
            perspective=float(u(0, 0.02)),
            light=float(u(0, 0.2)),
            blur=float(u(0, 0.6)),
            noise=float(u(0, 2)),
            jpeg=int(rng.integers(85, 96)),
            offset=common["offset"],
            background=common["background"],
        )
    if difficulty == "passport":
        return Conditions(
            frame=(1920, 1080),
            card_width=float(u(950, 1250)),
            angle=float(u(-5, 5)),
            perspective=float(u(0, 0.03)),
            light=float(u(0.1, 0.4)),
            blur=float(u(0.4, 1.1)),
            noise=float(u(1.5, 4.5)),
            jpeg=int(rng.integers(65, 92)),
            offset=common["offset"],
            background=common["background"],
        )
    if difficulty == "medium":
        return Conditions(
            card_width=float(u(600, 850)),
            perspective=float(u(0, 0.04)),
            light=float(u(0.1, 0.4)),
            blur=float(u(0.4, 1.1)),
            noise=float(u(1.5, 4.5)),
            jpeg=int(rng.integers(65, 92)),
            **common,
        )
    if difficulty == "hard":
        low_res = rng.random() < 0.4
        glare = rng.random() < 0.5
        motion = rng.random() < 0.3
        return Conditions(
            frame=(640, 480) if low_res else (1280, 720),
            card_width=float(u(430, 560) if low_res else u(460, 640)),
            perspective=float(u(0.02, 0.06)),
            light=float(u(0.3, 0.6)),
            glare=float(u(0.25, 0.5)) if glare else 0.0,
            glare_at=(float(u(0.1, 0.9)), float(u(0.1, 0.9))),
            glare_size=float(u(0.08, 0.2)),
            blur=float(u(0.5, 1.2)),
            motion=float(u(2, 4)) if motion else 0.0,
            noise=float(u(3, 7)),
            jpeg=int(rng.integers(45, 80)),
            **common,
        )
    if difficulty == "harsh":  # past what a kiosk camera should deliver: the reader may refuse
        return Conditions(
            frame=(640, 480),
            card_width=float(u(340, 460)),
            perspective=float(u(0.03, 0.07)),
            light=float(u(0.4, 0.7)),
            glare=float(u(0.3, 0.6)),
            glare_at=(float(u(0.2, 0.8)), float(u(0.75, 0.9))),  # on the MRZ
            glare_size=float(u(0.06, 0.12)),
            blur=float(u(0.9, 1.5)),
            motion=float(u(3, 5)) if rng.random() < 0.5 else 0.0,
            noise=float(u(6, 10)),
            jpeg=int(rng.integers(30, 55)),
            **common,
        )
    raise ValueError(f"unknown difficulty {difficulty!r}; one of {MRZ_DIFFICULTIES}")


@dataclass(frozen=True)
class Sample:
    """One generated picture and its ground truth."""

    image: np.ndarray  # BGR uint8
    kind: str  # cccd-back, card2024-back, passport, strip, cccd-front
    difficulty: str
    holder: CardHolder
    mrz_lines: tuple[str, ...] = ()
    qr_payload: str | None = None
    conditions: Conditions | None = None
    corners: np.ndarray | None = field(default=None, repr=False)


def _strip_image(lines: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """An MRZ crop as a phone app or a reader would pass it: scaled, a little turned, soft."""
    strip = render_mrz_strip(lines, mm=12.0)
    h, w = strip.shape[:2]
    target_w = float(rng.uniform(520, 1000))
    strip = cv2.resize(
        strip, (round(target_w), round(h * target_w / w)), interpolation=cv2.INTER_AREA
    )
    h, w = strip.shape[:2]
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), float(rng.uniform(-3, 3)), 1.0)
    strip = cv2.warpAffine(strip, rot, (w, h), borderMode=cv2.BORDER_REPLICATE)
    img = cv2.GaussianBlur(strip.astype(np.float32), (0, 0), float(rng.uniform(0.3, 1.0)))
    img += rng.normal(0, float(rng.uniform(1, 4)), img.shape).astype(np.float32)
    return jpeg(np.clip(img, 0, 255).astype(np.uint8), int(rng.integers(60, 95)))


def mrz_sample(seed: int, difficulty: str = "medium") -> Sample:
    """A picture with an MRZ: a CCCD back (2021 or 2024), a passport page or a bare strip."""
    if difficulty not in MRZ_DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; one of {MRZ_DIFFICULTIES}")
    rng = np.random.default_rng([seed, MRZ_DIFFICULTIES.index(difficulty), 0x4D525A])
    holder = random_holder(rng)
    if difficulty == "passport":
        lines = passport_mrz_lines(holder)
        cond = random_conditions(rng, "passport")
        card = render_passport_page(holder, mm=11.0, seed=seed)
        image, corners = photograph(card, cond, rng)
        return Sample(image, "passport", difficulty, holder, tuple(lines), None, cond, corners)
    lines = cccd_mrz_lines(holder)
    if difficulty == "strip":
        return Sample(_strip_image(lines, rng), "strip", difficulty, holder, tuple(lines))
    cond = random_conditions(rng, difficulty)
    if rng.random() < 0.5:
        card, kind = render_cccd_back(holder, seed=seed), "cccd-back"
    else:
        card, kind = render_card2024_back(holder, seed=seed), "card2024-back"
    image, corners = photograph(card, cond, rng)
    return Sample(image, kind, difficulty, holder, tuple(lines), None, cond, corners)


def qr_conditions(
    rng: np.random.Generator, difficulty: str, qr_at: tuple[float, float]
) -> Conditions:
    """Camera conditions for a QR picture: the card held close (``easy``), far (``small``: under
    two pixels per module), turned and seen at an angle (``tilted``) or with glare on the code
    (``glossy``)."""
    u = rng.uniform
    base = Conditions(
        card_width=float(u(700, 950)),
        angle=float(u(-8, 8)),
        perspective=float(u(0, 0.02)),
        light=float(u(0.05, 0.3)),
        blur=float(u(0.3, 0.8)),
        noise=float(u(1, 3)),
        jpeg=int(rng.integers(70, 92)),
        background=int(rng.integers(1 << 30)),
        offset=(float(u(-0.05, 0.05)), float(u(-0.05, 0.05))),
    )
    if difficulty == "easy":
        return base
    if difficulty == "small":
        return replace(base, card_width=float(u(420, 520)), blur=float(u(0.3, 0.6)))
    if difficulty == "tilted":
        return replace(
            base,
            card_width=float(u(480, 700)),
            angle=float(rng.choice([-1, 1]) * u(4, 8)),
            perspective=float(u(0.04, 0.08)),
        )
    if difficulty == "glossy":
        return replace(
            base,
            card_width=float(u(450, 700)),
            glare=float(u(0.35, 0.7)),
            glare_at=(qr_at[0] + float(u(-0.04, 0.04)), qr_at[1] + float(u(-0.04, 0.04))),
            glare_size=float(u(0.04, 0.08)),
            perspective=float(u(0.01, 0.04)),
        )
    raise ValueError(f"unknown difficulty {difficulty!r}; one of {QR_DIFFICULTIES}")


def qr_sample(seed: int, difficulty: str = "easy", generation: int | None = None) -> Sample:
    """A picture of a card side with its QR code: the 2021 front or the 2024 back."""
    if difficulty not in QR_DIFFICULTIES:
        raise ValueError(f"unknown difficulty {difficulty!r}; one of {QR_DIFFICULTIES}")
    rng = np.random.default_rng([seed, QR_DIFFICULTIES.index(difficulty), 0x5152])
    holder = random_holder(rng)
    generation = generation or (2021 if rng.random() < 0.5 else 2024)
    if generation >= 2024:
        extra = ("",) if rng.random() < 0.5 else ()
        payload = cccd_qr_payload(holder, generation=2024, extra=extra)
        card = render_card2024_back(holder, seed=seed, extra=extra)
        kind, qr_at = "card2024-back", ((4 + 8.5) / CARD_MM[0], (3 + 8.5) / CARD_MM[1])
    else:
        payload = cccd_qr_payload(holder)
        card = render_cccd_front(holder, seed=seed)
        kind, qr_at = "cccd-front", ((67.5 + 7.5) / CARD_MM[0], (2.5 + 7.5) / CARD_MM[1])
    cond = qr_conditions(rng, difficulty, qr_at)
    image, corners = photograph(card, cond, rng)
    return Sample(image, kind, difficulty, holder, (), payload, cond, corners)
