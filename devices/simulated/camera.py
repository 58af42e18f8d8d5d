"""A camera that plays still images or a folder of frames, as a document camera would see them.

Frames come from one image file or a folder of images (played in name order), scaled and
letterboxed to the configured resolution. A shaking hand (``motion``: small random shifts,
rotations and zoom) and a camera out of focus (``blur``: Gaussian) can be added; both are
deterministic for a given ``seed``, restarted at each ``open()``. ``unplug()`` makes the camera
vanish (``read()`` raises ``CameraUnavailable``) until ``replug()``. Same ``Camera`` interface
as the real one, so the kiosk cannot tell them apart.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from devices.base import Health
from devices.camera.interface import DEVICE_NAME, Camera, CameraUnavailable
from kiosk.paths import SAMPLES_DIR

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
CACHE_FRAMES = 16


def frame_files(source: Path) -> list[Path]:
    """The images ``source`` names: the file itself, or a folder's images sorted by name."""
    if source.is_dir():
        return sorted(
            p for p in source.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
    if source.is_file():
        return [source]
    return []


def letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled to fit inside width×height, aspect kept, centred on black bars."""
    src_h, src_w = image.shape[:2]
    scale = min(width / src_w, height / src_h)
    new_w = max(1, round(src_w * scale))
    new_h = max(1, round(src_h * scale))
    if (new_w, new_h) != (src_w, src_h):
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        image = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    out = np.zeros((height, width, 3), dtype=np.uint8)
    top = (height - new_h) // 2
    left = (width - new_w) // 2
    out[top : top + new_h, left : left + new_w] = image
    return out


class SimulatedCamera(Camera):
    """Plays ``frames`` (a file, a folder, or None for assets/samples) at width×height.

    ``motion``: hand shake, the largest shift in percent of the frame's shorter side (rotation
    up to ``motion / 2`` degrees, zoom up to ``motion / 2`` percent); 0 = a camera on a stand.
    ``blur``: Gaussian sigma in pixels; 0 = sharp. ``fps``: when set, ``read()`` waits for the
    next frame time like a real camera; None = a new frame at each call. ``loop``: start again
    after the last frame; otherwise the last frame stays (the camera keeps looking at it).
    """

    def __init__(
        self,
        frames: Path | None,
        width: int,
        height: int,
        *,
        motion: float = 0,
        blur: float = 0,
        fps: float | None = None,
        loop: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__(width, height)
        if motion < 0 or blur < 0:
            raise ValueError(f"motion and blur must be >= 0, got {motion} and {blur}")
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be positive or None, got {fps}")
        self.source = Path(frames) if frames is not None else SAMPLES_DIR
        self.motion = motion
        self.blur = blur
        self.fps = fps
        self.loop = loop
        self.seed = seed
        self._files: list[Path] = []
        self._cache: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._index = 0
        self._rng = np.random.default_rng(seed)
        self._next_due = 0.0
        self._open = False
        self._plugged = True
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SimulatedCamera({str(self.source)!r}, resolution={self.resolution})"

    @property
    def is_open(self) -> bool:
        return self._open

    @property
    def plugged(self) -> bool:
        """False between ``unplug()`` and ``replug()``."""
        return self._plugged

    def unplug(self) -> None:
        """The camera vanishes: ``open()`` and ``read()`` raise ``CameraUnavailable``."""
        with self._lock:
            self._plugged = False

    def replug(self) -> None:
        """The camera is back: ``read()`` gives frames again, as OpenCVCamera reconnects."""
        with self._lock:
            self._plugged = True

    def open(self) -> None:
        with self._lock:
            if not self._plugged:
                raise CameraUnavailable("simulated camera is unplugged")
            files = frame_files(self.source)
            if not files:
                raise CameraUnavailable(f"simulated camera: no image at {self.source}")
            self._files = files
            self._cache.clear()
            self._index = 0
            self._rng = np.random.default_rng(self.seed)
            self._next_due = time.monotonic()
            # Fail now rather than at the first read when the first image is unreadable.
            self._frame(0)
            self._open = True

    def _frame(self, index: int) -> np.ndarray:
        path = self._files[index]
        cached = self._cache.get(path)
        if cached is not None:
            self._cache.move_to_end(path)
            return cached
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise CameraUnavailable(f"simulated camera: cannot decode {path}")
        frame = letterbox(image, *self.resolution)
        self._cache[path] = frame
        if len(self._cache) > CACHE_FRAMES:
            self._cache.popitem(last=False)
        return frame

    def _shake(self, frame: np.ndarray) -> np.ndarray:
        height, width = frame.shape[:2]
        amplitude = self.motion / 100.0
        dx, dy = self._rng.uniform(-1, 1, 2) * amplitude * min(width, height)
        angle = float(self._rng.uniform(-1, 1)) * self.motion / 2
        zoom = 1 + float(self._rng.uniform(-1, 1)) * amplitude / 2
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, zoom)
        matrix[0, 2] += dx
        matrix[1, 2] += dy
        return cv2.warpAffine(
            frame, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def _wait_for_frame_time(self) -> None:
        if self.fps is None:
            return
        delay = self._next_due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_due = max(self._next_due, time.monotonic()) + 1 / self.fps

    def read(self) -> np.ndarray:
        with self._lock:
            if not self._plugged:
                raise CameraUnavailable("simulated camera is unplugged")
            if not self._open:
                raise CameraUnavailable("simulated camera is not open")
            self._wait_for_frame_time()
            frame = self._frame(self._index)
            if self._index + 1 < len(self._files):
                self._index += 1
            elif self.loop:
                self._index = 0
            if self.motion > 0:
                frame = self._shake(frame)
            if self.blur > 0:
                frame = cv2.GaussianBlur(frame, (0, 0), sigmaX=self.blur)
            return frame.copy()

    def close(self) -> None:
        with self._lock:
            self._open = False
            self._cache.clear()

    def health(self) -> Health:
        with self._lock:
            if not self._plugged:
                return Health(DEVICE_NAME, False, "simulated camera is unplugged")
            was_open = self._open
            try:
                if not was_open:
                    self.open()
                count = len(self._files)
            except CameraUnavailable as exc:
                return Health(DEVICE_NAME, False, str(exc))
            finally:
                if not was_open:
                    self.close()
            width, height = self.resolution
            return Health(
                DEVICE_NAME,
                True,
                f"simulated camera plays {count} image(s) from {self.source} at {width}x{height}",
            )
