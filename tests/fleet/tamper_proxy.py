"""Test helper: a man in the middle between a kiosk and the back office, on loopback.

    proxy = TamperProxy(server.url).start()
    proxy.rewrite_commands = lambda answer: {...}     # change GET …/commands answers
    ... HttpBackOffice(proxy.url, ...) ...
    proxy.close()

Requests are forwarded unchanged (method, path, headers, body: the kiosk's request signature
still holds, as it would through a compromised gateway); the back office's answers come back
unchanged, except the JSON answers to ``GET /api/v1/kiosks/{id}/commands``, which go through
``rewrite_commands`` when it is set: a gateway that alters, injects or replays commands.
``answers`` keeps every commands answer as the back office sent it.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_COMMANDS = re.compile(r"^/api/v1/kiosks/[^/]+/commands$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


class TamperProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname and parts.port
        self.upstream = (parts.hostname, parts.port)
        self.rewrite_commands: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.answers: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> TamperProxy:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(proxy: TamperProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn = http.client.HTTPConnection(*proxy.upstream, timeout=30)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                status = answer.status
                out_headers = [
                    (k, v) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP
                ]
            finally:
                conn.close()
            path = urlsplit(self.path).path
            if self.command == "GET" and _COMMANDS.match(path) and status == 200:
                parsed = json.loads(data)
                proxy.answers.append(json.loads(data))
                if proxy.rewrite_commands is not None:
                    data = json.dumps(proxy.rewrite_commands(parsed)).encode()
            self.send_response(status)
            for key, value in out_headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

    return Handler
