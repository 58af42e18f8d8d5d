"""Generated camera frames of a Vietnamese document on a desk, with the truth about them.

``make_scene(SceneOptions(...), seed=…)`` renders an A4 administrative document with Pillow (the
national heading, a title, a greeting, filled fields and paragraphs, in Vietnamese, NFC), lays it
on a textured desk (wood, fabric, speckled stone, a cluttered desk or a plain tray) seen in
perspective, and spoils the picture on demand: out of focus, motion blur, uneven lighting, a
shadow, a glare spot, too far, cut off at an edge, turned by 90/180/270°, too dark or overexposed.
It returns the frame (BGR uint8), the page's four corners in the frame, the upright page as
rendered and its text lines: everything a vision test or benchmark needs to check an answer.

Everything is deterministic for a given ``seed``: the document's content, the desk, the small
random pose (position, turn, perspective) and the noise. No file is read but the shipped fonts.
``random_options(seed)`` draws a varied but good (capturable) scene for benchmarks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.paths import FONT_BOLD, FONT_REGULAR, FONTS_DIR

Background = Literal["wood", "fabric", "speckle", "clutter", "plain"]
BACKGROUNDS: tuple[Background, ...] = ("wood", "fabric", "speckle", "clutter", "plain")
Edge = Literal["left", "right", "top", "bottom"]

A4_MM = (210.0, 297.0)
MM_PER_INCH = 25.4

# The document's pieces, drawn from by the seed.
HEADING = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
TITLES = (
    "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN",
    "TỜ KHAI THAY ĐỔI THÔNG TIN CƯ TRÚ",
    "ĐƠN ĐỀ NGHỊ CẤP BẢN SAO TRÍCH LỤC HỘ TỊCH",
    "GIẤY ỦY QUYỀN",
    "ĐƠN XIN XÁC NHẬN TÌNH TRẠNG HÔN NHÂN",
    "TỜ KHAI ĐĂNG KÝ KHAI SINH",
)
ADDRESSEES = (
    "Kính gửi: Ủy ban nhân dân phường Hà Đông",
    "Kính gửi: Sở Văn hóa, Thể thao và Du lịch thành phố Hà Nội",
    "Kính gửi: Công an phường Bến Thành",
    "Kính gửi: Ủy ban nhân dân xã Tân Phú",
)
PLACES = ("Hà Nội", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Huế", "Cần Thơ", "Hải Phòng")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc", "Thu")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Thảo")
STREETS = ("Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ")
SENTENCES = (
    "Tôi xin cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm trước "
    "pháp luật về lời khai của mình.",
    "Đề nghị cơ quan có thẩm quyền xem xét, giải quyết theo quy định của pháp luật.",
    "Hồ sơ kèm theo gồm bản sao giấy tờ tùy thân và các giấy tờ chứng minh có liên quan.",
    "Thời hạn giải quyết là năm ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
    "Người nộp hồ sơ nhận kết quả tại Bộ phận Một cửa hoặc qua dịch vụ bưu chính công ích.",
    "Trường hợp hồ sơ chưa đầy đủ, cán bộ tiếp nhận hướng dẫn người nộp bổ sung một lần.",
    "Cơ sở in có đủ điều kiện hoạt động theo quy định tại Nghị định số 60/2014/NĐ-CP về hoạt "
    "động in và các văn bản sửa đổi, bổ sung.",
    "Việc ủy quyền này không kèm theo thù lao và có hiệu lực kể từ ngày ký.",
)


def nfc(text: str) -> str:
    """Vietnamese text is NFC everywhere."""
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class RenderedPage:
    """An upright A4 page as rendered: BGR pixels, text lines top to bottom, resolution."""

    image: np.ndarray
    lines: tuple[str, ...]
    title: str
    dpi: int


@dataclass(frozen=True)
class SceneOptions:
    """What the camera sees. Fields left ``None`` are drawn from the seed in a normal range.

    ``page_scale``: the page's long side over the frame's short side (0.9 fills the frame's
    height, 0.4 is far away). ``angle``: in-plane turn in degrees on top of ``quarter_turns``
    (0–3, the page turned by 90° steps). ``tilt``: perspective strength (0 = camera straight
    above). ``center``: the page's centre as fractions of the frame. ``cut_off``: push the page
    over that edge so about ``cut_fraction`` of it is outside. ``blur``: Gaussian sigma (px);
    ``motion_blur``: length (px) of a straight camera shake. ``lighting``: strength of a lamp's
    uneven light (0–1). ``shadow``: darkening (0–1) of a soft shadow falling across the page.
    ``glare``: size (0–1) of a specular spot on the page, clipped white (0.2 ≈ 4 % of the page,
    1 ≈ 20 %). ``exposure``: gain on the whole frame (0.25 dark, 2.5 overexposed). ``noise``:
    sensor noise sigma. ``jpeg_quality``: a JPEG round trip as a camera would do, or None.
    ``paper_tint``: BGR gains on the page (e.g. (0.72, 0.93, 1.0) a light yellow certificate),
    None for white paper.
    """

    width: int = 1280
    height: int = 720
    background: Background = "wood"
    page: bool = True
    dpi: int = 110
    paper_tint: tuple[float, float, float] | None = None
    page_scale: float | None = None
    angle: float | None = None
    quarter_turns: int = 0
    tilt: float | None = None
    center: tuple[float, float] | None = None
    cut_off: Edge | None = None
    cut_fraction: float = 0.22
    blur: float = 0.0
    motion_blur: float = 0.0
    lighting: float | None = None
    shadow: float = 0.0
    glare: float = 0.0
    exposure: float = 1.0
    noise: float = 2.0
    jpeg_quality: int | None = 90


@dataclass(frozen=True)
class Scene:
    """A generated frame and its truth.

    ``corners``: the page's own top-left, top-right, bottom-right, bottom-left corners in frame
    pixels (x, y), float32 4×2; for a page turned by 180° its top-left is at the frame's bottom
    right. None without a page. ``page``: the document as rendered, upright.
    """

    image: np.ndarray
    corners: np.ndarray | None
    page: RenderedPage | None
    options: SceneOptions
    seed: int
    extras: dict[str, float] = field(default_factory=dict)

    @property
    def area_ratio(self) -> float:
        """The page's share of the frame (its visible and hidden parts), 0 without a page."""
        if self.corners is None:
            return 0.0
        height, width = self.image.shape[:2]
        return float(cv2.contourArea(self.corners.astype(np.float32))) / (width * height)


def wrap_words(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` pixels (a longer word keeps
    a line of its own)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _person(rng: np.random.Generator) -> str:
    return " ".join((str(rng.choice(FAMILY)), str(rng.choice(MIDDLE)), str(rng.choice(GIVEN))))


@lru_cache(maxsize=16)
def render_document(seed: int = 0, dpi: int = 110) -> RenderedPage:
    """A Vietnamese A4 administrative document, upright, at ``dpi``; same seed, same page."""
    rng = np.random.default_rng([seed, 7])
    width = round(A4_MM[0] / MM_PER_INCH * dpi)
    height = round(A4_MM[1] / MM_PER_INCH * dpi)
    k = dpi / 150  # the layout is drawn in 150-dpi units
    white = int(rng.integers(238, 250))
    paper = (white, white - int(rng.integers(0, 4)), white - int(rng.integers(0, 9)))
    page = Image.new("RGB", (width, height), paper)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(page)
    regular_file = FONT_REGULAR if rng.random() < 0.7 else FONTS_DIR / "DejaVuSans.ttf"
    bold_file = FONT_BOLD if regular_file == FONT_REGULAR else FONTS_DIR / "DejaVuSans-Bold.ttf"
    bold = ImageFont.truetype(str(bold_file), round(30 * k))
    title_font = ImageFont.truetype(str(bold_file), round(36 * k))
    regular = ImageFont.truetype(str(regular_file), round(28 * k))
    small = ImageFont.truetype(str(regular_file), round(26 * k))
    ink = (20, 20, 28)
    left, right = round(150 * k), round(110 * k)
    text_w = width - left - right
    line_h = round(44 * k)
    drawn: list[str] = []

    def text_at(x: float, y: float, text: str, font: ImageFont.FreeTypeFont) -> None:
        draw.text((x, y), text, font=font, fill=ink)
        drawn.append(text)

    def centred(y: float, text: str, font: ImageFont.FreeTypeFont) -> float:
        x = left + (text_w - font.getlength(text)) / 2
        text_at(x, y, text, font)
        return x

    y = 120 * k
    centred(y, nfc(HEADING[0]), bold)
    y += 46 * k
    motto = nfc(HEADING[1])
    x = centred(y, motto, bold)
    draw.line([(x, y + 42 * k), (x + bold.getlength(motto), y + 42 * k)], fill=ink, width=2)
    y += 90 * k
    day, month = int(rng.integers(1, 29)), int(rng.integers(1, 13))
    place = nfc(f"{rng.choice(PLACES)}, ngày {day} tháng {month} năm 2025")
    text_at(width - right - small.getlength(place), y, place, small)
    y += 100 * k
    title = nfc(str(rng.choice(TITLES)))
    for line in wrap_words(title, title_font, text_w):
        centred(y, line, title_font)
        y += 54 * k
    y += 40 * k
    for line in wrap_words(nfc(str(rng.choice(ADDRESSEES))), regular, text_w - 120 * k):
        text_at(left + 120 * k, y, line, regular)
        y += line_h
    y += 24 * k
    name = nfc(_person(rng))
    id_number = "0" + "".join(str(d) for d in rng.integers(0, 10, 11))
    dd, mm, yyyy = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1950, 2005))
    birth = f"{dd:02d}/{mm:02d}/{yyyy}"
    street = nfc(f"Số {int(rng.integers(1, 200))} đường {rng.choice(STREETS)}")
    fields = [
        f"Họ, chữ đệm và tên: {name}",
        f"Ngày, tháng, năm sinh: {birth}",
        f"Số định danh cá nhân: {id_number}",
        f"Nơi cư trú: {street}, {rng.choice(PLACES)}",
        f"Số điện thoại: 09{''.join(str(d) for d in rng.integers(0, 10, 8))}",
    ]
    for number, item in enumerate(fields, start=1):
        for i, line in enumerate(wrap_words(nfc(f"{number}. {item}"), regular, text_w - 40 * k)):
            text_at(left + (40 * k if i else 0), y, line, regular)
            y += line_h
    y += 24 * k
    order = rng.permutation(len(SENTENCES))[: int(rng.integers(2, 4))]
    for index in order:
        for i, line in enumerate(wrap_words(nfc(SENTENCES[int(index)]), regular, text_w - 60 * k)):
            text_at(left + (60 * k if i == 0 else 0), y, line, regular)
            y += line_h
        y += 18 * k
    y = max(y + 30 * k, height - 430 * k)
    sign_x, sign_w = left + text_w / 2, text_w / 2
    for text, font, gap in (
        ("NGƯỜI LÀM ĐƠN", bold, 44 * k),
        ("(Ký, ghi rõ họ tên)", small, 150 * k),
        (name, bold, 0),
    ):
        text = nfc(text)
        text_at(sign_x + (sign_w - font.getlength(text)) / 2, y, text, font)
        y += gap
    xs = np.linspace(sign_x + 100 * k, sign_x + sign_w - 100 * k, 40)
    ys = y - 90 * k + 22 * k * np.sin(np.linspace(0, 5 * np.pi, 40)) + rng.normal(0, 2 * k, 40)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(40, 40, 130), width=3)
    bgr = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    bgr.setflags(write=False)
    return RenderedPage(bgr, tuple(drawn), title, dpi)


# --- the desk -------------------------------------------------------------------------------


def _smooth_noise(
    rng: np.random.Generator, width: int, height: int, cell: int, cell_y: int | None = None
) -> np.ndarray:
    rows, cols = max(2, height // (cell_y or cell)), max(2, width // cell)
    grid = rng.normal(0, 1, (rows, cols)).astype(np.float32)
    return cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)


def _normalise(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    return (values - low) / max(high - low, 1e-6)


def _tint(
    amount: np.ndarray, dark: tuple[int, int, int], light: tuple[int, int, int]
) -> np.ndarray:
    dark_v = np.array(dark, np.float32)
    light_v = np.array(light, np.float32)
    return dark_v + amount[..., None] * (light_v - dark_v)


def _wood(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    # Grain running across the frame: noise stretched along x, fine across y.
    grain = _smooth_noise(rng, width, height, 64 * width // 1920 or 1, 8 * height // 1080 or 1)
    rings = np.sin(np.linspace(0, float(rng.uniform(25, 45)) * np.pi, height, dtype=np.float32))
    wood = cv2.GaussianBlur(grain + 0.6 * rings[:, None], (0, 0), sigmaX=9, sigmaY=1.5)
    palettes = (((38, 58, 86), (62, 92, 128)), ((70, 110, 150), (110, 160, 205)))
    dark, light = palettes[int(rng.integers(0, len(palettes)))]
    return _tint(_normalise(wood), dark, light)


def _fabric(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    period = float(rng.uniform(3, 6))
    weave = np.sin(xx * 2 * np.pi / period) * np.sin(yy * 2 * np.pi / period)
    cloth = 0.5 + 0.25 * weave + 0.3 * _smooth_noise(rng, width, height, 24)
    cloth += rng.normal(0, 0.08, (height, width)).astype(np.float32)
    palettes = (
        ((70, 40, 20), (120, 80, 50)),
        ((40, 70, 30), (80, 120, 70)),
        ((60, 60, 60), (110, 110, 110)),
    )
    dark, light = palettes[int(rng.integers(0, len(palettes)))]
    return _tint(np.clip(cloth, 0, 1), dark, light)


def _speckle(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    base = 0.5 + 0.2 * _smooth_noise(rng, width, height, 64)
    dots = rng.random((height, width)).astype(np.float32)
    stone = base + 0.45 * (dots > 0.97) - 0.45 * (dots < 0.04)
    stone = cv2.GaussianBlur(stone.astype(np.float32), (0, 0), sigmaX=0.8)
    return _tint(np.clip(stone, 0, 1), (90, 95, 100), (185, 188, 190))


def _plain(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    shade = 0.5 + 0.05 * _smooth_noise(rng, width, height, 128)
    return _tint(shade, (30, 30, 32), (90, 90, 95))


def _clutter(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    desk = _wood(rng, width, height) if rng.random() < 0.5 else _fabric(rng, width, height)
    canvas = np.ascontiguousarray(desk)
    scale = min(width, height) / 720
    colours = ((40, 200, 230), (170, 120, 250), (200, 140, 60), (60, 60, 200), (30, 30, 30))
    for _ in range(int(rng.integers(6, 12))):
        kind = rng.random()
        colour = tuple(float(c) for c in colours[int(rng.integers(0, len(colours)))])
        cx, cy = float(rng.uniform(0, width)), float(rng.uniform(0, height))
        if kind < 0.4:  # a sticky note, a book, a phone
            w, h = rng.uniform(60, 220, 2) * scale
            box = cv2.boxPoints(((cx, cy), (float(w), float(h)), float(rng.uniform(0, 90))))
            cv2.fillConvexPoly(canvas, box.astype(np.int32), colour, cv2.LINE_AA)
        elif kind < 0.7:  # a pen
            length, angle = rng.uniform(120, 260) * scale, rng.uniform(0, np.pi)
            end = (int(cx + length * np.cos(angle)), int(cy + length * np.sin(angle)))
            cv2.line(canvas, (int(cx), int(cy)), end, colour, max(3, int(9 * scale)), cv2.LINE_AA)
        elif kind < 0.85:  # a cup seen from above
            radius = int(rng.uniform(35, 70) * scale)
            cv2.circle(canvas, (int(cx), int(cy)), radius, (225, 225, 225), -1, cv2.LINE_AA)
            cv2.circle(canvas, (int(cx), int(cy)), int(radius * 0.8), (40, 60, 90), -1, cv2.LINE_AA)
        else:  # a small white card or receipt: a distractor much smaller than the page
            w, h = rng.uniform(50, 110, 2) * scale
            box = cv2.boxPoints(((cx, cy), (float(w), float(h)), float(rng.uniform(0, 90))))
            cv2.fillConvexPoly(canvas, box.astype(np.int32), (230, 232, 235), cv2.LINE_AA)
    return canvas


_DESKS = {
    "wood": _wood,
    "fabric": _fabric,
    "speckle": _speckle,
    "clutter": _clutter,
    "plain": _plain,
}


# --- the pose -------------------------------------------------------------------------------


def _page_corners(
    options: SceneOptions, rng: np.random.Generator, page_w: int, page_h: int
) -> np.ndarray:
    """The page's own corners (TL, TR, BR, BL) in the frame."""
    width, height = options.width, options.height
    scale = options.page_scale if options.page_scale is not None else float(rng.uniform(0.78, 0.92))
    long_side = scale * min(width, height)
    half_w = long_side * page_w / max(page_w, page_h) / 2
    half_h = long_side * page_h / max(page_w, page_h) / 2
    local = np.array([[-half_w, -half_h], [half_w, -half_h], [half_w, half_h], [-half_w, half_h]])
    tilt = options.tilt if options.tilt is not None else float(rng.uniform(0.02, 0.1))
    # Perspective: the side away from the camera is shorter (the camera looks from below it).
    local[:2, 0] *= 1 - tilt
    local[:2, 1] *= 1 - tilt / 2
    local += rng.normal(0, tilt * 0.15 * long_side / 2, local.shape)  # a less regular quad
    angle = options.angle if options.angle is not None else float(rng.uniform(-6, 6))
    theta = np.deg2rad(angle + 90 * (options.quarter_turns % 4))
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    corners = local @ rotation.T
    if options.center is not None:
        cx, cy = options.center[0] * width, options.center[1] * height
    else:
        cx = width * (0.5 + float(rng.uniform(-0.06, 0.06)))
        cy = height * (0.5 + float(rng.uniform(-0.03, 0.03)))
    if options.cut_off is not None:
        extent_x = corners[:, 0].max() - corners[:, 0].min()
        extent_y = corners[:, 1].max() - corners[:, 1].min()
        shift = options.cut_fraction
        if options.cut_off == "left":
            cx = -corners[:, 0].min() - shift * extent_x
        elif options.cut_off == "right":
            cx = width - corners[:, 0].max() + shift * extent_x
        elif options.cut_off == "top":
            cy = -corners[:, 1].min() - shift * extent_y
        else:
            cy = height - corners[:, 1].max() + shift * extent_y
    else:
        # Keep a whole page inside the frame, with a small margin.
        margin = 0.02 * min(width, height)
        cx = float(np.clip(cx, margin - corners[:, 0].min(), width - margin - corners[:, 0].max()))
        cy = float(np.clip(cy, margin - corners[:, 1].min(), height - margin - corners[:, 1].max()))
    return (corners + [cx, cy]).astype(np.float32)


# --- light and optics -----------------------------------------------------------------------


def _lamp(rng: np.random.Generator, width: int, height: int, strength: float) -> np.ndarray:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    lx, ly = rng.uniform(-0.2, 1.2), rng.uniform(-0.3, 0.6)
    distance = np.hypot(xx / width - lx, yy / height - ly)
    gain = 1.0 - strength * 0.45 * distance / max(float(distance.max()), 1e-6)
    return gain / float(gain.max())


def _shadow(
    rng: np.random.Generator, width: int, height: int, corners: np.ndarray, strength: float
) -> np.ndarray:
    """A soft shadow (a head or an arm) covering part of the page: a multiplicative gain."""
    mask = np.zeros((height, width), np.float32)
    centre = corners.mean(axis=0)
    side = float(np.linalg.norm(corners[1] - corners[0]))
    angle = float(rng.uniform(0, 360))
    box = cv2.boxPoints(
        ((float(centre[0] + side * 0.45), float(centre[1])), (side * 1.1, side * 3), angle)
    )
    cv2.fillConvexPoly(mask, box.astype(np.int32), 1.0)
    mask = cv2.GaussianBlur(mask, (0, 0), sigmaX=max(2.0, side * 0.04))
    return 1.0 - strength * mask


def _motion_kernel(length: float, angle: float) -> np.ndarray:
    size = max(3, int(np.ceil(length)) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.deg2rad(angle)) * length / 2, np.sin(np.deg2rad(angle)) * length / 2
    cv2.line(kernel, (round(c - dx), round(c - dy)), (round(c + dx), round(c + dy)), 1.0, 1)
    return kernel / kernel.sum()


def make_scene(options: SceneOptions | None = None, seed: int = 0) -> Scene:
    """The frame ``options`` describes, deterministic for ``seed``."""
    options = options or SceneOptions()
    rng = np.random.default_rng([seed, 1])
    width, height = options.width, options.height
    frame = _DESKS[options.background](rng, width, height).astype(np.float32)
    extras: dict[str, float] = {}
    corners: np.ndarray | None = None
    rendered: RenderedPage | None = None
    if options.page:
        rendered = render_document(seed, options.dpi)
        page = rendered.image
        if options.paper_tint is not None:
            tint = np.array(options.paper_tint, np.float32)
            page = np.clip(page.astype(np.float32) * tint, 0, 255).astype(np.uint8)
        page_h, page_w = page.shape[:2]
        corners = _page_corners(options, rng, page_w, page_h)
        # Bring the page near its size in the frame first: warping does not average pixels.
        sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
        shrink = min(1.0, max(sides[0], sides[2]) / page_w * 1.25)
        if shrink < 1.0:
            page = cv2.resize(page, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        ph, pw = page.shape[:2]
        src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
        homography = cv2.getPerspectiveTransform(src, corners)
        size = (width, height)
        # The soft shadow the page casts on the desk.
        cast = np.zeros((height, width), np.float32)
        offset = np.array([0.012, 0.016]) * min(width, height)
        cv2.fillConvexPoly(cast, np.round(corners + offset).astype(np.int32), 1.0)
        cast = cv2.GaussianBlur(cast, (0, 0), sigmaX=0.012 * min(width, height))
        frame *= (1 - 0.5 * cast)[..., None]
        warped = cv2.warpPerspective(
            page.astype(np.float32), homography, size, flags=cv2.INTER_LINEAR
        )
        inside = cv2.warpPerspective(np.ones((ph, pw), np.float32), homography, size)[..., None]
        frame = frame * (1 - inside) + warped * inside
        if options.shadow > 0:
            frame *= _shadow(rng, width, height, corners, options.shadow)[..., None]
        if options.glare > 0:
            # A specular highlight: far brighter than the paper, clipped by the sensor.
            weights = rng.dirichlet(np.ones(4))
            spot = (weights @ corners) * 0.6 + corners.mean(axis=0) * 0.4
            diagonal = float(np.linalg.norm(corners[2] - corners[0]))
            radius = diagonal * (0.015 + 0.04 * options.glare)
            yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
            blob = np.exp(-(((xx - spot[0]) ** 2 + (yy - spot[1]) ** 2) / (2 * radius**2)))
            frame += (blob * 450)[..., None]
            extras["glare_x"], extras["glare_y"] = float(spot[0]), float(spot[1])
    lighting = options.lighting if options.lighting is not None else float(rng.uniform(0.1, 0.4))
    if lighting > 0:
        frame *= _lamp(rng, width, height, lighting)[..., None]
    frame *= options.exposure
    if options.blur > 0:
        frame = cv2.GaussianBlur(frame, (0, 0), sigmaX=options.blur)
    else:
        frame = cv2.GaussianBlur(frame, (0, 0), sigmaX=0.6)  # a real lens is never perfect
    if options.motion_blur > 0:
        angle = float(rng.uniform(0, 180))
        frame = cv2.filter2D(frame, -1, _motion_kernel(options.motion_blur, angle))
        extras["motion_angle"] = angle
    if options.noise > 0:
        frame += rng.normal(0, options.noise, frame.shape).astype(np.float32)
    image = np.clip(frame, 0, 255).astype(np.uint8)
    if options.jpeg_quality is not None:
        ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, options.jpeg_quality])
        if ok:
            image = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return Scene(image, corners, rendered, options, seed, extras)


def empty_desk(options: SceneOptions | None = None, seed: int = 0) -> Scene:
    """The desk of ``options`` with no document on it."""
    return make_scene(replace(options or SceneOptions(), page=False), seed)


def random_options(seed: int, **overrides: object) -> SceneOptions:
    """A varied, capturable scene for benchmarks: any desk, mild light, small pose, sharp."""
    rng = np.random.default_rng([seed, 3])
    chosen = SceneOptions(
        background=BACKGROUNDS[int(rng.integers(0, len(BACKGROUNDS)))],
        page_scale=float(rng.uniform(0.7, 0.95)),
        angle=float(rng.uniform(-8, 8)),
        quarter_turns=int(rng.choice([0, 0, 0, 1, 2, 3])),
        tilt=float(rng.uniform(0, 0.12)),
        lighting=float(rng.uniform(0, 0.5)),
        noise=float(rng.uniform(1, 4)),
    )
    return replace(chosen, **overrides)  # type: ignore[arg-type]
