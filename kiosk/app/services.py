"""The composition root: every part of the kiosk built from its config, in one place.

``KioskParts(cfg)`` decides, from config, which implementation stands behind each interface (a
real device or its simulator; the embedded reference back office or the HTTP client) and builds
each part on first use, once, remembering how to close it. ``kiosk run`` asks it for the whole
``Services`` (kiosk/flow/services.py) the flow works with; each CLI command asks it for only the
parts it needs (``kiosk queue`` the ticket store, ``kiosk outbox`` the outbox and a sender,
``kiosk chip read`` the card reader and the trust store, ``kiosk printer`` the printer), so a
command and the running kiosk open the same files the same way. Its ``metrics`` (Prometheus,
kiosk/telemetry/) read the ``Services`` it builds; ``services(serve_metrics=True)`` (``kiosk
run``) also serves them on ``[telemetry] metrics_port``, closed with the services.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from kiosk.flow.services import Services, StaffAlerts
from kiosk.session.ratings import RatingStore

if TYPE_CHECKING:  # types only: each part's module is imported when the part is built
    from devices.camera.interface import Camera
    from devices.card_reader.interface import CardReader
    from devices.printer.interface import ReceiptPrinter
    from devices.simulated.escpos_printer import VirtualEscposPrinter
    from kiosk.catalog.agencies import Agencies
    from kiosk.catalog.procedures import Catalog
    from kiosk.config.settings import KioskConfig
    from kiosk.delivery.backoffice import BackOffice
    from kiosk.delivery.http_client import HttpBackOffice
    from kiosk.delivery.outbox.sender import OutboxSender
    from kiosk.delivery.outbox.store import Outbox
    from kiosk.dossier.workdays import HolidayCalendar
    from kiosk.emrtd.passive_auth import TrustStore
    from kiosk.fleet.agent import FleetAgent
    from kiosk.fleet.commands import Handler
    from kiosk.flow.events import Events
    from kiosk.identity.chip_service import ChipService
    from kiosk.maintenance.mode import MaintenanceMode
    from kiosk.staff.desk import StaffDesk
    from kiosk.staff.service_state import ServiceState
    from kiosk.telemetry.metrics import KioskMetrics
    from kiosk.telemetry.server import MetricsServer
    from kiosk.tickets.config import QueueConfig
    from kiosk.tickets.store import TicketStore

log = logging.getLogger(__name__)

T = TypeVar("T")


def build_services(cfg: KioskConfig) -> Services:
    """Every service the config asks for, simulated devices started: what ``kiosk run`` uses."""
    return KioskParts(cfg).services()


class KioskParts:
    """The kiosk's parts built from one config, each on first use; ``close()`` releases what was
    built, in reverse order. Use as a context manager in CLI commands."""

    def __init__(self, cfg: KioskConfig) -> None:
        self.cfg = cfg
        self._built: dict[str, Any] = {}
        self._closers: list[Callable[[], None]] = []

    def __enter__(self) -> KioskParts:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # noqa: BLE001
                log.exception("while closing the kiosk's parts")
        self._closers.clear()
        self._built.clear()

    def _part(self, name: str, build: Callable[[], T]) -> T:
        if name not in self._built:
            self._built[name] = build()
        part: T = self._built[name]
        return part

    def _closing(self, obj: T, close: Callable[[], None] | None = None) -> T:
        closer = close or getattr(obj, "close", None)
        if callable(closer):
            self._closers.append(closer)
        return obj

    @property
    def data_dir(self) -> Path:
        path = Path(self.cfg.kiosk.data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ files the kiosk reads
    @property
    def catalog(self) -> Catalog:
        from kiosk.catalog.procedures import load_catalog

        return self._part("catalog", lambda: load_catalog(self.cfg.catalog.procedures_dir))

    @property
    def agencies(self) -> Agencies:
        from kiosk.catalog.agencies import load_agencies

        return self._part(
            "agencies", lambda: load_agencies(self.cfg.catalog.agencies_file, self.catalog)
        )

    @property
    def holidays(self) -> HolidayCalendar:
        from kiosk.dossier.workdays import load_holidays

        return self._part("holidays", lambda: load_holidays(self.cfg.catalog.holidays_file))

    @property
    def queue_config(self) -> QueueConfig:
        from kiosk.tickets.config import load_queue_config, queue_config_path

        codes = [s.code for s in self.catalog.services()]
        return self._part(
            "queue_config",
            lambda: load_queue_config(queue_config_path(self.cfg), known_services=codes),
        )

    # ------------------------------------------------------------------ stores
    @property
    def alerts(self) -> StaffAlerts:
        return self._part("alerts", lambda: StaffAlerts(self.data_dir / "alerts.jsonl"))

    def alert(self, message: str) -> None:
        """Tell staff, naming this kiosk."""
        self.alerts.raise_alert(self.cfg.kiosk.id, message)

    @property
    def outbox(self) -> Outbox:
        """The kiosk's outbox, its key from config, the environment or its key file."""
        from kiosk.delivery.outbox.store import ENV_KEY, Outbox, load_outbox_key

        def build() -> Outbox:
            cfg = self.cfg
            env = {ENV_KEY: cfg.outbox.key or os.environ.get(ENV_KEY, "")}
            key = load_outbox_key(env, cfg.outbox.key_file or self.data_dir / "outbox.key")
            outbox = Outbox(
                self.data_dir / "outbox.sqlite",
                key,
                cfg.kiosk.id,
                alert=self.alert,
                max_bytes=cfg.outbox.max_mb * 1024 * 1024,
                purge_after_hours=cfg.outbox.purge_after_hours,
                keep_codes_days=cfg.outbox.keep_codes_days,
            )
            return self._closing(outbox)

        return self._part("outbox", build)

    @property
    def tickets(self) -> TicketStore:
        from kiosk.tickets.store import TicketStore

        def build() -> TicketStore:
            store = TicketStore(
                self.data_dir / "tickets.sqlite",
                services=[s.code for s in self.catalog.services()],
                config=self.queue_config,
                alert=self.alert,
            )
            return self._closing(store)

        return self._part("tickets", build)

    @property
    def ratings(self) -> RatingStore:
        return self._part(
            "ratings", lambda: self._closing(RatingStore(self.data_dir / "ratings.sqlite"))
        )

    # ------------------------------------------------------------------ back office
    @property
    def backoffice_link(self) -> BackOfficeLink:
        """Where the back office is: the configured URL with this kiosk's credential, or (no
        URL) the reference back office started on loopback with the demo citizen's papers on
        file, trusting the simulated cards' TEST CSCA only in simulated mode."""
        return self._part("backoffice_link", lambda: self._closing(_link_to_backoffice(self.cfg)))

    @property
    def backoffice(self) -> BackOffice:
        """The flow's client of the back office (look-ups, papers on file)."""
        return self._part("backoffice", self.backoffice_link.new_client)

    def sender(self, *, start: bool) -> OutboxSender:
        """The outbox's sender with a client of its own; started in the background if asked
        (the running kiosk), else driven by ``flush`` (the CLI)."""
        from kiosk.delivery.outbox.sender import OutboxSender

        def build() -> OutboxSender:
            cfg = self.cfg
            sender = OutboxSender(
                self.outbox,
                self.backoffice_link.new_client(),
                base_delay_s=cfg.outbox.retry_base_s,
                max_delay_s=cfg.outbox.retry_cap_s,
                spool_dir=self.data_dir / "outbox-spool",
            )
            if start:
                sender.start()
                self._closers.append(lambda: _stop(sender))
            return sender

        return self._part("sender", build)

    # ------------------------------------------------------------------ devices
    @property
    def virtual_printer(self) -> VirtualEscposPrinter | None:
        """The simulated printer's loopback ESC/POS server (mode "simulated"), else None."""

        def build() -> VirtualEscposPrinter | None:
            settings = self.cfg.printer
            if settings.mode != "simulated":
                return None
            from devices.printer.blocks import dots_for_width_mm
            from devices.simulated.escpos_printer import VirtualEscposPrinter

            virtual = VirtualEscposPrinter(
                host=settings.host,
                port=settings.port,
                out_dir=settings.out_dir or self.data_dir / "printer",
                width_dots=dots_for_width_mm(settings.width_mm),
            )
            virtual.start()
            return self._closing(virtual, virtual.stop)

        return self._part("virtual_printer", build)

    @property
    def printer(self) -> ReceiptPrinter:
        """The receipt printer; in simulated mode the driver prints into ``virtual_printer``."""
        from devices.factory import make_printer

        def build() -> ReceiptPrinter:
            virtual = self.virtual_printer
            port = virtual.port if virtual is not None else None
            return self._closing(make_printer(self.cfg.printer, port_override=port))

        return self._part("printer", build)

    def printer_driver(self) -> ReceiptPrinter:
        """The printer's driver as configured, without starting a simulated printer: the CLI
        talks to the one a running kiosk (or ``kiosk printer simulate``) serves."""
        from devices.factory import make_printer

        return self._part("printer_driver", lambda: make_printer(self.cfg.printer))

    @property
    def camera(self) -> Camera:
        from devices.factory import make_camera

        return self._part("camera", lambda: self._closing(make_camera(self.cfg.camera)))

    @property
    def card_reader(self) -> CardReader:
        from devices.factory import make_card_reader

        return self._part("card_reader", lambda: make_card_reader(self.cfg.card_reader))

    @property
    def trust(self) -> TrustStore:
        """The CSCAs chips are checked against; the simulator's TEST CSCA only with the
        simulated reader, never for a card on a PC/SC reader."""
        from kiosk.identity.trust import load_trust

        settings = self.cfg.card_reader
        return self._part(
            "trust",
            lambda: load_trust(
                settings.trust_dir, settings.master_list, extra_cscas=simulated_cscas(settings)
            ),
        )

    @property
    def chip(self) -> ChipService:
        from kiosk.identity.chip_service import ChipService

        return self._part(
            "chip",
            lambda: ChipService(
                self.card_reader,
                self.trust,
                untrusted_signer=self.cfg.card_reader.untrusted_signer,
                alert=self.alert,
            ),
        )

    # ------------------------------------------------------------------ staff
    @property
    def service_state(self) -> ServiceState:
        """In service, in maintenance or out of service (kept in the data folder)."""
        from kiosk.staff.service_state import ServiceState

        return self._part("service_state", lambda: ServiceState(self.data_dir))

    @property
    def staff_desk(self) -> StaffDesk:
        """Staff sign-in: accounts, the PIN pad's lock-out, the audit log."""
        from kiosk.staff.desk import StaffDesk

        return self._part(
            "staff_desk",
            lambda: StaffDesk(
                self.data_dir,
                kiosk_id=self.cfg.kiosk.id,
                session_timeout_s=self.cfg.staff.session_timeout_s,
            ),
        )

    def reload_catalog(self, services: Services) -> Catalog:
        """The procedures read and checked again and put in ``services`` for the next citizen;
        a broken catalog raises and the one in use stays."""
        from kiosk.catalog.procedures import load_catalog

        catalog = load_catalog(self.cfg.catalog.procedures_dir)
        services.catalog = catalog
        log.info("catalog reloaded: %d procedures", len(catalog))
        return catalog

    def maintenance_mode(
        self, services: Services, log_lines: Callable[[], list[str]] | None = None
    ) -> MaintenanceMode:
        """Maintenance mode over ``services`` (built by ``services()``); ``log_lines`` gives
        the recent log for staff to export."""
        from kiosk.maintenance.mode import MaintenanceMode

        return MaintenanceMode(
            self.staff_desk,
            services.service_state,
            services,
            reload_catalog=lambda: self.reload_catalog(services),
            log_lines=log_lines,
        )

    def fleet_agent(
        self, services: Services, handlers: Mapping[str, Handler], events: Events | None = None
    ) -> FleetAgent | None:
        """Heartbeats to the back office every ``[fleet] heartbeat_s`` and its commands run by
        ``handlers``; started, and stopped first when ``services`` close. None when off (0)."""
        from kiosk.fleet.agent import build_fleet_agent
        from kiosk.fleet.status import mode_of

        interval = self.cfg.fleet.heartbeat_s
        if interval <= 0:
            return None
        agent = build_fleet_agent(
            services,
            self.backoffice_link.new_client(),
            handlers,
            data_dir=self.data_dir,
            interval_s=interval,
            mode=mode_of(services.service_state),
            events=events,
            audit_log=self.staff_desk.audit_log,
        )
        agent.start()
        services._closers.append(agent.stop)  # closers run in reverse: the agent stops first
        return agent

    # ------------------------------------------------------------------ telemetry
    @property
    def metrics(self) -> KioskMetrics:
        """The kiosk's Prometheus metrics, in a registry of their own."""
        from kiosk.telemetry.metrics import KioskMetrics

        return self._part("metrics", lambda: KioskMetrics(self.cfg.kiosk.id))

    def metrics_server(self) -> MetricsServer | None:
        """``metrics`` served on ``[telemetry] metrics_host:metrics_port``; None when the port
        is 0 (off) or cannot be had (a warning in the log: the kiosk goes on without it)."""
        from kiosk.telemetry.server import serve_metrics

        def build() -> MetricsServer | None:
            settings = self.cfg.telemetry
            server = serve_metrics(
                self.metrics.registry, settings.metrics_host, settings.metrics_port
            )
            return None if server is None else self._closing(server, server.stop)

        return self._part("metrics_server", build)

    # ------------------------------------------------------------------ the whole kiosk
    def services(self, *, serve_metrics: bool = False) -> Services:
        """Everything the flow works with; the returned ``Services`` owns closing it all.
        ``metrics`` read it from now on; with ``serve_metrics`` (``kiosk run``) they are
        served too, until the services close."""
        services = Services(
            config=self.cfg,
            catalog=self.catalog,
            holidays=self.holidays,
            backoffice=self.backoffice,
            tickets=self.tickets,
            ratings=self.ratings,
            virtual_printer=self.virtual_printer,
            printer=self.printer,
            camera=self.camera,
            card_reader=self.card_reader,
            alerts=self.alerts,
            agencies=self.agencies,
            outbox=self.outbox,
            sender=self.sender(start=True),
            chip=self.chip,
            service_state=self.service_state,
        )
        metrics = self.metrics
        metrics.read_from(services)
        metrics.follow(services.service_state)
        if serve_metrics:
            self.metrics_server()
        services._closers = self._closers
        self._closers = []
        # Kept for what is built over the services afterwards (maintenance mode, the fleet
        # agent's own client of the same back office); closed with the services.
        kept: dict[str, Any] = {
            k: self._built[k] for k in ("staff_desk", "backoffice_link") if k in self._built
        }
        self._built.clear()
        self._built["metrics"] = metrics  # nothing to close: it stays, reading these services
        self._built.update(kept)
        return services


def _stop(sender: OutboxSender) -> None:
    sender.stop()


def simulated_cscas(reader_settings: Any) -> list[Any]:
    """The simulator's TEST CSCA, trusted only while the reader is the simulated one."""
    if reader_settings.mode != "simulated":
        return []
    from devices.simulated.test_pki import TestPKI

    return [TestPKI.load_or_create(reader_settings.test_pki_dir).csca_cert]


class BackOfficeLink:
    """Where the kiosk's back office is: a configured URL, or the reference back office run
    on loopback for the simulated kiosk (demo mode). ``new_client()`` gives another client of
    the same back office (the outbox's sender has its own)."""

    def __init__(self, url: str, kiosk_id: str, secret: str, cfg: Any, server: Any = None):
        self.url = url
        self.kiosk_id = kiosk_id
        self._secret = secret
        self._cfg = cfg
        self.server = server
        self._clients: list[HttpBackOffice] = []

    def new_client(self) -> HttpBackOffice:
        from kiosk.delivery.http_client import HttpBackOffice

        client = HttpBackOffice(
            self.url,
            self.kiosk_id,
            self._secret,
            self._cfg.backoffice.timeout_s,
            self._cfg.backoffice.ca_file if self.server is None else None,
        )
        self._clients.append(client)
        return client

    def close(self) -> None:
        for client in self._clients:
            client.close()
        self._clients.clear()
        if self.server is not None:
            self.server.stop()
            self.server = None


def demo_secret(path: Path) -> str:
    """The simulated kiosk's credential with its local back office, kept across restarts (so
    the CLI and the running kiosk agree), created on first use with mode 0600."""
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret)
        return secret


def _link_to_backoffice(cfg: Any) -> BackOfficeLink:
    if cfg.backoffice.url:
        return BackOfficeLink(cfg.backoffice.url, cfg.kiosk.id, cfg.backoffice.token, cfg)
    from backoffice.demo import seed_demo
    from backoffice.embedded import EmbeddedBackOffice
    from backoffice.settings import Settings

    data_dir = Path(cfg.kiosk.data_dir)
    simulated = cfg.card_reader.mode == "simulated"
    settings = Settings.for_folder(
        data_dir / "backoffice",
        test_pki_dir=cfg.card_reader.test_pki_dir,
        allow_test_csca=simulated,
        agency_code=cfg.kiosk.agency_code,
        procedures_dir=cfg.catalog.procedures_dir,
        holidays_file=cfg.catalog.holidays_file,
    )
    server = EmbeddedBackOffice(settings)
    url = server.start()
    secret = cfg.backoffice.token or demo_secret(data_dir / "backoffice" / "kiosk-secret")
    server.ensure_kiosk(cfg.kiosk.id, secret)
    if simulated:
        seed_demo(server.context)
    return BackOfficeLink(url, cfg.kiosk.id, secret, cfg, server)
