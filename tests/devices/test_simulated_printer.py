"""The virtual ESC/POS printer: its decoder, command by command, and its TCP service."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from escpos.printer import Dummy, Network
from PIL import Image, ImageChops

from devices.printer.escpos import escpos_profile
from devices.simulated.escpos_decoder import EscposDecoder, Feed, Page, Picture, Row, render_page
from devices.simulated.escpos_printer import VirtualEscposPrinter, serve
from kiosk.paths import PROJECT_ROOT

ESC, GS = b"\x1b", b"\x1d"


class Capture:
    """A decoder wired to lists: pages cut, bytes answered, commands seen."""

    def __init__(self, width: int = 576, status: dict[tuple[str, int], bytes] | None = None):
        self.pages: list[Page] = []
        self.answers: list[bytes] = []
        self.commands: list[str] = []
        table = status or {}
        self.decoder = EscposDecoder(
            width,
            on_page=self.pages.append,
            respond=self.answers.append,
            status=lambda kind, n: table.get((kind, n)),
            on_command=self.commands.append,
        )

    def feed(self, data: bytes, chunk: int | None = None) -> Capture:
        step = chunk or len(data) or 1
        for i in range(0, len(data), step):
            self.decoder.feed(data[i : i + step])
        return self

    @property
    def page(self) -> Page:
        assert len(self.pages) == 1, f"{len(self.pages)} pages cut"
        return self.pages[0]


def dummy(width: int = 576) -> Dummy:
    printer = Dummy()
    printer.profile = escpos_profile(width)
    return printer


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    if a.size != b.size:
        return False
    return ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def pattern(width: int, height: int) -> Image.Image:
    """A deterministic black-and-white pattern with no symmetry."""
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, size=(height, width), dtype=np.uint8)
    return Image.fromarray(bits * 255, mode="L").convert("1")


# ----------------------------------------------------------------- decoder: text and modes


SIMPLE_JOB = (
    ESC + b"@"
    + ESC + b"a\x01" + ESC + b"E\x01" + b"HELLO\n"
    + ESC + b"E\x00" + ESC + b"a\x00" + b"Line 2\n"
    + GS + b"V\x00"
)  # fmt: skip


def test_text_alignment_and_bold() -> None:
    cap = Capture().feed(SIMPLE_JOB)
    page = cap.page
    assert page.text == ["HELLO", "Line 2"]
    assert page.cut == "full"
    rows = [i for i in page.items if isinstance(i, Row)]
    assert rows[0].align == "center" and rows[0].segments[0].bold  # type: ignore[union-attr]
    assert rows[1].align == "left" and not rows[1].segments[0].bold  # type: ignore[union-attr]
    assert cap.commands[:3] == ["ESC @", "ESC a", "ESC E"]


def test_a_stream_split_anywhere_decodes_the_same() -> None:
    whole = Capture().feed(SIMPLE_JOB).page
    for chunk in (1, 2, 3, 5):
        assert Capture().feed(SIMPLE_JOB, chunk).page == whole


def test_sizes_from_esc_bang_and_gs_bang() -> None:
    job = ESC + b"!\x30" + b"AB\n" + GS + b"!\x21" + b"C\n" + GS + b"V\x01"
    page = Capture().feed(job).page
    rows = [i for i in page.items if isinstance(i, Row)]
    big, tall = rows[0].segments[0], rows[1].segments[0]
    assert (big.width_mult, big.height_mult) == (2, 2)  # type: ignore[union-attr]
    assert (tall.width_mult, tall.height_mult) == (3, 2)  # type: ignore[union-attr]
    assert rows[0].width == 2 * 12 * 2
    assert page.cut == "partial"


def test_esc_init_drops_the_unprinted_line_and_resets_modes() -> None:
    job = ESC + b"a\x02" + b"lost" + ESC + b"@" + b"kept\n" + GS + b"V\x00"
    page = Capture().feed(job).page
    assert page.text == ["kept"]
    assert [i for i in page.items if isinstance(i, Row)][0].align == "left"


def test_long_line_wraps_like_the_printer() -> None:
    page = Capture(576).feed(b"x" * 60 + b"\n" + GS + b"V\x00").page
    assert page.text == ["x" * 48, "x" * 12]  # 576 / 12 dots per character


@pytest.mark.parametrize(
    ("code_page", "raw", "expected"),
    [
        (0, "crème".encode("cp437"), "crème"),
        (16, "Café".encode("cp1252"), "Café"),
        (52, b"Vi" + "ê".encode("cp1258") + b"\xf2" + b"t", "Việt"),  # combining dot
    ],
)
def test_code_pages_decode_to_nfc(code_page: int, raw: bytes, expected: str) -> None:
    job = ESC + b"t" + bytes([code_page]) + raw + b"\n" + GS + b"V\x00"
    text = Capture().feed(job).page.text
    assert text == [expected]
    assert unicodedata.is_normalized("NFC", text[0])


def test_feeds_and_blank_lines() -> None:
    job = b"a\n\n" + ESC + b"d\x02" + ESC + b"J\x07" + GS + b"V\x41\x05"
    items = Capture().feed(job).page.items
    feeds = [i.dots for i in items if isinstance(i, Feed)]
    assert feeds == [30, 60, 7, 5]


def test_unknown_commands_are_skipped_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    job = (
        ESC + b"\x01" + b"one\n"  # unknown ESC
        + GS + b"\x01" + b"two\n"  # unknown GS
        + b"\x1c\x01" + b"three\n"  # unknown FS
        + ESC + b"p\x00\x19\xfa"  # drawer kick: known length, skipped
        + GS + b"k\x02" + b"123456789012\x00"  # barcode: not drawn, skipped
        + ESC + b"D\x08\x10\x00"  # tab stops
        + b"\x07"  # BEL control byte
        + b"four\n" + GS + b"V\x00"
    )  # fmt: skip
    cap = Capture().feed(job)
    assert cap.page.text == ["one", "two", "three", "four"]
    assert "unknown ESC 0x01" in cap.commands and "unknown GS 0x01" in cap.commands
    assert "unknown command ESC 0x01" in caplog.text


def test_flush_returns_the_uncut_page_or_none() -> None:
    cap = Capture().feed(b"no cut\n")
    page = cap.decoder.flush()
    assert page is not None and page.cut is None and page.text == ["no cut"]
    assert Capture().feed(b"\x10\x04\x01").decoder.flush() is None
    assert cap.pages == []


# ----------------------------------------------------------------- decoder: images and QR


def test_raster_image_bytes_decode_to_pixels() -> None:
    data = bytes([0b10000001, 0xFF]) + bytes([0x00, 0x0F])
    job = GS + b"v0\x00\x02\x00\x02\x00" + data + GS + b"V\x00"
    (img,) = Capture().feed(job).page.images
    assert img.size == (16, 2)
    black = {(x, y) for y in range(2) for x in range(16) if img.getpixel((x, y)) == 0}
    assert black == {
        (0, 0),
        (7, 0),
        *((x, 0) for x in range(8, 16)),
        *((x, 1) for x in range(12, 16)),
    }


def test_raster_double_density_scales() -> None:
    job = GS + b"v0\x03\x01\x00\x01\x00\x80" + GS + b"V\x00"
    (img,) = Capture().feed(job).page.images
    assert img.size == (16, 2)
    assert img.getpixel((1, 1)) == 0 and img.getpixel((2, 0)) == 255


@pytest.mark.parametrize("impl", ["bitImageRaster", "bitImageColumn", "graphics"])
def test_python_escpos_images_decode_to_what_was_sent(impl: str) -> None:
    sent = pattern(200, 50)
    printer = dummy()
    printer.image(sent, impl=impl)
    printer.cut()
    (img,) = Capture().feed(printer.output, chunk=97).page.images
    assert img.width == 200
    assert same_pixels(img.crop((0, 0, 200, 50)), sent)
    assert all(img.getpixel((x, y)) == 255 for y in range(50, img.height) for x in range(200))


def test_native_qr_is_stored_printed_and_readable() -> None:
    printer = dummy()
    printer.set(align="center")
    printer.qr('{"dossier_code":"000.00.08.H21-261124-0001"}', native=True, size=5)
    printer.cut()
    page = Capture().feed(printer.output).page
    assert page.qr_payloads == ['{"dossier_code":"000.00.08.H21-261124-0001"}']
    assert page.images == []
    picture = next(i for i in page.items if isinstance(i, Picture))
    assert picture.align == "center"
    png = np.array(render_page(page, 576))
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(png)
    assert text == page.qr_payloads[0]


def test_rendered_page_has_the_paper_width_and_the_text() -> None:
    page = Capture().feed(SIMPLE_JOB).page
    img = render_page(page, 384)
    assert img.width == 384 and img.height == 60
    first_row = Image.eval(img.crop((0, 0, 384, 30)), lambda v: 255 - v).getbbox()
    assert first_row is not None and first_row[0] > 100  # "HELLO" is centred
    second_row = Image.eval(img.crop((0, 30, 384, 60)), lambda v: 255 - v).getbbox()
    assert second_row is not None and second_row[0] < 10  # "Line 2" on the left


# ----------------------------------------------------------------- decoder: status


def test_status_requests_are_answered_in_stream_order() -> None:
    table = {("DLE EOT", 1): b"\x12", ("DLE EOT", 4): b"\x7e", ("GS r", 1): b"\x0f"}
    cap = Capture(status=table).feed(b"\x10\x04\x01" + b"text" + b"\x10\x04\x04" + GS + b"r\x01")
    assert cap.answers == [b"\x12", b"\x7e", b"\x0f"]
    assert cap.decoder.flush() is not None  # the text before stays on the paper


def test_unanswered_status_sends_nothing() -> None:
    cap = Capture(status={}).feed(b"\x10\x04\x01\x10\x04\x02")
    assert cap.answers == []
    assert cap.commands == ["DLE EOT 1", "DLE EOT 2"]


# ----------------------------------------------------------------- the TCP printer


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualEscposPrinter]:
    with VirtualEscposPrinter(out_dir=tmp_path / "out", width_dots=576) as printer:
        yield printer


def ask(port: int, request: bytes, timeout: float = 2.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(request)
        try:
            return conn.recv(16)
        except TimeoutError:
            return b""


@pytest.mark.parametrize(
    ("paper", "cover", "n", "answer"),
    [
        ("ok", False, 1, 0x12),
        ("ok", False, 2, 0x12),
        ("ok", False, 4, 0x12),
        ("near_end", False, 4, 0x1E),
        ("out", False, 1, 0x1A),
        ("out", False, 2, 0x32),
        ("out", False, 4, 0x7E),
        ("ok", True, 1, 0x1A),
        ("ok", True, 2, 0x16),
        ("ok", False, 3, 0x12),
    ],
)
def test_dle_eot_answers_follow_the_spec_bits(
    virtual: VirtualEscposPrinter, paper: str, cover: bool, n: int, answer: int
) -> None:
    virtual.set_paper(paper)  # type: ignore[arg-type]
    virtual.set_cover_open(cover)
    assert ask(virtual.port, b"\x10\x04" + bytes([n])) == bytes([answer])


def test_gs_r_paper_sensor(virtual: VirtualEscposPrinter) -> None:
    virtual.set_paper("out")
    assert ask(virtual.port, GS + b"r\x01") == b"\x0f"


def test_offline_printer_answers_nothing_and_prints_nothing(
    virtual: VirtualEscposPrinter,
) -> None:
    virtual.set_online(False)
    assert ask(virtual.port, b"\x10\x04\x01", timeout=0.3) == b""
    with socket.create_connection(("127.0.0.1", virtual.port)) as conn:
        conn.sendall(SIMPLE_JOB)
    virtual.wait_idle()
    assert virtual.dropped_bytes == 3 + len(SIMPLE_JOB)
    virtual.set_online(True)
    with socket.create_connection(("127.0.0.1", virtual.port)) as conn:
        conn.sendall(b"after\n" + GS + b"V\x00")
    (receipt,) = virtual.wait_for_receipts(1)
    assert receipt.text == ["after"]


def test_bad_paper_state_is_refused(virtual: VirtualEscposPrinter) -> None:
    with pytest.raises(ValueError, match="paper state 'empty'"):
        virtual.set_paper("empty")  # type: ignore[arg-type]


def test_receipts_across_connections_and_a_python_escpos_client(
    virtual: VirtualEscposPrinter,
) -> None:
    client = Network("127.0.0.1", virtual.port, timeout=5)
    client.profile = escpos_profile(576)
    client.set(align="center", bold=True)
    client.textln("BỘ PHẬN MỘT CỬA")  # python-escpos switches to TCVN-3 (ESC t 31) for this
    client.set(bold=False, align="left")
    client.textln("Ma ho so: 0001")
    client.qr("000.00.08.H21-261124-0001", native=True)
    client.cut()
    client.close()
    virtual.wait_idle()
    with socket.create_connection(("127.0.0.1", virtual.port)) as conn:
        conn.sendall(b"second\n" + GS + b"V\x00" + b"third, never cut\n")
    first, second, third = virtual.wait_for_receipts(3)
    assert first.text == ["BỘ PHẬN MỘT CỬA", "Ma ho so: 0001"]
    assert first.qr_payloads == ["000.00.08.H21-261124-0001"]
    assert (first.number, second.number, third.number) == (1, 2, 3)
    assert second.text == ["second"] and second.cut
    assert third.text == ["third, never cut"] and not third.cut
    for receipt in (first, second, third):
        assert receipt.png_path.name == f"receipt-{receipt.number:04d}.png"
        assert Image.open(receipt.png_path).width == 576


def test_a_restart_never_overwrites_earlier_receipts(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for expected in (1, 2):
        with VirtualEscposPrinter(out_dir=out) as printer:
            with socket.create_connection(("127.0.0.1", printer.port)) as conn:
                conn.sendall(b"x\n" + GS + b"V\x00")
            (receipt,) = printer.wait_for_receipts(1)
            assert receipt.number == expected
    assert sorted(p.name for p in out.iterdir()) == ["receipt-0001.png", "receipt-0002.png"]


def test_paper_out_page_is_not_printed(virtual: VirtualEscposPrinter) -> None:
    virtual.set_paper("out")
    with socket.create_connection(("127.0.0.1", virtual.port)) as conn:
        conn.sendall(b"lost\n" + GS + b"V\x00")
        conn.sendall(b"\x10\x04\x04")
        assert conn.recv(1) == b"\x7e"  # the cut was handled before this answer
    assert virtual.receipts == []
    with pytest.raises(TimeoutError, match="0 receipt"):
        virtual.wait_for_receipts(1, timeout_s=0.05)


def test_stop_closes_idle_connections_and_start_twice_is_refused(tmp_path: Path) -> None:
    printer = VirtualEscposPrinter(out_dir=tmp_path).start()
    with pytest.raises(RuntimeError, match="already started"):
        printer.start()
    idle = socket.create_connection(("127.0.0.1", printer.port), timeout=10)
    idle.sendall(b"\x10\x04\x01")
    assert idle.recv(1) == b"\x12"  # accepted and served; now it says nothing more
    printer.stop()
    assert idle.recv(1) == b""  # closed by the printer
    idle.close()
    with pytest.raises(RuntimeError, match="not started"):
        _ = printer.port


def test_serve_announces_itself_and_stops(tmp_path: Path) -> None:
    class Lines(io.StringIO):
        ready = threading.Event()

        def write(self, s: str) -> int:
            n = super().write(s)
            if "\n" in s:
                self.ready.set()
            return n

    out, stop = Lines(), threading.Event()
    result: list[int] = []
    thread = threading.Thread(
        target=lambda: result.append(serve("127.0.0.1", 0, tmp_path, 384, stop=stop, out=out))
    )
    thread.start()
    assert out.ready.wait(10)
    info = json.loads(out.getvalue())
    assert info["host"] == "127.0.0.1" and info["port"] > 0
    assert info["out"] == str(tmp_path.resolve())
    assert ask(info["port"], b"\x10\x04\x01") == b"\x12"
    stop.set()
    thread.join(10)
    assert result == [0]


def test_serve_on_a_busy_port_fails_with_a_message(
    virtual: VirtualEscposPrinter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert serve("127.0.0.1", virtual.port, tmp_path) == 2
    assert f"cannot listen on 127.0.0.1:{virtual.port}" in capsys.readouterr().err


def test_command_line_runs_until_interrupted(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "devices.simulated.escpos_printer", "--port", "0",
         "--out", str(tmp_path), "--width-mm", "58"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=PROJECT_ROOT,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        with socket.create_connection(("127.0.0.1", info["port"]), timeout=10) as conn:
            conn.sendall(b"demo\n" + GS + b"V\x00" + b"\x10\x04\x01")
            assert conn.recv(1) == b"\x12"  # answered after the cut: the PNG is written
        png = Path(info["out"]) / "receipt-0001.png"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert Image.open(png).width == 384
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
