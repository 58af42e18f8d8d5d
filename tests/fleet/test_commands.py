"""Remote commands from the real back office to a kiosk's fleet agent: run once and
acknowledged, a replay not run again (even after a restart), a forged, altered or another
kiosk's command refused, commands older than 24 h refused, unknown and failing ones answered,
screenshots uploaded and served to staff; the back office's side of the arguments."""

from __future__ import annotations

import io
import logging
import secrets
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fleet_kiosk import (
    OTHER,
    STAFF,
    FleetKiosk,
    command_row,
    kiosk_row,
    queue,
    register_kiosk,
)
from PIL import Image
from support.backoffice_server import BackofficeServer
from tamper_proxy import TamperProxy

from backoffice.fleet import KNOWN_COMMANDS
from kiosk.fleet.commands import BAD_SIGNATURE, INTERRUPTED, TOO_OLD, UNKNOWN, CommandResult


@pytest.fixture
def proxy(server: BackofficeServer) -> Iterator[TamperProxy]:
    p = TamperProxy(server.url).start()
    yield p
    p.close()


@pytest.fixture
def kiosks(server: BackofficeServer, tmp_path: Path) -> Iterator[list[FleetKiosk]]:
    """The kiosks a test builds (closed after it)."""
    built: list[FleetKiosk] = []
    yield built
    for k in built:
        k.close()


def make_kiosk(
    server: BackofficeServer, folder: Path, kiosks: list[FleetKiosk], **kw: Any
) -> FleetKiosk:
    kiosk = FleetKiosk(server, folder, **kw)
    kiosks.append(kiosk)
    return kiosk


def audited(kiosk: FleetKiosk, action: str) -> list[dict[str, Any]]:
    return [e.detail for e in kiosk.audit_log.entries_since(0) if e.action == action]


def png_bytes(size: tuple[int, int] = (108, 192)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def test_a_command_is_run_once_and_acknowledged_with_its_result(
    server: BackofficeServer, tmp_path: Path, kiosks: list[FleetKiosk]
) -> None:
    kid = register_kiosk(server)
    kiosk = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid)
    cid = queue(server, kid, "print-test-page")["id"]
    assert kiosk_row(server, kid)["pending_commands"] == 1
    assert kiosk.agent.beat()
    assert kiosk.calls == [("print-test-page", {})]
    row = command_row(server, cid)
    assert row["acked_at"] is not None
    assert (row["ok"], row["detail"]) == (True, "done print-test-page")
    assert kiosk_row(server, kid)["pending_commands"] == 0
    assert kiosk.agent.beat()
    assert kiosk.calls == [("print-test-page", {})]
    assert audited(kiosk, "fleet.command_run") == [
        {"command_id": cid, "command": "print-test-page", "ok": True}
    ]


def test_a_replayed_command_is_not_run_again_even_after_a_restart(
    server: BackofficeServer,
    proxy: TamperProxy,
    tmp_path: Path,
    kiosks: list[FleetKiosk],
    caplog: pytest.LogCaptureFixture,
) -> None:
    kid = register_kiosk(server)
    kiosk = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid, url=proxy.url)
    first = queue(server, kid, "restart")["id"]
    assert kiosk.agent.beat()
    assert kiosk.calls == [("restart", {})]
    (captured,) = [c for a in proxy.answers for c in a["commands"] if c["id"] == first]
    # a gateway replays the captured command (its MAC is genuine) with the next answers
    proxy.rewrite_commands = lambda answer: {"commands": [captured, *answer["commands"]]}
    queue(server, kid, "print-test-page")  # something pending, so the kiosk asks
    with caplog.at_level(logging.INFO, logger="kiosk.fleet"):
        assert kiosk.agent.beat()
    assert kiosk.calls == [("restart", {}), ("print-test-page", {})]
    assert f"command {first} was already handled here" in caplog.text
    assert command_row(server, first)["detail"] == "done restart"
    # the same kiosk after a restart: the ids it ran are on its disk
    kiosk.close()
    kiosks.remove(kiosk)
    again = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid, url=proxy.url)
    queue(server, kid, "reload-catalog")
    assert again.agent.beat()
    assert again.calls == [("reload-catalog", {})]
    assert [d["command"] for d in audited(again, "fleet.command_run")] == [
        "restart",
        "print-test-page",
        "reload-catalog",
    ]


def test_a_forged_altered_or_foreign_command_is_refused_and_not_run(
    server: BackofficeServer,
    proxy: TamperProxy,
    tmp_path: Path,
    kiosks: list[FleetKiosk],
    caplog: pytest.LogCaptureFixture,
) -> None:
    kid = register_kiosk(server)
    kiosk = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid, url=proxy.url)
    altered = queue(server, kid, "print-test-page")["id"]
    altered_args = queue(server, kid, "back-in-service")["id"]
    foreign = queue(server, OTHER, "restart")["id"]
    ctx = server.context()
    try:
        from backoffice.fleet import pending_commands

        (foreign_command,) = [c for c in pending_commands(ctx, OTHER) if c["id"] == foreign]
    finally:
        ctx.close()
    injected = {
        "id": 990_000 + secrets.randbelow(9999),
        "command": "restart",
        "args": {},
        "created_at": foreign_command["created_at"],
        "created_by": "staff api",
        "acked_at": None,
        "ok": None,
        "detail": "",
        "mac": secrets.token_hex(32),
    }

    def tamper(answer: dict[str, Any]) -> dict[str, Any]:
        commands = []
        for c in answer["commands"]:
            if c["id"] == altered:
                c = {**c, "command": "restart"}  # the name changed, the MAC kept
            if c["id"] == altered_args:
                c = {**c, "args": {"message_vi": "x"}}  # arguments slipped in
            commands.append(c)
        unsigned = {**injected, "id": injected["id"] + 1, "mac": ""}
        return {"commands": [*commands, injected, unsigned, foreign_command]}

    proxy.rewrite_commands = tamper
    with caplog.at_level(logging.WARNING):
        assert kiosk.agent.beat()
    assert kiosk.calls == []  # nothing ran
    for cid in (altered, altered_args):
        row = command_row(server, cid)
        assert (row["ok"], row["detail"]) == (False, BAD_SIGNATURE), row
    # another kiosk's command (MAC'd for that kiosk) is not this kiosk's to run or to answer
    assert command_row(server, foreign)["acked_at"] is None
    refused = audited(kiosk, "fleet.command_refused")
    assert sorted(d["command_id"] for d in refused) == sorted(
        [altered, altered_args, injected["id"], injected["id"] + 1, foreign]
    )
    assert all(d["reason"] == "bad signature" for d in refused)
    assert "signature does not verify" in caplog.text
    assert kiosk.agent.stats.consecutive_failures == 0  # refused acks are no outage
    # the genuine command, fetched unaltered, is not run either: it was answered as refused
    proxy.rewrite_commands = None
    assert kiosk.agent.beat()
    assert kiosk.calls == []


def test_a_command_older_than_24_hours_is_refused(
    server: BackofficeServer, tmp_path: Path, kiosks: list[FleetKiosk]
) -> None:
    from backoffice.db import KioskCommand

    kid = register_kiosk(server)
    kiosk = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid)
    old = queue(server, kid, "restart")["id"]
    fresh = queue(server, kid, "reload-catalog")["id"]
    ctx = server.context()
    try:
        with ctx.session() as session, session.begin():
            row = session.get(KioskCommand, old)
            assert row is not None
            row.created_at = time.time() - 25 * 3600  # the server signs the old time
    finally:
        ctx.close()
    assert kiosk.agent.beat()
    assert kiosk.calls == [("reload-catalog", {})]
    assert (command_row(server, old)["ok"], command_row(server, old)["detail"]) == (False, TOO_OLD)
    assert command_row(server, fresh)["ok"] is True


def test_unknown_and_failing_commands_are_answered_not_run(
    server: BackofficeServer, tmp_path: Path, kiosks: list[FleetKiosk]
) -> None:
    def broken(args: dict[str, Any]) -> str:
        raise RuntimeError("the printer did not answer")

    kid = register_kiosk(server)
    kiosk = make_kiosk(
        server, tmp_path / "var", kiosks, kiosk_id=kid, handlers={"print-test-page": broken}
    )
    unknown = queue(server, kid, "enter-maintenance")["id"]
    failing = queue(server, kid, "print-test-page")["id"]
    assert kiosk.agent.beat()
    row = command_row(server, unknown)
    assert (row["ok"], row["detail"]) == (False, UNKNOWN)
    row = command_row(server, failing)
    assert row["ok"] is False
    assert row["detail"] == "failed: RuntimeError: the printer did not answer"


def test_a_command_interrupted_by_a_stop_is_not_run_again(
    server: BackofficeServer, tmp_path: Path, kiosks: list[FleetKiosk]
) -> None:
    kid = register_kiosk(server)
    kiosk = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid)
    cid = queue(server, kid, "restart")["id"]
    # the kiosk recorded it as running, then the power went before it answered
    kiosk.agent.runner.ran.start(cid, "restart")
    kiosk.close()
    kiosks.remove(kiosk)
    again = make_kiosk(server, tmp_path / "var", kiosks, kiosk_id=kid)
    assert again.agent.beat()
    assert again.calls == []
    row = command_row(server, cid)
    assert (row["ok"], row["detail"]) == (False, INTERRUPTED)


def test_a_screenshot_is_uploaded_and_shown_to_staff(
    server: BackofficeServer, tmp_path: Path, kiosks: list[FleetKiosk]
) -> None:
    shots = [png_bytes(), b"\x89PNG\r\n\x1a\n" + bytes(2 * 1024 * 1024), b"GIF89a not a png"]

    def screenshot(args: dict[str, Any]) -> CommandResult:
        return CommandResult("captured the welcome screen", screenshot_png=shots.pop(0))

    kid = register_kiosk(server)
    kiosk = make_kiosk(
        server, tmp_path / "var", kiosks, kiosk_id=kid, handlers={"screenshot": screenshot}
    )
    first = queue(server, kid, "screenshot")["id"]
    assert kiosk.agent.beat()
    row = command_row(server, first)
    assert (row["ok"], row["detail"]) == (True, "captured the welcome screen")
    url = f"{server.url}/api/v1/kiosks/{kid}/screenshot"
    answer = requests.get(url, headers=STAFF, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert answer.content == png_bytes()
    assert Image.open(io.BytesIO(answer.content)).size == (108, 192)
    assert kiosk_row(server, kid)["screenshot_at"] is not None
    assert requests.get(url, timeout=10).status_code == 401  # staff only
    # past 2 MiB, and not a PNG: refused, the last good one kept
    too_big = queue(server, kid, "screenshot")["id"]
    not_png = queue(server, kid, "screenshot")["id"]
    assert kiosk.agent.beat()
    for cid, why in ((too_big, "at most 2097152 bytes"), (not_png, "not a PNG")):
        row = command_row(server, cid)
        assert row["ok"] is False and row["detail"].startswith("screenshot not uploaded"), row
        assert why in row["detail"]
    assert requests.get(url, headers=STAFF, timeout=10).content == png_bytes()
    nothing = f"{server.url}/api/v1/kiosks/{OTHER}/screenshot"
    assert requests.get(nothing, headers=STAFF, timeout=10).status_code == 404


def test_the_back_office_checks_a_commands_arguments(server: BackofficeServer) -> None:
    for name in ("out-of-service", "back-in-service", "screenshot"):
        assert name in KNOWN_COMMANDS
    assert KNOWN_COMMANDS["out-of-service"] == "Tạm ngừng phục vụ (kèm thông báo)"
    closed = queue(
        server,
        OTHER,
        "out-of-service",
        message_vi=unicodedata.normalize("NFD", "Ki-ốt tạm ngừng  phục vụ."),  # NFD, 2 spaces
        message_en="This kiosk is closed.",
    )
    assert closed["args"] == {
        "message_vi": "Ki-ốt tạm ngừng phục vụ.",
        "message_en": "This kiosk is closed.",
    }
    url = f"{server.url}/api/v1/kiosks/{OTHER}/commands"
    for command, args in (
        ("out-of-service", {"message": "x"}),
        ("out-of-service", {"message_vi": 5}),
        ("out-of-service", {"message_vi": "x" * 201}),
        ("restart", {"now": "yes"}),
        ("format-disk", {}),
    ):
        answer = requests.post(
            url, json={"command": command, "args": args}, headers=STAFF, timeout=10
        )
        assert answer.status_code == 422, (command, args, answer.text)
