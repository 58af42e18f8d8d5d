"""What every device shares: its health report and its exception tree.

    KioskError                       (kiosk/errors.py)
     └── DeviceError                 a device of the kiosk failed
          ├── DeviceUnavailable      missing, unplugged, not configured, driver not running
          │    ├── CameraUnavailable          (devices/camera/interface.py)
          │    └── ReaderUnavailable          (devices/card_reader/interface.py)
          │         └── PcscServiceUnavailable  pcscd not running (devices/card_reader/pcsc.py)
          ├── DeviceTimeout          the device did not answer, or nothing came, in time
          │    └── NoCard                     (devices/card_reader/interface.py)
          ├── CardRemoved            the card left the reader's field in the middle of a read
          └── CardError              the card or the reader failed an exchange (carries ``sw``)

The printer's errors (devices/printer/interface.py) hang from the same three classes.
``str(err)`` is the technical detail for the log; ``err.msgid`` is the citizen's message.
Driver exceptions (OpenCV, pyscard, python-escpos, sockets) are converted at the boundary of
each device module and never leak past it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.errors import KioskError


@dataclass(frozen=True)
class Health:
    """One device's state for logs and ``kiosk doctor``: ``detail`` is English, for humans."""

    device: str
    ok: bool
    detail: str


class DeviceError(KioskError):
    """A device of the kiosk failed."""

    msgid = "A device of the kiosk is not working. Please ask the staff for help."


class DeviceUnavailable(DeviceError):
    """The device is missing, unplugged, not configured, or its driver is not running."""


class DeviceTimeout(DeviceError):
    """The device did not answer, or the expected event did not happen, in time."""


class CardRemoved(DeviceError):
    """The card left the reader's field in the middle of an exchange."""

    msgid = "The card was moved away. Please lay it flat on the reader again and keep it still."


class CardError(DeviceError):
    """An exchange with the card failed; ``sw`` is the status word when the card gave one."""

    msgid = "The card could not be read. Please lay it flat on the reader again and keep it still."

    def __init__(
        self, detail: str = "", *, sw: int | None = None, msgid: str | None = None
    ) -> None:
        if sw is not None:
            detail = f"{detail} (SW={sw:04X})" if detail else f"SW={sw:04X}"
        super().__init__(detail, msgid=msgid)
        self.sw = sw
