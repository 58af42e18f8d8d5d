"""Read QR codes from a camera picture with zxing-cpp, small, turned or glossy ones included.

    read_qr(image) -> list[str]        every QR code's text (UTF-8), or QRNotFound
    read_cccd_qr(image) -> CCCDQR      the one that is a citizen ID card's, or NotACCCDQR

The passes, cheapest first, stop at the first that decodes:

    1. the picture as it is (zxing's own rotations and downscaling)
    2. each region that likely holds a code: those zxing located but could not decode, then the
       densest squares of fine texture (a code so small or washed out that zxing did not even
       locate it). Each is enlarged to about 400 pixels (bicubic) and tried as is, strongly
       sharpened and thresholded locally, contrast-stretched (local min/max, which undoes a
       glare spot's washed-out contrast), with zxing's local and global binarizers
    3. the whole picture enlarged twice, as is and contrast-stretched (while it stays under
       MAX_ENLARGED_PIXELS: a large picture's codes are large enough already)

A CCCD's QR code at a document camera's resolution has modules of about two pixels: zxing needs
the enlargement to sample them. The text is the code's bytes decoded as UTF-8 explicitly (the
card writes Vietnamese in UTF-8 without an ECI header, which a reader could otherwise take for
Shift-JIS or Latin-1); bytes that are not UTF-8 fall back to zxing's own decoding.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import cv2
import numpy as np
import zxingcpp

from kiosk.vision.cccd_qr import CCCDQR, parse_cccd_qr
from kiosk.vision.errors import ImageUnreadable, NotACCCDQR, QRNotFound
from kiosk.vision.images import downscale

WORK_MAX_SIDE = 2400  # larger pictures are shrunk first (a QR code needs no more)
CROP_SIDE = 400  # a located code is enlarged to about this many pixels
MAX_ENLARGE = 5.0
MAX_ENLARGED_PIXELS = 9_000_000  # the whole picture is enlarged only up to this size

_QR = zxingcpp.BarcodeFormat.QRCode
_BINARIZERS = (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram)


def read_qr(image: np.ndarray) -> list[str]:
    """The texts of the QR codes in a BGR (or gray) picture, each once, in the order found.

    Raises ``QRNotFound`` when no QR code decodes, ``ImageUnreadable`` for an array that is
    not a picture.
    """
    gray = _prepare(image)
    texts = _decode(gray)
    if not texts:
        raise QRNotFound("no QR code decoded in the picture")
    return texts


def read_cccd_qr(image: np.ndarray) -> CCCDQR:
    """The CCCD QR code in the picture, parsed; ``QRNotFound`` when there is no QR code,
    ``NotACCCDQR`` when the codes found are not a citizen ID card's."""
    reasons = []
    for text in read_qr(image):
        try:
            return parse_cccd_qr(text)
        except NotACCCDQR as exc:
            reasons.append(str(exc))
    raise NotACCCDQR("; ".join(reasons))


def timed_read_qr(image: np.ndarray) -> tuple[list[str], float]:
    """``read_qr`` and the seconds it took (an empty list when nothing decoded)."""
    started = time.perf_counter()
    try:
        texts = read_qr(image)
    except QRNotFound:
        texts = []
    return texts, time.perf_counter() - started


def _prepare(image: np.ndarray) -> np.ndarray:
    """A gray copy, shrunk first when larger than WORK_MAX_SIDE (no full-size copy)."""
    if not isinstance(image, np.ndarray) or image.size == 0 or image.dtype != np.uint8:
        raise ImageUnreadable("not a picture: expected a non-empty uint8 NumPy array")
    if image.ndim == 3 and image.shape[2] in (3, 4):
        small = downscale(image, WORK_MAX_SIDE)
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        return cv2.cvtColor(small, code)
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        return np.ascontiguousarray(downscale(image.reshape(image.shape[:2]), WORK_MAX_SIDE))
    raise ImageUnreadable(f"expected H×W, H×W×3 or H×W×4 pixels, got shape {image.shape}")


def _decode(gray: np.ndarray) -> list[str]:
    """The passes of the module docstring; an empty list when none decodes."""
    found = _zxing(gray)
    texts = _texts(found)
    if texts:
        return texts
    for crop in _crops(gray, found):
        texts = _from_crop(crop)
        if texts:
            return texts
    if gray.size * 4 <= MAX_ENLARGED_PIXELS:
        double = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        texts = _texts(_zxing(double)) or _texts(_zxing(_stretch(double, 31)))
    return texts


def _zxing(
    gray: np.ndarray, binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage
) -> list[zxingcpp.Barcode]:
    """Every QR code zxing finds, those it could not decode included (for their position)."""
    try:
        return zxingcpp.read_barcodes(
            np.ascontiguousarray(gray),
            formats=_QR,
            try_rotate=True,
            try_downscale=True,
            binarizer=binarizer,
            return_errors=True,
        )
    except (RuntimeError, ValueError) as exc:  # zxing-cpp's own errors stay inside
        raise ImageUnreadable(f"zxing-cpp could not read the picture: {exc}") from exc


def _texts(found: list[zxingcpp.Barcode]) -> list[str]:
    texts: list[str] = []
    for barcode in found:
        if not barcode.valid:
            continue
        try:
            text = bytes(barcode.bytes).decode("utf-8")
        except UnicodeDecodeError:
            text = barcode.text
        if text not in texts:
            texts.append(text)
    return texts


def _from_crop(crop: np.ndarray) -> list[str]:
    """Decode one likely code region, enlarged and cleaned up in several ways."""
    for variant, binarizers in _variants(crop):
        for binarizer in binarizers:
            texts = _texts(_zxing(variant, binarizer))
            if texts:
                return texts
    return []


def _crops(gray: np.ndarray, found: list[zxingcpp.Barcode]) -> Iterator[np.ndarray]:
    """Regions that likely hold a code: those zxing located but could not decode, then the
    densest squares of fine texture (a code zxing did not even locate)."""
    height, width = gray.shape
    boxes: list[tuple[float, float, float]] = []  # centre x, centre y, half side
    for barcode in found:
        if barcode.valid:
            continue
        p = barcode.position
        corners = np.array(
            [[q.x, q.y] for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)],
            np.float64,
        )
        side = np.linalg.norm(corners[0] - corners[1]) + np.linalg.norm(corners[1] - corners[2])
        boxes.append((*corners.mean(axis=0), side / 2))
    boxes.extend(_textured_squares(gray))
    taken: list[tuple[float, float, float]] = []
    for cx, cy, half in boxes:
        if half < 6 or any(abs(cx - x) < h and abs(cy - y) < h for x, y, h in taken):
            continue
        taken.append((cx, cy, half))
        reach = 1.3 * half  # the quiet zone and a little more
        x0, y0 = int(max(0, cx - reach)), int(max(0, cy - reach))
        x1, y1 = int(min(width, cx + reach)), int(min(height, cy + reach))
        if x1 - x0 >= 12 and y1 - y0 >= 12:
            yield gray[y0:y1, x0:x1]


def _textured_squares(gray: np.ndarray, limit: int = 3) -> list[tuple[float, float, float]]:
    """The squares of dense fine contrast (a QR code's modules), densest first: morphological
    gradient, averaged, thresholded against the picture's strongest texture; an opening
    removes thin things (text lines, the card's edge)."""
    factor = min(1.0, 640 / max(gray.shape))
    small = (
        gray
        if factor == 1
        else cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    )
    gradient = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    energy = cv2.blur(gradient.astype(np.float32), (9, 9))
    mask = (energy > max(20.0, 0.45 * float(np.percentile(energy, 99.5)))).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((11, 11), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    squares = []
    for index in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[index])
        if min(w, h) < 15 or not 0.6 <= w / h <= 1.67 or area < 0.5 * w * h:
            continue
        density = float(energy[labels == index].mean())
        half = max(w, h) / 2 / factor
        squares.append((density, (x + w / 2) / factor, (y + h / 2) / factor, half))
    squares.sort(reverse=True)
    return [(cx, cy, half) for _, cx, cy, half in squares[:limit]]


def _variants(crop: np.ndarray) -> Iterator[tuple[np.ndarray, tuple[zxingcpp.Binarizer, ...]]]:
    """The crop enlarged to about CROP_SIDE pixels, then as is, contrast-stretched, and
    strongly sharpened and thresholded locally (modules of two pixels blurred into each other
    come apart again); each with the binarizers worth trying on it."""
    factor = min(MAX_ENLARGE, max(1.0, CROP_SIDE / max(crop.shape)))
    big = cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    block = int(6 * factor) | 1
    window = max(9, big.shape[0] // 10) | 1
    yield big, _BINARIZERS
    for sigma, amount in ((factor, 3.0), (factor, 1.5), (0.0, 0.0)):
        sharp = _sharpen(big, sigma, amount) if amount else big
        binary = cv2.adaptiveThreshold(
            sharp, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, max(3, block), 0
        )
        yield binary, (zxingcpp.Binarizer.LocalAverage,)
    yield _stretch(big, window), _BINARIZERS
    yield _stretch(_sharpen(big, factor, 3.0), window), _BINARIZERS


def _sharpen(gray: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    """Unsharp mask: the picture plus ``amount`` times its difference from a blurred copy."""
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0)


def _stretch(gray: np.ndarray, window: int) -> np.ndarray:
    """Local contrast stretch: each pixel between its neighbourhood's darkest and lightest.
    A glare spot lifts the dark modules and saturates the light ones; their difference is
    what is left of the code, and this spreads it back over 0..255."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    light = cv2.blur(cv2.dilate(gray, kernel), (window, window)).astype(np.float32)
    dark = cv2.blur(cv2.erode(gray, kernel), (window, window)).astype(np.float32)
    spread = np.maximum(light - dark, 24.0)
    return np.clip((gray.astype(np.float32) - dark) * 255.0 / spread, 0, 255).astype(np.uint8)
