"""``kiosk catalog list`` and ``kiosk forms validate``: the procedure catalog from the command line.

``catalog list`` prints every procedure of the configured catalog (code, field, name, days,
fee, applicants, the agency that handles it). ``forms validate PROCEDURE data.json`` checks a
declaration (the JSON answers a dossier carries) against the procedure's form with the kiosk's
own rules and prints each problem with its field path, in Vietnamese and English; exit 1 when
there is any.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from kiosk.errors import KioskError
from kiosk.infra.text import format_vnd


def add_catalog_commands(sub: Any, common: Any) -> None:
    catalog = sub.add_parser("catalog", help="the procedure catalog")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    listing = catalog_sub.add_parser("list", help="list the procedures offered")
    common(listing)
    listing.add_argument("--lang", choices=["vi", "en"], default="vi")
    listing.set_defaults(func=cmd_catalog_list)

    forms = sub.add_parser("forms", help="declaration forms")
    forms_sub = forms.add_subparsers(dest="forms_command", required=True)
    validate = forms_sub.add_parser("validate", help="check a declaration against its form")
    common(validate)
    validate.add_argument("procedure", help="the procedure code, e.g. 1.004492")
    validate.add_argument("data", help="the declaration: a JSON object of answers")
    validate.set_defaults(func=cmd_forms_validate)


def _catalog(args: argparse.Namespace) -> tuple[Any, Any]:
    from kiosk.catalog.agencies import load_agencies
    from kiosk.catalog.procedures import load_catalog
    from kiosk.config.settings import load_config

    cfg = load_config(args.config)
    catalog = load_catalog(cfg.catalog.procedures_dir)
    return catalog, load_agencies(cfg.catalog.agencies_file, catalog)


def cmd_catalog_list(args: argparse.Namespace) -> int:
    from kiosk.forms.spec import FormSpec

    catalog, agencies = _catalog(args)
    rows = []
    for p in catalog.procedures(args.lang):
        agency = agencies.for_procedure(p)
        rows.append(
            {
                "code": p.code,
                "code_is_national": p.code_is_national,
                "name": p.title(args.lang),
                "field": p.field_title(args.lang),
                "service_code": p.service_code,
                "processing_days": p.processing_days,
                "fee_vnd": p.fee_vnd,
                "applicant_types": list(p.applicant_types),
                "documents": len(p.documents),
                "form_fields": len(FormSpec.from_definition(p.form).fields),
                "agency": agency.name(args.lang) if agency else None,
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        fee = format_vnd(r["fee_vnd"])
        print(
            f"{r['code']:<12} {r['service_code']:<3} {r['processing_days']:>3} ngày  {fee:>12}  "
            f"{r['name']}  [{r['agency']}]"
        )
    return 0


def cmd_forms_validate(args: argparse.Namespace) -> int:
    from kiosk.forms.spec import FormSpec
    from kiosk.i18n import translator

    catalog, _ = _catalog(args)
    procedure = catalog.get(args.procedure)
    path = Path(args.data)
    try:
        answers = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KioskError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise KioskError(f"{path}: cannot be read: {e}") from e
    except json.JSONDecodeError as e:
        raise KioskError(
            f"{path}: line {e.lineno} column {e.colno}: not valid JSON: {e.msg}"
        ) from e
    problems = FormSpec.from_definition(procedure.form).validate_answers(answers)
    vi, en = translator("vi"), translator("en")
    rows = [
        {"path": key or "$", "message_vi": p.text(vi), "message_en": p.text(en)}
        for key, p in sorted(problems.items())
    ]
    if args.json:
        print(json.dumps({"valid": not rows, "problems": rows}, ensure_ascii=False, indent=2))
    elif rows:
        for r in rows:
            print(f"{path}: {r['path']}: {r['message_vi']} ({r['message_en']})")
    else:
        print(f"{path}: valid for {procedure.code} {procedure.title('vi')}")
    return 1 if rows else 0
