"""Every layout through the real driver and the virtual printer, in every way config allows.

Raster text is read back from the printed PNG with tesseract (Vietnamese); code-page text is
read from the decoded ESC/POS stream; QR codes are read back from the PNG (image QR) or from
the GS ( k data (native QR). Then the faults only the status after a job can tell: a jam, and
paper that runs out in the middle of a receipt.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pytesseract
import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image

from devices.printer.blocks import FieldBlock, TextBlock
from devices.printer.escpos import EscposReceiptPrinter
from devices.printer.escpos_job import JobOptions, NativeQRPart, RasterPart, RawPart, compose_job
from devices.printer.interface import PrinterFault, PrinterOutOfPaper
from devices.printer.vietnamese_code_pages import VietnameseEncoder
from devices.simulated.escpos_decoder import EscposDecoder
from devices.simulated.escpos_printer import PrintedReceipt, VirtualEscposPrinter
from kiosk.printing import receipt as receipts
from kiosk.printing.receipt import QueueTicketData, ReceiptData, receipt_layout, ticket_layout

MUST_READ = ("Nguyễn", "Đắk", "Thừa Thiên Huế")


def receipt_data() -> ReceiptData:
    return ReceiptData(
        agency_name="Sở Văn hóa, Thể thao và Du lịch tỉnh Đắk Lắk",
        agency_code="000.00.16.H15",
        procedure_name="Cấp giấy phép hoạt động in (Thừa Thiên Huế chuyển đến)",
        procedure_code="2.001740",
        dossier_code="000.00.16.H15-261124-0042",
        applicant_name="Nguyễn Thị Ngọc Ánh",
        applicant_id="066185001234",
        documents=["Tờ khai đề nghị cấp giấy phép", "Giấy chứng nhận do tỉnh Đắk Lắk cấp"],
        fee_vnd=0,
        received_at=datetime(2026, 11, 24, 9, 5),
        appointment_date=date(2026, 12, 8),
        kiosk_id="DLK-01",
        tracking_hint="Tra cứu tại ki-ốt hoặc Cổng dịch vụ công bằng mã hồ sơ",
    )


def ticket_data() -> QueueTicketData:
    return QueueTicketData(
        number="IN-012",
        service_name="Xuất bản, in và phát hành",
        counter="3",
        people_ahead=4,
        estimated_wait_min=12,
        priority_label="Ưu tiên: người cao tuổi",
        issued_at=datetime(2026, 11, 24, 9, 5),
        agency_name="Trung tâm Phục vụ hành chính công tỉnh Đắk Lắk",
        kiosk_id="DLK-01",
    )


LAYOUTS = {
    "receipt": lambda: receipt_layout(receipt_data()),
    "ticket": lambda: ticket_layout(ticket_data()),
    "test_page": lambda: receipts.test_page_layout("DLK-01", 576, datetime(2026, 11, 24, 9, 5)),
}
MODES = {
    "raster": JobOptions(),
    "raster_native_qr": JobOptions(qr="native"),
    "cp1258": JobOptions(code_page="cp1258"),
    "tcvn3_native_qr": JobOptions(code_page="tcvn3", qr="native"),
}


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualEscposPrinter]:
    with VirtualEscposPrinter(out_dir=tmp_path / "printed") as printer:
        yield printer


def driver(port: int, options: JobOptions | None = None) -> EscposReceiptPrinter:
    return EscposReceiptPrinter.network(
        "127.0.0.1", port, timeout_s=2.0, status_timeout_s=0.3, options=options
    )


def qr_in_png(path: Path) -> list[str]:
    gray = np.asarray(Image.open(path).convert("L"))
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)
    return [r.text for r in found]


def ocr(path: Path, psm: int = 6) -> str:
    """The printed text as tesseract reads it, lines joined by spaces."""
    image = Image.open(path).convert("L")
    found = pytesseract.image_to_string(image, lang="vie", config=f"--psm {psm}")
    return " ".join(found.split())


def decode_lines(stream: bytes) -> list[str]:
    """The text lines a printer prints from ``stream``."""
    lines: list[str] = []
    EscposDecoder(576, on_page=lambda page: lines.extend(page.text)).feed(stream)
    return lines


def print_one(virtual: VirtualEscposPrinter, options: JobOptions, blocks: list) -> PrintedReceipt:
    driver(virtual.port, options).print_layout(blocks)
    (receipt,) = virtual.wait_for_receipts(1)
    return receipt


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_prints_in_every_mode(
    virtual: VirtualEscposPrinter, layout: str, mode: str
) -> None:
    options = MODES[mode]
    blocks = LAYOUTS[layout]()
    receipt = print_one(virtual, options, blocks)
    assert receipt.cut and Image.open(receipt.png_path).width == 576
    qr_payloads = [b.data for b in blocks if hasattr(b, "data")]
    if options.qr == "native":
        assert receipt.qr_payloads == qr_payloads  # sent as GS ( k, decoded from the stream
    else:
        assert receipt.qr_payloads == []
    assert qr_in_png(receipt.png_path) == qr_payloads  # and readable off the paper
    if options.code_page:
        assert receipt.images == (0 if options.qr == "native" else len(qr_payloads))
        assert not any("?" in line for line in receipt.text if "Tra cứu" not in line)
    else:
        assert receipt.text == []  # all text went as raster


def test_raster_receipt_reads_back_in_vietnamese(virtual: VirtualEscposPrinter) -> None:
    receipt = print_one(virtual, JobOptions(), receipt_layout(receipt_data()))
    text = ocr(receipt.png_path)
    for word in (*MUST_READ, "GIẤY TIẾP NHẬN HỒ SƠ", "000.00.16.H15-261124-0042", "08/12/2026"):
        assert word in text, f"{word!r} not read from the printed receipt:\n{text}"
    assert qr_in_png(receipt.png_path) == [receipt_data().qr_payload()]


def test_raster_ticket_reads_back(virtual: VirtualEscposPrinter) -> None:
    receipt = print_one(virtual, JobOptions(), ticket_layout(ticket_data()))
    text = ocr(receipt.png_path, psm=11)  # sparse text: the number is far larger than the rest
    for word in ("IN-012", "ĐẮK LẮK", "người cao tuổi", "khoảng 12 phút"):
        assert word in text, f"{word!r} not read from the printed ticket:\n{text}"


@pytest.mark.parametrize("code_page", ["cp1258", "tcvn3"])
def test_code_page_text_decodes_exactly(virtual: VirtualEscposPrinter, code_page: str) -> None:
    receipt = print_one(virtual, JobOptions(code_page=code_page), receipt_layout(receipt_data()))
    text = " ".join(receipt.text)  # the words of lines wrapped on words, whole again
    for word in (*MUST_READ, "Nguyễn Thị Ngọc Ánh", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"):
        assert word in text, f"{word!r} not in the decoded text:\n{text}"
    assert "000.00.16.H15-261124-0042" in text
    assert "08/12/2026" in text


def test_every_vietnamese_letter_survives_both_code_pages() -> None:
    letters = "aăâeêioôơuưy"
    tones = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
    alphabet = "".join(
        unicodedata.normalize("NFC", base + tone) for base in letters for tone in tones
    )
    alphabet += "dđ"
    alphabet += alphabet.upper()
    for code_page, first_table in (("cp1258", 52), ("tcvn3", 30)):
        encoder = VietnameseEncoder(code_page)
        encoded = encoder.encode(alphabet)
        assert encoded.replaced == []
        decoded = decode_lines(b"\x1bt" + bytes([first_table]) + encoded.data + b"\n\x1dV\x00")
        assert decoded == [alphabet[:48], alphabet[48:96], alphabet[96:144], alphabet[144:]]


def test_python_escpos_cp1258_path_loses_letters_ours_does_not() -> None:
    """The trap the driver avoids: python-escpos writes "?" for "ễ" in code page 1258."""
    theirs = Dummy()
    theirs.charcode("CP1258")
    theirs.text("Nguyễn\n")
    assert b"Nguy?n" in theirs.output
    ours = VietnameseEncoder("cp1258").encode("Nguyễn").data
    assert b"?" not in ours
    assert decode_lines(b"\x1bt\x34" + ours + b"\n\x1dV\x00") == ["Nguyễn"]


def test_native_qr_splits_a_raster_job_and_keeps_order() -> None:
    job = compose_job(receipt_layout(receipt_data()), 576, JobOptions(qr="native"))
    kinds = [type(p) for p in job.parts]
    assert kinds == [RasterPart, NativeQRPart, RasterPart, RasterPart]
    assert job.parts[1] == NativeQRPart(receipt_data().qr_payload(), job.parts[1].module)
    text_job = compose_job(receipt_layout(receipt_data()), 576, JobOptions(code_page="tcvn3"))
    assert [type(p) for p in text_job.parts] == [RawPart, RasterPart, RawPart]


def test_centring_and_wrapping_do_not_depend_on_the_printer(
    virtual: VirtualEscposPrinter,
) -> None:
    long_name = "Cấp giấy phép hoạt động in xuất bản phẩm cho cơ sở in của tỉnh Thừa Thiên Huế"
    blocks = [TextBlock("PHIẾU", align="center"), FieldBlock("Thủ tục", long_name)]
    receipt = print_one(virtual, JobOptions(code_page="tcvn3"), blocks)
    assert receipt.text[0] == "PHIẾU"
    assert all(len(line) <= 48 for line in receipt.text)
    assert " ".join(receipt.text[1:]) == f"Thủ tục: {long_name}"  # wrapped on words, whole


# ----------------------------------------------------------------- characters outside

FOREIGN_NAME = "Nguyễn Ǫdd Lý 李 ★"


def test_raster_name_outside_roboto_falls_back_and_logs_what_is_missing(
    virtual: VirtualEscposPrinter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="devices.printer.raster")
    receipt = print_one(virtual, JobOptions(), [FieldBlock("Người nộp", FOREIGN_NAME)])
    missing = [r.getMessage() for r in caplog.records if "no receipt font" in r.getMessage()]
    assert missing == ["U+674E (李) is in no receipt font: printed as □"]
    text = ocr(receipt.png_path)
    assert "Nguyễn" in text and "Lý" in text


@pytest.mark.parametrize("code_page", ["cp1258", "tcvn3"])
def test_code_page_name_outside_the_page_is_logged_and_marked(
    virtual: VirtualEscposPrinter, caplog: pytest.LogCaptureFixture, code_page: str
) -> None:
    caplog.set_level(logging.WARNING, logger="devices.printer")
    receipt = print_one(
        virtual, JobOptions(code_page=code_page), [FieldBlock("Người nộp", FOREIGN_NAME)]
    )
    assert receipt.text[0].startswith("Người nộp: Nguyễn ")
    assert receipt.text[0].endswith("Lý ? ?")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "U+674E (李)" in logged and "U+2605 (★)" in logged


# ----------------------------------------------------------------- what only the status tells


def test_a_jam_is_reported_not_taken_for_printed(virtual: VirtualEscposPrinter) -> None:
    printer = driver(virtual.port)
    virtual.jam_next_job()
    with pytest.raises(PrinterFault) as info:
        printer.print_layout(receipt_layout(receipt_data()))
    assert "autocutter error" in str(info.value)
    assert info.value.user_message() == (
        "The printer stopped with an error. "
        "Your receipt is shown on screen; staff have been alerted."
    )
    virtual.wait_idle()
    assert virtual.receipts == []
    status = printer.status()
    assert not status.ready and status.error
    virtual.clear_error()
    printer.print_layout(receipt_layout(receipt_data()))
    assert len(virtual.wait_for_receipts(1)) == 1


def test_paper_running_out_during_a_receipt_is_reported(virtual: VirtualEscposPrinter) -> None:
    printer = driver(virtual.port)
    virtual.set_paper_left(60)  # a receipt is about 200 mm long
    with pytest.raises(PrinterOutOfPaper) as info:
        printer.print_layout(receipt_layout(receipt_data()))
    assert "during the job" in str(info.value)
    assert printer.status().paper == "out"


def test_after_the_job_the_status_is_returned(virtual: VirtualEscposPrinter) -> None:
    printer = driver(virtual.port)
    virtual.set_paper_left(10_000)
    status = printer.print_layout(ticket_layout(ticket_data()))
    assert status.ready
    virtual.wait_idle()
    log = virtual.command_log
    # before: DLE EOT 1, 2, 4; the job; after: GS r 1 (in stream order), DLE EOT 1, 2, 4
    assert log[:3] == ["DLE EOT 1", "DLE EOT 2", "DLE EOT 4"]
    assert log[-4:] == ["GS r 1", "DLE EOT 1", "DLE EOT 2", "DLE EOT 4"]


# ----------------------------------------------------------------- a serial printer


@pytest.fixture
def serial_port(virtual: VirtualEscposPrinter) -> Iterator[str]:
    """A pseudo-terminal whose other end is wired to the virtual printer: a serial printer."""
    import os
    import pty
    import select
    import socket
    import threading
    import tty

    master, slave = pty.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    link = socket.create_connection(("127.0.0.1", virtual.port))
    stop = threading.Event()

    def pump() -> None:
        while not stop.is_set():
            ready, _, _ = select.select([master, link], [], [], 0.05)
            try:
                if master in ready:
                    link.sendall(os.read(master, 65536))
                if link in ready:
                    data = link.recv(65536)
                    if not data:
                        return
                    os.write(master, data)
            except OSError:
                return

    thread = threading.Thread(target=pump, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join(2)
    link.close()
    os.close(master)
    os.close(slave)


def test_a_serial_printer_prints_and_answers_status(
    virtual: VirtualEscposPrinter, serial_port: str
) -> None:
    printer = EscposReceiptPrinter.serial(
        serial_port, baudrate=38400, timeout_s=2.0, status_timeout_s=0.5
    )
    assert printer.status().ready
    status = printer.print_layout(ticket_layout(ticket_data()))
    assert status.ready
    (ticket,) = virtual.wait_for_receipts(1)
    assert ticket.cut and ticket.raster() is not None
    virtual.set_paper("near_end")
    assert printer.status().paper == "near_end"
    virtual.set_paper("out")
    with pytest.raises(PrinterOutOfPaper):
        printer.print_layout(ticket_layout(ticket_data()))
    virtual.set_paper("ok")
    virtual.jam_next_job()
    with pytest.raises(PrinterFault):
        printer.print_layout(ticket_layout(ticket_data()))
    assert len(virtual.receipts) == 1
