"""Whether the kiosk serves citizens: in service, in maintenance, or out of service with a message.

``ServiceState`` is the one place the kiosk's mode lives; the screens, the metrics and the
heartbeat read it and listen to it. Maintenance lasts while a staff member is signed in and is
never kept across a restart. Out of service is: a kiosk a technician closed for a broken
printer stays closed after a power cut, with the same message, until someone puts it back
(``<data_dir>/staff/service.json``, mode 0600; a damaged file is logged and the kiosk starts
in service rather than not at all).

The message citizens read is one of ``PRESET_MESSAGES`` (Vietnamese and English) or typed by
staff: a typed message has a Vietnamese text and may have an English one; without it the
English line is the general one.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from kiosk.staff.errors import StaffFileError
from kiosk.staff.files import read_json_object, staff_dir, write_private_json

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS: Final = 200
STATE_FILE: Final = "service.json"


class ServiceMode(StrEnum):
    SERVICE = "service"
    MAINTENANCE = "maintenance"
    OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True)
class ServiceMessage:
    """What citizens read on a closed kiosk, in both languages."""

    vi: str
    en: str
    preset: str = ""  # the PRESET_MESSAGES key, "" when typed

    def to_dict(self) -> dict[str, str]:
        return {"vi": self.vi, "en": self.en, "preset": self.preset}


GENERAL_EN: Final = "This kiosk is out of service. Please go to a reception counter."

PRESET_MESSAGES: Final[dict[str, ServiceMessage]] = {
    m.preset: m
    for m in (
        ServiceMessage(
            "Ki-ốt đang bảo trì. Xin mời Ông/Bà đến quầy tiếp nhận để được phục vụ.",
            "This kiosk is being serviced. Please go to a reception counter.",
            "servicing",
        ),
        ServiceMessage(
            "Máy in của ki-ốt đang hỏng. Xin mời Ông/Bà đến quầy tiếp nhận để nộp hồ sơ.",
            "This kiosk's printer is broken. Please file your dossier at a reception counter.",
            "printer",
        ),
        ServiceMessage(
            "Ki-ốt tạm mất kết nối mạng. Xin mời Ông/Bà đến quầy tiếp nhận để được phục vụ.",
            "This kiosk has lost its network connection. Please go to a reception counter.",
            "network",
        ),
        ServiceMessage(
            "Ngoài giờ làm việc. Xin mời Ông/Bà quay lại trong giờ hành chính.",
            "Outside office hours. Please come back during office hours.",
            "closed",
        ),
    )
}


def typed_message(vi: str, en: str = "") -> ServiceMessage:
    """A message staff typed: NFC, one line, at most MAX_MESSAGE_CHARS each. ``ValueError``
    with the reason when the Vietnamese text is empty or a text is too long."""
    vi_text, en_text = _clean(vi), _clean(en)
    if not vi_text:
        raise ValueError("the message needs a Vietnamese text")
    for text in (vi_text, en_text):
        if len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"a message has at most {MAX_MESSAGE_CHARS} characters")
    return ServiceMessage(vi_text, en_text or GENERAL_EN)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    printable = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(printable.split())


Listener = Callable[["ServiceState"], None]


class ServiceState:
    """The kiosk's mode and closed-kiosk message, with listeners called on every change."""

    def __init__(self, data_dir: Path | None) -> None:
        self._path = staff_dir(Path(data_dir)) / STATE_FILE if data_dir is not None else None
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._maintenance_by: str | None = None
        self._message: ServiceMessage | None = self._load()

    # -- reading -------------------------------------------------------------------------------
    @property
    def mode(self) -> ServiceMode:
        with self._lock:
            if self._maintenance_by is not None:
                return ServiceMode.MAINTENANCE
            if self._message is not None:
                return ServiceMode.OUT_OF_SERVICE
            return ServiceMode.SERVICE

    @property
    def out_of_service(self) -> bool:
        """Closed to citizens (also while in maintenance, once staff leave)."""
        return self._message is not None

    @property
    def message(self) -> ServiceMessage | None:
        return self._message

    @property
    def maintenance_by(self) -> str | None:
        """The staff account in maintenance mode, None outside it."""
        return self._maintenance_by

    def summary(self) -> dict[str, Any]:
        """For the heartbeat: the mode and the closed-kiosk message (no staff names)."""
        message = self._message
        return {
            "mode": self.mode.value,
            "out_of_service_message": (
                {"vi": message.vi, "en": message.en} if message is not None else None
            ),
        }

    # -- changing ------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def enter_maintenance(self, account_id: str) -> None:
        with self._lock:
            self._maintenance_by = account_id
        self._changed()

    def leave_maintenance(self) -> None:
        with self._lock:
            if self._maintenance_by is None:
                return
            self._maintenance_by = None
        self._changed()

    def close(self, message: ServiceMessage) -> None:
        """Out of service with ``message`` (kept across restarts)."""
        with self._lock:
            self._save(message)  # on disk first: a failed save leaves the kiosk as it was
            self._message = message
        self._changed()

    def reopen(self) -> None:
        """Back in service."""
        with self._lock:
            if self._message is None:
                return
            self._save(None)
            self._message = None
        self._changed()

    # -- inside --------------------------------------------------------------------------------
    def _changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a listener's fault must not stop the change
                log.exception("service state listener failed")

    def _load(self) -> ServiceMessage | None:
        if self._path is None:
            return None
        try:
            data = read_json_object(self._path)
        except StaffFileError as e:
            log.error("service state not read, the kiosk starts in service: %s", e)
            return None
        if not data or not data.get("out_of_service"):
            return None
        raw = data.get("message")
        try:
            if not isinstance(raw, dict):
                raise ValueError("no message")
            preset = str(raw.get("preset", ""))
            if preset in PRESET_MESSAGES:
                return PRESET_MESSAGES[preset]
            return typed_message(str(raw.get("vi", "")), str(raw.get("en", "")))
        except ValueError as e:
            log.error("%s: out of service with an unreadable message (%s)", self._path, e)
            return PRESET_MESSAGES["servicing"]

    def _save(self, message: ServiceMessage | None) -> None:
        if self._path is None:
            return
        payload: dict[str, Any] = {"format": "motcua-kiosk/service-state", "version": 1}
        payload["out_of_service"] = message is not None
        payload["message"] = message.to_dict() if message is not None else None
        write_private_json(self._path, payload)
