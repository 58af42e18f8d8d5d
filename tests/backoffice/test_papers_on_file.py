"""Papers on file, the kiosk's side: the chip signs the reference back office's challenge in the
same session that reads DG13/DG15/EF.SOD, the presence is proved over HTTP on loopback, the
demo citizen's papers come back and match the procedure's documents; every failure (no Active
Authentication, a refused proof, a back office down or silent) is a quiet "not available".
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.backoffice_server import BackofficeServer, sample_dossier, sample_pdf

from kiosk.delivery.http_client import HttpBackOffice, PaperOnFile
from kiosk.flow import papers_on_file
from kiosk.flow.papers_on_file import PaperNotOffered, PapersOnFile
from kiosk.identity.chip_service import ChipOutcome, ChipService

DEMO_ID = "001090012345"  # the demo card (devices/simulated/card_reader.PROFILES)
ELDERLY_ID = "079155004321"
DG15_FID = 0x010F


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from devices.simulated.test_pki import TestPKI

    folder = tmp_path_factory.mktemp("pki")
    TestPKI.load_or_create(folder)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki_dir: Path) -> Iterator[BackofficeServer]:
    from backoffice.demo import seed_demo

    srv = BackofficeServer(tmp_path_factory.mktemp("backoffice"), pki_dir=pki_dir)
    srv.secret = srv.add_kiosk("KIOSK-01")  # type: ignore[attr-defined]
    ctx = srv.context()
    try:
        seed_demo(ctx)
    finally:
        ctx.close()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def client(server: BackofficeServer) -> Iterator[HttpBackOffice]:
    with HttpBackOffice(server.url, "KIOSK-01", server.secret, timeout_s=10) as c:  # type: ignore[attr-defined]
        yield c


@pytest.fixture(scope="module")
def catalog(server: BackofficeServer) -> Any:
    from kiosk.catalog.procedures import load_catalog

    return load_catalog(server.settings().procedures_dir)


def chip_service(pki_dir: Path, profile: str = "demo", *, without_aa: bool = False) -> ChipService:
    """The kiosk's chip service over a simulated reader holding a card of ``profile``."""
    from devices.simulated.card_reader import SimulatedCardReader
    from devices.simulated.profiles import build_chip
    from devices.simulated.test_pki import TestPKI

    def card() -> Any:
        chip = build_chip(profile, pki_dir)
        if without_aa:  # a chip with no Active Authentication key (no DG15)
            del chip.emrtd.files[DG15_FID]
        return chip

    reader = SimulatedCardReader(profile, card_factory=card)
    return ChipService(reader, TestPKI.load_or_create(pki_dir).trust_store(), wait_s=2)


def read_with_challenge(
    client: HttpBackOffice, chips: ChipService, number: str = DEMO_ID, **kw: Any
) -> ChipOutcome:
    challenge = papers_on_file.request_challenge(client)
    assert challenge is not None and len(challenge) == 8
    outcome = chips.read(number, aa_challenge=challenge, **kw)
    assert outcome.presence is not None and outcome.presence.challenge == challenge
    return outcome


def closed_port_url() -> str:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"


# --- the chip signs the server's challenge -------------------------------------------------


def test_the_chip_signs_the_challenge_in_the_session_that_reads_its_files(
    client: HttpBackOffice, pki_dir: Path
) -> None:
    from kiosk.emrtd.active_auth import verify_response
    from kiosk.emrtd.lds import parse_dg14, parse_dg15

    outcome = read_with_challenge(client, chip_service(pki_dir))
    presence = outcome.presence
    assert presence is not None and outcome.active == "verified"
    assert presence.aa_signature and presence.dg15 and presence.dg13 and presence.sod
    algorithm = parse_dg14(presence.dg14).active_authentication_algorithm if presence.dg14 else None
    check = verify_response(
        parse_dg15(presence.dg15),
        presence.challenge,
        presence.aa_signature,
        signature_algorithm=algorithm,
    )
    assert check.verified  # the chip's answer is over the server's challenge, not a random one
    # the card's files never reach a log line or a repr (the identity's own repr aside)
    assert "presence" not in repr(outcome)
    for text in (repr(presence), str(presence)):
        assert text == "ChipPresence(active_auth=True)"


def test_a_read_without_a_challenge_carries_no_presence(pki_dir: Path) -> None:
    outcome = chip_service(pki_dir).read(DEMO_ID)
    assert outcome.presence is None and outcome.active == "verified"


def test_a_challenge_that_is_not_8_bytes_is_refused_before_the_card_is_touched(
    pki_dir: Path,
) -> None:
    chips = chip_service(pki_dir)
    with pytest.raises(ValueError, match="8 bytes"):
        chips.read(DEMO_ID, aa_challenge=b"short")
    assert chips.read(DEMO_ID).identity.id_number == DEMO_ID  # the card is still fine


# --- presence proved, papers listed and matched --------------------------------------------


def test_the_demo_citizen_sees_their_papers_and_they_match_the_procedure(
    client: HttpBackOffice, pki_dir: Path, catalog: Any
) -> None:
    outcome = read_with_challenge(client, chip_service(pki_dir))
    presence = outcome.presence
    found = papers_on_file.fetch(client, presence, DEMO_ID)
    assert found.available and found.assurance == "active" and found.reason == ""
    assert {p.kind for p in found.papers} >= {"can_cuoc", "dang_ky_doanh_nghiep"}
    assert all(isinstance(p, PaperOnFile) for p in found.papers)
    dates = [p.date for p in found.papers]
    assert dates == sorted(dates, reverse=True)
    assert presence is not None and presence.wiped  # sent once, then forgotten
    assert papers_on_file.fetch(client, presence, DEMO_ID).available is False

    postal = catalog.get("LOCAL-BCH-01")  # needs the business registration, usually on file
    matches = papers_on_file.match(postal.documents, found.papers)
    assert list(matches) == ["dang_ky_doanh_nghiep"]
    assert {p.kind for p in matches["dang_ky_doanh_nghiep"]} == {"dang_ky_doanh_nghiep"}
    imports = catalog.get("1.003725")  # needs the ID card
    assert [p.kind for p in papers_on_file.match(imports.documents, found.papers)["can_cuoc"]] == [
        "can_cuoc"
    ]
    declaration = next(d for d in postal.documents if d.is_declaration)
    assert papers_on_file.papers_for(declaration, found.papers) == []


def test_the_reference_server_takes_a_dossier_that_reuses_a_paper_on_file(
    server: BackofficeServer, client: HttpBackOffice, pki_dir: Path, catalog: Any, tmp_path: Path
) -> None:
    from kiosk.dossier.model import Attachment

    found = papers_on_file.fetch(
        client, read_with_challenge(client, chip_service(pki_dir)).presence, DEMO_ID
    )
    postal = catalog.get("LOCAL-BCH-01")
    paper = papers_on_file.match(postal.documents, found.papers)["dang_ky_doanh_nghiep"][0]
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path, procedure=postal)
    attachments = [
        Attachment(a.requirement_id, a.title, [], on_file_ref=paper.id)
        if a.requirement_id == "dang_ky_doanh_nghiep"
        else a
        for a in dossier.attachments
    ]
    result = client.submit(replace(dossier, attachments=attachments))

    from backoffice.dossiers import dossier_detail

    ctx = server.context()
    try:
        stored = dossier_detail(ctx, result.dossier_code)["attachments"]
    finally:
        ctx.close()
    reused = [a for a in stored if a["requirement_id"] == "dang_ky_doanh_nghiep"]
    assert reused == [
        {
            "requirement_id": "dang_ky_doanh_nghiep",
            "title": reused[0]["title"],
            "page": 0,
            "sha256": "",
            "size": 0,
            "on_file_ref": paper.id,
        }
    ]
    # a stranger cannot name the demo citizen's paper
    from kiosk.delivery.backoffice import SubmissionRejected

    stranger = replace(
        dossier,
        idempotency_key=os.urandom(8).hex(),
        attachments=attachments,
        applicant=replace(dossier.applicant, id_number=ELDERLY_ID),
    )
    with pytest.raises(SubmissionRejected, match="not a paper on file of this applicant"):
        client.submit(stranger)
    # nor stand the ID card in for the business registration
    id_card = next(p for p in found.papers if p.kind == "can_cuoc")
    wrong_kind = replace(
        dossier,
        idempotency_key=os.urandom(8).hex(),
        attachments=[
            replace(a, on_file_ref=id_card.id) if a.on_file_ref else a for a in attachments
        ],
    )
    with pytest.raises(SubmissionRejected, match="is a can_cuoc paper"):
        client.submit(wrong_kind)


def test_a_citizen_with_nothing_on_file_gets_an_empty_list(
    client: HttpBackOffice, pki_dir: Path, catalog: Any
) -> None:
    outcome = read_with_challenge(client, chip_service(pki_dir, "elderly"), ELDERLY_ID)
    found = papers_on_file.fetch(client, outcome.presence, ELDERLY_ID)
    assert found.available and found.papers == ()
    assert papers_on_file.match(catalog.get("LOCAL-BCH-01").documents, found.papers) == {}


def test_a_bac_only_card_signs_the_challenge_too(client: HttpBackOffice, pki_dir: Path) -> None:
    from devices.simulated.profiles import build_chip

    mrz_key = build_chip("bac-only", pki_dir).mrz_key  # type: ignore[attr-defined]
    outcome = read_with_challenge(client, chip_service(pki_dir, "bac-only"), mrz_key=mrz_key)
    assert outcome.protocol == "BAC"
    found = papers_on_file.fetch(client, outcome.presence, DEMO_ID)
    assert found.available and found.assurance == "active"


# --- every failure is quiet ------------------------------------------------------------------


def test_a_card_without_active_authentication_is_refused_quietly(
    client: HttpBackOffice, pki_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outcome = read_with_challenge(client, chip_service(pki_dir, without_aa=True))
    presence = outcome.presence
    assert outcome.active is None and presence is not None
    assert presence.aa_signature is None and presence.dg15 is None
    with caplog.at_level(logging.INFO, logger="kiosk.flow.papers_on_file"):
        found = papers_on_file.fetch(client, presence, DEMO_ID)
    assert not found.available and found.papers == ()
    assert "PresenceRefused" in found.reason and "no Active Authentication" in found.reason
    assert "not available" in caplog.text and "Nguyễn" not in caplog.text
    assert presence.wiped


def test_a_server_that_accepts_passive_proofs_shows_the_papers_of_a_card_without_aa(
    tmp_path: Path, pki_dir: Path
) -> None:
    from backoffice.demo import seed_demo

    srv = BackofficeServer(tmp_path / "bo", pki_dir=pki_dir, require_active_auth=False)
    secret = srv.add_kiosk("KIOSK-01")
    ctx = srv.context()
    try:
        seed_demo(ctx)
    finally:
        ctx.close()
    with srv, HttpBackOffice(srv.url, "KIOSK-01", secret, timeout_s=5) as c:
        outcome = read_with_challenge(c, chip_service(pki_dir, without_aa=True))
        found = papers_on_file.fetch(c, outcome.presence, DEMO_ID)
        assert found.available and found.assurance == "passive"
        assert {p.kind for p in found.papers} >= {"can_cuoc", "dang_ky_doanh_nghiep"}


def test_a_signature_that_does_not_hold_or_a_spent_challenge_is_refused(
    client: HttpBackOffice, pki_dir: Path
) -> None:
    chips = chip_service(pki_dir)
    presence = read_with_challenge(client, chips).presence
    assert presence is not None and presence.aa_signature is not None
    forged = bytearray(presence.aa_signature)
    forged[3] ^= 0x01
    presence.aa_signature = bytes(forged)
    found = papers_on_file.fetch(client, presence, DEMO_ID)
    assert not found.available and "active authentication failed" in found.reason

    # the files and signature of an earlier read replayed: the challenge is spent
    first = read_with_challenge(client, chips).presence
    assert first is not None
    copy = replace(first)
    assert papers_on_file.fetch(client, first, DEMO_ID).available
    found = papers_on_file.fetch(client, copy, DEMO_ID)
    assert not found.available and "already used" in found.reason


def test_another_citizens_card_is_refused(client: HttpBackOffice, pki_dir: Path) -> None:
    presence = read_with_challenge(client, chip_service(pki_dir)).presence
    found = papers_on_file.fetch(client, presence, ELDERLY_ID)
    assert not found.available and "another citizen" in found.reason


def test_a_back_office_that_is_down_gives_no_challenge_and_no_papers(pki_dir: Path) -> None:
    with HttpBackOffice(closed_port_url(), "KIOSK-01", "secret", timeout_s=2) as down:
        assert papers_on_file.request_challenge(down) is None
        chips = chip_service(pki_dir)
        outcome = chips.read(DEMO_ID, aa_challenge=None)  # the read goes on as before
        assert outcome.identity.id_number == DEMO_ID and outcome.presence is None
        assert papers_on_file.fetch(down, outcome.presence, DEMO_ID) == PapersOnFile(
            reason="the card read carries no presence proof (no challenge)"
        )


def test_a_back_office_that_goes_down_after_the_challenge(
    client: HttpBackOffice, pki_dir: Path
) -> None:
    presence = read_with_challenge(client, chip_service(pki_dir)).presence
    with HttpBackOffice(closed_port_url(), "KIOSK-01", "secret", timeout_s=2) as down:
        found = papers_on_file.fetch(down, presence, DEMO_ID)
    assert not found.available and "BackOfficeUnavailable" in found.reason
    assert presence is not None and presence.wiped


def test_a_silent_back_office_does_not_hold_up_the_card_read() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)  # accepts connections, never answers
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with HttpBackOffice(url, "KIOSK-01", "secret", timeout_s=1) as silent:
            started = time.monotonic()
            assert papers_on_file.request_challenge(silent, wait_s=0.3) is None
            assert time.monotonic() - started < 0.9  # gave up before the client's own timeout
    finally:
        listener.close()


def test_a_back_office_without_papers_on_file() -> None:
    class NoPapers:  # a back office without the papers-on-file calls (a local stand-in)
        pass

    assert papers_on_file.request_challenge(NoPapers()) is None
    assert not papers_on_file.fetch(NoPapers(), None, DEMO_ID).available


# --- the documents step ---------------------------------------------------------------------


@pytest.fixture
def at_documents(tmp_path: Path, client: HttpBackOffice, pki_dir: Path) -> Any:
    """A session at the documents step of LOCAL-BCH-01 with the demo citizen's papers."""
    from kiosk.session.state import Journey, Session

    found = papers_on_file.fetch(
        client, read_with_challenge(client, chip_service(pki_dir)).presence, DEMO_ID
    )
    session = Session(scratch_root=tmp_path / "sessions")
    session.start(Journey.DOSSIER)
    session.accept_consent()
    from kiosk.identity.model import Identity

    session.identified(Identity.from_typed_number(DEMO_ID))
    session.choose_procedure("LOCAL-BCH-01")
    session.form_done({})
    session.data.papers = found  # as the flow stores it
    yield session
    session.wipe()


def found_papers(session: Any) -> tuple[Any, ...]:
    papers = papers_on_file.session_papers(session)
    assert papers and papers == session.data.papers.papers
    return papers


def test_use_the_copy_on_file_then_capture_instead(at_documents: Any, catalog: Any) -> None:
    from kiosk.session.state import Step

    session = at_documents
    postal = catalog.get("LOCAL-BCH-01")
    requirement = postal.requirement("dang_ky_doanh_nghiep")
    page = sample_pdf(session.scratch_dir() / "page.pdf")
    session.add_page(requirement.id, page)  # captured first, then the citizen sees the copy
    paper = papers_on_file.papers_for(requirement, found_papers(session))[0]

    assert papers_on_file.use(session, requirement, paper.id) == paper
    assert session.data.on_file == {requirement.id: paper.id}
    assert requirement.id not in session.data.pages and not page.exists()
    assert papers_on_file.chosen_paper(session, requirement.id) == paper

    papers_on_file.capture_instead(session, requirement.id)
    assert (
        session.data.on_file == {} and papers_on_file.chosen_paper(session, requirement.id) is None
    )
    assert session.step is Step.DOCUMENTS


def test_a_paper_not_offered_for_the_document_is_refused(at_documents: Any, catalog: Any) -> None:
    session = at_documents
    postal = catalog.get("LOCAL-BCH-01")
    requirement = postal.requirement("dang_ky_doanh_nghiep")
    id_card = next(p for p in found_papers(session) if p.kind == "can_cuoc")
    with pytest.raises(PaperNotOffered, match="not on file for document"):
        papers_on_file.use(session, requirement, id_card.id)  # a paper of another kind
    with pytest.raises(PaperNotOffered):
        papers_on_file.use(session, requirement, "0" * 32)
    with pytest.raises(PaperNotOffered):
        papers_on_file.use(session, postal.requirement("mau_hop_dong"), id_card.id)
    assert session.data.on_file == {}
    session.documents_done()  # at review: no choosing any more
    with pytest.raises(PaperNotOffered, match="documents step"):
        papers_on_file.use(session, requirement, found_papers(session)[0].id)


def test_use_outside_the_procedure_is_refused(at_documents: Any) -> None:
    with pytest.raises(PaperNotOffered, match="not a document of the current procedure"):
        papers_on_file.use(at_documents, None, found_papers(at_documents)[0].id)


def test_a_paper_reads_with_its_title_and_date(at_documents: Any) -> None:
    paper = next(p for p in found_papers(at_documents) if p.kind == "can_cuoc")
    assert papers_on_file.label(paper) == "Bản sao Căn cước công dân (02/01/2025)"
    assert papers_on_file.reference(paper) == (
        f"Bản sao Căn cước công dân (02/01/2025), mã {paper.id}"
    )
    decomposed = replace(paper, title="Ba\u0309n sao", date="not a date")  # NFD, odd date
    assert papers_on_file.label(decomposed) == "Bản sao (not a date)"
