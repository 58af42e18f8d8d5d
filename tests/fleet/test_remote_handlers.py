"""The kiosk's own command handlers (kiosk/app/remote.py) behind the fleet agent, against the
real back office: staff close the kiosk with a typed message, print a test page, reopen it;
each command runs the maintenance console's action, audited as the operator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_kiosk import FleetKiosk, command_row, queue, register_kiosk
from support.backoffice_server import BackofficeServer

from kiosk.app.remote import remote_console, remote_handlers
from kiosk.catalog.procedures import load_catalog
from kiosk.staff.service_state import ServiceMode


@pytest.fixture
def kiosk(server: BackofficeServer, tmp_path: Path) -> Iterator[FleetKiosk]:
    kiosk_id = register_kiosk(server)
    built = FleetKiosk(server, tmp_path / "kiosk", kiosk_id=kiosk_id, handlers={})
    services = built.services

    def reload() -> object:
        services.catalog = load_catalog(built.config.catalog.procedures_dir)
        return services.catalog

    console = remote_console(services, services.service_state, built.audit_log.append, reload)
    built.agent.runner.handlers = remote_handlers(console, ui=None)
    yield built
    built.close()


def test_commands_run_the_consoles_actions(server: BackofficeServer, kiosk: FleetKiosk) -> None:
    state = kiosk.services.service_state
    closed = queue(server, kiosk.kiosk_id, "out-of-service", message_vi="Tạm dừng để sửa máy in")
    page = queue(server, kiosk.kiosk_id, "print-test-page")
    shot = queue(server, kiosk.kiosk_id, "screenshot")
    kiosk.agent.beat()
    assert state.mode is ServiceMode.OUT_OF_SERVICE
    assert state.message is not None and state.message.vi == "Tạm dừng để sửa máy in"
    assert command_row(server, closed["id"])["ok"] is True
    printed = command_row(server, page["id"])
    assert printed["ok"] is True and "print ok" in printed["detail"]
    refused = command_row(server, shot["id"])
    assert refused["ok"] is False and "without a screen" in refused["detail"]
    reopened = queue(server, kiosk.kiosk_id, "back-in-service")
    kiosk.agent.beat()
    assert state.mode is ServiceMode.SERVICE and command_row(server, reopened["id"])["ok"]
    entries = [(e.actor, e.action) for e in kiosk.audit_log.entries_since(0)]
    assert ("operator:backoffice", "maintenance.out_of_service") in entries
    assert ("operator:backoffice", "maintenance.test_page") in entries
    assert ("operator:backoffice", "maintenance.back_in_service") in entries
    assert kiosk.audit_log.verify() is None
