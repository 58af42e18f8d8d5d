"""The kiosk flow without a display: real catalog, local back office, virtual printer, camera."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.vision_helpers import card_photo_on_desk

from kiosk.app.launch import make_session
from kiosk.app.services import build_services
from kiosk.demo.citizens import sample_answers, walk_to
from kiosk.flow.events import Notice, NumberScanned
from kiosk.flow.kiosk_flow import KioskFlow
from kiosk.flow.runner import InlineRunner
from kiosk.session.state import IdentifyPhase, Journey, Step


@pytest.fixture
def flow(kiosk_config: Any) -> Iterator[KioskFlow]:
    services = build_services(kiosk_config)
    flow = KioskFlow(make_session(kiosk_config), services, InlineRunner())
    notices: list[Notice] = []
    flow.events.subscribe(Notice, notices.append)
    flow.notices = notices  # type: ignore[attr-defined]
    try:
        yield flow
    finally:
        flow.session.wipe()
        services.close()


def test_submission_reaches_back_office_and_prints_receipt(flow: KioskFlow) -> None:
    walk_to(flow, Step.RECEIPT)
    result = flow.session.data.result
    assert flow.session.data.receipt_printed is True
    status = flow.services.backoffice.lookup(result.dossier_code)
    assert status.code == result.dossier_code
    stored = list((flow.services.config.kiosk.data_dir / "backoffice" / "files").rglob("*"))
    pdfs = [p for p in stored if p.is_file() and p.read_bytes()[:5] == b"%PDF-"]
    assert pdfs, "each document reaches the back office as a searchable PDF"
    from kiosk.vision.pdf import pdf_text

    texts = ["".join(pdf_text(p.read_bytes())) for p in pdfs]
    assert any("VIỆT NAM" in t for t in texts)  # the captured page's words
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in t for t in texts)  # the tờ khai
    assert flow.services.outbox.status().to_dict()["pending"] == 0
    receipts = flow.services.virtual_printer.wait_for_receipts(1)
    assert len(receipts) == 1
    assert receipts[0].images and receipts[0].cut
    assert receipts[0].png_path.exists()
    assert flow.notices == []  # type: ignore[attr-defined]


def test_prefill_from_identity_and_earlier_answers(flow: KioskFlow) -> None:
    walk_to(flow, Step.FORM)
    values = flow.dossier.form_values()
    identity = flow.session.data.identity
    prefilled = [
        f for f in flow.dossier.form().fields if f.prefill and f.prefill.startswith("identity.")
    ]
    assert prefilled, "the sample procedure's form has prefilled fields"
    for f in prefilled:
        attr = f.prefill.removeprefix("identity.")
        if getattr(identity, attr, None):
            assert values[f.name]


def test_form_errors_are_per_field_and_nothing_moves(flow: KioskFlow) -> None:
    walk_to(flow, Step.FORM)
    answers = sample_answers(flow)
    required = next(f for f in flow.dossier.form().fields if f.required and f.kind == "text")
    answers[required.name] = "   "
    errors = flow.dossier.submit_form(answers)
    assert {k: p.msgid for k, p in errors.items()} == {required.name: "This field is required."}
    assert flow.session.step is Step.FORM


def test_documents_required_before_review(flow: KioskFlow) -> None:
    walk_to(flow, Step.DOCUMENTS, procedure="LOCAL-IN-01")  # papers to capture
    assert flow.documents.done() is False
    assert flow.notices[-1].msgid.startswith("Please capture every required document")  # type: ignore[attr-defined]
    assert flow.session.step is Step.DOCUMENTS


def test_camera_unplugged_mid_capture_keeps_the_dossier(flow: KioskFlow) -> None:
    walk_to(flow, Step.DOCUMENTS, procedure="LOCAL-IN-01")  # papers to capture
    req = flow.documents.missing()[0]
    flow.documents.capture_page(req.id)
    assert len(flow.session.data.pages[req.id]) == 1
    flow.services.camera.unplug()
    flow.documents.capture_page(req.id)
    assert "camera is not available" in flow.notices[-1].msgid  # type: ignore[attr-defined]
    assert len(flow.session.data.pages[req.id]) == 1  # the page already taken is kept
    assert flow.session.data.answers  # and so is the form
    flow.services.camera.replug()
    flow.documents.capture_page(req.id)
    assert len(flow.session.data.pages[req.id]) == 2


def test_back_office_silent_gives_a_provisional_receipt_and_the_code_later(
    flow: KioskFlow,
) -> None:
    from dataclasses import replace

    services = flow.services
    services.config = replace(
        services.config, outbox=replace(services.config.outbox, wait_for_code_s=0.3)
    )
    services.sender.stop()  # nothing reaches the back office for now
    walk_to(flow, Step.RECEIPT)
    result = flow.session.data.result
    assert result.provisional and result.dossier_code.startswith("KIOSK-01-")
    assert flow.session.data.receipt_printed is True
    assert services.outbox.status().to_dict()["pending"] == 1
    flow.finish()

    services.sender.start()  # the back office answers again
    assert services.sender.flush(30).to_dict()["pending"] == 0
    flow.start(Journey.LOOKUP)
    flow.lookup.lookup(result.dossier_code)  # the provisional reference printed on the receipt
    status = flow.session.data.lookup_status
    assert status is not None and status.code.startswith(flow.services.config.kiosk.agency_code)


def test_printer_out_of_paper_still_gives_a_receipt_on_screen(flow: KioskFlow) -> None:
    flow.services.virtual_printer.set_paper("out")
    walk_to(flow, Step.RECEIPT)
    assert flow.session.data.result.dossier_code
    assert flow.session.data.receipt_printed is False
    assert "photograph the QR code" in flow.notices[-1].msgid  # type: ignore[attr-defined]
    assert flow.services.alerts.recent()[-1]["message"].startswith("receipt not printed")


def test_queue_ticket_is_issued_and_printed(flow: KioskFlow) -> None:
    walk_to(flow, Step.TICKET)
    ticket = flow.session.data.ticket
    assert ticket.priority_class == "elderly"
    assert len(flow.services.virtual_printer.wait_for_receipts(1)) == 1


def test_lookup_bad_and_unknown_codes(flow: KioskFlow) -> None:
    flow.start(Journey.LOOKUP)
    flow.lookup.lookup("")
    assert flow.notices[-1].msgid.startswith("Please enter the dossier code")  # type: ignore[attr-defined]
    flow.lookup.lookup("hello")
    assert "not valid" in flow.notices[-1].msgid  # type: ignore[attr-defined]
    flow.lookup.lookup("000.00.08.H21-261124-9999")
    assert "No dossier has this code" in flow.notices[-1].msgid  # type: ignore[attr-defined]
    assert flow.session.step is Step.LOOKUP


def test_rating_is_stored_without_identity(flow: KioskFlow) -> None:
    walk_to(flow, Step.RATING)
    flow.dossier.rate(4)
    assert flow.services.ratings.summary()[4] == 1
    assert flow.session.step is Step.WELCOME and flow.session.data.is_empty()


def _flow_with_card(kiosk_env: dict[str, str], tmp_path: Any, profile: str, **extra: str) -> Any:
    from kiosk.config.settings import load_config

    env = dict(kiosk_env)
    env.update(
        KIOSK_CARD_READER_PROFILE=profile,
        KIOSK_CARD_READER_TEST_PKI_DIR=str(tmp_path / "pki"),
        **extra,
    )
    cfg = load_config(None, env=env)
    services = build_services(cfg)
    flow = KioskFlow(make_session(cfg), services, InlineRunner())
    flow.notices = []  # type: ignore[attr-defined]
    flow.events.subscribe(Notice, flow.notices.append)  # type: ignore[attr-defined]
    flow.start(Journey.DOSSIER)
    flow.session.accept_consent()
    return flow


@pytest.mark.parametrize(
    ("profile", "msgid_start", "alerted"),
    [
        ("tampered", "The data on this card could not be verified", True),
        ("expired", "This card has expired", False),
        ("pulled", "The card was moved away", False),
    ],
)
def test_refused_cards_explain_and_keep_nothing(
    kiosk_env: dict[str, str], tmp_path: Any, profile: str, msgid_start: str, alerted: bool
) -> None:
    flow = _flow_with_card(kiosk_env, tmp_path, profile)
    try:
        number = flow.services.card_reader.card.profile.id_number
        assert flow.identify.read_card(number)  # a valid number: the read starts
        assert flow.session.data.identify_phase is IdentifyPhase.NUMBER  # and failed
        assert flow.notices[-1].msgid.startswith(msgid_start)  # type: ignore[attr-defined]
        assert flow.session.data.chip_candidate is None and flow.session.data.identity is None
        assert flow.session.step is Step.IDENTIFY
        alerts = flow.services.alerts.recent()
        assert bool(alerts) is alerted
        if alerted:
            assert "DG13" in alerts[-1]["message"]
    finally:
        flow.services.close()


def test_untrusted_signer_warns_or_refuses_per_config(
    kiosk_env: dict[str, str], tmp_path: Any
) -> None:
    flow = _flow_with_card(kiosk_env, tmp_path, "untrusted-signer")
    try:
        number = flow.services.card_reader.card.profile.id_number
        flow.identify.read_card(number)
        candidate = flow.session.data.chip_candidate
        assert candidate is not None and candidate.authenticity.value == "untrusted_signer"
        notice = flow.notices[-1]  # type: ignore[attr-defined]
        assert not notice.error and "issuer could not be verified" in notice.msgid
    finally:
        flow.services.close()
    strict = _flow_with_card(
        kiosk_env, tmp_path, "untrusted-signer", KIOSK_CARD_READER_UNTRUSTED_SIGNER="refuse"
    )
    try:
        strict.identify.read_card(strict.services.card_reader.card.profile.id_number)
        assert strict.session.data.chip_candidate is None
        assert strict.notices[-1].msgid.startswith("This card's issuer")  # type: ignore[attr-defined]
    finally:
        strict.services.close()


def test_elderly_citizen_read_from_the_chip_is_served_first(
    kiosk_env: dict[str, str], tmp_path: Any
) -> None:
    flow = _flow_with_card(kiosk_env, tmp_path, "elderly")
    try:
        flow.identify.read_card(flow.services.card_reader.card.profile.id_number)
        flow.identify.confirm_chip_identity()
        assert flow.session.step is Step.PROCEDURE
        assert flow.session.data.identity.full_name == "Trần Thị Bình"
        assert flow.session.data.priority_class == "elderly"
    finally:
        flow.services.close()


def test_no_card_and_unplugged_reader(kiosk_env: dict[str, str], tmp_path: Any) -> None:
    flow = _flow_with_card(kiosk_env, tmp_path, "demo")
    try:
        number = flow.services.card_reader.card.profile.id_number
        flow.services.chip.wait_s = 0.2
        flow.services.card_reader.remove()
        flow.identify.read_card(number)
        assert flow.notices[-1].msgid == "Please place your citizen ID card on the reader."  # type: ignore[attr-defined]
        flow.services.card_reader.unplug()
        flow.identify.read_card(number)
        assert "card reader is not connected" in flow.notices[-1].msgid  # type: ignore[attr-defined]
        flow.services.card_reader.replug()
        flow.services.card_reader.insert()
        flow.identify.read_card(number)
        assert flow.session.data.chip_candidate is not None
    finally:
        flow.services.close()


@pytest.mark.parametrize(("kind", "side"), [("qr", "front"), ("mrz", "back")])
def test_scan_the_card_then_read_its_chip(
    kiosk_env: dict[str, str], tmp_path: Any, kind: str, side: str
) -> None:
    photo = card_photo_on_desk(tmp_path, side)
    flow = _flow_with_card(kiosk_env, tmp_path, "demo", KIOSK_CAMERA_FRAMES=str(photo))
    try:
        found: list[NumberScanned] = []
        flow.events.subscribe(NumberScanned, found.append)
        flow.identify.scan_card(kind, seconds=5)  # the number found, the chip is read at once
        assert found == [NumberScanned("001090012345")], flow.notices  # type: ignore[attr-defined]
        assert flow.session.data.identify_phase is IdentifyPhase.CONFIRM
        assert flow.session.data.chip_candidate.full_name == "Nguyễn Văn An"
    finally:
        flow.services.close()


def test_scan_finds_nothing_on_an_empty_desk(kiosk_env: dict[str, str], tmp_path: Any) -> None:
    from kiosk.paths import SAMPLES_DIR

    flow = _flow_with_card(
        kiosk_env, tmp_path, "demo", KIOSK_CAMERA_FRAMES=str(SAMPLES_DIR / "desk-empty.jpg")
    )
    try:
        found: list[NumberScanned] = []
        flow.events.subscribe(NumberScanned, found.append)
        flow.identify.scan_card("qr", seconds=0.5)
        assert found == [] and flow.session.data.identify_phase is IdentifyPhase.NUMBER
        assert flow.notices[-1].msgid.startswith("No QR code was found")  # type: ignore[attr-defined]
    finally:
        flow.services.close()


# --- the queue screen's figures and the printer told before the ticket (issue 7) ---


def _queue_service(flow: KioskFlow) -> str:
    return flow.queue.services_for_queue()[0].code


def test_printer_out_of_paper_is_told_before_the_ticket_and_staff_alerted_once(
    flow: KioskFlow,
) -> None:
    from kiosk.printing.printer_watch import (
        MSG_QUEUE_PRINTER_COVER,
        MSG_QUEUE_PRINTER_OUT,
        MSG_TICKET_NOT_PRINTED,
    )

    printer = flow.services.virtual_printer
    printer.set_paper("out")
    service = _queue_service(flow)
    seen: list[str | None] = []
    for _ in range(2):  # two citizens, each told before taking a number
        flow.start(Journey.QUEUE)
        flow.queue.check_printer(seen.append)
        flow.queue.issue_ticket(service, None)
        assert flow.session.step is Step.TICKET and flow.session.data.ticket.number
        assert flow.queue.ticket_not_printed() == MSG_TICKET_NOT_PRINTED
        flow.finish()
    assert seen == [MSG_QUEUE_PRINTER_OUT] * 2
    assert printer.receipts == [] and "GS v 0" not in printer.command_log  # no job sent
    alerts = flow.services.alerts.recent()
    assert len(alerts) == 1 and "paper out" in alerts[0]["message"]
    assert flow.notices == []  # type: ignore[attr-defined]

    printer.set_paper("ok")  # refilled: tickets print again
    flow.start(Journey.QUEUE)
    flow.queue.check_printer(seen.append)
    flow.queue.issue_ticket(service, None)
    assert seen[-1] is None and flow.queue.ticket_not_printed() is None
    assert len(printer.wait_for_receipts(1)) == 1
    flow.finish()

    printer.set_cover_open(True)  # a new problem after a good print: staff alerted again
    flow.start(Journey.QUEUE)
    flow.queue.check_printer(seen.append)
    assert seen[-1] == MSG_QUEUE_PRINTER_COVER
    alerts = flow.services.alerts.recent()
    assert len(alerts) == 2 and "cover open" in alerts[-1]["message"]


def test_paper_near_end_alerts_staff_once_per_run_and_tells_citizens_nothing(
    flow: KioskFlow,
) -> None:
    printer = flow.services.virtual_printer
    printer.set_paper("near_end")
    seen: list[str | None] = []
    for _ in range(3):
        flow.start(Journey.QUEUE)
        flow.queue.check_printer(seen.append)
        flow.queue.issue_ticket(_queue_service(flow), None)
        assert flow.queue.ticket_not_printed() is None
        flow.finish()
    assert seen == [None, None, None]
    assert len(printer.wait_for_receipts(3)) == 3
    alerts = flow.services.alerts.recent()
    assert len(alerts) == 1 and "near its end" in alerts[0]["message"]


def test_silent_printer_gets_no_job_and_the_number_is_shown(flow: KioskFlow) -> None:
    from kiosk.printing.printer_watch import MSG_QUEUE_PRINTER_DOWN, MSG_TICKET_NOT_PRINTED

    printer = flow.services.virtual_printer
    printer.set_online(False)  # accepts the connection, answers nothing
    flow.start(Journey.QUEUE)
    seen: list[str | None] = []
    flow.queue.check_printer(seen.append)
    flow.queue.issue_ticket(_queue_service(flow), "pregnant")
    assert seen == [MSG_QUEUE_PRINTER_DOWN]
    assert flow.session.data.ticket.priority_class == "pregnant"
    assert flow.queue.ticket_not_printed() == MSG_TICKET_NOT_PRINTED
    assert printer.dropped_bytes < 16  # status queries only, never a raster job
    assert len(flow.services.alerts.recent()) == 1


def test_kiosk_without_printer_tells_the_citizen_and_alerts_nobody(
    kiosk_env: dict[str, str],
) -> None:
    from kiosk.config.settings import load_config
    from kiosk.printing.printer_watch import MSG_QUEUE_NO_PRINTER, MSG_TICKET_NO_PRINTER

    services = build_services(load_config(None, env={**kiosk_env, "KIOSK_PRINTER_MODE": "none"}))
    flow = KioskFlow(make_session(services.config), services, InlineRunner())
    try:
        flow.start(Journey.QUEUE)
        seen: list[str | None] = []
        flow.queue.check_printer(seen.append)
        flow.queue.issue_ticket(flow.queue.services_for_queue()[0].code, None)
        assert seen == [MSG_QUEUE_NO_PRINTER]
        assert flow.queue.ticket_not_printed() == MSG_TICKET_NO_PRINTER
        assert services.alerts.recent() == []
    finally:
        flow.session.wipe()
        services.close()


def test_queue_load_counts_the_waiting_and_estimates_the_wait(flow: KioskFlow) -> None:
    tickets = flow.services.tickets
    code = "IN"  # counters 1 and 2 serve it (config/queue.toml)
    before = flow.queue.load()
    assert set(before) == {s.code for s in flow.queue.services_for_queue()}
    for _ in range(6):
        tickets.issue(code)
    tickets.issue(code, "elderly")
    load = flow.queue.load()[code]
    assert load.waiting == before[code].waiting + 7
    assert (load.wait_min, load.priority_wait_min) == (
        tickets.estimate(code)[1],
        tickets.estimate(code, priority=True)[1],
    )
    assert load.wait_min is not None and load.priority_wait_min is not None
    assert load.wait_min > load.priority_wait_min  # priority citizens are called sooner

    for counter in tickets.counters():
        if code in counter.services:
            tickets.set_counter_open(counter.number, False)
    answers: list[Any] = []
    flow.queue.refresh_load(answers.append)
    closed = answers[0][code]
    assert closed.waiting == load.waiting and closed.wait_min is None

    tickets.close()  # a store that cannot be read: no figures, no crash, no notice
    flow.queue.refresh_load(answers.append)
    assert answers[-1] == {}
    assert flow.notices == []  # type: ignore[attr-defined]


# --- the citizen who leaves takes everything with them (issue 13) ---


def test_the_mrz_key_is_wiped_when_the_session_times_out(
    kiosk_env: dict[str, str], tmp_path: Any
) -> None:
    from kiosk.config.settings import load_config
    from kiosk.demo.citizens import ManualClock

    photo = card_photo_on_desk(tmp_path, "back")
    env = dict(kiosk_env, KIOSK_CARD_READER_TEST_PKI_DIR=str(tmp_path / "pki"))
    env["KIOSK_CAMERA_FRAMES"] = str(photo)
    cfg = load_config(None, env=env)
    services = build_services(cfg)
    clock = ManualClock()
    flow = KioskFlow(make_session(cfg, clock), services, InlineRunner())
    try:
        flow.start(Journey.DOSSIER)
        flow.session.accept_consent()
        flow.identify.scan_card("mrz", seconds=5)
        assert flow.session.data.mrz_key, "the MRZ gave the BAC key"
        clock.advance(cfg.kiosk.idle_timeout_s + 1)
        flow.session.tick()
        assert flow.session.step is Step.WELCOME
        assert flow.session.data.mrz_key is None and flow.session.data.is_empty()
    finally:
        services.close()


def test_a_cancelled_card_wait_frees_the_kiosk_at_once(
    kiosk_env: dict[str, str], tmp_path: Any
) -> None:
    """The citizen cancels while "place your card" waits: the wait (20 s) stops within a slice,
    nothing is said to the next citizen, and the next citizen's work runs at once."""
    import threading
    import time

    from kiosk.flow.runner import ThreadRunner

    flow = _flow_with_card(kiosk_env, tmp_path, "demo")
    runner = ThreadRunner(post=lambda call: call())
    flow.runner = runner
    try:
        number = flow.services.card_reader.card.profile.id_number
        flow.services.card_reader.remove()
        assert flow.services.chip.wait_s >= 20
        flow.identify.read_card(number)
        time.sleep(0.3)  # the worker is waiting for a card
        flow.cancel()
        started = time.monotonic()
        next_citizen = threading.Event()
        runner.run(lambda: None, lambda _: next_citizen.set(), lambda exc: None)
        assert next_citizen.wait(5)
        waited = time.monotonic() - started
        assert waited < 1.0, f"the next citizen waited {waited:.1f} s behind the old wait"
        assert flow.notices == []  # type: ignore[attr-defined]
        assert flow.session.step is Step.WELCOME and flow.session.data.is_empty()
    finally:
        runner.shutdown()
        flow.services.close()


def test_a_chip_read_that_ends_after_the_citizen_left_is_wiped(
    kiosk_env: dict[str, str], tmp_path: Any
) -> None:
    """The read finishes for a citizen who has gone: the identity never reaches the session
    of the next one, and it is overwritten."""
    from kiosk.flow.runner import InlineRunner as Inline

    flow = _flow_with_card(kiosk_env, tmp_path, "demo")
    held: list[Any] = []

    class LateRunner(Inline):
        """Runs the work now, but hands the answer back only when asked."""

        def run(self, work: Any, done: Any, failed: Any) -> None:
            result = work()
            held.append((done, result))

    flow.runner = LateRunner()
    try:
        flow.identify.read_card(flow.services.card_reader.card.profile.id_number)
        flow.cancel()
        flow.start(Journey.DOSSIER)  # the next citizen
        flow.session.accept_consent()
        done, outcome = held.pop()
        done(outcome)
        assert flow.session.data.chip_candidate is None
        assert outcome.identity.id_number == "" and outcome.identity.photo is None
    finally:
        flow.services.close()
