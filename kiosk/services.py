"""The kiosk's services built from its config: catalog, back office, stores and devices.

``build_services(cfg)`` is the one place that decides, from config, which implementation stands
behind each interface (a real device or its simulator; the local back-office stand-in or, from
issue 6, the HTTP client). ``Services.close()`` releases them in reverse order.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kiosk.ratings import RatingStore

log = logging.getLogger(__name__)

TIMEZONE = ZoneInfo("Asia/Ho_Chi_Minh")


def now_local() -> datetime:
    """The time in Vietnam, timezone-aware: receipts and dossier codes use the local date."""
    return datetime.now(TIMEZONE)


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


def build_services(cfg: Any) -> Services:
    """Build every service the config asks for; simulated devices are started here."""
    from devices.camera import make_camera
    from devices.card_reader import make_card_reader
    from devices.printer import make_printer
    from kiosk.agencies import load_agencies
    from kiosk.backoffice import LocalBackOffice
    from kiosk.catalog import load_catalog
    from kiosk.chip_service import ChipService, load_trust
    from kiosk.tickets import TicketStore
    from kiosk.workdays import load_holidays

    data_dir: Path = cfg.kiosk.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    closers: list[Any] = []
    catalog = load_catalog(cfg.catalog.procedures_dir)
    agencies = load_agencies(cfg.catalog.agencies_file, catalog)
    holidays = load_holidays(cfg.catalog.holidays_file)
    if cfg.backoffice.url:
        from kiosk.errors import KioskError

        raise KioskError(
            f"{cfg.source}: [backoffice] url: the HTTP back-office client is not built yet "
            "(issue 6); leave it empty to use the local stand-in"
        )
    backoffice = LocalBackOffice(
        db_path=data_dir / "backoffice-standin.sqlite",
        agency_code=cfg.kiosk.agency_code,
        catalog=catalog,
        holidays=holidays,
        attachments_dir=data_dir / "backoffice-attachments",
        clock=now_local,
    )
    _add_closer(closers, backoffice)
    tickets = TicketStore(
        data_dir / "tickets.sqlite", services=[s.code for s in catalog.services()]
    )
    _add_closer(closers, tickets)
    ratings = RatingStore(data_dir / "ratings.sqlite")
    closers.append(ratings.close)

    virtual_printer = None
    port_override = None
    if cfg.printer.mode == "simulated":
        from devices.simulated.escpos_printer import VirtualEscposPrinter
        from kiosk.receipt import dots_for_width_mm

        out_dir = cfg.printer.out_dir or data_dir / "printer"
        virtual_printer = VirtualEscposPrinter(
            host=cfg.printer.host,
            port=cfg.printer.port,
            out_dir=out_dir,
            width_dots=dots_for_width_mm(cfg.printer.width_mm),
        )
        virtual_printer.start()
        closers.append(virtual_printer.stop)
        port_override = virtual_printer.port
    printer = make_printer(cfg.printer, port_override=port_override)
    closers.append(printer.close)
    camera = make_camera(cfg.camera)
    closers.append(camera.close)
    card_reader = make_card_reader(cfg.card_reader)
    alerts = StaffAlerts(data_dir / "alerts.jsonl")
    chip = ChipService(
        card_reader,
        load_trust(cfg.card_reader),
        untrusted_signer=cfg.card_reader.untrusted_signer,
        alert=lambda message: alerts.raise_alert(cfg.kiosk.id, message),
    )

    return Services(
        config=cfg,
        catalog=catalog,
        holidays=holidays,
        backoffice=backoffice,
        tickets=tickets,
        ratings=ratings,
        printer=printer,
        camera=camera,
        card_reader=card_reader,
        alerts=alerts,
        agencies=agencies,
        chip=chip,
        virtual_printer=virtual_printer,
        _closers=closers,
    )


def _add_closer(closers: list[Any], obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        closers.append(close)
