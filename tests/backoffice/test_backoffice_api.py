"""The reference back office's API, staff page, settings, storage and CLI.

HTTP tests talk to the real server (a subprocess on loopback, a temporary SQLite file) with
plain ``requests`` and the signing helper, so each protocol violation can be sent on purpose;
the rules that need a controlled clock (daily sequence, appointment dates) run in-process on
the same modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from support.backoffice_server import STAFF_TOKEN, BackofficeServer, sample_dossier, sample_pdf

from kiosk import paths
from kiosk.delivery.http_client import MultipartBody, dossier_upload
from kiosk.delivery.signing import signed_headers
from kiosk.infra.clock import VIETNAM_TZ

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    srv = BackofficeServer(tmp_path_factory.mktemp("backoffice"))
    srv.secrets = {k: srv.add_kiosk(k) for k in ("KIOSK-01", "KIOSK-02")}  # type: ignore[attr-defined]
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def catalog(server: BackofficeServer) -> Any:
    from kiosk.catalog.procedures import load_catalog

    return load_catalog(server.settings().procedures_dir)


def signed(
    server: BackofficeServer,
    method: str,
    path: str,
    body: bytes = b"",
    kiosk: str = "KIOSK-01",
    **extra: str,
) -> dict[str, str]:
    headers = signed_headers(
        kiosk,
        server.secrets[kiosk],
        method,
        path,
        hashlib.sha256(body).hexdigest(),  # type: ignore[attr-defined]
    )
    return {**headers, **extra}


def upload(
    server: BackofficeServer,
    dossier_json: dict[str, Any],
    parts: dict[str, bytes],
    *,
    key: str | None = "same-as-json",
    kiosk: str = "KIOSK-01",
    tamper: Callable[[bytes], bytes] | None = None,
) -> requests.Response:
    """POST /dossiers with a hand-made multipart body (to break the rules on purpose)."""
    body = MultipartBody()
    body.add_bytes(
        "dossier", json.dumps(dossier_json, ensure_ascii=False).encode(), "application/json"
    )
    for name, data in parts.items():
        body.add_bytes(name, data, "application/pdf")
    raw = b"".join(body)
    headers = signed(
        server, "POST", "/api/v1/dossiers", raw, kiosk, **{"Content-Type": body.content_type}
    )
    if key == "same-as-json":
        key = dossier_json.get("idempotency_key")
    if key is not None:
        headers["Idempotency-Key"] = key
    sent = tamper(raw) if tamper else raw
    return requests.post(server.url + "/api/v1/dossiers", data=sent, headers=headers, timeout=10)


def as_parts(dossier: Any) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The ``dossier`` JSON part and the file parts the client would send."""
    _, data = dossier_upload(dossier)
    files: dict[str, bytes] = {}
    for attachment, entry in zip(dossier.attachments, data["attachments"], strict=True):
        for name, page in zip(entry["pages"], attachment.pages, strict=True):
            files[name] = page.read_bytes()
    return data, files


# --- the OpenAPI document --------------------------------------------------------------------


def test_the_committed_openapi_document_is_up_to_date(server: BackofficeServer) -> None:
    from backoffice.app import OPENAPI_FILE, openapi_document

    committed = json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    assert committed == openapi_document(), (
        "regenerate: .venv/bin/python -m backoffice.app --openapi > backoffice/openapi.json"
    )
    served = requests.get(server.url + "/api/v1/openapi.json", timeout=5).json()
    assert served == committed
    assert set(served["components"]["securitySchemes"]) == {"KioskSignature", "StaffBearer"}


# --- errors ----------------------------------------------------------------------------------


def test_errors_have_one_json_shape(server: BackofficeServer) -> None:
    missing = requests.get(server.url + "/api/v1/nothing-here", timeout=5)
    assert missing.status_code == 404
    assert set(missing.json()) >= {"error", "message", "message_vi"}

    unsigned = requests.get(server.url + "/api/v1/dossiers/000.00.08.H21-250102-0001", timeout=5)
    assert unsigned.status_code == 401
    assert unsigned.json()["error"] == "unauthenticated"
    assert "X-Kiosk-Id" in unsigned.json()["message"]

    path = "/api/v1/dossiers/not-a-code"
    bad = requests.get(server.url + path, headers=signed(server, "GET", path), timeout=5)
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_dossier_code"
    assert "YYMMDD" in bad.json()["message_vi"]

    path = "/api/v1/dossiers/000.00.08.H21-250102-0042"
    unknown = requests.get(server.url + path, headers=signed(server, "GET", path), timeout=5)
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": "not_found",
        "message": "no dossier has the code 000.00.08.H21-250102-0042",
        "message_vi": "không có hồ sơ mã 000.00.08.H21-250102-0042",
    }


# --- the upload's rules ----------------------------------------------------------------------


def test_a_well_formed_upload_is_received(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    data, files = as_parts(sample_dossier(catalog, "KIOSK-01", tmp_path))
    answer = upload(server, data, files)
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {
        "dossier_code",
        "received_at",
        "appointment_date",
        "fee_vnd",
        "provisional",
    }


def test_an_attachment_that_changed_on_the_way_is_refused(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    data, files = as_parts(sample_dossier(catalog, "KIOSK-01", tmp_path))
    name = next(iter(files))
    files[name] = files[name].replace(b"/Count 1", b"/Count 2")
    answer = upload(server, data, files)
    assert answer.status_code == 422
    assert answer.json()["error"] == "dossier_rejected"
    assert any("changed on the way" in p for p in answer.json()["problems"])


def test_a_part_that_is_not_a_pdf_or_belongs_to_nothing_is_refused(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    data, files = as_parts(sample_dossier(catalog, "KIOSK-01", tmp_path))
    name = next(iter(files))
    files[name] = b"GIF89a not a pdf"
    data["parts"][name] = {"sha256": hashlib.sha256(files[name]).hexdigest(), "size": 16}
    files["stray"] = sample_pdf(tmp_path / "stray.pdf").read_bytes()
    answer = upload(server, data, files)
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert any("is not a PDF file" in p for p in problems)
    assert any("'stray' belongs to no attachment" in p for p in problems)


def test_the_idempotency_key_header_must_be_there_and_match(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    data, files = as_parts(sample_dossier(catalog, "KIOSK-01", tmp_path))
    missing = upload(server, data, files, key=None)
    assert missing.status_code == 422 and "Idempotency-Key" in missing.json()["message"]
    other = upload(server, data, files, key="another-key-123")
    assert other.status_code == 422 and "differs" in other.json()["message"]


def test_a_kiosk_cannot_submit_for_another_kiosk(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    data, files = as_parts(sample_dossier(catalog, "KIOSK-02", tmp_path))
    answer = upload(server, data, files, kiosk="KIOSK-01")
    assert answer.status_code == 403


def test_the_catalog_checks_name_every_problem(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path)
    procedure = catalog.get(dossier.procedure_code)
    field = procedure.form_schema["required"][0]
    declaration = {k: v for k, v in dossier.declaration.items() if k != field}
    data, files = as_parts(
        replace(dossier, declaration=declaration, attachments=dossier.attachments[1:])
    )
    answer = upload(server, data, files)
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert any(field in p and "required" in p for p in problems)
    assert any(
        f"required document {dossier.attachments[0].requirement_id!r}" in p for p in problems
    )

    data, files = as_parts(replace(dossier, procedure_code="NO-SUCH-01"))
    answer = upload(server, data, files)
    assert answer.json()["problems"] == ["procedure_code: 'NO-SUCH-01' is not in the catalog"]


def test_a_body_other_than_the_signed_one_is_refused(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    data, files = as_parts(sample_dossier(catalog, "KIOSK-01", tmp_path))
    changed: list[bytes] = []

    def tamper(raw: bytes) -> bytes:
        changed.append(raw.replace("Nguyễn Văn An".encode(), "Nguyễn Văn Ba".encode(), 1))
        assert changed[0] != raw
        return changed[0]

    answer = upload(server, data, files, tamper=tamper)
    # the signature covers the honest body's hash: the changed body is refused as unsigned
    assert answer.status_code == 401
    assert "X-Content-SHA256" in answer.json()["message"]


def test_a_dossier_must_be_multipart(server: BackofficeServer) -> None:
    body = b'{"dossier": {}}'
    headers = signed(
        server, "POST", "/api/v1/dossiers", body, **{"Content-Type": "application/json"}
    )
    answer = requests.post(server.url + "/api/v1/dossiers", data=body, headers=headers, timeout=5)
    assert answer.status_code == 415


# --- staff API -------------------------------------------------------------------------------


def test_staff_list_filter_page_and_move_dossiers(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    from kiosk.delivery.http_client import HttpBackOffice

    assert requests.get(server.url + "/api/v1/dossiers", timeout=5).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert (
        requests.get(server.url + "/api/v1/dossiers", headers=wrong, timeout=5).status_code == 401
    )

    codes = []
    for kiosk in ("KIOSK-01", "KIOSK-02", "KIOSK-02"):
        with HttpBackOffice(server.url, kiosk, server.secrets[kiosk], timeout_s=5) as c:  # type: ignore[attr-defined]
            codes.append(c.submit(sample_dossier(catalog, kiosk, tmp_path / kiosk)).dossier_code)

    def listing(**query: Any) -> dict[str, Any]:
        answer = requests.get(
            server.url + "/api/v1/dossiers", params=query, headers=STAFF, timeout=5
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    mine = listing(kiosk="KIOSK-02")
    assert {d["code"] for d in mine["items"]} >= set(codes[1:])
    assert all(d["kiosk_id"] == "KIOSK-02" for d in mine["items"])
    first = listing(kiosk="KIOSK-02", limit=1, offset=0)
    second = listing(kiosk="KIOSK-02", limit=1, offset=1)
    assert first["total"] == mine["total"] and first["items"] != second["items"]
    today = datetime.now(VIETNAM_TZ).date().isoformat()
    assert listing(received_from=today, received_to=today)["total"] >= 3
    assert listing(received_to="2000-01-01")["total"] == 0
    bad = requests.get(
        server.url + "/api/v1/dossiers", params={"state": "nonsense"}, headers=STAFF, timeout=5
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"

    code = codes[0]
    move = requests.post(
        f"{server.url}/api/v1/dossiers/{code}/status",
        json={"state": "needs_more", "note": "Bổ sung bản sao giấy phép kinh doanh."},
        headers=STAFF,
        timeout=5,
    )
    assert move.status_code == 200 and move.json()["status"] == "needs_more"
    assert listing(state="needs_more")["total"] >= 1
    jump = requests.post(
        f"{server.url}/api/v1/dossiers/{code}/status",
        json={"state": "returned"},
        headers=STAFF,
        timeout=5,
    )
    assert jump.status_code == 409 and jump.json()["error"] == "invalid_transition"

    with HttpBackOffice(server.url, "KIOSK-02", server.secrets["KIOSK-02"], timeout_s=5) as c:  # type: ignore[attr-defined]
        status = c.lookup(code)  # another kiosk may look it up: no personal data in it
    assert status.status.value == "needs_more"
    assert status.history[-1].note == "Bổ sung bản sao giấy phép kinh doanh."
    assert "Nguyễn" not in json.dumps(status.to_dict(), ensure_ascii=False)


# --- the staff page --------------------------------------------------------------------------


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert match, html[:500]
    return match.group(1)


def test_the_staff_page(server: BackofficeServer, catalog: Any, tmp_path: Path) -> None:
    from kiosk.delivery.http_client import HttpBackOffice

    with HttpBackOffice(server.url, "KIOSK-01", server.secrets["KIOSK-01"], timeout_s=5) as c:  # type: ignore[attr-defined]
        code = c.submit(sample_dossier(catalog, "KIOSK-01", tmp_path)).dossier_code
    web = requests.Session()
    assert "Đăng nhập" in web.get(server.url + "/staff", timeout=5).text
    refused = web.post(server.url + "/staff/login", data={"token": "wrong"}, timeout=5)
    assert "Mã truy cập không đúng" in refused.text
    assert web.get(server.url + "/staff/dossiers", timeout=5).url.endswith("/staff")

    page = web.post(server.url + "/staff/login", data={"token": STAFF_TOKEN}, timeout=5)
    assert page.status_code == 200 and code in page.text and "Hồ sơ đã tiếp nhận" in page.text
    detail = web.get(f"{server.url}/staff/dossiers/{code}", timeout=5)
    assert "Chuyển trạng thái" in detail.text and "Nguyễn Văn An" in detail.text
    pdf_link = re.search(rf"/staff/dossiers/{re.escape(code)}/files/[0-9a-f]{{64}}", detail.text)
    assert pdf_link and web.get(server.url + pdf_link.group(0), timeout=5).content.startswith(
        b"%PDF-"
    )

    no_csrf = web.post(
        f"{server.url}/staff/dossiers/{code}/status", data={"state": "in_progress"}, timeout=5
    )
    assert no_csrf.status_code == 403
    moved = web.post(
        f"{server.url}/staff/dossiers/{code}/status",
        data={"state": "in_progress", "note": "Đang thẩm định", "csrf": _csrf(detail.text)},
        timeout=5,
    )
    assert "Đã cập nhật trạng thái" in moved.text and "Đang giải quyết" in moved.text

    papers = web.get(server.url + "/staff/papers", params={"citizen": "048303007890"}, timeout=5)
    added = web.post(
        server.url + "/staff/papers",
        data={
            "csrf": _csrf(papers.text),
            "citizen": "048303007890",
            "kind": "van_bang",
            "title": "Bằng tốt nghiệp đại học",
        },
        files={"file": ("b.pdf", sample_pdf(tmp_path / "b.pdf").read_bytes(), "application/pdf")},
        timeout=5,
    )
    assert "Đã thêm giấy tờ" in added.text and "Bằng tốt nghiệp đại học" in added.text

    kiosks = web.get(server.url + "/staff/kiosks", timeout=5)
    sent = web.post(
        server.url + "/staff/kiosks/KIOSK-02/commands",
        data={"csrf": _csrf(kiosks.text), "command": "enter-maintenance"},
        timeout=5,
    )
    assert "Đã gửi lệnh cho ki-ốt KIOSK-02" in sent.text
    web.post(server.url + "/staff/logout", timeout=5)
    assert web.get(server.url + "/staff/kiosks", timeout=5).url.endswith("/staff")


# --- rules with a controlled clock (in-process) ----------------------------------------------


def _receive(ctx: Any, dossier: Any) -> Any:
    """What the upload route hands to ``dossiers.submit`` for ``dossier``."""
    from backoffice.dossiers import parse_upload
    from backoffice.upload import ReceivedPart

    data, files = as_parts(dossier)
    parts = {}
    for name, blob in files.items():
        digest = ctx.blobs.put_bytes(blob)
        parts[name] = ReceivedPart(
            name, f"{name}.pdf", "application/pdf", digest, len(blob), blob[:16]
        )
    return parse_upload(json.dumps(data).encode(), parts, dossier.idempotency_key, dossier.kiosk_id)


def test_codes_count_per_agency_and_day_and_appointments_skip_holidays(
    tmp_path: Path, catalog: Any
) -> None:
    from backoffice.context import Context
    from backoffice.dossiers import submit
    from backoffice.settings import Settings
    from kiosk.dossier.workdays import add_working_days, load_holidays

    dossier = sample_dossier(catalog, "KIOSK-01", tmp_path / "files")
    procedure = catalog.get(dossier.procedure_code)
    now = {"t": datetime(2026, 2, 13, 10, 0, tzinfo=VIETNAM_TZ).timestamp()}  # Friday before Tết
    settings = Settings.for_folder(
        tmp_path / "bo",
        secrets_key="A" * 43 + "=",
        agency_by_service={procedure.service_code: "000.00.09.H21"},
    )
    ctx = Context.open(settings, clock=lambda: now["t"])
    try:
        first, replay = submit(ctx, _receive(ctx, dossier))
        assert not replay and first.dossier_code == "000.00.09.H21-260213-0001"
        again, replay = submit(ctx, _receive(ctx, dossier))
        assert replay and again == first
        second, _ = submit(ctx, _receive(ctx, replace(dossier, idempotency_key="second-key-1")))
        assert second.dossier_code.endswith("260213-0002")
        holidays = load_holidays(paths.CONFIG_DIR / "holidays.toml")
        expected = add_working_days(
            datetime.fromtimestamp(now["t"], VIETNAM_TZ), procedure.processing_days, holidays
        )
        assert first.appointment_date == expected
        if procedure.processing_days:
            assert first.appointment_date > date(2026, 2, 22)  # the Tết days are skipped

        now["t"] = datetime(2026, 2, 14, 9, 0, tzinfo=VIETNAM_TZ).timestamp()
        third, _ = submit(ctx, _receive(ctx, replace(dossier, idempotency_key="third-key-01")))
        assert third.dossier_code == "000.00.09.H21-260214-0001"  # a new day, a new sequence
    finally:
        ctx.close()


# --- storage and settings --------------------------------------------------------------------


def test_blobs_are_written_once_atomically_and_checked_on_read(tmp_path: Path) -> None:
    from backoffice.storage import BlobCorrupted, BlobStore, TooLarge

    store = BlobStore(tmp_path / "files")
    digest = store.put_bytes(b"%PDF-1.4 one")
    assert digest == hashlib.sha256(b"%PDF-1.4 one").hexdigest()
    assert store.put_bytes(b"%PDF-1.4 one") == digest
    assert store.verify(digest).read_bytes() == b"%PDF-1.4 one"
    writer = store.writer(limit=4)
    writer.write(b"12345")
    with pytest.raises(TooLarge):
        writer.commit()
    assert list(store.tmp_dir.iterdir()) == []
    path = store.path_of(digest)
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.4 two")
    with pytest.raises(BlobCorrupted, match="changed on disk"):
        store.verify(digest)


def test_settings_from_the_file_and_the_environment(tmp_path: Path) -> None:
    from backoffice.settings import BackofficeSettingsError, load_settings

    shipped = load_settings(paths.CONFIG_DIR / "backoffice.toml", env={})
    assert shipped.max_attachment_bytes == 150 * 1024 * 1024
    assert (
        shipped.db_url == f"sqlite:///{(paths.PROJECT_ROOT / 'var/backoffice/backoffice.sqlite')}"
    )
    assert shipped.require_active_auth and not shipped.allow_test_csca

    f = tmp_path / "bo.toml"
    f.write_text(
        'data_dir = "state"\nagency_code = "000.00.08.H21"\nprocedures_dir = "p"\n'
        'holidays_file = "h.toml"\ndb_url = "sqlite:///db/bo.sqlite"\n',
        encoding="utf-8",
    )
    env = {"BACKOFFICE_CLOCK_SKEW_S": "60", "BACKOFFICE_REQUIRE_ACTIVE_AUTH": "no"}
    settings = load_settings(f, env=env)
    assert settings.data_dir == tmp_path / "state"
    assert settings.db_url == f"sqlite:///{tmp_path / 'db/bo.sqlite'}"
    assert settings.clock_skew_s == 60 and settings.require_active_auth is False

    with pytest.raises(BackofficeSettingsError) as err:
        load_settings(
            f,
            env={
                "BACKOFFICE_NO_SUCH": "1",
                "BACKOFFICE_CLOCK_SKEW_S": "abc",
                "BACKOFFICE_AGENCY_CODE": "H21",
            },
        )
    problems = " | ".join(err.value.problems)
    assert "env BACKOFFICE_NO_SUCH: unknown setting" in problems
    assert "clock_skew_s: expected a whole number" in problems
    assert "'H21' is not a QCVN 102:2016 agency code" in problems


# --- the command line ------------------------------------------------------------------------


def _cli(server: BackofficeServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "kiosk.cli.backoffice",
            "backoffice",
            *args,
            "--config",
            str(server.config),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=paths.PROJECT_ROOT,
    )


def test_cli_add_kiosk_report_and_seed(
    server: BackofficeServer, catalog: Any, tmp_path: Path
) -> None:
    from kiosk.delivery.http_client import HttpBackOffice

    added = _cli(server, "add-kiosk", "KIOSK-07", "--json")
    assert added.returncode == 0, added.stderr
    secret = json.loads(added.stdout)["secret"]
    again = _cli(server, "add-kiosk", "KIOSK-07")
    assert again.returncode == 1 and "already registered" in again.stderr

    with HttpBackOffice(server.url, "KIOSK-07", secret, timeout_s=5) as c:
        assert c.health().ok
        dossier = sample_dossier(catalog, "KIOSK-07", tmp_path)
        c.submit(dossier)
        twin = replace(dossier, idempotency_key="twin-of-the-first")  # same dossier, new key
        c.submit(twin)

    report = _cli(server, "report", "--json")
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["per_kiosk"]["KIOSK-07"] == 2
    assert data["total"] == sum(data["per_state"].values()) == sum(data["per_kiosk"].values())
    assert data["per_procedure"][dossier.procedure_code] >= 2
    twins = [d for d in data["duplicates"] if d.get("kiosk_id") == "KIOSK-07"]
    assert len(twins) == 1 and twins[0]["count"] == 2

    seeded = _cli(server, "seed-demo", "--json")
    assert seeded.returncode == 0, seeded.stderr
    kinds = {p["kind"] for p in json.loads(seeded.stdout)["papers"]}
    assert kinds == {"can_cuoc", "dang_ky_doanh_nghiep"}
