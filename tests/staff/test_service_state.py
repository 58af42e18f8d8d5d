"""kiosk/staff/service_state.py: the kiosk's mode, the closed kiosk's message, kept across a
restart, and a damaged state file that does not keep the kiosk from starting."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from kiosk.staff.service_state import (
    GENERAL_EN,
    MAX_MESSAGE_CHARS,
    PRESET_MESSAGES,
    ServiceMode,
    ServiceState,
    typed_message,
)


def test_modes_and_listeners(tmp_path: Path) -> None:
    state = ServiceState(tmp_path)
    seen: list[ServiceMode] = []
    state.subscribe(lambda s: seen.append(s.mode))
    assert state.mode is ServiceMode.SERVICE and state.summary()["out_of_service_message"] is None
    state.enter_maintenance("NV001")
    state.close(PRESET_MESSAGES["network"])
    assert state.mode is ServiceMode.MAINTENANCE  # staff still at the screen
    state.leave_maintenance()
    assert state.mode is ServiceMode.OUT_OF_SERVICE
    assert state.summary() == {
        "mode": "out_of_service",
        "out_of_service_message": {
            "vi": PRESET_MESSAGES["network"].vi,
            "en": PRESET_MESSAGES["network"].en,
        },
    }
    state.reopen()
    assert seen == [
        ServiceMode.MAINTENANCE,
        ServiceMode.MAINTENANCE,
        ServiceMode.OUT_OF_SERVICE,
        ServiceMode.SERVICE,
    ]


def test_maintenance_is_not_kept_but_out_of_service_is(tmp_path: Path) -> None:
    state = ServiceState(tmp_path)
    state.enter_maintenance("NV001")
    assert ServiceState(tmp_path).mode is ServiceMode.SERVICE
    state.close(typed_message("  Tạm dừng\tphục vụ  ", ""))
    again = ServiceState(tmp_path)
    assert again.mode is ServiceMode.OUT_OF_SERVICE
    assert again.message is not None and again.message.vi == "Tạm dừng phục vụ"
    assert again.message.en == GENERAL_EN
    path = tmp_path / "staff" / "service.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_typed_messages_are_checked() -> None:
    with pytest.raises(ValueError, match="Vietnamese"):
        typed_message("   ")
    with pytest.raises(ValueError, match="at most"):
        typed_message("a" * (MAX_MESSAGE_CHARS + 1))
    decomposed = "Tie\u0302\u0301p nha\u0323\u0302n"
    assert typed_message(decomposed).vi == "Tiếp nhận"


def test_a_damaged_file_starts_the_kiosk_in_service(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "staff" / "service.json"
    path.parent.mkdir()
    path.write_text("{not json", encoding="utf-8")
    assert ServiceState(tmp_path).mode is ServiceMode.SERVICE
    assert "service state not read" in caplog.text and "service.json" in caplog.text
    path.write_text('{"out_of_service": true, "message": 5}', encoding="utf-8")
    state = ServiceState(tmp_path)
    assert (
        state.mode is ServiceMode.OUT_OF_SERVICE and state.message == PRESET_MESSAGES["servicing"]
    )
