"""From a photo of a paper to a page for the dossier: find it, straighten it, turn it upright.

Used by ``kiosk scan`` and by the documents screen when the citizen captures by hand; the live
auto-capture uses the same steps (kiosk/camera/live_capture.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kiosk.vision.images import downscale
from kiosk.vision.page_finder import find_page, fix_orientation, straighten

MAX_UNFOUND_SIDE = 2400  # a photo with no page found is kept whole, at most this large


def page_from_photo(image: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    """The straightened, upright page and a note of what was done (found, corners, rotation)."""
    detection = find_page(image)
    if detection is None:
        page = downscale(image, MAX_UNFOUND_SIDE)
        return page, {"page_found": False, "rotated": 0}
    page = straighten(image, detection.corners)
    page, degrees = fix_orientation(page)
    return page, {
        "page_found": True,
        "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in detection.corners],
        "confidence": round(detection.confidence, 3),
        "rotated": degrees,
    }
