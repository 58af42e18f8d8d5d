"""The kiosk's HTTP client against the real reference server on loopback (no HTTP mocks).

One server (a subprocess over a temporary SQLite file) serves the module; the faults are real:
a closed port, a socket that accepts and never answers, a 100 MB upload, a replayed request.
"""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import psutil
import pytest
import requests
from support.backoffice_server import (
    STAFF_TOKEN,
    BackofficeServer,
    pick_procedure,
    sample_dossier,
    sample_pdf,
)

from kiosk.delivery.backoffice import (
    BackOfficeUnavailable,
    DossierNotFound,
    IdempotencyConflict,
    SubmissionRejected,
)
from kiosk.delivery.http_client import BackOfficeAuthError, HttpBackOffice, PresenceRefused
from kiosk.delivery.signing import signed_headers
from kiosk.dossier.model import Attachment, DossierCodeError, DossierState, parse_dossier_code

MB = 1024 * 1024
DEMO_ID = "001090012345"


@pytest.fixture(scope="module")
def pki_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from devices.simulated.test_pki import TestPKI

    folder = tmp_path_factory.mktemp("pki")
    TestPKI.load_or_create(folder)
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, pki_dir: Path):  # type: ignore[no-untyped-def]
    srv = BackofficeServer(tmp_path_factory.mktemp("backoffice"), pki_dir=pki_dir)
    srv.secrets = {k: srv.add_kiosk(k) for k in ("KIOSK-01", "KIOSK-02")}  # type: ignore[attr-defined]
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def catalog(server: BackofficeServer) -> Any:
    from kiosk.catalog.procedures import load_catalog

    return load_catalog(server.settings().procedures_dir)


def client_for(server: BackofficeServer, kiosk_id: str = "KIOSK-01", **kw: Any) -> HttpBackOffice:
    return HttpBackOffice(server.url, kiosk_id, server.secrets[kiosk_id], timeout_s=10, **kw)  # type: ignore[attr-defined]


@pytest.fixture
def client(server: BackofficeServer):  # type: ignore[no-untyped-def]
    with client_for(server) as c:
        yield c


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MB):
            h.update(chunk)
    return h.hexdigest()


def stored_attachments(server: BackofficeServer, code: str) -> list[dict[str, Any]]:
    from backoffice.dossiers import dossier_detail

    ctx = server.context()
    try:
        rows = dossier_detail(ctx, code)["attachments"]
        for row in rows:  # re-hashes the stored file: raises if it changed
            if row["sha256"]:
                ctx.blobs.verify(row["sha256"])
        return rows
    finally:
        ctx.close()


# --- submit and look up ----------------------------------------------------------------------


def test_submit_then_look_up(
    server: BackofficeServer, client: HttpBackOffice, catalog: Any, tmp_path: Path
) -> None:
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path, pages=2)
    procedure = catalog.get(dossier.procedure_code)
    result = client.submit(dossier)
    code = parse_dossier_code(result.dossier_code)
    assert code.agency_code == "000.00.08.H21"
    assert code.day == result.received_at.date()
    assert result.fee_vnd == procedure.fee_vnd
    assert result.appointment_date >= result.received_at.date()
    assert not result.provisional

    status = client.lookup(result.dossier_code.lower())  # typed in lower case: forgiven
    assert status.code == result.dossier_code
    assert status.status is DossierState.RECEIVED
    assert status.procedure_code == procedure.code
    assert status.appointment_date == result.appointment_date
    assert status.next_step_vi and status.next_step_en

    sent = sorted(sha256_of(p) for a in dossier.attachments for p in a.pages)
    stored = sorted(r["sha256"] for r in stored_attachments(server, result.dossier_code))
    assert stored == sent


def test_a_retry_gets_the_first_answer_and_a_changed_body_is_a_conflict(
    client: HttpBackOffice, catalog: Any, tmp_path: Path
) -> None:
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path)
    first = client.submit(dossier)
    assert client.submit(dossier) == first

    changed = replace(dossier, declaration={**dossier.declaration, "email": "khac@example.vn"})
    with pytest.raises(IdempotencyConflict, match="idempotency_conflict"):
        client.submit(changed)

    page = dossier.attachments[0].pages[0]
    other = sample_pdf(tmp_path / "other.pdf", "another page")
    swapped = replace(
        dossier,
        attachments=[replace(dossier.attachments[0], pages=[other]), *dossier.attachments[1:]],
    )
    assert sha256_of(other) != sha256_of(page)
    with pytest.raises(IdempotencyConflict):
        client.submit(swapped)
    assert client.submit(dossier) == first  # the first answer still stands


def test_twenty_concurrent_submits_get_twenty_consecutive_codes(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    dossiers = [sample_dossier(catalog, "KIOSK-01", tmp_path / f"d{i}") for i in range(20)]
    barrier = threading.Barrier(20)

    shared = client_for(server)  # one client for every thread, as the kiosk's services hold it

    def send(dossier: Any) -> str:
        barrier.wait(timeout=10)
        return shared.submit(dossier).dossier_code

    with shared, ThreadPoolExecutor(20) as pool:
        codes = list(pool.map(send, dossiers))
    assert len(set(codes)) == 20
    by_day: dict[Any, list[int]] = defaultdict(list)
    for code in codes:
        parsed = parse_dossier_code(code)
        by_day[parsed.day].append(parsed.seq)
    for seqs in by_day.values():  # one run of numbers per day (midnight may split them)
        assert sorted(seqs) == list(range(min(seqs), min(seqs) + len(seqs)))


# --- authentication --------------------------------------------------------------------------


def test_a_wrong_secret_or_unknown_kiosk_is_an_auth_error(server: BackofficeServer) -> None:
    with HttpBackOffice(server.url, "KIOSK-01", "not-the-secret", timeout_s=5) as c:
        with pytest.raises(BackOfficeAuthError, match="bad signature"):
            c.lookup("000.00.08.H21-250102-0001")
        health = c.health()
        assert not health.ok and "401" in health.detail
    with (
        HttpBackOffice(server.url, "KIOSK-99", "whatever", timeout_s=5) as c,
        pytest.raises(BackOfficeAuthError, match="unknown or disabled kiosk"),
    ):
        c.commands()


def _signed_get(server: BackofficeServer, kiosk: str, path: str, **kw: Any) -> dict[str, str]:
    return signed_headers(kiosk, server.secrets[kiosk], "GET", path, **kw)  # type: ignore[attr-defined]


def test_a_replayed_request_is_refused(server: BackofficeServer) -> None:
    path = "/api/v1/kiosks/KIOSK-01/commands"
    captured = _signed_get(server, "KIOSK-01", path)
    first = requests.get(server.url + path, headers=captured, timeout=5)
    assert first.status_code == 200
    replay = requests.get(server.url + path, headers=captured, timeout=5)
    assert replay.status_code == 401
    assert replay.json()["error"] == "replayed_request"
    assert "X-Nonce" in replay.json()["message"]


def test_a_stale_or_future_timestamp_is_refused(server: BackofficeServer) -> None:
    for offset in (-1000, +1000):
        with (
            client_for(server, clock=lambda o=offset: time.time() + o) as c,
            pytest.raises(BackOfficeAuthError, match="stale_request"),
        ):
            c.commands()
    with client_for(server, clock=lambda: time.time() - 200) as c:  # within ±300 s
        assert c.commands() == []


def test_a_tampered_body_is_refused(server: BackofficeServer) -> None:
    path = "/api/v1/kiosks/KIOSK-01/heartbeat"
    body = b'{"outbox_depth":1}'
    headers = signed_headers(
        "KIOSK-01",
        server.secrets["KIOSK-01"],
        "POST",
        path,  # type: ignore[attr-defined]
        hashlib.sha256(body).hexdigest(),
    )
    headers["Content-Type"] = "application/json"
    answer = requests.post(
        server.url + path, data=b'{"outbox_depth":9}', headers=headers, timeout=5
    )
    assert answer.status_code == 401
    assert "X-Content-SHA256" in answer.json()["message"]


def test_a_kiosk_cannot_read_or_ack_another_kiosks_commands(server: BackofficeServer) -> None:
    queued = requests.post(
        server.url + "/api/v1/kiosks/KIOSK-02/commands",
        json={"command": "print-test-page"},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        timeout=5,
    )
    assert queued.status_code == 200
    cid = queued.json()["id"]
    path = "/api/v1/kiosks/KIOSK-02/commands"
    answer = requests.get(
        server.url + path, headers=_signed_get(server, "KIOSK-01", path), timeout=5
    )
    assert answer.status_code == 403
    assert answer.json()["error"] == "forbidden"
    with client_for(server, "KIOSK-02") as c:
        assert [x.id for x in c.commands()] == [cid]


# --- heartbeats and commands -----------------------------------------------------------------


def test_heartbeat_commands_and_ack(server: BackofficeServer, client: HttpBackOffice) -> None:
    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    queued = requests.post(
        server.url + "/api/v1/kiosks/KIOSK-01/commands",
        json={"command": "reload-catalog"},
        headers=staff,
        timeout=5,
    ).json()
    beat = client.heartbeat(
        {
            "versions": {"kiosk": "0.1.0"},
            "devices": [{"device": "printer", "ok": True}],
            "outbox_depth": 3,
            "paper": "ok",
        }
    )
    assert beat["ok"] and beat["pending_commands"] >= 1
    commands = client.commands()
    assert [c.command for c in commands][-1] == "reload-catalog"
    for c in commands:
        client.ack(c.id, ok=True, detail="done")
    assert client.commands() == []
    kiosks = requests.get(server.url + "/api/v1/kiosks", headers=staff, timeout=5).json()
    mine = next(k for k in kiosks if k["id"] == "KIOSK-01")
    assert mine["last_status"]["outbox_depth"] == 3
    assert mine["pending_commands"] == 0
    assert queued["command"] == "reload-catalog"


# --- big attachments -------------------------------------------------------------------------


def _big_pdf(path: Path, size: int) -> Path:
    """A file of ``size`` bytes starting like a PDF, written sparse (instant, no disk use)."""
    with path.open("wb") as f:
        f.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        f.truncate(size)
    return path


def test_a_100_mb_attachment_is_streamed_and_stored_with_its_hash(
    server: BackofficeServer, client: HttpBackOffice, catalog: Any, tmp_path: Path
) -> None:
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path)
    big = _big_pdf(tmp_path / "big.pdf", 100 * MB)
    first = dossier.attachments[0]
    dossier = replace(dossier, attachments=[replace(first, pages=[big]), *dossier.attachments[1:]])
    process = psutil.Process(server.pid)
    before = process.memory_info().rss
    result = client.submit(dossier)
    grown = process.memory_info().rss - before
    assert grown < 40 * MB, f"the server grew by {grown / MB:.0f} MB for a 100 MB upload"
    rows = stored_attachments(server, result.dossier_code)
    big_row = next(r for r in rows if r["requirement_id"] == first.requirement_id)
    assert big_row["size"] == 100 * MB
    assert big_row["sha256"] == sha256_of(big)


def test_an_attachment_over_150_mb_is_refused_with_413(
    server: BackofficeServer, client: HttpBackOffice, catalog: Any, tmp_path: Path
) -> None:
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path)
    huge = _big_pdf(tmp_path / "huge.pdf", 150 * MB + 1)
    first = dossier.attachments[0]
    dossier = replace(dossier, attachments=[replace(first, pages=[huge]), *dossier.attachments[1:]])
    staff = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    listed = server.url + "/api/v1/dossiers?limit=1"
    before = requests.get(listed, headers=staff, timeout=5).json()["total"]
    with pytest.raises(SubmissionRejected) as err:
        client.submit(dossier)
    assert "157286400" in str(err.value)
    assert requests.get(listed, headers=staff, timeout=5).json()["total"] == before
    assert list((server.settings().storage_dir / "tmp").iterdir()) == []  # nothing half-kept


# --- look-up failures and faults -------------------------------------------------------------


def test_an_unknown_code_is_not_found_and_a_malformed_one_is_refused_here(
    client: HttpBackOffice,
) -> None:
    with pytest.raises(DossierNotFound, match="no dossier has the code"):
        client.lookup("000.00.08.H21-250102-9999")
    with pytest.raises(DossierCodeError):
        client.lookup("not a code")


def test_a_server_that_is_down_is_unavailable(catalog: Any, tmp_path: Path) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with HttpBackOffice(f"http://127.0.0.1:{port}", "KIOSK-01", "s", timeout_s=2) as c:
        with pytest.raises(BackOfficeUnavailable, match="cannot reach"):
            c.submit(sample_dossier(catalog, "KIOSK-01", tmp_path))
        with pytest.raises(BackOfficeUnavailable):
            c.lookup("000.00.08.H21-250102-0001")
        assert not c.health().ok


def test_a_server_that_hangs_is_unavailable_within_the_timeout(
    catalog: Any, tmp_path: Path
) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with HttpBackOffice(url, "KIOSK-01", "s", timeout_s=1) as c:
            for call in (
                lambda: c.submit(sample_dossier(catalog, "KIOSK-01", tmp_path)),
                lambda: c.lookup("000.00.08.H21-250102-0001"),
            ):
                started = time.monotonic()
                with pytest.raises(BackOfficeUnavailable, match="did not answer within 1 s"):
                    call()
                assert time.monotonic() - started < 3
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


# --- the citizen's presence and papers on file -----------------------------------------------


def read_card(pki_dir: Path, profile: str = "demo") -> tuple[Any, dict[str, bytes]]:
    """The simulated card and the files the kiosk read from it (with passive authentication)."""
    from devices.simulated.profiles import build_chip
    from devices.simulated.test_pki import TestPKI
    from kiosk.emrtd.reader import AccessKey, read_chip

    chip = build_chip(profile, pki_dir)
    result = read_chip(
        chip.process, AccessKey(can=chip.profile.can), TestPKI.load_or_create(pki_dir).trust_store()
    )
    return chip, dict(result.files)


def chip_signs(chip: Any, files: dict[str, bytes], challenge: bytes) -> bytes:
    """INTERNAL AUTHENTICATE with the server's challenge, in a fresh PACE session."""
    from kiosk.emrtd.active_auth import run_active_auth
    from kiosk.emrtd.apdu import ResponseAPDU, select_aid
    from kiosk.emrtd.card_access import choose_pace, parse_security_infos
    from kiosk.emrtd.lds import parse_dg14, parse_dg15
    from kiosk.emrtd.pace import PACEProtocol, PasswordType
    from kiosk.emrtd.reader import AID_EMRTD, FID_CARD_ACCESS, PLAIN_BLOCK, ReadStep, read_file

    chip.power_on()
    card_access = read_file(chip.process, FID_CARD_ACCESS, PLAIN_BLOCK, ReadStep.CARD_ACCESS)
    info = choose_pace(parse_security_infos(card_access))
    sm = PACEProtocol(chip.process, info, chip.profile.can, PasswordType.CAN).run().sm
    secured = sm.wrap(chip.process)
    assert ResponseAPDU.parse(secured(select_aid(AID_EMRTD).encode())).sw == 0x9000
    algorithm = parse_dg14(files["DG14"]).active_authentication_algorithm
    answer = run_active_auth(
        secured, parse_dg15(files["DG15"]), signature_algorithm=algorithm, rng=lambda n: challenge
    )
    assert answer.verified
    return answer.signature


def prove(
    client: HttpBackOffice,
    files: dict[str, bytes],
    challenge: bytes,
    signature: bytes | None,
    citizen: str = DEMO_ID,
    *,
    aa: bool = True,
) -> Any:
    return client.prove_presence(
        citizen,
        challenge=challenge,
        aa_signature=signature,
        dg15=files["DG15"] if aa else None,
        dg14=files["DG14"] if aa else None,
        sod=files["SOD"],
        dg13=files["DG13"],
    )


def test_the_chip_proves_presence_and_the_papers_on_file_follow(
    server: BackofficeServer, client: HttpBackOffice, pki_dir: Path, catalog: Any, tmp_path: Path
) -> None:
    from backoffice.demo import seed_demo

    ctx = server.context()
    try:
        seeded = seed_demo(ctx)
        assert seed_demo(ctx) == seeded  # seeding twice adds nothing
    finally:
        ctx.close()
    # a dossier whose document the administration keeps on file
    procedure = pick_procedure(catalog, with_on_file_kind=True)
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path, procedure=procedure)
    code = client.submit(dossier).dossier_code

    chip, files = read_card(pki_dir)
    challenge = client.presence_challenge()
    assert len(challenge.challenge) == 8
    signature = chip_signs(chip, files, challenge.challenge)
    proof = prove(client, files, challenge.challenge, signature)
    assert proof.assurance == "active"

    papers = client.documents_on_file(DEMO_ID, proof.token)
    kinds = {p.kind for p in papers}
    assert {"can_cuoc", "dang_ky_doanh_nghiep"} <= kinds
    from_dossier = [p for p in papers if p.dossier_code == code]
    on_file = {d.id: d.on_file_kind for d in procedure.documents if d.on_file_kind}
    expected = {
        on_file[a.requirement_id] for a in dossier.attachments if a.requirement_id in on_file
    }
    assert {p.kind for p in from_dossier} == expected and expected

    paper = next(p for p in papers if p.kind == "can_cuoc")
    pdf = client.document_pdf(DEMO_ID, paper.id, proof.token, tmp_path / "copy.pdf")
    assert pdf.read_bytes().startswith(b"%PDF-") and sha256_of(pdf) == paper.sha256

    # the paper reused by reference in a new dossier, instead of scanning it again
    reused = [
        replace(a, pages=[], on_file_ref=from_dossier[0].id) if a.requirement_id in on_file else a
        for a in dossier.attachments
    ]
    again = sample_dossier(catalog, "KIOSK-01", tmp_path / "2", procedure=procedure)
    assert client.submit(replace(again, attachments=reused)).dossier_code != code
    stranger = replace(
        again,
        idempotency_key=os.urandom(8).hex(),
        attachments=reused,
        applicant=replace(again.applicant, id_number="079155004321"),
    )
    with pytest.raises(SubmissionRejected, match="not a paper on file of this applicant"):
        client.submit(stranger)

    # the token is this kiosk's, for this citizen, and needed
    with (
        client_for(server, "KIOSK-02") as other,
        pytest.raises(BackOfficeAuthError, match="presence token"),
    ):
        other.documents_on_file(DEMO_ID, proof.token)
    with pytest.raises(BackOfficeAuthError, match="presence"):
        client.documents_on_file("079155004321", proof.token)
    with pytest.raises(BackOfficeAuthError, match="presence_required"):
        client.documents_on_file(DEMO_ID, "")


def test_a_replayed_challenge_or_a_wrong_signature_is_refused(
    client: HttpBackOffice, server: BackofficeServer, pki_dir: Path
) -> None:
    chip, files = read_card(pki_dir)
    challenge = client.presence_challenge().challenge
    signature = chip_signs(chip, files, challenge)
    prove(client, files, challenge, signature)
    with pytest.raises(PresenceRefused, match="already used"):
        prove(client, files, challenge, signature)

    fresh = client.presence_challenge().challenge
    with pytest.raises(PresenceRefused, match="active authentication failed"):
        prove(client, files, fresh, signature)  # a signature over another challenge
    fresh = client.presence_challenge().challenge
    bad = bytearray(chip_signs(chip, files, fresh))
    bad[5] ^= 0x01
    with pytest.raises(PresenceRefused, match="active authentication failed"):
        prove(client, files, fresh, bytes(bad))
    with pytest.raises(PresenceRefused, match="already used"):  # spent by the failed proof
        prove(client, files, fresh, chip_signs(chip, files, fresh))

    fresh = client.presence_challenge().challenge  # another kiosk's challenge
    with client_for(server, "KIOSK-02") as other, pytest.raises(PresenceRefused, match="unknown"):
        prove(other, files, fresh, chip_signs(chip, files, fresh))

    fresh = client.presence_challenge().challenge  # the card of someone else
    with pytest.raises(PresenceRefused, match="another citizen"):
        prove(client, files, fresh, chip_signs(chip, files, fresh), citizen="079155004321")

    tampered_chip, tampered = read_card(pki_dir, "tampered")
    fresh = client.presence_challenge().challenge
    with pytest.raises(PresenceRefused, match="passive authentication failed"):
        prove(client, tampered, fresh, chip_signs(tampered_chip, tampered, fresh))

    fresh = client.presence_challenge().challenge  # no AA while the server requires it
    with pytest.raises(PresenceRefused, match="aa_signature is missing"):
        prove(client, files, fresh, None, aa=False)


def test_passive_only_presence_when_active_auth_is_not_required(
    tmp_path: Path, pki_dir: Path
) -> None:
    with BackofficeServer(tmp_path / "bo", pki_dir=pki_dir, require_active_auth=False) as srv:
        secret = srv.add_kiosk("KIOSK-01")
        with HttpBackOffice(srv.url, "KIOSK-01", secret, timeout_s=5) as c:
            _chip, files = read_card(pki_dir)
            proof = prove(c, files, c.presence_challenge().challenge, None, aa=False)
            assert proof.assurance == "passive"
            assert c.documents_on_file(DEMO_ID, proof.token) == []


def test_a_dossier_with_a_missing_page_is_rejected_before_sending(
    client: HttpBackOffice, catalog: Any, tmp_path: Path
) -> None:
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path)
    gone = Attachment(dossier.attachments[0].requirement_id, "x", [tmp_path / "missing.pdf"])
    with pytest.raises(SubmissionRejected, match="cannot read"):
        client.submit(replace(dossier, attachments=[gone, *dossier.attachments[1:]]))


def test_the_embedded_server_of_the_demo_mode(tmp_path: Path, catalog: Any) -> None:
    from backoffice.embedded import EmbeddedBackOffice
    from backoffice.settings import Settings

    server = EmbeddedBackOffice(Settings.for_folder(tmp_path / "bo", secrets_key="B" * 43 + "="))
    url = server.start()
    try:
        secret = server.ensure_kiosk("KIOSK-01", "token-from-the-kiosk-config")
        with HttpBackOffice(url, "KIOSK-01", secret, timeout_s=5) as c:
            assert c.health().ok
            code = c.submit(sample_dossier(catalog, "KIOSK-01", tmp_path)).dossier_code
            assert c.lookup(code).status is DossierState.RECEIVED
    finally:
        server.stop()
    with HttpBackOffice(url, "KIOSK-01", secret, timeout_s=2) as c:
        assert not c.health().ok  # stopped: the port is closed


def test_citizen_ids_are_masked_in_the_log() -> None:
    from kiosk.delivery.http_client import redact

    assert redact("/api/v1/citizens/001090012345/documents") == (
        "/api/v1/citizens/*********345/documents"
    )
    assert redact("/api/v1/dossiers/000.00.08.H21-261124-0001") == (
        "/api/v1/dossiers/000.00.08.H21-261124-0001"
    )
