"""``kiosk submit`` and ``kiosk outbox``: the durable outbox from the command line.

``kiosk submit DOSSIER.json [--wait]`` puts a dossier into the outbox exactly as the submit
screen does and prints its provisional reference; ``--wait`` delivers it now and prints the
final dossier code. What was printed counts as the receipt: the dossier's content is purged
once delivered, its answer kept. ``kiosk submit --demo N`` does the same with N plausible
sample dossiers (kiosk/demo/dossiers.py). ``kiosk outbox status`` prints the counts
(pending, delivered, parked, oldest pending age), ``kiosk outbox flush [--timeout S]``
delivers what is pending now, ``kiosk outbox retry REFERENCE`` sends a parked dossier again
once staff fixed the cause.

The outbox is ``<data_dir>/outbox.sqlite``; its key comes from ``KIOSK_OUTBOX_KEY`` or
``[outbox] key_file`` (default ``<data_dir>/outbox.key``, created on first use). The back office
and the outbox are built by the composition root (kiosk/app/services.py ``KioskParts``) as the
running kiosk builds them: the reference back office embedded on loopback when ``[backoffice]
url`` is empty, else the HTTP client. Staff alerts go to ``<data_dir>/alerts.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from kiosk.app.services import KioskParts
from kiosk.cli.usage import UsageError

EXIT_OK = 0
EXIT_FAILED = 1


def flush(parts: KioskParts, timeout: float) -> Any:
    """Deliver what is pending to the configured back office for up to ``timeout`` s (the
    embedded reference back office of the simulated kiosk stops with ``parts``)."""
    return parts.sender(start=False).flush(timeout)


def add_outbox_commands(sub: Any, common: Any) -> None:
    submit = sub.add_parser(
        "submit", help="put a dossier into the outbox, as the submit screen does"
    )
    common(submit)
    submit.add_argument("dossier", nargs="?", help="DOSSIER.json (declaration + attachment paths)")
    submit.add_argument("--demo", type=int, metavar="N", help="N plausible sample dossiers")
    submit.add_argument("--seed", type=int, help="with --demo: the same sample content each time")
    submit.add_argument(
        "--wait", action="store_true", help="deliver now and print the final dossier code"
    )
    submit.add_argument("--timeout", type=float, default=60.0, help="seconds --wait may take")
    submit.set_defaults(func=cmd_submit)

    outbox = sub.add_parser("outbox", help="the durable outbox of dossiers")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    status = outbox_sub.add_parser("status", help="pending, delivered, parked, oldest age")
    common(status)
    status.add_argument("--entries", action="store_true", help="also list the waiting entries")
    status.set_defaults(func=cmd_outbox_status)
    flush = outbox_sub.add_parser("flush", help="deliver every pending dossier now")
    common(flush)
    flush.add_argument("--timeout", type=float, default=60.0, help="seconds to keep trying")
    flush.set_defaults(func=cmd_outbox_flush)
    retry = outbox_sub.add_parser("retry", help="send a parked dossier again")
    common(retry)
    retry.add_argument("reference", help="the provisional reference, e.g. KIOSK-01-261124-000123")
    retry.set_defaults(func=cmd_outbox_retry)


def _emit(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _usage(message: str) -> Exception:
    return UsageError(message)


def cmd_submit(args: argparse.Namespace) -> int:
    from kiosk.config.settings import load_config
    from kiosk.dossier.model import DossierSubmission

    if (args.dossier is None) == (args.demo is None):
        raise _usage("give a DOSSIER.json or --demo N")
    if args.demo is not None and not 1 <= args.demo <= 10_000:
        raise _usage("--demo takes a number of dossiers from 1 to 10000")
    cfg = load_config(args.config)
    parts = KioskParts(cfg)
    outbox = parts.outbox
    scratch: Path | None = None
    try:
        if args.dossier is not None:
            submissions = [DossierSubmission.from_file(Path(args.dossier))]
        else:
            from kiosk.demo.dossiers import sample_dossiers

            scratch = Path(tempfile.mkdtemp(prefix="demo-dossiers-", dir=cfg.kiosk.data_dir))
            submissions = sample_dossiers(
                parts.catalog, cfg.kiosk.id, args.demo, scratch, seed=args.seed
            )
        entries = [outbox.put(s) for s in submissions]
        if scratch is not None:  # the outbox holds its own copies now
            shutil.rmtree(scratch, ignore_errors=True)
            scratch = None
        status = None
        if args.wait:
            status = flush(parts, args.timeout)
            entries = [outbox.find(e.reference) or e for e in entries]
        rows = [_entry_row(e) for e in entries]
        payload: dict[str, Any] = {"entries": rows}
        if status is not None:
            payload["outbox"] = status.to_dict()
        _emit(args, payload, "\n".join(_entry_line(r) for r in rows))
        for entry in entries:  # printed, as a receipt is: keep only the answer once delivered
            if entry.id is not None:
                outbox.purge_delivered(entry.id)
        return EXIT_OK if not args.wait or all(r["state"] == "delivered" for r in rows) else 1
    finally:
        parts.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _entry_row(entry: Any) -> dict[str, Any]:
    return {
        "reference": entry.reference,
        "idempotency_key": entry.idempotency_key,
        "procedure_code": entry.procedure_code,
        "state": entry.state.value,
        "dossier_code": entry.result.dossier_code if entry.result else None,
        "attempts": entry.attempts,
        "last_error_kind": entry.last_error_kind,
    }


def _entry_line(row: dict[str, Any]) -> str:
    if row["dossier_code"]:
        return f"{row['reference']} delivered as {row['dossier_code']}"
    if row["state"] == "parked":
        return f"{row['reference']} parked ({row['last_error_kind']}): see kiosk outbox status"
    return f"{row['reference']} pending (idempotency key {row['idempotency_key']})"


def _status_text(status: Any) -> str:
    d = status.to_dict()
    age = d["oldest_pending_age_s"]
    lines = [
        f"pending: {d['pending']}" + (f" (oldest {age:.0f} s)" if age is not None else ""),
        f"delivered: {d['delivered']} (content not yet purged: {d['awaiting_purge']})",
        f"parked: {d['parked']}" + (f" {', '.join(d['parked_references'])}" if d["parked"] else ""),
    ]
    if d["quarantined"]:
        lines.append(f"damaged outbox files kept aside: {', '.join(d['quarantined'])}")
    return "\n".join(lines)


def cmd_outbox_status(args: argparse.Namespace) -> int:
    from kiosk.config.settings import load_config
    from kiosk.delivery.outbox.store import EntryState

    with KioskParts(load_config(args.config)) as parts:
        outbox = parts.outbox
        status = outbox.status()
        payload = status.to_dict()
        text = _status_text(status)
        if args.entries:
            waiting = outbox.entries(EntryState.PENDING) + outbox.entries(EntryState.PARKED)
            payload["entries"] = [e.to_dict() for e in waiting]
            text += "".join(
                f"\n  {e.reference} {e.state.value} attempts={e.attempts} {e.last_error_kind or ''}"
                for e in waiting
            )
    _emit(args, payload, text)
    return EXIT_OK


def cmd_outbox_flush(args: argparse.Namespace) -> int:
    from kiosk.config.settings import load_config

    if args.timeout < 0:
        raise _usage("--timeout takes a number of seconds, 0 or more")
    with KioskParts(load_config(args.config)) as parts:
        status = flush(parts, args.timeout)
    _emit(args, status.to_dict(), _status_text(status))
    return EXIT_OK if status.pending == 0 else EXIT_FAILED


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    from kiosk.config.settings import load_config

    with KioskParts(load_config(args.config)) as parts:
        entry = parts.outbox.requeue(args.reference)
    _emit(args, entry.to_dict(), f"{entry.reference}: pending again; run kiosk outbox flush")
    return EXIT_OK
