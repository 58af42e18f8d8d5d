"""The heartbeat a kiosk with simulated devices sends to the real back office on loopback: its
shape (what the fleet page reads), what moves it, that nothing personal is in it, and that a
heartbeat signed with another kiosk's credential is refused."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fleet_kiosk import (
    KIOSK,
    OTHER,
    FleetKiosk,
    heartbeats_stored,
    kiosk_row,
    register_kiosk,
)
from support.backoffice_server import BackofficeServer, sample_dossier

from kiosk.delivery.backoffice import SubmissionRejected
from kiosk.delivery.http_client import BackOfficeAuthError, HttpBackOffice
from kiosk.delivery.signing import signed_headers
from kiosk.fleet.status import HEARTBEAT_BUDGET_BYTES, MAX_HEARTBEAT_BYTES, compact_json
from kiosk.flow.events import SessionEnded, SessionOutcome
from kiosk.infra.clock import now_vietnam
from kiosk.session.state import Journey
from kiosk.staff.service_state import PRESET_MESSAGES

ISO_VIETNAM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00$")
KEYS = {
    "schema",
    "sent_at",
    "interval_s",
    "version",
    "mode",
    "out_of_service_message",
    "devices",
    "paper",
    "outbox",
    "today",
    "pin_failures_last_hour",
    "audit",
}


@pytest.fixture
def kiosk(server: BackofficeServer, tmp_path: Path) -> Iterator[FleetKiosk]:
    """A kiosk of its own for each test (a fresh data folder starts a fresh audit chain)."""
    k = FleetKiosk(server, tmp_path / "var", kiosk_id=register_kiosk(server))
    yield k
    k.close()


def test_a_heartbeat_arrives_with_the_status_the_fleet_page_reads(
    server: BackofficeServer, kiosk: FleetKiosk
) -> None:
    sent = kiosk.agent.status.heartbeat()
    assert set(sent) == KEYS
    assert kiosk.agent.beat()
    assert heartbeats_stored(server, kiosk.kiosk_id) == 1
    row = kiosk_row(server, kiosk.kiosk_id)
    status = row["last_status"]
    assert set(status) == KEYS - {"audit"}  # the audit entries are stored apart
    assert status["schema"] == 1
    assert ISO_VIETNAM.match(status["sent_at"]), status["sent_at"]
    assert status["interval_s"] == 60
    assert status["version"] == "0.1.0"
    assert status["mode"] == "service" and status["out_of_service_message"] is None
    assert [d["name"] for d in status["devices"]] == [
        "card_reader",
        "camera",
        "printer",
        "backoffice",
    ]
    for device in status["devices"]:
        assert set(device) == {"name", "up", "mode", "detail"}
        assert device["up"] is True, device
    modes = {d["name"]: d["mode"] for d in status["devices"]}
    assert modes == {
        "card_reader": "simulated",
        "camera": "simulated",
        "printer": "simulated",
        "backoffice": "remote",
    }
    assert status["paper"] == "ok"
    assert status["outbox"] == {"pending": 0, "parked": 0, "oldest_pending_age_s": 0.0}
    assert status["today"] == {"sessions": 0, "submitted": 0, "ratings": 0, "satisfied": 0}
    assert status["pin_failures_last_hour"] == 0
    assert row["last_heartbeat_at"] is not None


def test_the_heartbeat_follows_the_kiosk(server: BackofficeServer, kiosk: FleetKiosk) -> None:
    services = kiosk.services
    assert services.virtual_printer is not None
    services.virtual_printer.set_paper("out")
    services.camera.unplug()  # type: ignore[attr-defined]
    kiosk.events.emit(SessionEnded(Journey.DOSSIER, SessionOutcome.SUBMITTED))
    kiosk.events.emit(SessionEnded(Journey.QUEUE, SessionOutcome.TICKET))
    services.ratings.record(kiosk.kiosk_id, "dossier", None, 5, now_vietnam())
    services.ratings.record(kiosk.kiosk_id, "dossier", None, 2, now_vietnam())
    services.service_state.close(PRESET_MESSAGES["printer"])
    for _ in range(3):
        kiosk.audit_log.append("system", "staff.pin_failed", {"account": None, "failures": 1})
    assert kiosk.agent.beat()
    status = kiosk_row(server, kiosk.kiosk_id)["last_status"]
    assert status["paper"] == "out"
    up = {d["name"]: d["up"] for d in status["devices"]}
    assert up == {"card_reader": True, "camera": False, "printer": False, "backoffice": True}
    assert status["today"] == {"sessions": 2, "submitted": 1, "ratings": 2, "satisfied": 1}
    assert status["mode"] == "out_of_service"
    message = PRESET_MESSAGES["printer"]
    assert status["out_of_service_message"] == {"vi": message.vi, "en": message.en}
    assert status["pin_failures_last_hour"] == 3
    services.service_state.reopen()
    assert kiosk.agent.beat()
    status = kiosk_row(server, kiosk.kiosk_id)["last_status"]
    assert status["mode"] == "service" and status["out_of_service_message"] is None


def test_nothing_personal_is_in_a_heartbeat(
    server: BackofficeServer, kiosk: FleetKiosk, tmp_path: Path
) -> None:
    services = kiosk.services
    services.sender.stop()  # the dossier waits in the outbox
    dossier = sample_dossier(services.catalog, kiosk.kiosk_id, tmp_path / "scans")
    entry = services.outbox.put(dossier)
    kiosk.audit_log.append("NV001", "maintenance.enter", {"screen": "devices"})
    payload = kiosk.agent.status.heartbeat()
    assert payload["outbox"]["pending"] == 1
    assert payload["outbox"]["oldest_pending_age_s"] >= 0
    text = json.dumps(payload, ensure_ascii=False)
    assert dossier.applicant.id_number not in text
    assert dossier.applicant.full_name not in text
    assert entry.reference not in text  # the provisional reference of the dossier
    # no ID number of any kind (digits inside a hex hash are not one)
    assert not re.search(r"(?<![0-9A-Za-z])\d{9,12}(?![0-9A-Za-z])", text)
    assert not re.search(r"\d{3}\.\d\d\.\d\d\.[A-Z]\d\d-\d{6}-\d{4}", text)  # no dossier code
    assert kiosk.agent.beat()
    row = kiosk_row(server, kiosk.kiosk_id)
    assert dossier.applicant.id_number not in json.dumps(row, ensure_ascii=False)


def test_a_heartbeat_fits_the_servers_limit_whatever_the_audit_log_holds(
    server: BackofficeServer, kiosk: FleetKiosk
) -> None:
    note = "ghi chú " * 120  # about 1 KB of Vietnamese text per entry
    for n in range(150):
        kiosk.audit_log.append("system", "maintenance.note", {"n": n, "note": note})
    payload = kiosk.agent.status.heartbeat()
    size = len(compact_json(payload))
    assert size <= HEARTBEAT_BUDGET_BYTES < MAX_HEARTBEAT_BYTES
    sent = len(payload["audit"])
    assert 10 < sent < 150  # as many as fit, the rest with the next beats
    assert [e["seq"] for e in payload["audit"]] == list(range(1, sent + 1))
    beats = 0
    while kiosk.agent.status.audit.received_through < 150:  # type: ignore[union-attr]
        assert kiosk.agent.beat()
        beats += 1
        assert beats < 10
    assert beats >= 3


def test_a_heartbeat_signed_with_another_kiosks_credential_is_refused(
    server: BackofficeServer,
) -> None:
    before = kiosk_row(server)["last_status"]
    payload = {"schema": 1, "mode": "out_of_service", "paper": "out"}
    other_secret = server.secrets[OTHER]  # type: ignore[attr-defined]
    # KIOSK-01's id with KIOSK-02's secret: the signature does not verify
    with (
        HttpBackOffice(server.url, KIOSK, other_secret, timeout_s=5) as impostor,
        pytest.raises(BackOfficeAuthError, match="401"),
    ):
        impostor.heartbeat(payload)
    # KIOSK-02 signing as itself, for KIOSK-01's path: authenticated, not allowed
    body = json.dumps(payload).encode()
    path = f"/api/v1/kiosks/{KIOSK}/heartbeat"
    headers = signed_headers(OTHER, other_secret, "POST", path, hashlib.sha256(body).hexdigest())
    headers["Content-Type"] = "application/json"
    answer = requests.post(server.url + path, data=body, headers=headers, timeout=5)
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    assert kiosk_row(server)["last_status"] == before


def test_the_back_office_refuses_a_heartbeat_past_its_limit(server: BackofficeServer) -> None:
    secret = server.secrets[KIOSK]  # type: ignore[attr-defined]
    big: dict[str, Any] = {"schema": 1, "devices": [{"name": "x", "detail": "d" * 70_000}]}
    with (
        HttpBackOffice(server.url, KIOSK, secret, timeout_s=5) as client,
        pytest.raises(SubmissionRejected, match="at most 65536 bytes"),
    ):
        client.heartbeat(big)
