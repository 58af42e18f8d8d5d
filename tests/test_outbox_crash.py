"""kill -9 of the kiosk at the worst moments: the outbox and its sender run in a child process
that is SIGKILLed, then restarted; the back office (a real LocalBackOffice file) must end with
each dossier exactly once and its attachments hashing as the originals.

The child is this file run as a script (``python test_outbox_crash.py DIR MODE ...``). It stops
itself at a named point of the sender (its ``checkpoint`` hook: ``claimed`` = attempt recorded,
nothing sent; ``answered`` = the back office stored the dossier, the kiosk has not recorded
the answer) by writing a marker file and sleeping, and the test kills it there; or the test
kills it at random moments while it puts and sends.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if __name__ == "__main__":
    sys.path[:0] = [str(HERE.parent), str(HERE)]

from test_outbox import AGENCY, KEY, KIOSK, make_catalog, make_dossier  # noqa: E402

from kiosk.delivery.local_backoffice import LocalBackOffice  # noqa: E402
from kiosk.delivery.outbox.sender import OutboxSender  # noqa: E402
from kiosk.delivery.outbox.store import EntryState, Outbox  # noqa: E402
from kiosk.dossier.model import DossierSubmission, SubmissionResult  # noqa: E402
from kiosk.dossier.workdays import load_holidays  # noqa: E402
from kiosk.paths import CONFIG_DIR  # noqa: E402

PAGE_BYTES = 12_000


def _office(folder: Path) -> LocalBackOffice:
    return LocalBackOffice(
        folder / "bo" / "backoffice.sqlite",
        AGENCY,
        make_catalog(),
        load_holidays(CONFIG_DIR / "holidays.toml"),
        folder / "bo" / "attachments",
    )


def _outbox(folder: Path) -> Outbox:
    return Outbox(folder / "outbox.sqlite", KEY, KIOSK)


# --- the child -------------------------------------------------------------------------------


class Remote:
    """The back office a network away: each submission takes a round trip."""

    def __init__(self, office: LocalBackOffice, round_trip_s: float = 0.02) -> None:
        self.office = office
        self.round_trip_s = round_trip_s

    def submit(self, dossier: DossierSubmission) -> SubmissionResult:
        time.sleep(self.round_trip_s / 2)
        result = self.office.submit(dossier)
        time.sleep(self.round_trip_s / 2)  # a kill now: stored there, not recorded here
        return result


def child(folder: Path, mode: str, count: int, pause_at: str) -> int:
    """Put ``count`` dossiers (idempotent: a restart puts the same ones again) and deliver."""

    def checkpoint(name: str, entry: object) -> None:
        if name == pause_at:
            (folder / f"paused-{name}").write_text(str(os.getpid()))
            time.sleep(3600)  # the test kills us here

    outbox = _outbox(folder)
    office = _office(folder)
    backoffice = Remote(office) if mode == "work" else office
    sender = OutboxSender(
        outbox, backoffice, base_delay_s=0.05, max_delay_s=0.2, checkpoint=checkpoint
    )
    print("ready", flush=True)
    if mode == "work":
        sender.start()  # the sender runs while dossiers are put, as at the kiosk
    for n in range(1, count + 1):
        outbox.put(make_dossier(folder / "in", n, size=PAGE_BYTES))
    status = sender.flush(60)
    sender.stop()
    print("done" if status.pending == 0 else f"pending {status.pending}", flush=True)
    return 0 if status.pending == 0 else 1


# --- the tests -------------------------------------------------------------------------------


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


def _office_rows(folder: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(folder / "bo" / "backoffice.sqlite") as conn:
        return conn.execute("SELECT idempotency_key, code FROM dossiers ORDER BY code").fetchall()


def _check_exactly_once(folder: Path, count: int) -> None:
    """Each dossier once at the back office, pages hashing as the originals, and the outbox
    recorded the same codes."""
    rows = _office_rows(folder)
    keys = [k for k, _ in rows]
    assert sorted(keys) == [f"test-dossier-{n:06d}" for n in range(1, count + 1)]
    office = _office(folder)
    outbox = _outbox(folder)
    try:
        recorded = {
            e.idempotency_key: e.result.dossier_code
            for e in outbox.entries()
            if e.state is EntryState.DELIVERED and e.result is not None
        }
        assert recorded == dict(rows)
        assert outbox.status().pending == 0
        for key, code in rows:
            n = int(key.rsplit("-", 1)[1])
            expected = sorted(
                hashlib.sha256((folder / "in" / f"d{n}-{i}.pdf").read_bytes()).hexdigest()
                for i in (1, 2)
            )
            stored = office.stored_attachments(code)
            assert sorted(s["sha256"] for s in stored) == expected
            assert office.verify_attachments(code) == []
    finally:
        outbox.close()
        office.close()


def test_kill_between_writing_the_outbox_and_sending(tmp_path: Path) -> None:
    proc = _start(tmp_path, "send", 3, pause_at="claimed")
    _kill_at(tmp_path, proc, "claimed")
    assert _office_rows(tmp_path) == []  # nothing reached the back office
    outbox = _outbox(tmp_path)
    assert [e.state for e in outbox.entries()] == [EntryState.PENDING] * 3
    assert outbox.entries()[0].attempts == 1  # the attempt was counted before the crash
    outbox.close()
    _run_to_end(tmp_path, 3)
    _check_exactly_once(tmp_path, 3)


def test_kill_between_sending_and_recording_the_answer(tmp_path: Path) -> None:
    proc = _start(tmp_path, "send", 3, pause_at="answered")
    _kill_at(tmp_path, proc, "answered")
    [(key, code)] = _office_rows(tmp_path)  # the back office has the first dossier...
    outbox = _outbox(tmp_path)
    first = outbox.entries()[0]
    assert first.idempotency_key == key and first.state is EntryState.PENDING  # ...the kiosk not
    outbox.close()
    _run_to_end(tmp_path, 3)
    _check_exactly_once(tmp_path, 3)
    outbox = _outbox(tmp_path)
    again = outbox.find(first.reference)
    assert again is not None and again.result is not None
    assert again.result.dossier_code == code  # the back office answered the first code again
    outbox.close()


def test_sigkill_at_random_moments_while_putting_and_sending(tmp_path: Path) -> None:
    count = 40
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
    _check_exactly_once(tmp_path, count)
    with sqlite3.connect(tmp_path / "outbox.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


if __name__ == "__main__":
    sys.exit(child(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]))
