"""The receipt printer as the kiosk sees it: ``ReceiptPrinter``, its status, its errors.

``PrinterStatus`` is what a printer says of itself (online, paper ok / near end / out, a
detail); ``parse_status`` reads the ESC/POS real-time status bytes (``DLE EOT 1/2/3/4``,
``GS r 1``) into it. ``NoPrinter`` stands for a kiosk configured without one: it prints nothing
and says so, and the receipt is shown on screen.

    KioskError
     └── DeviceError                     (devices/base.py)
          ├── DeviceUnavailable
          │    └── PrinterOffline        no connection, no answer, or not configured
          └── PrinterError               the receipt could not be printed
               ├── PrinterOffline        (also a DeviceUnavailable)
               ├── PrinterOutOfPaper     the paper-end sensor is set (before or during the job)
               ├── PrinterCoverOpen      the cover is open
               └── PrinterFault          an error during the job: jam, cutter, head, or silence
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from PIL import Image

from devices.base import DeviceError, DeviceUnavailable, Health
from devices.printer.blocks import Block
from devices.printer.escpos_job import (
    JobOptions,
    JobPart,
    RasterPart,
    compose_job,
)

log = logging.getLogger(__name__)


PaperState = Literal["ok", "near_end", "out", "unknown"]


DLE_EOT = b"\x10\x04"


STATUS_PRINTER = 1  # DLE EOT 1: printer status


STATUS_OFFLINE_CAUSE = 2  # DLE EOT 2: offline cause


STATUS_ERROR_CAUSE = 3  # DLE EOT 3: error cause


STATUS_PAPER = 4  # DLE EOT 4: roll paper sensor


GS_R_PAPER = b"\x1dr\x01"  # GS r 1: paper sensor, answered after the data before it


# Bits of the DLE EOT answers (ESC/POS application programming guide).
FIXED_MASK = 0x93  # bits 0, 1, 4, 7 have fixed values in every answer ...


FIXED_VALUE = 0x12  # ... bit 1 and bit 4 set, bit 0 and bit 7 clear


BIT_OFFLINE = 0x08  # n=1, bit 3


BIT_COVER_OPEN = 0x04  # n=2, bit 2


BIT_PAPER_END_STOP = 0x20  # n=2, bit 5: printing stopped by paper end


BIT_ERROR = 0x40  # n=2, bit 6


BITS_NEAR_END = 0x0C  # n=4, bits 2-3: roll paper near-end sensor


BITS_PAPER_OUT = 0x60  # n=4, bits 5-6: roll paper end sensor


BIT_CUTTER_ERROR = 0x08  # n=3, bit 3: autocutter error (a jam, usually)


BIT_UNRECOVERABLE = 0x20  # n=3, bit 5


BIT_AUTO_RECOVERABLE = 0x40  # n=3, bit 6 (head too hot, ...)


GS_R_FIXED_MASK = 0x90  # GS r 1 answers have bits 4 and 7 clear (DLE EOT answers have bit 4 set)


GS_R_PAPER_END = 0x0C  # GS r 1, bits 2-3: roll paper end


HEALTH_NAME = "printer"


class PrinterError(DeviceError):
    """The receipt could not be printed."""

    msgid = (
        "The receipt could not be printed. "
        "Your receipt is shown on screen; staff have been alerted."
    )


class PrinterOffline(PrinterError, DeviceUnavailable):
    """The printer cannot be reached, does not answer, reports itself offline, or is absent."""

    msgid = (
        "The printer is not working right now. "
        "Your receipt is shown on screen; staff have been alerted."
    )


class PrinterOutOfPaper(PrinterError):
    """The paper-end sensor is set."""

    msgid = "The printer is out of paper. Your receipt is shown on screen; staff have been alerted."


class PrinterCoverOpen(PrinterError):
    """The printer's cover is open."""

    msgid = "The printer cover is open. Your receipt is shown on screen; staff have been alerted."


class PrinterFault(PrinterError):
    """The printer took the job but reported an error, or stopped answering, before finishing."""

    msgid = (
        "The printer stopped with an error. "
        "Your receipt is shown on screen; staff have been alerted."
    )


MSG_NO_PRINTER = "This kiosk has no printer. Your receipt is shown on screen."


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself; ``detail`` is English, for logs and staff."""

    online: bool
    paper: PaperState
    cover_open: bool | None
    detail: str
    error: bool = False

    @property
    def ready(self) -> bool:
        """True when a job may be sent: online, cover closed, paper not out, no error."""
        return (
            self.online and self.paper != "out" and self.cover_open is not True and not self.error
        )

    def raise_if_not_ready(self) -> None:
        """Raise the PrinterError that explains why the printer cannot print now."""
        if self.cover_open:
            raise PrinterCoverOpen(self.detail)
        if self.paper == "out":
            raise PrinterOutOfPaper(self.detail)
        if self.error:
            raise PrinterFault(self.detail)
        if not self.online:
            raise PrinterOffline(self.detail)


def is_status_byte(byte: int | None) -> bool:
    return byte is not None and byte & FIXED_MASK == FIXED_VALUE


def parse_status(
    printer: int | None,
    offline_cause: int | None,
    paper: int | None,
    *,
    source: str = "",
    error_cause: int | None = None,
) -> PrinterStatus:
    """Interpret the answers to DLE EOT 1, 2, 4 and 3 (None where the printer did not answer)."""
    where = f"{source}: " if source else ""
    if printer is None:
        return PrinterStatus(False, "unknown", None, f"{where}no answer to DLE EOT 1")
    if not is_status_byte(printer):
        return PrinterStatus(
            False, "unknown", None, f"{where}unexpected answer 0x{printer:02x} to DLE EOT 1"
        )
    online = not printer & BIT_OFFLINE
    cover: bool | None = None
    stopped_by_paper_end = False
    error = False
    if is_status_byte(offline_cause):
        assert offline_cause is not None
        cover = bool(offline_cause & BIT_COVER_OPEN)
        stopped_by_paper_end = bool(offline_cause & BIT_PAPER_END_STOP)
        error = bool(offline_cause & BIT_ERROR)
    state: PaperState = "unknown"
    if is_status_byte(paper):
        assert paper is not None
        if paper & BITS_PAPER_OUT:
            state = "out"
        elif paper & BITS_NEAR_END:
            state = "near_end"
        else:
            state = "ok"
    if stopped_by_paper_end:
        state = "out"
    problems = []
    if cover:
        problems.append("cover open")
    if state == "out":
        problems.append("paper out")
    elif state == "near_end":
        problems.append("paper near end")
    elif state == "unknown":
        problems.append("paper sensor did not answer")
    if error:
        causes = []
        if is_status_byte(error_cause):
            assert error_cause is not None
            if error_cause & BIT_CUTTER_ERROR:
                causes.append("autocutter error (paper jam?)")
            if error_cause & BIT_UNRECOVERABLE:
                causes.append("unrecoverable error")
            if error_cause & BIT_AUTO_RECOVERABLE:
                causes.append("auto-recoverable error (print head hot?)")
        problems.append("printer error" + (f" ({', '.join(causes)})" if causes else ""))
    if not online and not problems:
        problems.append("printer reports itself offline")
    if cover is None:
        problems.append("offline cause did not answer")
    detail = ("ready" if online else "offline") + (": " + ", ".join(problems) if problems else "")
    return PrinterStatus(online, state, cover, where + detail, error)


class ReceiptPrinter(ABC):
    """A printer for receipts and tickets; ``width_dots`` is the printable width."""

    def __init__(self, width_dots: int, options: JobOptions | None = None) -> None:
        self.width_dots = width_dots
        self.options = options or JobOptions()

    @abstractmethod
    def print_job(self, parts: Sequence[JobPart], *, cut: bool = False) -> PrinterStatus:
        """Print the parts of a job; returns the status read after it. Raises PrinterError."""

    def print_image(self, img: Image.Image, *, cut: bool = False) -> PrinterStatus:
        """Print a raster image (see ``print_job``)."""
        return self.print_job([RasterPart(img)], cut=cut)

    def print_layout(self, blocks: Sequence[Block]) -> PrinterStatus:
        """Print a layout at this printer's width, as config says (raster or code page), and cut."""
        job = compose_job(blocks, self.width_dots, self.options)
        for ch in dict.fromkeys(job.replaced):
            log.warning("U+%04X (%s) is not in code page %s", ord(ch), ch, self.options.code_page)
        return self.print_job(job.parts, cut=True)

    @abstractmethod
    def status(self) -> PrinterStatus:
        """Ask the printer for its state; never raises for a missing or silent printer."""

    def health(self) -> Health:
        """The printer's health for logs and ``kiosk doctor``."""
        st = self.status()
        return Health(HEALTH_NAME, st.ready, st.detail)

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release the printer."""

    def __enter__(self) -> ReceiptPrinter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class NoPrinter(ReceiptPrinter):
    """Mode "none": the kiosk has no printer; receipts are shown on screen only."""

    DETAIL = "no printer configured (printer mode none)"

    def print_job(self, parts: Sequence[JobPart], *, cut: bool = False) -> PrinterStatus:
        raise PrinterOffline(self.DETAIL, msgid=MSG_NO_PRINTER)

    def status(self) -> PrinterStatus:
        return PrinterStatus(False, "unknown", None, self.DETAIL)

    def health(self) -> Health:
        return Health(HEALTH_NAME, False, "not configured")
