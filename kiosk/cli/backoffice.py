"""``kiosk backoffice …``: run and administer the reference back office (backoffice/).

    kiosk backoffice serve [--config F] [--db URL] [--host H] [--port P]
    kiosk backoffice report [--config F] [--db URL] --json
    kiosk backoffice add-kiosk ID [--rotate] [--config F] [--db URL]
    kiosk backoffice seed-demo [--config F] [--db URL]

``--config`` names the back office's settings (config/backoffice.toml by default, or
``$BACKOFFICE_CONFIG``), not the kiosk's. ``add-kiosk`` prints the kiosk's new secret once: put
it in that kiosk's ``KIOSK_BACKOFFICE_TOKEN``. ``report`` counts dossiers per kiosk, per
procedure and per state and lists any dossier stored twice (same idempotency key, or same
kiosk, applicant, procedure and declaration). ``serve --fd N`` serves on an inherited
listening socket (systemd socket activation, tests).

``python -m kiosk.cli.backoffice backoffice …`` runs them without the rest of ``kiosk``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_backoffice_commands(sub: Any, common: Any) -> None:
    bo = sub.add_parser("backoffice", help="the reference back office (server)")
    bo_sub = bo.add_subparsers(dest="backoffice_command", required=True)

    def settings_options(p: argparse.ArgumentParser) -> None:
        common(p, config=False)
        p.add_argument("--config", help="back-office settings (default config/backoffice.toml)")
        p.add_argument("--db", help="database URL, e.g. sqlite:///bo.sqlite (overrides db_url)")

    serve = bo_sub.add_parser("serve", help="run the back-office server")
    settings_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8800, help="TCP port (default 8800)")
    serve.add_argument("--fd", type=int, help="serve on this inherited listening socket")
    serve.set_defaults(func=cmd_serve)

    report = bo_sub.add_parser("report", help="dossiers per kiosk, procedure, state; duplicates")
    settings_options(report)
    report.set_defaults(func=cmd_report)

    add = bo_sub.add_parser("add-kiosk", help="register a kiosk and print its new secret")
    settings_options(add)
    add.add_argument("kiosk_id", metavar="ID")
    add.add_argument("--rotate", action="store_true", help="give a registered kiosk a new secret")
    add.set_defaults(func=cmd_add_kiosk)

    seed = bo_sub.add_parser("seed-demo", help="papers on file for the simulated demo citizen")
    settings_options(seed)
    seed.set_defaults(func=cmd_seed_demo)


def _context(args: argparse.Namespace) -> Any:
    from backoffice.context import Context
    from backoffice.settings import load_settings, with_db_url

    return Context.open(with_db_url(load_settings(args.config), args.db))


def _api_errors(func: Any) -> Any:
    """ApiError (a refused action) becomes a one-line KioskError for ``kiosk``'s main."""

    def run(args: argparse.Namespace) -> int:
        from backoffice.errors import ApiError
        from kiosk.errors import KioskError

        try:
            return int(func(args))
        except ApiError as e:
            raise KioskError(e.message) from None

    return run


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from backoffice.app import create_app
    from backoffice.settings import load_settings, with_db_url

    settings = with_db_url(load_settings(args.config), args.db)
    app = create_app(settings)
    if not settings.staff_token:
        logging.getLogger("backoffice").warning(
            "no staff token: the staff page and API are off (set BACKOFFICE_STAFF_TOKEN)"
        )
    options: dict[str, Any] = {"log_level": "info", "access_log": False, "lifespan": "on"}
    if args.fd is not None:
        # socket(fileno=) reads the inherited socket's family and protocol; uvicorn's own fd=
        # takes it for a Unix socket, so asyncio would leave Nagle on and every request after
        # the first on a kept-alive connection would wait ~40 ms for a delayed ACK.
        import socket

        inherited = socket.socket(fileno=args.fd)
        uvicorn.Server(uvicorn.Config(app, **options)).run(sockets=[inherited])
    else:
        print(f"back office on http://{args.host}:{args.port}/staff", file=sys.stderr)
        uvicorn.run(app, host=args.host, port=args.port, **options)
    return 0


@_api_errors
def cmd_report(args: argparse.Namespace) -> int:
    from backoffice.dossiers import report

    ctx = _context(args)
    try:
        data = report(ctx)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"{data['total']} dossiers (at {data['generated_at']})")
    for title, key in (
        ("per kiosk", "per_kiosk"),
        ("per procedure", "per_procedure"),
        ("per state", "per_state"),
    ):
        print(f"{title}:")
        for name, n in data[key].items():
            print(f"  {name}: {n}")
    if data["duplicates"]:
        print("stored twice:")
        for dup in data["duplicates"]:
            print(f"  {dup['reason']}: {', '.join(dup['codes'])}")
    else:
        print("no dossier stored twice")
    return 0


@_api_errors
def cmd_add_kiosk(args: argparse.Namespace) -> int:
    from backoffice.fleet import add_kiosk

    ctx = _context(args)
    try:
        secret = add_kiosk(ctx, args.kiosk_id, rotate=args.rotate)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps({"kiosk_id": args.kiosk_id, "secret": secret}))
    else:
        print(secret)
        print(
            f"(shown once: set KIOSK_BACKOFFICE_TOKEN={secret} on kiosk {args.kiosk_id})",
            file=sys.stderr,
        )
    return 0


@_api_errors
def cmd_seed_demo(args: argparse.Namespace) -> int:
    from backoffice.demo import seed_demo

    ctx = _context(args)
    try:
        papers = seed_demo(ctx)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps({"papers": papers}, ensure_ascii=False, indent=2))
    else:
        for p in papers:
            print(f"{p['id']}  {p['kind']}  {p['title']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m kiosk.cli.backoffice``: the backoffice commands on their own."""
    import logging

    from kiosk.errors import KioskError

    parser = argparse.ArgumentParser(prog="kiosk")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, config: bool = True) -> None:
        p.add_argument("--json", action="store_true", help="print JSON")
        if config:
            p.add_argument("--config")

    add_backoffice_commands(sub, common)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except KioskError as e:
        print(f"kiosk: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
