"""The kiosk's services built from its config: catalog, back office, stores and devices.

``build_services(cfg)`` is the one place that decides, from config, which implementation stands
behind each interface (a real device or its simulator; the embedded reference back office or
the HTTP client) and fills the flow's ``Services`` (kiosk/flow/services.py) with them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kiosk.flow.services import Services, StaffAlerts
from kiosk.session.ratings import RatingStore

log = logging.getLogger(__name__)


def simulated_cscas(reader_settings: Any) -> list[Any]:
    """The simulator's TEST CSCA, trusted only while the reader is the simulated one."""
    if reader_settings.mode != "simulated":
        return []
    from devices.simulated.test_pki import TestPKI

    return [TestPKI.load_or_create(reader_settings.test_pki_dir).csca_cert]


def build_services(cfg: Any) -> Services:
    """Build every service the config asks for; simulated devices are started here."""
    from devices.factory import make_camera, make_card_reader, make_printer
    from kiosk.catalog.agencies import load_agencies
    from kiosk.catalog.procedures import load_catalog
    from kiosk.delivery.outbox.sender import OutboxSender
    from kiosk.dossier.workdays import load_holidays
    from kiosk.identity.chip_service import ChipService
    from kiosk.identity.trust import load_trust
    from kiosk.tickets.config import load_queue_config, queue_config_path
    from kiosk.tickets.store import TicketStore

    data_dir: Path = cfg.kiosk.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    closers: list[Any] = []
    catalog = load_catalog(cfg.catalog.procedures_dir)
    agencies = load_agencies(cfg.catalog.agencies_file, catalog)
    holidays = load_holidays(cfg.catalog.holidays_file)
    alerts = StaffAlerts(data_dir / "alerts.jsonl")

    def alert(message: str) -> None:
        alerts.raise_alert(cfg.kiosk.id, message)

    backoffice, link = open_backoffice(cfg)
    closers.append(link.close)
    outbox = open_outbox(cfg, alert)
    closers.append(outbox.close)
    sender = OutboxSender(
        outbox,
        link.new_client(),
        base_delay_s=cfg.outbox.retry_base_s,
        max_delay_s=cfg.outbox.retry_cap_s,
        spool_dir=data_dir / "outbox-spool",
    )
    sender.start()
    closers.append(sender.stop)
    codes = [s.code for s in catalog.services()]
    tickets = TicketStore(
        data_dir / "tickets.sqlite",
        services=codes,
        config=load_queue_config(queue_config_path(cfg), known_services=codes),
        alert=alert,
    )
    _add_closer(closers, tickets)
    ratings = RatingStore(data_dir / "ratings.sqlite")
    closers.append(ratings.close)

    virtual_printer = None
    port_override = None
    if cfg.printer.mode == "simulated":
        from devices.printer.blocks import dots_for_width_mm
        from devices.simulated.escpos_printer import VirtualEscposPrinter

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
    chip = ChipService(
        card_reader,
        load_trust(
            cfg.card_reader.trust_dir,
            cfg.card_reader.master_list,
            extra_cscas=simulated_cscas(cfg.card_reader),
        ),
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
        outbox=outbox,
        sender=sender,
        chip=chip,
        virtual_printer=virtual_printer,
        _closers=closers,
    )


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
        self._clients: list[Any] = []

    def new_client(self) -> Any:
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
    import os
    import secrets

    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secret)
        return secret


def open_backoffice(cfg: Any) -> tuple[Any, BackOfficeLink]:
    """The kiosk's back-office client and its link: the configured URL with this kiosk's
    credential, or (no URL) the reference back office started on loopback with the demo
    citizen's papers on file, trusting the simulated cards' TEST CSCA only in simulated mode."""
    if cfg.backoffice.url:
        link = BackOfficeLink(cfg.backoffice.url, cfg.kiosk.id, cfg.backoffice.token, cfg)
        return link.new_client(), link
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
    link = BackOfficeLink(url, cfg.kiosk.id, secret, cfg, server)
    return link.new_client(), link


def open_outbox(cfg: Any, alert: Any) -> Any:
    """The kiosk's outbox, its key from config, the environment or its key file."""
    import os

    from kiosk.delivery.outbox.store import ENV_KEY, Outbox, load_outbox_key

    data_dir = Path(cfg.kiosk.data_dir)
    env = {ENV_KEY: cfg.outbox.key or os.environ.get(ENV_KEY, "")}
    key = load_outbox_key(env, cfg.outbox.key_file or data_dir / "outbox.key")
    return Outbox(
        data_dir / "outbox.sqlite",
        key,
        cfg.kiosk.id,
        alert=alert,
        max_bytes=cfg.outbox.max_mb * 1024 * 1024,
        purge_after_hours=cfg.outbox.purge_after_hours,
        keep_codes_days=cfg.outbox.keep_codes_days,
    )


def _add_closer(closers: list[Any], obj: Any) -> None:
    close = getattr(obj, "close", None)
    if callable(close):
        closers.append(close)
