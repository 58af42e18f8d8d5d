"""``serve_metrics``: the kiosk's registry over HTTP, for Prometheus to scrape.

``serve_metrics(registry, host, port)`` listens on ``host:port`` (``[telemetry] metrics_host``
and ``metrics_port``) in a daemon thread and answers ``GET /metrics`` in Prometheus' text
format. Port 0 means off. A port already taken, or an address the machine does not have, is
one warning in the log and no server: the kiosk goes on serving citizens without its metrics.
``MetricsServer.stop()`` closes the port (the composition root calls it when the kiosk closes).
"""

from __future__ import annotations

import errno
import logging
import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

log = logging.getLogger(__name__)


class MetricsServer:
    """A running metrics endpoint."""

    def __init__(self, httpd: WSGIServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        address = httpd.server_address
        self.host = str(address[0])
        self.port = int(address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def stop(self) -> None:
        """Stop answering and close the port."""
        if not self._thread.is_alive():
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        log.info("metrics: stopped serving on %s", self.url)


def serve_metrics(registry: CollectorRegistry, host: str, port: int) -> MetricsServer | None:
    """Serve ``registry`` on ``host:port``; None when ``port`` is 0 (off) or cannot be had."""
    if port == 0:
        return None
    try:
        httpd, thread = start_http_server(port, addr=host, registry=registry)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            why = "the port is already in use by another program"
        else:
            why = f"{exc.strerror or exc}"
        log.warning(
            "metrics: cannot serve on %s port %d (%s); the kiosk goes on serving citizens "
            "without metrics. Free the port or set [telemetry] metrics_port to another one.",
            host,
            port,
            why,
        )
        return None
    server = MetricsServer(httpd, thread)
    log.info("metrics: serving Prometheus metrics on %s", server.url)
    return server
