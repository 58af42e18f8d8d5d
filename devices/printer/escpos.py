"""The ESC/POS driver of ``ReceiptPrinter``, built on python-escpos (network, USB, serial).

A layout becomes one job (devices/printer/escpos_job.py): by default all text is a raster image
(``GS v 0``) typeset by devices/printer/raster.py, which is how Vietnamese prints correctly on
any ESC/POS printer; a Vietnamese code page of the printer (``cp1258``, ``tcvn3``) and the
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

python-escpos, socket, pyserial and pyusb exceptions are converted to the errors of
devices/printer/interface.py and do not leak.
"""

from __future__ import annotations

import copy
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from escpos import exceptions as escpos_errors
from escpos.capabilities import get_profile
from escpos.escpos import Escpos
from escpos.printer import Network, Serial, Usb

from devices.printer.escpos_job import (
    JobOptions,
    JobPart,
    NativeQRPart,
    RasterPart,
    RawPart,
)
from devices.printer.interface import (
    BIT_ERROR,
    BIT_OFFLINE,
    DLE_EOT,
    GS_R_FIXED_MASK,
    GS_R_PAPER,
    GS_R_PAPER_END,
    STATUS_ERROR_CAUSE,
    STATUS_OFFLINE_CAUSE,
    STATUS_PAPER,
    STATUS_PRINTER,
    PrinterError,
    PrinterFault,
    PrinterOffline,
    PrinterOutOfPaper,
    PrinterStatus,
    ReceiptPrinter,
    is_status_byte,
    parse_status,
)

log = logging.getLogger(__name__)


#: How fast the slowest supported printer feeds paper, in dots (1/8 mm) per second: 50 mm/s.
SLOWEST_FEED_DOTS_PER_S = 400


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
        if not is_status_byte(first):  # silent or garbled: do not wait twice more
            return parse_status(first, None, None, source=self.description)
        cause = self._query(printer, STATUS_OFFLINE_CAUSE)
        paper = self._query(printer, STATUS_PAPER)
        error_cause = None
        if is_status_byte(cause) and cause is not None and cause & BIT_ERROR:
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
            elif is_status_byte(byte) and byte & BIT_OFFLINE:
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
