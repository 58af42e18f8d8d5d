"""Look-up by the receipt's QR: the code read from the payload, through the camera and the flow."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.vision_helpers import photo_of_qr

from devices.simulated.camera import SimulatedCamera
from kiosk.app.launch import make_session
from kiosk.app.services import build_services
from kiosk.camera.receipt_scan import ReceiptScanFailed, code_from_qr_text, scan_receipt_with_camera
from kiosk.demo.citizens import walk_to
from kiosk.flow.kiosk_flow import KioskFlow
from kiosk.flow.runner import InlineRunner
from kiosk.session.state import Journey, Step

CODE = "000.00.08.H21-261124-0007"


def payload(code: str = CODE) -> str:
    doc = {"v": 1, "dossier_code": code, "issuer": "motcua-kiosk/KIOSK-01", "procedure_code": "x"}
    return json.dumps(doc, separators=(",", ":"))


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (payload(), CODE),
        (payload("KIOSK-01-261124-000123"), "KIOSK-01-261124-000123"),  # provisional
        (CODE.lower(), CODE),
        ("001090012345||Nguyễn Văn An|01011990|Nam|Hà Nội|01012021", None),  # the card's QR
        ('{"dossier_code": "not a code"}', None),
        ("{broken", None),
        ("https://example.vn", None),
        (f"https://dichvucong.example.gov.vn/tra-cuu?ma-ho-so={CODE}", CODE),
        (f"https://dichvucong.example.gov.vn/ho-so/{CODE.lower()}/", CODE),
        ("https://dichvucong.example.gov.vn/tra-cuu?ma-ho-so=khong-phai-ma", None),
    ],
)
def test_code_from_the_qr_text(text: str, code: str | None) -> None:
    assert code_from_qr_text(text) == code


def test_the_camera_reads_the_receipt_qr(tmp_path: Path) -> None:
    camera = SimulatedCamera(photo_of_qr(payload(), tmp_path / "qr.jpg"), 1280, 720)
    assert scan_receipt_with_camera(camera, seconds=5) == CODE


def test_no_receipt_qr_in_view_says_what_to_do(tmp_path: Path) -> None:
    card = photo_of_qr(
        "001090012345||Nguyễn Văn An|01011990|Nam|Hà Nội|01012021", tmp_path / "c.jpg"
    )
    camera = SimulatedCamera(card, 1280, 720)
    with pytest.raises(ReceiptScanFailed) as info:
        scan_receipt_with_camera(camera, seconds=0.5)
    assert "QR" in info.value.user_message()


@pytest.fixture
def flow(kiosk_config: Any) -> Iterator[KioskFlow]:
    services = build_services(kiosk_config)
    flow = KioskFlow(make_session(kiosk_config), services, InlineRunner())
    try:
        yield flow
    finally:
        flow.session.wipe()
        services.close()


def test_a_receipt_scanned_at_the_kiosk_shows_the_dossier_status(
    flow: KioskFlow, tmp_path: Path
) -> None:
    walk_to(flow, Step.RECEIPT)
    result = flow.session.data.result
    qr_text = flow.dossier.receipt_data().qr_payload()
    flow.finish()
    flow.services.camera = SimulatedCamera(photo_of_qr(qr_text, tmp_path / "r.jpg"), 1280, 720)
    flow.start(Journey.LOOKUP)
    flow.lookup.scan_receipt(seconds=5)
    assert flow.session.step is Step.LOOKUP_RESULT
    status = flow.session.data.lookup_status
    assert status.code == result.dossier_code
