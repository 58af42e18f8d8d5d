"""The durable outbox on real SQLite files: storage, encryption at rest, delivery and retries,
parking, purging, damaged files, full disks, the CLI.

The back office is the scripted one of tests/support/scripted_backoffice.py: it answers as the
reference server does (codes, idempotency, the shared dossier rules) and records each page as it
arrived, so a test sees every dossier delivered exactly once and whole; it can be made
unreachable (``down``) or hang (``hold``), as a network or a stopped server would. Real delivery
to the reference server, through crashes and restarts, is tests/delivery/test_outbox_crash.py and
tests/delivery/test_outbox_chaos.py. The catalog is built here (one procedure, two documents) so
these tests follow the outbox, not the catalog files.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import os
import sqlite3
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.scripted_backoffice import ScriptedBackOffice

from kiosk.catalog.procedures import Catalog, DocumentRequirement, Procedure
from kiosk.delivery.backoffice import IdempotencyConflict
from kiosk.delivery.outbox.crypto import BlobError, OutboxCipher
from kiosk.delivery.outbox.sender import OutboxSender
from kiosk.delivery.outbox.store import (
    MSG_NOT_SAVED,
    MSG_TOO_LARGE,
    EntryState,
    Outbox,
    OutboxDuplicateKey,
    OutboxFull,
    OutboxKeyError,
    OutboxNotSaved,
    OutboxTooLarge,
    is_provisional_reference,
    load_outbox_key,
    provisional_result,
)
from kiosk.dossier.model import Applicant, Attachment, DossierSubmission, SubmissionResult
from kiosk.dossier.workdays import HolidayCalendar, add_working_days, load_holidays
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.paths import CONFIG_DIR

AGENCY = "000.00.08.H21"
KIOSK = "KIOSK-01"
KEY = bytes(range(32))
NAME = "Nguyễn Thị Thu Hằng"
ID_NUMBER = "001185012345"
ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent  # the subprocesses import this module

FORM = {
    "schema": {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "title": "Tờ khai thử",
        "x-title-en": "Test declaration",
        "additionalProperties": False,
        "required": ["ten_co_so"],
        "properties": {
            "ten_co_so": {"type": "string", "title": "Tên cơ sở", "maxLength": 100},
            "so_may": {"type": "integer", "title": "Số máy", "minimum": 1, "maximum": 50},
        },
    },
    "ui_schema": {"ui:order": ["ten_co_so", "so_may"]},
}


def make_catalog() -> Catalog:
    """One procedure with a required declaration and an optional second document."""
    return Catalog(
        [
            Procedure(
                code="TEST.001",
                code_is_national=False,
                name_vi="Thủ tục thử nghiệm",
                name_en="Test procedure",
                field_vi="Thử nghiệm",
                field_en="Testing",
                service_code="T",
                legal_basis=("Thông tư 01/2018/TT-VPCP",),
                processing_days=3,
                fee_vnd=50_000,
                applicant_types=("citizen",),
                documents=(
                    DocumentRequirement("to_khai", "Tờ khai", "Declaration", True, False, 1),
                    DocumentRequirement("ban_ve", "Bản vẽ", "Drawing", False, False, 1),
                ),
                form=FORM,
            )
        ]
    )


def pdf_bytes(seed: int, size: int) -> bytes:
    """A PDF-looking page: a header and deterministic noise (it does not compress)."""
    body = hashlib.shake_256(seed.to_bytes(8, "big")).digest(max(0, size - 16))
    return b"%PDF-1.7\n%\xe2\xe3\n" + body[: size - 16]


def make_dossier(
    folder: Path,
    n: int,
    *,
    size: int = 20_000,
    procedure: str = "TEST.001",
    name: str = NAME,
    created_at: datetime | None = None,
) -> DossierSubmission:
    """Dossier number ``n``: two attachment pages of ``size`` bytes each, written in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pages = []
    for i in (1, 2):
        page = folder / f"d{n}-{i}.pdf"
        page.write_bytes(pdf_bytes(n * 10 + i, size))
        pages.append(page)
    return DossierSubmission(
        procedure_code=procedure,
        kiosk_id=KIOSK,
        applicant=Applicant(ID_NUMBER, name, date(1985, 3, 14), "F", "Phường Cửa Nam, Hà Nội"),
        declaration={"ten_co_so": f"Cơ sở in Hoa Sen số {n}", "so_may": 3},
        attachments=[
            Attachment("to_khai", "Tờ khai", [pages[0]]),
            Attachment("ban_ve", "Bản vẽ", [pages[1]]),
        ],
        created_at=created_at or datetime(2026, 3, 2, 9, 0, tzinfo=VIETNAM_TZ),
        idempotency_key=f"test-dossier-{n:06d}",
    )


class Clock:
    """A settable clock (Vietnam time)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def holidays() -> HolidayCalendar:
    return load_holidays(CONFIG_DIR / "holidays.toml")


@pytest.fixture
def office(holidays: HolidayCalendar) -> ScriptedBackOffice:
    return ScriptedBackOffice(make_catalog(), holidays, agency_code=AGENCY)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 3, 2, 9, 0, tzinfo=VIETNAM_TZ))


@pytest.fixture
def alerts() -> list[str]:
    return []


def open_outbox(path: Path, alerts: list[str] | None = None, **kw: Any) -> Outbox:
    sink = alerts.append if alerts is not None else None
    return Outbox(path / "outbox.sqlite", kw.pop("key", KEY), KIOSK, alert=sink, **kw)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def raw_bytes(outbox_path: Path) -> bytes:
    return b"".join(
        p.read_bytes()
        for p in (outbox_path, Path(f"{outbox_path}-wal"), Path(f"{outbox_path}-shm"))
        if p.exists()
    )


def page_hashes(dossier: DossierSubmission) -> list[tuple[str, int, str]]:
    """(document, page number, SHA-256) of each page of ``dossier`` as the kiosk scanned it."""
    return [
        (a.requirement_id, n, sha256(p))
        for a in dossier.attachments
        for n, p in enumerate(a.pages, start=1)
    ]


def scanned(folder: Path, n: int) -> list[tuple[str, int, str]]:
    """``page_hashes`` of dossier ``n`` of ``make_dossier``, from the files left in ``folder``."""
    return [
        ("to_khai", 1, sha256(folder / f"d{n}-1.pdf")),
        ("ban_ve", 1, sha256(folder / f"d{n}-2.pdf")),
    ]


def arrived(office: ScriptedBackOffice, code: str) -> list[tuple[str, int, str]]:
    """(document, page number, SHA-256) of each page of dossier ``code`` at the back office."""
    return [(p.requirement_id, p.page, p.sha256) for p in office.pages(code)]


# --- put: durable, encrypted, idempotent -----------------------------------------------------


def test_put_gives_a_provisional_reference_and_stores_the_dossier_encrypted(
    tmp_path: Path, clock: Clock
) -> None:
    outbox = open_outbox(tmp_path, clock=clock)
    first = outbox.put(make_dossier(tmp_path / "in", 1))
    second = outbox.put(make_dossier(tmp_path / "in", 2))

    assert first.reference == "KIOSK-01-260302-000001"
    assert second.reference == "KIOSK-01-260302-000002"
    assert first.idempotency_key == "test-dossier-000001"
    assert first.state is EntryState.PENDING and first.attempts == 0
    assert first.created_at == clock.now
    assert is_provisional_reference(first.reference)
    assert not is_provisional_reference("000.00.08.H21-260302-0001")

    # Nothing personal and no page is readable in the files (database, WAL, shared memory).
    raw = raw_bytes(outbox.path)
    page = (tmp_path / "in" / "d1-1.pdf").read_bytes()
    for secret in (NAME.encode(), ID_NUMBER.encode(), b"Hoa Sen", page[100:164]):
        assert secret not in raw
    with sqlite3.connect(outbox.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        names = {r[0] for r in conn.execute("SELECT name FROM blobs WHERE entry_id = 1")}
    assert names == {"dossier", "attachment/0/page/1", "attachment/1/page/1"}
    outbox.close()


def test_put_is_idempotent_on_the_key_and_refuses_another_dossier_under_it(
    tmp_path: Path,
) -> None:
    outbox = open_outbox(tmp_path)
    dossier = make_dossier(tmp_path / "in", 1)
    first = outbox.put(dossier)
    assert outbox.put(dossier) == first
    other = make_dossier(tmp_path / "other", 1, name="Trần Văn An")
    with pytest.raises(OutboxDuplicateKey, match="test-dossier-000001"):
        outbox.put(other)
    assert len(outbox.entries()) == 1
    outbox.close()


def test_blobs_are_bound_to_their_entry_and_name() -> None:
    cipher = OutboxCipher(KEY)
    sealed = cipher.seal(7, "attachment/0/page/1", b"page")
    assert cipher.open(7, "attachment/0/page/1", sealed) == b"page"
    for entry_id, name in ((8, "attachment/0/page/1"), (7, "attachment/1/page/1")):
        with pytest.raises(BlobError):
            cipher.open(entry_id, name, sealed)
    with pytest.raises(BlobError):
        OutboxCipher(bytes(32)).open(7, "attachment/0/page/1", sealed)
    assert sealed[:12] != cipher.seal(7, "attachment/0/page/1", b"page")[:12]  # fresh nonce


# --- delivery --------------------------------------------------------------------------------


def test_delivered_with_the_answer_and_attachments_intact(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    outbox = open_outbox(tmp_path)
    dossier = make_dossier(tmp_path / "in", 1)
    entry = outbox.put(dossier)
    status = OutboxSender(outbox, office).flush(10)
    assert status.pending == 0 and status.delivered == 1

    delivered = outbox.find(entry.reference.lower())  # typed in lower case
    assert delivered is not None and delivered.state is EntryState.DELIVERED
    assert delivered.result is not None
    code = delivered.result.dossier_code
    assert office.stored() == [("test-dossier-000001", code)]
    assert arrived(office, code) == page_hashes(dossier)  # every page, whole, in its place
    assert delivered.result.fee_vnd == 50_000  # the back office's answer, as it gave it
    assert delivered.result.appointment_date == office.lookup(code).appointment_date
    # The delivered state and the answer arrive together.
    with sqlite3.connect(outbox.path) as conn:
        state, result = conn.execute("SELECT state, result FROM entries").fetchone()
    assert state == "delivered" and json.loads(result)["dossier_code"] == code
    # No decrypted page is left in the spool.
    assert not any(p.is_file() for p in (tmp_path / "outbox-spool").rglob("*"))
    outbox.close()


def test_back_office_down_at_submit_and_for_an_hour_then_delivered_once(
    tmp_path: Path, office: ScriptedBackOffice, clock: Clock
) -> None:
    import random

    office.down = True
    outbox = open_outbox(tmp_path, clock=clock)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    sender = OutboxSender(outbox, office, base_delay_s=1, max_delay_s=120, rng=random.Random(6))
    assert entry.id is not None

    restarted = False
    start = clock.now
    while clock.now - start < timedelta(hours=1):
        assert sender.run_once()
        current = outbox.get(entry.id)
        assert current is not None and current.state is EntryState.PENDING
        assert current.last_error_kind == "BackOfficeUnavailable"
        assert current.last_error == "connection refused"
        assert current.next_attempt_at is not None
        wait = (current.next_attempt_at - clock.now).total_seconds()
        assert 0 <= wait <= min(120, 2 ** (current.attempts - 1)) + 1e-6
        assert not sender.run_once()  # not due before its time
        clock.now = current.next_attempt_at
        if not restarted and clock.now - start > timedelta(minutes=30):
            # The kiosk restarts halfway: the schedule is in the database, not in memory.
            outbox.close()
            outbox = open_outbox(tmp_path, clock=clock)
            sender = OutboxSender(outbox, office, base_delay_s=1, max_delay_s=120)
            again = outbox.get(entry.id)
            assert again is not None and again.attempts == current.attempts
            restarted = True

    attempts = outbox.get(entry.id).attempts  # type: ignore[union-attr]
    assert attempts >= 30  # about one an minute once the cap is reached
    office.down = False
    assert sender.run_once()
    done = outbox.find(entry.reference)
    assert done is not None and done.state is EntryState.DELIVERED
    assert done.last_error is None and done.attempts == attempts + 1
    assert [k for k, _ in office.stored()] == ["test-dossier-000001"]
    assert len(office.calls) == attempts + 1
    outbox.close()


def test_retry_delays_are_exponential_with_full_jitter(tmp_path: Path) -> None:
    import random

    outbox = open_outbox(tmp_path)
    sender = OutboxSender(outbox, None, base_delay_s=2, max_delay_s=60, rng=random.Random(1))  # type: ignore[arg-type]
    for attempts, ceiling in ((1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (40, 60)):
        delays = [sender.backoff_delay(attempts) for _ in range(400)]
        assert all(0 <= d <= ceiling for d in delays)
        # Full jitter: spread over the whole range, not bunched at the ceiling.
        assert min(delays) < ceiling * 0.05 and max(delays) > ceiling * 0.95
        assert ceiling * 0.4 < sum(delays) / len(delays) < ceiling * 0.6
    outbox.close()


def test_oldest_first_and_all_due_when_the_back_office_answers_again(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    office.down = True
    outbox = open_outbox(tmp_path)
    sender = OutboxSender(outbox, office, base_delay_s=500, max_delay_s=1000)
    entries = [outbox.put(make_dossier(tmp_path / "in", n)) for n in range(1, 5)]
    while sender.run_once():  # each fails once and waits up to 500 s
        pass
    assert len(office.calls) == 4
    office.down = False
    late = outbox.put(make_dossier(tmp_path / "in", 5))  # due at once
    assert sender.run_once()
    assert outbox.find(late.reference).state is EntryState.DELIVERED  # type: ignore[union-attr]
    # The back office answered: the waiting ones are due now, and go oldest first.
    while sender.run_once():
        pass
    codes = [outbox.find(e.reference).result.dossier_code for e in entries]  # type: ignore[union-attr]
    assert codes == sorted(codes) and len(set(codes)) == 4
    assert len(office.stored()) == 5
    outbox.close()


def test_sender_wakes_on_put_and_a_hanging_back_office_does_not_block_put(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    outbox = open_outbox(tmp_path)
    sender = OutboxSender(outbox, office, idle_poll_s=30)
    with sender:
        time.sleep(0.2)  # the sender is idle, waiting up to 30 s
        started = time.monotonic()
        first = outbox.put(make_dossier(tmp_path / "in", 1))
        done = outbox.wait_delivered(first.reference, 10)
        assert done is not None and done.state is EntryState.DELIVERED
        assert time.monotonic() - started < 3

        office.hold()  # the back office accepts the connection and never answers
        office.entered.clear()
        second = outbox.put(make_dossier(tmp_path / "in", 2))
        assert office.entered.wait(5)
        started = time.monotonic()
        third = outbox.put(make_dossier(tmp_path / "in", 3))
        assert time.monotonic() - started < 1.0
        assert outbox.status().pending == 2
        office.release()
        for entry in (second, third):
            done = outbox.wait_delivered(entry.reference, 10)
            assert done is not None and done.state is EntryState.DELIVERED
    assert not sender.running
    assert len(office.stored()) == 3
    outbox.close()


def test_rejected_dossier_is_parked_staff_alerted_never_retried(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str]
) -> None:
    outbox = open_outbox(tmp_path, alerts)
    entry = outbox.put(make_dossier(tmp_path / "in", 1, procedure="NO.SUCH"))
    sender = OutboxSender(outbox, office)
    status = sender.flush(5)
    assert status.pending == 0 and status.parked == 1
    assert status.parked_references == [entry.reference]
    parked = outbox.find(entry.reference)
    assert parked is not None and parked.state is EntryState.PARKED
    assert parked.last_error_kind == "SubmissionRejected"
    assert "procedure_code" in (parked.last_error or "")
    assert len(alerts) == 1 and entry.reference in alerts[0]
    assert NAME not in alerts[0] and ID_NUMBER not in alerts[0]

    sender.flush(1)
    assert not sender.run_once()
    assert len(office.calls) == 1  # never retried automatically

    outbox.requeue(entry.reference)  # staff fixed something and send it again
    assert outbox.find(entry.reference).state is EntryState.PENDING  # type: ignore[union-attr]
    sender.flush(5)
    assert len(office.calls) == 2 and outbox.status().parked == 1
    outbox.close()


def test_idempotency_conflict_is_parked(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str]
) -> None:
    office.submit(make_dossier(tmp_path / "earlier", 1, name="Trần Văn An"))  # same key, other body
    outbox = open_outbox(tmp_path, alerts)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    OutboxSender(outbox, office).flush(5)
    parked = outbox.find(entry.reference)
    assert parked is not None and parked.state is EntryState.PARKED
    assert parked.last_error_kind == IdempotencyConflict.__name__
    assert alerts and "parked" in alerts[0]
    outbox.close()


def test_an_unexpected_client_error_is_retried_and_staff_told_once(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str]
) -> None:
    class Broken:
        calls = 0

        def submit(self, dossier: DossierSubmission) -> SubmissionResult:
            self.calls += 1
            raise TypeError("a bug in the client")

    outbox = open_outbox(tmp_path, alerts)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    sender = OutboxSender(outbox, Broken(), base_delay_s=0.01, max_delay_s=0.01)  # type: ignore[arg-type]
    sender.flush(0.5)
    current = outbox.find(entry.reference)
    assert current is not None and current.state is EntryState.PENDING
    assert current.attempts >= 2 and current.last_error_kind == "TypeError"
    assert len(alerts) == 1
    OutboxSender(outbox, office).flush(5)
    assert outbox.find(entry.reference).state is EntryState.DELIVERED  # type: ignore[union-attr]
    outbox.close()


# --- after delivery: purge, sweep, look-up ---------------------------------------------------


def test_purge_after_the_receipt_keeps_only_the_answer(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    outbox = open_outbox(tmp_path)
    sender = OutboxSender(outbox, office)
    a = outbox.put(make_dossier(tmp_path / "in", 1))
    b = outbox.put(make_dossier(tmp_path / "in", 2))
    assert a.id is not None and b.id is not None
    assert outbox.purge_delivered(b.id) is False  # receipt printed before delivery: purge later
    sender.flush(5)
    assert outbox.get(b.id) is None  # purged the moment it was delivered
    assert outbox.status().awaiting_purge == 1
    assert outbox.purge_delivered(a.id) is True
    assert outbox.get(a.id) is None
    for entry in (a, b):
        found = outbox.find(entry.reference)
        assert found is not None and found.purged and found.state is EntryState.DELIVERED
        assert found.result is not None and found.result.dossier_code.startswith(AGENCY)
    with sqlite3.connect(outbox.path) as conn:
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 0
    outbox.close()


def test_sweep_purges_old_deliveries_and_forgets_old_answers(
    tmp_path: Path, office: ScriptedBackOffice, clock: Clock
) -> None:
    outbox = open_outbox(tmp_path, clock=clock, purge_after_hours=24, keep_codes_days=90)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    OutboxSender(outbox, office).flush(5)
    clock.advance(23 * 3600)
    assert outbox.sweep().purged == 0
    clock.advance(2 * 3600)
    assert outbox.sweep().purged == 1  # the receipt was never confirmed
    assert outbox.find(entry.reference).result is not None  # type: ignore[union-attr]
    clock.advance(90 * 86400)
    assert outbox.sweep().forgotten == 1
    assert outbox.find(entry.reference) is None
    outbox.close()


def test_provisional_receipt_figures(tmp_path: Path, holidays: HolidayCalendar) -> None:
    outbox = open_outbox(tmp_path)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    result = provisional_result(entry, 3, 50_000, holidays)
    assert result.provisional and result.dossier_code == entry.reference
    assert result.received_at == entry.created_at
    assert result.appointment_date == add_working_days(entry.created_at, 3, holidays)  # type: ignore[arg-type]
    outbox.close()


def test_status_counts_and_oldest_pending_age(
    tmp_path: Path, office: ScriptedBackOffice, clock: Clock
) -> None:
    outbox = open_outbox(tmp_path, clock=clock)
    assert outbox.status().oldest_pending_age_s is None
    assert outbox.health().ok
    outbox.put(make_dossier(tmp_path / "in", 1))
    clock.advance(30)
    outbox.put(make_dossier(tmp_path / "in", 2, procedure="NO.SUCH"))
    outbox.put(make_dossier(tmp_path / "in", 3))
    clock.advance(12)
    status = outbox.status()
    assert (status.pending, status.delivered, status.parked) == (3, 0, 0)
    assert status.oldest_pending_age_s == pytest.approx(42)
    sender = OutboxSender(outbox, office)
    assert sender.run_once() and sender.run_once()  # the first delivered, the second parked
    status = outbox.status()
    assert (status.pending, status.delivered, status.parked) == (1, 1, 1)
    assert status.oldest_pending_age_s == pytest.approx(12)
    assert json.loads(json.dumps(status.to_dict()))["parked"] == 1
    health = outbox.health()
    assert not health.ok and "1 pending (oldest 12 s), 1 delivered, 1 parked" in health.detail
    outbox.close()


def test_references_are_unique_across_restarts_and_days(tmp_path: Path, clock: Clock) -> None:
    outbox = open_outbox(tmp_path, clock=clock)
    refs = [outbox.put(make_dossier(tmp_path / "in", n)).reference for n in (1, 2)]
    outbox.close()
    outbox = open_outbox(tmp_path, clock=clock)
    refs.append(outbox.put(make_dossier(tmp_path / "in", 3)).reference)
    clock.advance(86400)
    refs.append(outbox.put(make_dossier(tmp_path / "in", 4)).reference)
    assert refs == [
        "KIOSK-01-260302-000001",
        "KIOSK-01-260302-000002",
        "KIOSK-01-260302-000003",
        "KIOSK-01-260303-000001",
    ]
    outbox.close()


# --- keys ------------------------------------------------------------------------------------


def test_key_from_environment_or_a_key_file_created_on_first_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    text = base64.b64encode(KEY).decode()
    assert load_outbox_key({"KIOSK_OUTBOX_KEY": text}, None) == KEY
    with pytest.raises(OutboxKeyError, match="KIOSK_OUTBOX_KEY"):
        load_outbox_key({"KIOSK_OUTBOX_KEY": "c2hvcnQ="}, tmp_path / "unused")
    with pytest.raises(OutboxKeyError, match="no outbox key"):
        load_outbox_key({}, None)

    key_file = tmp_path / "secrets" / "outbox.key"
    with caplog.at_level(logging.WARNING, logger="kiosk.delivery.outbox"):
        created = load_outbox_key({}, key_file)
    assert len(created) == 32
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert str(key_file) in caplog.text and "back it up" in caplog.text
    assert load_outbox_key({}, key_file) == created  # the same key next time
    assert [p.name for p in key_file.parent.iterdir()] == ["outbox.key"]

    key_file.write_text("not a key\n")
    with pytest.raises(OutboxKeyError, match=str(key_file)):
        load_outbox_key({}, key_file)


def test_wrong_key_is_a_clear_error_and_the_entries_are_kept(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    outbox.close()
    before = outbox.path.read_bytes()
    with pytest.raises(OutboxKeyError, match="another key"):
        open_outbox(tmp_path, key=bytes(32))
    assert outbox.path.read_bytes() == before
    assert not list(tmp_path.glob("outbox.corrupt-*"))
    outbox = open_outbox(tmp_path)
    assert outbox.find(entry.reference).state is EntryState.PENDING  # type: ignore[union-attr]
    outbox.close()


# --- damaged outbox files --------------------------------------------------------------------


def test_a_file_that_is_not_a_database_is_moved_aside_and_the_kiosk_keeps_serving(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    garbage = b"this is not an SQLite database at all" * 200
    (tmp_path / "outbox.sqlite").write_bytes(garbage)
    with caplog.at_level(logging.ERROR, logger="kiosk.delivery.outbox"):
        outbox = open_outbox(tmp_path, alerts)
    assert outbox.quarantined is not None
    assert outbox.quarantined.name.startswith("outbox.corrupt-")
    assert outbox.quarantined.suffix == ".sqlite"
    assert outbox.quarantined.read_bytes() == garbage
    assert len(alerts) == 1 and "moved aside" in alerts[0] and "STAFF ALERT" in caplog.text
    assert outbox.status().quarantined == [outbox.quarantined.name]
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    OutboxSender(outbox, office).flush(5)
    assert outbox.find(entry.reference).state is EntryState.DELIVERED  # type: ignore[union-attr]
    outbox.close()
    assert open_outbox(tmp_path, alerts).quarantined is None  # the fresh file is sound


def test_a_quarantine_cut_short_by_a_power_cut_is_completed_at_the_next_start(
    tmp_path: Path, alerts: list[str]
) -> None:
    garbage = b"\x00garbage" * 100
    (tmp_path / "outbox.sqlite").write_bytes(garbage)
    target = tmp_path / "outbox.corrupt-20260302-090000.sqlite"
    (tmp_path / "outbox.sqlite.quarantine").write_text(f"{target}\n")  # written, then power cut
    outbox = open_outbox(tmp_path, alerts)
    assert outbox.quarantined == target and target.read_bytes() == garbage
    assert not (tmp_path / "outbox.sqlite.quarantine").exists()
    assert "interrupted" in alerts[0]
    outbox.put(make_dossier(tmp_path / "in", 1))
    outbox.close()


def test_pages_left_decrypted_by_a_dead_sender_are_wiped(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    finished = subprocess.Popen(["true"])  # a sender process that is gone
    finished.wait()
    spool = tmp_path / "outbox-spool"
    left = spool / f"{finished.pid}-1-abc" / "0" / "1" / "to_khai.pdf"
    left.parent.mkdir(parents=True)
    left.write_bytes(b"%PDF decrypted page")
    mine = spool / f"{os.getpid()}-9-live" / "page.pdf"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"%PDF in use")
    outbox = open_outbox(tmp_path)
    OutboxSender(outbox, office).run_once()
    assert not left.exists() and mine.exists()
    outbox.close()


def _crash_with_wal(tmp_path: Path, first: int, last: int) -> None:
    """Put dossiers ``first``..``last`` in a process that dies without closing: its -wal and
    -shm stay."""
    script = (
        "import os, sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}, {str(HERE)!r}]\n"
        "from pathlib import Path\n"
        "from test_outbox import open_outbox, make_dossier\n"
        f"tmp = Path({str(tmp_path)!r})\n"
        "outbox = open_outbox(tmp)\n"
        f"for n in range({first}, {last + 1}): outbox.put(make_dossier(tmp / 'in', n))\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_a_failed_integrity_check_is_detected_and_wal_and_shm_kept_aside(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str]
) -> None:
    outbox = open_outbox(tmp_path)
    for n in range(1, 4):
        outbox.put(make_dossier(tmp_path / "in", n, size=30_000))
    outbox.close()  # checkpointed into the main file
    _crash_with_wal(tmp_path, 4, 5)  # two more, only in the WAL
    main = tmp_path / "outbox.sqlite"
    wal, shm = Path(f"{main}-wal"), Path(f"{main}-shm")
    assert wal.exists() and shm.exists()
    data = bytearray(main.read_bytes())
    data[8 * 4096 : 13 * 4096] = b"\xa5" * (5 * 4096)  # pages of the first dossiers' blobs
    main.write_bytes(bytes(data))
    conn = sqlite3.connect(f"file:{main}?mode=ro", uri=True)
    with pytest.raises(sqlite3.DatabaseError, match="malformed"):
        conn.execute("PRAGMA integrity_check").fetchall()
    conn.close()
    originals = {s: p.read_bytes() for s, p in (("", main), ("-wal", wal), ("-shm", shm))}

    outbox = open_outbox(tmp_path, alerts)
    target = outbox.quarantined
    assert target is not None
    for suffix, content in originals.items():
        assert Path(f"{target}{suffix}").read_bytes() == content
    recovered = outbox.entries()
    assert len(alerts) == 1 and "damaged" in alerts[0]
    assert f"{len(recovered)} waiting dossier(s) recovered" in alerts[0]
    outbox.put(make_dossier(tmp_path / "in", 9))  # a fresh, working outbox
    OutboxSender(outbox, office).flush(10)
    for entry in recovered:  # what was salvaged is whole: the pages hash as the originals
        n = int(entry.idempotency_key.rsplit("-", 1)[1])
        found = outbox.find(entry.reference)
        assert found is not None and found.result is not None
        assert arrived(office, found.result.dossier_code) == scanned(tmp_path / "in", n)
    outbox.close()


def test_an_entry_that_does_not_decrypt_is_detected_and_the_others_salvaged(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str], clock: Clock
) -> None:
    outbox = open_outbox(tmp_path, clock=clock)
    entries = [outbox.put(make_dossier(tmp_path / "in", n)) for n in (1, 2, 3)]
    outbox.close()
    with sqlite3.connect(outbox.path) as conn:  # one flipped bit in entry 2's first page
        sealed = conn.execute(
            "SELECT sealed FROM blobs WHERE entry_id = 2 AND name = 'attachment/0/page/1'"
        ).fetchone()[0]
        flipped = sealed[:40] + bytes([sealed[40] ^ 1]) + sealed[41:]
        conn.execute(
            "UPDATE blobs SET sealed = ? WHERE entry_id = 2 AND name = 'attachment/0/page/1'",
            (flipped,),
        )

    outbox = open_outbox(tmp_path, alerts, clock=clock)
    assert outbox.quarantined is not None
    assert len(alerts) == 1
    assert "2 waiting dossier(s) recovered" in alerts[0] and entries[1].reference in alerts[0]
    kept = outbox.entries()
    assert [(e.reference, e.idempotency_key) for e in kept] == [
        (entries[0].reference, entries[0].idempotency_key),
        (entries[2].reference, entries[2].idempotency_key),
    ]
    new = outbox.put(make_dossier(tmp_path / "in", 4))
    assert new.reference not in {e.reference for e in entries}
    OutboxSender(outbox, office).flush(5)
    for n, entry in ((1, entries[0]), (3, entries[2])):  # the salvaged ones arrive whole
        found = outbox.find(entry.reference)
        assert found is not None and found.result is not None
        assert arrived(office, found.result.dossier_code) == scanned(tmp_path / "in", n)
    outbox.close()


def test_an_entry_damaged_after_the_open_is_parked(
    tmp_path: Path, office: ScriptedBackOffice, alerts: list[str]
) -> None:
    outbox = open_outbox(tmp_path, alerts)
    entry = outbox.put(make_dossier(tmp_path / "in", 1))
    with sqlite3.connect(outbox.path) as conn:
        conn.execute("UPDATE blobs SET sealed = zeroblob(64) WHERE name = 'dossier'")
    OutboxSender(outbox, office).flush(2)
    parked = outbox.find(entry.reference)
    assert parked is not None and parked.state is EntryState.PARKED
    assert parked.last_error_kind == "OutboxEntryDamaged"
    assert alerts and entry.reference in alerts[0]
    assert office.stored() == []
    outbox.close()


# --- full disk and too-large dossiers --------------------------------------------------------


def test_a_full_outbox_refuses_the_dossier_cleanly(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    outbox = open_outbox(tmp_path, max_bytes=400_000)
    first = outbox.put(make_dossier(tmp_path / "in", 1, size=40_000))
    with pytest.raises(OutboxFull) as caught:
        outbox.put(make_dossier(tmp_path / "in", 2, size=400_000))
    assert caught.value.msgid == MSG_NOT_SAVED
    assert isinstance(caught.value, OutboxNotSaved)
    assert [e.reference for e in outbox.entries()] == [first.reference]
    with sqlite3.connect(outbox.path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM blobs").fetchone()[0] == 3
    # The next dossier that fits gets the next reference: nothing was consumed.
    second = outbox.put(make_dossier(tmp_path / "in", 3, size=30_000))
    assert second.reference.endswith("-000002")
    OutboxSender(outbox, office).flush(5)
    assert len(office.stored()) == 2
    outbox.close()


def test_a_full_disk_during_put_leaves_nothing_half_written(
    tmp_path: Path, office: ScriptedBackOffice
) -> None:
    """A file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes every write past it fail as on a
    full disk, without root or a loop device."""
    outbox = open_outbox(tmp_path)
    first = outbox.put(make_dossier(tmp_path / "in", 1))
    outbox.close()
    limit = max(p.stat().st_size for p in tmp_path.glob("outbox.sqlite*")) + 64 * 1024
    script = (
        "import json, resource, signal, sys\n"
        f"sys.path[:0] = [{str(ROOT)!r}, {str(ROOT / 'tests')!r}, {str(HERE)!r}]\n"
        "from pathlib import Path\n"
        "from test_outbox import open_outbox, make_dossier\n"
        f"tmp = Path({str(tmp_path)!r})\n"
        "outbox = open_outbox(tmp)\n"
        "dossier = make_dossier(tmp / 'in', 2, size=500_000)\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))\n"
        "try:\n"
        "    outbox.put(dossier)\n"
        "    print(json.dumps({'stored': True}))\n"
        "except Exception as exc:\n"
        "    print(json.dumps({'error': type(exc).__name__, 'msgid': getattr(exc, 'msgid', '')}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, timeout=60, capture_output=True, text=True
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["error"] in ("OutboxFull", "OutboxNotSaved") and report["msgid"] == MSG_NOT_SAVED

    outbox = open_outbox(tmp_path)
    assert outbox.quarantined is None
    assert [e.reference for e in outbox.entries()] == [first.reference]
    OutboxSender(outbox, office).flush(5)
    assert [k for k, _ in office.stored()] == ["test-dossier-000001"]
    outbox.close()


def test_too_large_or_unreadable_attachments_are_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    outbox = open_outbox(tmp_path, max_entry_bytes=100_000)
    with pytest.raises(OutboxTooLarge) as caught:
        outbox.put(make_dossier(tmp_path / "in", 1, size=60_000))
    assert caught.value.msgid == MSG_TOO_LARGE
    missing = make_dossier(tmp_path / "in", 2)
    missing.attachments[1].pages[0].unlink()
    with pytest.raises(OutboxNotSaved, match="ban_ve"):
        outbox.put(missing)
    assert outbox.entries() == []
    assert outbox.put(make_dossier(tmp_path / "in", 3)).reference.endswith("-000001")
    outbox.close()


# --- sample dossiers and the command line ----------------------------------------------------


def test_sample_dossiers_are_valid_and_accepted_for_every_procedure(tmp_path: Path) -> None:
    """Accepted by the reference back office itself (embedded, on loopback), not a stand-in."""
    from backoffice.embedded import EmbeddedBackOffice
    from backoffice.settings import Settings
    from kiosk.catalog.procedures import load_catalog
    from kiosk.delivery.http_client import HttpBackOffice
    from kiosk.demo.dossiers import sample_dossiers
    from kiosk.forms.spec import FormSpec
    from kiosk.identity.id_number import parse_id_number

    catalog = load_catalog(CONFIG_DIR / "procedures")
    n = 2 * len(catalog)
    dossiers = sample_dossiers(catalog, KIOSK, n, tmp_path / "demo", seed=7)
    assert {d.procedure_code for d in dossiers} == {p.code for p in catalog.procedures()}
    server = EmbeddedBackOffice(Settings.for_folder(tmp_path / "bo", secrets_key="C" * 43 + "="))
    url = server.start()
    try:
        with HttpBackOffice(url, KIOSK, server.ensure_kiosk(KIOSK), timeout_s=10) as office:
            for d in dossiers:
                facts = parse_id_number(d.applicant.id_number)
                assert d.applicant.date_of_birth is not None
                assert facts.sex == d.applicant.sex
                assert facts.birth_year == d.applicant.date_of_birth.year
                form = FormSpec.from_definition(catalog.get(d.procedure_code).form)
                assert form.validate_answers(d.declaration) == {}
                pages = [p for a in d.attachments for p in a.pages]
                assert pages and all(p.read_bytes().startswith(b"%PDF") for p in pages)
                assert office.submit(d).dossier_code.startswith(AGENCY)
    finally:
        server.stop()
    again = sample_dossiers(catalog, KIOSK, n, tmp_path / "again", seed=7)
    assert [d.declaration for d in again] == [d.declaration for d in dossiers]


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    from kiosk.cli.outbox import add_outbox_commands

    parser = argparse.ArgumentParser(prog="kiosk")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true")
        p.add_argument("--config")

    add_outbox_commands(sub, common)
    args = parser.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


def test_cli_submit_wait_status_and_flush(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.catalog.procedures import load_catalog
    from kiosk.demo.dossiers import sample_dossiers

    data = tmp_path / "var"
    monkeypatch.setenv("KIOSK_KIOSK_DATA_DIR", str(data))
    monkeypatch.setenv("KIOSK_PRINTER_PORT", "0")
    monkeypatch.delenv("KIOSK_OUTBOX_KEY", raising=False)
    dossier = sample_dossiers(load_catalog(CONFIG_DIR / "procedures"), KIOSK, 1, tmp_path, seed=3)[
        0
    ]
    spec = dossier.to_dict()
    for a in spec["attachments"]:  # paths relative to the JSON file, as a person writes them
        a["pages"] = [str(Path(p).relative_to(tmp_path)) for p in a["pages"]]
    (tmp_path / "dossier.json").write_text(json.dumps(spec, ensure_ascii=False), "utf-8")

    code, out = _run_cli(["submit", str(tmp_path / "dossier.json"), "--wait", "--json"], capsys)
    assert code == 0
    [row] = out["entries"]
    assert row["state"] == "delivered" and row["dossier_code"].startswith(AGENCY)
    assert row["idempotency_key"] == dossier.idempotency_key
    assert (data / "outbox.key").exists() and (data / "outbox.sqlite").exists()

    code, out = _run_cli(["submit", "--demo", "3", "--seed", "1", "--json"], capsys)
    assert code == 0 and [r["state"] for r in out["entries"]] == ["pending"] * 3
    assert not list(data.glob("demo-dossiers-*"))  # the outbox holds its own copies
    code, status = _run_cli(["outbox", "status", "--json"], capsys)
    assert (status["pending"], status["delivered"], status["parked"]) == (3, 1, 0)
    assert status["oldest_pending_age_s"] >= 0

    code, status = _run_cli(["outbox", "flush", "--timeout", "20", "--json"], capsys)
    assert code == 0 and status["pending"] == 0 and status["delivered"] == 4
    assert status["awaiting_purge"] == 0  # what was printed counts as the receipt
    code, text = _run_cli(["outbox", "status"], capsys)
    assert "pending: 0" in text and "delivered: 4" in text


def test_cli_refuses_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.cli.main import UsageError
    from kiosk.dossier.model import DossierFormatError

    monkeypatch.setenv("KIOSK_KIOSK_DATA_DIR", str(tmp_path / "var"))
    with pytest.raises(UsageError, match="DOSSIER.json or --demo"):
        _run_cli(["submit"], capsys)
    with pytest.raises(UsageError, match="--demo"):
        _run_cli(["submit", "--demo", "0"], capsys)
    (tmp_path / "bad.json").write_text('{"procedure_code": 5}', "utf-8")
    with pytest.raises(DossierFormatError, match="procedure_code"):
        _run_cli(["submit", str(tmp_path / "bad.json")], capsys)
    assert os.environ.get("KIOSK_OUTBOX_KEY") is None
