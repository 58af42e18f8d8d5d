"""Find the page in a camera frame and straighten it to an upright A4 image.

``find_page(frame)`` works on a copy shrunk to ``WORK_SIDE`` pixels (the live preview runs it on
every frame): the page is the large, bright, four-sided region whose sides are real edges.

1. A "whiteness" image: the darkest of the three channels (paper is white in all of them, a
   wooden desk or a coloured note is not), closed by a kernel wider than a text stroke so the
   printed text disappears and the page becomes one flat bright region.
2. Candidate regions from several segmentations of it: Otsu's threshold, two brighter cuts for
   an uneven light, and the closed contours of its Canny edges. Each region gives up to two
   quads: its convex hull simplified to four corners, and its four longest straight runs
   extended to meet (the page's sides when a card or a shadow touches it).
3. Each quad, kept when convex with plausible angles and size, is scored by how much of each
   side is a real bright-inside/dark-outside step that is sharp (a paper edge, not the slow
   ramp of a shadow's edge); sides lying on the frame's border (a page cut off there) are left
   out. Every side must be supported. The best few are snapped onto their edges and scored
   again; quads that are coloured inside (a note, a book, a page merged with one) are refused.
   Near-equal scores go to the larger quad; too weak a score means no page. When no white page
   is found, the same search runs on the luminance for a large tinted page.
4. Its sides are refined on a finer copy (the strongest step along each side's normal, a robust
   line fit), and the corners are the lines' intersections, in the full frame's pixels.

``straighten(frame, corners)`` warps that quad to a rectangle with A4 proportions (portrait or
landscape, from the measured side lengths) at ``dpi_target``. Orientation (text upright) is
``kiosk.vision.orientation``'s job; ``fix_orientation`` is re-exported here for convenience.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.vision.errors import ImageUnreadable, NoDocumentFound
from kiosk.vision.images import as_bgr

# The working copy's longer side: 1280×720 frames are searched at 400×225.
WORK_SIDE = 400
# The side refinement's copy (its longer side): finer than the search, cheaper than the frame.
REFINE_SIDE = 1280
# Smallest page worth reporting, as a share of the frame (quality says TOO_SMALL well above it).
MIN_AREA_RATIO = 0.02
# Tinted (coloured) paper is looked for only when no white page is found, and only this large:
# a desk's sticky notes and books are tinted too, and smaller.
MIN_TINTED_AREA_RATIO = 0.1
# Lab (a, b) distance from a tinted page's median colour beyond which a pixel is another colour.
TINT_DISTANCE = 18.0
# Largest: a "page" filling the whole frame is the frame's own border.
MAX_AREA_RATIO = 0.97
# Corner angles of a page seen by a document camera stay well inside these (degrees).
MIN_CORNER_ANGLE, MAX_CORNER_ANGLE = 50.0, 130.0
# Minimum brightness step (0–255, whiteness image) across a side counted as a real edge.
EDGE_STEP = 14.0
# Sharpness of a side's step (step across ±1 px over step across ±4 px, work pixels): paper
# edges 0.58 sharp, 0.41 under a 5-px blur, ≥ 0.36 under a 12-px shake; a shadow's edge ≈ 0.27.
SOFT_EDGE, SHARP_EDGE = 0.25, 0.35
# Every side (but those on the frame's border) must be this much a real, sharp edge.
MIN_SIDE_SUPPORT = 0.3
# Below this score there is no page (the score is in 0..1).
MIN_CONFIDENCE = 0.45
# Paper stays below this HSV saturation (0..1), even under a warm lamp; a note or a book does not.
PAPER_SATURATION = 0.35
# A page may hold a little colour (a stamp, a signature); a quad more coloured than this is a
# coloured object, or a page merged with one.
MAX_COLOURED_SHARE = 0.06
# How many of the best candidates are snapped onto their edges, and how far (work pixels).
SNAP_CANDIDATES = 5
SNAP_REACH = 8.0
# Candidates scoring within this of the best compete on size.
TIE_MARGIN = 0.03

A4_MM = (210.0, 297.0)
DEFAULT_DPI = 200
MM_PER_INCH = 25.4


@dataclass(frozen=True)
class PageDetection:
    """A page found in a frame.

    ``corners``: 4×2 float32 (x, y) in the frame's pixels, ordered top-left, top-right,
    bottom-right, bottom-left as seen in the frame (not by the page's content: a page lying
    upside down still has its "top-left" at the frame's top left). Corners of a page cut off by
    the frame's edge may lie on it or outside. ``area_ratio``: the quad's area over the frame's.
    ``confidence``: 0..1, how much of the outline is a real edge. ``frame_size``: (width, height).
    """

    corners: np.ndarray
    area_ratio: float
    confidence: float
    frame_size: tuple[int, int]

    def edge_margin(self) -> float:
        """The smallest distance of a corner to the frame's border, in pixels (< 0: outside)."""
        width, height = self.frame_size
        xs, ys = self.corners[:, 0], self.corners[:, 1]
        return float(min(xs.min(), ys.min(), width - 1 - xs.max(), height - 1 - ys.max()))

    def scaled(self, factor: float) -> PageDetection:
        """The same detection in a frame ``factor`` times as large."""
        width, height = self.frame_size
        return PageDetection(
            (self.corners * factor).astype(np.float32),
            self.area_ratio,
            self.confidence,
            (round(width * factor), round(height * factor)),
        )


def order_corners(points: np.ndarray) -> np.ndarray:
    """Four points ordered top-left, top-right, bottom-right, bottom-left (clockwise on screen).

    Sorted by angle around their centroid, then rotated so the first is the one nearest the
    image's top-left (smallest x + y); robust to a quad turned by up to 45°.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen (y grows downwards)
    first = int(np.argmin(pts[:, 0] + pts[:, 1]))
    return np.roll(pts, -first, axis=0)


def _corner_angles(quad: np.ndarray) -> np.ndarray:
    prev = np.roll(quad, 1, axis=0) - quad
    nxt = np.roll(quad, -1, axis=0) - quad
    cos = (prev * nxt).sum(axis=1) / (
        np.linalg.norm(prev, axis=1) * np.linalg.norm(nxt, axis=1) + 1e-9
    )
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


def min_channel(image: np.ndarray) -> np.ndarray:
    """The darkest of the three channels per pixel: high for white paper only."""
    blue, green, red = cv2.split(image)
    return cv2.min(cv2.min(blue, green), red)


def _whiteness(darkest: np.ndarray) -> np.ndarray:
    """The darkest-channel image with the text closed away, lightly smoothed."""
    side = max(darkest.shape[:2])
    k = max(3, round(side * 0.012) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    white = cv2.morphologyEx(darkest, cv2.MORPH_CLOSE, kernel)
    return cv2.GaussianBlur(white, (5, 5), 0)


def _quad_from_contour(contour: np.ndarray) -> np.ndarray | None:
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    if perimeter <= 0:
        return None
    for eps in (0.02, 0.03, 0.045, 0.06, 0.08):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
        if len(approx) < 4:
            return None
    return None


def _line_intersection(
    p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray
) -> np.ndarray | None:
    matrix = np.array([d1, -d2]).T
    if abs(np.linalg.det(matrix)) < 1e-6:
        return None
    s, _ = np.linalg.solve(matrix, p2 - p1)
    return p1 + s * d1


def _quad_from_sides(contour: np.ndarray) -> np.ndarray | None:
    """A quad from the four longest straight runs of an outline, extended to meet.

    The page's sides stay the longest runs when something else touches it (a white card
    lying against a corner, a shadow cutting one side): the convex hull would swallow those.
    """
    perimeter = cv2.arcLength(contour, True)
    poly = cv2.approxPolyDP(contour, 0.012 * perimeter, True).reshape(-1, 2).astype(np.float64)
    if not 5 <= len(poly) <= 40:
        return None
    # Runs: (start, end); neighbours pointing the same way (within 10°) are merged.
    runs: list[list[np.ndarray]] = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        if runs:
            last_a, last_b = runs[-1]
            u, v = last_b - last_a, b - a
            cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
            if cos > math.cos(math.radians(10)):
                runs[-1][1] = b
                continue
        runs.append([a, b])
    if len(runs) >= 2:
        u, v = runs[-1][1] - runs[-1][0], runs[0][1] - runs[0][0]
        cos = float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v) + 1e-9))
        if cos > math.cos(math.radians(10)):
            runs[0][0] = runs.pop()[0]
    if len(runs) < 4:
        return None
    lengths = [float(np.linalg.norm(b - a)) for a, b in runs]
    longest = sorted(sorted(range(len(runs)), key=lambda i: -lengths[i])[:4])
    if min(lengths[i] for i in longest) < 0.06 * perimeter:
        return None
    corners = []
    for k in range(4):
        (a1, b1), (a2, b2) = runs[longest[k - 1]], runs[longest[k]]
        point = _line_intersection(a1, b1 - a1, a2, b2 - a2)
        if point is None:
            return None
        corners.append(point)
    return np.array(corners, np.float32)


def _candidates(white: np.ndarray, min_area: float) -> list[np.ndarray]:
    """Quads from several segmentations of the whiteness image."""
    masks: list[np.ndarray] = []
    otsu, binary = cv2.threshold(white, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(binary)
    high = float(np.percentile(white, 99))
    for level in (otsu + (high - otsu) * 0.35, otsu + (high - otsu) * 0.65):
        masks.append(((white > level) * 255).astype(np.uint8))
    median = float(np.median(white))
    edges = cv2.Canny(white, max(10.0, 0.33 * median), max(30.0, 0.66 * median + 20))
    edges = cv2.dilate(edges, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    quads: list[np.ndarray] = []
    opening = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
    for mask in masks:
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, opening)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        quads.extend(_quads(contours, min_area))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads.extend(_quads(contours, min_area))
    return quads


def _quads(
    contours: list[np.ndarray] | tuple[np.ndarray, ...], min_area: float
) -> list[np.ndarray]:
    found = []
    for contour in contours:
        if cv2.contourArea(contour) < min_area * 0.5:
            continue
        for quad in (_quad_from_contour(contour), _quad_from_sides(contour)):
            if quad is not None:
                found.append(order_corners(quad))
    return found


def _sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples of a single-channel image at (x, y) points (N×2)."""
    map_x = np.ascontiguousarray(points[:, 0].reshape(1, -1), dtype=np.float32)
    map_y = np.ascontiguousarray(points[:, 1].reshape(1, -1), dtype=np.float32)
    values = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return values.reshape(-1).astype(np.float32)


def _on_border(a: np.ndarray, b: np.ndarray, width: int, height: int, tol: float) -> bool:
    xs, ys = (a[0], b[0]), (a[1], b[1])
    return (
        max(xs) <= tol
        or min(xs) >= width - 1 - tol
        or max(ys) <= tol
        or min(ys) >= height - 1 - tol
    )


def _sharpness_of_step(white: np.ndarray, points: np.ndarray, normal: np.ndarray) -> float:
    """How sharp the step at ``points`` is: its steepest 2-px rise near the line (within ±1.5
    px, the quad may be a pixel off) over its whole rise across ±5 px; median over the points.
    """
    wide = _sample(white, points + normal * 5) - _sample(white, points - normal * 5)
    near = np.full(len(points), -np.inf, np.float32)
    for shift in (-1.5, -0.75, 0.0, 0.75, 1.5):
        centre = points + normal * shift
        rise = _sample(white, centre + normal) - _sample(white, centre - normal)
        near = np.maximum(near, rise)
    return float(np.median(near / np.maximum(wide, 1.0)))


def _score(white: np.ndarray, quad: np.ndarray) -> tuple[float, float]:
    """(score 0..1, brightness step) of a candidate quad on the whiteness image."""
    height, width = white.shape
    area = cv2.contourArea(quad)
    angles = _corner_angles(quad)
    if angles.min() < MIN_CORNER_ANGLE or angles.max() > MAX_CORNER_ANGLE:
        return 0.0, 0.0
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    if sides.min() < 0.15 * sides.max():
        return 0.0, 0.0
    offset = max(2.0, max(width, height) / 160)
    centre = quad.mean(axis=0)
    supports = []
    steps = []
    t = np.linspace(0.1, 0.9, 24, dtype=np.float32)[:, None]
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        if _on_border(a, b, width, height, tol=2.5):
            continue
        direction = (b - a) / (np.linalg.norm(b - a) + 1e-9)
        normal = np.array([direction[1], -direction[0]], np.float32)
        if np.dot(normal, centre - (a + b) / 2) < 0:
            normal = -normal  # pointing inwards
        points = a + (b - a) * t
        step = _sample(white, points + normal * offset) - _sample(white, points - normal * offset)
        strong = step > EDGE_STEP
        support = float(strong.mean())
        if strong.sum() >= 4:
            # A paper edge is a sharp step; a shadow's edge is a slow ramp.
            ramp = _sharpness_of_step(white, points[strong], normal)
            support *= float(np.clip((ramp - SOFT_EDGE) / (SHARP_EDGE - SOFT_EDGE), 0.0, 1.0))
        supports.append(support)
        steps.append(float(np.median(step)))
    if len(supports) < 2 or min(supports) < MIN_SIDE_SUPPORT:
        return 0.0, 0.0
    support = float(np.mean(supports))
    step = float(np.median(steps))
    contrast = min(1.0, max(0.0, step) / 60.0)
    size = min(1.0, area / (width * height) / 0.15)
    score = support * (0.6 + 0.4 * contrast) * (0.85 + 0.15 * size)
    return score, step


def _refine(gray: np.ndarray, quad: np.ndarray, reach: float) -> np.ndarray:
    """Quad corners moved onto the strongest edge within ``reach`` px along each side's normal.

    Each side becomes a robust line fit through those edge points; a side with too few (on the
    frame's border, or no edge there) keeps its corners.
    """
    height, width = gray.shape
    centre = quad.mean(axis=0)
    offsets = np.linspace(-reach, reach, int(reach * 2) * 2 + 1, dtype=np.float32)
    lines = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        length = float(np.linalg.norm(b - a))
        direction = (b - a) / (length + 1e-9)
        normal = np.array([direction[1], -direction[0]], np.float32)
        if np.dot(normal, centre - (a + b) / 2) < 0:
            normal = -normal
        count = int(np.clip(length / 6, 12, 80))
        t = np.linspace(0.08, 0.92, count, dtype=np.float32)
        base = a + (b - a) * t[:, None]
        grid = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
        inside_ok = (
            (grid[..., 0] >= 0)
            & (grid[..., 0] <= width - 1)
            & (grid[..., 1] >= 0)
            & (grid[..., 1] <= height - 1)
        ).all(axis=1)
        if inside_ok.sum() < 6:
            lines.append(None)
            continue
        profile = _sample(gray, grid.reshape(-1, 2)).reshape(count, len(offsets))
        # Inside brighter than outside: the step rises along the inward normal.
        gradient = profile[:, 2:] - profile[:, :-2]
        best = np.argmax(gradient, axis=1)
        strength = gradient[np.arange(count), best]
        keep = inside_ok & (strength > EDGE_STEP * 0.5)
        if keep.sum() < 6:
            lines.append(None)
            continue
        found = base[keep] + offsets[best[keep] + 1][:, None] * normal
        vx, vy, x0, y0 = cv2.fitLine(found.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01)
        lines.append((np.array([x0[0], y0[0]]), np.array([vx[0], vy[0]])))
    refined = quad.copy().astype(np.float64)
    for i in range(4):
        previous, current = lines[(i - 1) % 4], lines[i]
        if previous is None or current is None:
            continue
        point = _line_intersection(*previous, *current)
        if point is not None and np.linalg.norm(point - quad[i]) <= reach * 2.5:
            refined[i] = point
    return refined.astype(np.float32)


def _search(
    channel: np.ndarray, min_area_ratio: float, accept: Callable[[np.ndarray], bool]
) -> tuple[float, np.ndarray] | None:
    """(score, quad) of the best page in a work-size single-channel image, or None.

    ``accept(quad)``: the colour check of the paper looked for.
    """
    white = _whiteness(channel)
    sh, sw = white.shape
    min_area = min_area_ratio * sw * sh
    scored: list[tuple[float, float, np.ndarray]] = []
    for quad in _candidates(white, min_area):
        area = float(cv2.contourArea(quad))
        if not (min_area <= area <= MAX_AREA_RATIO * sw * sh):
            continue
        if any(np.abs(quad - other).max() < 2.0 for _, _, other in scored):
            continue
        score, _ = _score(white, quad)
        if score >= MIN_CONFIDENCE * 0.5:
            scored.append((score, area, quad))
    # The best few, snapped onto their edges and scored again: a quad taken from a contour
    # that an edge of the desk's texture joined is pulled back onto the page's sides.
    scored.sort(key=lambda c: -c[0])
    for i, (score, _, quad) in enumerate(scored[:SNAP_CANDIDATES]):
        snapped = order_corners(_refine(white, quad, reach=SNAP_REACH))
        new_score, _ = _score(white, snapped)
        if new_score > score:
            scored[i] = (new_score, float(cv2.contourArea(snapped)), snapped)
    scored = [c for c in scored if c[0] >= MIN_CONFIDENCE]
    scored = [c for c in scored if accept(c[2])]
    if not scored:
        return None
    top = max(score for score, _, _ in scored)
    # Near-equal scores: the larger quad (a box printed on the page is not the page).
    _, _, quad = max((c for c in scored if c[0] >= top - TIE_MARGIN), key=lambda c: c[1])
    return top, quad


def find_page(frame: np.ndarray) -> PageDetection | None:
    """The page in ``frame`` (BGR), or None when there is none worth reporting.

    White or grey paper is looked for first (the darkest channel, coloured quads refused);
    when there is none, any light paper (luminance, e.g. a tinted certificate), if it is large.
    Raises ``ImageUnreadable`` when ``frame`` is not an image.
    """
    frame = as_bgr(frame)
    height, width = frame.shape[:2]
    # The refinement's copy first (the frame itself up to 1280 px), the search's from it.
    refine_scale = min(1.0, REFINE_SIDE / max(width, height))
    view = frame if refine_scale >= 1.0 else _resize(frame, refine_scale)
    scale = min(1.0, WORK_SIDE / max(width, height))
    fine = min_channel(view)
    small_view = _resize(view, scale / refine_scale, cv2.INTER_LINEAR)
    colourful = _colourful(small_view)

    def white_paper(quad: np.ndarray) -> bool:
        # White paper is not coloured: a pink note on a dark desk is bright too.
        return _coloured_share(colourful, quad) <= MAX_COLOURED_SHARE

    found = _search(_resize(fine, scale / refine_scale), MIN_AREA_RATIO, white_paper)
    if found is None:
        lab = cv2.cvtColor(small_view, cv2.COLOR_BGR2LAB)

        def one_tint(quad: np.ndarray) -> bool:
            # Tinted paper has one colour: not a page merged with a note or a book.
            return _mixed_colour_share(lab, quad) <= MAX_COLOURED_SHARE

        fine = cv2.cvtColor(view, cv2.COLOR_BGR2GRAY)
        found = _search(_resize(fine, scale / refine_scale), MIN_TINTED_AREA_RATIO, one_tint)
        if found is None:
            return None
    top, quad = found
    fine = cv2.GaussianBlur(fine, (3, 3), 0)
    reach = max(3.0, refine_scale / scale * 2.5)
    quad_fine = _refine(fine, quad * (refine_scale / scale), reach=reach)
    corners = order_corners(quad_fine / refine_scale)
    area_ratio = float(cv2.contourArea(corners)) / (width * height)
    return PageDetection(corners, area_ratio, round(min(1.0, top), 3), (width, height))


def require_page(frame: np.ndarray) -> PageDetection:
    """``find_page``, raising ``NoDocumentFound`` when there is no page."""
    detection = find_page(frame)
    if detection is None:
        raise NoDocumentFound("no page found in the picture")
    return detection


def _resize(image: np.ndarray, factor: float, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
    if factor >= 1.0:
        return image
    height, width = image.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(image, size, interpolation=interpolation)


def _coloured_share(colourful: np.ndarray, quad: np.ndarray) -> float:
    """Share of the pixels inside ``quad`` (shrunk a little) marked in ``colourful``."""
    mask = np.zeros(colourful.shape[:2], np.uint8)
    centre = quad.mean(axis=0)
    inner = centre + (quad - centre) * 0.95
    cv2.fillConvexPoly(mask, np.round(inner).astype(np.int32), 1)
    total = int(mask.sum())
    if total == 0:
        return 1.0
    return float(cv2.countNonZero(cv2.bitwise_and(colourful, colourful, mask=mask))) / total


def _mixed_colour_share(lab: np.ndarray, quad: np.ndarray) -> float:
    """Share of the lit pixels inside ``quad`` whose colour is far from the quad's median one."""
    mask = np.zeros(lab.shape[:2], np.uint8)
    centre = quad.mean(axis=0)
    inner = centre + (quad - centre) * 0.95
    cv2.fillConvexPoly(mask, np.round(inner).astype(np.int32), 1)
    pixels = lab[mask > 0].astype(np.float32)
    lit = (
        pixels[pixels[:, 0] > 0.35 * float(pixels[:, 0].max(initial=0))] if len(pixels) else pixels
    )
    if len(lit) == 0:
        return 1.0
    median = np.median(lit[:, 1:], axis=0)
    distance = np.linalg.norm(lit[:, 1:] - median, axis=1)
    return float((distance > TINT_DISTANCE).mean())


def _colourful(small: np.ndarray) -> np.ndarray:
    """Pixels clearly coloured (HSV saturation over PAPER_SATURATION, not too dark to tell)."""
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    saturation, value = hsv[..., 1], hsv[..., 2]
    return ((saturation > PAPER_SATURATION * 255) & (value > 40)).astype(np.uint8)


def page_size(
    corners: np.ndarray,
    *,
    dpi_target: float = DEFAULT_DPI,
    paper_mm: tuple[float, float] | None = A4_MM,
) -> tuple[int, int]:
    """(width, height) in pixels of the straightened page: portrait or landscape from the quad.

    With ``paper_mm`` None the aspect is the measured one (a document that is not A4), scaled
    so the longer side is the A4 length at ``dpi_target``.
    """
    quad = np.asarray(corners, np.float64).reshape(4, 2)
    top, right, bottom, left = (np.linalg.norm(quad[(i + 1) % 4] - quad[i]) for i in range(4))
    across, down = (top + bottom) / 2, (left + right) / 2
    if across <= 0 or down <= 0:
        raise ImageUnreadable("degenerate page corners")
    long_px = A4_MM[1] / MM_PER_INCH * dpi_target
    if paper_mm is None:
        ratio = min(across, down) / max(across, down)
    else:
        ratio = min(paper_mm) / max(paper_mm)
    short_px = long_px * ratio
    if across > down:
        return round(long_px), round(short_px)
    return round(short_px), round(long_px)


def straighten(
    frame: np.ndarray,
    corners: np.ndarray,
    *,
    dpi_target: float = DEFAULT_DPI,
    paper_mm: tuple[float, float] | None = A4_MM,
) -> np.ndarray:
    """The page inside ``corners`` (TL, TR, BR, BL in ``frame``) warped to an upright rectangle.

    A4 proportions by default, portrait when the quad is taller than wide, landscape otherwise,
    ``dpi_target`` pixels per inch of paper. The text may still be turned by 90/180/270°: see
    ``kiosk.vision.orientation.fix_orientation``.
    """
    frame = as_bgr(frame)
    quad = order_corners(np.asarray(corners, np.float32))
    out_w, out_h = page_size(quad, dpi_target=dpi_target, paper_mm=paper_mm)
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    seen_long = float(max(sides))
    shrink = max(out_w, out_h) / seen_long if seen_long > 0 else 1.0
    if shrink < 0.66:
        # Much larger in the frame than wanted: average pixels first, warping does not.
        factor = min(1.0, shrink * 1.25)
        frame = cv2.resize(frame, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        quad = quad * factor
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    interpolation = cv2.INTER_CUBIC if shrink > 1.2 else cv2.INTER_LINEAR
    return cv2.warpPerspective(
        frame, matrix, (out_w, out_h), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )


def fix_orientation(page: np.ndarray) -> tuple[np.ndarray, int]:
    """The page turned so its text is upright, and the clockwise turn applied (0/90/180/270)."""
    from kiosk.vision.orientation import fix_orientation as _fix

    return _fix(page)


def corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    """Largest distance between matching corners (both ordered with ``order_corners``), px."""
    a = order_corners(np.asarray(found, np.float32))
    b = order_corners(np.asarray(truth, np.float32))
    return float(np.linalg.norm(a - b, axis=1).max())


__all__ = [
    "PageDetection",
    "corner_error",
    "find_page",
    "fix_orientation",
    "order_corners",
    "page_size",
    "require_page",
    "straighten",
]
