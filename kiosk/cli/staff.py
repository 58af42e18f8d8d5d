"""``kiosk staff …`` and ``kiosk audit …``: staff accounts and the audit log from the command line.

    kiosk staff add --name NAME --role technician|supervisor [--card ID]   a new account
    kiosk staff list                  id, name, role, staff card (masked), when the PIN was set
    kiosk staff remove ID             remove an account (its id is never given again)
    kiosk staff pin ID                give an account a new PIN
    kiosk audit verify                check the hash chain: "N entries, chain intact", or exit 1
                                      naming the first bad line, its seq and why
    kiosk audit show [--since SEQ]    the entries after SEQ

A PIN is never an argument (it would stay in the shell's history and in ``ps``): ``add`` and
``pin`` read it twice, with ``getpass`` at a terminal, else as two lines on standard input
(``printf '480215\\n480215\\n' | kiosk staff add …``); it is never printed. Each staff command
is itself audited, with actor ``cli:<unix user>``. The files are the kiosk's: the accounts in
``<data_dir>/staff/accounts.json``, the log in ``<data_dir>/audit.jsonl`` (kiosk/staff/).
Each command prints JSON with ``--json`` and exits non-zero with a one-line message on bad input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import math
import os
import pwd
import sys
from pathlib import Path
from typing import Any

from kiosk.cli.usage import UsageError
from kiosk.staff.accounts import (
    AccountBook,
    Role,
    StaffAccount,
    check_pin_rules,
    mask_card,
    normalise_card,
    normalise_name,
)
from kiosk.staff.audit import AUDIT_FILE, AuditLog, check
from kiosk.staff.errors import CardRefused, UnknownAccount, WeakPin

EXIT_OK = 0
EXIT_FAILED = 1


def add_staff_commands(sub: Any, common: Any) -> None:
    """Register ``kiosk staff …`` and ``kiosk audit …``."""
    staff = sub.add_parser("staff", help="staff accounts for maintenance mode")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_sub.add_parser(
        "add", help="a new staff account (the PIN is read twice from the terminal or stdin)"
    )
    common(add)
    add.add_argument("--name", required=True, help="the staff member's full name")
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--card", metavar="ID", help="the 12-digit ID number of their own card")
    add.set_defaults(func=cmd_staff_add)
    listing = staff_sub.add_parser("list", help="the staff accounts")
    common(listing)
    listing.set_defaults(func=cmd_staff_list)
    remove = staff_sub.add_parser("remove", help="remove a staff account")
    common(remove)
    remove.add_argument("id", help="the account's id, e.g. NV001")
    remove.set_defaults(func=cmd_staff_remove)
    pin = staff_sub.add_parser("pin", help="give an account a new PIN (read twice)")
    common(pin)
    pin.add_argument("id", help="the account's id, e.g. NV001")
    pin.set_defaults(func=cmd_staff_pin)
    unlock = staff_sub.add_parser(
        "unlock", help="clear the PIN pad's lock-out (someone hammered it with wrong PINs)"
    )
    common(unlock)
    unlock.set_defaults(func=cmd_staff_unlock)
    reopen = staff_sub.add_parser(
        "reopen", help="put a kiosk closed from maintenance mode back in service"
    )
    common(reopen)
    reopen.set_defaults(func=cmd_staff_reopen)

    audit = sub.add_parser("audit", help="the hash-chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_sub.add_parser("verify", help="check the chain; exit 1 at the first bad line")
    common(verify)
    verify.set_defaults(func=cmd_audit_verify)
    show = audit_sub.add_parser("show", help="the entries of the audit log")
    common(show)
    show.add_argument("--since", type=int, default=0, metavar="SEQ", help="entries after SEQ")
    show.set_defaults(func=cmd_audit_show)


# -- the commands ---------------------------------------------------------------------------------


def cmd_staff_add(args: argparse.Namespace) -> int:
    book, log = _open(args)
    try:  # before asking for a PIN
        normalise_name(args.name)
        if args.card:
            normalise_card(args.card)
    except (CardRefused, ValueError) as e:
        raise _usage(str(e)) from None
    pin = read_new_pin()
    try:
        account = book.add(args.name, args.role, pin, args.card)
    except (WeakPin, CardRefused, ValueError) as e:
        raise _usage(str(e)) from None
    log.append(
        _actor(),
        "staff.add",
        {"account": account.id, "role": account.role.value, "card": bool(account.card_number)},
    )
    _emit(args, account.public(), f"{account.id} added ({account.role.value})")
    return EXIT_OK


def cmd_staff_list(args: argparse.Namespace) -> int:
    book, log = _open(args)
    accounts = book.accounts()
    log.append(_actor(), "staff.list", {"count": len(accounts)})
    text = "\n".join(_account_line(a) for a in accounts) or "no staff accounts"
    _emit(args, {"accounts": [a.public() for a in accounts]}, text)
    return EXIT_OK


def cmd_staff_remove(args: argparse.Namespace) -> int:
    book, log = _open(args)
    try:
        account = book.remove(args.id)
    except UnknownAccount as e:
        raise _usage(str(e)) from None
    log.append(_actor(), "staff.remove", {"account": account.id})
    _emit(args, {"removed": account.id}, f"{account.id} removed")
    return EXIT_OK


def cmd_staff_pin(args: argparse.Namespace) -> int:
    book, log = _open(args)
    if book.get(args.id) is None:  # before asking for a PIN
        raise _usage(f"no staff account {args.id.strip().upper()!r}")
    pin = read_new_pin()
    try:
        account = book.set_pin(args.id, pin)
    except (WeakPin, UnknownAccount) as e:
        raise _usage(str(e)) from None
    log.append(_actor(), "staff.pin_set", {"account": account.id})
    _emit(
        args,
        {"account": account.id, "pin_changed_at": account.pin_changed_at},
        f"{account.id}: new PIN set",
    )
    return EXIT_OK


def cmd_staff_unlock(args: argparse.Namespace) -> int:
    from kiosk.staff.lockout import PinLockout

    _book, log = _open(args)
    lockout = PinLockout.in_data_dir(_data_dir(args))
    wait = lockout.wait_s()
    lockout.record_success()
    log.append(_actor(), "staff.unlock", {"wait_s": math.ceil(wait)})
    _emit(args, {"unlocked": True, "was_locked_s": math.ceil(wait)}, "the PIN pad takes PINs again")
    return EXIT_OK


def cmd_staff_reopen(args: argparse.Namespace) -> int:
    from kiosk.staff.service_state import ServiceState

    _book, log = _open(args)
    state = ServiceState(_data_dir(args))
    was_closed = state.out_of_service
    log.append(_actor(), "maintenance.back_in_service", {"was_closed": was_closed})
    state.reopen()
    text = "back in service (a running kiosk shows it after its next restart)"
    _emit(args, {"was_closed": was_closed}, text if was_closed else "the kiosk was not closed")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    path = _data_dir(args) / AUDIT_FILE
    report = check(path)
    if report.problem is None:
        text = f"{report.entries} entries, chain intact"
    else:
        text = f"{path}: {report.problem}; the {report.entries} entries before it are intact"
    _emit(args, report.to_dict(), text)
    return EXIT_OK if report.intact else EXIT_FAILED


def cmd_audit_show(args: argparse.Namespace) -> int:
    if args.since < 0:
        raise _usage("--since takes a sequence number of 0 or more")
    cfg = _config(args)
    log = AuditLog.in_data_dir(Path(cfg.kiosk.data_dir), kiosk_id=cfg.kiosk.id)
    entries = log.entries_since(args.since)
    text = "\n".join(
        f"{e.seq:>6} {e.at} {e.actor} {e.action} "
        f"{json.dumps(e.detail, ensure_ascii=False, sort_keys=True)}"
        for e in entries
    )
    _emit(args, {"entries": [e.to_dict() for e in entries]}, text)
    return EXIT_OK


# -- helpers ------------------------------------------------------------------------------------


def read_new_pin(stdin: Any = None) -> str:
    """A new PIN, typed twice: ``getpass`` at a terminal, else two lines of ``stdin``. Checked
    against the PIN rules; never echoed, never part of a message."""
    stream = sys.stdin if stdin is None else stdin
    if stream.isatty():
        first = getpass.getpass("New PIN: ")
        second = getpass.getpass("The same PIN again: ")
    else:
        first = stream.readline()
        second = stream.readline()
        if not first:
            raise _usage("no PIN on standard input: give the new PIN twice, one a line")
        first, second = first.rstrip("\r\n"), second.rstrip("\r\n")
    if first != second:
        raise _usage("the two PINs differ: nothing was changed")
    try:
        check_pin_rules(first)
    except WeakPin as e:
        raise _usage(f"PIN refused: {e}") from None
    return first


def _account_line(account: StaffAccount) -> str:
    card = mask_card(account.card_number) or "no card"
    return f"{account.id}  {account.role.value:<10}  {account.full_name}  ({card})"


def _actor() -> str:
    """``cli:<unix user>`` from the real user id (not from $USER, which anyone can set)."""
    try:
        name = pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        name = str(os.getuid())
    return f"cli:{name}"


def _config(args: argparse.Namespace) -> Any:
    from kiosk.config.settings import load_config

    return load_config(args.config)


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(_config(args).kiosk.data_dir)


def _open(args: argparse.Namespace) -> tuple[AccountBook, AuditLog]:
    cfg = _config(args)
    data_dir = Path(cfg.kiosk.data_dir)
    return AccountBook.in_data_dir(data_dir), AuditLog.in_data_dir(data_dir, kiosk_id=cfg.kiosk.id)


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    elif text:
        print(text)


def _usage(message: str) -> Exception:
    return UsageError(message)
