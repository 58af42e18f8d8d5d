"""kiosk/maintenance/console.py on the kiosk's real parts (simulated devices: the virtual ESC/POS
printer on a loopback port, the virtual CCCD, the simulated camera, the embedded back office):
each test reads what a technician would read, and each action is in the audit log under who
did it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.app.services import KioskParts
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.maintenance.console import MaintenanceConsole, RemoteActor
from kiosk.staff.audit import AuditLog
from kiosk.staff.service_state import PRESET_MESSAGES, ServiceMode, ServiceState, typed_message

WHEN = datetime(2026, 12, 7, 9, 30, tzinfo=VIETNAM_TZ)


class Recorder:
    """Stands where a StaffSession stands: writes its entries into a real audit log."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log

    def audit(self, action: str, **detail: Any) -> Any:
        return self.log.append("NV001", action, detail)


@pytest.fixture
def parts(kiosk_config: Any) -> Iterator[KioskParts]:
    with KioskParts(kiosk_config) as built:
        yield built


@pytest.fixture
def console(parts: KioskParts, kiosk_config: Any) -> Iterator[MaintenanceConsole]:
    data = Path(kiosk_config.kiosk.data_dir)
    log = AuditLog.in_data_dir(data, kiosk_id="KIOSK-01")
    services = parts.services()
    yield MaintenanceConsole(
        services,
        ServiceState(data),
        actor=Recorder(log),
        reload_catalog=lambda: parts.catalog,
        clock=lambda: WHEN,
    )


def actions(console: MaintenanceConsole) -> list[str]:
    log: AuditLog = console.actor.log  # type: ignore[attr-defined]
    return [e.action for e in log.entries_since(0)]


def test_the_device_report_names_each_device_and_the_paper(console: MaintenanceConsole) -> None:
    reports = {r.name: r for r in console.devices()}
    assert list(reports) == ["card_reader", "camera", "printer", "backoffice"]
    assert all(r.up for r in reports.values()), reports
    assert reports["printer"].paper == "ok"
    assert "Simulated" in reports["camera"].driver
    console.services.virtual_printer.set_paper("out")  # type: ignore[union-attr]
    printer = {r.name: r for r in console.devices()}["printer"]
    assert not printer.up and printer.paper == "out"


def test_the_test_page_prints_and_says_how_the_printer_is(console: MaintenanceConsole) -> None:
    virtual: Any = console.services.virtual_printer
    before = len(virtual.receipts)
    result = console.print_test_page()
    assert result.ok, result
    assert [s.step for s in result.steps] == ["print", "status"]
    assert all(s.ms >= 0 for s in result.steps)
    assert len(virtual.wait_for_receipts(before + 1)) == before + 1
    assert actions(console) == ["maintenance.test_page", "maintenance.test_page_done"]
    virtual.set_paper("out")
    failed = console.print_test_page()
    assert not failed.ok and not failed.steps[0].ok and "paper" in failed.steps[0].detail.lower()


def test_the_card_probe_reads_no_personal_data(console: MaintenanceConsole) -> None:
    result = console.probe_card(timeout_s=5)
    assert result.ok, result
    card, access = result.steps
    assert card.step == "card" and card.detail.startswith("ATR ")
    assert access.step == "card_access" and "id-PACE-" in access.detail
    profile: Any = console.services.card_reader.card.profile  # type: ignore[attr-defined]
    text = repr(result)
    assert profile.id_number not in text and profile.full_name not in text


def test_a_card_probe_without_a_card_says_so(console: MaintenanceConsole) -> None:
    reader: Any = console.services.card_reader
    reader.remove()
    result = console.probe_card(timeout_s=0.2)
    assert not result.ok and result.steps[0].step == "card"
    assert actions(console)[-1] == "maintenance.card_test_done"


def test_the_camera_check_finds_the_page_and_measures_sharpness(
    console: MaintenanceConsole,
) -> None:
    check = console.check_camera()
    assert not hasattr(check, "steps"), check
    assert check.corners is not None and len(check.corners) == 4  # type: ignore[union-attr]
    assert check.sharpness is not None and check.sharp_enough  # type: ignore[union-attr]


def test_outbox_and_queue_views(console: MaintenanceConsole) -> None:
    view = console.outbox()
    assert (view.pending, view.parked) == (0, 0) and view.parked_dossiers == ()
    assert console.send_now() == 0
    queue = console.queue()
    assert queue.counters and set(queue.waiting) <= set(queue.service_names)
    assert actions(console) == ["maintenance.outbox_send_now"]


def test_out_of_service_survives_a_restart_and_is_audited(
    console: MaintenanceConsole, kiosk_config: Any
) -> None:
    console.close_kiosk(PRESET_MESSAGES["printer"])
    assert console.state.mode is ServiceMode.OUT_OF_SERVICE
    again = ServiceState(Path(kiosk_config.kiosk.data_dir))
    assert again.mode is ServiceMode.OUT_OF_SERVICE and again.message == PRESET_MESSAGES["printer"]
    console.reopen_kiosk()
    assert ServiceState(Path(kiosk_config.kiosk.data_dir)).mode is ServiceMode.SERVICE
    assert actions(console) == ["maintenance.out_of_service", "maintenance.back_in_service"]


def test_a_remote_command_is_audited_as_the_operator(
    console: MaintenanceConsole, kiosk_config: Any
) -> None:
    log = AuditLog.in_data_dir(Path(kiosk_config.kiosk.data_dir), kiosk_id="KIOSK-01")
    remote = MaintenanceConsole(console.services, console.state, actor=RemoteActor(log.append))
    remote.close_kiosk(typed_message("Ki-ốt tạm dừng để sửa máy in"))
    entry = log.entries_since(0)[-1]
    assert (entry.actor, entry.action) == ("operator:backoffice", "maintenance.out_of_service")
    assert log.verify() is None


def test_reload_catalog_counts_the_procedures(console: MaintenanceConsole) -> None:
    assert console.reload_catalog() == 12
    assert actions(console)[-1] == "maintenance.reload_catalog_done"
