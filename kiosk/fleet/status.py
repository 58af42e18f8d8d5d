"""The heartbeat: the kiosk's status as the back office's fleet page reads it.

``StatusReader(services, interval_s=60, mode=…, today=…, audit=…).heartbeat()`` gives::

    {"schema": 1, "sent_at": "2026-12-07T09:30:00+07:00", "interval_s": 60, "version": "0.1.0",
     "mode": "service" | "maintenance" | "out_of_service",
     "out_of_service_message": {"vi": "...", "en": "..."} | null,
     "devices": [{"name": "card_reader" | "camera" | "printer" | "backoffice", "up": true,
                  "mode": "simulated" | "pcsc" | ..., "detail": "..."}],
     "paper": "ok" | "near_end" | "out" | "unknown",
     "outbox": {"pending": 0, "parked": 0, "oldest_pending_age_s": 0.0} | null,
     "today": {"sessions": 0, "submitted": 0, "ratings": 0, "satisfied": 0} | null,
     "pin_failures_last_hour": 0 | null,
     "audit": [ ...audit entries the back office has not confirmed yet... ]}

``null`` says the kiosk cannot tell (the outbox could not be read; no tally or audit log was
given). Devices, paper and outbox are read as the metrics read them (readings.py); the back
office's own entry is always up, since the heartbeat reaching it is what says so (a kiosk whose
beats stop is the fleet page's "no heartbeat" alert). Nothing
personal is in it: no name, ID number or dossier code (device details are the drivers' English
words; the audit log refuses personal data). The whole is at most ``MAX_HEARTBEAT_BYTES`` (the
server's limit) as compact UTF-8 JSON: audit entries that would not fit wait for the next beat.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import metadata
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import kiosk
from kiosk.fleet.readings import (
    DEVICE_PARTS,
    DeviceReading,
    device_mode,
    read_devices,
    read_outbox,
    read_paper,
)
from kiosk.infra.clock import now_vietnam
from kiosk.infra.text import nfc

if TYPE_CHECKING:
    from kiosk.fleet.audit_feed import AuditFeed
    from kiosk.fleet.today import DayTally
    from kiosk.flow.services import Services

log = logging.getLogger(__name__)

SCHEMA_VERSION: Final = 1
#: The back office refuses a larger heartbeat (backoffice/fleet.py).
MAX_HEARTBEAT_BYTES: Final = 64 * 1024
#: What this kiosk allows itself, so that a server measuring a little differently still accepts.
HEARTBEAT_BUDGET_BYTES: Final = 56 * 1024
MAX_MESSAGE_CHARS: Final = 500
#: The parts asked for their health at each beat (the back office is the beat itself).
BEAT_DEVICE_PARTS: Final = tuple(p for p in DEVICE_PARTS if p != "backoffice")

Mode = Literal["service", "maintenance", "out_of_service"]
MODES: Final[tuple[Mode, ...]] = ("service", "maintenance", "out_of_service")


@dataclass(frozen=True)
class KioskMode:
    """What the kiosk is doing: serving citizens, in maintenance, or out of service with the
    message citizens see (``{"vi": ..., "en": ...}``)."""

    mode: Mode = "service"
    out_of_service_message: Mapping[str, str] | None = None


ModeProvider = Callable[[], KioskMode]


class ModeSummary(Protocol):
    """Whatever tells the mode as a dict (kiosk/staff/service_state.py ``ServiceState``)."""

    def summary(self) -> Mapping[str, Any]: ...


def mode_of(source: ModeSummary) -> ModeProvider:
    """A mode provider reading ``source.summary()`` (``{"mode", "out_of_service_message"}``)."""

    def read() -> KioskMode:
        summary = source.summary()
        mode = summary.get("mode", "service")
        message = summary.get("out_of_service_message")
        return KioskMode(
            mode if mode in MODES else "service",
            message if isinstance(message, Mapping) else None,
        )

    return read


def kiosk_version() -> str:
    """The installed package's version (the source's when not installed)."""
    try:
        return metadata.version("motcua-kiosk")
    except metadata.PackageNotFoundError:
        return kiosk.__version__


def compact_json(value: Any) -> bytes:
    """The bytes the HTTP client sends for ``value`` (compact, UTF-8)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class StatusReader:
    """Reads the kiosk's status for each heartbeat; every part guarded (a part that fails is
    ``unknown`` or ``null``, logged, and the heartbeat still goes)."""

    def __init__(
        self,
        services: Services,
        *,
        interval_s: float,
        mode: ModeProvider = KioskMode,
        today: DayTally | None = None,
        audit: AuditFeed | None = None,
        clock: Callable[[], datetime] = now_vietnam,
        version: str | None = None,
    ) -> None:
        self.services = services
        self.interval_s = interval_s
        self.mode = mode
        self.today = today
        self.audit = audit
        self._clock = clock
        self.version = version or kiosk_version()

    def heartbeat(self) -> dict[str, Any]:
        """The payload of one heartbeat (see the module's docstring)."""
        kiosk_mode = self._mode()
        reading = self.audit.read() if self.audit is not None else None
        payload: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "sent_at": self._clock().isoformat(timespec="seconds"),
            "interval_s": _number(self.interval_s),
            "version": self.version,
            "mode": kiosk_mode.mode,
            "out_of_service_message": _message(kiosk_mode),
            "devices": self._devices(),
            "paper": self._paper(),
            "outbox": self._outbox(),
            "today": self._today(),
            "pin_failures_last_hour": None if reading is None else reading.pin_failures_last_hour,
            "audit": [],
        }
        return with_audit(payload, [] if reading is None else reading.entries)

    # -- each part -------------------------------------------------------------------------------

    def _mode(self) -> KioskMode:
        try:
            kiosk_mode = self.mode()
        except Exception:  # noqa: BLE001
            log.exception("fleet: the mode provider failed; reporting service")
            return KioskMode()
        if kiosk_mode.mode not in MODES:
            log.warning("fleet: unknown mode %r; reporting service", kiosk_mode.mode)
            return KioskMode()
        return kiosk_mode

    def _devices(self) -> list[dict[str, object]]:
        """The devices' health; the back office's is this heartbeat itself: it is up if the
        heartbeat arrives (no extra request, and no log line per beat while it is down)."""
        devices = [d.to_dict() for d in read_devices(self.services, BEAT_DEVICE_PARTS)]
        backoffice = DeviceReading(
            "backoffice",
            True,
            device_mode(self.services, "backoffice"),
            "reachable: it received this heartbeat",
        )
        return [*devices, backoffice.to_dict()]

    def _paper(self) -> str:
        try:
            return read_paper(self.services)
        except Exception as exc:  # noqa: BLE001
            log.warning("fleet: reading the printer's paper failed: %s", exc)
            return "unknown"

    def _outbox(self) -> dict[str, Any] | None:
        try:
            outbox = read_outbox(self.services)
        except Exception as exc:  # noqa: BLE001
            log.warning("fleet: reading the outbox failed: %s", exc)
            return None
        return {
            "pending": outbox.pending,
            "parked": outbox.parked,
            "oldest_pending_age_s": round(outbox.oldest_pending_age_s, 1),
        }

    def _today(self) -> dict[str, int] | None:
        if self.today is None:
            return None
        try:
            return self.today.counts().to_dict()
        except Exception as exc:  # noqa: BLE001
            log.warning("fleet: today's figures cannot be read: %s", exc)
            return None


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)


def _message(kiosk_mode: KioskMode) -> dict[str, str] | None:
    if kiosk_mode.mode != "out_of_service" or kiosk_mode.out_of_service_message is None:
        return None
    given = kiosk_mode.out_of_service_message
    return {
        lang: nfc(str(given.get(lang, "")).strip())[:MAX_MESSAGE_CHARS] for lang in ("vi", "en")
    }


def with_audit(
    payload: dict[str, Any], entries: list[dict[str, Any]], budget: int = HEARTBEAT_BUDGET_BYTES
) -> dict[str, Any]:
    """``payload`` with as many of ``entries`` (oldest first, none skipped) as fit in
    ``budget`` bytes of compact JSON."""
    base = dict(payload, audit=[])
    size = len(compact_json(base))
    kept: list[dict[str, Any]] = []
    for entry in entries:
        size += len(compact_json(entry)) + (1 if kept else 0)
        if size > budget:
            break
        kept.append(entry)
    base["audit"] = kept
    return base
