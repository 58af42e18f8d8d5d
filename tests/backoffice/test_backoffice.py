"""What the reference back office (backoffice/) does with a dossier, beyond the wire protocol
(tests/backoffice/test_backoffice_api.py) and the kiosk's client
(tests/delivery/test_backoffice_http_client.py):
the shared rules it applies, the catalog's fee and processing days, the working-day calendar
with a controlled clock, staff moving dossiers through exactly the allowed states, idempotency
under retries and races, and a storage failure that keeps nothing.

- The rules the kiosk and the server share (kiosk/dossier/rules.py) are pure functions: checked
  directly, each mistake with its exact line.
- Over HTTP, the real server runs in a subprocess on loopback over a temporary SQLite file
  (tests/support/backoffice_server.py); the kiosk's ``HttpBackOffice`` talks to it, staff use the
  staff API. A test that breaks the database runs its own embedded server.
- Rules that need a controlled clock run in-process on the server's own modules.
- The scripted back office of the outbox tests (tests/support/scripted_backoffice.py) goes
  through the same scenarios as the server, so the two keep answering alike.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from support.backoffice_server import STAFF_TOKEN, BackofficeServer, sample_dossier, sample_pdf
from support.scripted_backoffice import ScriptedBackOffice

from kiosk import paths
from kiosk.catalog.procedures import Catalog, load_catalog
from kiosk.delivery.backoffice import (
    BackOffice,
    BackOfficeUnavailable,
    DossierNotFound,
    IdempotencyConflict,
    SubmissionRejected,
)
from kiosk.delivery.http_client import HttpBackOffice, dossier_upload
from kiosk.dossier.model import (
    Attachment,
    DossierCodeError,
    DossierState,
    DossierSubmission,
    parse_dossier_code,
)
from kiosk.dossier.rules import TRANSITIONS, dossier_problems
from kiosk.dossier.workdays import HolidayCalendar, add_working_days, load_holidays
from kiosk.infra.clock import VIETNAM_TZ

KIOSK = "KIOSK-01"
AGENCY = "000.00.08.H21"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
UNAVAILABLE_MSG = (
    "The dossier service cannot be reached right now. Your dossier is kept safely and will be "
    "sent automatically."
)
NOT_FOUND_MSG = "No dossier has this code. Please check the code on your receipt."
REJECTED_MSG = "The dossier could not be accepted. Please ask the staff at the counter for help."
SHIPPED = load_catalog(paths.CONFIG_DIR / "procedures")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackofficeServer]:
    srv = BackofficeServer(tmp_path_factory.mktemp("backoffice"))
    srv.secret = srv.add_kiosk(KIOSK)  # type: ignore[attr-defined]
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return SHIPPED


@pytest.fixture(scope="module")
def holidays() -> HolidayCalendar:
    return load_holidays(paths.CONFIG_DIR / "holidays.toml")


def client_for(server: BackofficeServer) -> HttpBackOffice:
    return HttpBackOffice(server.url, KIOSK, server.secret, timeout_s=10)  # type: ignore[attr-defined]


@pytest.fixture
def client(server: BackofficeServer) -> Iterator[HttpBackOffice]:
    with client_for(server) as c:
        yield c


def printing_dossier(folder: Path, **overrides: Any) -> DossierSubmission:
    """A complete dossier of 2.001740 (printing establishment), whose form and documents the
    rules below break one at a time."""
    return sample_dossier(SHIPPED, KIOSK, folder, procedure=SHIPPED.get("2.001740"), **overrides)


def stored_count(server: BackofficeServer, key: str) -> int:
    """How many dossiers the server's database holds under idempotency key ``key``."""
    from sqlalchemy import func, select

    from backoffice.db import Dossier

    ctx = server.context()
    try:
        with ctx.session() as session:
            return int(
                session.scalar(
                    select(func.count()).select_from(Dossier).where(Dossier.idempotency_key == key)
                )
                or 0
            )
    finally:
        ctx.close()


# --- the shared rules (kiosk/dossier/rules.py) -----------------------------------------------


def _declare(**changes: Any) -> Callable[[DossierSubmission], None]:
    def change(dossier: DossierSubmission) -> None:
        for field, value in changes.items():
            if value is None:
                del dossier.declaration[field]
            else:
                dossier.declaration[field] = value

    return change


def _applicant(**changes: str) -> Callable[[DossierSubmission], None]:
    def change(dossier: DossierSubmission) -> None:
        for field, value in changes.items():
            setattr(dossier.applicant, field, value)

    return change


def _other_document(dossier: DossierSubmission) -> None:
    dossier.attachments[0].requirement_id = "giay_phep"


def _same_document_twice(dossier: DossierSubmission) -> None:
    dossier.attachments.append(replace(dossier.attachments[0]))


def _no_document(dossier: DossierSubmission) -> None:
    dossier.attachments.clear()


def _document_without_pages(dossier: DossierSubmission) -> None:
    dossier.attachments[0] = replace(dossier.attachments[0], pages=[])


MISTAKES = {
    "an ID number too short": (
        _declare(so_dinh_danh="12345"),
        ["declaration.so_dinh_danh: An ID number has 12 digits; this one has 5."],
    ),
    "a date not written as the form writes dates": (
        _declare(ngay_sinh="17/05/1990"),
        ["declaration.ngay_sinh: Enter a date as dd/mm/yyyy."],
    ),
    "a required answer missing": (
        _declare(ten_co_so=None),
        ["declaration.ten_co_so: This field is required."],
    ),
    "an answer to no field of the form": (
        _declare(extra=1),
        ["declaration.extra: This form has no such field."],
    ),
    "an applicant number that is not 12 digits": (
        _applicant(id_number="0012"),
        ["applicant.id_number: not a 12-digit personal identification number"],
    ),
    "an applicant without a name": (
        _applicant(full_name="   "),
        ["applicant.full_name: missing"],
    ),
    "a document of another procedure": (
        _other_document,
        [
            "attachments[0].requirement_id: 'giay_phep' is not a document of procedure 2.001740",
            "attachments: required document 'to_khai' is missing",
        ],
    ),
    "the same document twice": (
        _same_document_twice,
        ["attachments[1]: 'to_khai' given twice"],
    ),
    "no document at all": (
        _no_document,
        ["attachments: required document 'to_khai' is missing"],
    ),
    "a document with no page and no paper on file": (
        _document_without_pages,
        ["attachments: required document 'to_khai' is missing"],
    ),
}


def test_a_complete_dossier_has_no_problem(tmp_path: Path) -> None:
    dossier = printing_dossier(tmp_path)
    assert dossier_problems(dossier, SHIPPED.get("2.001740")) == []


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_is_named_with_its_path(mistake: str, tmp_path: Path) -> None:
    change, expected = MISTAKES[mistake]
    dossier = printing_dossier(tmp_path)
    change(dossier)
    assert dossier_problems(dossier, SHIPPED.get("2.001740")) == expected


def test_every_mistake_is_listed_at_once_in_a_stable_order(tmp_path: Path) -> None:
    dossier = printing_dossier(tmp_path)
    for mistake in MISTAKES.values():
        if mistake[0] not in (_no_document, _document_without_pages):
            mistake[0](dossier)
    assert dossier_problems(dossier, SHIPPED.get("2.001740")) == [
        "applicant.id_number: not a 12-digit personal identification number",
        "applicant.full_name: missing",
        "declaration.extra: This form has no such field.",
        "declaration.ngay_sinh: Enter a date as dd/mm/yyyy.",
        "declaration.so_dinh_danh: An ID number has 12 digits; this one has 5.",
        "declaration.ten_co_so: This field is required.",
        "attachments[0].requirement_id: 'giay_phep' is not a document of procedure 2.001740",
        "attachments[1].requirement_id: 'giay_phep' is not a document of procedure 2.001740",
        "attachments[1]: 'giay_phep' given twice",
        "attachments: required document 'to_khai' is missing",
    ]


def test_a_paper_on_file_counts_as_given_and_only_the_back_office_judges_it(
    tmp_path: Path,
) -> None:
    procedure = SHIPPED.get("2.001740")
    dossier = printing_dossier(tmp_path)
    dossier.attachments[0] = Attachment("to_khai", "Tờ khai", [], on_file_ref="PAPER-1")
    assert dossier_problems(dossier, procedure) == []  # the kiosk holds no papers: no check
    seen: list[tuple[str, str | None]] = []

    def paper_check(attachment: Attachment, requirement: Any) -> str | None:
        seen.append((attachment.on_file_ref or "", requirement.id if requirement else None))
        return "'PAPER-1' is not a paper on file of this applicant"

    assert dossier_problems(dossier, procedure, paper_check) == [
        "attachments[0].on_file_ref: 'PAPER-1' is not a paper on file of this applicant"
    ]
    assert seen == [("PAPER-1", "to_khai")]
    assert dossier_problems(dossier, procedure, lambda a, r: None) == []


def _reachable(start: DossierState) -> set[DossierState]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_transitions_take_every_dossier_to_its_return() -> None:
    assert set(TRANSITIONS) == set(DossierState)
    assert all(state not in TRANSITIONS[state] for state in DossierState)  # no empty steps
    assert not any(DossierState.RECEIVED in after for after in TRANSITIONS.values())
    assert TRANSITIONS[DossierState.RETURNED] == frozenset()  # the end
    assert _reachable(DossierState.RECEIVED) == set(DossierState)
    for state in DossierState:
        assert DossierState.RETURNED in _reachable(state), state


# --- staff move dossiers along (the staff API, looked up by the kiosk) -----------------------


def move(server: BackofficeServer, code: str, state: str, note: str = "") -> requests.Response:
    return requests.post(
        f"{server.url}/api/v1/dossiers/{code}/status",
        json={"state": state, "note": note},
        headers=STAFF,
        timeout=10,
    )


# How a new dossier gets to each state.
ROUTE = {
    DossierState.RECEIVED: [],
    DossierState.IN_PROGRESS: [DossierState.IN_PROGRESS],
    DossierState.NEEDS_MORE: [DossierState.NEEDS_MORE],
    DossierState.RESULT_READY: [DossierState.RESULT_READY],
    DossierState.RETURNED: [DossierState.RESULT_READY, DossierState.RETURNED],
}


@pytest.mark.parametrize("target", list(DossierState), ids=lambda s: s.value)
@pytest.mark.parametrize("current", list(DossierState), ids=lambda s: s.value)
def test_staff_moves_follow_the_transitions_exactly(
    current: DossierState,
    target: DossierState,
    server: BackofficeServer,
    client: HttpBackOffice,
    tmp_path: Path,
) -> None:
    code = client.submit(sample_dossier(SHIPPED, KIOSK, tmp_path)).dossier_code
    for step in ROUTE[current]:
        assert move(server, code, step.value).status_code == 200
    answer = move(server, code, target.value, "Bước thử")
    status = client.lookup(code)
    if target in TRANSITIONS[current]:
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == target.value
        assert status.status is target and status.history[-1].note == "Bước thử"
        assert len(status.history) == len(ROUTE[current]) + 2
    else:
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"] == "invalid_transition"
        assert f"cannot go from {current.value} to {target.value}" in answer.json()["message"]
        assert status.status is current  # nothing changed
        assert len(status.history) == len(ROUTE[current]) + 1


def test_a_dossier_through_its_whole_life(
    server: BackofficeServer, client: HttpBackOffice, tmp_path: Path
) -> None:
    code = client.submit(sample_dossier(SHIPPED, KIOSK, tmp_path)).dossier_code
    steps = [
        ("in_progress", "Đang thẩm định"),
        ("needs_more", "  Thiếu danh mục thiết bị  "),
        ("in_progress", "Đã bổ sung"),
        ("result_ready", ""),
        ("returned", "Đã trả kết quả"),
    ]
    for state, note in steps:
        answer = move(server, code, state, note)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == state
    with client_for(server) as other:  # another connection, as another kiosk would look it up
        status = other.lookup(f" {code.lower()} ")
    assert status.code == code
    assert [e.state.value for e in status.history] == [
        "received", "in_progress", "needs_more", "in_progress", "result_ready", "returned",
    ]  # fmt: skip
    assert [e.note for e in status.history[1:]] == [n.strip() for _, n in steps]
    times = [e.at for e in status.history]
    assert times == sorted(times) and all(t.utcoffset() is not None for t in times)
    assert status.next_step("vi") == "Kết quả đã được trả. Hồ sơ đã hoàn tất."
    detail = requests.get(f"{server.url}/api/v1/dossiers/{code}", headers=STAFF, timeout=10)
    assert detail.status_code == 200 and detail.json()["status"] == "returned"

    lost = move(server, code, "lost")
    assert lost.status_code == 422 and "not a dossier state" in lost.json()["message"]
    nobody = move(server, "000.00.08.H21-200101-0099", "in_progress")
    assert nobody.status_code == 404 and nobody.json()["error"] == "not_found"
    assert len(client.lookup(code).history) == 6


# --- what the server gives for a dossier -----------------------------------------------------


@pytest.mark.parametrize("code", sorted(p.code for p in SHIPPED.procedures()))
def test_the_fee_and_the_appointment_come_from_the_catalog(
    code: str, server: BackofficeServer, client: HttpBackOffice, tmp_path: Path, holidays: Any
) -> None:
    procedure = SHIPPED.get(code)
    dossier = sample_dossier(SHIPPED, KIOSK, tmp_path, procedure=procedure)
    result = client.submit(dossier)
    parsed = parse_dossier_code(result.dossier_code)
    assert parsed.agency_code == server.settings().agency_for(procedure.service_code)
    assert parsed.day == result.received_at.date()
    assert result.fee_vnd == procedure.fee_vnd
    assert result.appointment_date == add_working_days(
        result.received_at, procedure.processing_days, holidays
    )
    assert not result.provisional
    staff = requests.get(
        f"{server.url}/api/v1/dossiers", params={"procedure": code}, headers=STAFF, timeout=10
    ).json()
    mine = next(d for d in staff["items"] if d["code"] == result.dossier_code)
    assert mine["fee_vnd"] == procedure.fee_vnd
    assert mine["appointment_date"] == result.appointment_date.isoformat()


def _receive(ctx: Any, dossier: DossierSubmission) -> Any:
    """What the upload route hands to ``backoffice.dossiers.submit`` for ``dossier``."""
    from backoffice.dossiers import parse_upload
    from backoffice.upload import ReceivedPart

    _, data = dossier_upload(dossier)
    parts = {}
    for attachment, entry in zip(dossier.attachments, data["attachments"], strict=True):
        for name, page in zip(entry["pages"], attachment.pages, strict=True):
            blob = page.read_bytes()
            parts[name] = ReceivedPart(
                name,
                f"{name}.pdf",
                "application/pdf",
                ctx.blobs.put_bytes(blob),
                len(blob),
                blob[:16],
            )
    return parse_upload(json.dumps(data).encode(), parts, dossier.idempotency_key, KIOSK)


@pytest.mark.parametrize(
    ("procedure", "moment", "code", "appointment"),
    [
        # Friday before Tết Bính Ngọ: the days off from 14/2 to 22/2 are skipped.
        ("2.001740", "2026-02-13T10:00", "260213-0001", "2026-02-25"),
        # After the 16:30 cut-off: counted from Monday 23/2, the code keeps Friday.
        ("2.001740", "2026-02-13T17:00", "260213-0001", "2026-02-26"),
        ("LOCAL-BC-01", "2026-02-13T10:00", "260213-0001", "2026-03-13"),
        ("1.005442", "2026-02-13T10:00", "260213-0001", "2026-03-03"),
        # Saturday 10/1/2026 is worked in exchange for Friday 2/1.
        ("2.001740", "2026-01-09T16:29", "260109-0001", "2026-01-13"),
        ("2.001740", "2026-01-09T16:30", "260109-0001", "2026-01-14"),
        # Received on Sunday 4/1, the last day of the New Year break.
        ("2.001740", "2026-01-04T10:00", "260104-0001", "2026-01-08"),
    ],
)
def test_appointments_count_working_days_and_the_code_keeps_the_day_of_receipt(
    procedure: str, moment: str, code: str, appointment: str, tmp_path: Path
) -> None:
    from backoffice.context import Context
    from backoffice.dossiers import submit
    from backoffice.settings import Settings

    at = datetime.fromisoformat(moment).replace(tzinfo=VIETNAM_TZ)
    settings = Settings.for_folder(tmp_path / "bo", secrets_key="E" * 43 + "=")
    ctx = Context.open(settings, clock=at.timestamp)
    try:
        dossier = sample_dossier(SHIPPED, KIOSK, tmp_path, procedure=SHIPPED.get(procedure))
        result, replay = submit(ctx, _receive(ctx, dossier))
    finally:
        ctx.close()
    assert not replay
    assert result.dossier_code == f"{AGENCY}-{code}"
    assert result.received_at == at
    assert result.appointment_date.isoformat() == appointment
    assert result.fee_vnd == SHIPPED.get(procedure).fee_vnd


def test_a_retry_from_the_outboxs_copy_gets_the_first_answer(
    server: BackofficeServer, client: HttpBackOffice, tmp_path: Path
) -> None:
    naive = datetime(2026, 2, 13, 9, 59)  # a kiosk clock without a zone: Vietnam time
    dossier = printing_dossier(tmp_path / "a", created_at=naive)
    first = client.submit(dossier)
    copy = DossierSubmission.from_json(dossier.to_json())  # as the outbox sends after a restart
    with client_for(server) as other:
        assert other.submit(copy) == first
    assert client.submit(dossier) == first
    assert stored_count(server, dossier.idempotency_key) == 1
    nxt = parse_dossier_code(client.submit(printing_dossier(tmp_path / "b")).dossier_code)
    before = parse_dossier_code(first.dossier_code)
    if nxt.day == before.day:  # the retries used up no number
        assert nxt.seq == before.seq + 1


def test_one_dossier_sent_from_8_connections_at_once_is_stored_once(
    server: BackofficeServer, tmp_path: Path
) -> None:
    dossier = printing_dossier(tmp_path / "a")
    barrier = threading.Barrier(8)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def send() -> None:
        try:
            with client_for(server) as own:
                copy = DossierSubmission.from_json(dossier.to_json())
                barrier.wait(timeout=10)
                result = own.submit(copy)
            with lock:
                results.append(result)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    assert stored_count(server, dossier.idempotency_key) == 1
    with client_for(server) as c:
        nxt = parse_dossier_code(c.submit(printing_dossier(tmp_path / "b")).dossier_code)
    first = parse_dossier_code(results[0].dossier_code)
    if nxt.day == first.day:  # one number for the eight
        assert nxt.seq == first.seq + 1


def test_a_refused_dossier_uses_up_no_number(client: HttpBackOffice, tmp_path: Path) -> None:
    before = parse_dossier_code(client.submit(printing_dossier(tmp_path / "a")).dossier_code)
    bad = printing_dossier(tmp_path / "b")
    bad.declaration["so_dinh_danh"] = "x"
    with pytest.raises(SubmissionRejected) as refused:
        client.submit(bad)
    assert refused.value.user_message() == REJECTED_MSG
    after = parse_dossier_code(client.submit(printing_dossier(tmp_path / "c")).dossier_code)
    assert after.seq == (before.seq + 1 if after.day == before.day else 1)


# --- storage ---------------------------------------------------------------------------------


def test_a_database_failure_while_storing_is_unavailable_and_keeps_nothing(
    tmp_path: Path,
) -> None:
    from sqlalchemy import func, select

    from backoffice.db import AttachmentFile, DailySequence, Dossier
    from backoffice.embedded import EmbeddedBackOffice
    from backoffice.settings import Settings

    embedded = EmbeddedBackOffice(Settings.for_folder(tmp_path / "bo", secrets_key="F" * 43 + "="))
    url = embedded.start()
    ctx = embedded.context

    def rows(table: Any) -> int:
        with ctx.session() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)

    try:
        dossier = printing_dossier(tmp_path / "d")
        with HttpBackOffice(url, KIOSK, embedded.ensure_kiosk(KIOSK), timeout_s=10) as c:
            with ctx.engine.begin() as conn:  # the history table is gone mid-life
                conn.exec_driver_sql("ALTER TABLE status_history RENAME TO status_history_away")
            with pytest.raises(BackOfficeUnavailable) as down:
                c.submit(dossier)
            assert down.value.user_message() == UNAVAILABLE_MSG
            assert "503" in str(down.value)
            assert (rows(Dossier), rows(AttachmentFile), rows(DailySequence)) == (0, 0, 0)
            with ctx.engine.begin() as conn:
                conn.exec_driver_sql("ALTER TABLE status_history_away RENAME TO status_history")
            result = c.submit(dossier)  # the outbox's retry, once the database is back
            assert parse_dossier_code(result.dossier_code).seq == 1
            assert c.lookup(result.dossier_code).status is DossierState.RECEIVED
    finally:
        embedded.stop()


def test_a_stored_page_changed_or_lost_on_disk_is_not_served(
    server: BackofficeServer, client: HttpBackOffice, tmp_path: Path
) -> None:
    dossier = sample_dossier(SHIPPED, KIOSK, tmp_path)
    code = client.submit(dossier).dossier_code
    digest = dossier_upload(dossier)[1]["parts"]["a0p0"]["sha256"]
    web = requests.Session()
    assert web.post(server.url + "/staff/login", data={"token": STAFF_TOKEN}, timeout=10).ok
    link = f"{server.url}/staff/dossiers/{code}/files/{digest}"
    served = web.get(link, timeout=10)
    assert served.status_code == 200
    assert served.content == dossier.attachments[0].pages[0].read_bytes()

    ctx = server.context()
    try:
        stored = ctx.blobs.path_of(digest)
    finally:
        ctx.close()
    os.chmod(stored, 0o644)
    stored.write_bytes(sample_pdf(tmp_path / "forged.pdf", "forged").read_bytes())
    changed = web.get(link, timeout=10)
    assert changed.status_code == 503 and "changed on disk" in changed.json()["message"]
    stored.unlink()
    lost = web.get(link, timeout=10)
    assert lost.status_code == 503 and "missing or unreadable" in lost.json()["message"]


def test_the_database_is_in_wal_mode_with_full_sync(server: BackofficeServer) -> None:
    settings = server.settings()
    with sqlite3.connect(settings.db_url.removeprefix("sqlite:///")) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"  # set by the server
    ctx = server.context()
    try:
        with ctx.engine.connect() as conn:
            pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
            assert pragma("synchronous") == 2  # FULL
            assert pragma("foreign_keys") == 1
            assert pragma("busy_timeout") == 30000
    finally:
        ctx.close()


# --- the scripted back office of the outbox tests answers as the server does -----------------


@pytest.fixture(params=["scripted", "reference"])
def office(
    request: pytest.FixtureRequest, server: BackofficeServer, holidays: HolidayCalendar
) -> Iterator[Any]:
    if request.param == "scripted":
        yield ScriptedBackOffice(SHIPPED, holidays, agency_code=AGENCY)
    else:
        with client_for(server) as c:
            yield c


def test_both_answer_a_dossier_alike(office: Any, tmp_path: Path, holidays: Any) -> None:
    assert isinstance(office, BackOffice)
    dossier = sample_dossier(SHIPPED, KIOSK, tmp_path)
    procedure = SHIPPED.get(dossier.procedure_code)
    result = office.submit(dossier)
    parsed = parse_dossier_code(result.dossier_code)
    assert parsed.agency_code == AGENCY and parsed.day == result.received_at.date()
    assert result.fee_vnd == procedure.fee_vnd and not result.provisional
    assert result.appointment_date == add_working_days(
        result.received_at, procedure.processing_days, holidays
    )
    status = office.lookup(f" {result.dossier_code.lower()} ")
    assert status.code == result.dossier_code
    assert status.status is DossierState.RECEIVED
    assert [e.state for e in status.history] == [DossierState.RECEIVED]
    assert status.procedure_code == procedure.code
    assert status.appointment_date == result.appointment_date
    assert status.next_step("en").startswith("Your dossier has been received")
    health = office.health()
    assert health.ok and health.device == "backoffice"


def test_both_are_idempotent_on_the_key(office: Any, tmp_path: Path) -> None:
    dossier = sample_dossier(SHIPPED, KIOSK, tmp_path)
    first = office.submit(dossier)
    assert office.submit(dossier) == first
    assert office.submit(DossierSubmission.from_json(dossier.to_json())) == first

    changed = replace(dossier, declaration={**dossier.declaration, "email": "khac@example.vn"})
    with pytest.raises(IdempotencyConflict) as conflict:
        office.submit(changed)
    assert first.dossier_code in str(conflict.value)
    other_page = sample_pdf(tmp_path / "other.pdf", "another scan")
    rescanned = replace(
        dossier,
        attachments=[replace(dossier.attachments[0], pages=[other_page]), *dossier.attachments[1:]],
    )
    with pytest.raises(IdempotencyConflict):
        office.submit(rescanned)
    assert office.submit(dossier) == first  # the first answer still stands
    twin = office.submit(replace(dossier, idempotency_key="another-key-1"))
    assert twin.dossier_code != first.dossier_code  # another key is another dossier


def test_both_refuse_what_the_rules_refuse(office: Any, tmp_path: Path) -> None:
    dossier = printing_dossier(tmp_path)
    with pytest.raises(SubmissionRejected) as unknown:
        office.submit(replace(dossier, procedure_code="NO-SUCH-01"))
    assert unknown.value.problems == ["procedure_code: 'NO-SUCH-01' is not in the catalog"]
    assert unknown.value.user_message() == REJECTED_MSG

    wrong = printing_dossier(tmp_path)
    for change in (_declare(ten_co_so=None, extra=1), _same_document_twice):
        change(wrong)
    with pytest.raises(SubmissionRejected) as refused:
        office.submit(wrong)
    assert refused.value.problems == dossier_problems(wrong, SHIPPED.get("2.001740"))
    assert len(refused.value.problems) == 3

    gone = replace(
        dossier,
        attachments=[Attachment("to_khai", "Tờ khai", [tmp_path / "gone.pdf"])],
        idempotency_key="page-gone-01",
    )
    with pytest.raises(SubmissionRejected) as unreadable:
        office.submit(gone)
    assert [p.split(":")[0] for p in unreadable.value.problems] == ["attachments[0].pages[0]"]
    assert "cannot read" in unreadable.value.problems[0]


def test_both_tell_an_unknown_code_from_a_malformed_one(office: Any) -> None:
    with pytest.raises(DossierNotFound) as unknown:
        office.lookup("000.00.08.H21-200101-0001")
    assert unknown.value.user_message() == NOT_FOUND_MSG
    assert "000.00.08.H21-200101-0001" in str(unknown.value)
    with pytest.raises(DossierCodeError):
        office.lookup("200101-0001")
