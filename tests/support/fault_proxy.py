"""Test helper: an HTTP/1.1 reverse proxy on loopback in front of the reference back office that
fails chosen requests the way a broken back office or gateway does.

    proxy = FaultProxy(server.url, {"key-1": ["error", "gateway-after"]})
    proxy.start()
    ... HttpBackOffice(proxy.url, ...) ...
    proxy.close()

Requests are forwarded unchanged (method, path, headers, body: the kiosk's signature still
holds). The faults of a dossier are taken in turn by its ``Idempotency-Key`` header; a request
with no fault left (or no key) passes. The faults:

``error``          answer 500 with the API's JSON error shape; the back office saw nothing
``gateway-after``  forward (the back office stores the dossier), then answer 502 with a
                   gateway's HTML page instead of the back office's answer
``hang``           read the request and never answer; the back office saw nothing
``hang-after``     forward (the back office stores the dossier), then never answer

A hung request is held until ``close()``. ``hops`` records every request: its key, the fault
applied and, when it was forwarded, the back office's status and JSON answer.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = ("error", "gateway-after", "hang", "hang-after")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}
_GATEWAY_PAGE = (
    b"<html><head><title>502 Bad Gateway</title></head><body>"
    b"<center><h1>502 Bad Gateway</h1></center></body></html>\r\n"
)


@dataclass(frozen=True)
class Hop:
    """One request through the proxy."""

    method: str
    path: str
    key: str | None
    fault: str  # "pass" or one of FAULTS
    upstream_status: int | None  # None when the back office did not see the request
    upstream_answer: Any  # its JSON answer, when it answered JSON


class FaultProxy:
    """The proxy; see the module docstring."""

    def __init__(self, upstream: str, faults: Mapping[str, Iterable[str]]) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"upstream must be http://host:port, not {upstream!r}")
        for key, names in faults.items():
            for name in names:
                if name not in FAULTS:
                    raise ValueError(f"{key}: unknown fault {name!r} ({', '.join(FAULTS)})")
        self.upstream = (parts.hostname, parts.port)
        self._faults = {key: deque(names) for key, names in faults.items()}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.hops: list[Hop] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        self._release.set()  # hung requests end (their connections close unanswered)
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def hops_of(self, key: str) -> list[Hop]:
        with self._lock:
            return [h for h in self.hops if h.key == key]

    # --- used by the handler ---

    def _next_fault(self, key: str | None) -> str:
        with self._lock:
            queue = self._faults.get(key or "")
            return queue.popleft() if queue else "pass"

    def _record(self, hop: Hop) -> None:
        with self._lock:
            self.hops.append(hop)

    def _forward(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            sent = {k: v for k, v in headers if k.lower() not in _HOP_BY_HOP}
            if body or method in ("POST", "PUT", "PATCH"):
                sent["Content-Length"] = str(len(body))
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass  # quiet: the hops are the record

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            key = self.headers.get("Idempotency-Key")
            fault = proxy._next_fault(key)
            status: int | None = None
            answer: Any = None
            if fault in ("pass", "gateway-after", "hang-after"):
                status, headers, content = proxy._forward(
                    self.command, self.path, list(self.headers.items()), body
                )
                try:
                    answer = json.loads(content)
                except ValueError:
                    answer = None
            proxy._record(Hop(self.command, self.path, key, fault, status, answer))
            if fault in ("hang", "hang-after"):
                proxy._release.wait()
                self.close_connection = True
                return
            if fault == "error":
                error = {
                    "error": "internal",
                    "message": "internal server error",
                    "message_vi": "lỗi máy chủ",
                }
                self._answer(500, [("Content-Type", "application/json")], json.dumps(error))
            elif fault == "gateway-after":
                self._answer(502, [("Content-Type", "text/html")], _GATEWAY_PAGE)
            else:
                assert status is not None
                self._answer(status, headers, content)

        def _answer(self, status: int, headers: list[tuple[str, str]], body: str | bytes) -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in _HOP_BY_HOP and name.lower() not in ("server", "date"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815 - http.server's names

    return Handler
