"""Logs exported from maintenance mode (kiosk/maintenance/export.py, kiosk/infra/log_ring.py):
the recent log masked, the audit log as it is (its chain still verifies), the status; no stick,
a clear refusal."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.app.services import KioskParts
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.infra.log_ring import LogRing, mask_personal
from kiosk.maintenance.console import MaintenanceConsole, NoUsbStick
from kiosk.maintenance.export import usb_folder
from kiosk.staff import audit
from kiosk.staff.audit import AuditLog
from kiosk.staff.service_state import ServiceState

WHEN = datetime(2026, 12, 7, 9, 30, tzinfo=VIETNAM_TZ)


def test_the_mask_hides_id_numbers_phones_and_mail() -> None:
    line = "card 001090012345 read; old id 013456789; call 0912345678; mail an.nv@example.vn"
    masked = mask_personal(line)
    assert masked == "card <che> read; old id <che>; call <che>; mail <che>"
    assert mask_personal("dossier 2.001740 took 14 ms, 113 APDUs") == (
        "dossier 2.001740 took 14 ms, 113 APDUs"
    )


def test_the_ring_keeps_the_last_lines_masked() -> None:
    ring = LogRing(capacity=3, fmt="%(message)s")
    logger = logging.getLogger("kiosk.test.ring")
    logger.addHandler(ring)
    try:
        for n in range(5):
            logger.warning("line %d for 00109001234%d", n, n)
    finally:
        logger.removeHandler(ring)
    assert ring.lines() == ["line 2 for <che>", "line 3 for <che>", "line 4 for <che>"]


@pytest.fixture
def console(kiosk_config: Any) -> Iterator[MaintenanceConsole]:
    data = Path(kiosk_config.kiosk.data_dir)
    log = AuditLog.in_data_dir(data, kiosk_id="KIOSK-01")

    class Staff:
        def audit(self, action: str, **detail: Any) -> Any:
            return log.append("NV001", action, detail)

    ring = LogRing(fmt="%(message)s")
    ring.emit(logging.makeLogRecord({"msg": "chip read for 001090012345: authentic"}))
    with KioskParts(kiosk_config) as parts:
        yield MaintenanceConsole(
            parts.services(),
            ServiceState(data),
            actor=Staff(),
            log_lines=ring.lines,
            audit_path=log.path,
            clock=lambda: WHEN,
        )


def test_the_export_holds_the_masked_log_the_audit_log_and_the_status(
    console: MaintenanceConsole, tmp_path: Path
) -> None:
    stick = tmp_path / "stick"
    stick.mkdir()
    folder = console.export_logs(stick)
    assert folder == stick / "kiosk-logs-KIOSK-01-20261207-093000"
    assert sorted(p.name for p in folder.iterdir()) == ["audit.jsonl", "kiosk.log", "status.json"]
    assert (folder / "kiosk.log").read_text() == "chip read for <che>: authentic\n"
    assert audit.verify(folder / "audit.jsonl") is None  # the copy is whole, its chain holds
    assert "maintenance.export_logs" in (folder / "audit.jsonl").read_text()
    status = json.loads((folder / "status.json").read_text())
    assert status["kiosk"] == "KIOSK-01" and status["mode"]["mode"] == "service"
    assert [d["name"] for d in status["devices"]] == [
        "card_reader",
        "camera",
        "printer",
        "backoffice",
    ]
    assert "001090012345" not in "".join(p.read_text() for p in folder.iterdir())


def test_without_a_stick_the_export_says_so(
    console: MaintenanceConsole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert usb_folder([tmp_path]) is None  # a plain folder is not a mounted stick
    monkeypatch.setattr("kiosk.maintenance.export.USB_ROOTS", (tmp_path,))
    with pytest.raises(NoUsbStick) as caught:
        console.export_logs()
    assert "USB" in caught.value.msgid
