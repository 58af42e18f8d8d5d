"""``kiosk ocr mrz IMG``, ``kiosk ocr qr IMG`` and ``kiosk scan IMG... --out F.pdf``.

The vision pipeline on image files: the MRZ and QR readers the identify screen uses, and the
page finder, straightening and searchable PDF of the documents screen. Each exits 1 with a
one-line reason when the image holds nothing usable.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def add_vision_commands(sub: Any) -> None:
    ocr = sub.add_parser("ocr", help="read an MRZ or a card's QR code from an image")
    ocr_sub = ocr.add_subparsers(dest="ocr_command", required=True)
    mrz = ocr_sub.add_parser("mrz", help="read the MRZ (TD1 of the CCCD, TD3 of a passport)")
    mrz.add_argument("image")
    mrz.add_argument("--json", action="store_true")
    mrz.set_defaults(func=cmd_ocr_mrz)
    qr = ocr_sub.add_parser("qr", help="read the QR code of a CCCD / Căn cước card")
    qr.add_argument("image")
    qr.add_argument("--json", action="store_true")
    qr.set_defaults(func=cmd_ocr_qr)

    scan = sub.add_parser("scan", help="find, straighten and OCR pages into a searchable PDF")
    scan.add_argument("images", nargs="+")
    scan.add_argument("--out", required=True, help="the PDF to write")
    scan.add_argument("--lang", default="vie", help="tesseract language (default vie)")
    scan.add_argument("--title", help="PDF title")
    scan.add_argument("--json", action="store_true")
    scan.set_defaults(func=cmd_scan)


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: str) -> None:
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def cmd_ocr_mrz(args: argparse.Namespace) -> int:
    from kiosk.vision.images import load_image
    from kiosk.vision.mrz_reader import read_mrz

    started = time.perf_counter()
    read = read_mrz(load_image(args.image))
    info = read.info
    payload = {
        "lines": read.lines,
        "format": info.format,
        "valid": read.valid,
        "fields": {
            "document_code": info.document_code,
            "issuing_state": info.issuing_state,
            "document_number": info.document_number,
            "date_of_birth": info.date_of_birth,
            "sex": info.sex,
            "date_of_expiry": info.date_of_expiry,
            "nationality": info.nationality,
            "optional_data": info.optional_data,
            "surname": info.surname,
            "given_names": info.given_names,
        },
        "id_number": read.id_number,
        "can": read.can,
        "repaired": read.repaired,
        "seconds": round(time.perf_counter() - started, 3),
    }
    _emit(args, payload, "\n".join(read.lines))
    return 0


def cmd_ocr_qr(args: argparse.Namespace) -> int:
    from kiosk.vision.images import load_image
    from kiosk.vision.qr_reader import read_cccd_qr

    started = time.perf_counter()
    card = read_cccd_qr(load_image(args.image))
    payload = {
        "id_number": card.id_number,
        "old_id": card.old_id,
        "full_name": card.full_name,
        "date_of_birth": card.date_of_birth.isoformat(),
        "sex": card.sex,
        "residence": card.residence,
        "issue_date": card.issue_date.isoformat() if card.issue_date else None,
        "extra": card.extra,
        "can": card.can,
        "seconds": round(time.perf_counter() - started, 3),
    }
    _emit(args, payload, f"{card.id_number} {card.full_name}")
    return 0


def cmd_scan(args: argparse.Namespace) -> int:
    from kiosk.camera.document_pages import page_from_photo
    from kiosk.vision.images import load_image
    from kiosk.vision.pdf import searchable_pdf

    started = time.perf_counter()
    pages = []
    notes = []
    for name in args.images:
        page, note = page_from_photo(load_image(name))
        pages.append(page)
        notes.append({"image": name, **note})
    data = searchable_pdf(pages, lang=args.lang, title=args.title)
    Path(args.out).write_bytes(data)
    payload = {
        "out": args.out,
        "pages": notes,
        "bytes": len(data),
        "seconds": round(time.perf_counter() - started, 2),
    }
    _emit(args, payload, f"{args.out}: {len(pages)} page(s), {len(data)} bytes")
    return 0
