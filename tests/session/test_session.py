"""The citizen session state machine, its idle timeout and its wipe, without a display."""

from __future__ import annotations

from datetime import date

import pytest

from kiosk.identity.id_number import InvalidIdNumber, can_from_id_number, parse_id_number
from kiosk.identity.model import Identity, IdentitySource
from kiosk.session.state import EndReason, IdleState, Journey, Session, SessionError, Step

VALID_ID = "001090012345"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session(clock: FakeClock, tmp_path) -> Session:
    return Session(timeout_s=90, warning_s=20, clock=clock, scratch_root=tmp_path / "scratch")


def walk_to(session: Session, step: Step) -> None:
    session.start(Journey.DOSSIER)
    path = [
        (Step.IDENTIFY, session.accept_consent),
        (Step.PROCEDURE, lambda: session.identified(Identity.from_typed_number(VALID_ID))),
        (Step.FORM, lambda: session.choose_procedure("P1")),
        (Step.DOCUMENTS, lambda: session.form_done({"name": "Nguyễn Văn A"})),
        (Step.REVIEW, session.documents_done),
        (Step.SUBMIT, session.confirm_review),
        (Step.RECEIPT, lambda: session.submitted({"code": "X"}, True)),
        (Step.RATING, session.receipt_done),
    ]
    for target, event in path:
        if session.step == step:
            return
        event()
        assert session.step == target
    assert session.step == step


def test_dossier_journey_visits_every_step_in_order(session: Session) -> None:
    seen: list[Step] = []
    session.subscribe(lambda s, old, new: seen.append(new))
    walk_to(session, Step.RATING)
    session.rated(5)
    assert seen == [
        Step.CONSENT,
        Step.IDENTIFY,
        Step.PROCEDURE,
        Step.FORM,
        Step.DOCUMENTS,
        Step.REVIEW,
        Step.SUBMIT,
        Step.RECEIPT,
        Step.RATING,
        Step.WELCOME,
    ]
    assert session.last_end is EndReason.COMPLETED
    assert session.data.is_empty()


def test_progress_position(session: Session) -> None:
    walk_to(session, Step.FORM)
    assert session.position() == (4, 9)


def test_queue_and_lookup_journeys(session: Session) -> None:
    session.start(Journey.QUEUE)
    assert session.step is Step.QUEUE
    session.ticket_issued("IN", "elderly", {"number": "IN-U01"})
    assert session.step is Step.TICKET and not session.can_go_back()
    session.finish()
    assert session.step is Step.WELCOME and session.data.ticket is None
    session.start(Journey.LOOKUP)
    session.lookup_found("000.00.08.H21-261124-0001", {"status": "received"})
    assert session.step is Step.LOOKUP_RESULT
    session.back()
    assert session.step is Step.LOOKUP


def test_event_at_wrong_step_is_refused(session: Session) -> None:
    with pytest.raises(SessionError):
        session.accept_consent()
    walk_to(session, Step.FORM)
    with pytest.raises(SessionError):
        session.confirm_review()
    assert session.step is Step.FORM


def test_back_keeps_answers_and_changing_procedure_drops_them(session: Session) -> None:
    walk_to(session, Step.DOCUMENTS)
    session.back()
    assert session.step is Step.FORM
    assert session.data.answers == {"name": "Nguyễn Văn A"}
    session.back()
    session.choose_procedure("P1")
    assert session.data.answers == {"name": "Nguyễn Văn A"}
    session.back()
    session.choose_procedure("P2")
    assert session.data.answers == {}


def test_back_from_first_step_ends_session(session: Session) -> None:
    session.start(Journey.DOSSIER)
    session.back()
    assert session.step is Step.WELCOME
    assert session.last_end is EndReason.CANCELLED


def test_no_back_once_submitted_and_no_cancel_while_busy(session: Session) -> None:
    walk_to(session, Step.SUBMIT)
    assert not session.can_go_back()
    assert not session.can_cancel()
    with pytest.raises(SessionError):
        session.cancel()
    session.submission_failed()
    assert session.step is Step.REVIEW
    assert session.data.answers  # nothing typed is lost


def test_decline_consent_wipes(session: Session) -> None:
    session.start(Journey.DOSSIER)
    session.decline_consent()
    assert session.step is Step.WELCOME and session.last_end is EndReason.DECLINED


def test_idle_warning_then_timeout_wipes_everything(session: Session, clock: FakeClock) -> None:
    walk_to(session, Step.DOCUMENTS)
    identity = session.data.identity
    assert identity is not None
    identity.photo = bytearray(b"\xff\xd8photo-bytes")
    photo = identity.photo
    page = session.scratch_dir() / "page.jpg"
    page.write_bytes(b"jpeg")
    session.add_page("doc1", page)
    scratch = session.scratch_dir()

    clock.now += 69
    assert session.tick() is IdleState.ACTIVE
    clock.now += 1
    assert session.tick() is IdleState.WARNING
    assert session.seconds_left() == pytest.approx(20)
    session.touch()  # "continue"
    clock.now += 69
    assert session.tick() is IdleState.ACTIVE
    clock.now += 21
    assert session.tick() is IdleState.EXPIRED
    assert session.step is Step.WELCOME
    assert session.last_end is EndReason.TIMEOUT
    assert session.data.is_empty()
    assert not scratch.exists()
    assert photo == bytearray(len(photo))  # overwritten in place
    assert identity.id_number == "" and identity.full_name is None


def test_no_timeout_at_welcome_or_while_submitting(session: Session, clock: FakeClock) -> None:
    clock.now += 10_000
    assert session.tick() is IdleState.ACTIVE
    walk_to(session, Step.SUBMIT)
    clock.now += 10_000
    assert session.tick() is IdleState.ACTIVE
    assert session.step is Step.SUBMIT


def test_retake_deletes_the_page_file(session: Session) -> None:
    walk_to(session, Step.DOCUMENTS)
    first = session.scratch_dir() / "a.jpg"
    second = session.scratch_dir() / "b.jpg"
    for p in (first, second):
        p.write_bytes(b"x")
        session.add_page("doc1", p)
    session.remove_last_page("doc1")
    assert first.exists() and not second.exists()
    assert [p.path for p in session.data.pages["doc1"]] == [first]


def test_rating_out_of_range_is_refused(session: Session) -> None:
    walk_to(session, Step.RATING)
    with pytest.raises(SessionError):
        session.rated(6)
    session.rated(None)
    assert session.step is Step.WELCOME


def test_bad_timeouts_are_refused() -> None:
    with pytest.raises(ValueError):
        Session(timeout_s=20, warning_s=20)


@pytest.mark.parametrize(
    "raw",
    ["", "12345678901", "0010900123456", "00109001234a", "003090012345", "001399012345"],
)
def test_invalid_id_numbers(raw: str) -> None:
    with pytest.raises(InvalidIdNumber) as err:
        parse_id_number(raw, today=date(2026, 11, 24))
    assert "12-digit" in err.value.user_message()


def test_id_number_facts_and_can() -> None:
    facts = parse_id_number("079 3 05 012345", today=date(2026, 11, 24))
    assert (facts.province_code, facts.sex, facts.birth_year) == ("079", "F", 2005)
    assert can_from_id_number("001090012345") == "012345"
    identity = Identity.from_typed_number("001090012345")
    assert identity.source is IdentitySource.TYPED
    assert identity.masked_id().endswith("2345") and "0010" not in identity.masked_id()
    assert identity.birth_year == 1990 and identity.sex == "M"
    assert identity.age_on(date(2026, 11, 24)) == 35  # the youngest the year allows


def test_age_from_full_date() -> None:
    identity = Identity("001060012345", IdentitySource.CHIP, date_of_birth=date(1960, 12, 1))
    assert identity.age_on(date(2026, 11, 30)) == 65
    assert identity.age_on(date(2026, 12, 1)) == 66


def test_chip_candidate_confirmed_and_elderly_priority(session: Session) -> None:
    from kiosk.identity.model import Authenticity

    session.start(Journey.DOSSIER)
    session.accept_consent()
    old = Identity(
        "001055012345",
        IdentitySource.CHIP,
        Authenticity.AUTHENTIC,
        full_name="Trần Văn Bình",
        date_of_birth=date(1955, 1, 2),
        photo=bytearray(b"jpeg"),
    )
    session.chip_read(old)
    assert session.data.chip_candidate is old and session.step is Step.IDENTIFY
    session.identified(old)
    assert session.data.identity is old and session.data.chip_candidate is None
    assert session.data.priority_class == "elderly"


def test_not_me_wipes_the_chip_candidate(session: Session) -> None:
    session.start(Journey.DOSSIER)
    session.accept_consent()
    other = Identity("001090012345", IdentitySource.CHIP, photo=bytearray(b"\x01\x02"))
    photo = other.photo
    session.chip_read(other)
    session.drop_chip_candidate()
    assert session.data.chip_candidate is None and photo == bytearray(2)
    session.identified(Identity.from_typed_number(VALID_ID))
    assert session.data.priority_class is None
