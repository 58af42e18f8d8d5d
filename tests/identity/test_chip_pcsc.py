"""The real chip path: pyscard → pcscd → vpcd virtual reader → the simulated CCCD, by command.

pcscd with Debian's vsmartcard-vpcd driver is installed by scripts/bootstrap.sh; this test starts
pcscd itself when none is running (CI is root on a fresh machine), then runs
``kiosk chip simulate`` and ``kiosk chip read`` as separate processes, as a tester would. The PC/SC
reader's own tests against the daemon (without it, then through it) are here too: pcscd is one
daemon for the machine, and ``make test``'s workers take a file each (``--dist loadfile``), so
everything that starts, needs or must not see pcscd runs in this one file, in order.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from smartcard import scard

from devices.card_reader.interface import ReaderUnavailable
from devices.card_reader.pcsc import PcscCardReader, PcscServiceUnavailable

ROOT = Path(__file__).resolve().parents[2]
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
VPCD_PORT = 35963
READER_MSGID = "The card reader is not connected. Please ask the staff for help."


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- the PC/SC reader without pcscd (first: no test above starts it) ---------------------------


def pcscd_reachable() -> bool:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return False
    scard.SCardReleaseContext(context)
    return True


def test_pcsc_reader_without_pcscd_reports_it() -> None:
    if pcscd_reachable():  # first in this file: before the fixture below starts pcscd
        pytest.skip("pcscd runs on this machine")
    reader = PcscCardReader("")
    health = reader.health()
    assert (health.device, health.ok) == ("card reader", False)
    assert health.detail.startswith("pcscd is not running")
    for call in (reader.readers, reader.card_present, lambda: reader.wait_for_card(0.1)):
        with pytest.raises(PcscServiceUnavailable) as caught:
            call()
        assert caught.value.user_message() == READER_MSGID


@pytest.mark.timeout(30)
def test_pcsc_reader_through_pcscd(pcscd: None) -> None:
    everything = PcscCardReader("").readers()
    assert all(isinstance(name, str) for name in everything)
    missing = PcscCardReader("no such reader 7c1f")
    assert missing.readers() == []
    health = missing.health()
    assert not health.ok and health.detail.startswith("no reader")
    assert "no such reader 7c1f" in health.detail
    with pytest.raises(ReaderUnavailable) as caught:
        missing.wait_for_card(0.2)
    assert not isinstance(caught.value, PcscServiceUnavailable)
    assert caught.value.user_message() == READER_MSGID
    if everything:
        present = PcscCardReader(everything[0])
        assert present.health().ok
        assert isinstance(present.card_present(), bool)


@pytest.fixture(scope="module")
def pcscd() -> Iterator[None]:
    if os.environ.get("KIOSK_TEST_NO_PCSCD") == "1":
        pytest.skip("KIOSK_TEST_NO_PCSCD=1: the pcscd + vpcd test is switched off")
    assert shutil.which("pcscd"), "pcscd is missing: run scripts/bootstrap.sh"
    assert VPCD_DRIVER.exists(), "vsmartcard-vpcd is missing: run scripts/bootstrap.sh"
    process = None
    if not _port_open(VPCD_PORT):
        process = subprocess.Popen(
            ["pcscd", "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while not _port_open(VPCD_PORT):
            assert process.poll() is None, "pcscd exited at start"
            assert time.monotonic() < deadline, "vpcd did not open port 35963"
            time.sleep(0.1)
    yield
    if process is not None:
        process.terminate()
        process.wait(timeout=10)


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIOSK_KIOSK_DATA_DIR=str(tmp / "var"),
        KIOSK_CARD_READER_TEST_PKI_DIR=str(tmp / "pki"),
    )
    return env


def _simulate(profile: str, tmp: Path) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli.main", "chip", "simulate", "--profile", profile],
        cwd=ROOT,
        env=_env(tmp),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, process.stderr.read() if process.stderr else "no output"
    return process, json.loads(line)


def _read(info: dict[str, str], tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "chip", "read", "--reader", "Virtual PCD",
         "--id", info["id_number"], "--json", "--timeout", "20", *extra],
        cwd=ROOT, env=_env(tmp), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_chip_read_through_pcscd_is_authentic(pcscd: None, tmp_path: Path) -> None:
    simulator, info = _simulate("demo", tmp_path)
    try:
        assert info["can"] == info["id_number"][-6:]
        assert info["mrz"].startswith("IDVNM")
        result = _read(info, tmp_path, "--trust", str(tmp_path / "pki" / "csca.pem"))
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["protocol"] == "PACE"
    assert payload["passive_authentication"] == "authentic"
    assert payload["dg13"]["id_number"] == info["id_number"]
    assert payload["dg13"]["full_name"] == info["full_name"]
    assert payload["dg1"]["document_number"] == info["id_number"][-9:]
    assert payload["photo"]["bytes"] > 10_000
    assert payload["active_authentication"]["verified"] is True


def test_tampered_card_reports_the_failing_data_group(pcscd: None, tmp_path: Path) -> None:
    simulator, info = _simulate("tampered", tmp_path)
    try:
        result = _read(info, tmp_path, "--trust", str(tmp_path / "pki" / "csca.pem"))
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    payload = json.loads(result.stdout)
    assert payload["passive_authentication"] == "tampered"
    assert payload["failed_data_groups"] == [13]


def test_the_test_csca_is_never_trusted_for_a_pcsc_reader(pcscd: None, tmp_path: Path) -> None:
    # the default config is in simulated mode, but --reader means a real reader: no test CSCA
    simulator, info = _simulate("demo", tmp_path)
    try:
        result = _read(info, tmp_path)
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["passive_authentication"] == "not_checked"


def test_untrusted_signer_profile(pcscd: None, tmp_path: Path) -> None:
    simulator, info = _simulate("untrusted-signer", tmp_path)
    try:
        result = _read(info, tmp_path, "--trust", str(tmp_path / "pki" / "csca.pem"))
    finally:
        simulator.terminate()
        simulator.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["passive_authentication"] == "untrusted_signer"
