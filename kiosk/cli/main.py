"""The ``kiosk`` command: run the kiosk, render screens, check the config, check the devices.

Every command prints JSON with ``--json`` and exits non-zero with a one-line message on bad
input. Later issues add the chip, OCR, back-office, outbox, queue and printer commands of the
contract in DESIGN.md; the printer's are ``kiosk printer simulate|status|test-page`` and
``kiosk receipt render`` (kiosk/cli/printer.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.cli.usage import UsageError
from kiosk.config.settings import (
    ConfigError,
    check_config,
    config_as_dict,
    default_config_path,
    load_config,
)
from kiosk.errors import KioskError
from kiosk.infra.log_ring import LOG_FORMAT  # one format: stderr and the staff's export

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

log = logging.getLogger("kiosk.cli.main")

#: The product's own loggers: ``kiosk run`` and ``kiosk screenshot`` show their INFO lines.
OWN_LOGGERS = ("kiosk", "devices", "backoffice")


def _print(args: argparse.Namespace, payload: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _load(args: argparse.Namespace) -> Any:
    return load_config(args.config)


def cmd_run(args: argparse.Namespace) -> int:
    from kiosk.app.launch import run_kiosk

    cfg = _load(args)

    def ready() -> None:
        log.info("kiosk %s ready: the welcome screen is showing", cfg.kiosk.id)

    return run_kiosk(cfg, offscreen=args.offscreen, seconds=args.seconds, on_ready=ready)


def cmd_screenshot(args: argparse.Namespace) -> int:
    from kiosk.app.screenshots import MODES, SCREENSHOT_SCREENS, STAFF_SCREENS, render_screens

    cfg = _load(args)
    if args.all:
        screens = list(SCREENSHOT_SCREENS)
        out = Path(args.all)
        langs: tuple[str, ...] = ("vi", "en") if args.lang is None else (args.lang,)
        single = False
    else:
        if not args.screen or not args.out:
            raise UsageError("give a SCREEN and --out F.png, or --all DIR")
        known = list(dict.fromkeys([*SCREENSHOT_SCREENS, *STAFF_SCREENS]))
        if args.screen not in known:
            raise UsageError(f"unknown screen {args.screen!r} (screens: {', '.join(known)})")
        screens = [args.screen]
        out = Path(args.out)
        langs = (args.lang or "vi",)
        single = True
    modes = tuple(MODES) if args.modes == "all" else None
    if args.modes and args.modes != "all":
        modes = tuple(m.strip() for m in args.modes.split(","))
        unknown = [m for m in modes if m not in MODES]
        if unknown:
            raise UsageError(f"unknown mode {unknown[0]!r} (modes: {', '.join(MODES)}, all)")
    if modes and single and len(modes) > 1:
        raise UsageError("one --out file holds one mode: use --all DIR for several")
    at = None
    if args.at:
        try:
            at = datetime.fromisoformat(args.at)
        except ValueError:
            raise UsageError(
                f"--at {args.at!r} is not a date and time like 2026-12-07T09:30"
            ) from None
    problems: dict[str, list[str]] | None = {} if args.check else None
    written = render_screens(
        cfg,
        screens,
        out,
        langs=langs,
        large_text=args.large_text,
        contrast=args.contrast,
        modes=modes,
        single_file=single,
        at=at,
        problems=problems,
    )
    found = {name: lines for name, lines in (problems or {}).items() if lines}
    text = "\n".join(str(p) for p in written)
    if found:
        text += "\n" + "\n".join(
            f"{name}: {line}" for name, lines in found.items() for line in lines
        )
    payload: dict[str, Any] = {"written": [str(p) for p in written]}
    if problems is not None:
        payload["problems"] = problems
    _print(args, payload, text)
    return EXIT_FAILED if found else EXIT_OK


def cmd_config_check(args: argparse.Namespace) -> int:
    path = Path(args.file) if args.file else default_config_path()
    issues: list[Any] = list(check_config(path))
    if not issues:
        issues += data_file_problems(load_config(path))
    if args.json:
        payload: dict[str, Any] = {"file": str(path), "ok": not issues}
        payload["issues"] = [
            i.to_dict() if hasattr(i, "to_dict") else {"message": str(i)} for i in issues
        ]
        if not issues:
            payload["config"] = config_as_dict(load_config(path))
        _print(args, payload, "")
    elif issues:
        for issue in issues:
            print(issue, file=sys.stderr)
    else:
        print(f"{path}: OK")
    return EXIT_FAILED if issues else EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from kiosk.app.launch import describe_services
    from kiosk.app.services import build_services

    cfg = _load(args)
    services = build_services(cfg)
    try:
        reports = describe_services(services)
    finally:
        services.close()
    ok = all(r["ok"] for r in reports)
    text = "\n".join(f"{'OK ' if r['ok'] else 'BAD'} {r['device']}: {r['detail']}" for r in reports)
    _print(args, {"ok": ok, "checks": reports}, text)
    return EXIT_OK if ok else EXIT_FAILED


def data_file_problems(cfg: Any) -> list[str]:
    """Problems of the files the config points at: procedures, agencies, holidays."""
    from kiosk.catalog.agencies import AgencyFileError, load_agencies
    from kiosk.catalog.procedures import CatalogFileError, load_catalog
    from kiosk.dossier.workdays import load_holidays

    problems: list[str] = []
    catalog = None
    try:
        catalog = load_catalog(cfg.catalog.procedures_dir)
    except CatalogFileError as exc:
        problems += exc.problems
    try:
        load_agencies(cfg.catalog.agencies_file, catalog)
    except AgencyFileError as exc:
        problems += exc.problems
    try:
        load_holidays(cfg.catalog.holidays_file)
    except KioskError as exc:
        problems.append(str(exc))
    return problems


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="motcua-kiosk: one-stop-shop kiosk")
    parser.add_argument(
        "--log-level",
        help="DEBUG, INFO, WARNING, ERROR for every logger, Kivy's included (default: the "
        "kiosk's own INFO lines for run and screenshot, else WARNING; other libraries WARNING)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, config: bool = True) -> None:
        p.add_argument("--json", action="store_true", help="print JSON")
        if config:
            p.add_argument("--config", help="config file ($KIOSK_CONFIG, else config/kiosk.toml)")

    run = sub.add_parser("run", help="run the kiosk")
    common(run)
    run.add_argument("--offscreen", action="store_true", help="render offscreen (no display)")
    run.add_argument("--seconds", type=float, help="stop after this many seconds (smoke test)")
    run.set_defaults(func=cmd_run, own_log_level="INFO")

    shot = sub.add_parser("screenshot", help="render a screen with sample data to PNG")
    common(shot)
    shot.add_argument("screen", nargs="?", help="screen name, e.g. welcome, form, receipt, idle")
    shot.add_argument("--out", help="PNG file to write")
    shot.add_argument("--all", metavar="DIR", help="render every screen in vi and en into DIR")
    shot.add_argument("--lang", choices=["vi", "en"])
    shot.add_argument("--large-text", action="store_true")
    shot.add_argument("--contrast", action="store_true")
    shot.add_argument(
        "--modes", help="looks to render: normal,large,contrast or all (instead of the two flags)"
    )
    shot.add_argument(
        "--at", help="hold the wall clock at this Vietnam time, e.g. 2026-12-07T09:30"
    )
    shot.add_argument(
        "--check",
        action="store_true",
        help="check each render's layout, text and contrast (exit 1 with the problems)",
    )
    shot.set_defaults(func=cmd_screenshot, own_log_level="INFO")

    config = sub.add_parser("config", help="configuration")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    check = config_sub.add_parser("check", help="validate a config file")
    check.add_argument("file", nargs="?")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_config_check)

    doctor = sub.add_parser("doctor", help="check every configured device and the back office")
    common(doctor)
    doctor.set_defaults(func=cmd_doctor)

    from kiosk.cli.backoffice import add_backoffice_commands
    from kiosk.cli.catalog import add_catalog_commands
    from kiosk.cli.chip import add_chip_commands
    from kiosk.cli.outbox import add_outbox_commands
    from kiosk.cli.printer import add_printer_commands, add_receipt_commands
    from kiosk.cli.queue import add_queue_commands
    from kiosk.cli.staff import add_staff_commands
    from kiosk.cli.vision import add_vision_commands

    add_chip_commands(sub, common)
    add_vision_commands(sub)
    add_catalog_commands(sub, common)
    add_backoffice_commands(sub, common)
    add_outbox_commands(sub, common)
    add_queue_commands(sub, common)
    add_printer_commands(sub, common)
    add_receipt_commands(sub, common)
    add_staff_commands(sub, common)
    return parser


def _level(name: str | None, default: int) -> int:
    level = logging.getLevelName(str(name).upper()) if name else default
    return level if isinstance(level, int) else default


def configure_logging(log_level: str | None, *, own_default: str = "WARNING") -> None:
    """One stderr handler, one format, for the kiosk's loggers and every library's.

    With no ``--log-level`` the kiosk's own loggers (``OWN_LOGGERS``) log at ``own_default``
    (INFO for ``run`` and ``screenshot``: the operator sees which devices the kiosk started
    with) and everything else, Kivy included (screens/kivy_env.py), at WARNING. An explicit
    ``--log-level`` applies to all of them alike, e.g. DEBUG to see Kivy's own start-up lines.
    """
    own = _level(log_level or own_default, logging.WARNING)
    everything = _level(log_level, logging.WARNING)
    logging.basicConfig(level=everything, format=LOG_FORMAT)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(own)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.log_level, own_default=getattr(args, "own_log_level", "WARNING"))
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return EXIT_FAILED
    except KioskError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
