"""Generate the sample camera frames in assets/samples/ (run once; the outputs are committed).

    .venv/bin/python scripts/make_samples.py [--out DIR]

Writes, deterministically (fixed seeds, no clock):
  document-vn.jpg   1920×1080: an A4 Vietnamese administrative form lying on a dark wooden desk,
                    seen by a camera slightly off-axis (perspective tilt, lamp shading, shadow)
  desk-empty.jpg    the same desk and light with no document
  document-vn.json  ground truth for vision tests: the page corners in the frame, the text lines
The simulated camera plays these by default; the vision issue uses them as test inputs.
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from devices.simulated.document_scenes import wrap_words
from kiosk.paths import FONT_BOLD, FONT_REGULAR, SAMPLES_DIR

FRAME_W, FRAME_H = 1920, 1080
PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
JPEG_QUALITY = 85
SEED = 20241124

# The page's corners in the frame (top-left, top-right, bottom-right, bottom-left): the camera
# looks a little from below the page, so its far (top) edge is shorter, and the page is turned
# by a few degrees on the desk.
PAGE_CORNERS = np.array(
    [[735.0, 78.0], [1348.0, 104.0], [1392.0, 1010.0], [660.0, 985.0]], dtype=np.float32
)

HEADING = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
PLACE_DATE = "Hà Nội, ngày 24 tháng 11 năm 2025"
TITLE = "ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN"
ADDRESSEE = "Kính gửi: Sở Văn hóa, Thể thao và Du lịch thành phố Hà Nội"
FIELDS = [
    "1. Tên cơ sở in: Công ty TNHH In ấn Minh Phát",
    "2. Địa chỉ trụ sở: Số 12 đường Trần Phú, phường Hà Đông, thành phố Hà Nội",
    "3. Số điện thoại: 024 3812 3456",
    "4. Người đứng đầu cơ sở in: Nguyễn Văn An",
    "5. Số định danh cá nhân: 001090012345",
    "6. Nội dung đề nghị cấp phép: in xuất bản phẩm, tem chống giả, bao bì và tờ rơi quảng cáo.",
]
PARAGRAPHS = [
    "Cơ sở in có đủ điều kiện hoạt động theo quy định tại Nghị định số 60/2014/NĐ-CP về "
    "hoạt động in và các văn bản sửa đổi, bổ sung; có mặt bằng sản xuất, thiết bị in và "
    "người đứng đầu có trình độ chuyên môn phù hợp.",
    "Cơ sở in cam kết thực hiện đúng các quy định của pháp luật về hoạt động in và chịu "
    "trách nhiệm về tính chính xác, trung thực của nội dung kê khai trong đơn này.",
]
SIGNATURE = ["NGƯỜI ĐỨNG ĐẦU CƠ SỞ IN", "(Ký, ghi rõ họ tên và đóng dấu)", "Nguyễn Văn An"]


def nfc(text: str) -> str:
    """Vietnamese text is NFC everywhere."""
    return unicodedata.normalize("NFC", text)


def render_page() -> tuple[np.ndarray, list[str]]:
    """The A4 page as a BGR image, and its text lines from top to bottom."""
    page = Image.new("RGB", (PAGE_W, PAGE_H), (250, 249, 244))
    draw = ImageDraw.Draw(page)
    bold = ImageFont.truetype(str(FONT_BOLD), 30)
    title_font = ImageFont.truetype(str(FONT_BOLD), 38)
    regular = ImageFont.truetype(str(FONT_REGULAR), 29)
    italic_like = ImageFont.truetype(str(FONT_REGULAR), 27)
    margin_l, margin_r = 150, 110
    text_w = PAGE_W - margin_l - margin_r
    ink = (20, 20, 24)
    drawn: list[str] = []

    def centred(text: str, font: ImageFont.FreeTypeFont, y: int) -> int:
        text = nfc(text)
        x = margin_l + (text_w - font.getlength(text)) / 2
        draw.text((x, y), text, font=font, fill=ink)
        drawn.append(text)
        return int(x)

    y = 130
    centred(HEADING[0], bold, y)
    y += 46
    x = centred(HEADING[1], bold, y)
    underline_w = bold.getlength(nfc(HEADING[1]))
    draw.line([(x, y + 42), (x + underline_w, y + 42)], fill=ink, width=2)
    y += 90
    place = nfc(PLACE_DATE)
    draw.text(
        (PAGE_W - margin_r - italic_like.getlength(place), y), place, font=italic_like, fill=ink
    )
    drawn.append(place)
    y += 110
    centred(TITLE, title_font, y)
    y += 100
    for line in wrap_words(nfc(ADDRESSEE), regular, text_w - 120):
        draw.text((margin_l + 120, y), line, font=regular, fill=ink)
        drawn.append(line)
        y += 44
    y += 30
    for field in FIELDS:
        for i, line in enumerate(wrap_words(nfc(field), regular, text_w - 40)):
            draw.text((margin_l + (0 if i == 0 else 40), y), line, font=regular, fill=ink)
            drawn.append(line)
            y += 44
        y += 6
    y += 24
    for paragraph in PARAGRAPHS:
        for i, line in enumerate(wrap_words(nfc(paragraph), regular, text_w - 60)):
            draw.text((margin_l + (60 if i == 0 else 0), y), line, font=regular, fill=ink)
            drawn.append(line)
            y += 44
        y += 20
    y += 40
    sign_x = margin_l + text_w // 2
    sign_w = text_w // 2
    for text, font, gap in (
        (SIGNATURE[0], bold, 44),
        (SIGNATURE[1], italic_like, 160),
        (SIGNATURE[2], bold, 0),
    ):
        text = nfc(text)
        draw.text((sign_x + (sign_w - font.getlength(text)) / 2, y), text, font=font, fill=ink)
        drawn.append(text)
        y += gap
    # A signature scribble above the name.
    rng = np.random.default_rng(SEED + 1)
    xs = np.linspace(sign_x + 150, sign_x + sign_w - 150, 40)
    ys = y - 100 + 25 * np.sin(np.linspace(0, 5 * np.pi, 40)) + rng.normal(0, 3, 40)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=(40, 40, 120), width=3)
    bgr = cv2.cvtColor(np.asarray(page), cv2.COLOR_RGB2BGR)
    return bgr, drawn


def desk(rng: np.random.Generator) -> np.ndarray:
    """A dark wooden desk top, grain running across the frame."""
    grain = rng.normal(0, 1, (FRAME_H // 8, FRAME_W // 64)).astype(np.float32)
    grain = cv2.resize(grain, (FRAME_W, FRAME_H), interpolation=cv2.INTER_CUBIC)
    rings = np.sin(np.linspace(0, 38 * np.pi, FRAME_H, dtype=np.float32))[:, None] * 0.6
    wood = cv2.GaussianBlur(grain + rings, (0, 0), sigmaX=9, sigmaY=1.5)
    wood = (wood - wood.min()) / (wood.max() - wood.min())
    base = np.array([38, 58, 86], dtype=np.float32)  # BGR: a dark walnut brown
    light = np.array([62, 92, 128], dtype=np.float32)
    return base + wood[..., None] * (light - base)


def lighting() -> np.ndarray:
    """A lamp above the top left: a gain from about 0.98 there down to 0.6 in the far corner
    (paper stays below white: a lamp that burns the paper white is glare, which the capture
    refuses)."""
    yy, xx = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    distance = np.hypot((xx - 500) / FRAME_W, (yy - 150) / FRAME_H)
    return (0.98 - 0.38 * distance)[..., None]


def compose(with_page: bool) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(SEED)
    frame = desk(rng)
    lines: list[str] = []
    if with_page:
        page, lines = render_page()
        src = np.array([[0, 0], [PAGE_W, 0], [PAGE_W, PAGE_H], [0, PAGE_H]], dtype=np.float32)
        homography = cv2.getPerspectiveTransform(src, PAGE_CORNERS)
        size = (FRAME_W, FRAME_H)
        # The soft shadow the page casts on the desk, down and right of it.
        mask = np.zeros((FRAME_H, FRAME_W), dtype=np.float32)
        cv2.fillConvexPoly(mask, (PAGE_CORNERS + [14, 18]).astype(np.int32), 1.0)
        shadow = cv2.GaussianBlur(mask, (0, 0), sigmaX=14)[..., None]
        frame *= 1 - 0.55 * shadow
        warped = cv2.warpPerspective(
            page.astype(np.float32), homography, size, flags=cv2.INTER_AREA
        )
        inside = cv2.warpPerspective(
            np.ones((PAGE_H, PAGE_W), np.float32), homography, size, flags=cv2.INTER_LINEAR
        )[..., None]
        frame = frame * (1 - inside) + warped * inside
    frame *= lighting()
    frame = cv2.GaussianBlur(frame, (0, 0), sigmaX=0.7)
    frame += rng.normal(0, 1.6, frame.shape).astype(np.float32)
    return np.clip(frame, 0, 255).astype(np.uint8), lines


def write_jpeg(path: Path, image: np.ndarray) -> int:
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed for {path}")
    path.write_bytes(encoded.tobytes())
    return len(encoded)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=SAMPLES_DIR, help="output folder")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    document, lines = compose(with_page=True)
    empty, _ = compose(with_page=False)
    for name, image in (("document-vn.jpg", document), ("desk-empty.jpg", empty)):
        size = write_jpeg(out / name, image)
        print(f"{out / name}: {image.shape[1]}x{image.shape[0]}, {size // 1024} KB")
    truth = {
        "image": "document-vn.jpg",
        "frame_size": [FRAME_W, FRAME_H],
        "page_size_mm": [210, 297],
        "page_corners": PAGE_CORNERS.round(1).tolist(),
        "corner_order": "top-left, top-right, bottom-right, bottom-left (x, y in pixels)",
        "title": nfc(TITLE),
        "lines": lines,
    }
    (out / "document-vn.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    print(f"{out / 'document-vn.json'}: ground truth")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
