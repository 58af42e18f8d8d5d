"""The live document capture behind the documents screen: camera frames in, guidance out.

A worker thread reads the camera (about 12 frames a second), finds the page, judges its quality
and feeds the auto-capture; the screen pulls the latest ``LiveView`` on its own clock (so a slow
frame never blocks the UI) and shows the preview, the page outline and the guidance in words.
When the page has stayed sharp and still for the required frames, the view carries the
straightened page for the citizen to accept or retake. The camera disappearing is reported as a
``CameraUnavailable`` in ``LiveView.error``; the loop waits and tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kiosk.errors import KioskError

log = logging.getLogger(__name__)

PREVIEW_MAX_SIDE = 960
FRAME_INTERVAL_S = 1 / 12
RETRY_AFTER_S = 1.0


@dataclass(frozen=True)
class LiveView:
    """What the screen shows for one analysed frame."""

    frame: np.ndarray  # the preview, BGR, at most PREVIEW_MAX_SIDE wide or high
    corners: tuple[tuple[float, float], ...] | None  # the page outline in preview pixels
    guidance_msgid: str  # what the citizen should do now (an English msgid)
    progress: float  # 0..1 towards the automatic capture
    captured: np.ndarray | None = None  # the straightened page once captured
    error: KioskError | None = None  # the camera failed: the screen says so
    sequence: int = 0


Analyser = Callable[[np.ndarray], tuple[Any, str, float, np.ndarray | None]]


class LiveCapture:
    """Runs the camera and the analysis on a worker thread; ``latest()`` is the newest view."""

    def __init__(self, camera: Any, analyser_factory: Callable[[], Any]) -> None:
        self.camera = camera
        self._analyser_factory = analyser_factory
        self._lock = threading.Lock()
        self._latest: LiveView | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sequence = 0
        self._force_next = False
        self.frames = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start (or restart, forgetting any capture) the live loop."""
        self.stop()
        self._stop.clear()
        with self._lock:
            self._latest = None
        self._thread = threading.Thread(target=self._run, name="live-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def latest(self) -> LiveView | None:
        with self._lock:
            return self._latest

    def _publish(self, view: LiveView) -> LiveView:
        with self._lock:
            self._sequence += 1
            self._latest = LiveView(**{**view.__dict__, "sequence": self._sequence})
            return self._latest

    def capture_next(self) -> None:
        """Capture the next frame without waiting for a steady page."""
        self._force_next = True

    def hold_still(self, frames: int) -> LiveView | None:
        """Stop the loop and analyse exactly ``frames`` frames of a freshly opened camera on the
        calling thread: the same view on every run whatever the machine's speed (the
        screenshots' still of the live camera). Returns the last view, also ``latest()``."""
        self.stop()
        self.camera.close()
        analyser = self._analyser_factory()
        view = None
        for _ in range(frames):
            view = self._analyse_one(analyser)
            if view is None or view.captured is not None:
                break
        return view

    def _run(self) -> None:
        analyser = self._analyser_factory()
        while not self._stop.is_set():
            started = time.monotonic()
            view = self._analyse_one(analyser)
            if view is None:
                self._stop.wait(RETRY_AFTER_S)
                continue
            if view.captured is not None:
                return  # the citizen now accepts or retakes: no more frames needed
            rest = FRAME_INTERVAL_S - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)

    def _analyse_one(self, analyser: Any) -> LiveView | None:
        """Read and analyse one frame and publish its view; None when the camera failed (the
        failure is published for the screen)."""
        if self._force_next and hasattr(analyser, "force_next"):
            self._force_next = False
            analyser.force_next()
        try:
            if not self.camera.is_open:
                self.camera.open()
            frame = self.camera.read()
        except KioskError as exc:
            log.warning("live capture: %s", exc)
            self._publish(
                LiveView(np.zeros((90, 160, 3), np.uint8), None, exc.msgid, 0.0, error=exc)
            )
            return None
        self.frames += 1
        return self._publish(analyser(frame))


def preview_of(frame: np.ndarray) -> tuple[np.ndarray, float]:
    """A preview no larger than PREVIEW_MAX_SIDE and the scale applied."""
    height, width = frame.shape[:2]
    scale = min(1.0, PREVIEW_MAX_SIDE / max(height, width))
    if scale < 1.0:
        size = (int(width * scale), int(height * scale))
        frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
    return frame, scale


class DocumentAnalyser:
    """One live session's analysis: ``kiosk.vision.capture.AutoCapture`` on each frame.

    The page is captured once it has stayed found, sharp and still for the auto-capture's run of
    frames; ``force_next()`` captures the next frame whatever its quality (the citizen's
    "capture now"): the page found in it, straightened, or the whole frame when none is found.
    """

    def __init__(self) -> None:
        from kiosk.vision.capture import AutoCapture

        self._auto = AutoCapture()
        self._force = False

    def force_next(self) -> None:
        self._force = True

    def __call__(self, frame: np.ndarray) -> LiveView:
        from kiosk.vision.capture import CaptureState

        status = self._auto.process(frame)
        preview, scale = preview_of(frame)
        corners = None
        if status.detection is not None:
            corners = tuple(
                (float(x) * scale, float(y) * scale) for x, y in status.detection.corners
            )
        captured = status.page if status.state is CaptureState.CAPTURED else None
        force, self._force = self._force, False
        if captured is None and force:
            from kiosk.camera.document_pages import page_from_photo

            captured, _note = page_from_photo(frame)
        progress = 1.0 if captured is not None else status.progress
        return LiveView(preview, corners, status.msgid, progress, captured=captured)
