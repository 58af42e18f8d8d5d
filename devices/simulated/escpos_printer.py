"""A virtual ESC/POS receipt printer on a TCP port: it decodes what it receives and prints PNGs.

Any ESC/POS client (the kiosk's driver over python-escpos, ``nc``, a POS program) connects to
it as to a network printer on port 9100. Each cut produces ``out_dir/receipt-NNNN.png`` and a
``PrintedReceipt`` in ``.receipts``; real-time status requests (``DLE EOT n``, ``GS r n``) are
answered at once with the bits of the ESC/POS specification, from a state that tests and the
staff screen can change: paper ok / near end / out, cover open, online or silent, a roll that
runs out after so many millimetres, a jam on the next job (the bytes are taken, nothing is
printed, and the printer reports an autocutter error until ``clear_error``). ``GS r`` is
answered in stream order, after the data before it, as a real printer does; a printer in error
stops processing and leaves it unanswered.

    printer = VirtualEscposPrinter(out_dir=Path("out")).start()   # printer.port: bound port
    ...
    printer.stop()

``serve()`` runs it in the foreground for ``kiosk printer simulate --port P --out DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import re
import select
import selectors
import socket
import sys
import tempfile
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, TextIO

from PIL import Image

from devices.printer.blocks import dots_for_width_mm
from devices.simulated.escpos_decoder import EscposDecoder, Page, render_page

log = logging.getLogger(__name__)

PaperState = Literal["ok", "near_end", "out"]

_FIXED = 0x12  # bits 1 and 4 are always set in a DLE EOT answer
_RECEIPT_NAME = re.compile(r"^receipt-(\d{4,})\.png$")


@dataclass(frozen=True)
class PrintedReceipt:
    """One cut of paper: its PNG, its decoded text lines, its images and QR payloads."""

    number: int
    png_path: Path
    text: list[str]
    images: int
    qr_payloads: list[str]
    cut: bool  # False: the connection ended without a cut
    rasters: tuple[Image.Image, ...]  # the images as received, black = printed dot

    def raster(self) -> Image.Image | None:
        """The received images stacked top to bottom (one receipt sent as GS v 0 fragments)."""
        if not self.rasters:
            return None
        width = max(r.width for r in self.rasters)
        out = Image.new("1", (width, sum(r.height for r in self.rasters)), 1)
        y = 0
        for r in self.rasters:
            out.paste(r, (0, y))
            y += r.height
        return out


class VirtualEscposPrinter:
    """A thread-served ESC/POS printer on ``host:port`` (port 0: any free port, see ``.port``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        out_dir: Path | None = None,
        width_dots: int = 576,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.out_dir = Path(out_dir) if out_dir else Path(tempfile.mkdtemp(prefix="vprinter-"))
        self.width_dots = width_dots
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._paper: PaperState = "ok"
        self._cover_open = False
        self._online = True
        self._jam_next = False
        self._error = False
        self._paper_left_mm: float | None = None
        self._receipts: list[PrintedReceipt] = []
        self._next_number = 1
        self._commands: deque[str] = deque(maxlen=20000)
        self._dropped_bytes = 0
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._conns: dict[socket.socket, threading.Thread] = {}
        self._stopping = threading.Event()

    # ---- life cycle

    @property
    def port(self) -> int:
        """The TCP port bound (after ``start``)."""
        if self._listener is None:
            raise RuntimeError("the virtual printer is not started")
        return int(self._listener.getsockname()[1])

    def start(self) -> VirtualEscposPrinter:
        """Bind, listen and serve in background threads; returns self."""
        if self._listener is not None:
            raise RuntimeError("the virtual printer is already started")
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._next_number = _next_free_number(self.out_dir)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self._requested_port))
        except OSError:
            listener.close()
            raise
        listener.listen(8)
        self._listener = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping.clear()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"vprinter-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()
        log.info("virtual printer on %s:%d, receipts to %s", self.host, self.port, self.out_dir)
        return self

    def stop(self) -> None:
        """Stop accepting, close every connection, wait for the threads."""
        if self._listener is None:
            return
        self._stopping.set()
        assert self._wake_w is not None
        self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        with self._lock:
            conns = dict(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in conns.values():
            thread.join(timeout=5)
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._wake_r = self._wake_w = None
        self._accept_thread = None

    def __enter__(self) -> VirtualEscposPrinter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- state a test or the staff screen changes

    def set_paper(self, state: PaperState) -> None:
        """Paper "ok", "near_end" (still prints) or "out" (stops printing)."""
        if state not in ("ok", "near_end", "out"):
            raise ValueError(f"paper state {state!r} is not ok, near_end or out")
        with self._lock:
            self._paper = state

    def set_cover_open(self, is_open: bool) -> None:
        """Open (stops printing) or close the cover."""
        with self._lock:
            self._cover_open = bool(is_open)

    def set_online(self, online: bool) -> None:
        """Offline: the printer accepts connections but answers nothing and drops all data."""
        with self._lock:
            self._online = bool(online)

    def jam_next_job(self) -> None:
        """The next job is taken but not printed; the printer then reports an error."""
        with self._lock:
            self._jam_next = True

    def clear_error(self) -> None:
        """Staff cleared the jam: the printer is ready again."""
        with self._lock:
            self._error = self._jam_next = False

    def set_paper_left(self, mm: float | None) -> None:
        """The roll runs out after ``mm`` millimetres of printing (None: never)."""
        with self._lock:
            self._paper_left_mm = mm

    # ---- what was printed

    @property
    def receipts(self) -> list[PrintedReceipt]:
        """Every receipt printed since start, oldest first."""
        with self._lock:
            return list(self._receipts)

    @property
    def command_log(self) -> list[str]:
        """The names of the commands decoded ("ESC @", "GS v 0", "DLE EOT 1", "text", ...)."""
        with self._lock:
            return list(self._commands)

    @property
    def dropped_bytes(self) -> int:
        """Bytes received while offline, thrown away."""
        with self._lock:
            return self._dropped_bytes

    def wait_for_receipts(self, count: int, timeout_s: float = 10.0) -> list[PrintedReceipt]:
        """Block until at least ``count`` receipts exist; raises TimeoutError otherwise."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._receipts) >= count, timeout_s):
                raise TimeoutError(
                    f"{len(self._receipts)} receipt(s) printed, {count} expected "
                    f"within {timeout_s} s"
                )
            return list(self._receipts)

    def wait_idle(self, timeout_s: float = 10.0) -> None:
        """Block until every client has disconnected and all it sent has been handled."""

        def idle() -> bool:
            if self._conns or self._listener is None:
                return not self._conns
            # a client that connected and left before being accepted still waits in the backlog
            readable, _, _ = select.select([self._listener], [], [], 0)
            return not readable

        with self._changed:
            if not self._changed.wait_for(idle, timeout_s):
                raise TimeoutError(f"{len(self._conns)} connection(s) still open")

    def status_reply(self, kind: str, n: int) -> bytes | None:
        """The answer to a status request, from the current state (None: say nothing)."""
        with self._lock:
            if not self._online:
                return None
            paper, cover, error = self._paper, self._cover_open, self._error
        stopped = cover or paper == "out" or error
        near = paper in ("near_end", "out")
        if kind == "DLE EOT":
            if n == 1:  # printer status: bit 3 offline
                return bytes([_FIXED | (0x08 if stopped else 0)])
            if n == 2:  # offline cause: bit 2 cover open, bit 5 stopped by paper end, 6 error
                return bytes(
                    [
                        _FIXED
                        | (0x04 if cover else 0)
                        | (0x20 if paper == "out" else 0)
                        | (0x40 if error else 0)
                    ]
                )
            if n == 3:  # error cause: bit 3 autocutter error (the jam)
                return bytes([_FIXED | (0x08 if error else 0)])
            if n == 4:  # roll paper sensor: bits 2-3 near end, bits 5-6 paper end
                return bytes([_FIXED | (0x0C if near else 0) | (0x60 if paper == "out" else 0)])
            return None
        if kind == "GS r":
            if error:  # processing stopped: commands in the buffer wait
                return None
            if n in (1, 49):  # paper sensor: bits 0-1 near end, bits 2-3 paper end
                return bytes([(0x03 if near else 0) | (0x0C if paper == "out" else 0)])
            if n in (2, 50):  # drawer kick-out connector
                return b"\x00"
            return None
        if kind == "ASB":  # four bytes of automatic status back
            first = 0x10 | (0x08 if stopped else 0) | (0x20 if cover else 0)
            third = (0x03 if near else 0) | (0x0C if paper == "out" else 0)
            return bytes([first, 0x00, third, 0x0F])
        return None

    # ---- serving

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in sel.select():
                    if key.fileobj is self._wake_r or self._stopping.is_set():
                        return
                    with self._lock:  # accepted and registered at once: see wait_idle
                        try:
                            conn, peer = self._listener.accept()
                        except OSError as exc:
                            log.warning("accept failed: %s", exc)
                            continue
                        thread = threading.Thread(
                            target=self._serve_connection,
                            args=(conn, peer),
                            name=f"vprinter-conn-{peer[1]}",
                            daemon=True,
                        )
                        self._conns[conn] = thread
                    thread.start()

    def _serve_connection(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        log.debug("connection from %s:%d", *peer)

        def respond(data: bytes) -> None:
            try:
                conn.sendall(data)
            except OSError as exc:
                log.info("could not answer %s:%d: %s", peer[0], peer[1], exc)

        decoder = EscposDecoder(
            self.width_dots,
            on_page=self._page_done,
            respond=respond,
            status=self.status_reply,
            on_command=self._record_command,
        )
        try:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                with self._lock:
                    online = self._online
                    if not online:
                        self._dropped_bytes += len(data)
                if online:
                    decoder.feed(data)
            page = decoder.flush()
            if page is not None:
                self._page_done(page)
        except Exception:  # a bug in the decoder must not kill the printer
            log.exception("virtual printer: connection from %s:%d failed", *peer)
        finally:
            conn.close()
            with self._changed:
                self._conns.pop(conn, None)
                self._changed.notify_all()

    def _record_command(self, name: str) -> None:
        with self._lock:
            self._commands.append(name)

    def _page_done(self, page: Page) -> None:
        with self._lock:
            paper, cover, error = self._paper, self._cover_open, self._error
            jam, self._jam_next = self._jam_next, False
            if jam:
                self._error = True
        if paper == "out" or cover or error:
            log.warning("virtual printer: paper out, cover open or error: page not printed")
            return
        if jam:
            log.warning("virtual printer: paper jam, page not printed")
            return
        image = render_page(page, self.width_dots)
        with self._lock:
            if self._paper_left_mm is not None:
                length_mm = image.height / 8  # 203 dpi: 8 dots a millimetre
                if length_mm > self._paper_left_mm:
                    self._paper, self._paper_left_mm = "out", 0.0
                    log.warning("virtual printer: paper ran out %.0f mm into a page", length_mm)
                    return
                self._paper_left_mm -= length_mm
        with self._changed:
            number = self._next_number
            self._next_number += 1
            path = self.out_dir / f"receipt-{number:04d}.png"
            image.save(path)
            receipt = PrintedReceipt(
                number=number,
                png_path=path,
                text=page.text,
                images=len(page.images),
                qr_payloads=page.qr_payloads,
                cut=page.cut is not None,
                rasters=tuple(page.images),
            )
            self._receipts.append(receipt)
            self._changed.notify_all()
        log.info("virtual printer: %s (%d text lines)", path.name, len(receipt.text))


def _next_free_number(out_dir: Path) -> int:
    numbers = [int(m.group(1)) for p in out_dir.iterdir() if (m := _RECEIPT_NAME.match(p.name))]
    return max(numbers, default=0) + 1


def serve(
    host: str,
    port: int,
    out_dir: Path,
    width_dots: int = 576,
    *,
    stop: threading.Event | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run a virtual printer until Ctrl-C (or ``stop`` is set); prints one JSON line when ready."""
    stop = stop or threading.Event()
    printer = VirtualEscposPrinter(host, port, out_dir, width_dots)
    try:
        printer.start()
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        ready = {"host": host, "port": printer.port, "out": str(printer.out_dir.resolve())}
        print(json.dumps(ready), file=out, flush=True)
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        printer.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m devices.simulated.escpos_printer --port 9100 --out DIR``."""
    parser = argparse.ArgumentParser(description="A virtual ESC/POS printer on a TCP port.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--out", type=Path, required=True, help="folder for receipt PNGs")
    parser.add_argument("--width-mm", type=int, choices=(58, 80), default=80)
    args = parser.parse_args(argv)
    return serve(args.host, args.port, args.out, dots_for_width_mm(args.width_mm))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
