"""``kiosk printer …`` and ``kiosk receipt render``: through the real driver and a virtual printer.

Receipts are printed with the ESC/POS driver into a VirtualEscposPrinter on loopback; what is
checked is the PNG that printer made of the bytes it received (its width in dots, the QR read
back with zxing-cpp), exit codes and one-line messages. Configs are the shipped one with
``KIOSK_*`` overrides, as the kiosk itself is configured on a site.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from support.net_helpers import free_port, silent_server

from devices.printer.escpos import EscposReceiptPrinter
from devices.printer.escpos_job import JobOptions
from devices.simulated.escpos_printer import VirtualEscposPrinter
from kiosk.catalog.procedures import load_catalog
from kiosk.cli.main import main
from kiosk.cli.printer import SAMPLE_NAMES_HELP, render_to_png
from kiosk.config.settings import load_config
from kiosk.demo.receipts import SAMPLE_RECEIPTS, sample_receipt, sample_ticket
from kiosk.dossier.workdays import HolidayCalendar, add_working_days, load_holidays
from kiosk.printing.receipt import ReceiptData, receipt_layout

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = "0.5"  # [printer] timeout_s for the tests: silent printers cost this much


# ----------------------------------------------------------------- helpers


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The shipped config pointed at a private data folder; returns the overrides set."""
    for name in list(os.environ):
        if name.startswith("KIOSK_"):
            monkeypatch.delenv(name)
    overrides = {
        "KIOSK_KIOSK_DATA_DIR": str(tmp_path / "var"),
        "KIOSK_PRINTER_TIMEOUT_S": TIMEOUT_S,
        "KIOSK_PRINTER_HOST": "127.0.0.1",
    }
    for name, value in overrides.items():
        monkeypatch.setenv(name, value)
    return overrides


def network_mode(monkeypatch: pytest.MonkeyPatch, port: int) -> None:
    monkeypatch.setenv("KIOSK_PRINTER_MODE", "network")
    monkeypatch.setenv("KIOSK_PRINTER_PORT", str(port))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kiosk: ") and "Traceback" not in err
    return lines[0]


def qr_texts(png: Path) -> list[str]:
    with Image.open(png) as img:
        gray = np.array(img.convert("L"))
    return [r.text for r in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualEscposPrinter]:
    with VirtualEscposPrinter(out_dir=tmp_path / "printed") as printer:
        yield printer


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A printer that accepts, reads everything and never answers."""
    with silent_server() as port:
        yield port


# ----------------------------------------------------------------- receipt render


@pytest.mark.parametrize(("width_mm", "dots"), [(80, 576), (58, 384)])
def test_render_sample_prints_through_the_driver_with_its_qr(
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    width_mm: int,
    dots: int,
) -> None:
    png = tmp_path / "out" / "receipt.png"  # the folder does not exist yet
    code, out, err = run(
        capsys, "receipt", "render", "--sample", "--png", str(png), "--width-mm", str(width_mm)
    )
    assert code == 0, err
    payload = sample_receipt().qr_payload()
    assert str(png) in out and payload in out
    with Image.open(png) as img:
        assert img.width == dots
        assert img.height > 600
    assert qr_texts(png) == [payload]


def test_the_virtual_printers_page_holds_the_receipts_qr(tmp_path: Path) -> None:
    data = sample_receipt()
    printed = render_to_png(receipt_layout(data), 576, tmp_path / "r.png")
    assert printed.png_path == tmp_path / "r.png" and printed.cut
    assert printed.qr_payloads == []  # the default: the QR is inside the raster
    raster = printed.raster()
    assert raster is not None and raster.width <= 576
    found = zxingcpp.read_barcodes(np.array(raster.convert("L")))
    assert [r.text for r in found] == [data.qr_payload()]
    assert qr_texts(printed.png_path) == [data.qr_payload()]


@pytest.mark.parametrize(("code_page", "name"), [("cp1258", "dak-lak"), ("tcvn3", "hue-2024")])
def test_native_qr_and_code_page_text_decode_on_the_virtual_printer(
    tmp_path: Path, code_page: str, name: str
) -> None:
    data = sample_receipt(name)
    options = JobOptions(code_page=code_page, qr="native")
    printed = render_to_png(receipt_layout(data), 576, tmp_path / "r.png", options=options)
    assert printed.qr_payloads == [data.qr_payload()]
    assert json.loads(printed.qr_payloads[0])["dossier_code"] == data.dossier_code
    text = " ".join(printed.text)
    assert data.applicant_name in text and data.dossier_code in text
    assert data.agency_name.upper() in " ".join(text.split())
    assert qr_texts(printed.png_path) == [data.qr_payload()]


def test_render_options_reach_the_driver(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    png = tmp_path / "native.png"
    args = ["--code-page", "cp1258", "--qr", "native", "--png", str(png), "--width-mm", "58"]
    code, _, err = run(capsys, "receipt", "render", "--sample", *args)
    assert code == 0, err
    with Image.open(png) as img:
        assert img.width == 384
    assert qr_texts(png) == [sample_receipt().qr_payload()]


def test_sample_json_is_a_template_that_renders_the_same_receipt(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    template = tmp_path / "sample.json"
    code, out, err = run(capsys, "receipt", "render", "--sample", "--json", str(template))
    assert code == 0, err
    assert str(template) in out
    text = template.read_text(encoding="utf-8")
    assert "Nguyễn Thị Ngọc Ánh" in text and "Đắk Lắk" in text  # UTF-8, not \u escapes
    assert ReceiptData.from_json(text) == sample_receipt()

    png = tmp_path / "from-file.png"
    code, _, err = run(capsys, "receipt", "render", str(template), "--png", str(png))
    assert code == 0, err
    assert qr_texts(png) == [sample_receipt().qr_payload()]


def test_every_sample_renders_in_both_languages(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in SAMPLE_RECEIPTS:
        for lang in ("vi", "en"):
            png = tmp_path / f"{name}-{lang}.png"
            args = ["receipt", "render", "--sample", name, "--lang", lang, "--png", str(png)]
            code, _, err = run(capsys, *args, "--width-mm", "80")
            assert code == 0, err
            assert qr_texts(png) == [sample_receipt(name).qr_payload()]


def test_ticket_and_test_page_render(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ticket = tmp_path / "ticket.png"
    code, _, err = run(capsys, "receipt", "render", "--sample", "--ticket", "--png", str(ticket))
    assert code == 0, err
    with Image.open(ticket) as img:
        assert img.width == 576  # [printer] width_mm of the shipped config
        assert 400 < img.height < 1200
    assert qr_texts(ticket) == []

    page = tmp_path / "test-page.png"
    code, _, err = run(
        capsys, "receipt", "render", "--test-page", "--png", str(page), "--width-mm", "58"
    )
    assert code == 0, err
    with Image.open(page) as img:
        assert img.width == 384
    (qr,) = qr_texts(page)
    assert qr.startswith("motcua-kiosk/KIOSK-01 test ")


def test_bad_receipt_files_get_one_line_naming_the_fault(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    good = json.loads(sample_receipt().to_json())
    broken = tmp_path / "broken.json"
    broken.write_text('{"agency_name": "Trung tâm",', encoding="utf-8")
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({**good, "ghi_chu": "x"}, ensure_ascii=False), encoding="utf-8")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({**good, "fee_vnd": "50.000"}, ensure_ascii=False), "utf-8")
    bad_date = tmp_path / "date.json"
    bad_date.write_text(json.dumps({**good, "appointment_date": "15/12/2025"}), "utf-8")
    cases = {
        broken: "not valid JSON",
        unknown: "ghi_chu",
        wrong: "fee_vnd",
        bad_date: "appointment_date",
        tmp_path / "missing.json": "no such file",
        tmp_path: "is a folder",
    }
    png = tmp_path / "never.png"
    for path, words in cases.items():
        code, out, err = run(capsys, "receipt", "render", str(path), "--png", str(png))
        assert code == 2, (path, err)
        line = one_line_error(err)
        assert str(path) in line and words in line, line
        assert out == ""
    assert not png.exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "render one thing"),
        (["--sample", "--test-page"], "render one thing"),
        (["--ticket"], "--ticket"),
        (["--test-page", "--json", "x.json"], "--json"),
        (["--sample", "--ticket", "--json", "x.json"], "--json"),
        (["--sample"], "--png"),
        (["--sample", "bien-hoa"], "unknown sample receipt 'bien-hoa'"),
    ],
)
def test_render_usage_errors(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], args: list[str], words: str
) -> None:
    code, _, err = run(capsys, "receipt", "render", *args)
    assert code == 2
    assert words in one_line_error(err)


def test_the_help_names_every_sample() -> None:
    assert all(name in SAMPLE_NAMES_HELP for name in SAMPLE_RECEIPTS)
    assert SAMPLE_NAMES_HELP.startswith(SAMPLE_RECEIPTS[0])  # the default comes first


# ----------------------------------------------------------------- printer status


def test_status_of_a_ready_network_printer(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    virtual: VirtualEscposPrinter,
) -> None:
    network_mode(monkeypatch, virtual.port)
    code, out, err = run(capsys, "printer", "status")
    assert code == 0, err
    assert "online: yes" in out and "paper: ok" in out and "cover: closed" in out
    assert f"127.0.0.1:{virtual.port}" in out
    assert "DLE EOT 1" in virtual.command_log

    virtual.set_paper("near_end")  # still prints: ready, and says so
    code, out, err = run(capsys, "printer", "status", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["ready"] is True and doc["paper"] == "near_end" and doc["mode"] == "network"
    assert "near end" in doc["detail"]


@pytest.mark.parametrize(("state", "words"), [("paper", "paper out"), ("cover", "cover open")])
def test_status_of_a_printer_that_cannot_print(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    virtual: VirtualEscposPrinter,
    state: str,
    words: str,
) -> None:
    if state == "paper":
        virtual.set_paper("out")
    else:
        virtual.set_cover_open(True)
    network_mode(monkeypatch, virtual.port)
    code, out, err = run(capsys, "printer", "status")
    assert code == 1
    assert "printer not ready" in one_line_error(err) and words in err
    assert "online: no" in out


def test_status_of_a_port_nobody_listens_on(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    network_mode(monkeypatch, free_port())
    started = time.monotonic()
    code, out, err = run(capsys, "printer", "status")
    assert time.monotonic() - started < 5  # never python-escpos' 60 s default
    assert code == 1
    line = one_line_error(err)
    assert "printer not ready" in line and "refused" in line
    assert "online: no" in out


def test_status_of_a_printer_that_never_answers(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    silent_port: int,
) -> None:
    network_mode(monkeypatch, silent_port)
    started = time.monotonic()
    code, out, err = run(capsys, "printer", "status")
    assert time.monotonic() - started < 5  # one status wait of [printer] timeout_s
    assert code == 1
    assert "no answer" in one_line_error(err)
    assert "paper: unknown" in out  # silence is never taken for paper


def test_status_in_simulated_mode_asks_the_kiosks_virtual_printer(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    virtual: VirtualEscposPrinter,
) -> None:
    monkeypatch.setenv("KIOSK_PRINTER_MODE", "simulated")
    monkeypatch.setenv("KIOSK_PRINTER_PORT", str(virtual.port))
    code, out, err = run(capsys, "printer", "status")
    assert code == 0, err
    assert "online: yes" in out

    monkeypatch.setenv("KIOSK_PRINTER_PORT", str(free_port()))
    code, _, err = run(capsys, "printer", "status")
    assert code == 1
    assert "kiosk printer simulate" in one_line_error(err)

    monkeypatch.setenv("KIOSK_PRINTER_PORT", "0")
    code, _, err = run(capsys, "printer", "status")
    assert code == 1
    assert "port 0" in one_line_error(err)


def test_status_without_a_printer_or_with_a_bad_config(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_PRINTER_MODE", "none")
    code, _, err = run(capsys, "printer", "status")
    assert code == 1
    assert "no printer configured" in one_line_error(err)

    monkeypatch.setenv("KIOSK_PRINTER_MODE", "network")
    monkeypatch.setenv("KIOSK_PRINTER_PORT", "0")  # network needs a port
    monkeypatch.setenv("KIOSK_PRINTER_TIMEOUT_S", "soon")
    code, out, err = run(capsys, "printer", "status")
    assert code == 2 and out == ""
    line = one_line_error(err)
    assert "invalid configuration" in line and "KIOSK_PRINTER_TIMEOUT_S" in line
    assert "port" in line


# ----------------------------------------------------------------- printer test-page


def test_test_page_on_a_network_printer(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    virtual: VirtualEscposPrinter,
) -> None:
    network_mode(monkeypatch, virtual.port)
    code, out, err = run(capsys, "printer", "test-page", "--lang", "en")
    assert code == 0, err
    assert "test page sent to network" in out
    (printed,) = virtual.wait_for_receipts(1)
    assert printed.cut
    (qr,) = qr_texts(printed.png_path)
    assert qr.startswith("motcua-kiosk/KIOSK-01 test ")

    code, _, err = run(capsys, "printer", "test-page", "--png", "x.png")
    assert code == 2
    assert "--png" in one_line_error(err)


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("paper", "paper"),
        ("cover", "cover open"),
        ("offline", "no answer"),
        ("jam", "did not finish"),
        ("runs-out", "paper ran out"),
    ],
)
def test_test_page_refused_by_the_printer(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    virtual: VirtualEscposPrinter,
    state: str,
    words: str,
) -> None:
    refuses = state in ("paper", "cover", "offline")
    if state == "paper":
        virtual.set_paper("out")
    elif state == "cover":
        virtual.set_cover_open(True)
    elif state == "offline":
        virtual.set_online(False)
    elif state == "jam":
        virtual.jam_next_job()  # takes the bytes, prints nothing
    else:
        virtual.set_paper_left(20)  # 20 mm of paper left: the page needs more
    network_mode(monkeypatch, virtual.port)
    code, out, err = run(capsys, "printer", "test-page")
    assert code == 1
    line = one_line_error(err)
    assert "cannot print" in line and words in line
    assert out == ""
    virtual.wait_idle()
    assert virtual.receipts == []
    if refuses:  # nothing was sent to a printer that said it cannot print
        assert "GS v 0" not in virtual.command_log


def test_a_jam_is_one_line_on_stderr_in_a_real_run(
    virtual: VirtualEscposPrinter, tmp_path: Path
) -> None:
    virtual.jam_next_job()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_PRINTER_MODE="network",
        KIOSK_PRINTER_PORT=str(virtual.port),
        KIOSK_PRINTER_TIMEOUT_S=TIMEOUT_S,
        KIOSK_KIOSK_DATA_DIR=str(tmp_path / "var"),
    )
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "printer", "test-page"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 1
    assert "did not finish" in one_line_error(result.stderr)  # the driver's log is held back


def test_test_page_in_simulated_mode(
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KIOSK_PRINTER_MODE", "simulated")
    monkeypatch.setenv("KIOSK_PRINTER_WIDTH_MM", "58")
    code, out, err = run(capsys, "printer", "test-page")
    assert code == 0, err
    (png,) = (tmp_path / "var" / "printer").glob("receipt-*.png")
    assert str(png) in out
    with Image.open(png) as img:
        assert img.width == 384

    wanted = tmp_path / "page.png"
    monkeypatch.setenv("KIOSK_PRINTER_QR", "native")  # as the kiosk would print it
    code, out, err = run(capsys, "printer", "test-page", "--png", str(wanted), "--json")
    assert code == 0, err
    assert json.loads(out)["png"] == str(wanted)
    assert qr_texts(wanted)[0].startswith("motcua-kiosk/KIOSK-01 test ")


# ----------------------------------------------------------------- printer simulate


def _kiosk(*args: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env["KIOSK_KIOSK_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def test_simulate_serves_until_interrupted(tmp_path: Path) -> None:
    out_dir = tmp_path / "pngs"
    proc = _kiosk("printer", "simulate", "--port", "0", "--out", str(out_dir), tmp_path=tmp_path)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on 127.0.0.1:" in line and str(out_dir.resolve()) in line, line
        port = int(line.split("127.0.0.1:")[1].split(";")[0])
        printer = EscposReceiptPrinter.network("127.0.0.1", port, timeout_s=5)
        status = printer.print_layout(receipt_layout(sample_receipt()))
        assert status.ready
        deadline = time.monotonic() + 10
        while not list(out_dir.glob("receipt-*.png")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (png,) = out_dir.glob("receipt-*.png")
        assert qr_texts(png) == [sample_receipt().qr_payload()]
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_simulate_json_and_a_busy_port(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        proc = _kiosk(
            "printer", "simulate", "--port", str(port), "--width-mm", "58", tmp_path=tmp_path
        )
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in err and len(err.strip().splitlines()) == 1

    proc = _kiosk("printer", "simulate", "--port", "0", "--json", tmp_path=tmp_path)
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["port"] > 0
        assert ready["out"] == str((tmp_path / "var" / "printer").resolve())  # [printer] default
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert proc.returncode == 0


# ----------------------------------------------------------------- the samples


def test_samples_agree_with_the_catalog_and_the_calendar() -> None:
    cfg = load_config(ROOT / "config" / "kiosk.toml", env={})
    catalog = load_catalog(cfg.catalog.procedures_dir)
    holidays = load_holidays(cfg.catalog.holidays_file)
    for name in SAMPLE_RECEIPTS:
        data = sample_receipt(name)
        proc = catalog.get(data.procedure_code)
        assert data.procedure_name == proc.name_vi
        assert data.fee_vnd == proc.fee_vnd
        titles = [doc.title_vi for doc in proc.documents]
        assert all(doc in titles for doc in data.documents), name
        cal = holidays if holidays.covers(data.received_at.year) else None
        if cal is None:  # a year the shipped file does not list: no public holiday in the span
            cal = HolidayCalendar(years=frozenset({data.received_at.year}))
            assert data.received_at.month == 11
        expected = add_working_days(data.received_at, proc.processing_days, cal)
        assert data.appointment_date == expected, name
        assert data.dossier_code.startswith(data.agency_code + "-")
        assert len(data.applicant_id) == 12 and data.applicant_id.isdigit()
    text = " ".join(sample_receipt(n).to_json() for n in SAMPLE_RECEIPTS)
    for words in ("Nguyễn", "Đắk Lắk", "Thừa Thiên Huế", "ộ", "ễ"):
        assert words in text
    assert sample_receipt("dak-lak").appointment_date == date(2025, 12, 15)
    ticket = sample_ticket()
    assert ticket.service_name in [s.name_vi for s in catalog.services()]
    assert ticket.number == "IN-U07" and ticket.priority_label == "Ưu tiên: người cao tuổi"


def test_samples_are_fresh_copies() -> None:
    first = sample_receipt()
    first.documents.append("changed")
    assert "changed" not in sample_receipt().documents
    with pytest.raises(ValueError, match="dak-lak, hue-2024"):
        sample_receipt("nowhere")
