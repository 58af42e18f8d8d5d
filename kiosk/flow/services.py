"""What the flow works with: ``Services``, built by the composition root (kiosk/app/services.py).

``Services`` holds the catalog, the back office, the stores and the devices, already built;
``close()`` releases them in reverse order. ``StaffAlerts`` keeps what staff must see (a printer
out of paper, a device gone). ``now_local()`` is the local time receipts and codes use.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.infra.clock import now_vietnam
from kiosk.session.ratings import RatingStore

log = logging.getLogger(__name__)


def now_local() -> datetime:
    """The time in Vietnam, timezone-aware: receipts and dossier codes use the local date."""
    return now_vietnam()


class StaffAlerts:
    """Alerts for staff (printer out of paper, device gone): logged and kept as JSON lines.

    The fleet-monitoring issue forwards them to the back office; until then staff see them in
    ``<data_dir>/alerts.jsonl`` and the log.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def raise_alert(self, kiosk_id: str, message: str) -> None:
        log.error("STAFF ALERT %s: %s", kiosk_id, message)
        line = json.dumps(
            {"at": now_local().isoformat(), "kiosk": kiosk_id, "message": message},
            ensure_ascii=False,
        )
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def recent(self, n: int = 20) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-n:]
        return [json.loads(line) for line in lines]


@dataclass
class Services:
    """Everything the flow needs, already built."""

    config: Any
    catalog: Any
    holidays: Any
    backoffice: Any
    tickets: Any
    ratings: RatingStore
    printer: Any
    camera: Any
    card_reader: Any
    alerts: StaffAlerts
    agencies: Any = None
    outbox: Any = None
    sender: Any = None
    chip: Any = None
    virtual_printer: Any = None
    _closers: list[Any] = field(default_factory=list)

    def alert_staff(self, message: str) -> None:
        self.alerts.raise_alert(self.config.kiosk.id, message)

    def health(self) -> list[Any]:
        """Health of every device and of the back office, for ``kiosk doctor``."""
        reports = []
        for part in (self.card_reader, self.camera, self.printer, self.backoffice):
            try:
                reports.append(part.health())
            except Exception as exc:  # noqa: BLE001 - a health check must never crash doctor
                from devices.base import Health

                reports.append(Health(type(part).__name__, False, f"health check failed: {exc}"))
        return reports

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # noqa: BLE001
                log.exception("while closing services")
        self._closers.clear()
