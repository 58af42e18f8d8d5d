"""The MRZ's OCR-B glyphs as templates, and how well each cell of a straightened zone matches each.

The straightened zone (``mrz_zone.straighten``) puts every character in a cell of PITCH × CELL_H
pixels: cell k of line i spans columns ``MARGIN + k * PITCH`` onwards and rows ``TOP`` above to
``BELOW`` under ``baseline(i)``. The 37 characters (A-Z, 0-9, <) are rendered from the OCR-B font
into such cells at run time, in three renderings (two blurs, one bolder) since a camera blurs
and thickens strokes. ``template_scores`` correlates each cell, shifted by up to two pixels each
way, with every rendering and keeps each character's best: a (length × 37) array per line.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.paths import FONT_OCRB
from kiosk.vision.errors import MRZUnreadable

OCRB_FONT = str(FONT_OCRB)  # shipped in assets/fonts (Debian's fonts-ocr-b, public domain)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
FORMATS = {"TD1": (3, 30), "TD3": (2, 44)}  # lines, characters per line

PITCH = 24  # pixels per character cell in the straightened zone
ADVANCE_EM = 0.723  # OCR-B's advance width, in em
LINE_PITCH = 40  # pixels from baseline to baseline (6 lines per inch at 10 characters per inch)
MARGIN = 14  # pixels around the grid in the straightened zone
EM = PITCH / ADVANCE_EM  # OCR-B's em in the straightened zone
TOP = 29  # rows of a cell above the baseline (digits reach 0.77 em)
BELOW = 3  # rows of a cell below the baseline
CELL_H = TOP + BELOW


@dataclass(frozen=True)
class Glyphs:
    """The 37 OCR-B glyphs in cells of PITCH × CELL_H, in a few renderings."""

    vectors: np.ndarray  # (variants × 37, CELL_H × PITCH), zero mean, unit norm
    ink_left: float  # mean left ink edge in a cell
    ink_right: float  # mean right ink edge in a cell
    ink_middle: float  # mean vertical middle of the ink, rows above the baseline
    rows: np.ndarray  # mean ink per row of a cell (for vertical alignment)


@lru_cache(maxsize=1)
def ocrb_glyphs() -> Glyphs:
    """The templates, rendered from the font once (4× larger, then area-reduced)."""
    up = 4
    try:
        font = ImageFont.truetype(OCRB_FONT, round(EM * up))
    except OSError as exc:  # pragma: no cover - a broken installation
        raise MRZUnreadable(f"OCR-B font missing at {OCRB_FONT}: {exc}") from exc
    sharp = []
    for char in ALPHABET:
        canvas = Image.new("L", (PITCH * up, CELL_H * up), 0)
        ImageDraw.Draw(canvas).text((0, TOP * up), char, font=font, fill=255, anchor="ls")
        big = np.asarray(canvas, np.float32) / 255
        sharp.append(cv2.resize(big, (PITCH, CELL_H), interpolation=cv2.INTER_AREA))
    ink = np.stack(sharp)
    variants = []
    for sigma, grow in ((0.7, 0), (1.4, 0), (1.0, 1)):
        for glyph in ink:
            g = cv2.dilate(glyph, np.ones((2, 2), np.uint8)) if grow else glyph
            variants.append(cv2.GaussianBlur(g, (0, 0), sigma))
    vectors = normalise(-np.stack(variants).reshape(len(variants), -1))  # ink is dark
    cols = ink.sum(axis=1)  # (37, PITCH)
    rows = ink.sum(axis=2)  # (37, CELL_H)
    lefts = [np.flatnonzero(c > 0.3)[0] for c in cols]
    rights = [np.flatnonzero(c > 0.3)[-1] + 1 for c in cols]
    middles = [TOP - np.average(np.arange(CELL_H), weights=r) for r in rows]
    return Glyphs(
        vectors.astype(np.float32),
        float(np.mean(lefts)),
        float(np.mean(rights)),
        float(np.mean(middles)),
        rows.mean(axis=0),
    )


def normalise(rows: np.ndarray) -> np.ndarray:
    """Each row minus its mean, divided by its norm: dot products are then correlations."""
    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)


def baseline(line: int) -> int:
    """The row of line ``line``'s baseline in a straightened zone."""
    return MARGIN + TOP + line * LINE_PITCH


def _line_dy(ink: np.ndarray, line: int, length: int, border: int) -> int:
    """The vertical offset that best fits line ``line`` of the straightened zone (framed by
    ``border`` pixels) to its cells, from the row profile of its ink."""
    glyphs = ocrb_glyphs()
    top = border + baseline(line) - TOP
    reach = 6
    lo = max(0, top - reach)
    left = border + MARGIN
    band = ink[lo : top + CELL_H + reach, left : left + length * PITCH].sum(axis=1)
    expected = glyphs.rows - glyphs.rows.mean()
    best, best_dy = -np.inf, 0
    for dy in range(-reach, reach + 1):
        start = top + dy - lo
        segment = band[start : start + CELL_H] if start >= 0 else band[:0]
        if len(segment) < CELL_H:
            continue
        score = float(np.dot(normalise(segment[None])[0], expected))
        if score > best:
            best, best_dy = score, dy
    return best_dy


SHIFT = 2  # pixels a cell is shifted each way to find its glyph


def template_scores(zone_img: np.ndarray, fmt: str) -> list[np.ndarray]:
    """Per line, (length, 37) scores: each cell's best correlation with each character."""
    count, length = FORMATS[fmt]
    glyphs = ocrb_glyphs()
    reach = SHIFT + 8  # room for the shifts and the line's vertical offset (up to 6)
    gray = cv2.copyMakeBorder(
        zone_img.astype(np.float32), reach, reach, reach, reach, cv2.BORDER_REPLICATE
    )
    ink = 255 - gray
    ink -= np.percentile(ink, 20)
    np.clip(ink, 0, None, out=ink)
    windows = np.lib.stride_tricks.sliding_window_view(gray, (CELL_H, PITCH))
    offsets = np.arange(-SHIFT, SHIFT + 1)
    columns = reach + MARGIN + np.arange(length)[:, None] * PITCH + offsets[None, :]
    per_line = []
    for line in range(count):
        top = reach + baseline(line) - TOP + _line_dy(ink, line, length, reach)
        rows = top + offsets
        # (shift y, cell, shift x, CELL_H, PITCH) -> (cell, shift y, shift x, pixels)
        patches = windows[rows[:, None, None], columns[None, :, :]]
        patches = patches.transpose(1, 0, 2, 3, 4).reshape(length * len(offsets) ** 2, -1)
        scores = normalise(patches) @ glyphs.vectors.T  # (cells × shifts, variants × 37)
        scores = scores.reshape(length, len(offsets) ** 2, -1, len(ALPHABET)).max(axis=(1, 2))
        per_line.append(scores)
    return per_line
