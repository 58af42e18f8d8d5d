"""A USB or built-in camera through OpenCV (V4L2 on Linux): the real ``Camera``."""

from __future__ import annotations

import sys
import threading

import cv2
import numpy as np

from devices.base import Health
from devices.camera.interface import (
    DEVICE_NAME,
    Camera,
    CameraUnavailable,
)


class OpenCVCamera(Camera):
    """A camera through ``cv2.VideoCapture``: device index ``device`` (``/dev/videoN``)."""

    READ_TIMEOUT_MS = 3000

    def __init__(self, device: int, width: int, height: int) -> None:
        super().__init__(width, height)
        self.device = device
        self._requested = (width, height)
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"OpenCVCamera(device={self.device}, resolution={self.resolution})"

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def _open_capture(self) -> cv2.VideoCapture:
        """A new, not yet checked ``VideoCapture`` on the device (tests override this)."""
        if sys.platform.startswith("linux"):
            return cv2.VideoCapture(self.device, cv2.CAP_V4L2)
        return cv2.VideoCapture(self.device)

    def _connect(self) -> cv2.VideoCapture:
        try:
            capture = self._open_capture()
        except cv2.error as exc:
            raise CameraUnavailable(f"camera {self.device}: OpenCV error on open: {exc}") from exc
        if not capture.isOpened():
            capture.release()
            raise CameraUnavailable(f"camera {self.device} could not be opened")
        width, height = self._requested
        # A camera that cannot do the resolution picks its nearest; what it gives is read back.
        capture.set(cv2.CAP_PROP_FRAME_WIDTH, width)
        capture.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
        capture.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, self.READ_TIMEOUT_MS)
        actual_w = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        actual_h = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if actual_w > 0 and actual_h > 0:
            self._width, self._height = actual_w, actual_h
        return capture

    def open(self) -> None:
        with self._lock:
            if self._capture is None:
                self._capture = self._connect()

    def _grab(self) -> np.ndarray | None:
        assert self._capture is not None
        try:
            ok, frame = self._capture.read()
        except cv2.error:
            return None
        if not ok or frame is None or frame.size == 0:
            return None
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        elif frame.shape[2] == 4:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
        self._width, self._height = frame.shape[1], frame.shape[0]
        return frame

    def read(self) -> np.ndarray:
        with self._lock:
            if self._capture is None:
                raise CameraUnavailable(f"camera {self.device} is not open")
            frame = self._grab()
            if frame is not None:
                return frame
            # The device may have been unplugged and plugged back: reopen it once.
            self._capture.release()
            self._capture = None
            try:
                self._capture = self._connect()
            except CameraUnavailable as exc:
                raise CameraUnavailable(
                    f"camera {self.device} gave no frame and could not be reopened: {exc}"
                ) from exc
            frame = self._grab()
            if frame is None:
                self._capture.release()
                self._capture = None
                raise CameraUnavailable(f"camera {self.device} gives no frame, even reopened")
            return frame

    def close(self) -> None:
        with self._lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None

    def health(self) -> Health:
        with self._lock:
            was_open = self.is_open
            try:
                self.open()
                frame = self.read()
            except CameraUnavailable as exc:
                return Health(DEVICE_NAME, False, str(exc))
            finally:
                if not was_open:
                    self.close()
            return Health(
                DEVICE_NAME,
                True,
                f"camera {self.device} gives {frame.shape[1]}x{frame.shape[0]} frames",
            )
