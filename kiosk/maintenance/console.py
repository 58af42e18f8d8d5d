"""``MaintenanceConsole``: every action of maintenance mode, audited under who did it.

    console = MaintenanceConsole(services, state, actor=staff_session)   # or a RemoteActor
    console.devices()                    # [DeviceReport]
    console.print_test_page()            # DeviceTest: send, printer's answer
    console.probe_card(timeout_s=10)     # DeviceTest: card found, EF.CardAccess, PACE offered
    console.check_camera()               # CameraCheck: sharpness, page outline, frame
    console.outbox()                     # OutboxView;  send_now(), send_again(reference)
    console.queue()                      # QueueView
    console.export_logs()                # masked log, audit log, status onto a USB stick
    console.reload_catalog()             # the procedures read and checked again
    console.close_kiosk(message) / console.reopen_kiosk()

``actor`` is what signs each audit entry: a ``StaffSession`` (its ``audit`` also counts as the
staff member's activity and refuses once the session has ended) or, for a command the back
office sent, a ``RemoteActor``. The entry is written before the action runs, so an action that
fails or hangs is on record; its outcome follows as a second entry for the tests that take
time. No action raises for a device that fails: the failure is in the returned report, which
is what the technician needs to read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kiosk.delivery.outbox.store import EntryState
from kiosk.errors import KioskError
from kiosk.infra.clock import now_vietnam
from kiosk.infra.text import format_datetime
from kiosk.maintenance.reports import (
    CameraCheck,
    CounterView,
    DeviceReport,
    DeviceTest,
    OutboxView,
    ParkedDossier,
    QueueView,
    StepTiming,
)
from kiosk.staff.service_state import ServiceMessage, ServiceState

if TYPE_CHECKING:
    from kiosk.flow.services import Services

log = logging.getLogger(__name__)

CAMERA_FRAMES = 3  # the last of a few frames: the camera's exposure settles on the first


class NoUsbStick(KioskError):
    """Logs to export, but no stick to take them."""

    msgid = "No USB stick found: plug one into the kiosk and try again."


class Actor(Protocol):
    """Who an action is audited under."""

    def audit(self, action: str, **detail: Any) -> Any: ...


@dataclass
class RemoteActor:
    """A command the operator queued in the back office: audited under ``actor``
    (``operator:backoffice``, as the fleet agent's own entries for the command, which carry its
    id)."""

    append: Callable[[str, str, dict[str, Any]], Any]  # AuditLog.append
    actor: str = "operator:backoffice"

    def audit(self, action: str, **detail: Any) -> Any:
        return self.append(self.actor, action, detail)


class MaintenanceConsole:
    """The actions of maintenance mode over the kiosk's ``Services`` and ``ServiceState``."""

    def __init__(
        self,
        services: Services,
        state: ServiceState,
        *,
        actor: Actor,
        reload_catalog: Callable[[], Any] | None = None,
        log_lines: Callable[[], list[str]] | None = None,
        audit_path: Path | None = None,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        self.services = services
        self.state = state
        self.actor = actor
        self._reload_catalog = reload_catalog
        self._log_lines = log_lines
        self._audit_path = audit_path
        self._clock = clock

    # ------------------------------------------------------------------ devices
    def devices(self) -> list[DeviceReport]:
        """Each device's health, what it is, and the printer's paper: read as the heartbeat
        and the metrics read them (kiosk/fleet/readings.py)."""
        from kiosk.fleet.readings import read_devices

        return [
            DeviceReport(
                reading.name,
                reading.up,
                _driver(getattr(self.services, reading.name)),
                reading.detail,
                self._paper() if reading.name == "printer" else None,
            )
            for reading in read_devices(self.services)
        ]

    def _paper(self) -> str:
        from kiosk.fleet.readings import read_paper

        try:
            return read_paper(self.services)
        except Exception:  # noqa: BLE001 - a report never fails for a silent printer
            return "unknown"

    def print_test_page(self, lang: str = "vi") -> DeviceTest:
        """Print the test page (every text size, Vietnamese letters, a QR) and ask the printer
        how it is afterwards."""
        from kiosk.printing.receipt import test_page_layout

        self.actor.audit("maintenance.test_page")
        printer = self.services.printer
        steps: list[StepTiming] = []
        started = time.perf_counter()
        try:
            blocks = test_page_layout(
                self.services.config.kiosk.id, printer.width_dots, self._clock(), lang=lang
            )
            printer.print_layout(blocks)
            steps.append(StepTiming("print", True, _ms(started)))
        except (KioskError, OSError) as exc:
            steps.append(StepTiming("print", False, _ms(started), _one_line(exc)))
        started = time.perf_counter()
        status = printer.status()
        steps.append(StepTiming("status", status.ready, _ms(started), _one_line(status.detail)))
        result = DeviceTest("printer", tuple(steps))
        self.actor.audit("maintenance.test_page_done", ok=result.ok)
        return result

    def probe_card(self, timeout_s: float = 10.0) -> DeviceTest:
        """Wait for a card, then read what any chip shows without a key: the ATR and the PACE
        variants EF.CardAccess offers. Nothing personal is read."""
        from kiosk.emrtd.reader import probe_card_access

        self.actor.audit("maintenance.card_test")
        reader = self.services.card_reader
        steps: list[StepTiming] = []
        started = time.perf_counter()
        try:
            connection = reader.wait_for_card(timeout_s)
        except (KioskError, OSError) as exc:
            steps.append(StepTiming("card", False, _ms(started), _one_line(exc)))
            return self._card_done(steps)
        try:
            steps.append(StepTiming("card", True, _ms(started), f"ATR {connection.atr().hex()}"))
            started = time.perf_counter()
            try:
                offered = probe_card_access(connection.transmit)
            except (KioskError, OSError) as exc:
                steps.append(StepTiming("card_access", False, _ms(started), _one_line(exc)))
            else:
                detail = ", ".join(offered) if offered else "no EF.CardAccess: BAC only"
                steps.append(StepTiming("card_access", True, _ms(started), detail))
        finally:
            connection.close()
        return self._card_done(steps)

    def _card_done(self, steps: list[StepTiming]) -> DeviceTest:
        result = DeviceTest("card_reader", tuple(steps))
        self.actor.audit("maintenance.card_test_done", ok=result.ok)
        return result

    def check_camera(self) -> CameraCheck | DeviceTest:
        """A few frames from the camera; the last one analysed for the page and its sharpness.
        A camera that cannot give frames answers with a failed ``DeviceTest``."""
        from kiosk.vision.page_finder import find_page
        from kiosk.vision.quality import MIN_SHARPNESS, assess

        self.actor.audit("maintenance.camera_test")
        camera = self.services.camera
        started = time.perf_counter()
        try:
            if not camera.is_open:
                camera.open()
            for _ in range(CAMERA_FRAMES):
                frame = camera.read()
        except (KioskError, OSError) as exc:
            return DeviceTest("camera", (StepTiming("frame", False, _ms(started), str(exc)),))
        detection = find_page(frame)
        quality = assess(frame, detection)
        sharpness = quality.measures.sharpness
        height, width = frame.shape[:2]
        corners = None
        if detection is not None:
            corners = tuple((float(x), float(y)) for x, y in detection.corners)
        return CameraCheck(
            sharpness=sharpness,
            sharp_enough=sharpness is not None and sharpness >= MIN_SHARPNESS,
            corners=corners,
            frame=frame,
            width=int(width),
            height=int(height),
            guidance_msgid=quality.msgid,
        )

    # ------------------------------------------------------------------ outbox and queue
    def outbox(self) -> OutboxView:
        store = self.services.outbox
        status = store.status()
        parked = []
        for entry in store.entries(EntryState.PARKED):
            since = format_datetime(entry.created_at) if entry.created_at else ""
            parked.append(
                ParkedDossier(
                    entry.reference,
                    entry.procedure_code,
                    entry.attempts,
                    entry.last_error_kind or "unknown",
                    since,
                )
            )
        return OutboxView(
            pending=status.pending,
            parked=status.parked,
            delivered=status.delivered,
            oldest_pending_age_s=status.oldest_pending_age_s,
            next_attempt_in_s=status.next_attempt_in_s,
            parked_dossiers=tuple(parked),
            quarantined=tuple(status.quarantined),
        )

    def send_now(self) -> int:
        """Every pending dossier due now: the sender tries them at once. How many."""
        self.actor.audit("maintenance.outbox_send_now")
        return self.services.outbox.make_due()

    def send_again(self, reference: str) -> None:
        """A parked dossier back in the queue (after staff fixed its cause)."""
        self.actor.audit("maintenance.outbox_send_again", reference=reference)
        self.services.outbox.requeue(reference)

    def queue(self) -> QueueView:
        tickets = self.services.tickets
        names = {s.code: s.name_vi for s in self.services.catalog.services()}
        counters = tuple(
            CounterView(c.number, c.name, c.open, c.current.number if c.current else None)
            for c in tickets.counters()
        )
        return QueueView(dict(tickets.waiting_by_service()), names, counters)

    # ------------------------------------------------------------------ the kiosk
    def reload_catalog(self) -> int:
        """Read the procedures again and use them from now on (callers make sure no citizen is
        mid-session: the screens wipe the session first, remote commands wait for an idle
        kiosk). Returns how many there are; a broken catalog raises and the old one stays."""
        self.actor.audit("maintenance.reload_catalog")
        if self._reload_catalog is None:
            raise KioskError("this kiosk cannot reload its catalog while it runs")
        catalog = self._reload_catalog()
        count = len(catalog.procedures())
        self.actor.audit("maintenance.reload_catalog_done", procedures=count)
        return count

    def export_logs(self, target: Path | None = None) -> Path:
        """The recent log (masked), the audit log and the kiosk's status into a new folder on
        ``target`` (default: the USB stick plugged in). ``KioskError`` when there is none."""
        from kiosk.maintenance.export import export_logs, usb_folder

        folder = target if target is not None else usb_folder()
        if folder is None:
            raise NoUsbStick("no USB stick is plugged in (or it is not writable)")
        self.actor.audit("maintenance.export_logs")
        outbox = self.services.outbox.status()
        status = {
            "kiosk": self.services.config.kiosk.id,
            "mode": self.state.summary(),
            "devices": [r.__dict__ for r in self.devices()],
            "outbox": {"pending": outbox.pending, "parked": outbox.parked},
        }
        return export_logs(
            folder,
            kiosk_id=self.services.config.kiosk.id,
            log_lines=self._log_lines() if self._log_lines is not None else [],
            audit_path=self._audit_path or Path("/nonexistent"),
            status=status,
            now=self._clock(),
        )

    def close_kiosk(self, message: ServiceMessage) -> None:
        """Out of service: citizens see ``message`` until staff reopen the kiosk."""
        self.actor.audit("maintenance.out_of_service", preset=message.preset or "typed")
        self.state.close(message)

    def reopen_kiosk(self) -> None:
        self.actor.audit("maintenance.back_in_service")
        self.state.reopen()


def _driver(part: Any) -> str:
    """What the device is: its description when it gives one (a printer's connection), else
    its class (``SimulatedCamera``, ``PcscCardReader``, ``HttpBackOffice``)."""
    return str(getattr(part, "description", "") or type(part).__name__)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _one_line(value: object) -> str:
    return " ".join(str(value).split())[:300]
