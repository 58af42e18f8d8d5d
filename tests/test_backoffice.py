"""The local back-office stand-in on a real SQLite file: codes, idempotency, attachments, status."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from devices.base import Health
from kiosk.catalog.procedures import Catalog, load_catalog
from kiosk.delivery.backoffice import (
    BackOffice,
    BackOfficeError,
    BackOfficeUnavailable,
    DossierNotFound,
    IdempotencyConflict,
    InvalidTransition,
    SubmissionRejected,
)
from kiosk.delivery.local_backoffice import LocalBackOffice
from kiosk.dossier.model import (
    Applicant,
    Attachment,
    DossierCodeError,
    DossierState,
    DossierSubmission,
)
from kiosk.dossier.workdays import HolidayCalendar, add_working_days, load_holidays
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.paths import CONFIG_DIR

AGENCY = "000.00.08.H21"
UNAVAILABLE_MSG = (
    "The dossier service cannot be reached right now. Your dossier is kept safely and will be "
    "sent automatically."
)
NOT_FOUND_MSG = "No dossier has this code. Please check the code on your receipt."
REJECTED_MSG = "The dossier could not be accepted. Please ask the staff at the counter for help."


class Clock:
    """A settable clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(CONFIG_DIR / "procedures")


@pytest.fixture(scope="module")
def holidays() -> HolidayCalendar:
    return load_holidays(CONFIG_DIR / "holidays.toml")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 2, 13, 10, 0, tzinfo=VIETNAM_TZ))  # Friday before Tết


@pytest.fixture
def office(tmp_path: Path, catalog: Catalog, holidays: HolidayCalendar, clock: Clock):
    bo = LocalBackOffice(
        tmp_path / "db" / "backoffice.sqlite3", AGENCY, catalog, holidays, tmp_path / "att", clock
    )
    yield bo
    bo.close()


def reopen(office: LocalBackOffice, clock: Clock | None = None) -> LocalBackOffice:
    return LocalBackOffice(
        office.db_path,
        office.agency_code,
        office.catalog,
        office.holidays,
        office.attachments_dir,
        clock or office._clock,
    )


@cache
def shipped_catalog() -> Catalog:
    return load_catalog(CONFIG_DIR / "procedures")


@cache
def _sample_answers(code: str) -> str:
    from kiosk.demo.citizens import sample_draft
    from kiosk.forms.spec import FormSpec

    form = FormSpec.from_definition(shipped_catalog().get(code).form)
    answers, problems = form.convert_and_validate(sample_draft(form))
    assert problems == {}
    return json.dumps(answers, ensure_ascii=False)


def valid_declaration(code: str, **changes: Any) -> dict[str, Any]:
    """Answers to the procedure's form, as the kiosk's form engine makes them from typing."""
    answers: dict[str, Any] = json.loads(_sample_answers(code))
    answers.update(changes)
    return answers


def required_attachments(code: str, page: Path) -> list[Attachment]:
    procedure = shipped_catalog().get(code)
    return [Attachment(d.id, d.title_vi, [page], None) for d in procedure.documents if d.required]


def make_dossier(
    tmp_path: Path, name: str = "p", content: bytes = b"page one"
) -> DossierSubmission:
    page = tmp_path / f"{name}.png"
    page.write_bytes(content)
    return DossierSubmission(
        procedure_code="2.001740",
        kiosk_id="K01",
        applicant=Applicant("001204012345", "Nguyễn Thị Hoa", date(1990, 5, 17), "Nữ", "Hà Nội"),
        declaration=valid_declaration("2.001740", ten_co_so="Cơ sở in Hoa Sen"),
        attachments=required_attachments("2.001740", page),
        created_at=datetime(2026, 2, 13, 9, 59, tzinfo=VIETNAM_TZ),
    )


def count(office: LocalBackOffice, table: str) -> int:
    with sqlite3.connect(office.db_path) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- submitting ---


def test_submit_gives_code_appointment_fee_and_stores_attachments(
    office: LocalBackOffice, tmp_path: Path, holidays: HolidayCalendar
) -> None:
    assert isinstance(office, BackOffice)
    result = office.submit(make_dossier(tmp_path))
    assert result.dossier_code == "000.00.08.H21-260213-0001"
    assert result.received_at == datetime(2026, 2, 13, 10, 0, tzinfo=VIETNAM_TZ)
    # 3 working days for 2.001740 with Tết from 14/2 to 22/2: 23, 24, 25 February.
    assert result.appointment_date == date(2026, 2, 25)
    assert result.appointment_date == add_working_days(result.received_at, 3, holidays)
    assert result.fee_vnd == 0 and not result.provisional

    stored = office.stored_attachments(result.dossier_code)
    assert len(stored) == 1
    assert stored[0]["path"].read_bytes() == b"page one"
    assert stored[0]["path"].parent == office.attachments_dir / result.dossier_code
    assert stored[0]["sha256"] == hashlib.sha256(b"page one").hexdigest()
    assert stored[0]["size"] == len(b"page one")
    assert office.verify_attachments(result.dossier_code) == []

    status = office.lookup(result.dossier_code)
    assert status.status is DossierState.RECEIVED
    assert status.procedure_code == "2.001740"
    assert status.appointment_date == date(2026, 2, 25)
    assert [e.state for e in status.history] == [DossierState.RECEIVED]
    assert status.history[0].note == "kiosk K01"
    assert status.next_step("en").startswith("Your dossier has been received")


def test_database_is_wal_with_full_sync(office: LocalBackOffice) -> None:
    conn = office._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_sequence_counts_per_day_and_restarts(
    office: LocalBackOffice, tmp_path: Path, clock: Clock
) -> None:
    codes = [office.submit(make_dossier(tmp_path, f"p{i}")).dossier_code for i in range(3)]
    assert [c[-4:] for c in codes] == ["0001", "0002", "0003"]
    clock.now = datetime(2026, 2, 23, 8, 0, tzinfo=VIETNAM_TZ)
    nxt = office.submit(make_dossier(tmp_path, "next"))
    assert nxt.dossier_code == "000.00.08.H21-260223-0001"


def test_after_cutoff_the_appointment_moves_but_the_code_keeps_the_receipt_date(
    office: LocalBackOffice, tmp_path: Path, clock: Clock
) -> None:
    clock.now = datetime(2026, 2, 13, 17, 0, tzinfo=VIETNAM_TZ)
    result = office.submit(make_dossier(tmp_path))
    assert result.dossier_code == "000.00.08.H21-260213-0001"
    assert result.appointment_date == date(2026, 2, 26)


def test_fee_and_days_come_from_the_catalog(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    dossier.procedure_code = "LOCAL-BC-01"
    dossier.declaration = valid_declaration("LOCAL-BC-01")
    dossier.attachments = [
        Attachment(a.requirement_id, a.title, a.pages, None)
        if a.requirement_id != "quyet_dinh_thanh_lap"
        else Attachment("quyet_dinh_thanh_lap", "QĐ", [], "QD-2020-15")
        for a in required_attachments("LOCAL-BC-01", tmp_path / "p.png")
    ]
    result = office.submit(dossier)
    # 15 working days from Friday 13/2/2026 10:00, Tết 16..20/2 off.
    assert result.appointment_date == date(2026, 3, 13)
    assert result.fee_vnd == 0
    assert len(office.stored_attachments(result.dossier_code)) == 3


# --- idempotency ---


def test_same_key_same_body_returns_the_first_answer(
    office: LocalBackOffice, tmp_path: Path, clock: Clock
) -> None:
    dossier = make_dossier(tmp_path)
    first = office.submit(dossier)
    clock.now += timedelta(minutes=5)
    assert office.submit(dossier) == first
    # A retry from a copy (as the outbox sends it after a restart) and through a new connection.
    again = DossierSubmission.from_json(dossier.to_json())
    with reopen(office) as other:
        assert other.submit(again) == first
    assert count(office, "dossiers") == 1
    assert count(office, "attachments") == 1
    assert office.submit(make_dossier(tmp_path, "other")).dossier_code.endswith("-0002")


def test_same_key_other_body_conflicts_and_changes_nothing(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    dossier = make_dossier(tmp_path)
    first = office.submit(dossier)
    changed = DossierSubmission.from_json(dossier.to_json())
    changed.declaration["ten_co_so"] = "Cơ sở in khác"
    with pytest.raises(IdempotencyConflict) as e:
        office.submit(changed)
    assert isinstance(e.value, BackOfficeError)
    assert first.dossier_code in str(e.value)
    assert count(office, "dossiers") == 1
    assert office.lookup(first.dossier_code).status is DossierState.RECEIVED


def test_same_key_with_other_page_content_conflicts(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    dossier = make_dossier(tmp_path)
    office.submit(dossier)
    dossier.attachments[0].pages[0].write_bytes(b"a different scan")
    with pytest.raises(IdempotencyConflict):
        office.submit(dossier)
    assert count(office, "dossiers") == 1


# --- rejected dossiers: the reason, and nothing stored ---


def assert_nothing_stored(office: LocalBackOffice) -> None:
    assert count(office, "dossiers") == 0
    assert count(office, "attachments") == 0
    assert count(office, "daily_sequence") == 0
    assert list(office.attachments_dir.iterdir()) == []


def rejected(office: LocalBackOffice, dossier: DossierSubmission) -> list[str]:
    with pytest.raises(SubmissionRejected) as e:
        office.submit(dossier)
    assert e.value.user_message() == REJECTED_MSG
    assert_nothing_stored(office)
    return e.value.problems


def test_unknown_procedure(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    dossier.procedure_code = "9.999999"
    assert rejected(office, dossier) == ["procedure_code: '9.999999' is not in the catalog"]


def test_declaration_checked_against_the_form(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    dossier.declaration["so_dinh_danh"] = "12345"
    dossier.declaration["ngay_sinh"] = "17/05/1990"
    del dossier.declaration["ten_co_so"]
    dossier.declaration["extra"] = 1
    problems = rejected(office, dossier)
    assert problems == [
        "declaration.extra: This form has no such field.",
        "declaration.ngay_sinh: Enter a date as dd/mm/yyyy.",
        "declaration.so_dinh_danh: An ID number has 12 digits; this one has 5.",
        "declaration.ten_co_so: This field is required.",
    ]


def test_missing_required_document_and_unknown_document(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    dossier = make_dossier(tmp_path)
    dossier.attachments[0].requirement_id = "giay_phep"
    problems = rejected(office, dossier)
    assert problems == [
        "attachments[0].requirement_id: 'giay_phep' is not a document of procedure 2.001740",
        "attachments: required document 'to_khai' is missing",
    ]


def test_page_file_missing(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    dossier.attachments[0].pages.append(tmp_path / "gone.png")
    problems = rejected(office, dossier)
    assert len(problems) == 1 and problems[0].startswith("attachments[0].pages[1]: cannot read")


def test_bad_applicant(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    dossier.applicant.id_number = "0012"
    dossier.kiosk_id = ""
    problems = rejected(office, dossier)
    assert "applicant.id_number: not a 12-digit personal identification number" in problems
    assert "kiosk_id: missing" in problems


def test_a_rejected_dossier_does_not_use_up_a_number(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    bad = make_dossier(tmp_path)
    bad.declaration["so_dinh_danh"] = "x"
    with pytest.raises(SubmissionRejected):
        office.submit(bad)
    assert office.submit(make_dossier(tmp_path)).dossier_code.endswith("-0001")


def test_failed_copy_rolls_back_everything(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    original = office._copy_attachments

    def copy_then_fail(*args, **kwargs):
        original(*args, **kwargs)
        raise OSError("disk full")

    office._copy_attachments = copy_then_fail  # type: ignore[method-assign]
    with pytest.raises(BackOfficeUnavailable, match="disk full"):
        office.submit(dossier)
    assert_nothing_stored(office)
    office._copy_attachments = original  # type: ignore[method-assign]
    assert office.submit(dossier).dossier_code.endswith("-0001")


# --- lookup and status ---


def test_lookup_unknown_and_malformed_codes(office: LocalBackOffice) -> None:
    with pytest.raises(DossierNotFound) as e:
        office.lookup("000.00.08.H21-260213-0001")
    assert e.value.user_message() == NOT_FOUND_MSG
    with pytest.raises(DossierCodeError):
        office.lookup("260213-0001")


def test_lookup_accepts_a_typed_code(office: LocalBackOffice, tmp_path: Path) -> None:
    code = office.submit(make_dossier(tmp_path)).dossier_code
    assert office.lookup(f" {code.lower()} ").code == code


def test_staff_move_a_dossier_along(office: LocalBackOffice, tmp_path: Path, clock: Clock) -> None:
    code = office.submit(make_dossier(tmp_path)).dossier_code
    steps = [
        (DossierState.IN_PROGRESS, "Đang thẩm định"),
        (DossierState.NEEDS_MORE, "Thiếu danh mục thiết bị"),
        (DossierState.IN_PROGRESS, "Đã bổ sung"),
        (DossierState.RESULT_READY, ""),
        ("returned", "Đã trả kết quả"),
    ]
    for state, note in steps:
        clock.now += timedelta(hours=1)
        status = office.advance(code, state, note)
        assert status.status == DossierState(state)
        assert status.history[-1].note == note
        assert status.history[-1].at == clock.now
    with reopen(office) as other:
        history = other.lookup(code).history
    assert [e.state.value for e in history] == [
        "received", "in_progress", "needs_more", "in_progress", "result_ready", "returned",
    ]  # fmt: skip
    assert office.lookup(code).next_step("vi") == "Kết quả đã được trả. Hồ sơ đã hoàn tất."


def test_invalid_transitions_change_nothing(office: LocalBackOffice, tmp_path: Path) -> None:
    code = office.submit(make_dossier(tmp_path)).dossier_code
    with pytest.raises(InvalidTransition, match="cannot go from received to returned"):
        office.advance(code, DossierState.RETURNED, "")
    with pytest.raises(InvalidTransition, match="not a dossier state"):
        office.advance(code, "lost", "")
    with pytest.raises(DossierNotFound):
        office.advance("000.00.08.H21-260213-0099", DossierState.IN_PROGRESS, "")
    status = office.lookup(code)
    assert status.status is DossierState.RECEIVED and len(status.history) == 1


def test_tampered_or_missing_attachment_is_reported(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    code = office.submit(make_dossier(tmp_path)).dossier_code
    stored = office.stored_attachments(code)[0]["path"]
    stored.write_bytes(b"tampered")
    problems = office.verify_attachments(code)
    assert len(problems) == 1 and "content changed" in problems[0]
    stored.unlink()
    assert "missing or unreadable" in office.verify_attachments(code)[0]
    with pytest.raises(DossierNotFound):
        office.verify_attachments("000.00.08.H21-260213-0099")


# --- concurrency ---


def test_codes_unique_with_8_threads_sharing_one_office(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    codes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        try:
            for i in range(5):
                code = office.submit(make_dossier(tmp_path, f"t{t}-{i}")).dossier_code
                with lock:
                    codes.append(code)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert len(set(codes)) == 40
    assert sorted(int(c[-4:]) for c in codes) == list(range(1, 41))
    assert count(office, "dossiers") == 40


def test_codes_unique_with_8_offices_on_one_file(office: LocalBackOffice, tmp_path: Path) -> None:
    offices = [reopen(office) for _ in range(8)]
    codes: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(4):
            code = offices[t].submit(make_dossier(tmp_path, f"o{t}-{i}")).dossier_code
            with lock:
                codes.append(code)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for o in offices:
        o.close()
    assert sorted(int(c[-4:]) for c in codes) == list(range(1, 33))


def test_same_key_from_8_threads_gives_one_dossier(office: LocalBackOffice, tmp_path: Path) -> None:
    dossier = make_dossier(tmp_path)
    results = []
    lock = threading.Lock()

    def work() -> None:
        r = office.submit(DossierSubmission.from_json(dossier.to_json()))
        with lock:
            results.append(r)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 8 and len(set(results)) == 1
    assert count(office, "dossiers") == 1


# --- health and failures ---


def test_health(office: LocalBackOffice, tmp_path: Path) -> None:
    office.submit(make_dossier(tmp_path))
    h = office.health()
    assert isinstance(h, Health) and h.ok and h.device == "backoffice"
    assert "1 dossiers" in h.detail


def test_unusable_database_is_unavailable(
    tmp_path: Path, catalog: Catalog, holidays: HolidayCalendar
) -> None:
    folder = tmp_path / "is-a-folder"
    folder.mkdir()
    with pytest.raises(BackOfficeUnavailable) as e:
        LocalBackOffice(folder, AGENCY, catalog, holidays, tmp_path / "att")
    assert e.value.user_message() == UNAVAILABLE_MSG


def test_naive_creation_time_survives_the_json_copy(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    dossier = make_dossier(tmp_path)
    dossier = DossierSubmission(
        dossier.procedure_code,
        dossier.kiosk_id,
        dossier.applicant,
        dossier.declaration,
        dossier.attachments,
        datetime(2026, 2, 13, 9, 59),  # naive: Vietnam time
    )
    first = office.submit(dossier)
    assert office.submit(DossierSubmission.from_json(dossier.to_json())) == first


def test_storage_failure_during_submit_is_unavailable(
    office: LocalBackOffice, tmp_path: Path
) -> None:
    dossier = make_dossier(tmp_path)
    office._conn().execute("DROP TABLE status_history")
    with pytest.raises(BackOfficeUnavailable) as e:
        office.submit(dossier)
    assert e.value.user_message() == UNAVAILABLE_MSG
    assert count(office, "dossiers") == 0
    assert list(office.attachments_dir.iterdir()) == []


def test_bad_agency_code(tmp_path: Path, catalog: Catalog, holidays: HolidayCalendar) -> None:
    with pytest.raises(BackOfficeError, match="QCVN 102:2016"):
        LocalBackOffice(tmp_path / "b.sqlite3", "H21", catalog, holidays, tmp_path / "att")
    assert not (tmp_path / "b.sqlite3").exists()


def test_codes_match_the_circular_format(office: LocalBackOffice, tmp_path: Path) -> None:
    code = office.submit(make_dossier(tmp_path)).dossier_code
    assert re.fullmatch(r"\d{3}\.\d{2}\.\d{2}\.H21-\d{6}-\d{4}", code)
