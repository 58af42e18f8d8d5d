"""Benchmark: what a receipt and a ticket cost to print, in each way ``[printer]`` allows.

    python bench/printer.py [--repeat 5] [--width-mm 80] [--json]

For the sample receipt and ticket (kiosk.demo.receipts) and each job mode (raster text with
the QR in the image, raster with the printer's native QR, TCVN-3 text with native QR,
Windows-1258 text with native QR) it measures:

* compose: building the job (rendering rasters, encoding text), median of ``--repeat`` runs;
* bytes: what goes down the wire (the real driver's bytes, captured with python-escpos' Dummy);
* round trip: the whole job through the real driver to the virtual printer on loopback,
  status before and after included (median);
* on the wire: the bytes' transfer time over a 9600 and a 115200 baud serial line (8N1,
  10 bits a byte) and a USB full-speed printer (about 1 MB/s in practice), computed.

The point of the last columns: raster receipts are some 100 KB, which a 9600 baud serial
printer takes minutes to receive; such a printer needs a higher baud rate or a code page.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from escpos.printer import Dummy  # noqa: E402

from devices.printer.blocks import dots_for_width_mm
from devices.printer.escpos import EscposReceiptPrinter, escpos_profile, write_job  # noqa: E402
from devices.printer.escpos_job import JobOptions, compose_job  # noqa: E402
from devices.simulated.escpos_printer import VirtualEscposPrinter  # noqa: E402
from kiosk.demo.receipts import sample_receipt, sample_ticket  # noqa: E402
from kiosk.printing.receipt import receipt_layout, ticket_layout  # noqa: E402

MODES = {
    "raster, QR image": JobOptions(),
    "raster, native QR": JobOptions(qr="native"),
    "tcvn3, native QR": JobOptions(code_page="tcvn3", qr="native"),
    "cp1258, native QR": JobOptions(code_page="cp1258", qr="native"),
}
USB_BYTES_PER_S = 1_000_000


def job_bytes(blocks: list, width: int, options: JobOptions) -> int:
    dummy = Dummy()
    dummy.profile = escpos_profile(width)
    write_job(dummy, compose_job(blocks, width, options).parts, cut=True)
    return len(dummy.output)


def measure(repeat: int, width_mm: int) -> list[dict[str, object]]:
    width = dots_for_width_mm(width_mm)
    layouts = {
        "receipt": receipt_layout(sample_receipt()),
        "ticket": ticket_layout(sample_ticket()),
    }
    rows: list[dict[str, object]] = []
    with VirtualEscposPrinter(out_dir=Path(tempfile.mkdtemp()), width_dots=width) as virtual:
        for layout_name, blocks in layouts.items():
            for mode, options in MODES.items():
                compose_s, trip_s = [], []
                for _ in range(repeat):
                    start = time.perf_counter()
                    compose_job(blocks, width, options)
                    compose_s.append(time.perf_counter() - start)
                    printer = EscposReceiptPrinter.network(
                        "127.0.0.1", virtual.port, timeout_s=5.0, width_dots=width, options=options
                    )
                    start = time.perf_counter()
                    printer.print_layout(blocks)
                    trip_s.append(time.perf_counter() - start)
                size = job_bytes(blocks, width, options)
                rows.append(
                    {
                        "layout": layout_name,
                        "mode": mode,
                        "compose_ms": round(statistics.median(compose_s) * 1000, 1),
                        "bytes": size,
                        "round_trip_ms": round(statistics.median(trip_s) * 1000, 1),
                        "serial_9600_s": round(size * 10 / 9600, 1),
                        "serial_115200_s": round(size * 10 / 115200, 2),
                        "usb_s": round(size / USB_BYTES_PER_S, 3),
                    }
                )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--width-mm", type=int, choices=(58, 80), default=80)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = measure(args.repeat, args.width_mm)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    head = (
        f"{'layout':8} {'mode':18} {'compose':>9} {'bytes':>8} {'round trip':>11} "
        f"{'9600 Bd':>8} {'115200 Bd':>10} {'USB':>7}"
    )
    print(f"{args.width_mm} mm paper, median of {args.repeat}")
    print(head)
    for r in rows:
        print(
            f"{r['layout']:8} {r['mode']:18} {r['compose_ms']:>7} ms {r['bytes']:>8} "
            f"{r['round_trip_ms']:>8} ms {r['serial_9600_s']:>6} s {r['serial_115200_s']:>8} s "
            f"{r['usb_s']:>5} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
