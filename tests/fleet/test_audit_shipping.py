"""The staff audit log shipped with the heartbeats to the real back office: entries arrive in
order, the back office checks that they continue the chain it holds, the kiosk keeps the mark
it answers (across a restart), and an edited, removed or foreign entry stops the shipping
there, visibly, until someone looks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fleet_kiosk import OTHER, STAFF, FleetKiosk, kiosk_row, register_kiosk
from support.backoffice_server import BackofficeServer

from kiosk.fleet.audit_feed import MARK_FILE, MAX_ENTRIES_PER_BEAT
from kiosk.staff.audit import AuditLog


@pytest.fixture
def kiosk(server: BackofficeServer, tmp_path: Path) -> Iterator[FleetKiosk]:
    k = FleetKiosk(server, tmp_path / "var", kiosk_id=register_kiosk(server))
    yield k
    k.close()


def held(server: BackofficeServer, kiosk_id: str, since: int = 0) -> list[dict[str, Any]]:
    """The kiosk's audit entries the back office holds (staff API)."""
    answer = requests.get(
        f"{server.url}/api/v1/kiosks/{kiosk_id}/audit",
        params={"since": since, "limit": 1000},
        headers=STAFF,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, Any]] = answer.json()
    return entries


def mark_on_disk(kiosk: FleetKiosk) -> int:
    return int(json.loads((kiosk.data_dir / "fleet" / MARK_FILE).read_text())["received_through"])


def rewrite_lines(path: Path, change: Any) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(change(lines)), encoding="utf-8")


def test_audit_entries_arrive_and_the_mark_advances(
    server: BackofficeServer, kiosk: FleetKiosk, tmp_path: Path
) -> None:
    log = kiosk.audit_log
    written = [
        log.append("NV001", "staff.sign_in", {"method": "pin"}),
        log.append("NV001", "maintenance.printer_test", {"printed": True}),
        log.append("NV001", "staff.sign_out", {}),
    ]
    assert kiosk.agent.beat()
    stored = held(server, kiosk.kiosk_id)
    assert [(e["seq"], e["hash"], e["prev"]) for e in stored] == [
        (w.seq, w.hash, w.prev) for w in written
    ]
    assert stored[1]["detail"] == {"printed": True}
    assert kiosk_row(server, kiosk.kiosk_id)["audit_received_through"] == 3
    assert kiosk.agent.status.audit is not None
    assert kiosk.agent.status.audit.received_through == 3 == mark_on_disk(kiosk)
    log.append("system", "staff.pin_failed", {"account": "NV002", "failures": 1})
    log.append("system", "staff.pin_failed", {"account": "NV002", "failures": 2})
    assert [e["seq"] for e in kiosk.agent.status.heartbeat()["audit"]] == [4, 5]
    assert kiosk.agent.beat()
    assert [e["seq"] for e in held(server, kiosk.kiosk_id)] == [1, 2, 3, 4, 5]
    assert mark_on_disk(kiosk) == 5
    # the same kiosk after a restart sends only what is new
    kiosk.close()
    again = FleetKiosk(server, kiosk.data_dir, kiosk_id=kiosk.kiosk_id)
    try:
        assert again.agent.status.heartbeat()["audit"] == []
        again.audit_log.append("NV001", "staff.sign_in", {"method": "card"})
        assert [e["seq"] for e in again.agent.status.heartbeat()["audit"]] == [6]
        assert again.agent.beat()
        assert mark_on_disk(again) == 6
    finally:
        again.close()


def test_a_long_log_goes_over_several_beats(server: BackofficeServer, kiosk: FleetKiosk) -> None:
    for n in range(450):
        kiosk.audit_log.append("system", "maintenance.tick", {"n": n})
    marks = []
    for _ in range(3):
        payload = kiosk.agent.status.heartbeat()
        assert len(payload["audit"]) <= MAX_ENTRIES_PER_BEAT
        assert kiosk.agent.beat()
        marks.append(mark_on_disk(kiosk))
    assert marks == [200, 400, 450]
    assert len(held(server, kiosk.kiosk_id)) == 450


def test_an_edited_entry_stops_the_shipping_there(
    server: BackofficeServer, kiosk: FleetKiosk, caplog: pytest.LogCaptureFixture
) -> None:
    log = kiosk.audit_log
    for n in range(3):
        log.append("NV001", "maintenance.step", {"n": n})
    assert kiosk.agent.beat()
    for n in range(3, 6):
        log.append("NV001", "maintenance.step", {"n": n})

    def edit_fifth(lines: list[str]) -> list[str]:
        entry = json.loads(lines[4])
        entry["detail"] = {"n": 40}  # its hash left as it was
        lines[4] = json.dumps(entry, ensure_ascii=False) + "\n"
        return lines

    rewrite_lines(log.path, edit_fifth)
    with caplog.at_level(logging.ERROR, logger="kiosk.fleet"):
        for _ in range(3):
            assert kiosk.agent.beat()  # the heartbeat itself is taken
    assert [e["seq"] for e in held(server, kiosk.kiosk_id)] == [1, 2, 3, 4]
    assert mark_on_disk(kiosk) == 4
    row = kiosk_row(server, kiosk.kiosk_id)
    assert row["audit_received_through"] == 4
    assert "seq 5" in row["audit_problem"] and "edited" in row["audit_problem"]
    said = [r for r in caplog.records if "refuses this kiosk's audit entries" in r.message]
    assert len(said) == 1  # once, not at every beat


def test_a_removed_entry_or_a_rewritten_log_does_not_continue_the_chain(
    server: BackofficeServer, kiosk: FleetKiosk
) -> None:
    log = kiosk.audit_log
    for n in range(3):
        log.append("NV001", "maintenance.step", {"n": n})
    assert kiosk.agent.beat()
    for n in range(3, 6):
        log.append("NV001", "maintenance.step", {"n": n})
    rewrite_lines(log.path, lambda lines: lines[:4] + lines[5:])  # entry 5 removed
    assert kiosk.agent.beat()
    assert [e["seq"] for e in held(server, kiosk.kiosk_id)] == [1, 2, 3, 4]
    problem = kiosk_row(server, kiosk.kiosk_id)["audit_problem"]
    assert "seq 6 does not continue the chain" in problem
    # the log rewritten from scratch (same kiosk id, new chain): refused from its first entry
    log.path.unlink()
    (kiosk.data_dir / "fleet" / MARK_FILE).unlink()
    kiosk.close()
    fresh = FleetKiosk(server, kiosk.data_dir, kiosk_id=kiosk.kiosk_id)
    try:
        fresh.audit_log.append("NV009", "maintenance.step", {"n": 0})
        assert fresh.agent.beat()
        assert mark_on_disk(fresh) == 4  # the back office's mark, not this log's
        assert (
            "seq 1 differs from the entry already held"
            in (kiosk_row(server, kiosk.kiosk_id)["audit_problem"])
        )
        assert fresh.agent.beat()  # nothing new to send: the problem stays in sight
        assert kiosk_row(server, kiosk.kiosk_id)["audit_problem"] is not None
        assert len(held(server, kiosk.kiosk_id)) == 4
    finally:
        fresh.close()


def test_another_kiosks_entries_are_refused(server: BackofficeServer, kiosk: FleetKiosk) -> None:
    foreign = AuditLog(kiosk.audit_log.path, kiosk_id=OTHER)  # the same file, another id
    foreign.append("system", "staff.pin_failed", {"account": None, "failures": 1})
    assert kiosk.agent.beat()
    assert held(server, kiosk.kiosk_id) == []
    assert "belongs to kiosk 'KIOSK-02'" in kiosk_row(server, kiosk.kiosk_id)["audit_problem"]


def test_the_back_offices_mark_is_the_truth(server: BackofficeServer, kiosk: FleetKiosk) -> None:
    from sqlalchemy import delete

    from backoffice.db import AuditRecord

    for n in range(5):
        kiosk.audit_log.append("NV001", "maintenance.step", {"n": n})
    assert kiosk.agent.beat()
    assert mark_on_disk(kiosk) == 5
    ctx = server.context()  # the back office restored from a backup taken after entry 2
    try:
        with ctx.session() as session, session.begin():
            session.execute(
                delete(AuditRecord).where(
                    AuditRecord.kiosk_id == kiosk.kiosk_id, AuditRecord.seq > 2
                )
            )
    finally:
        ctx.close()
    assert kiosk.agent.beat()  # the answer says 2: the kiosk goes back to it
    assert mark_on_disk(kiosk) == 2
    assert kiosk.agent.beat()  # and sends 3 to 5 again
    assert mark_on_disk(kiosk) == 5
    assert [e["seq"] for e in held(server, kiosk.kiosk_id)] == [1, 2, 3, 4, 5]
    assert kiosk_row(server, kiosk.kiosk_id)["audit_problem"] is None
