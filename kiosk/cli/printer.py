"""``kiosk printer …`` and ``kiosk receipt render``: the receipt printer from the command line.

    kiosk printer simulate [--host H] [--port P] [--out DIR] [--width-mm 58|80]
    kiosk printer status
    kiosk printer test-page [--png F.png] [--lang vi|en]
    kiosk receipt render (F.json | --sample [NAME] [--ticket] | --test-page) --png OUT.png
                         [--width-mm 58|80] [--lang vi|en] [--json OUT.json]

``receipt render`` prints with the real driver (``EscposReceiptPrinter.network``) into a
``VirtualEscposPrinter`` on loopback and saves the PNG that printer made of the bytes it
received: what is checked is what a printer would print, not the layout image.
``print_through_virtual_printer`` and ``render_to_png`` do that for other callers too.

Exit codes: 0 done (``status``: the printer is ready); 1 the printer is absent, silent or
refuses (out of paper, cover open, offline); 2 bad input: the command line, the kiosk config,
a receipt file. Every failure is one line on stderr, never a traceback (the driver's own log
lines about a failed job, which say the same, show with ``--log-level INFO``).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import IO, Any

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

#: Seconds the driver may take on loopback, and the wait for the virtual printer's page.
LOOPBACK_TIMEOUT_S = 10.0

WIDTHS_MM = (58, 80)

#: The driver's logger: what it logs on a failed job is what the command's one line says.
DRIVER_LOGGER = "devices.printer"

#: The names of kiosk/demo/receipts.py (not imported here: the parser is built for every
#: ``kiosk`` command, the layouts are slow to import); a test keeps the two in step.
SAMPLE_NAMES_HELP = "dak-lak (the default) or hue-2024"

SIMULATED_STATUS_HELP = (
    'In mode "simulated" the virtual printer lives inside the running kiosk (`kiosk run`) or '
    "in `kiosk printer simulate`, on [printer] host:port: status asks that one, so it tells "
    "whether the kiosk's printer answers. Nothing listening there is reported as not ready "
    "(exit 1); with port 0 the port is known only to the kiosk, and status says so."
)


# --------------------------------------------------------------------------- wiring


def add_printer_commands(sub: Any, common: Callable[..., None]) -> None:
    """``kiosk printer simulate | status | test-page``."""
    printer = sub.add_parser("printer", help="the receipt printer: simulate, status, test page")
    p_sub = printer.add_subparsers(dest="printer_command", required=True)

    simulate = p_sub.add_parser(
        "simulate",
        help="run a virtual ESC/POS printer on a TCP port until Ctrl-C",
        description="Run a virtual ESC/POS printer that decodes what it receives and writes "
        "each cut as receipt-NNNN.png. Defaults come from the kiosk config's [printer].",
    )
    common(simulate)
    simulate.add_argument("--host", help="address to listen on (default: [printer] host)")
    simulate.add_argument("--port", type=int, help="TCP port, 0 = any free (default: [printer])")
    simulate.add_argument("--out", help="folder for the PNGs (default: [printer] out_dir)")
    simulate.add_argument("--width-mm", type=int, choices=WIDTHS_MM, help="paper width")
    simulate.set_defaults(func=cmd_simulate)

    status = p_sub.add_parser(
        "status",
        help="ask the configured printer for its status (DLE EOT)",
        description="Ask the configured printer for its real-time status (DLE EOT 1, 2, 4) "
        "and print it. Exit 0 when ready, 1 when not (the reason on stderr), 2 when the "
        "config is wrong. " + SIMULATED_STATUS_HELP,
    )
    common(status)
    status.set_defaults(func=cmd_status)

    test_page = p_sub.add_parser(
        "test-page",
        help="print the staff test page on the configured printer",
        description="Print the staff test page (text sizes, Vietnamese letters, a QR) on the "
        'configured printer. In mode "simulated" a virtual printer is started for the '
        "command and its PNG goes into [printer] out_dir (or --png).",
    )
    common(test_page)
    test_page.add_argument("--png", help='mode "simulated": write the printed page here')
    test_page.add_argument("--lang", choices=("vi", "en"), default="vi")
    test_page.set_defaults(func=cmd_test_page)


def add_receipt_commands(sub: Any, common: Callable[..., None]) -> None:
    """``kiosk receipt render``; its ``--json OUT.json`` writes a file, so no ``common``."""
    del common  # --json here names the sample file to write, not "print JSON"
    receipt = sub.add_parser("receipt", help="receipts and queue tickets")
    r_sub = receipt.add_subparsers(dest="receipt_command", required=True)
    render = r_sub.add_parser(
        "render",
        help="print a receipt through a virtual printer to PNG",
        description="Print a receipt with the kiosk's ESC/POS driver into a virtual printer "
        "on loopback and save the PNG it printed.",
    )
    render.add_argument("file", nargs="?", help="receipt JSON (see --sample --json OUT.json)")
    render.add_argument(
        "--sample",
        nargs="?",
        const="",
        metavar="NAME",
        help="a sample receipt instead of a file: " + SAMPLE_NAMES_HELP,
    )
    render.add_argument("--ticket", action="store_true", help="with --sample: the queue ticket")
    render.add_argument("--test-page", action="store_true", help="the staff test page")
    render.add_argument("--png", help="the PNG to write")
    render.add_argument(
        "--json", dest="json_out", metavar="OUT.json", help="with --sample: write its JSON here"
    )
    render.add_argument(
        "--width-mm", type=int, choices=WIDTHS_MM, help="paper width (default: [printer])"
    )
    render.add_argument("--lang", choices=("vi", "en"), default="vi")
    render.add_argument(
        "--code-page",
        choices=("cp1258", "tcvn3"),
        help="send the text in this Vietnamese code page (default: all as one image)",
    )
    render.add_argument(
        "--qr", choices=("image", "native"), default="image", help="QR drawn or by GS ( k"
    )
    render.add_argument("--config", help="config file ($KIOSK_CONFIG, else config/kiosk.toml)")
    render.set_defaults(func=cmd_render)


# --------------------------------------------------------------------------- errors


class _Failed(Exception):
    """A command failed for a reason worth one line; ``code`` is the exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


def one_line(text: object) -> str:
    """``text`` with every run of white space (newlines too) made one space."""
    return " ".join(str(text).split())


def _usage(message: str) -> _Failed:
    return _Failed(message, EXIT_USAGE)


def _one_line_errors(func: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Turn the expected failures into one line on stderr and the documented exit code."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        from devices.printer.interface import PrinterError
        from kiosk.config.settings import ConfigError
        from kiosk.errors import KioskError

        try:
            with _driver_log_held():
                return func(args)
        except _Failed as exc:
            message, code = str(exc), exc.code
        except ConfigError as exc:
            issues = "; ".join(str(issue) for issue in exc.issues)
            message, code = f"invalid configuration: {issues}", EXIT_USAGE
        except PrinterError as exc:
            message, code = f"cannot print: {exc}", EXIT_FAILED
        except KioskError as exc:
            message, code = str(exc), EXIT_FAILED
        print(f"kiosk: {one_line(message)}", file=sys.stderr)
        return code

    return wrapper


@contextmanager
def _driver_log_held() -> Iterator[None]:
    """Hold the driver's log records while a command runs: on success they are logged as
    usual, on failure dropped, as the one line on stderr says the same. With ``--log-level
    INFO`` or lower nothing is held."""
    logger = logging.getLogger(DRIVER_LOGGER)
    if logging.getLogger().getEffectiveLevel() < logging.WARNING:
        yield
        return
    held: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = held.append  # type: ignore[method-assign]
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    done = False
    try:
        yield
        done = True
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
        for record in held if done else ():
            logger.handle(record)


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False) is True:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _config(args: argparse.Namespace) -> Any:
    from kiosk.config.settings import load_config

    return load_config(args.config)


# --------------------------------------------------------------------------- printing


def print_through_virtual_printer(
    blocks: Sequence[Any],
    width_dots: int,
    out_dir: Path,
    *,
    options: Any = None,
    timeout_s: float = LOOPBACK_TIMEOUT_S,
) -> Any:
    """Print ``blocks`` with the real driver into a VirtualEscposPrinter on loopback (port 0)
    writing into ``out_dir``; returns its PrintedReceipt (``png_path``: the PNG it made).

    ``options`` (devices.printer.escpos_job.JobOptions) picks text in a code page or native QR
    codes;
    None prints everything as one raster image, the driver's default.
    """
    from devices.printer.escpos import EscposReceiptPrinter
    from devices.simulated.escpos_printer import VirtualEscposPrinter

    with VirtualEscposPrinter("127.0.0.1", 0, out_dir, width_dots) as virtual:
        driver = EscposReceiptPrinter.network(
            "127.0.0.1", virtual.port, timeout_s=timeout_s, width_dots=width_dots, options=options
        )
        with driver:
            driver.print_layout(blocks)
        try:
            return virtual.wait_for_receipts(1, timeout_s)[0]
        except TimeoutError as exc:
            raise _Failed(f"the virtual printer printed nothing: {exc}") from None


def render_to_png(
    blocks: Sequence[Any],
    width_dots: int,
    png: Path,
    *,
    options: Any = None,
    timeout_s: float = LOOPBACK_TIMEOUT_S,
) -> Any:
    """``print_through_virtual_printer`` in a private folder, its PNG saved as ``png``."""
    with tempfile.TemporaryDirectory(prefix="kiosk-receipt-") as tmp:
        printed = print_through_virtual_printer(
            blocks, width_dots, Path(tmp), options=options, timeout_s=timeout_s
        )
        _write_file(png, printed.png_path.read_bytes())
    return replace(printed, png_path=png)


def _write_file(path: Path, data: bytes) -> None:
    """Write ``data`` whole or not at all (a temporary file renamed over ``path``)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise _Failed(f"cannot write {path}: {exc.strerror or exc}") from None


def _status_dict(st: Any) -> dict[str, Any]:
    return {
        "ready": st.ready,
        "online": st.online,
        "paper": st.paper,
        "cover_open": st.cover_open,
        "error": st.error,
        "detail": one_line(st.detail),
    }


def _describe(printer: Any, width_mm: int) -> str:
    what = getattr(printer, "description", "no printer")
    return f"{what} ({width_mm} mm, {printer.width_dots} dots)"


def _make_printer(cfg: Any) -> Any:
    """The configured printer's driver, built by the composition root; in simulated mode it
    talks to the virtual printer a running kiosk or ``kiosk printer simulate`` serves."""
    from kiosk.app.services import KioskParts

    try:
        return KioskParts(cfg).printer_driver()
    except ValueError as exc:
        raise _usage(f"[printer]: {exc}") from None


# --------------------------------------------------------------------------- printer commands


class _Announcement:
    """Stands in for stdout in ``serve``: turns its JSON "ready" line into a sentence."""

    def __init__(self, width_mm: int, out: IO[str]) -> None:
        self.width_mm = width_mm
        self.out = out
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)
            self._announce(line)
        return len(text)

    def flush(self) -> None:
        self.out.flush()

    def _announce(self, line: str) -> None:
        try:
            ready = json.loads(line)
            where = f"{ready['host']}:{ready['port']}"
            folder = ready["out"]
        except (ValueError, KeyError, TypeError):
            print(line, file=self.out)
            return
        print(
            f"virtual ESC/POS printer ({self.width_mm} mm) listening on {where}; "
            f"each cut is written to {folder}/receipt-NNNN.png. Ctrl-C stops it.",
            file=self.out,
            flush=True,
        )


@_one_line_errors
def cmd_simulate(args: argparse.Namespace) -> int:
    from devices.printer.blocks import dots_for_width_mm
    from devices.simulated.escpos_printer import serve

    cfg = _config(args) if None in (args.host, args.port, args.out, args.width_mm) else None
    host = args.host if args.host is not None else cfg.printer.host
    port = args.port if args.port is not None else cfg.printer.port
    width_mm = args.width_mm if args.width_mm is not None else cfg.printer.width_mm
    if not 0 <= port <= 65535:
        raise _usage("--port takes 0 to 65535")
    if args.out is not None:
        out_dir = Path(args.out)
    else:
        out_dir = Path(cfg.printer.out_dir or Path(cfg.kiosk.data_dir) / "printer")
    if out_dir.exists() and not out_dir.is_dir():
        raise _usage(f"--out {out_dir} is a file, not a folder")

    stop = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out: Any = sys.stdout if args.json else _Announcement(width_mm, sys.stdout)
    try:
        code = serve(host, port, out_dir, dots_for_width_mm(width_mm), stop=stop, out=out)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return code  # serve said why on stderr when it could not listen (exit 2)


@_one_line_errors
def cmd_status(args: argparse.Namespace) -> int:
    cfg = _config(args)
    settings = cfg.printer
    if settings.mode == "none":
        _emit(args, {"mode": "none", "ready": False}, "printer: none")
        raise _Failed('no printer configured ([printer] mode = "none")')
    if settings.mode == "simulated" and settings.port == 0:
        raise _Failed(
            'printer mode "simulated" with port 0: the kiosk\'s virtual printer takes a free '
            "port only the running kiosk knows; set [printer] port to ask it from here"
        )
    printer = _make_printer(cfg)
    with printer:
        st = printer.status()
    desc = _describe(printer, settings.width_mm)
    cover = "unknown" if st.cover_open is None else ("open" if st.cover_open else "closed")
    text = "\n".join(
        [
            f"printer: {desc}",
            f"online: {'yes' if st.online else 'no'}",
            f"paper: {st.paper.replace('_', ' ')}",
            f"cover: {cover}",
            f"detail: {one_line(st.detail)}",
        ]
    )
    _emit(args, {"printer": desc, "mode": settings.mode, **_status_dict(st)}, text)
    if st.ready:
        return EXIT_OK
    reason = one_line(st.detail)
    if settings.mode == "simulated" and not st.online:
        reason += (
            " (in simulated mode the virtual printer runs inside `kiosk run` or "
            "`kiosk printer simulate`: is one of them running?)"
        )
    raise _Failed(f"printer not ready: {reason}")


@_one_line_errors
def cmd_test_page(args: argparse.Namespace) -> int:
    from devices.printer.blocks import dots_for_width_mm
    from kiosk.printing.receipt import test_page_layout

    cfg = _config(args)
    settings = cfg.printer
    width_dots = dots_for_width_mm(settings.width_mm)
    blocks = test_page_layout(cfg.kiosk.id, width_dots, datetime.now(), lang=args.lang)
    if settings.mode == "none":
        raise _Failed('no printer configured ([printer] mode = "none")')
    if settings.mode == "simulated":
        from devices.factory import job_options

        options = job_options(settings)  # [printer] code_page and qr, as the kiosk prints
        if args.png:
            printed = render_to_png(blocks, width_dots, Path(args.png), options=options)
        else:
            out_dir = Path(settings.out_dir or Path(cfg.kiosk.data_dir) / "printer")
            printed = print_through_virtual_printer(blocks, width_dots, out_dir, options=options)
        payload = {"printer": "virtual (simulated)", "png": str(printed.png_path)}
        _emit(args, payload, f"test page printed by a virtual printer: {printed.png_path}")
        return EXIT_OK
    if args.png:
        raise _usage(
            f'--png is for [printer] mode "simulated"; a {settings.mode} printer prints on paper'
        )
    printer = _make_printer(cfg)
    with printer:
        st = printer.print_layout(blocks)
    desc = _describe(printer, settings.width_mm)
    payload = {"printer": desc, "printed": True, "status": _status_dict(st)}
    _emit(args, payload, f"test page sent to {desc}: {one_line(st.detail)}")
    return EXIT_OK


# --------------------------------------------------------------------------- receipt render


def _read_receipt(path: Path) -> Any:
    from kiosk.printing.receipt import ReceiptData, ReceiptDataError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _usage(f"{path}: no such file") from None
    except IsADirectoryError:
        raise _usage(f"{path}: is a folder, not a receipt JSON file") from None
    except OSError as exc:
        raise _usage(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return ReceiptData.from_json(raw)
    except (ReceiptDataError, ValueError, TypeError) as exc:
        raise _usage(f"{path}: {exc}") from None


def _check_render_args(args: argparse.Namespace) -> None:
    if args.ticket and args.sample is None:
        raise _usage("--ticket renders the sample queue ticket: use it with --sample")
    sources = [args.file is not None, args.sample is not None, args.test_page]
    if sum(sources) != 1:
        raise _usage("render one thing: a receipt JSON file, --sample or --test-page")
    if args.json_out and (args.sample is None or args.ticket):
        raise _usage("--json OUT.json writes the sample receipt's JSON: use it with --sample")
    if not args.png and not args.json_out:
        raise _usage("--png OUT.png is required: where to write the printed receipt")


@_one_line_errors
def cmd_render(args: argparse.Namespace) -> int:
    from PIL import Image

    from devices.printer.blocks import dots_for_width_mm
    from devices.printer.escpos_job import JobOptions
    from kiosk.demo.receipts import DEFAULT_SAMPLE, sample_receipt, sample_ticket
    from kiosk.printing.receipt import receipt_layout, test_page_layout, ticket_layout

    try:
        sample = None if args.sample is None else sample_receipt(args.sample or DEFAULT_SAMPLE)
    except ValueError as exc:
        raise _usage(str(exc)) from None
    _check_render_args(args)
    data = None
    if args.file is not None:
        data = _read_receipt(Path(args.file))
    elif not args.ticket:
        data = sample
    cfg = _config(args) if args.width_mm is None or args.test_page else None
    width_mm = args.width_mm if args.width_mm is not None else cfg.printer.width_mm
    width_dots = dots_for_width_mm(width_mm)

    lines: list[str] = []
    if args.json_out:
        json_out = Path(args.json_out)
        _write_file(json_out, (data.to_json() + "\n").encode("utf-8"))
        lines.append(f"{json_out}: the sample receipt's JSON, a template to edit and render")
    if not args.png:
        print("\n".join(lines))
        return EXIT_OK

    if args.test_page:
        blocks = test_page_layout(cfg.kiosk.id, width_dots, datetime.now(), lang=args.lang)
    elif args.ticket:
        blocks = ticket_layout(sample_ticket(), lang=args.lang)
    else:
        blocks = receipt_layout(data, lang=args.lang)
    options = JobOptions(code_page=args.code_page or "", qr=args.qr)
    printed = render_to_png(blocks, width_dots, Path(args.png), options=options)
    with Image.open(printed.png_path) as img:
        size = f"{img.width} x {img.height} dots, {width_mm} mm paper"
    lines.append(f"{printed.png_path}: printed through a virtual ESC/POS printer ({size})")
    if data is not None:
        lines.append(f"QR: {data.qr_payload()}")
    print("\n".join(lines))
    return EXIT_OK


__all__ = [
    "add_printer_commands",
    "add_receipt_commands",
    "one_line",
    "print_through_virtual_printer",
    "render_to_png",
]
