"""Test helper: a kiosk with simulated devices and its fleet agent, talking to a real back
office (support/backoffice_server.py) over loopback, and the staff side of that back office.

    kiosk = FleetKiosk(server, tmp_path, handlers={"print-test-page": ...})
    kiosk.agent.beat()                       # one heartbeat and its commands, on this thread
    queue(server, "KIOSK-01", "restart")     # as staff do from the fleet page
    command_row(server, cid)                 # what the back office recorded for it

The agent's files (``fleet/``) and the audit log are in ``data_dir``; a second ``FleetKiosk``
on the same folder is the same kiosk after a restart.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from support.backoffice_server import STAFF_TOKEN, BackofficeServer

from kiosk.app.services import KioskParts
from kiosk.config.settings import load_config
from kiosk.delivery.http_client import HttpBackOffice
from kiosk.fleet.agent import FleetAgent, build_fleet_agent
from kiosk.fleet.commands import CommandResult
from kiosk.fleet.status import mode_of
from kiosk.flow.events import Events
from kiosk.staff.audit import AuditLog

KIOSK = "KIOSK-01"
OTHER = "KIOSK-02"
STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}

Handler = Callable[[dict[str, Any]], "str | CommandResult"]


def start_server(folder: Path) -> BackofficeServer:
    """The reference back office with two kiosks registered (``server.secrets``)."""
    server = BackofficeServer(folder)
    server.secrets = {k: server.add_kiosk(k) for k in (KIOSK, OTHER)}  # type: ignore[attr-defined]
    server.start()
    return server


_registered = itertools.count(1)


def register_kiosk(server: BackofficeServer) -> str:
    """Another kiosk of its own (each test's kiosk starts its own audit chain)."""
    kiosk_id = f"KIOSK-T{next(_registered):03d}"
    server.secrets[kiosk_id] = server.add_kiosk(kiosk_id)  # type: ignore[attr-defined]
    return kiosk_id


class FleetKiosk:
    """A kiosk's parts (simulated devices, the outbox, the stores) and its fleet agent."""

    def __init__(
        self,
        server: BackofficeServer,
        data_dir: Path,
        *,
        kiosk_id: str = KIOSK,
        handlers: Mapping[str, Handler] | None = None,
        url: str | None = None,
        secret: str | None = None,
        interval_s: float = 60.0,
        max_backoff_s: float = 600.0,
        timeout_s: float = 5.0,
    ) -> None:
        own_secret = server.secrets[kiosk_id]  # type: ignore[attr-defined]
        secret = secret or own_secret
        self.kiosk_id = kiosk_id
        self.data_dir = Path(data_dir)
        env = {
            "KIOSK_KIOSK_ID": kiosk_id,
            "KIOSK_KIOSK_DATA_DIR": str(self.data_dir),
            "KIOSK_KIOSK_FULLSCREEN": "false",
            "KIOSK_PRINTER_PORT": "0",
            "KIOSK_PRINTER_HOST": "127.0.0.1",
            "KIOSK_BACKOFFICE_URL": server.url,
            "KIOSK_BACKOFFICE_TOKEN": own_secret,
            "KIOSK_OUTBOX_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        }
        self.config = load_config(None, env=env)
        self.services = KioskParts(self.config).services()
        self.events = Events()
        self.client = HttpBackOffice(url or server.url, kiosk_id, secret, timeout_s=timeout_s)
        self.audit_log = AuditLog.in_data_dir(self.data_dir, kiosk_id=kiosk_id)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.agent: FleetAgent = build_fleet_agent(
            self.services,
            self.client,
            handlers if handlers is not None else self.recording_handlers(),
            data_dir=self.data_dir,
            interval_s=interval_s,
            mode=mode_of(self.services.service_state),
            events=self.events,
            audit_log=self.audit_log,
            max_backoff_s=max_backoff_s,
        )

    def recording_handlers(self, *names: str) -> dict[str, Handler]:
        """Handlers that record their call and answer "done <name>"."""

        def handler_for(name: str) -> Handler:
            def handle(args: dict[str, Any]) -> str:
                self.calls.append((name, args))
                return f"done {name}"

            return handle

        known = names or ("print-test-page", "reload-catalog", "restart", "back-in-service")
        return {name: handler_for(name) for name in known}

    def close(self) -> None:
        self.agent.stop()
        self.client.close()
        self.services.close()


def queue(server: BackofficeServer, kiosk_id: str, command: str, **args: str) -> dict[str, Any]:
    """Queue a command as staff do (the staff API)."""
    answer = requests.post(
        f"{server.url}/api/v1/kiosks/{kiosk_id}/commands",
        json={"command": command, "args": args},
        headers=STAFF,
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def command_row(server: BackofficeServer, command_id: int) -> dict[str, Any]:
    """The back office's record of one command (acknowledged or not)."""
    from backoffice.fleet import recent_commands

    ctx = server.context()
    try:
        rows = recent_commands(ctx, limit=1000)
    finally:
        ctx.close()
    return next(r for r in rows if r["id"] == command_id)


def kiosk_row(server: BackofficeServer, kiosk_id: str = KIOSK) -> dict[str, Any]:
    """What the staff API says of one kiosk."""
    kiosks = requests.get(f"{server.url}/api/v1/kiosks", headers=STAFF, timeout=10).json()
    row: dict[str, Any] = next(k for k in kiosks if k["id"] == kiosk_id)
    return row


def heartbeats_stored(server: BackofficeServer, kiosk_id: str = KIOSK) -> int:
    from sqlalchemy import func, select

    from backoffice.db import Heartbeat

    ctx = server.context()
    try:
        with ctx.session() as session:
            count = session.scalar(
                select(func.count()).select_from(Heartbeat).where(Heartbeat.kiosk_id == kiosk_id)
            )
    finally:
        ctx.close()
    return int(count or 0)
