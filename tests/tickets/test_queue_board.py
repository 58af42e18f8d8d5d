"""The display board and counter endpoints over real HTTP on loopback, the voice (espeak-ng
when installed), and the ``kiosk queue`` commands."""

from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import re
import shutil
import sqlite3
import threading
import time
import wave
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from support.net_helpers import free_port

from kiosk.catalog.procedures import load_catalog
from kiosk.cli.queue import add_queue_commands
from kiosk.i18n import translate
from kiosk.infra.clock import VIETNAM_TZ
from kiosk.paths import CONFIG_DIR
from kiosk.tickets.board import MSG_CALL, QueueBoard
from kiosk.tickets.config import VoiceConfig, parse_queue_config
from kiosk.tickets.store import NoOpenCounter, TicketStore
from kiosk.tickets.voice import (
    Announcer,
    announcement_text,
    board_text,
    espeak_command,
    say_number,
    spell_ticket,
    synthesize_wav,
    voice_available,
)

TOKEN_1 = "counter-one-token-0001"
TOKEN_2 = "counter-two-token-0002"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 3, 8, 0, tzinfo=VIETNAM_TZ)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock):
    cfg = parse_queue_config(
        {
            "store": {"busy_timeout_s": 0.1, "lock_retries": 1},
            "board": {"port": 0, "refresh_s": 3},
            "counters": [
                {"number": 1, "services": ["IN"], "token": TOKEN_1},
                {"number": 2, "services": ["IN", "BC"], "token": TOKEN_2},
                {"number": 3, "services": ["BC"]},  # no terminal
            ],
        }
    )
    s = TicketStore(tmp_path / "tickets.sqlite", clock, services=["IN", "BC"], config=cfg)
    yield s
    s.close()


@pytest.fixture
def board(store: TicketStore):
    services = load_catalog(CONFIG_DIR / "procedures").services()
    b = QueueBoard(store, services=services)
    b.start()
    yield b
    b.stop()


def post(
    board: QueueBoard, counter: int, action: str, body: Any = None, token: str | None = TOKEN_1
):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(
        f"{board.url}api/counters/{counter}/{action}", json=body, headers=headers, timeout=5
    )


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- the board ---


def test_binds_loopback_by_default(board: QueueBoard) -> None:
    assert board.url.startswith("http://127.0.0.1:") and board.port > 0


def test_board_page_shows_calls_per_counter(board: QueueBoard, store: TicketStore) -> None:
    page = requests.get(board.url, timeout=5)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<html lang="vi">' in page.text and "setTimeout(tick, 3000)" in page.text
    assert '<meta http-equiv="refresh" content="3">' in page.text  # without script
    store.issue("IN")
    store.issue("BC")
    store.call_next(1)
    page = requests.get(board.url, timeout=5).text
    shown = text_of(page)
    latest = translate(MSG_CALL, "vi").format(number=" IN-001 ", counter=" 1 ")
    assert re.sub(r"\s+", " ", latest) in shown
    assert re.search(
        r'data-counter="1"><div class="name">Quầy 1</div><div class="big">IN-001', page
    )
    assert 'data-counter="3"' in page and "closed" not in page.split('data-counter="3"')[0][-40:]
    assert "Báo chí" in shown or "Bưu chính" in shown  # the catalog's service names
    english = text_of(requests.get(board.url + "board?lang=en", timeout=5).text)
    assert "Number IN-001 to counter 1" in english
    assert "Waiting: 1" in english and "Recent calls" in english


def test_closed_counter_and_status_json(board: QueueBoard, store: TicketStore) -> None:
    store.set_counter_open(3, False)
    fragment = requests.get(board.url + "board?lang=en", timeout=5).text
    assert re.search(r'class="counter closed" data-counter="3">.*Closed', fragment)
    status = requests.get(board.url + "api/status", timeout=5)
    assert status.headers["Content-Type"].startswith("application/json")
    assert [c["open"] for c in status.json()["counters"]] == [True, True, False]
    assert requests.get(board.url + "healthz", timeout=5).text == "ok"
    missing = requests.get(board.url + "nothing", timeout=5)
    assert missing.status_code == 404 and missing.json()["ok"] is False


# --- counter terminals ---


def test_terminal_needs_its_token(board: QueueBoard, store: TicketStore) -> None:
    store.issue("IN")
    missing = post(board, 1, "call", token=None)
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    assert post(board, 1, "call", token="wrong-token-wrong-token").status_code == 401
    assert post(board, 1, "call", token=TOKEN_2).status_code == 401  # counter 2's token
    assert post(board, 3, "call", token=TOKEN_1).status_code == 403  # no terminal configured
    assert post(board, 9, "call").status_code == 404
    assert store.waiting("IN") == 1  # nothing was called


def test_terminal_actions(board: QueueBoard, store: TicketStore, clock: Clock) -> None:
    store.issue("IN")
    store.issue("IN", "pregnant")
    r = post(board, 1, "call")
    assert r.status_code == 200
    body = r.json()
    assert body["ticket"]["number"] == "IN-U01" and body["text"] == "Mời số IN-U01 đến quầy số 1"
    r = post(board, 1, "confirm", {"staff": "Trần Văn Nam", "confirmed": True})
    assert r.json()["ticket"]["priority_checked_by"] == "Trần Văn Nam"
    assert post(board, 1, "recall").json()["ticket"]["recalls"] == 1
    clock.now += timedelta(minutes=6)
    assert post(board, 1, "complete").json()["ticket"]["status"] == "done"
    none = post(board, 1, "complete")
    assert none.status_code == 409 and none.json()["error"] == "NoCurrentTicket"
    assert post(board, 2, "call", token=TOKEN_2).json()["ticket"]["number"] == "IN-001"
    moved = post(board, 2, "transfer", {"service": "BC"}, token=TOKEN_2).json()["ticket"]
    assert moved["service"] == "BC" and moved["status"] == "waiting"
    assert post(board, 2, "call", token=TOKEN_2).json()["ticket"]["number"] == "IN-001"
    assert post(board, 2, "skip", token=TOKEN_2).json()["ticket"]["status"] == "no_show"
    assert post(board, 1, "call").json()["ticket"] is None  # nobody waits
    assert post(board, 1, "close").json()["ok"] is True
    closed = post(board, 1, "call")
    assert closed.status_code == 409 and closed.json()["error"] == "CounterClosed"
    assert post(board, 1, "open").status_code == 200


def test_a_ticket_another_counter_called_is_refused(board: QueueBoard, store: TicketStore) -> None:
    store.issue("IN")
    assert post(board, 1, "call").status_code == 200
    r = post(board, 2, "call", {"number": "IN-001"}, token=TOKEN_2)
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "AlreadyCalled" and "counter 1" in body["detail"]
    assert body["message"] == translate(
        "This number has already been called to another counter.", "vi"
    )
    current = store.counters()[0].current
    assert current is not None and current.number == "IN-001"


def test_bad_requests(board: QueueBoard, store: TicketStore) -> None:
    store.issue("IN")
    post(board, 1, "call")
    assert post(board, 1, "transfer", {}).status_code == 400
    assert post(board, 1, "transfer", {"service": "ZZ"}).json()["error"] == "UnknownService"
    assert post(board, 1, "confirm", {"staff": 7}).status_code == 400
    assert post(board, 1, "call", ["IN-001"]).status_code == 400
    assert post(board, 1, "dance").status_code == 404
    headers = {"Authorization": f"Bearer {TOKEN_1}", "Content-Type": "application/json"}
    url = f"{board.url}api/counters/1/recall"
    assert requests.post(url, data=b"{not json", headers=headers, timeout=5).status_code == 400
    big = requests.post(url, data=b" " * 5000, headers=headers, timeout=5)
    assert big.status_code == 413
    assert post(board, 1, "transfer", {"service": "BC"}).status_code == 200
    store.set_counter_open(2, False)
    closed = post(board, 2, "call", token=TOKEN_2)
    assert closed.status_code == 409 and closed.json()["error"] == "CounterClosed"
    elsewhere = post(board, 1, "call", {"number": "IN-001"})  # now a BC ticket
    assert elsewhere.status_code == 400 and "does not serve BC" in elsewhere.json()["detail"]
    assert store.waiting("BC") == 1  # nothing lost


def test_store_locked_answers_503(board: QueueBoard, store: TicketStore) -> None:
    store.issue("IN")
    holder = sqlite3.connect(store.db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = post(board, 1, "call")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.status_code == 503 and r.headers["Retry-After"] == "2"
    assert r.json()["error"] == "StoreLocked"
    assert post(board, 1, "call").status_code == 200  # and then it works


# --- voice ---


def test_ticket_numbers_are_spelled_digit_by_digit() -> None:
    assert spell_ticket("IN-012") == "i, en nờ, không, một, hai"
    assert spell_ticket("BC-U03") == "bê, xê, u, không, ba"
    assert [say_number(n) for n in (3, 10, 15, 21, 24, 40, 99)] == [
        "ba",
        "mười",
        "mười lăm",
        "hai mươi mốt",
        "hai mươi tư",
        "bốn mươi",
        "chín mươi chín",
    ]
    text = announcement_text("IN-012", 3)
    assert text == "Mời số i, en nờ, không, một, hai. Đến quầy số ba."
    assert board_text("IN-012", 3) == "Mời số IN-012 đến quầy số 3"
    assert espeak_command(VoiceConfig(), "x", Path("a.wav")) == [
        "espeak-ng",
        "-v",
        "vi",
        "-s",
        "140",
        "-w",
        "a.wav",
        "--",
        "x",
    ]
    with pytest.raises(ValueError):
        say_number(100)


@pytest.mark.skipif(not voice_available(), reason="espeak-ng is not installed (apt espeak-ng)")
def test_espeak_writes_a_vietnamese_wav(tmp_path: Path) -> None:
    wav = synthesize_wav(announcement_text("IN-012", 3), tmp_path / "call.wav")
    with wave.open(str(wav)) as w:
        seconds = w.getnframes() / w.getframerate()
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
    assert 2.0 < seconds < 15.0
    shorter = synthesize_wav(announcement_text("A", 1), tmp_path / "short.wav")
    with wave.open(str(shorter)) as w:
        assert w.getnframes() / w.getframerate() < seconds


def test_missing_synthesiser_is_quiet(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = VoiceConfig(command=str(tmp_path / "no-espeak"))
    announcer = Announcer(config)
    announcer.announce("IN-001", 1)
    announcer.announce("IN-002", 1)
    announcer.close()
    assert len(announcer.spoken) == 2
    assert sum("not installed" in r.message for r in caplog.records) == 1
    with pytest.raises(Exception, match="not installed"):
        synthesize_wav("x", tmp_path / "x.wav", config)


def test_board_announces_every_call_and_recall(tmp_path: Path, store: TicketStore) -> None:
    said = tmp_path / "said.txt"
    speaker = tmp_path / "speaker.sh"  # a stand-in synthesiser: writes what it was asked to say
    speaker.write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> "{said}"\n')
    speaker.chmod(0o755)
    announcer = Announcer(VoiceConfig(command=str(speaker), repeat=1))
    with QueueBoard(store, announcer=announcer, poll_s=0.05) as board:
        store.issue("IN")
        store.call_next(1)  # by the store, as ``kiosk queue call`` in another process would
        post(board, 1, "recall")
        deadline = time.monotonic() + 10
        while (not said.exists() or len(said.read_text().splitlines()) < 2) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    expected = announcement_text("IN-001", 1)
    assert said.read_text(encoding="utf-8").splitlines() == [expected, expected]


# --- kiosk queue … ---


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    parser = argparse.ArgumentParser(prog="kiosk")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, config: bool = True) -> None:
        p.add_argument("--json", action="store_true")
        if config:
            p.add_argument("--config")

    add_queue_commands(sub, common)
    args = parser.parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr().out
    return code, json.loads(out) if "--json" in argv else out


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, kiosk_env: dict[str, str]) -> dict[str, str]:
    for key, value in kiosk_env.items():
        monkeypatch.setenv(key, value)
    return kiosk_env


def test_cli_issue_call_status(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code, ticket = run_cli(
        ["queue", "issue", "--service", "in", "--priority", "elderly", "--json"], capsys
    )
    assert code == 0 and ticket["number"] == "IN-U01" and ticket["estimated_wait_min"] == 0
    code, text = run_cli(["queue", "issue", "--service", "IN"], capsys)
    assert text.startswith("IN-001: 1 ahead, about")
    code, called = run_cli(["queue", "call", "--counter", "1", "--json"], capsys)
    assert called["text"] == "Mời số IN-U01 đến quầy số 1"
    code, out = run_cli(["queue", "confirm", "--counter", "1", "--staff", "cb-01"], capsys)
    assert "IN-U01" in out
    code, status = run_cli(["queue", "status", "--json"], capsys)
    assert status["counters"][0]["current"]["number"] == "IN-U01"
    assert status["services"]["IN"]["waiting"] == 1
    code, text = run_cli(["queue", "status"], capsys)
    assert "IN: 1 waiting (0 priority)" in text
    data = Path(cli_env["KIOSK_KIOSK_DATA_DIR"])
    assert (data / "tickets.sqlite").exists()


def test_cli_no_open_counter(cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    cfg = parse_queue_config(tomllib_load(CONFIG_DIR / "queue.toml"))
    serving_in = [c.number for c in cfg.counters if "IN" in c.services]
    for number in serving_in:
        code, out = run_cli(["queue", "counter", "--counter", str(number), "--close"], capsys)
        assert code == 0
    assert "closed" in out
    with pytest.raises(NoOpenCounter):
        run_cli(["queue", "issue", "--service", "IN"], capsys)
    code, out = run_cli(["queue", "counter", "--counter", str(serving_in[0]), "--open"], capsys)
    assert "open" in out
    code, ticket = run_cli(["queue", "issue", "--service", "IN", "--json"], capsys)
    assert ticket["number"] == "IN-001"


def tomllib_load(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


def test_cli_board_serves_until_told(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    seen: dict[str, Any] = {}

    def look() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                seen["status"] = requests.get(f"http://127.0.0.1:{port}/api/status", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)

    watcher = threading.Thread(target=look)
    watcher.start()
    code, out = run_cli(
        ["queue", "board", "--port", str(port), "--no-voice", "--seconds", "1.5"], capsys
    )
    watcher.join()
    assert code == 0 and json.loads(out)["port"] == port
    assert seen["status"].status_code == 200 and seen["status"].json()["counters"]


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed")
def test_cli_say_to_wav(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out = run_cli(
        ["queue", "say", "BC-007", "--counter", "12", "--wav", str(tmp_path / "s.wav"), "--json"],
        capsys,
    )
    assert out["text"] == "Mời số bê, xê, không, không, bảy. Đến quầy số mười hai."
    assert (tmp_path / "s.wav").stat().st_size > 10_000


# --- the counter terminal page (GET /counter/N) ---


class _Page(HTMLParser):
    """The parts of the counter page a test looks at: buttons, inputs, options, scripts, links."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[dict[str, Any]] = []
        self.inputs: dict[str, dict[str, Any]] = {}
        self.options: list[tuple[str, str]] = []
        self.scripts: list[tuple[dict[str, Any], str]] = []
        self.urls: list[str] = []
        self.forms = 0
        self._open: tuple[str, dict[str, Any]] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "action")]
        self.forms += tag == "form"
        if tag == "input":
            self.inputs[a.get("id") or ""] = a
        if tag in ("button", "script", "option"):
            self._open, self._text = (tag, a), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._open is None or self._open[0] != tag:
            return
        attrs, text = self._open[1], "".join(self._text)
        if tag == "button":
            self.buttons.append({**attrs, "text": text})
        elif tag == "script":
            self.scripts.append((attrs, text))
        else:
            self.options.append((attrs["value"], text))
        self._open = None

    def data(self) -> dict[str, Any]:
        return json.loads(next(t for a, t in self.scripts if a.get("id") == "page-data"))

    def button(self, action: str, **want: str) -> dict[str, Any]:
        found = [
            b
            for b in self.buttons
            if b.get("data-action") == action and all(b.get(k) == v for k, v in want.items())
        ]
        assert len(found) == 1, (action, want, self.buttons)
        return found[0]


def counter_page(board: QueueBoard, counter: int, lang: str = "") -> tuple[Any, _Page]:
    r = requests.get(f"{board.url}counter/{counter}" + (f"?lang={lang}" if lang else ""), timeout=5)
    page = _Page()
    page.feed(r.text)
    return r, page


def replay(
    board: QueueBoard, page: _Page, button: dict[str, Any], token: str = TOKEN_1, **fields: str
) -> Any:
    """The request the page's script makes for ``button`` (see kiosk/tickets/counter_page.py): its
    data-body, plus the named inputs' trimmed values, POSTed to the page's API path with the
    token in the Authorization header."""
    data = page.data()
    body = json.loads(button.get("data-body") or "{}")
    for name in (button.get("data-fields") or "").split():
        body[name] = fields[name].strip()
    url = urljoin(board.url, f"{data['api']}{button['data-action']}?lang={data['lang']}")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=5)


def test_counter_page_is_self_contained_and_carries_no_token(board: QueueBoard) -> None:
    from kiosk.tickets.counter_page import (
        MSG_CALL_NEXT,
        MSG_CONFIRM,
        MSG_NOT_PRIORITY,
        MSG_PAGE_TITLE,
    )

    r, page = counter_page(board, 1)
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<html lang="vi">' in r.text
    assert f"<title>Quầy 1 · {translate(MSG_PAGE_TITLE, 'vi')}</title>" in r.text
    for secret in (TOKEN_1, TOKEN_2):
        assert secret not in r.text and secret not in str(r.headers)
    # works offline: nothing external, one inline script and style, and a CSP that loads nothing
    assert page.urls == ["?lang=en"] and "<link" not in r.text and "@import" not in r.text
    assert not re.search(r"https?://", r.text)
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    (script,) = [t for a, t in page.scripts if "type" not in a]
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp
    # the token: typed once into a password field, kept in sessionStorage, sent as a header;
    # no form that a browser could submit with it into a URL
    assert page.inputs["token"]["type"] == "password" and page.forms == 0
    assert "sessionStorage" in script and "localStorage" not in script
    assert '"Authorization": "Bearer " + token()' in script
    assert {b.get("data-action") for b in page.buttons} >= {
        "call",
        "recall",
        "skip",
        "complete",
        "transfer",
        "confirm",
        "open",
        "close",
    }
    texts = [b["text"] for b in page.buttons]
    for msgid in (MSG_CALL_NEXT, MSG_CONFIRM, MSG_NOT_PRIORITY):
        assert translate(msgid, "vi") in texts
    assert [code for code, _ in page.options] == ["BC", "IN"]  # the services to transfer to
    assert dict(page.options)["BC"] == "Bưu chính"
    assert page.data()["api"] == "/api/counters/1/"

    r, english = counter_page(board, 1, "en")
    assert '<html lang="en">' in r.text and english.urls == ["?lang=vi"]
    assert {"Call next", "Confirm priority", "Not priority"} <= {b["text"] for b in english.buttons}
    assert dict(english.options)["BC"] == "Postal services"


def test_counter_page_of_unknown_or_tokenless_counters(board: QueueBoard) -> None:
    from kiosk.tickets.counter_page import MSG_NO_TERMINAL

    assert counter_page(board, 9)[0].status_code == 404
    r, page = counter_page(board, 3)  # no token in config: no terminal
    assert r.status_code == 403 and html.escape(translate(MSG_NO_TERMINAL, "vi")) in r.text
    assert page.buttons == [] and "token" not in page.inputs


def test_the_pages_requests_confirm_a_priority_and_the_store_keeps_who(
    board: QueueBoard, store: TicketStore
) -> None:
    store.issue("IN", "pregnant")
    store.issue("IN", "elderly")
    _, page = counter_page(board, 1)
    call = page.button("call", id="call-next")
    confirm = page.button("confirm", **{"data-body": '{"confirmed": true}'})
    downgrade = page.button("confirm", **{"data-body": '{"confirmed": false}'})
    assert confirm["data-fields"] == downgrade["data-fields"] == "staff"
    assert page.button("transfer")["data-fields"] == "service"

    assert replay(board, page, call, token="wrong-token-wrong-token").status_code == 401
    called = replay(board, page, call).json()
    ticket = called["ticket"]
    assert called["text"] == "Mời số IN-U01 đến quầy số 1"
    assert (ticket["number"], ticket["priority_class"], ticket["priority_source"]) == (
        "IN-U01",
        "pregnant",
        "declared",
    )
    shown = requests.get(urljoin(board.url, page.data()["status"]), timeout=5).json()
    assert shown["counters"][0]["current"]["number"] == "IN-U01"  # what the page polls

    answer = replay(board, page, confirm, staff="  Trần Thị Bình ")
    assert answer.status_code == 200
    assert answer.json()["ticket"]["priority_check"] == "confirmed"
    kept = store.find("IN-U01")
    assert kept is not None and kept.priority_check == "confirmed"
    assert kept.priority_checked_by == "Trần Thị Bình"
    events = [e for e in store.events_since(0) if e.kind == "confirmed"]
    assert [(e.number, e.counter, e.detail) for e in events] == [
        ("IN-U01", 1, "pregnant by Trần Thị Bình")
    ]

    replay(board, page, call)  # completes IN-U01, calls the next
    answer = replay(board, page, downgrade, staff="Lê Văn Cường")
    assert answer.json()["ticket"]["number"] == "IN-U02"
    kept = store.find("IN-U02")
    assert kept is not None and kept.priority_check == "downgraded"
    assert kept.priority_checked_by == "Lê Văn Cường"
    assert store.find("IN-U01").status.value == "done"  # type: ignore[union-attr]
