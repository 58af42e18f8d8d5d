"""The dossier model: codes per Thông tư 01/2018/TT-VPCP, the submission JSON, statuses."""

from __future__ import annotations

import json
import unicodedata
from datetime import date, datetime
from pathlib import Path

import pytest

from kiosk.dossier.model import (
    NEXT_STEPS,
    Applicant,
    Attachment,
    DossierCode,
    DossierCodeError,
    DossierError,
    DossierFormatError,
    DossierState,
    DossierStatus,
    DossierSubmission,
    StatusEvent,
    SubmissionResult,
    format_dossier_code,
    parse_dossier_code,
)
from kiosk.errors import KioskError
from kiosk.infra.clock import VIETNAM_TZ

CODE_MSG = "This dossier code is not valid. Please check it and try again."


def sample(tmp_path: Path) -> DossierSubmission:
    page = tmp_path / "to_khai-1.png"
    page.write_bytes(b"\x89PNG fake page")
    return DossierSubmission(
        procedure_code="2.001740",
        kiosk_id="K01",
        applicant=Applicant("001204012345", "Nguyễn Thị Hoa", date(1990, 5, 17), "Nữ", "Hà Nội"),
        declaration={"ten_co_so": "Cơ sở in Hoa Sen", "co_che_ban": True, "so": 3},
        attachments=[Attachment("to_khai", "Tờ khai", [page], None)],
        created_at=datetime(2026, 11, 24, 9, 30, tzinfo=VIETNAM_TZ),
    )


# --- codes ---


def test_format_and_parse_the_circular_example() -> None:
    code = format_dossier_code("000.00.08.H21", date(2026, 11, 24), 1)
    assert code == "000.00.08.H21-261124-0001"
    parsed = parse_dossier_code(code)
    assert parsed == DossierCode("000.00.08.H21", date(2026, 11, 24), 1)
    assert str(parsed) == code
    assert format_dossier_code("000.20.35.H56", date(2025, 1, 2), 9999).endswith("-250102-9999")


def test_parse_forgives_spaces_and_lower_case() -> None:
    assert str(parse_dossier_code("  000.00.08.h21-261124-0042\n")) == "000.00.08.H21-261124-0042"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "abc",
        "000.00.08.H21-261124-001",  # 3-digit sequence
        "000.00.08.H21-261124-00001",
        "000.00.08.H21-261324-0001",  # month 13
        "000.00.08.H21-260230-0001",  # 30 February
        "000.00.08.H21-261124-0000",  # sequences start at 1
        "00.00.08.H21-261124-0001",
        "000.00.08.21-261124-0001",
        "000.00.08.H21_261124_0001",
        "000.00.08.H21-2611240001",
        "000.00.08.H21 - 261124 - 0001",
    ],
)
def test_bad_codes_tell_the_citizen_to_check(bad: str) -> None:
    with pytest.raises(DossierCodeError) as e:
        parse_dossier_code(bad)
    assert isinstance(e.value, DossierError) and isinstance(e.value, KioskError)
    assert e.value.user_message() == CODE_MSG


def test_non_text_code() -> None:
    with pytest.raises(DossierCodeError, match="must be text"):
        parse_dossier_code(261124)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agency", "day", "seq", "why"),
    [
        ("000.00.08.H21", date(2026, 1, 1), 0, "outside 1..9999"),
        ("000.00.08.H21", date(2026, 1, 1), 10000, "outside 1..9999"),
        ("000.00.08.H21", date(1999, 1, 1), 1, "cannot be written as YY"),
        ("H21", date(2026, 1, 1), 1, "QCVN 102:2016"),
        ("", date(2026, 1, 1), 1, "QCVN 102:2016"),
    ],
)
def test_format_refuses_what_cannot_be_a_code(agency: str, day: date, seq: int, why: str) -> None:
    with pytest.raises(DossierCodeError, match=why) as e:
        format_dossier_code(agency, day, seq)
    assert e.value.user_message() != CODE_MSG  # not the citizen's mistake


# --- the submission JSON ---


def test_json_round_trip(tmp_path: Path) -> None:
    dossier = sample(tmp_path)
    text = dossier.to_json()
    assert "Nguyễn Thị Hoa" in text  # readable, not \\u escapes
    data = json.loads(text)
    assert data["format"] == "motcua-kiosk/dossier" and data["version"] == 1
    assert len(data["idempotency_key"]) == 32
    again = DossierSubmission.from_json(text)
    assert again == dossier
    assert again.created_at.utcoffset() == dossier.created_at.utcoffset()


def test_each_submission_gets_its_own_key(tmp_path: Path) -> None:
    assert sample(tmp_path).idempotency_key != sample(tmp_path).idempotency_key


def test_kiosk_submit_file_with_relative_paths_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "p1.jpg").write_bytes(b"jpeg")
    path = tmp_path / "dossier.json"
    path.write_text(
        json.dumps(
            {
                "procedure_code": "2.001740",
                "kiosk_id": "K01",
                "applicant": {"id_number": "001204012345", "full_name": "Trần Văn Nam"},
                "declaration": {"ten_co_so": "In Nam"},
                "attachments": [{"requirement_id": "to_khai", "pages": ["scans/p1.jpg"]}],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    dossier = DossierSubmission.from_file(path)
    assert dossier.attachments[0].pages == [tmp_path.resolve() / "scans" / "p1.jpg"]
    assert dossier.attachments[0].pages[0].read_bytes() == b"jpeg"
    assert dossier.created_at.tzinfo is not None
    assert len(dossier.idempotency_key) == 32
    assert dossier.applicant.date_of_birth is None


def test_text_is_normalised_to_nfc(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Hoa")
    dossier = sample(tmp_path)
    data = dossier.to_dict()
    data["applicant"]["full_name"] = nfd
    data["declaration"] = {unicodedata.normalize("NFD", "tên"): [nfd]}
    again = DossierSubmission.from_dict(data)
    assert again.applicant.full_name == "Nguyễn Thị Hoa"
    assert again.declaration == {"tên": ["Nguyễn Thị Hoa"]}


def test_every_mistake_of_a_bad_dossier_is_listed(tmp_path: Path) -> None:
    data = sample(tmp_path).to_dict()
    data["applicant"]["id_number"] = "12345"
    data["applicant"]["date_of_birth"] = "17/05/1990"
    data["applicant"]["religion"] = "none"
    data["created_at"] = "yesterday"
    data["idempotency_key"] = "a b"
    data["declaration"] = []
    data["attachments"] = [{"requirement_id": "to_khai", "pages": []}, "scan.png"]
    data["kiosk_id"] = ""
    data["colour"] = "red"
    data["version"] = 2
    with pytest.raises(DossierFormatError) as e:
        DossierSubmission.from_dict(data, source="d.json")
    problems = e.value.problems
    assert str(e.value).startswith("d.json: ")
    for where in [
        "$.applicant.id_number",
        "$.applicant.date_of_birth",
        "$.applicant.religion",
        "$.created_at",
        "$.idempotency_key",
        "$.declaration",
        "$.attachments[0]: needs scanned pages or an on_file_ref",
        "$.attachments[1]",
        "$.kiosk_id",
        "$.colour",
        "$.version",
    ]:
        assert any(p.startswith(where) for p in problems), where
    assert len(problems) == 11


def test_bad_json_text(tmp_path: Path) -> None:
    with pytest.raises(DossierFormatError, match=r"line 1 column 2: not valid JSON"):
        DossierSubmission.from_json("{,}")
    with pytest.raises(DossierFormatError, match=r"\$: must be a JSON object"):
        DossierSubmission.from_json("[]")
    with pytest.raises(DossierFormatError, match="cannot be read") as e:
        DossierSubmission.from_file(tmp_path / "missing.json")
    assert "missing.json" in str(e.value)


def test_attachment_on_file_only() -> None:
    data = {
        "procedure_code": "LOCAL-IN-01",
        "kiosk_id": "K01",
        "applicant": {"id_number": "001204012345", "full_name": "A"},
        "declaration": {},
        "attachments": [{"requirement_id": "dang_ky_doanh_nghiep", "on_file_ref": "DKDN-123"}],
    }
    dossier = DossierSubmission.from_dict(data)
    assert dossier.attachments[0].pages == [] and dossier.attachments[0].on_file_ref == "DKDN-123"
    data["attachments"][0]["on_file_ref"] = " "
    with pytest.raises(DossierFormatError, match="on_file_ref"):
        DossierSubmission.from_dict(data)


# --- answers ---


def test_submission_result_round_trip() -> None:
    r = SubmissionResult(
        "000.00.08.H21-261124-0001",
        datetime(2026, 11, 24, 9, 30, tzinfo=VIETNAM_TZ),
        date(2026, 11, 27),
        0,
        provisional=True,
    )
    assert SubmissionResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_status_takes_the_last_event_and_its_next_step() -> None:
    t = datetime(2026, 11, 24, 9, 30, tzinfo=VIETNAM_TZ)
    history = [
        StatusEvent(t, DossierState.RECEIVED, "kiosk K01"),
        StatusEvent(t, DossierState.NEEDS_MORE, "Thiếu bản sao giấy phép"),
    ]
    s = DossierStatus.of("000.00.08.H21-261124-0001", history, "2.001740", date(2026, 11, 27))
    assert s.status is DossierState.NEEDS_MORE
    assert s.next_step("vi") == NEXT_STEPS[DossierState.NEEDS_MORE][0]
    assert s.next_step("en").startswith("Your dossier needs more documents")
    assert DossierStatus.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(ValueError):
        DossierStatus.of("x", [])


def test_every_state_has_a_next_step_in_both_languages() -> None:
    assert set(NEXT_STEPS) == set(DossierState)
    for vi, en in NEXT_STEPS.values():
        assert vi and en and unicodedata.is_normalized("NFC", vi)
