"""Shared by the vision tests: generated scenes (cached), page comparison, frame jitter."""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

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
