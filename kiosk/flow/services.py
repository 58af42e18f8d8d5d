"""What the flow works with: ``Services``, built by the composition root (kiosk/app/services.py).

``Services`` holds the catalog, the back office, the stores and the devices, already built;
``close()`` releases them in reverse order. Each part is typed by what the flow asks of it: the
devices by their interfaces (devices/*/interface.py), the back office by ``BackOffice``
(kiosk/delivery/backoffice.py), and the outbox, the ticket store, the chip and the simulated
printer's paper by the Protocols below, so a test can stand any of them in with a scripted
fake. ``StaffAlerts`` keeps what staff must see (a printer out of paper, a device gone).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from kiosk.infra.clock import now_vietnam
from kiosk.session.ratings import RatingStore
from kiosk.staff.service_state import ServiceState

if TYPE_CHECKING:  # types only: the kiosk's start does not import these modules for them
    from devices.base import Health
    from devices.camera.interface import Camera
    from devices.card_reader.interface import CardReader
    from devices.printer.interface import ReceiptPrinter
    from kiosk.catalog.agencies import Agencies
    from kiosk.catalog.procedures import Catalog
    from kiosk.config.settings import KioskConfig
    from kiosk.delivery.backoffice import BackOffice
    from kiosk.delivery.outbox.sender import OutboxSender
    from kiosk.delivery.outbox.store import EntryState, OutboxEntry, OutboxStatus
    from kiosk.dossier.model import DossierSubmission
    from kiosk.dossier.workdays import HolidayCalendar
    from kiosk.identity.chip_service import ChipOutcome, Progress
    from kiosk.tickets.store import CounterState, Ticket

log = logging.getLogger(__name__)


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
            {"at": now_vietnam().isoformat(), "kiosk": kiosk_id, "message": message},
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


class Outbox(Protocol):
    """The durable outbox as the flow uses it (kiosk/delivery/outbox/store.py)."""

    def put(self, submission: DossierSubmission) -> OutboxEntry: ...

    def wait_delivered(self, reference: str, timeout: float) -> OutboxEntry | None: ...

    def find(self, reference: str) -> OutboxEntry | None: ...

    def purge_delivered(self, entry_id: int) -> bool: ...

    # maintenance mode and monitoring (kiosk/maintenance, kiosk/telemetry)
    def status(self) -> OutboxStatus: ...

    def entries(self, state: EntryState | None = None) -> list[OutboxEntry]: ...

    def make_due(self) -> int: ...

    def requeue(self, reference: str) -> OutboxEntry: ...


class TicketStore(Protocol):
    """The queue's store as the flow uses it (kiosk/tickets/store.py)."""

    def issue(
        self, service_code: str, priority_class: str | None = None, *, from_chip: bool = False
    ) -> Ticket: ...

    def waiting_by_service(self) -> dict[str, int]: ...

    def estimate(self, service_code: str, priority: bool = False) -> tuple[int, int | None]: ...

    def counters(self) -> list[CounterState]: ...


class ChipReader(Protocol):
    """Reading the citizen's card for a session (kiosk/identity/chip_service.py)."""

    def read(
        self,
        id_number: str,
        progress: Progress | None = None,
        *,
        timeout_s: float | None = None,
        mrz_key: str | None = None,
        aa_challenge: bytes | None = None,
        check: Callable[[], None] | None = None,
    ) -> ChipOutcome: ...


#: What the simulated printer's paper can be set to.
SimulatedPaper = Literal["ok", "near_end", "out"]


class PaperControl(Protocol):
    """The simulated printer's paper, which screenshots and demos set (devices/simulated/)."""

    def set_paper(self, state: SimulatedPaper) -> None: ...


@dataclass
class Services:
    """Everything the flow needs, already built."""

    config: KioskConfig
    catalog: Catalog
    holidays: HolidayCalendar
    backoffice: BackOffice
    tickets: TicketStore
    ratings: RatingStore
    printer: ReceiptPrinter
    camera: Camera
    card_reader: CardReader
    alerts: StaffAlerts
    agencies: Agencies
    outbox: Outbox
    sender: OutboxSender
    chip: ChipReader
    virtual_printer: PaperControl | None = None
    service_state: ServiceState = field(default_factory=lambda: ServiceState(None))
    _closers: list[Any] = field(default_factory=list)

    def alert_staff(self, message: str) -> None:
        self.alerts.raise_alert(self.config.kiosk.id, message)

    def health(self) -> list[Health]:
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
