"""The document camera: an interface that yields BGR frames, and its OpenCV implementation.

    DeviceUnavailable                    (devices/base.py)
     └── CameraUnavailable              no camera, unplugged, not configured, or no frame

``Camera.read()`` returns one frame as a NumPy array (H×W×3, uint8, BGR, OpenCV's order).
``OpenCVCamera`` opens a V4L2 device on Linux (any backend elsewhere), asks for the configured
resolution, and when a read fails it reopens the device once (a USB camera unplugged and
plugged back) before giving up with ``CameraUnavailable``. OpenCV's errors never leave this
module. No OpenCV GUI is used here: frames go to the caller, who shows them.
"""

from __future__ import annotations

import sys
import threading
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Protocol

import cv2
import numpy as np

from devices.base import DeviceUnavailable, Health

DEVICE_NAME = "camera"


class CameraUnavailable(DeviceUnavailable):
    """The camera is missing, unplugged, not configured, or gives no frame."""

    msgid = "The camera is not available. Please ask the staff for help."


class CameraSettingsLike(Protocol):
    """The fields of ``kiosk.config.CameraSettings`` that ``make_camera`` reads."""

    mode: str
    device: int
    width: int
    height: int
    frames: Any  # Path | None


class Camera(ABC):
    """A source of BGR frames; use as a context manager or call ``open()`` / ``close()``."""

    def __init__(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"camera resolution must be positive, got {width}x{height}")
        self._width = width
        self._height = height

    @property
    def resolution(self) -> tuple[int, int]:
        """(width, height) of the frames ``read()`` returns (the configured one until opened)."""
        return (self._width, self._height)

    @property
    @abstractmethod
    def is_open(self) -> bool:
        """Whether ``open()`` succeeded and ``close()`` was not called since."""

    @abstractmethod
    def open(self) -> None:
        """Start the camera; raises ``CameraUnavailable`` when it cannot."""

    @abstractmethod
    def read(self) -> np.ndarray:
        """The next frame (H×W×3 uint8 BGR); raises ``CameraUnavailable`` if the camera is gone."""

    @abstractmethod
    def close(self) -> None:
        """Release the camera; harmless when already closed."""

    @abstractmethod
    def health(self) -> Health:
        """Whether the camera gives frames now; never raises."""

    def __enter__(self) -> Camera:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


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


def make_camera(settings: CameraSettingsLike) -> Camera:
    """The camera the settings describe: ``mode`` "opencv" or "simulated"."""
    if settings.mode == "opencv":
        return OpenCVCamera(settings.device, settings.width, settings.height)
    if settings.mode == "simulated":
        from devices.simulated.camera import SimulatedCamera

        return SimulatedCamera(settings.frames, settings.width, settings.height)
    raise CameraUnavailable(f"unknown camera mode {settings.mode!r} (opencv, simulated)")
