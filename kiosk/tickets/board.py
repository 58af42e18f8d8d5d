"""The display board (bảng gọi số) and the counter terminals' endpoints, over local HTTP.

A stdlib ``ThreadingHTTPServer`` on its own thread (no web framework: the kiosk must not depend
on one), bound to ``[board] host`` (127.0.0.1 by default) and ``port``:

``GET /``                  the board: the latest call ("Mời số IN-012 đến quầy số 3"), every
                           counter with the number it serves in big digits, the waiting count
                           and estimated wait per service, the recent calls. It refreshes itself
                           every ``refresh_s`` (a small script swaps in ``/board``; without
                           script, a meta refresh). ``?lang=en`` for English.
``GET /board``             that content alone (an HTML fragment).
``GET /api/status``        the same as JSON (``TicketStore.status``).
``GET /counter/N``         counter N's terminal page (``kiosk.tickets.counter_page``): staff type
                           the counter's token once (kept in the tab's sessionStorage, never in a
                           URL) and call, recall, skip, complete, transfer and confirm a
                           declared priority through the endpoints below. ``?lang=en``.
``GET /healthz``           "ok".
``POST /api/counters/N/ACTION`` a counter terminal, with ``Authorization: Bearer <token>``
                           (the counter's ``token`` in config/queue.toml; a counter without
                           one has no terminal access). ACTION is ``call`` (body
                           ``{"number": "IN-012"}`` to call a given ticket, else the next by the
                           policy), ``recall``, ``skip``, ``complete``, ``transfer``
                           (``{"service": "BC"}``), ``confirm`` (``{"staff": "…",
                           "confirmed": true|false}``), ``open``, ``close``. Answers
                           ``{"ok": true, "ticket": …, "text": "Mời số …"}`` or ``{"ok": false,
                           "error": class, "detail": …, "message": (for the screen)}`` with 400
                           (bad request), 401 (token), 403 (no terminal), 404 (no such counter
                           or ticket), 409 (already called, closed, nothing called), 503 (store
                           locked, with Retry-After).

With an ``Announcer``, a watcher thread reads the store's events and says every call and
recall, whoever made it (this server, ``kiosk queue call`` in another process, another kiosk
on the same file).
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import re
import threading
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from kiosk.errors import KioskError
from kiosk.i18n import translate
from kiosk.tickets.config import BoardConfig
from kiosk.tickets.counter_page import CounterPage, render_counter_page
from kiosk.tickets.store import (
    AlreadyCalled,
    CounterClosed,
    NoCurrentTicket,
    NoOpenCounter,
    StoreLocked,
    Ticket,
    TicketStore,
    UnknownCounter,
    UnknownService,
    UnknownTicket,
)
from kiosk.tickets.voice import Announcer, board_text

log = logging.getLogger(__name__)

MAX_BODY = 4096
_ACTION_PATH = re.compile(r"^/api/counters/([0-9]{1,2})/([a-z]+)$")
_COUNTER_PAGE = re.compile(r"^/counter/([0-9]{1,2})/?$")
ACTIONS = ("call", "recall", "skip", "complete", "transfer", "confirm", "open", "close")

MSG_TITLE = "Queue board"
MSG_CALL = "Number {number} to counter {counter}"
MSG_CLOSED = "Closed"
MSG_WAITING = "Waiting: {n}"
MSG_ABOUT = "About {n} min"
MSG_RECENT = "Recent calls"
MSG_NO_COUNTER = "No counter open"


class _BadRequest(Exception):
    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status


def _status_for(exc: KioskError) -> HTTPStatus:
    if isinstance(exc, UnknownCounter | UnknownTicket):
        return HTTPStatus.NOT_FOUND
    if isinstance(exc, AlreadyCalled | CounterClosed | NoCurrentTicket | NoOpenCounter):
        return HTTPStatus.CONFLICT
    if isinstance(exc, StoreLocked):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(exc, UnknownService):
        return HTTPStatus.BAD_REQUEST
    return HTTPStatus.BAD_REQUEST


class QueueBoard:
    """The board's HTTP server and, with an announcer, the voice watcher."""

    def __init__(
        self,
        store: TicketStore,
        *,
        config: BoardConfig | None = None,
        services: Iterable[Any] = (),
        announcer: Announcer | None = None,
        lang: str = "vi",
        poll_s: float = 0.5,
    ) -> None:
        self.store = store
        self.config = config or store.config.board
        self.services = {s.code: s for s in services}  # catalog Service: .code, .title(lang)
        self.announcer = announcer
        self.lang = lang
        self.poll_s = poll_s
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    # ---------------------------------------------------------------- life

    def start(self) -> int:
        """Start serving; returns the port."""
        board = self

        class Handler(_Handler):
            pass

        Handler.board = board
        self._server = ThreadingHTTPServer((self.config.host, self.config.port), Handler)
        self._server.daemon_threads = True
        serve = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="queue-board", daemon=True
        )
        serve.start()
        self._threads.append(serve)
        if self.announcer is not None:
            watch = threading.Thread(target=self._watch, name="queue-voice", daemon=True)
            watch.start()
            self._threads.append(watch)
        log.info("queue board on %s", self.url)
        return self.port

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        if self.announcer is not None:
            self.announcer.close()

    def __enter__(self) -> QueueBoard:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "the board is not started"
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self.port}/"

    def _watch(self) -> None:
        """Say every call and recall recorded in the store from now on."""
        try:
            last = self.store.last_event_id()
        except KioskError as e:
            log.error("voice watcher cannot read the queue: %s", e)
            return
        while not self._stop.wait(self.poll_s):
            try:
                events = self.store.events_since(last)
            except KioskError as e:
                log.warning("voice watcher: %s", e)
                continue
            for event in events:
                last = event.id
                if event.kind in ("called", "recalled") and event.number and event.counter:
                    assert self.announcer is not None
                    self.announcer.announce(event.number, event.counter)

    # ---------------------------------------------------------------- the page

    def t(self, msgid: str, lang: str) -> str:
        return translate(msgid, lang)

    def render_fragment(self, lang: str) -> str:
        """The board's content (HTML), from the store's status now."""
        status = self.store.status(self.config.recent_calls)
        e = html.escape
        parts: list[str] = []
        recent = status["recent_calls"]
        if recent:
            last = recent[0]
            text = self.t(MSG_CALL, lang).format(
                number=f'<span class="num">{e(last["number"])}</span>',
                counter=f'<span class="num">{last["counter"]}</span>',
            )
            parts.append(f'<section class="latest" data-event="{last["id"]}">{text}</section>')
        parts.append('<section class="counters">')
        for c in status["counters"]:
            current = c["current"]
            if not c["open"]:
                shown, css = e(self.t(MSG_CLOSED, lang)), "closed"
            elif current:
                shown, css = e(current["number"]), "serving"
            else:
                shown, css = "—", "free"
            parts.append(
                f'<div class="counter {css}" data-counter="{c["number"]}">'
                f'<div class="name">{e(c["name"])}</div><div class="big">{shown}</div></div>'
            )
        parts.append("</section>")
        parts.append('<section class="services">')
        for code, info in status["services"].items():
            service = self.services.get(code)
            name = service.title(lang) if service is not None else code
            if info["estimated_wait_min"] is None:
                wait = self.t(MSG_NO_COUNTER, lang)
            else:
                wait = self.t(MSG_ABOUT, lang).format(n=info["estimated_wait_min"])
            waiting = self.t(MSG_WAITING, lang).format(n=info["waiting"])
            parts.append(
                f'<div class="service" data-service="{e(code)}"><b>{e(name)}</b> '
                f"<span>{e(waiting)}</span> <span>{e(wait)}</span></div>"
            )
        parts.append("</section>")
        if recent:
            items = "".join(
                f"<li>{e(r['number'])} → {e(self._counter_name(r['counter']))}</li>" for r in recent
            )
            parts.append(
                f'<section class="recent"><h2>{e(self.t(MSG_RECENT, lang))}</h2><ol>{items}</ol>'
                "</section>"
            )
        return "\n".join(parts)

    def _counter_name(self, number: int) -> str:
        counter = self.store.config.counter(number)
        return counter.name if counter else str(number)

    def render_page(self, lang: str) -> str:
        refresh = self.config.refresh_s
        title = html.escape(self.t(MSG_TITLE, lang))
        return _PAGE.format(
            lang=lang,
            title=title,
            refresh=refresh,
            refresh_ms=refresh * 1000,
            content=self.render_fragment(lang),
        )

    def render_counter(self, counter: int, lang: str) -> CounterPage | None:
        """Counter ``counter``'s terminal page, or None when no such counter is configured."""
        cfg = self.store.config.counter(counter)
        if cfg is None:
            return None
        codes = sorted({s for c in self.store.config.counters for s in c.services})
        names = {}
        for code in codes:
            service = self.services.get(code)
            names[code] = service.title(lang) if service is not None else code
        return render_counter_page(
            cfg,
            lang=lang,
            service_names=names,
            transfer_to=codes,
            priority_classes=self.store.config.priority_classes,
            refresh_s=self.config.refresh_s,
        )

    # ---------------------------------------------------------------- the terminals

    def act(self, counter: int, action: str, body: dict[str, Any]) -> Ticket | None:
        """Do a counter terminal's action (the token has been checked)."""
        store = self.store
        if action == "call":
            number = body.get("number")
            if number is None:
                return store.call_next(counter)
            if not isinstance(number, str):
                raise _BadRequest(HTTPStatus.BAD_REQUEST, '"number" must be text such as "IN-012"')
            return store.call(counter, number)
        if action == "recall":
            return store.recall(counter)
        if action == "skip":
            return store.skip(counter)
        if action == "complete":
            return store.complete(counter)
        if action == "transfer":
            service = body.get("service")
            if not isinstance(service, str):
                raise _BadRequest(HTTPStatus.BAD_REQUEST, 'transfer needs {"service": "BC"}')
            return store.transfer(counter, service)
        if action == "confirm":
            staff, confirmed = body.get("staff"), body.get("confirmed", True)
            if not isinstance(staff, str) or not isinstance(confirmed, bool):
                detail = 'confirm needs {"staff": "name", "confirmed": true or false}'
                raise _BadRequest(HTTPStatus.BAD_REQUEST, detail)
            return store.confirm_priority(counter, staff, confirmed)
        if action in ("open", "close"):
            store.set_counter_open(counter, action == "open")
            return None
        raise _BadRequest(HTTPStatus.NOT_FOUND, f"unknown action {action!r} ({', '.join(ACTIONS)})")

    def token_ok(self, counter: int, header: str | None) -> HTTPStatus | None:
        """None when the header carries the counter's token, else the HTTP status to answer."""
        cfg = self.store.config.counter(counter)
        if cfg is None:
            return HTTPStatus.NOT_FOUND
        if not cfg.token:
            return HTTPStatus.FORBIDDEN
        scheme, _, given = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), cfg.token.encode()
        ):
            return HTTPStatus.UNAUTHORIZED
        return None


class _Handler(BaseHTTPRequestHandler):
    board: QueueBoard
    server_version = "motcua-queue-board"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        log.debug("board %s: " + format, self.client_address[0], *args)

    def _lang(self, query: dict[str, list[str]]) -> str:
        lang = query.get("lang", [self.board.lang])[0]
        return lang if lang in ("vi", "en") else self.board.lang

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: HTTPStatus, payload: Any, **headers: str) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._send(status, body, "application/json; charset=utf-8", **headers)

    def _error(self, status: HTTPStatus, error: str, detail: str, message: str = "") -> None:
        payload = {"ok": False, "error": error, "detail": detail, "message": message or detail}
        extra = {"Retry_After": "2"} if status is HTTPStatus.SERVICE_UNAVAILABLE else {}
        if status is HTTPStatus.UNAUTHORIZED:
            extra["WWW_Authenticate"] = 'Bearer realm="queue counter"'
        self._json(status, payload, **extra)

    def do_GET(self) -> None:  # noqa: N802 - the base's name
        url = urlsplit(self.path)
        lang = self._lang(parse_qs(url.query))
        try:
            if url.path == "/":
                page = self.board.render_page(lang).encode()
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            elif url.path == "/board":
                page = self.board.render_fragment(lang).encode()
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            elif url.path == "/api/status":
                self._json(HTTPStatus.OK, self.board.store.status(self.board.config.recent_calls))
            elif url.path == "/healthz":
                self._send(HTTPStatus.OK, b"ok", "text/plain; charset=utf-8")
            elif match := _COUNTER_PAGE.match(url.path):
                self._counter_page(int(match.group(1)), lang)
            else:
                self._error(HTTPStatus.NOT_FOUND, "NotFound", f"no page {url.path}")
        except KioskError as e:
            log.warning("board: %s", e)
            self._error(_status_for(e), type(e).__name__, str(e), translate(e.msgid, lang))

    do_HEAD = do_GET

    def _counter_page(self, counter: int, lang: str) -> None:
        page = self.board.render_counter(counter, lang)
        if page is None:
            self._error(HTTPStatus.NOT_FOUND, "NotFound", f"counter {counter} is not configured")
            return
        cfg = self.board.store.config.counter(counter)
        status = HTTPStatus.OK if cfg is not None and cfg.token else HTTPStatus.FORBIDDEN
        self._send(
            status,
            page.html.encode(),
            "text/html; charset=utf-8",
            Content_Security_Policy=page.csp,
            X_Content_Type_Options="nosniff",
            Referrer_Policy="no-referrer",
        )

    def do_POST(self) -> None:  # noqa: N802 - the base's name
        url = urlsplit(self.path)
        lang = self._lang(parse_qs(url.query))
        match = _ACTION_PATH.match(url.path)
        if match is None:
            self._error(HTTPStatus.NOT_FOUND, "NotFound", f"no endpoint {url.path}")
            return
        counter, action = int(match.group(1)), match.group(2)
        refused = self.board.token_ok(counter, self.headers.get("Authorization"))
        if refused is not None:
            detail = {
                HTTPStatus.NOT_FOUND: f"counter {counter} is not configured",
                HTTPStatus.FORBIDDEN: f"counter {counter} has no terminal token in queue.toml",
                HTTPStatus.UNAUTHORIZED: "missing or wrong counter token",
            }[refused]
            self._drain()
            self._error(refused, refused.phrase.replace(" ", ""), detail)
            return
        try:
            body = self._body()
            ticket = self.board.act(counter, action, body)
        except _BadRequest as e:
            self._error(e.status, "BadRequest", str(e))
            return
        except KioskError as e:
            log.info("counter %s %s refused: %s", counter, action, e)
            self._error(_status_for(e), type(e).__name__, str(e), translate(e.msgid, lang))
            return
        payload: dict[str, Any] = {"ok": True, "counter": counter, "action": action}
        payload["ticket"] = ticket.to_dict() if ticket else None
        if ticket is not None and action in ("call", "recall"):
            payload["text"] = board_text(ticket.number, counter)
        self._json(HTTPStatus.OK, payload)

    def _drain(self) -> None:
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) <= MAX_BODY:
            self.rfile.read(int(length))
        else:
            self.close_connection = True

    def _body(self) -> dict[str, Any]:
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit():
            self.close_connection = True
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "Content-Length must be a number")
        size = int(length)
        if size > MAX_BODY:
            self.close_connection = True
            raise _BadRequest(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"body over {MAX_BODY} bytes")
        raw = self.rfile.read(size) if size else b""
        if not raw.strip():
            return {}
        try:
            body = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _BadRequest(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {e}") from None
        if not isinstance(body, dict):
            raise _BadRequest(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        return body


_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<noscript><meta http-equiv="refresh" content="{refresh}"></noscript>
<style>
body {{ margin: 0; font-family: Roboto, "DejaVu Sans", sans-serif; background: #0b2545;
       color: #fff; }}
h1 {{ margin: 0; padding: .4em .8em; font-size: 2.2em; background: #13315c; }}
.latest {{ padding: .5em .8em; font-size: 3.2em; background: #b00020; text-align: center; }}
.num {{ font-weight: 700; font-variant-numeric: tabular-nums; }}
.counters {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(16em, 1fr));
            gap: .6em; padding: .6em; }}
.counter {{ background: #13315c; border-radius: .4em; padding: .6em; text-align: center; }}
.counter .name {{ font-size: 1.8em; }}
.counter .big {{ font-size: 5em; font-weight: 700; font-variant-numeric: tabular-nums; }}
.counter.closed {{ opacity: .5; }} .counter.closed .big {{ font-size: 2.4em; }}
.services {{ padding: 0 .8em; font-size: 1.5em; }} .service span {{ margin-left: 1em; }}
.recent {{ padding: 0 .8em; font-size: 1.4em; }} .recent ol {{ margin: 0; }}
</style>
</head>
<body>
<h1>{title}</h1>
<main id="board">
{content}
</main>
<script>
(function () {{
  var board = document.getElementById("board");
  var url = "board" + window.location.search;
  function tick() {{
    fetch(url, {{cache: "no-store"}})
      .then(function (r) {{ return r.ok ? r.text() : null; }})
      .then(function (html) {{ if (html !== null) board.innerHTML = html; }})
      .catch(function () {{}})
      .then(function () {{ setTimeout(tick, {refresh_ms}); }});
  }}
  setTimeout(tick, {refresh_ms});
}})();
</script>
</body>
</html>
"""
