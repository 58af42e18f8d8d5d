"""Where the MRZ is in a picture, and the zone resampled onto a grid of character cells.

Finding (``find_zones``): the picture is thresholded locally; glyph-sized connected components
are chained, each to its nearest right neighbour of a similar height, into text lines; pieces
of one line that a glare spot cut apart are joined. An MRZ is two or three parallel lines of
equal length, left-aligned, 1.25 to 2.4 glyph heights apart, about 30 (TD1) or 44 (TD3) glyph
heights long. A picture of only the MRZ is the same case.

Straightening (``straighten``): each line is mapped on its own from its glyphs. Their positions
along the line are counted into cells step by step (one pitch apart, two where a glyph was
lost; boxes of two glyphs run together by blur are left out), so a pitch that changes along the
line (perspective) does not shift the count; the lines are left-aligned and equally long, which
places every line's first cell. A quadratic along the line, a straight line across it and the
lines' spacing then give, for every pixel of the grid, where to sample the picture. (A
homography from the zone's four corners is not used: two lines a few pixels apart do not pin
down the foreshortening along them.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.vision.errors import MRZUnreadable
from kiosk.vision.mrz_glyphs import (
    BELOW,
    FORMATS,
    LINE_PITCH,
    MARGIN,
    PITCH,
    baseline,
    ocrb_glyphs,
)


@dataclass
class Chain:
    """A text line: glyph-sized components chained left to right."""

    box: np.ndarray  # the components' x, y, w, h (rows)
    slope: float = 0.0
    intercept: float = 0.0
    height: float = 0.0
    start: float = 0.0  # x of the first glyph's left edge
    end: float = 0.0  # x of the last glyph's right edge

    def fit(self) -> None:
        """Fit the line through the boxes' centres; measure its height and ends."""
        x, y, w, h = (self.box[:, i].astype(np.float64) for i in range(4))
        cx, cy = x + w / 2, y + h / 2
        if len(cx) >= 2 and np.ptp(cx) > 0:
            self.slope, self.intercept = np.polyfit(cx, cy, 1)
        else:
            self.slope, self.intercept = 0.0, float(cy.mean())
        self.height = float(np.median(h))
        self.start = float(x.min())
        self.end = float((x + w).max())

    def y_at(self, x: float) -> float:
        return self.slope * x + self.intercept

    @property
    def length(self) -> float:
        return (self.end - self.start) * math.hypot(1.0, self.slope)

    @property
    def angle(self) -> float:
        return math.degrees(math.atan(self.slope))


def _components(gray: np.ndarray) -> np.ndarray:
    """Boxes (x, y, w, h) of dark, glyph-shaped blobs after a local threshold."""
    block = int(np.clip(max(gray.shape) // 40, 15, 61)) | 1
    smooth = cv2.GaussianBlur(gray, (3, 3), 0)
    binary = cv2.adaptiveThreshold(
        smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 10
    )
    count, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    keep = (
        (h >= 7)
        & (h <= gray.shape[0] // 3)
        & (w >= 2)
        & (w <= 3.2 * h)
        & (area >= 10)
        & (area <= 0.9 * w * h)
        & (area >= 0.1 * w * h)
    )
    return np.stack([x, y, w, h], axis=1)[keep]


def _chains(boxes: np.ndarray) -> list[Chain]:
    """Chain each box to its nearest right neighbour of a similar height on the same line."""
    if len(boxes) == 0:
        return []
    order = np.argsort(boxes[:, 0], kind="stable")
    boxes = boxes[order]
    x, y, w, h = (boxes[:, i].astype(np.float64) for i in range(4))
    cy = y + h / 2
    right = x + w
    nxt = np.full(len(boxes), -1)
    best_gap = np.full(len(boxes), np.inf)
    for i in range(len(boxes)):
        lo = np.searchsorted(x, right[i] - 0.3 * h[i], side="left")
        hi = np.searchsorted(x, right[i] + 1.1 * h[i], side="right")
        if hi <= lo:
            continue
        j = np.arange(lo, hi)
        j = j[j != i]
        if len(j) == 0:
            continue
        hmax = np.maximum(h[j], h[i])
        ok = (
            (np.minimum(h[j], h[i]) >= hmax / 1.5)
            & (np.abs(cy[j] - cy[i]) <= 0.35 * hmax)
            & (x[j] > x[i])
        )
        j = j[ok]
        if len(j) == 0:
            continue
        gaps = x[j] - right[i] + np.abs(cy[j] - cy[i])
        k = int(np.argmin(gaps))
        target = int(j[k])
        if gaps[k] < best_gap[target]:  # the target keeps only its nearest left neighbour
            if best_gap[target] < np.inf:
                nxt[nxt == target] = -1
            best_gap[target] = gaps[k]
            nxt[i] = target
    has_prev = np.zeros(len(boxes), bool)
    has_prev[nxt[nxt >= 0]] = True
    chains = []
    for head in np.flatnonzero(~has_prev):
        members = [int(head)]
        while nxt[members[-1]] >= 0 and len(members) < 200:
            members.append(int(nxt[members[-1]]))
        if len(members) >= 6:
            chain = Chain(boxes[members])
            chain.fit()
            chains.append(chain)
    return _merge_collinear(chains)


def _merge_collinear(chains: list[Chain]) -> list[Chain]:
    """Join pieces of one line that a glare spot or a blot cut apart."""
    chains = sorted(chains, key=lambda c: c.start)
    merged = True
    while merged:
        merged = False
        for a in chains:
            for b in chains:
                if a is b or b.start < a.end - 0.5 * a.height:
                    continue
                hmax = max(a.height, b.height)
                if (
                    min(a.height, b.height) >= hmax / 1.3
                    and b.start - a.end <= 3.0 * hmax
                    and abs(a.y_at(b.start) - b.y_at(b.start)) <= 0.3 * hmax
                    and abs(a.angle - b.angle) <= 4
                ):
                    joined = Chain(np.vstack([a.box, b.box]))
                    joined.fit()
                    chains = [c for c in chains if c is not a and c is not b] + [joined]
                    merged = True
                    break
            if merged:
                break
    return chains


@dataclass
class Zone:
    format: str
    lines: list[Chain]


_SHAPES = ((3, "TD1", 20.0, 38.0, 29.0), (2, "TD3", 34.0, 56.0, 42.0), (2, "TD1", 20.0, 34.0, 29.0))


def find_zones(gray: np.ndarray) -> list[Zone]:
    """Candidate MRZs, the most plausible first."""
    chains = [c for c in _chains(_components(gray)) if 20 <= c.length / c.height <= 56]
    chains = [c for c in chains if len(c.box) >= 8]
    chains.sort(key=lambda c: c.y_at(c.start))
    zones: list[tuple[float, Zone]] = []
    for i, first in enumerate(chains):
        group = [first]
        for other in chains[i + 1 :]:
            last = group[-1]
            h = max(last.height, other.height)
            mid = (other.start + other.end) / 2
            spacing = (other.y_at(mid) - last.y_at(mid)) / math.hypot(1, last.slope)
            if (
                min(last.height, other.height) >= h / 1.3
                and abs(other.angle - last.angle) <= 2.5
                and 1.25 * h <= spacing <= 2.4 * h
                and abs(other.start - last.start) <= 3.5 * h
                and min(last.length, other.length) >= 0.8 * max(last.length, other.length)
            ):
                group.append(other)
                if len(group) == 3:
                    break
        # Glyph heights grow with blur, so the length-to-height ratio is only a rough guide:
        # about 30 for TD1 and 44 for TD3 on a sharp picture.
        for size, fmt, low, high, expected in _SHAPES:
            if len(group) < size:
                continue
            lines = group[:size]
            h = float(np.median([c.height for c in lines]))
            ratio = max(c.length for c in lines) / h
            if not low <= ratio <= high:
                continue
            if fmt == "TD1" and max(len(c.box) for c in lines) > 32:
                continue  # more glyphs than a TD1 line holds
            penalty = abs(ratio - expected) / expected + (0.0 if size == 3 else 0.3)
            if fmt == "TD1" and size == 2:
                penalty += 1.0  # a TD1 of which a line was lost: a last resort
            zones.append((penalty, Zone(fmt, lines)))
    zones.sort(key=lambda t: t[0])
    return [z for _, z in zones]


@dataclass(eq=False)
class _LineGlyphs:
    """The glyphs of one MRZ line: positions along and across the zone, and their cells."""

    along: np.ndarray
    across: np.ndarray
    relative: np.ndarray  # cell index from the first glyph
    pitch: float
    first_cell: int = 0

    @classmethod
    def of(cls, chain: Chain, u: np.ndarray, v: np.ndarray) -> _LineGlyphs:
        """The line's single glyphs (boxes no wider than a glyph: two run together by blur sit
        between two cells and would throw the count off)."""
        x, y, w, h = (chain.box[:, i].astype(np.float64) for i in range(4))
        pts = np.stack([x + w / 2, y + h / 2], axis=1)
        single = w / h < 1.4
        if np.count_nonzero(single) >= 6:
            pts = pts[single]
        along = pts @ u
        order = np.argsort(along)
        along, across = along[order], (pts @ v)[order]
        steps = np.diff(along)
        if len(steps) == 0:
            return cls(along, across, np.zeros(1, int), 1.0)
        typical = float(np.median(steps))
        near = steps[(steps > 0.6 * typical) & (steps < 1.4 * typical)]
        pitch = float(np.median(near)) if len(near) else typical
        # Neighbours are one cell apart, two or more where a glyph was lost or run together,
        # none for a split glyph: counting cells step by step is immune to the pitch changing
        # along the line.
        relative = np.concatenate([[0], np.cumsum(np.round(steps / pitch))]).astype(int)
        return cls(along, across, relative, pitch)

    @property
    def span(self) -> int:
        return int(self.relative[-1]) + 1

    def cells(self) -> np.ndarray:
        return self.relative + self.first_cell

    def model(self) -> tuple[np.ndarray, float, float]:
        """(quadratic along(k), slope and offset of across(k)), fitted on the cells that hold
        exactly one glyph (a split glyph gives two)."""
        k = self.cells()
        counts = np.bincount(k - k.min())
        good = counts[k - k.min()] == 1
        if np.count_nonzero(good) < 6:
            good = np.ones(len(k), bool)
        degree = 2 if np.count_nonzero(good) >= 12 else 1
        coeffs = np.polyfit(k[good], self.along[good], degree)
        if degree == 1:
            coeffs = np.concatenate([[0.0], coeffs])
        slope, offset = np.polyfit(k[good], self.across[good], 1)
        return coeffs, float(slope), float(offset)


def _assign_cells(lines: list[_LineGlyphs], length: int) -> None:
    """Set each line's first cell, and drop glyphs past the grid's ends (junk).

    A line of exactly ``length`` cells starts at cell 0. The others are placed against the
    left edge those complete lines draw: the zone's lines are left-aligned, but perspective
    slants that edge, so with two complete lines or more it is a straight line through their
    first glyphs (along the lines, as a function of the position across them). With no
    complete line, the line reaching furthest left starts at cell 0.
    """
    complete = [line for line in lines if line.span == length]
    for line in complete:
        line.first_cell = 0
    if not complete:
        leftmost = min(lines, key=lambda ln: ln.along[0])
        leftmost.first_cell = 0
        complete = [leftmost]
    starts = np.array([line.along[0] for line in complete])
    heights = np.array([np.median(line.across) for line in complete])
    for line in lines:
        if any(line is done for done in complete):
            continue
        if len(complete) >= 2 and np.ptp(heights) > 0:
            slope, offset = np.polyfit(heights, starts, 1)
            edge = slope * np.median(line.across) + offset
        else:
            edge = float(starts.mean())
        line.first_cell = int(round((line.along[0] - edge) / line.pitch))
    for line in lines:
        k = line.cells()
        keep = (k >= 0) & (k < length)
        if np.count_nonzero(keep) >= 2 and not keep.all():
            line.along, line.across = line.along[keep], line.across[keep]
            line.relative = line.relative[keep]


def straighten(gray: np.ndarray, zone: Zone) -> np.ndarray:
    """The zone resampled onto the cell grid: line i's baseline at ``baseline(i)``, cell k of
    a line from ``MARGIN + k * PITCH``.

    Each line is mapped on its own from its glyphs: their positions along the line, assigned to
    cells, fit a quadratic (perspective makes the pitch change along the line), and their
    positions across it a straight line; the scale across comes from the lines' spacing. A
    homography from the zone's four corners is not used: two lines a few pixels apart do not
    pin down the foreshortening along them.
    """
    count, length = FORMATS[zone.format]
    glyphs = ocrb_glyphs()
    phi = math.atan(float(np.mean([c.slope for c in zone.lines])))
    u = np.array([math.cos(phi), math.sin(phi)])
    v = np.array([-u[1], u[0]])
    lines = [_LineGlyphs.of(chain, u, v) for chain in zone.lines]
    pitch = float(np.median([line.pitch for line in lines]))
    if pitch < 4:
        raise MRZUnreadable(f"MRZ characters {pitch:.1f} pixels apart are too small to read")
    _assign_cells(lines, length)
    # Shrink a large picture first: the resampling samples, it does not average.
    factor = 1.0
    if pitch > 2.5 * PITCH:
        factor = 2 * PITCH / pitch
        gray = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    models = [line.model() for line in lines]
    if len(models) < count:  # a TD1 of which one line was not found: assume the last
        (_, _, previous), (coeffs, slope, offset) = models[-2], models[-1]
        models.append((coeffs, slope, offset + (offset - previous)))
    width = 2 * MARGIN + length * PITCH
    height = baseline(count - 1) + BELOW + MARGIN
    xs = np.arange(width, dtype=np.float64)
    k = (xs - MARGIN - (glyphs.ink_left + glyphs.ink_right) / 2) / PITCH
    # Across the lines, the scale comes from the lines' spacing (perspective may squeeze the
    # zone across more than along); along them, from the fitted pitch.
    first_across = models[0][1] * k + models[0][2]
    last_across = models[-1][1] * k + models[-1][2]
    across_scale = (last_across - first_across) / ((count - 1) * LINE_PITCH)
    map_x = np.empty((height, width), np.float32)
    map_y = np.empty((height, width), np.float32)
    middles = np.array([baseline(i) - glyphs.ink_middle for i in range(count)])
    for row in range(height):
        line = int(np.abs(middles - row).argmin())
        coeffs, slope, offset = models[line]
        along = np.polyval(coeffs, k)
        across = slope * k + offset + (row - middles[line]) * across_scale
        map_x[row] = (along * u[0] + across * v[0]) * factor
        map_y[row] = (along * u[1] + across * v[1]) * factor
    return cv2.remap(gray, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
