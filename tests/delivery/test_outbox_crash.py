"""kill -9 of the kiosk at the worst moments: the outbox and its sender run in a child process
that is SIGKILLed, then restarted; the reference back office (backoffice/, embedded in the test
process on loopback over its own SQLite file, reached through HttpBackOffice as a kiosk does)
must end with each dossier exactly once and its stored pages hashing as the originals.

The dossiers are written once by the test as JSON files, so every run of the child puts the
very same ones (same idempotency keys, same pages). The child is this file run as a script
(``python test_outbox_crash.py DIR MODE ...``). It stops itself at a named point of the sender
(its ``checkpoint`` hook: ``claimed`` = attempt recorded, nothing sent; ``answered`` = the back
office stored the dossier, the kiosk has not recorded the answer) by writing a marker file and
sleeping, and the test kills it there; or the test kills it at random moments while it puts and
sends.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":
    sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent), str(HERE)]  # root, tests/, here

from test_outbox import KEY, KIOSK  # noqa: E402

from kiosk.delivery.http_client import HttpBackOffice  # noqa: E402
from kiosk.delivery.outbox.sender import OutboxSender  # noqa: E402
from kiosk.delivery.outbox.store import EntryState, Outbox  # noqa: E402
from kiosk.dossier.model import DossierSubmission, SubmissionResult  # noqa: E402


def _outbox(folder: Path) -> Outbox:
    return Outbox(folder / "outbox.sqlite", KEY, KIOSK)


def _dossier(folder: Path, n: int) -> DossierSubmission:
    """Dossier number ``n``, as the test wrote it."""
    return DossierSubmission.from_json((folder / "in" / f"d{n}.json").read_text("utf-8"))


# --- the child -------------------------------------------------------------------------------


class SlowAnswer:
    """The back office over a slow network: its answer takes a while to come back, the time
    in which a kill leaves a dossier stored there and not recorded here."""

    def __init__(self, office: HttpBackOffice, delay_s: float = 0.02) -> None:
        self.office = office
        self.delay_s = delay_s

    def submit(self, dossier: DossierSubmission) -> SubmissionResult:
        result = self.office.submit(dossier)
        time.sleep(self.delay_s)  # a kill now: stored there, not recorded here
        return result

    def lookup(self, code: str) -> Any:
        return self.office.lookup(code)

    def health(self) -> Any:
        return self.office.health()


def child(folder: Path, mode: str, count: int, pause_at: str) -> int:
    """Put ``count`` dossiers (idempotent: a restart puts the same ones again) and deliver."""

    def checkpoint(name: str, entry: object) -> None:
        if name == pause_at:
            (folder / f"paused-{name}").write_text(str(os.getpid()))
            time.sleep(3600)  # the test kills us here

    link = json.loads((folder / "backoffice.json").read_text("utf-8"))
    outbox = _outbox(folder)
    office = HttpBackOffice(link["url"], KIOSK, link["secret"], timeout_s=10)
    backoffice = SlowAnswer(office) if mode == "work" else office
    sender = OutboxSender(
        outbox, backoffice, base_delay_s=0.05, max_delay_s=0.2, checkpoint=checkpoint
    )
    print("ready", flush=True)
    if mode == "work":
        sender.start()  # the sender runs while dossiers are put, as at the kiosk
    for n in range(1, count + 1):
        outbox.put(_dossier(folder, n))
    status = sender.flush(60)
    sender.stop()
    print("done" if status.pending == 0 else f"pending {status.pending}", flush=True)
    return 0 if status.pending == 0 else 1


# --- the tests -------------------------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Any]:
    """The reference back office on loopback with this kiosk registered; the child finds its
    address and the kiosk's secret in ``backoffice.json``."""
    from backoffice.embedded import EmbeddedBackOffice
    from backoffice.settings import Settings

    server = EmbeddedBackOffice(Settings.for_folder(tmp_path / "bo", secrets_key="D" * 43 + "="))
    url = server.start()
    try:
        secret = server.ensure_kiosk(KIOSK)
        (tmp_path / "backoffice.json").write_text(json.dumps({"url": url, "secret": secret}))
        yield server
    finally:
        server.stop()


def _write_dossiers(folder: Path, server: Any, count: int) -> None:
    """``count`` dossiers the back office accepts, written once for every run of the child."""
    from support.backoffice_server import sample_dossier

    for n in range(1, count + 1):
        dossier = sample_dossier(
            server.context.catalog,
            KIOSK,
            folder / "in" / f"d{n}",
            idempotency_key=f"test-dossier-{n:06d}",
        )
        (folder / "in" / f"d{n}.json").write_text(dossier.to_json(), "utf-8")


def _start(folder: Path, mode: str, count: int, pause_at: str = "-") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__)), str(folder), mode, str(count), pause_at],
        stdout=subprocess.PIPE,
        text=True,
    )


def _kill_at(folder: Path, proc: subprocess.Popen[str], point: str) -> None:
    marker = folder / f"paused-{point}"
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, f"the child ended before reaching {point}"
        assert time.monotonic() < deadline, f"the child never reached {point}"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    marker.unlink()
    assert proc.returncode == -signal.SIGKILL


def _run_to_end(folder: Path, count: int) -> None:
    proc = _start(folder, "send", count)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and out.strip().endswith("done"), out


def _office_rows(server: Any) -> list[tuple[str, str]]:
    """(idempotency key, code) of every dossier the back office stored, by code."""
    from sqlalchemy import select

    from backoffice.db import Dossier

    with server.context.session() as session:
        rows = session.execute(
            select(Dossier.idempotency_key, Dossier.code).order_by(Dossier.code)
        ).all()
    return [(key, code) for key, code in rows]


def _check_exactly_once(folder: Path, server: Any, count: int) -> None:
    """Each dossier once at the back office, its stored pages those the kiosk scanned (and
    still hashing to their names), and the outbox recorded the same codes."""
    from backoffice.dossiers import dossier_detail

    rows = _office_rows(server)
    keys = [k for k, _ in rows]
    assert sorted(keys) == [f"test-dossier-{n:06d}" for n in range(1, count + 1)]
    outbox = _outbox(folder)
    try:
        recorded = {
            e.idempotency_key: e.result.dossier_code
            for e in outbox.entries()
            if e.state is EntryState.DELIVERED and e.result is not None
        }
        assert recorded == dict(rows)
        assert outbox.status().pending == 0
    finally:
        outbox.close()
    for key, code in rows:
        dossier = _dossier(folder, int(key.rsplit("-", 1)[1]))
        scanned = sorted(
            (a.requirement_id, n, hashlib.sha256(p.read_bytes()).hexdigest())
            for a in dossier.attachments
            for n, p in enumerate(a.pages, start=1)
        )
        stored = dossier_detail(server.context, code)["attachments"]
        assert sorted((f["requirement_id"], f["page"], f["sha256"]) for f in stored) == scanned
        for f in stored:
            server.context.blobs.verify(f["sha256"])  # raises if the stored file changed


def test_kill_between_writing_the_outbox_and_sending(tmp_path: Path, server: Any) -> None:
    _write_dossiers(tmp_path, server, 3)
    proc = _start(tmp_path, "send", 3, pause_at="claimed")
    _kill_at(tmp_path, proc, "claimed")
    assert _office_rows(server) == []  # nothing reached the back office
    outbox = _outbox(tmp_path)
    assert [e.state for e in outbox.entries()] == [EntryState.PENDING] * 3
    assert outbox.entries()[0].attempts == 1  # the attempt was counted before the crash
    outbox.close()
    _run_to_end(tmp_path, 3)
    _check_exactly_once(tmp_path, server, 3)


def test_kill_between_sending_and_recording_the_answer(tmp_path: Path, server: Any) -> None:
    _write_dossiers(tmp_path, server, 3)
    proc = _start(tmp_path, "send", 3, pause_at="answered")
    _kill_at(tmp_path, proc, "answered")
    [(key, code)] = _office_rows(server)  # the back office has the first dossier...
    outbox = _outbox(tmp_path)
    first = outbox.entries()[0]
    assert first.idempotency_key == key and first.state is EntryState.PENDING  # ...the kiosk not
    outbox.close()
    _run_to_end(tmp_path, 3)
    _check_exactly_once(tmp_path, server, 3)
    outbox = _outbox(tmp_path)
    again = outbox.find(first.reference)
    assert again is not None and again.result is not None
    assert again.result.dossier_code == code  # the back office answered the first code again
    outbox.close()


def test_sigkill_at_random_moments_while_putting_and_sending(tmp_path: Path, server: Any) -> None:
    count = 40
    _write_dossiers(tmp_path, server, count)
    rng = random.Random(2024)
    kills = 0
    for _ in range(40):
        proc = _start(tmp_path, "work", count)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.3))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            continue
        out = proc.stdout.read()
        assert proc.returncode == 0 and out.strip().endswith("done"), out
        break
    else:
        _run_to_end(tmp_path, count)
    assert kills >= 2  # a kill stops at most 15 of the 40 round trips: it took several
    _check_exactly_once(tmp_path, server, count)
    with sqlite3.connect(tmp_path / "outbox.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


if __name__ == "__main__":
    sys.exit(child(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]))
