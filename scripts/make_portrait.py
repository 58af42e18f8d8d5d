"""Draw the demo card's portrait, assets/samples/portrait-demo.jpg (run once; output committed).

    .venv/bin/python scripts/make_portrait.py [--out FILE]

A synthetic, face-like drawing (no real person): an ID-photo framing of 480×640 on a light blue
background, dark hair, a dark jacket over a white collar, soft shading and a little sensor
noise, so that it looks like a photo to JPEG and to the face-size checks without being one.
Deterministic (fixed seed, no clock). Saved as JPEG, lowering the quality until the file is at
most 20 KB, like the photo stored in a CCCD chip's DG2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from kiosk.paths import SAMPLES_DIR

WIDTH, HEIGHT = 480, 640
MAX_BYTES = 20 * 1024
SEED = 20241124
OUT = SAMPLES_DIR / "portrait-demo.jpg"

SKIN = (140, 178, 222)  # BGR
SKIN_SHADOW = (112, 148, 196)
HAIR = (28, 30, 36)
JACKET = (70, 48, 40)
SHIRT = (244, 244, 240)
LIPS = (104, 112, 182)
IRIS = (40, 58, 84)
AA = cv2.LINE_AA


def _background() -> np.ndarray:
    top = np.array([246, 232, 214], np.float32)
    bottom = np.array([228, 206, 178], np.float32)
    ramp = np.linspace(0.0, 1.0, HEIGHT, dtype=np.float32)[:, None, None]
    image = top * (1 - ramp) + bottom * ramp
    return np.repeat(image, WIDTH, axis=1)


def _ellipse(img: np.ndarray, center, axes, color, angle=0, start=0, end=360, thickness=-1):
    cv2.ellipse(img, center, axes, angle, start, end, color, thickness, AA)


def draw_portrait() -> np.ndarray:
    canvas = _background()
    img = canvas.astype(np.uint8)
    cx = WIDTH // 2

    # shoulders: jacket, white collar, neck
    _ellipse(img, (cx, HEIGHT + 60), (250, 190), JACKET)
    collar = np.array([[cx - 70, 500], [cx + 70, 500], [cx, 600]], np.int32)
    cv2.fillPoly(img, [collar], SHIRT, AA)
    lapel_l = np.array([[cx - 75, 498], [cx - 8, 600], [cx - 120, 640], [cx - 160, 560]], np.int32)
    lapel_r = np.array([[cx + 75, 498], [cx + 8, 600], [cx + 120, 640], [cx + 160, 560]], np.int32)
    cv2.fillPoly(img, [lapel_l, lapel_r], (60, 40, 34), AA)
    cv2.rectangle(img, (cx - 48, 400), (cx + 48, 520), SKIN_SHADOW, -1, AA)
    _ellipse(img, (cx, 520), (48, 22), SKIN_SHADOW, 0, 0, 180)

    # hair behind the head, ears, face
    _ellipse(img, (cx, 250), (142, 160), HAIR)
    for side in (-1, 1):
        _ellipse(img, (cx + side * 122, 300), (20, 36), SKIN_SHADOW)
        _ellipse(img, (cx + side * 124, 300), (9, 20), (100, 132, 180))
    _ellipse(img, (cx, 290), (122, 158), SKIN)

    # fringe over the forehead
    fringe = np.array(
        [[cx - 132, 250], [cx - 120, 150], [cx - 40, 105], [cx + 60, 108], [cx + 128, 160],
         [cx + 134, 250], [cx + 100, 190], [cx + 20, 172], [cx - 60, 182], [cx - 110, 210]],
        np.int32,
    )  # fmt: skip
    cv2.fillPoly(img, [fringe], HAIR, AA)

    # eyebrows, eyes
    for side in (-1, 1):
        ex = cx + side * 48
        _ellipse(img, (ex, 252), (34, 10), HAIR, 0, 200 if side < 0 else 200, 340, 6)
        _ellipse(img, (ex, 280), (24, 11), (236, 240, 244))
        cv2.circle(img, (ex, 280), 10, IRIS, -1, AA)
        cv2.circle(img, (ex, 280), 4, (15, 15, 20), -1, AA)
        cv2.circle(img, (ex + 3, 277), 2, (250, 250, 250), -1, AA)
        _ellipse(img, (ex, 279), (25, 12), (70, 80, 100), 0, 190, 350, 2)

    # nose and mouth
    nose = np.array([[cx - 4, 290], [cx - 10, 345], [cx - 2, 352]], np.int32)
    cv2.polylines(img, [nose], False, SKIN_SHADOW, 3, AA)
    for side in (-1, 1):
        _ellipse(img, (cx + side * 13, 352), (8, 5), (96, 124, 170))
    _ellipse(img, (cx, 394), (36, 12), LIPS, 0, 0, 180)
    _ellipse(img, (cx, 396), (34, 6), LIPS, 0, 180, 360)
    cv2.line(img, (cx - 36, 394), (cx + 36, 394), (80, 86, 140), 2, AA)

    # soft shading: darker at the face's sides and under the chin
    shade = np.zeros((HEIGHT, WIDTH), np.float32)
    _ellipse(shade, (cx, 292), (122, 158), 1.0)
    _ellipse(shade, (cx + 10, 270), (92, 128), 0.0)
    shade = cv2.GaussianBlur(shade, (0, 0), 18) * 0.22
    out = img.astype(np.float32) * (1.0 - shade[:, :, None])

    rng = np.random.default_rng(SEED)
    out += rng.normal(0.0, 2.0, out.shape).astype(np.float32)
    out = cv2.GaussianBlur(np.clip(out, 0, 255).astype(np.uint8), (3, 3), 0)
    return out


def encode_jpeg(image: np.ndarray, max_bytes: int = MAX_BYTES) -> bytes:
    for quality in range(90, 29, -5):
        ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok and len(buffer) <= max_bytes:
            return buffer.tobytes()
    raise RuntimeError(f"cannot fit the portrait in {max_bytes} bytes")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT})")
    args = parser.parse_args(argv)
    data = encode_jpeg(draw_portrait())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{args.out}: {WIDTH}×{HEIGHT}, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
