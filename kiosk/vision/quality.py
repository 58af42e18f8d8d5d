"""Is this frame good enough to capture? The issues, each with what to tell the citizen.

``assess(frame, detection, previous)`` looks at the page ``page_finder.find_page`` found (or
at the whole frame when it found none) and returns ``Quality(ok, issues, measures)``. Issues are
ordered by what the citizen should fix first; ``quality.msgid`` is the first one's message.

The measures, all on the page's inner part (its quad shrunk by ``INNER_SHRINK``, so the desk
and the page's edge stay out):

``paper``       the paper's level: the 90th percentile of its gray (ink is darker, the paper is
                most of the page). Below ``DARK_PAPER`` → TOO_DARK.
``clipped``     share of the page whose smoothed gray is at the sensor's top (≥ ``CLIP_LEVEL``).
                Over ``BRIGHT_CLIPPED`` the paper is washed out → TOO_BRIGHT; otherwise its
                largest clipped blob over ``GLARE_BLOB`` of the page → GLARE (a light's
                reflection hides what is under it).
``sharpness``   the steepest ink edges, in the direction where they are least steep, per unit of
                local contrast: each pixel's gray is divided by the paper's local level (a
                dilation), so shadows and uneven light do not count; the 99.5th percentile of
                the directional derivative is taken at 0, 45, 90 and 135° and the smallest is
                kept, so a shake in one direction shows. For an edge blurred by a Gaussian of σ
                pixels it is about 0.4 / σ: ``MIN_SHARPNESS`` 0.21 ≈ σ 1.9 px → BLURRED.
                A page without ink (smoothed contrast under ``MIN_INK_CONTRAST``) is not judged.
``area_ratio``  the page's share of the frame; under ``MIN_AREA_RATIO`` → TOO_SMALL.
``edge_margin`` the nearest corner's distance to the frame's border; under ``CUT_OFF_MARGIN`` of
                the frame's short side (or outside) → CUT_OFF.
``motion``      the largest corner movement since ``previous`` over the frame's diagonal; over
                ``MOVE_TOLERANCE`` → MOVING.

Without a page: NO_DOCUMENT, after TOO_DARK (frame mean under ``DARK_FRAME``) or TOO_BRIGHT (over
``BRIGHT_FRAME_CLIPPED`` of the frame clipped), since in those the page cannot be seen at all.

Thresholds were tuned on ``devices/simulated/document_scenes.py`` frames (1280×720 and
1920×1080, 10–25 seeds each, every desk): see the constants' comments for the measured ranges.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import cv2
import numpy as np

from kiosk.vision.images import as_bgr, to_gray
from kiosk.vision.page_finder import PageDetection

# The page's quad is shrunk by this around its centre before measuring: no desk, no page edge.
INNER_SHRINK = 0.92
# The page's inner part is measured with its longer side at most this many pixels.
MEASURE_SIDE = 800
# Paper's 90th-percentile gray: clean scenes 231–245, uneven light ≥ 204, a shadow ≥ 214,
# exposure 0.55 → 127–135, 0.4 → 93–99, 0.25 → 58–62.
DARK_PAPER = 110
# Frame mean gray without a page: empty desks 57–141, dark ones (exposure 0.25) 14–35.
DARK_FRAME = 45.0
# A smoothed (5×5) gray at or above this is the sensor's top.
CLIP_LEVEL = 250
# Share of the page clipped: clean 0, glare spots 0.02–0.15, exposure ≥ 1.3 → 0.83 and more.
BRIGHT_CLIPPED = 0.5
# Largest clipped blob as a share of the page: glare (size 0.3) 0.024–0.052, clean 0.
GLARE_BLOB = 0.01
# Share of the frame clipped without a page: normal desks 0, overexposed ones up to 0.98.
BRIGHT_FRAME_CLIPPED = 0.25
# Sharpness (≈ 0.4 / blur σ in px): clean 0.30–0.33, σ 1 → 0.24–0.27, σ 1.5 → 0.16–0.21,
# σ 2 → 0.11–0.17, motion 8 px → 0.11–0.17, 12 px → 0.08–0.15.
MIN_SHARPNESS = 0.21
# Ink contrast (relative to the paper, smoothed by σ 1.5 px) below which a page is blank and
# its sharpness is not judged: blank paper with sensor noise (σ 2–6) 0.01–0.026, print
# blurred by σ 6 px 0.12–0.17, by σ 10 px 0.05–0.06, sharp print 0.5–0.8.
MIN_INK_CONTRAST = 0.04
# Page share of the frame: normal framing 0.2–0.35, "too far" (long side 0.4 × short) ≈ 0.06.
MIN_AREA_RATIO = 0.12
# A corner nearer the border than this share of the frame's short side: cut off.
CUT_OFF_MARGIN = 0.008
# Largest corner movement between two frames, as a share of the frame's diagonal.
MOVE_TOLERANCE = 0.01


class Issue(enum.Enum):
    """What is wrong with a frame; ``msgid`` is what the citizen is told (English gettext id)."""

    TOO_DARK = "too_dark"
    TOO_BRIGHT = "too_bright"
    NO_DOCUMENT = "no_document"
    CUT_OFF = "cut_off"
    TOO_SMALL = "too_small"
    MOVING = "moving"
    BLURRED = "blurred"
    GLARE = "glare"

    @property
    def msgid(self) -> str:
        return MESSAGES[self]


MESSAGES: dict[Issue, str] = {
    Issue.NO_DOCUMENT: "Place the document under the camera.",
    Issue.TOO_DARK: "It is too dark. Do not block the light above the document.",
    Issue.TOO_BRIGHT: "It is too bright. Move the document out of the direct light.",
    Issue.BLURRED: "Hold still, the picture is blurred.",
    Issue.GLARE: "Tilt the document a little to remove the glare.",
    Issue.TOO_SMALL: "Move the document closer.",
    Issue.CUT_OFF: "The document is cut off at the edge. Move it to the middle.",
    Issue.MOVING: "Hold still.",
}

# The order the citizen should fix things in: the enum's order.
PRIORITY = list(Issue)


@dataclass(frozen=True)
class Measures:
    """The numbers the issues were decided on (None: not measured for this frame)."""

    paper: float | None = None
    clipped: float | None = None
    glare: float | None = None
    sharpness: float | None = None
    ink_contrast: float | None = None
    area_ratio: float | None = None
    edge_margin: float | None = None
    motion: float | None = None
    frame_mean: float | None = None
    frame_clipped: float | None = None


@dataclass(frozen=True)
class Quality:
    """``ok`` when nothing stops a capture; ``issues`` in the order to fix them."""

    ok: bool
    issues: list[Issue] = field(default_factory=list)
    measures: Measures = field(default_factory=Measures)

    @property
    def msgid(self) -> str | None:
        """The message for the first issue, None when the frame is good."""
        return self.issues[0].msgid if self.issues else None


def _inner_crop(gray: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The page's inner part of ``gray`` (cropped, at most MEASURE_SIDE) and its mask."""
    height, width = gray.shape
    centre = corners.mean(axis=0)
    inner = centre + (corners - centre) * INNER_SHRINK
    x0, y0 = np.floor(inner.min(axis=0)).astype(int)
    x1, y1 = np.ceil(inner.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return np.zeros((0, 0), np.uint8), np.zeros((0, 0), np.uint8)
    crop = gray[y0:y1, x0:x1]
    quad = inner - [x0, y0]
    scale = min(1.0, MEASURE_SIDE / max(crop.shape))
    if scale < 1.0:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        quad = quad * scale
    mask = np.zeros(crop.shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1)
    return crop, mask


def _percentiles(
    values: np.ndarray, mask: np.ndarray, quantiles: tuple[float, ...], upper: float
) -> list[float]:
    """Percentiles (0–100) of a float32 image's masked pixels in [0, upper], from a histogram.

    cv2.calcHist is an order of magnitude faster than sorting: 1024 bins are finer than any
    threshold here needs.
    """
    bins = 1024
    hist = cv2.calcHist([values], [0], mask, [bins], [0.0, upper]).ravel()
    cumulative = np.cumsum(hist)
    total = cumulative[-1]
    if total <= 0:
        return [0.0 for _ in quantiles]
    found = []
    for q in quantiles:
        index = int(np.searchsorted(cumulative, total * q / 100.0))
        found.append((min(index, bins - 1) + 0.5) * upper / bins)
    return found


def _sharpness(crop: np.ndarray, mask: np.ndarray) -> tuple[float | None, float]:
    """(sharpness or None for a blank page, ink contrast relative to the paper)."""
    values = crop.astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (15, 15))
    paper = cv2.GaussianBlur(cv2.dilate(values, kernel), (0, 0), 5)
    relative = values / np.maximum(paper, 1.0)
    # Is there ink at all? Judged on a smoothed copy: sensor noise on blank paper averages
    # out, while even badly blurred print keeps its contrast.
    smooth_low, smooth_high = _percentiles(
        cv2.GaussianBlur(relative, (0, 0), 1.5), mask, (0.5, 99.5), upper=1.5
    )
    if smooth_high - smooth_low < MIN_INK_CONTRAST:
        return None, smooth_high - smooth_low
    low, high = _percentiles(relative, mask, (0.5, 99.5), upper=1.5)
    contrast = max(high - low, 1e-3)
    gx = cv2.Sobel(relative, cv2.CV_32F, 1, 0, ksize=3, scale=1 / 8)
    gy = cv2.Sobel(relative, cv2.CV_32F, 0, 1, ksize=3, scale=1 / 8)
    steepest = []
    for angle in (0.0, 45.0, 90.0, 135.0):
        theta = np.deg2rad(angle)
        derivative = cv2.absdiff(
            cv2.addWeighted(gx, float(np.cos(theta)), gy, float(np.sin(theta)), 0.0), 0.0
        )
        steepest.extend(_percentiles(derivative, mask, (99.5,), upper=1.0))
    return min(steepest) / contrast, contrast


def _clipping(crop: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(share of the page clipped, largest clipped blob's share of the page)."""
    inside = mask > 0
    clipped = ((cv2.blur(crop, (5, 5)) >= CLIP_LEVEL) & inside).astype(np.uint8)
    total = int(inside.sum())
    count = int(clipped.sum())
    if count == 0 or total == 0:
        return 0.0, 0.0
    labels, _, stats, _ = cv2.connectedComponentsWithStats(clipped, connectivity=8)
    largest = int(stats[1:, cv2.CC_STAT_AREA].max()) if labels > 1 else 0
    return count / total, largest / total


def _motion(detection: PageDetection, previous: PageDetection | None) -> float | None:
    if previous is None or previous.frame_size != detection.frame_size:
        return None
    width, height = detection.frame_size
    moved = np.linalg.norm(detection.corners - previous.corners, axis=1).max()
    return float(moved) / float(np.hypot(width, height))


def assess(
    frame: np.ndarray,
    detection: PageDetection | None,
    previous: PageDetection | None = None,
) -> Quality:
    """The issues of ``frame`` given the page found in it (None: none) and in the frame before."""
    gray = to_gray(as_bgr(frame))
    height, width = gray.shape
    issues: set[Issue] = set()
    if detection is None:
        size = (160, max(1, round(160 * height / width)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        frame_mean = float(small.mean())
        frame_clipped = float((small >= CLIP_LEVEL).mean())
        issues.add(Issue.NO_DOCUMENT)
        if frame_mean < DARK_FRAME:
            issues.add(Issue.TOO_DARK)
        if frame_clipped > BRIGHT_FRAME_CLIPPED:
            issues.add(Issue.TOO_BRIGHT)
        measures = Measures(frame_mean=frame_mean, frame_clipped=frame_clipped)
        return Quality(False, [i for i in PRIORITY if i in issues], measures)

    margin = detection.edge_margin() / min(width, height)
    if margin < CUT_OFF_MARGIN:
        issues.add(Issue.CUT_OFF)
    if detection.area_ratio < MIN_AREA_RATIO:
        issues.add(Issue.TOO_SMALL)
    motion = _motion(detection, previous)
    if motion is not None and motion > MOVE_TOLERANCE:
        issues.add(Issue.MOVING)

    crop, mask = _inner_crop(gray, detection.corners)
    paper = clipped = glare = sharpness = contrast = None
    if mask.any():
        paper = float(np.percentile(crop[mask > 0], 90))
        clipped, glare = _clipping(crop, mask)
        if paper < DARK_PAPER:
            issues.add(Issue.TOO_DARK)
        if clipped > BRIGHT_CLIPPED:
            issues.add(Issue.TOO_BRIGHT)
        elif glare > GLARE_BLOB:
            issues.add(Issue.GLARE)
        sharpness, contrast = _sharpness(crop, mask)
        if sharpness is not None and sharpness < MIN_SHARPNESS:
            issues.add(Issue.BLURRED)
    measures = Measures(
        paper=paper,
        clipped=clipped,
        glare=glare,
        sharpness=sharpness,
        ink_contrast=contrast,
        area_ratio=detection.area_ratio,
        edge_margin=detection.edge_margin(),
        motion=motion,
    )
    ordered = [i for i in PRIORITY if i in issues]
    return Quality(not ordered, ordered, measures)
