"""The reference back office in a background thread on loopback: the kiosk's demo mode.

``kiosk run`` with no back office configured can start one for the simulated kiosk::

    server = EmbeddedBackOffice(Settings.for_folder(data_dir / "backoffice"))
    url = server.start()                       # http://127.0.0.1:<free port>
    secret = server.ensure_kiosk("KIOSK-01")   # registers the kiosk, returns its secret
    backoffice = HttpBackOffice(url, "KIOSK-01", secret, timeout_s=10)
    ...
    server.stop()

The port is bound before the thread starts (no race for it); ``stop`` waits for the server to
finish its requests and closes the database.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

from backoffice.app import create_app
from backoffice.context import Context
from backoffice.settings import Settings
from kiosk.errors import KioskError


class EmbeddedBackOffice:
    """``create_app(settings)`` served by uvicorn in a daemon thread."""

    def __init__(self, settings: Settings, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = settings
        self.host = host
        self.port = port
        self.context = Context.open(settings)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ensure_kiosk(self, kiosk_id: str, secret: str | None = None) -> str:
        """Register ``kiosk_id`` with ``secret`` (or a new one); the secret."""
        from backoffice import fleet

        if secret is None:
            return fleet.add_kiosk(self.context, kiosk_id, rotate=True)
        fleet.set_kiosk_secret(self.context, kiosk_id, secret)
        return secret

    def start(self, timeout_s: float = 10.0) -> str:
        """Serve in the background; the base URL once it answers."""
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._socket = sock
        app = create_app(self.settings, context=self.context)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="backoffice", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise KioskError(f"the embedded back office did not start on {self.url}")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self.context.close()
