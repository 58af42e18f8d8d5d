"""The receipt printer behind a small interface, and its ESC/POS driver built on python-escpos.

Everything is printed as one raster image (``GS v 0``) rendered by ``kiosk.receipt``: that is
how Vietnamese prints correctly on any ESC/POS printer. Before each job the driver asks the
printer for its real-time status (``DLE EOT 1/2/4``) over the same connection and refuses to
print into a printer that is out of paper, has its cover open or does not answer. A printer
that says nothing is never taken to have paper.

    KioskError
     └── DeviceError                     (devices/base.py)
          ├── DeviceUnavailable
          │    └── PrinterOffline        no connection, no answer, or not configured
          └── PrinterError               the receipt could not be printed
               ├── PrinterOffline        (also a DeviceUnavailable)
               ├── PrinterOutOfPaper     the paper-end sensor is set
               └── PrinterCoverOpen      the cover is open

python-escpos, socket, pyserial and pyusb exceptions are converted here and do not leak.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
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
from kiosk.receipt import Block, dots_for_width_mm, render_layout

log = logging.getLogger(__name__)

PaperState = Literal["ok", "near_end", "out", "unknown"]

DLE_EOT = b"\x10\x04"
STATUS_PRINTER = 1  # DLE EOT 1: printer status
STATUS_OFFLINE_CAUSE = 2  # DLE EOT 2: offline cause
STATUS_PAPER = 4  # DLE EOT 4: roll paper sensor

# Bits of the DLE EOT answers (ESC/POS application programming guide).
FIXED_MASK = 0x93  # bits 0, 1, 4, 7 have fixed values in every answer ...
FIXED_VALUE = 0x12  # ... bit 1 and bit 4 set, bit 0 and bit 7 clear
BIT_OFFLINE = 0x08  # n=1, bit 3
BIT_COVER_OPEN = 0x04  # n=2, bit 2
BIT_PAPER_END_STOP = 0x20  # n=2, bit 5: printing stopped by paper end
BIT_ERROR = 0x40  # n=2, bit 6
BITS_NEAR_END = 0x0C  # n=4, bits 2-3: roll paper near-end sensor
BITS_PAPER_OUT = 0x60  # n=4, bits 5-6: roll paper end sensor

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


MSG_NO_PRINTER = "This kiosk has no printer. Your receipt is shown on screen."


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself; ``detail`` is English, for logs and staff."""

    online: bool
    paper: PaperState
    cover_open: bool | None
    detail: str

    @property
    def ready(self) -> bool:
        """True when a job may be sent: online, cover closed, paper not out."""
        return self.online and self.paper != "out" and self.cover_open is not True

    def raise_if_not_ready(self) -> None:
        """Raise the PrinterError that explains why the printer cannot print now."""
        if self.cover_open:
            raise PrinterCoverOpen(self.detail)
        if self.paper == "out":
            raise PrinterOutOfPaper(self.detail)
        if not self.online:
            raise PrinterOffline(self.detail)


def _valid(byte: int | None) -> bool:
    return byte is not None and byte & FIXED_MASK == FIXED_VALUE


def parse_status(
    printer: int | None, offline_cause: int | None, paper: int | None, *, source: str = ""
) -> PrinterStatus:
    """Interpret the answers to DLE EOT 1, 2 and 4 (None where the printer did not answer)."""
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
        problems.append("printer error")
    if not online and not problems:
        problems.append("printer reports itself offline")
    if cover is None:
        problems.append("offline cause did not answer")
    detail = ("ready" if online else "offline") + (": " + ", ".join(problems) if problems else "")
    return PrinterStatus(online, state, cover, where + detail)


def escpos_profile(width_dots: int) -> Any:
    """python-escpos' default (Epson-compatible) profile, told the paper's width in dots."""
    profile = get_profile("default")
    data = copy.deepcopy(profile.profile_data)
    data["media"]["width"]["pixels"] = width_dots
    data["media"]["dpi"] = 203
    profile.profile_data = data  # an instance attribute: the shared class data stays intact
    return profile


def write_job(printer: Escpos, img: Image.Image, *, cut: bool) -> None:
    """The bytes of one job: ESC @, the image as GS v 0 (centred), then feed and cut."""
    printer.hw("INIT")
    printer.image(img, impl="bitImageRaster", center=True)
    if cut:
        printer.cut()


class ReceiptPrinter(ABC):
    """A printer for receipts and tickets; ``width_dots`` is the printable width."""

    def __init__(self, width_dots: int) -> None:
        self.width_dots = width_dots

    @abstractmethod
    def print_image(self, img: Image.Image, *, cut: bool = False) -> PrinterStatus:
        """Print a raster image; returns the status read before printing. Raises PrinterError."""

    def print_layout(self, blocks: Sequence[Block]) -> PrinterStatus:
        """Render a layout at this printer's width, print it and cut the paper."""
        return self.print_image(render_layout(blocks, self.width_dots), cut=True)

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
    ) -> None:
        super().__init__(width_dots)
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
        )

    @classmethod
    def serial(
        cls,
        device: str,
        *,
        baudrate: int = 9600,
        timeout_s: float = 5.0,
        width_dots: int = 576,
        status_timeout_s: float | None = None,
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
        return parse_status(first, cause, paper, source=self.description)

    def status(self) -> PrinterStatus:
        try:
            with self._session() as printer:
                return self._read_status(printer)
        except PrinterError as exc:
            return PrinterStatus(False, "unknown", None, str(exc))

    def print_image(self, img: Image.Image, *, cut: bool = False) -> PrinterStatus:
        if img.width > self.width_dots:
            raise PrinterError(
                f"{self.description}: image is {img.width} dots wide, the paper {self.width_dots}"
            )
        with self._session() as printer:
            st = self._read_status(printer)
            if not st.ready:
                log.warning("not printing on %s: %s", self.description, st.detail)
            st.raise_if_not_ready()
            write_job(printer, img, cut=cut)
        return st


class NoPrinter(ReceiptPrinter):
    """Mode "none": the kiosk has no printer; receipts are shown on screen only."""

    DETAIL = "no printer configured (printer mode none)"

    def print_image(self, img: Image.Image, *, cut: bool = False) -> PrinterStatus:
        raise PrinterOffline(self.DETAIL, msgid=MSG_NO_PRINTER)

    def status(self) -> PrinterStatus:
        return PrinterStatus(False, "unknown", None, self.DETAIL)

    def health(self) -> Health:
        return Health(HEALTH_NAME, False, "not configured")


def make_printer(settings: Any, *, port_override: int | None = None) -> ReceiptPrinter:
    """The printer the settings describe (a PrinterSettings from kiosk.config).

    In "simulated" mode the kiosk runs the VirtualEscposPrinter itself and passes the port it
    bound as ``port_override``; the printer is then driven exactly like a network printer.
    """
    mode = settings.mode
    width = dots_for_width_mm(settings.width_mm)
    timeout = float(settings.timeout_s)
    if mode == "none":
        return NoPrinter(width)
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
            settings.host, port, timeout_s=timeout, width_dots=width
        )
    if mode == "usb":
        return EscposReceiptPrinter.usb(
            settings.usb_vendor_id, settings.usb_product_id, timeout_s=timeout, width_dots=width
        )
    if mode == "serial":
        return EscposReceiptPrinter.serial(
            settings.serial_device, timeout_s=timeout, width_dots=width
        )
    raise ValueError(f"unknown printer mode {mode!r}")


__all__ = [
    "EscposReceiptPrinter",
    "NoPrinter",
    "PaperState",
    "PrinterCoverOpen",
    "PrinterError",
    "PrinterOffline",
    "PrinterOutOfPaper",
    "PrinterStatus",
    "ReceiptPrinter",
    "escpos_profile",
    "make_printer",
    "parse_status",
    "write_job",
]
