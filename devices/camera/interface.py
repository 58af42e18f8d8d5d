"""The camera as the kiosk sees it: ``Camera`` gives frames (NumPy BGR arrays) and its health."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Protocol

import numpy as np

from devices.base import DeviceUnavailable, Health

DEVICE_NAME = "camera"


class CameraUnavailable(DeviceUnavailable):
    """The camera is missing, unplugged, not configured, or gives no frame."""

    msgid = "The camera is not available. Please ask the staff for help."


class CameraSettingsLike(Protocol):
    """The fields of ``kiosk.config.settings.CameraSettings`` that ``make_camera`` reads."""

    @property
    def mode(self) -> str: ...
    @property
    def device(self) -> int: ...
    @property
    def width(self) -> int: ...
    @property
    def height(self) -> int: ...
    @property
    def frames(self) -> Any: ...  # Path | None


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
