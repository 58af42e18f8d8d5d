"""What the queue screen costs: the waiting figures (``QueueJourney.load``) against a ticket
store holding N waiting tickets, and the printer's status query (``ReceiptPrinter.status``)
against a ready, an out-of-paper, a silent and an unreachable printer.

    .venv/bin/python bench/queue_screen.py
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere: the project's packages first

from devices.printer.escpos import EscposReceiptPrinter  # noqa: E402
from devices.simulated.escpos_printer import VirtualEscposPrinter  # noqa: E402
from kiosk.app.launch import make_session  # noqa: E402
from kiosk.app.services import build_services  # noqa: E402
from kiosk.config.settings import load_config  # noqa: E402
from kiosk.flow.kiosk_flow import KioskFlow  # noqa: E402


def ms(fn, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return sorted(out)


def figures() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = load_config(None, env={"KIOSK_KIOSK_DATA_DIR": tmp, "KIOSK_PRINTER_PORT": "0"})
        services = build_services(cfg)
        try:
            flow = KioskFlow(make_session(cfg), services)
            codes = sorted({s for c in services.tickets.config.counters for s in c.services})
            i = 0
            for target in (0, 50, 300):
                while sum(services.tickets.waiting_by_service().values()) < target:
                    services.tickets.issue(codes[i % len(codes)], "elderly" if i % 7 == 0 else None)
                    i += 1
                runs = ms(flow.queue.load, 50)
                services_shown = len(flow.queue.services_for_queue())
                print(
                    f"queue load, {target:3d} waiting, {services_shown} services: "
                    f"median {statistics.median(runs):.2f} ms, "
                    f"p95 {runs[int(0.95 * len(runs))]:.2f} ms"
                )
        finally:
            services.close()


def printer_status() -> None:
    with VirtualEscposPrinter() as virtual:
        printer = EscposReceiptPrinter.network("127.0.0.1", virtual.port, timeout_s=3.0)
        for label, setup in (
            ("ready", lambda: None),
            ("out of paper", lambda: virtual.set_paper("out")),
            ("silent (connects, answers nothing)", lambda: virtual.set_online(False)),
        ):
            setup()
            print(f"status, {label}: {ms(printer.status)[0]:.1f} ms")
    # a printer whose TCP handshake never completes: a listener with a full backlog
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fill = []
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                s.connect(("127.0.0.1", port))
            fill.append(s)
        time.sleep(0.2)
        printer = EscposReceiptPrinter.network("127.0.0.1", port, timeout_s=3.0)
        print(f"status, unreachable (timeout_s 3): {ms(printer.status)[0]:.1f} ms")
        for s in fill:
            s.close()


if __name__ == "__main__":
    figures()
    printer_status()
