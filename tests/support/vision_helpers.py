"""Shared by the vision tests: generated scenes (cached), page comparison, frame jitter, and
camera photos of the demo card and of a receipt's QR (the flow, look-up and metrics tests)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import qrcode

from devices.simulated.document_scenes import Scene, SceneOptions, make_scene


@cache
def scene(seed: int = 0, **options: object) -> Scene:
    """``make_scene(SceneOptions(**options), seed)``, generated once per test session."""
    return make_scene(SceneOptions(**options), seed)  # type: ignore[arg-type]


def diagonal(image: np.ndarray) -> float:
    height, width = image.shape[:2]
    return float(np.hypot(width, height))


def content_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two pages' print, ignoring lighting: both brought to one size,
    gray, their slow shading removed (minus a wide blur), lightly smoothed.
    """
    size = (420, 594) if a.shape[0] >= a.shape[1] else (594, 420)

    def prepare(image: np.ndarray) -> np.ndarray:
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        detail = gray - cv2.GaussianBlur(gray, (0, 0), 8)
        detail = cv2.GaussianBlur(detail, (0, 0), 1.5)
        return detail - detail.mean()

    x, y = prepare(a), prepare(b)
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` moved by (dx, dy) pixels, the border repeated (a page nudged on the desk)."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    height, width = image.shape[:2]
    return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def card_photo_on_desk(tmp_path: Path, side: str) -> Path:
    """A photo of the demo citizen's card (front with QR, or back with MRZ) on a desk."""
    from devices.simulated.card_images import CardHolder, render_cccd_back, render_cccd_front
    from devices.simulated.card_reader import PROFILES
    from devices.simulated.profiles import FAMILY, _lds_profile

    holder = CardHolder(_lds_profile(PROFILES["demo"], FAMILY["demo"]), old_id="013456789")
    card = render_cccd_front(holder) if side == "front" else render_cccd_back(holder)
    desk = np.full((1080, 1920, 3), (40, 60, 90), np.uint8)
    height, width = card.shape[:2]
    scale = min(1500 / width, 900 / height)
    card = cv2.resize(card, (int(width * scale), int(height * scale)), interpolation=cv2.INTER_AREA)
    y, x = (1080 - card.shape[0]) // 2, (1920 - card.shape[1]) // 2
    desk[y : y + card.shape[0], x : x + card.shape[1]] = card
    path = tmp_path / f"card-{side}.jpg"
    cv2.imwrite(str(path), desk)
    return path


def photo_of_qr(text: str, path: Path, *, tilt: float = 8.0) -> Path:
    """A receipt's QR on paper, a little turned, in a 1280×720 camera frame."""
    qr = qrcode.QRCode(border=4, box_size=8)
    qr.add_data(text)
    image = np.array(qr.make_image().convert("L"), dtype=np.uint8)
    frame = np.full((720, 1280), 200, dtype=np.uint8)
    h, w = image.shape
    y, x = (720 - h) // 2, (1280 - w) // 2
    frame[y : y + h, x : x + w] = image
    turn = cv2.getRotationMatrix2D((640, 360), tilt, 1.0)
    frame = cv2.warpAffine(frame, turn, (1280, 720), borderValue=200)
    cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    return path
