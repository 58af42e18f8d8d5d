"""Images in and out of ``kiosk/vision``: decode under a pixel budget, check arrays, downscale.

Everything in ``kiosk/vision`` works on BGR uint8 arrays (H×W×3, OpenCV's order). A citizen's
phone photo or a still from a high-resolution camera can be 40 megapixels: decoded whole that is
120 MB of pixels before any work starts. ``load_image`` and ``decode_image`` never do that for a
JPEG: Pillow reads the size from the header (no pixels), then OpenCV decodes with libjpeg's DCT
scaling (``cv2.IMREAD_REDUCED_COLOR_2/4/8``) straight into a buffer of 1/2, 1/4 or 1/8 the size,
so memory follows the output, not the file. Other formats (PNG, BMP,
TIFF, WebP) have no reduced decoding; they are decoded whole when the file is at most
``MAX_FULL_DECODE_PIXELS`` and refused as ``ImageUnreadable`` above (a decompression bomb or a
scan nobody needs at that size). In every case the result has at most ``max_pixels`` pixels.

EXIF orientation (phones) is applied by OpenCV, so the array is the picture as a person sees it.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

from kiosk.vision.errors import ImageUnreadable

# 12 MP: 4000×3000, more than enough for a page at 300 dpi (A4 = 2480×3508 = 8.7 MP).
DEFAULT_MAX_PIXELS = 12_000_000
# Formats without reduced decoding are decoded whole up to this size (≈ 150 MB as RGB).
MAX_FULL_DECODE_PIXELS = 50_000_000


def as_bgr(image: np.ndarray) -> np.ndarray:
    """``image`` as an H×W×3 uint8 BGR array: grayscale and BGRA are converted, others refused.

    Raises ``ImageUnreadable`` for an empty array, a wrong dtype or shape.
    """
    if not isinstance(image, np.ndarray) or image.size == 0:
        raise ImageUnreadable("not an image: empty or not a NumPy array")
    if image.dtype != np.uint8:
        raise ImageUnreadable(f"expected uint8 pixels, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim == 3 and image.shape[2] == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    raise ImageUnreadable(f"expected H×W, H×W×3 or H×W×4 pixels, got shape {image.shape}")


def to_gray(image: np.ndarray) -> np.ndarray:
    """A single-channel uint8 copy of a BGR (or already gray) image."""
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def scale_to_fit(
    width: int, height: int, *, max_side: int | None = None, max_pixels: int | None = None
) -> float:
    """The factor (≤ 1) that brings width×height within ``max_side`` and ``max_pixels``."""
    scale = 1.0
    if max_side is not None and max(width, height) > max_side:
        scale = min(scale, max_side / max(width, height))
    if max_pixels is not None and width * height > max_pixels:
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
    return scale


def downscale(image: np.ndarray, max_side: int) -> np.ndarray:
    """``image`` shrunk (area interpolation) so its longer side is at most ``max_side``.

    Returns ``image`` itself, not a copy, when it is already small enough.
    """
    if max_side <= 0:
        raise ValueError(f"max_side must be positive, got {max_side}")
    height, width = image.shape[:2]
    scale = scale_to_fit(width, height, max_side=max_side)
    if scale >= 1.0:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def downscale_pixels(image: np.ndarray, max_pixels: int) -> np.ndarray:
    """``image`` shrunk so it has at most ``max_pixels`` pixels (itself when it already has)."""
    if max_pixels <= 0:
        raise ValueError(f"max_pixels must be positive, got {max_pixels}")
    height, width = image.shape[:2]
    scale = scale_to_fit(width, height, max_pixels=max_pixels)
    if scale >= 1.0:
        return image
    size = (max(1, math.floor(width * scale)), max(1, math.floor(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def jpeg_reduction(width: int, height: int, max_pixels: int) -> int:
    """The smallest DCT reduction (1, 2, 4 or 8) that brings a JPEG within ``max_pixels``.

    8 when even 1/8 is too big: the result is then finished with ``downscale_pixels``.
    """
    for factor in (1, 2, 4):
        if math.ceil(width / factor) * math.ceil(height / factor) <= max_pixels:
            return factor
    return 8


_REDUCED_FLAGS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def _header(source: bytes | BinaryIO) -> tuple[str, int, int]:
    """(format, width, height) from the image's header; Pillow reads no pixels for this."""
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as picture:
            width, height = picture.size
            return picture.format or "", width, height
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        # Pillow's own guard refuses images above twice Image.MAX_IMAGE_PIXELS (≈ 179 MP).
        raise ImageUnreadable(f"not a readable image: {exc}") from exc


def _read_flag(fmt: str, width: int, height: int, max_pixels: int) -> int:
    """The OpenCV read flag: reduced DCT decoding for a JPEG, whole decoding (bounded) else."""
    if width <= 0 or height <= 0:
        raise ImageUnreadable(f"image has no pixels ({width}x{height})")
    if fmt == "JPEG":
        return _REDUCED_FLAGS[jpeg_reduction(width, height, max_pixels)]
    if width * height > MAX_FULL_DECODE_PIXELS:
        raise ImageUnreadable(
            f"{fmt or 'image'} of {width}x{height} is too large to decode "
            f"(limit {MAX_FULL_DECODE_PIXELS} pixels without reduced decoding; send a JPEG)"
        )
    return cv2.IMREAD_COLOR


def _finish(pixels: np.ndarray | None, max_pixels: int) -> np.ndarray:
    if pixels is None or pixels.size == 0:
        raise ImageUnreadable("image data is corrupt or in a format OpenCV cannot decode")
    return downscale_pixels(as_bgr(pixels), max_pixels)


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The BGR pixels of an encoded image (JPEG, PNG, …), with at most ``max_pixels`` pixels.

    Raises ``ImageUnreadable`` when the bytes are not an image, are corrupt, or too large.
    """
    if not data:
        raise ImageUnreadable("no image data")
    flag = _read_flag(*_header(data), max_pixels)
    try:
        pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
    except cv2.error as exc:
        raise ImageUnreadable(f"image data is corrupt: {exc}") from exc
    return _finish(pixels, max_pixels)


def load_image(path: Path | str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """The BGR pixels of the image file at ``path``, with at most ``max_pixels`` pixels.

    Raises ``ImageUnreadable`` when the file is missing, not an image, corrupt or too large.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageUnreadable(f"{path}: {exc.strerror or exc}") from exc
    try:
        return decode_image(data, max_pixels=max_pixels)
    except ImageUnreadable as exc:
        raise ImageUnreadable(f"{path}: {exc}") from exc


def image_size(path: Path | str) -> tuple[int, int]:
    """(width, height) of an image file, read from its header without decoding the pixels."""
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise ImageUnreadable(f"{path}: {exc.strerror or exc}") from exc
    with handle:
        _, width, height = _header(handle)
    return width, height
