"""The receipt printer behind a small interface, and its ESC/POS driver built on python-escpos.

A layout becomes one job (``devices.escpos_job``): by default all text is a raster image
(``GS v 0``) rendered by ``kiosk.receipt``, which is how Vietnamese prints correctly on any
ESC/POS printer; a Vietnamese code page of the printer (``cp1258``, ``tcvn3``) and the
printer's own QR command are used only when config says so.

Before each job the driver asks the printer for its real-time status (``DLE EOT 1/2/4``) over
the same connection and refuses to print into a printer that is out of paper, has its cover
open, reports an error or does not answer: a printer that says nothing is never taken to have
paper (python-escpos' ``paper_status()`` would say "OK"). After the job it sends ``GS r 1``,
which the printer answers only once everything before it has been processed, and reads the
real-time status again: paper that ran out during the job, a jam or cutter error, or a printer
that took the bytes and stopped are all reported as errors, so the kiosk shows the receipt on
screen and alerts staff instead of believing it printed. Waits are bounded by config
(python-escpos' own network printer would wait 60 s on a silent printer).

    KioskError
     └── DeviceError                     (devices/base.py)
          ├── DeviceUnavailable
          │    └── PrinterOffline        no connection, no answer, or not configured
          └── PrinterError               the receipt could not be printed
               ├── PrinterOffline        (also a DeviceUnavailable)
               ├── PrinterOutOfPaper     the paper-end sensor is set (before or during the job)
               ├── PrinterCoverOpen      the cover is open
               └── PrinterFault          an error during the job: jam, cutter, head, or silence

python-escpos, socket, pyserial and pyusb exceptions are converted here and do not leak.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol

from escpos import exceptions as escpos_errors
from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.printer import Network, Serial, Usb
from PIL import Image

from devices.base import DeviceError, DeviceUnavailable, Health
from devices.escpos_job import JobOptions, JobPart, NativeQRPart, RasterPart, RawPart, compose_job
from kiosk.receipt import Block, dots_for_width_mm

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
#: How fast the slowest supported printer feeds paper, in dots (1/8 mm) per second: 50 mm/s.
SLOWEST_FEED_DOTS_PER_S = 400

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


def _valid(byte: int | None) -> bool:
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
    if not _valid(printer):
        return PrinterStatus(
            False, "unknown", None, f"{where}unexpected answer 0x{printer:02x} to DLE EOT 1"
        )
    online = not printer & BIT_OFFLINE
    cover: bool | None = None
    stopped_by_paper_end = False
    error = False
    if _valid(offline_cause):
        assert offline_cause is not None
        cover = bool(offline_cause & BIT_COVER_OPEN)
        stopped_by_paper_end = bool(offline_cause & BIT_PAPER_END_STOP)
        error = bool(offline_cause & BIT_ERROR)
    state: PaperState = "unknown"
    if _valid(paper):
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
        if _valid(error_cause):
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


def escpos_profile(width_dots: int) -> Any:
    """python-escpos' default (Epson-compatible) profile, told the paper's width in dots."""
    profile = get_profile("default")
    data = copy.deepcopy(profile.profile_data)
    data["media"]["width"]["pixels"] = width_dots
    data["media"]["dpi"] = 203
    profile.profile_data = data  # an instance attribute: the shared class data stays intact
    return profile


def write_job(printer: Escpos, parts: Sequence[JobPart], *, cut: bool) -> None:
    """The bytes of one job: ESC @, each part (images as GS v 0, centred), then feed and cut."""
    printer.hw("INIT")
    for part in parts:
        if isinstance(part, RasterPart):
            printer.image(part.image, impl="bitImageRaster", center=True)
        elif isinstance(part, RawPart):
            printer._raw(part.data)
        elif isinstance(part, NativeQRPart):
            printer.qr(part.data, ec=1, size=part.module, native=True)  # ec 1 = M
            printer._raw(b"\n")
        else:
            raise TypeError(f"not a job part: {part!r}")
    if cut:
        printer.cut()


def job_length_dots(parts: Sequence[JobPart]) -> int:
    """About how much paper a job takes, in dots: to bound the wait for it to print."""
    total = 0
    for part in parts:
        if isinstance(part, RasterPart):
            total += part.image.height
        elif isinstance(part, RawPart):
            total += 96 * (part.data.count(b"\n") + 1)  # up to quadruple-height lines
        else:
            total += 400
    return total + 200  # the feed before the cut


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


class _Link(Protocol):
    """How to read one status byte and drop stale input on an opened python-escpos printer."""

    def read_byte(self, printer: Any, timeout_s: float) -> int | None: ...

    def drain(self, printer: Any) -> None: ...


class _SocketLink:
    def read_byte(self, printer: Any, timeout_s: float) -> int | None:
        sock: socket.socket = printer.device
        previous = sock.gettimeout()
        sock.settimeout(timeout_s)
        try:
            data = sock.recv(1)
        except TimeoutError:
            return None
        finally:
            sock.settimeout(previous)
        if not data:
            raise ConnectionError("the printer closed the connection")
        return data[0]

    def drain(self, printer: Any) -> None:
        sock: socket.socket = printer.device
        previous = sock.gettimeout()
        sock.setblocking(False)
        try:
            while sock.recv(256):
                pass
        except (BlockingIOError, InterruptedError):
            pass
        finally:
            sock.settimeout(previous)


class _SerialLink:
    def read_byte(self, printer: Any, timeout_s: float) -> int | None:
        port = printer.device
        previous = port.timeout
        port.timeout = timeout_s
        try:
            data = port.read(1)
        finally:
            port.timeout = previous
        return data[0] if data else None

    def drain(self, printer: Any) -> None:
        printer.device.reset_input_buffer()


class _UsbLink:
    def read_byte(self, printer: Any, timeout_s: float) -> int | None:
        import usb.core  # pyusb: only needed for USB printers

        try:
            data = printer.device.read(printer.in_ep, 16, max(1, int(timeout_s * 1000)))
        except usb.core.USBTimeoutError:
            return None
        return data[-1] if len(data) else None  # the newest byte: ours, after any stale ones

    def drain(self, printer: Any) -> None:
        return None


class EscposReceiptPrinter(ReceiptPrinter):
    """An ESC/POS printer over python-escpos (Network, Usb or Serial), one connection per job."""

    def __init__(
        self,
        factory: Callable[[], Escpos],
        link: _Link,
        *,
        description: str,
        width_dots: int = 576,
        status_timeout_s: float = 1.0,
        options: JobOptions | None = None,
    ) -> None:
        super().__init__(width_dots, options)
        self._factory = factory
        self._link = link
        self.description = description
        self.status_timeout_s = status_timeout_s
        self._lock = threading.Lock()

    @classmethod
    def network(
        cls,
        host: str,
        port: int,
        *,
        timeout_s: float = 5.0,
        width_dots: int = 576,
        status_timeout_s: float | None = None,
        options: JobOptions | None = None,
    ) -> EscposReceiptPrinter:
        """A printer on TCP (port 9100 on most): ``timeout_s`` bounds connect and send."""

        def factory() -> Escpos:
            return Network(host, port, timeout=timeout_s)

        return cls(
            factory,
            _SocketLink(),
            description=f"network {host}:{port}",
            width_dots=width_dots,
            status_timeout_s=min(timeout_s, 1.0) if status_timeout_s is None else status_timeout_s,
            options=options,
        )

    @classmethod
    def usb(
        cls,
        vendor_id: int,
        product_id: int,
        *,
        timeout_s: float = 5.0,
        width_dots: int = 576,
        status_timeout_s: float | None = None,
        options: JobOptions | None = None,
    ) -> EscposReceiptPrinter:
        """A USB printer (needs pyusb and access to the device node)."""

        def factory() -> Escpos:
            if not Usb.is_usable():  # checked first: a Usb object without pyusb cannot close
                raise RuntimeError("pyusb is not installed: USB printers cannot be used")
            return Usb(vendor_id, product_id, timeout=int(timeout_s * 1000))

        return cls(
            factory,
            _UsbLink(),
            description=f"usb {vendor_id:04x}:{product_id:04x}",
            width_dots=width_dots,
            status_timeout_s=min(timeout_s, 1.0) if status_timeout_s is None else status_timeout_s,
            options=options,
        )

    @classmethod
    def serial(
        cls,
        device: str,
        *,
        baudrate: int = 115200,
        timeout_s: float = 5.0,
        width_dots: int = 576,
        status_timeout_s: float | None = None,
        options: JobOptions | None = None,
    ) -> EscposReceiptPrinter:
        """A serial printer (needs pyserial)."""

        def factory() -> Escpos:
            return Serial(device, baudrate=baudrate, timeout=timeout_s)

        return cls(
            factory,
            _SerialLink(),
            description=f"serial {device}",
            width_dots=width_dots,
            status_timeout_s=min(timeout_s, 1.0) if status_timeout_s is None else status_timeout_s,
            options=options,
        )

    @contextmanager
    def _session(self) -> Iterator[Escpos]:
        """Open a connection for one job or query; convert every driver error on the way out."""
        with self._lock:
            printer: Escpos | None = None
            try:
                try:
                    printer = self._factory()
                    printer.profile = escpos_profile(self.width_dots)
                    printer.open()
                except RuntimeError as exc:  # python-escpos: pyusb / pyserial not installed
                    raise PrinterOffline(f"{self.description}: {exc}") from exc
                yield printer
            except (escpos_errors.DeviceNotFoundError, OSError) as exc:
                raise PrinterOffline(f"{self.description}: {exc}") from exc
            except escpos_errors.Error as exc:
                raise PrinterError(f"{self.description}: {exc}") from exc
            finally:
                if printer is not None:
                    self._close_quietly(printer)

    def _close_quietly(self, printer: Escpos) -> None:
        try:
            if printer._device:
                self._link.drain(printer)  # unread input would turn close() into a reset
            printer.close()
        except (OSError, RuntimeError, escpos_errors.Error) as exc:
            log.warning("closing %s: %s", self.description, exc)

    def _query(self, printer: Escpos, n: int) -> int | None:
        printer._raw(DLE_EOT + bytes([n]))
        return self._link.read_byte(printer, self.status_timeout_s)

    def _read_status(self, printer: Escpos) -> PrinterStatus:
        self._link.drain(printer)
        first = self._query(printer, STATUS_PRINTER)
        if not _valid(first):  # silent or garbled: do not wait twice more
            return parse_status(first, None, None, source=self.description)
        cause = self._query(printer, STATUS_OFFLINE_CAUSE)
        paper = self._query(printer, STATUS_PAPER)
        error_cause = None
        if _valid(cause) and cause is not None and cause & BIT_ERROR:
            error_cause = self._query(printer, STATUS_ERROR_CAUSE)
        return parse_status(first, cause, paper, source=self.description, error_cause=error_cause)

    def _await_processed(self, printer: Escpos, wait_s: float) -> int | None:
        """Send GS r 1 and wait for its answer, which comes once the job before it is done.

        Meanwhile the real-time DLE EOT 1 tells a printer that has stopped (offline) from one
        still printing, so a jammed printer is not waited for until the deadline. Returns the
        GS r answer, or None when the printer stopped or the deadline passed.
        """
        deadline = time.monotonic() + wait_s
        printer._raw(GS_R_PAPER)
        while (left := deadline - time.monotonic()) > 0:
            byte = self._link.read_byte(printer, min(left, self.status_timeout_s))
            if byte is None:
                printer._raw(DLE_EOT + bytes([STATUS_PRINTER]))
            elif byte & GS_R_FIXED_MASK == 0:
                return byte
            elif _valid(byte) and byte & BIT_OFFLINE:
                return None
        return None

    def _confirm_printed(self, printer: Escpos, parts: Sequence[JobPart]) -> PrinterStatus:
        """After the job: did it go through? Raises the PrinterError that says why not."""
        wait_s = self.status_timeout_s + job_length_dots(parts) / SLOWEST_FEED_DOTS_PER_S
        processed = self._await_processed(printer, wait_s)
        after = self._read_status(printer)
        if processed is not None and processed & GS_R_PAPER_END:
            raise PrinterOutOfPaper(f"{self.description}: paper ran out during the job")
        if not after.ready:
            log.error("%s after the job: %s", self.description, after.detail)
            if after.paper == "out" or after.cover_open:
                after.raise_if_not_ready()
            raise PrinterFault(f"took the job but did not finish it: {after.detail}")
        if processed is None:
            log.warning(
                "%s did not answer GS r 1 within %.1f s; status after the job: %s",
                self.description,
                wait_s,
                after.detail,
            )
        return after

    def status(self) -> PrinterStatus:
        try:
            with self._session() as printer:
                return self._read_status(printer)
        except PrinterError as exc:
            return PrinterStatus(False, "unknown", None, str(exc))

    def print_job(self, parts: Sequence[JobPart], *, cut: bool = False) -> PrinterStatus:
        for part in parts:
            if isinstance(part, RasterPart) and part.image.width > self.width_dots:
                raise PrinterError(
                    f"{self.description}: image is {part.image.width} dots wide, "
                    f"the paper {self.width_dots}"
                )
        with self._session() as printer:
            st = self._read_status(printer)
            if not st.ready:
                log.warning("not printing on %s: %s", self.description, st.detail)
            st.raise_if_not_ready()
            write_job(printer, parts, cut=cut)
            return self._confirm_printed(printer, parts)


class NoPrinter(ReceiptPrinter):
    """Mode "none": the kiosk has no printer; receipts are shown on screen only."""

    DETAIL = "no printer configured (printer mode none)"

    def print_job(self, parts: Sequence[JobPart], *, cut: bool = False) -> PrinterStatus:
        raise PrinterOffline(self.DETAIL, msgid=MSG_NO_PRINTER)

    def status(self) -> PrinterStatus:
        return PrinterStatus(False, "unknown", None, self.DETAIL)

    def health(self) -> Health:
        return Health(HEALTH_NAME, False, "not configured")


def job_options(settings: Any) -> JobOptions:
    """How jobs are composed, from ``[printer] code_page``, ``code_page_table`` and ``qr``."""
    tables: tuple[int, ...] | None = None
    if settings.code_page and settings.code_page_table:
        first = settings.code_page_table
        tables = (first, first + 1) if settings.code_page == "tcvn3" else (first,)
    return JobOptions(code_page=settings.code_page, tables=tables, qr=settings.qr)


def make_printer(settings: Any, *, port_override: int | None = None) -> ReceiptPrinter:
    """The printer the settings describe (a PrinterSettings from kiosk.config).

    In "simulated" mode the kiosk runs the VirtualEscposPrinter itself and passes the port it
    bound as ``port_override``; the printer is then driven exactly like a network printer.
    """
    mode = settings.mode
    width = dots_for_width_mm(settings.width_mm)
    timeout = float(settings.timeout_s)
    options = job_options(settings)
    if mode == "none":
        return NoPrinter(width, options)
    if mode in ("simulated", "network"):
        port = settings.port if port_override is None else port_override
        if not 0 < port < 65536:
            raise ValueError(
                f"printer port {port} is not usable: start the virtual printer first and "
                "pass the port it bound as port_override"
                if mode == "simulated"
                else f"printer port {port} is not a TCP port"
            )
        return EscposReceiptPrinter.network(
            settings.host, port, timeout_s=timeout, width_dots=width, options=options
        )
    if mode == "usb":
        return EscposReceiptPrinter.usb(
            settings.usb_vendor_id,
            settings.usb_product_id,
            timeout_s=timeout,
            width_dots=width,
            options=options,
        )
    if mode == "serial":
        return EscposReceiptPrinter.serial(
            settings.serial_device,
            baudrate=settings.baudrate,
            timeout_s=timeout,
            width_dots=width,
            options=options,
        )
    raise ValueError(f"unknown printer mode {mode!r}")


__all__ = [
    "EscposReceiptPrinter",
    "NoPrinter",
    "PaperState",
    "PrinterCoverOpen",
    "PrinterError",
    "PrinterFault",
    "PrinterOffline",
    "PrinterOutOfPaper",
    "PrinterStatus",
    "ReceiptPrinter",
    "escpos_profile",
    "job_options",
    "make_printer",
    "parse_status",
    "write_job",
]
