"""``kiosk queue …``: tickets and counters from the command line, the display board, the voice.

    kiosk queue issue --service S [--priority R]   a ticket (as the kiosk's queue screen does)
    kiosk queue call --counter N [--number X]      call the next ticket (or ticket X) to N
    kiosk queue recall|skip|complete --counter N   the counter's current ticket
    kiosk queue transfer --counter N --service S   send the current ticket to another service
    kiosk queue confirm --counter N --staff NAME [--downgrade]   check a declared priority
    kiosk queue counter --counter N (--open|--close)             open or close for today
    kiosk queue status                             counters, waiting, estimates, recent calls
    kiosk queue board [--host H] [--port P] [--no-voice] [--seconds S]   serve the board
    kiosk queue say NUMBER --counter N [--wav F]   say (or write) an announcement

Each prints JSON with ``--json`` and exits non-zero with a one-line message on bad input.
``open_queue(cfg)`` has the composition root (kiosk/app/services.py ``KioskParts``) build the
ticket store as the kiosk does (catalog services, the queue config next to the kiosk config,
staff alerts into ``<data_dir>/alerts.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any

from kiosk.app.services import KioskParts
from kiosk.cli.usage import UsageError


def add_queue_commands(sub: Any, common: Any) -> None:
    q = sub.add_parser("queue", help="queue tickets, counters, the display board")
    q_sub = q.add_subparsers(dest="queue_command", required=True)

    issue = q_sub.add_parser("issue", help="issue a ticket")
    common(issue)
    issue.add_argument("--service", required=True, help="service code, e.g. IN")
    issue.add_argument("--priority", help="priority class, e.g. elderly, pregnant")
    issue.set_defaults(func=cmd_issue)

    call = q_sub.add_parser("call", help="call the next ticket (or --number) to a counter")
    common(call)
    call.add_argument("--counter", required=True, type=int)
    call.add_argument("--number", help="call this ticket, e.g. a no-show who came back")
    call.set_defaults(func=cmd_call)

    for name, what in (
        ("recall", "call the counter's current ticket again"),
        ("skip", "the citizen did not come (no-show)"),
        ("complete", "the counter has finished with its current ticket"),
    ):
        p = q_sub.add_parser(name, help=what)
        common(p)
        p.add_argument("--counter", required=True, type=int)
        p.set_defaults(func=cmd_current, action=name)

    transfer = q_sub.add_parser("transfer", help="send the current ticket to another service")
    common(transfer)
    transfer.add_argument("--counter", required=True, type=int)
    transfer.add_argument("--service", required=True)
    transfer.set_defaults(func=cmd_current, action="transfer")

    confirm = q_sub.add_parser("confirm", help="confirm (or downgrade) a declared priority")
    common(confirm)
    confirm.add_argument("--counter", required=True, type=int)
    confirm.add_argument("--staff", required=True, help="who checked (name or staff id)")
    confirm.add_argument("--downgrade", action="store_true", help="the citizen is not eligible")
    confirm.set_defaults(func=cmd_current, action="confirm")

    counter = q_sub.add_parser("counter", help="open or close a counter for today")
    common(counter)
    counter.add_argument("--counter", required=True, type=int)
    state = counter.add_mutually_exclusive_group(required=True)
    state.add_argument("--open", dest="open", action="store_true")
    state.add_argument("--close", dest="open", action="store_false")
    counter.set_defaults(func=cmd_counter)

    status = q_sub.add_parser("status", help="counters, waiting tickets, estimates")
    common(status)
    status.set_defaults(func=cmd_status)

    board = q_sub.add_parser("board", help="serve the display board and counter endpoints")
    common(board)
    board.add_argument("--host", help="address to listen on (default: [board] host)")
    board.add_argument("--port", type=int, help="port (default: [board] port; 0 = any free)")
    board.add_argument("--no-voice", action="store_true", help="do not announce calls")
    board.add_argument("--seconds", type=float, help="stop after this many seconds")
    board.set_defaults(func=cmd_board)

    say = q_sub.add_parser("say", help="announce a number by voice (espeak-ng)")
    common(say)
    say.add_argument("number", help="ticket number, e.g. IN-012")
    say.add_argument("--counter", required=True, type=int)
    say.add_argument("--wav", help="write the speech to this WAV file instead of playing it")
    say.set_defaults(func=cmd_say)


# --------------------------------------------------------------------------- helpers


def open_queue(cfg: Any) -> tuple[Any, Any]:
    """(TicketStore, catalog) for a kiosk config, built by the composition root as the running
    kiosk builds them; the caller closes the store."""
    parts = KioskParts(cfg)
    return parts.tickets, parts.catalog


def _store(args: argparse.Namespace) -> tuple[Any, Any]:
    from kiosk.config.settings import load_config

    return open_queue(load_config(args.config))


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _describe(ticket: Any) -> str:
    parts = [ticket.number, f"service {ticket.service_code}"]
    if ticket.priority_class:
        parts.append(f"priority {ticket.priority_class}")
    if ticket.counter is not None:
        parts.append(f"counter {ticket.counter}")
    parts.append(ticket.status.value)
    return ", ".join(parts)


def _usage(message: str) -> Exception:
    return UsageError(message)


# --------------------------------------------------------------------------- commands


def cmd_issue(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    with store:
        ticket = store.issue(args.service.strip().upper(), args.priority or None)
    wait = "?" if ticket.estimated_wait is None else str(ticket.estimated_wait)
    text = f"{ticket.number}: {ticket.people_ahead} ahead, about {wait} min"
    _emit(args, ticket.to_dict(), text)
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from kiosk.tickets.voice import board_text

    store, _ = _store(args)
    with store:
        if args.number:
            ticket = store.call(args.counter, args.number)
        else:
            ticket = store.call_next(args.counter)
    if ticket is None:
        _emit(args, {"counter": args.counter, "ticket": None}, "nobody is waiting")
        return 0
    text = board_text(ticket.number, args.counter)
    _emit(args, {"counter": args.counter, "ticket": ticket.to_dict(), "text": text}, text)
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    with store:
        if args.action == "recall":
            ticket = store.recall(args.counter)
        elif args.action == "skip":
            ticket = store.skip(args.counter)
        elif args.action == "complete":
            ticket = store.complete(args.counter)
        elif args.action == "transfer":
            ticket = store.transfer(args.counter, args.service.strip().upper())
        else:
            ticket = store.confirm_priority(args.counter, args.staff, not args.downgrade)
    _emit(args, {"counter": args.counter, "ticket": ticket.to_dict()}, _describe(ticket))
    return 0


def cmd_counter(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    with store:
        state = store.set_counter_open(args.counter, args.open)
        stranded = {
            code: n
            for code, n in store.waiting_by_service().items()
            if store.estimate(code)[1] is None
        }
    text = f"{state.name}: {'open' if state.open else 'closed'}"
    if stranded:
        text += "; no open counter now serves " + ", ".join(
            f"{code} ({n} waiting)" for code, n in sorted(stranded.items())
        )
    _emit(args, {**state.to_dict(), "stranded": stranded}, text)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    with store:
        status = store.status()
    lines = []
    for c in status["counters"]:
        current = c["current"]["number"] if c["current"] else "-"
        state = "open" if c["open"] else "closed"
        lines.append(f"{c['name']:<10} {','.join(c['services']):<8} {state:<7} {current}")
    for code, s in status["services"].items():
        wait = (
            "no open counter"
            if s["estimated_wait_min"] is None
            else (f"about {s['estimated_wait_min']} min")
        )
        lines.append(
            f"{code}: {s['waiting']} waiting ({s['priority_waiting']} priority), {wait}, "
            f"mean service {s['mean_service_min']} min, longest wait {s['longest_wait_min']} min"
        )
    for e in status["recent_calls"]:
        lines.append(f"{e['at'][11:16]} {e['kind']} {e['number']} -> counter {e['counter']}")
    _emit(args, status, "\n".join(lines))
    return 0


def cmd_board(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from kiosk.tickets.board import QueueBoard
    from kiosk.tickets.voice import Announcer

    store, catalog = _store(args)
    cfg = store.config.board
    if args.host is not None:
        cfg = replace(cfg, host=args.host)
    if args.port is not None:
        if not 0 <= args.port <= 65535:
            raise _usage("--port takes 0 to 65535")
        cfg = replace(cfg, port=args.port)
    voice = store.config.voice
    announcer = None if args.no_voice or not voice.enabled else Announcer(voice)
    board = QueueBoard(store, config=cfg, services=catalog.services(), announcer=announcer)
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        board.start()
        print(json.dumps({"url": board.url, "port": board.port}), flush=True)
        stop.wait(args.seconds)
    finally:
        board.stop()
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from kiosk.config.settings import load_config
    from kiosk.tickets.voice import Announcer, announcement_text, synthesize_wav

    voice = KioskParts(load_config(args.config)).queue_config.voice
    if not 1 <= args.counter <= 99:
        raise _usage("--counter takes 1 to 99")
    text = announcement_text(args.number, args.counter)
    if args.wav:
        path = synthesize_wav(text, Path(args.wav), voice)
        _emit(args, {"text": text, "wav": str(path)}, f"{path}: {text}")
        return 0
    announcer = Announcer(voice)
    announcer.say(text)
    announcer.close(timeout=60)
    _emit(args, {"text": text}, text)
    return 0
