"""The ESC/POS printer driver: exact bytes, status bits, refusal to print, end to end on TCP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from escpos.printer import Dummy
from PIL import Image, ImageChops
from support.net_helpers import free_port, silent_server

from devices.base import DeviceError, DeviceUnavailable, Health
from devices.factory import make_printer
from devices.printer.blocks import TextBlock
from devices.printer.escpos import EscposReceiptPrinter, escpos_profile, write_job
from devices.printer.escpos_job import RasterPart
from devices.printer.interface import (
    MSG_NO_PRINTER,
    NoPrinter,
    PrinterCoverOpen,
    PrinterError,
    PrinterOffline,
    PrinterOutOfPaper,
    PrinterStatus,
    parse_status,
)
from devices.printer.raster import render_layout
from devices.simulated.escpos_printer import VirtualEscposPrinter
from kiosk.config.settings import PrinterSettings
from kiosk.printing.receipt import ReceiptData, receipt_layout

STATUS_TIMEOUT = 0.3


def sample_receipt() -> ReceiptData:
    return ReceiptData(
        agency_name="UBND phường Hồng Hà",
        agency_code="000.00.08.H21",
        procedure_name="Đăng ký khai sinh",
        procedure_code="1.001193",
        dossier_code="000.00.08.H21-261124-0001",
        applicant_name="Nguyễn Văn Ộ",
        applicant_id="001203004567",
        documents=["Tờ khai đăng ký khai sinh"],
        fee_vnd=0,
        received_at=datetime(2024, 11, 26, 8, 15),
        appointment_date=date(2024, 12, 3),
        kiosk_id="K01",
        tracking_hint="Tra cứu tại ki-ốt bằng mã hồ sơ",
    )


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualEscposPrinter]:
    with VirtualEscposPrinter(out_dir=tmp_path / "printed") as printer:
        yield printer


def network_printer(port: int, width_dots: int = 576) -> EscposReceiptPrinter:
    return EscposReceiptPrinter.network(
        "127.0.0.1", port, timeout_s=5, width_dots=width_dots, status_timeout_s=STATUS_TIMEOUT
    )


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A printer that accepts, reads everything and never answers."""
    with silent_server() as port:
        yield port


def striped(width: int, height: int) -> Image.Image:
    """Black 8-dot blocks on the first row, then white: easy to predict in raster bytes."""
    img = Image.new("1", (width, height), 1)
    for x in range(0, 8):
        img.putpixel((x, 0), 0)
    img.putpixel((width - 1, height - 1), 0)
    return img


# ----------------------------------------------------------------- exact bytes


def test_job_bytes_are_init_raster_feed_and_cut() -> None:
    dummy = Dummy()
    dummy.profile = escpos_profile(576)
    write_job(dummy, [RasterPart(striped(576, 10))], cut=True)
    raster = bytearray(72 * 10)
    raster[0] = 0xFF  # dots 0-7 of row 0
    raster[-1] = 0x01  # the last dot of the last row
    expected = (
        b"\x1b\x40"  # ESC @
        + b"\x1d\x76\x30\x00"  # GS v 0, normal density
        + b"\x48\x00\x0a\x00"  # 72 bytes wide, 10 rows
        + bytes(raster)
        + b"\x1b\x64\x06"  # ESC d 6: feed past the cutter
        + b"\x1d\x56\x00"  # GS V 0: full cut
    )
    assert dummy.output == expected


def test_narrow_image_is_centred_on_the_paper_and_no_cut_when_not_asked() -> None:
    dummy = Dummy()
    dummy.profile = escpos_profile(384)
    write_job(dummy, [RasterPart(striped(16, 2))], cut=False)
    out = dummy.output
    assert out[:10] == b"\x1b\x40\x1d\x76\x30\x00\x30\x00\x02\x00"  # 48 bytes = 384 dots
    data = out[10:]
    assert len(data) == 48 * 2
    # (384 - 16) / 2 = 184: the image covers dots 184..199, i.e. bytes 23 and 24 of each row
    assert data[:48] == bytes(23) + b"\xff" + bytes(24)
    assert data[48:] == bytes(24) + b"\x01" + bytes(23)
    assert b"\x1d\x56" not in out


def test_tall_image_is_sent_in_fragments() -> None:
    dummy = Dummy()
    dummy.profile = escpos_profile(576)
    write_job(dummy, [RasterPart(Image.new("1", (576, 1000), 1))], cut=True)
    assert dummy.output.count(b"\x1d\x76\x30\x00\x48\x00") == 2
    assert b"\x1d\x76\x30\x00\x48\x00\xc0\x03" in dummy.output  # 960 rows
    assert b"\x1d\x76\x30\x00\x48\x00\x28\x00" in dummy.output  # 40 rows


def test_profile_width_does_not_leak_into_the_shared_profile() -> None:
    escpos_profile(384)
    assert Dummy().profile.profile_data["media"]["width"]["pixels"] == "Unknown"


# ----------------------------------------------------------------- status bits


@pytest.mark.parametrize(
    ("answers", "online", "paper", "cover"),
    [
        ((0x12, 0x12, 0x12), True, "ok", False),
        ((0x12, 0x12, 0x1E), True, "near_end", False),
        ((0x1A, 0x32, 0x72), False, "out", False),
        ((0x1A, 0x32, 0x7E), False, "out", False),
        ((0x1A, 0x16, 0x12), False, "ok", True),
        ((0x1A, 0x12, 0x12), False, "ok", False),
        ((0x12, None, None), True, "unknown", None),
        ((None, None, None), False, "unknown", None),
        ((0xFF, 0x12, 0x12), False, "unknown", None),  # fixed bits wrong: not believed
    ],
)
def test_status_bits(answers: tuple, online: bool, paper: str, cover: bool | None) -> None:
    st = parse_status(*answers)
    assert (st.online, st.paper, st.cover_open) == (online, paper, cover)


def test_status_detail_and_readiness() -> None:
    assert parse_status(None, None, None, source="net").detail == "net: no answer to DLE EOT 1"
    assert parse_status(0x12, 0x12, 0x1E).ready
    assert not parse_status(0x1A, 0x16, 0x12).ready
    with pytest.raises(PrinterCoverOpen):
        parse_status(0x1A, 0x36, 0x72).raise_if_not_ready()  # cover first, then paper
    with pytest.raises(PrinterOutOfPaper):
        parse_status(0x1A, 0x32, 0x72).raise_if_not_ready()
    with pytest.raises(PrinterOffline):
        parse_status(None, None, None).raise_if_not_ready()


# ----------------------------------------------------------------- end to end on TCP


def test_receipt_prints_on_the_virtual_printer_pixel_for_pixel(
    virtual: VirtualEscposPrinter,
) -> None:
    printer = network_printer(virtual.port)
    blocks = receipt_layout(sample_receipt())
    sent = render_layout(blocks, 576)
    status = printer.print_layout(blocks)
    assert status == PrinterStatus(True, "ok", False, status.detail)
    (receipt,) = virtual.wait_for_receipts(1)
    assert receipt.cut and receipt.png_path.exists()
    png = Image.open(receipt.png_path)
    assert png.width == 576
    raster = receipt.raster()
    assert raster is not None and raster.size == sent.size
    assert ImageChops.difference(raster.convert("L"), sent.convert("L")).getbbox() is None
    top = png.convert("L").crop((0, 0, 576, sent.height))
    assert ImageChops.difference(top, sent.convert("L")).getbbox() is None
    assert png.height > sent.height  # the feed before the cut


def test_58mm_printer_prints_384_dots(virtual: VirtualEscposPrinter) -> None:
    printer = network_printer(virtual.port, width_dots=384)
    printer.print_layout([TextBlock("Nguyễn Văn Ộ — Ngày hẹn trả kết quả")])
    (receipt,) = virtual.wait_for_receipts(1)
    raster = receipt.raster()
    assert raster is not None and raster.width == 384


@pytest.mark.parametrize(
    ("paper", "cover", "online", "expected_paper", "expected_cover"),
    [
        ("ok", False, True, "ok", False),
        ("near_end", False, True, "near_end", False),
        ("out", False, False, "out", False),
        ("ok", True, False, "ok", True),
    ],
)
def test_status_from_the_virtual_printer(
    virtual: VirtualEscposPrinter,
    paper: str,
    cover: bool,
    online: bool,
    expected_paper: str,
    expected_cover: bool,
) -> None:
    virtual.set_paper(paper)  # type: ignore[arg-type]
    virtual.set_cover_open(cover)
    st = network_printer(virtual.port).status()
    assert (st.online, st.paper, st.cover_open) == (online, expected_paper, expected_cover)
    assert network_printer(virtual.port).health() == Health("printer", online, st.detail)


def test_silent_printer_is_offline_with_paper_unknown(silent_port: int) -> None:
    printer = network_printer(silent_port)
    st = printer.status()
    assert st == PrinterStatus(False, "unknown", None, st.detail)
    assert "no answer to DLE EOT 1" in st.detail
    with pytest.raises(PrinterOffline) as info:
        printer.print_layout([TextBlock("x")])
    assert "no answer" in str(info.value)


def test_nothing_listening_is_offline(tmp_path: Path) -> None:
    printer = network_printer(free_port())
    st = printer.status()
    assert not st.online and st.paper == "unknown"
    assert "network 127.0.0.1" in st.detail
    with pytest.raises(PrinterOffline) as info:
        printer.print_layout([TextBlock("x")])
    err = info.value
    assert isinstance(err, DeviceUnavailable) and isinstance(err, DeviceError)
    assert err.user_message() == (
        "The printer is not working right now. "
        "Your receipt is shown on screen; staff have been alerted."
    )


def test_out_of_paper_refuses_before_printing_anything(virtual: VirtualEscposPrinter) -> None:
    printer = network_printer(virtual.port)
    blocks = receipt_layout(sample_receipt())
    virtual.set_paper("out")
    with pytest.raises(PrinterOutOfPaper) as info:
        printer.print_layout(blocks)
    assert info.value.user_message() == (
        "The printer is out of paper. Your receipt is shown on screen; staff have been alerted."
    )
    virtual.wait_idle()
    assert virtual.command_log == ["DLE EOT 1", "DLE EOT 2", "DLE EOT 4"]
    # staff reload the paper: the same receipt prints, once
    virtual.set_paper("ok")
    printer.print_layout(blocks)
    assert len(virtual.wait_for_receipts(1)) == 1
    assert virtual.command_log.count("GS V") == 1


def test_cover_open_refuses_before_printing_anything(virtual: VirtualEscposPrinter) -> None:
    virtual.set_cover_open(True)
    with pytest.raises(PrinterCoverOpen) as info:
        network_printer(virtual.port).print_layout([TextBlock("x")])
    assert "cover open" in str(info.value)
    virtual.wait_idle()
    assert "GS v 0" not in virtual.command_log and virtual.receipts == []


def test_offline_virtual_printer_refuses(virtual: VirtualEscposPrinter) -> None:
    virtual.set_online(False)
    with pytest.raises(PrinterOffline):
        network_printer(virtual.port).print_layout([TextBlock("x")])
    virtual.set_online(True)
    network_printer(virtual.port).print_layout([TextBlock("x")])
    assert len(virtual.wait_for_receipts(1)) == 1


def test_near_end_still_prints_and_says_so(virtual: VirtualEscposPrinter) -> None:
    virtual.set_paper("near_end")
    status = network_printer(virtual.port).print_layout([TextBlock("Một cửa")])
    assert status.paper == "near_end" and status.ready
    assert len(virtual.wait_for_receipts(1)) == 1


def test_too_wide_image_is_a_printer_error(virtual: VirtualEscposPrinter) -> None:
    with pytest.raises(PrinterError) as info:
        network_printer(virtual.port, width_dots=384).print_image(Image.new("1", (576, 10), 1))
    assert not isinstance(info.value, PrinterOffline)
    assert "576 dots wide" in str(info.value)
    virtual.wait_idle()
    assert virtual.receipts == []


def test_concurrent_jobs_each_print_once(virtual: VirtualEscposPrinter) -> None:
    printer = network_printer(virtual.port)
    errors: list[BaseException] = []

    def job(n: int) -> None:
        try:
            printer.print_layout([TextBlock(f"Phiếu số {n}")])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=job, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    receipts = virtual.wait_for_receipts(4)
    assert len(receipts) == 4 and len({r.png_path for r in receipts}) == 4


# ----------------------------------------------------------------- no printer, factory


def test_no_printer() -> None:
    printer = NoPrinter(576)
    with pytest.raises(PrinterOffline) as info:
        printer.print_layout([TextBlock("x")])
    assert info.value.user_message() == MSG_NO_PRINTER
    assert printer.health() == Health("printer", False, "not configured")
    assert printer.status().paper == "unknown" and not printer.status().online


def settings(**changes: object) -> PrinterSettings:
    base: dict[str, Any] = dict(
        mode="network",
        host="127.0.0.1",
        port=9100,
        usb_vendor_id=0x04B8,
        usb_product_id=0x0202,
        serial_device="/dev/nonexistent-printer",
        width_mm=80,
        timeout_s=2.0,
        out_dir=None,
    )
    base.update(changes)
    return PrinterSettings(**base)


def test_make_printer_modes(virtual: VirtualEscposPrinter) -> None:
    assert isinstance(make_printer(settings(mode="none")), NoPrinter)
    net = make_printer(settings(width_mm=58))
    assert isinstance(net, EscposReceiptPrinter) and net.width_dots == 384
    assert net.description == "network 127.0.0.1:9100"
    sim = make_printer(settings(mode="simulated", port=0), port_override=virtual.port)
    sim.print_layout([TextBlock("Ki-ốt K01")])
    assert len(virtual.wait_for_receipts(1)) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "simulated", "port": 0}, "start the virtual printer first"),
        ({"port": 70000}, "printer port 70000 is not a TCP port"),
        ({"mode": "bluetooth"}, "unknown printer mode 'bluetooth'"),
        ({"width_mm": 110}, "unsupported paper width 110 mm"),
    ],
)
def test_make_printer_refuses_bad_settings(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_printer(settings(**changes))


@pytest.mark.parametrize("mode", ["usb", "serial"])
def test_missing_usb_or_serial_printer_is_offline_not_a_crash(mode: str) -> None:
    printer = make_printer(settings(mode=mode))
    assert printer.health().ok is False
    with pytest.raises(PrinterOffline):
        printer.print_layout([TextBlock("x")])
