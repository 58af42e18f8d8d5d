"""``kiosk chip read`` and ``kiosk chip simulate``: the chip path from the command line.

``chip read`` reads a card on a PC/SC reader (or the configured simulated one) with the CAN from
``--id``/``--can`` or the MRZ, and prints what was read and how it was authenticated.
``chip simulate`` plugs a simulated CCCD into pcscd's vpcd virtual reader and prints one JSON
line with what a tester types: the ID number, the CAN and the MRZ.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.cli.usage import UsageError


def add_chip_commands(sub: Any, common: Any) -> None:
    chip = sub.add_parser("chip", help="read or simulate a CCCD chip")
    chip_sub = chip.add_subparsers(dest="chip_command", required=True)

    read = chip_sub.add_parser("read", help="read and authenticate a card")
    common(read)
    read.add_argument("--reader", help="part of the PC/SC reader's name (default: from config)")
    key = read.add_mutually_exclusive_group(required=True)
    key.add_argument("--can", help="the 6-digit card access number")
    key.add_argument("--mrz", help="the MRZ lines, separated by newlines or '|'")
    key.add_argument("--id", dest="id_number", help="the 12-digit ID number (its CAN is used)")
    read.add_argument("--trust", action="append", default=[], help="extra CSCA folder or file")
    read.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for a card")
    read.add_argument("--photo", help="write the face image to this file")
    read.set_defaults(func=cmd_chip_read)

    simulate = chip_sub.add_parser("simulate", help="a virtual CCCD in pcscd's vpcd reader")
    common(simulate)
    simulate.add_argument("--profile", default="demo")
    simulate.add_argument("--vpcd", default="127.0.0.1:35963", help="HOST:PORT of vpcd")
    simulate.add_argument("--once", action="store_true", help="stop when the card is removed")
    simulate.set_defaults(func=cmd_chip_simulate)


def _reader_settings(args: argparse.Namespace, cfg: Any) -> Any:
    """The card-reader settings, with ``--reader`` meaning a real PC/SC reader.

    The trust store follows the same settings: the TEST CSCA of the simulated cards is trusted
    only with the simulated reader, never for a card on a PC/SC reader.
    """
    settings = cfg.card_reader
    if args.reader is not None:
        settings = replace(settings, mode="pcsc", reader=args.reader)
    return settings


def cmd_chip_read(args: argparse.Namespace) -> int:
    from kiosk.app.services import KioskParts
    from kiosk.config.settings import load_config
    from kiosk.emrtd.reader import AccessKey, read_chip
    from kiosk.identity.chip_service import date_of_expiry
    from kiosk.identity.id_number import can_from_id_number

    cfg = load_config(args.config)
    if args.id_number:
        key = AccessKey(can=can_from_id_number(args.id_number))
    elif args.can:
        if not (len(args.can) == 6 and args.can.isdigit()):
            raise _usage("--can takes the 6 digits printed on the card")
        key = AccessKey(can=args.can)
    else:
        key = AccessKey.from_mrz(args.mrz.replace("|", "\n"))
    parts = KioskParts(replace(cfg, card_reader=_reader_settings(args, cfg)))
    trust = parts.trust
    for extra in args.trust:
        _trust_file(trust, Path(extra))
    reader = parts.card_reader
    connection = reader.wait_for_card(args.timeout)
    try:
        result = read_chip(connection.transmit, key, trust)
    finally:
        connection.close()
    payload = describe_result(result, expiry=date_of_expiry(result))
    if args.photo and result.face_image:
        Path(args.photo).write_bytes(result.face_image)
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        for name, value in payload.items():
            print(f"{name}: {value}")
    return 0


def _trust_file(trust: Any, path: Path) -> None:
    """Add the certificates of a PEM/DER file (or of every file in a folder) to ``trust``."""
    from cryptography import x509

    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    for file in files:
        data = file.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            for cert in x509.load_pem_x509_certificates(data):
                trust.add(cert)
        elif b"PRIVATE KEY" not in data:
            trust.add(x509.load_der_x509_certificate(data))


def describe_result(result: Any, *, expiry: date | None) -> dict[str, Any]:
    dg1 = result.dg1
    dg13 = result.dg13
    passive = result.passive
    return {
        "protocol": result.protocol,
        "dg1": None
        if dg1 is None
        else {
            "document_number": dg1.document_number,
            "date_of_birth": dg1.date_of_birth,
            "date_of_expiry": dg1.date_of_expiry,
            "sex": dg1.sex,
            "nationality": dg1.nationality,
            "optional_data": dg1.optional_data,
            "valid": dg1.valid,
        },
        "dg13": None if dg13 is None else _plain(dg13),
        "photo": None
        if not result.face_image
        else {"bytes": len(result.face_image), "type": result.face_mime},
        "passive_authentication": passive.status.value,
        "failed_data_groups": list(getattr(passive, "failed_groups", [])),
        "active_authentication": None if result.active is None else _plain(result.active),
        "expired": expiry < date.today() if expiry else None,
        "apdus": result.stats.apdus,
        "bytes": result.stats.bytes_sent + result.stats.bytes_received,
    }


def _plain(obj: Any) -> Any:
    from dataclasses import asdict, is_dataclass
    from enum import Enum

    if is_dataclass(obj):
        return {k: _plain(v) for k, v in asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, bytes):
        return obj.hex()
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def cmd_chip_simulate(args: argparse.Namespace) -> int:
    from devices.simulated.profiles import build_chip, profile_info
    from devices.simulated.vpcd import VpcdCard, VpcdLinkError
    from kiosk.config.settings import load_config

    cfg = load_config(args.config)
    host, _, port = args.vpcd.rpartition(":")
    if not host or not port.isdigit():
        raise _usage("--vpcd takes HOST:PORT, e.g. 127.0.0.1:35963")
    chip = build_chip(args.profile, cfg.card_reader.test_pki_dir)
    link = VpcdCard(chip, host, int(port))
    try:
        link.connect()
    except VpcdLinkError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
    print(
        json.dumps({**profile_info(args.profile, chip), "vpcd": args.vpcd}, ensure_ascii=False),
        flush=True,
    )
    try:
        while True:
            why = link.serve()
            if args.once or why == "stopped":
                return 0
            chip.power_on()
            link = VpcdCard(chip, host, int(port))
            link.connect()
    except KeyboardInterrupt:
        return 0


def _usage(message: str) -> Exception:
    return UsageError(message)
