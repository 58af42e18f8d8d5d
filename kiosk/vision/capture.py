"""Auto-capture: take the picture once the page is good and has stayed still for N frames.

    frame ──► find_page ──► assess ──► AutoCapture.update ──► CaptureStatus
                                                              SEARCHING   page missing or an issue
                                                              HOLD_STILL  good page, counting
                                                              CAPTURED    the straightened page

``AutoCapture.update(frame, detection, quality)`` is fed one frame at a time (``process(frame)``
runs the finder and the checks itself). A frame counts towards the capture when its quality is
ok and every corner is within ``tolerance`` (a share of the frame's diagonal) of where the run of
good frames started; a frame that moves further starts a new run, a frame with an issue ends it.
After ``stable_frames`` counted frames the last one's page is straightened, its text turned
upright, and the state stays CAPTURED until ``reset()`` (capture again at once)
or ``next_page()`` (capture again once this page has been taken away or moved). Each status
carries the message id the screen shows; no clock is used, so tests are deterministic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

import numpy as np

from kiosk.vision.orientation import fix_orientation
from kiosk.vision.page_finder import DEFAULT_DPI, PageDetection, find_page, straighten
from kiosk.vision.quality import Issue, Quality, assess

DEFAULT_STABLE_FRAMES = 8
# Corners may wander this share of the frame's diagonal during a run (≈ 15 px at 1280×720).
STABLE_TOLERANCE = 0.01
# Issues that mean "the page is there, keep it still": the state stays HOLD_STILL.
STILLNESS_ISSUES = frozenset({Issue.MOVING, Issue.BLURRED})

MSG_HOLD_STILL = Issue.MOVING.msgid
MSG_CAPTURED = "The page is captured. You can take the document away."
MSG_NEXT_PAGE = "Take the page away and place the next one."


class CaptureState(enum.Enum):
    """Where the auto-capture stands."""

    SEARCHING = "searching"
    HOLD_STILL = "hold_still"
    CAPTURED = "captured"


@dataclass(frozen=True)
class CaptureStatus:
    """What the screen shows for one frame.

    ``progress``: 0..1 towards a capture. ``page``: the straightened, upright page (CAPTURED
    only), ``rotation``: the clockwise turn applied to make it upright. ``issues``: the frame's.
    ``fresh``: True only for the frame on which the capture happened (CAPTURED stays until
    ``reset()`` or ``next_page()``; act on the page once).
    """

    state: CaptureState
    msgid: str
    progress: float = 0.0
    detection: PageDetection | None = None
    issues: list[Issue] = field(default_factory=list)
    page: np.ndarray | None = None
    rotation: int = 0
    fresh: bool = False


class AutoCapture:
    """Captures after ``stable_frames`` good frames with the page within ``tolerance``."""

    def __init__(
        self,
        stable_frames: int = DEFAULT_STABLE_FRAMES,
        *,
        tolerance: float = STABLE_TOLERANCE,
        dpi_target: float = DEFAULT_DPI,
        upright: bool = True,
    ) -> None:
        if stable_frames < 1:
            raise ValueError(f"stable_frames must be at least 1, got {stable_frames}")
        if tolerance <= 0:
            raise ValueError(f"tolerance must be positive, got {tolerance}")
        self.stable_frames = stable_frames
        self.tolerance = tolerance
        self.dpi_target = dpi_target
        self.upright = upright
        self._anchor: np.ndarray | None = None
        self._count = 0  # good, still frames in the current run
        self._last_state = CaptureState.SEARCHING
        self._captured: CaptureStatus | None = None
        self._waiting_for_removal: np.ndarray | None = None
        self._previous: PageDetection | None = None

    @property
    def state(self) -> CaptureState:
        """The state after the last frame (SEARCHING before any, and after a reset)."""
        if self._captured is not None:
            return CaptureState.CAPTURED
        return self._last_state

    @property
    def captured(self) -> CaptureStatus | None:
        """The capture, until ``reset()`` or ``next_page()``."""
        return self._captured

    def reset(self) -> None:
        """Forget the capture and any run: the next good frames capture again."""
        self._last_state = CaptureState.SEARCHING
        self._anchor = None
        self._count = 0
        self._captured = None
        self._waiting_for_removal = None

    def next_page(self) -> None:
        """Forget the capture, but capture again only once the captured page is gone or moved."""
        corners = (
            self._captured.detection.corners
            if self._captured and self._captured.detection
            else None
        )
        self.reset()
        self._waiting_for_removal = corners

    def _moved(self, corners: np.ndarray, reference: np.ndarray, diagonal: float) -> bool:
        distance = float(np.linalg.norm(corners - reference, axis=1).max())
        return distance > self.tolerance * diagonal

    def process(self, frame: np.ndarray) -> CaptureStatus:
        """Find the page, check the frame against the previous one, and ``update``."""
        detection = find_page(frame)
        quality = assess(frame, detection, self._previous)
        self._previous = detection
        return self.update(frame, detection, quality)

    def update(
        self, frame: np.ndarray, detection: PageDetection | None, quality: Quality
    ) -> CaptureStatus:
        """One frame's step: the status to show."""
        status = self._step(frame, detection, quality)
        self._last_state = status.state
        return status

    def _step(
        self, frame: np.ndarray, detection: PageDetection | None, quality: Quality
    ) -> CaptureStatus:
        if self._captured is not None:
            return replace(self._captured, fresh=False)
        if self._waiting_for_removal is not None:
            if detection is not None and not self._moved(
                detection.corners, self._waiting_for_removal, _diagonal(detection)
            ):
                return CaptureStatus(
                    CaptureState.SEARCHING, MSG_NEXT_PAGE, 0.0, detection, list(quality.issues)
                )
            self._waiting_for_removal = None
        if detection is None or not quality.ok:
            self._anchor = None
            self._count = 0
            issues = list(quality.issues) or [Issue.NO_DOCUMENT]
            if detection is not None and set(issues) <= STILLNESS_ISSUES:
                return CaptureStatus(
                    CaptureState.HOLD_STILL, issues[0].msgid, 0.0, detection, issues
                )
            return CaptureStatus(CaptureState.SEARCHING, issues[0].msgid, 0.0, detection, issues)
        if self._anchor is None or self._moved(
            detection.corners, self._anchor, _diagonal(detection)
        ):
            self._anchor = detection.corners.copy()
            self._count = 0
        self._count += 1
        progress = min(1.0, self._count / self.stable_frames)
        if self._count < self.stable_frames:
            return CaptureStatus(CaptureState.HOLD_STILL, MSG_HOLD_STILL, progress, detection, [])
        # The last frame with its own corners: a hand's tremor moves the page between frames,
        # so corners averaged over the run would be off by that much on any one frame.
        page = straighten(frame, detection.corners, dpi_target=self.dpi_target)
        rotation = 0
        if self.upright:
            page, rotation = fix_orientation(page)
        self._captured = CaptureStatus(
            CaptureState.CAPTURED, MSG_CAPTURED, 1.0, detection, [], page, rotation, fresh=True
        )
        self._count = 0
        self._anchor = None
        return self._captured


def _diagonal(detection: PageDetection) -> float:
    width, height = detection.frame_size
    return float(np.hypot(width, height))
