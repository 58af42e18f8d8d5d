"""The devices a configuration asks for: ``make_camera``, ``make_card_reader``, ``make_printer``.

The one place that picks the implementation behind each device interface, a real driver or
its simulator (devices/simulated/), from the settings the kiosk's config gives. The interface
modules know none of their implementations.
"""

from __future__ import annotations

from typing import Any

from devices.camera.interface import Camera, CameraSettingsLike, CameraUnavailable
from devices.camera.opencv import OpenCVCamera
from devices.card_reader.interface import CardReader, CardReaderSettingsLike, ReaderUnavailable
from devices.printer.blocks import dots_for_width_mm
from devices.printer.escpos import EscposReceiptPrinter
from devices.printer.escpos_job import JobOptions
from devices.printer.interface import NoPrinter, ReceiptPrinter


def job_options(settings: Any) -> JobOptions:
    """How jobs are composed, from ``[printer] code_page``, ``code_page_table`` and ``qr``."""
    tables: tuple[int, ...] | None = None
    if settings.code_page and settings.code_page_table:
        first = settings.code_page_table
        tables = (first, first + 1) if settings.code_page == "tcvn3" else (first,)
    return JobOptions(code_page=settings.code_page, tables=tables, qr=settings.qr)


def make_printer(settings: Any, *, port_override: int | None = None) -> ReceiptPrinter:
    """The printer the settings describe (a PrinterSettings from kiosk.config.settings).

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


def make_camera(settings: CameraSettingsLike) -> Camera:
    """The camera the settings describe: ``mode`` "opencv" or "simulated"."""
    if settings.mode == "opencv":
        return OpenCVCamera(settings.device, settings.width, settings.height)
    if settings.mode == "simulated":
        from devices.simulated.camera import SimulatedCamera

        return SimulatedCamera(settings.frames, settings.width, settings.height)
    raise CameraUnavailable(f"unknown camera mode {settings.mode!r} (opencv, simulated)")


def make_card_reader(settings: CardReaderSettingsLike) -> CardReader:
    """The reader the settings describe: ``mode`` "pcsc" or "simulated"."""
    if settings.mode == "simulated":
        from devices.simulated.card_reader import SimulatedCardReader
        from devices.simulated.profiles import build_chip, chip_profile

        try:
            chip_profile(settings.profile)
        except ValueError as exc:
            raise ReaderUnavailable(str(exc)) from exc
        pki_dir = getattr(settings, "test_pki_dir", None)
        if pki_dir is None:  # settings without a PKI folder: a bare chip (no files)
            return SimulatedCardReader(settings.profile)
        return SimulatedCardReader(
            settings.profile, card_factory=lambda: build_chip(settings.profile, pki_dir)
        )
    if settings.mode == "pcsc":
        try:
            from devices.card_reader.pcsc import PcscCardReader
        except ImportError as exc:  # pyscard or libpcsclite missing on this machine
            raise ReaderUnavailable(f"PC/SC support is not installed: {exc}") from exc
        return PcscCardReader(settings.reader)
    raise ReaderUnavailable(f"unknown card reader mode {settings.mode!r} (pcsc, simulated)")
