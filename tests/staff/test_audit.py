"""The hash-chained audit log (kiosk/staff/audit.py): the entry format, verify naming the first
bad line, torn lines, concurrent appends from threads and processes, nothing personal."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.infra.clock import VIETNAM_TZ
from kiosk.staff.audit import (
    EDITED,
    GENESIS,
    NOT_JSON,
    REMOVED_OR_REORDERED,
    AuditLog,
    AuditProblem,
    check,
    verify,
)
from kiosk.staff.errors import AuditLogError

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 12, 7, 9, 30, tzinfo=VIETNAM_TZ)


def make_log(tmp_path: Path, entries: int = 0) -> AuditLog:
    log = AuditLog.in_data_dir(tmp_path, kiosk_id="KIOSK-01", clock=lambda: AT)
    for i in range(entries):
        log.append("system" if i % 2 else "NV001", "maintenance.step", {"step": i, "ok": True})
    return log


def lines_of(log: AuditLog) -> list[str]:
    return log.path.read_text(encoding="utf-8").splitlines(keepends=True)


def write_lines(log: AuditLog, lines: list[str]) -> None:
    log.path.write_text("".join(lines), encoding="utf-8")


def test_the_entry_format(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    first = log.append("NV001", "staff.sign_in", {"method": "pin"})
    second = log.append("operator:hà", "maintenance.enter", {"ghi_chú": "Bảo trì"})
    raw = lines_of(log)
    assert len(raw) == 2 and all(line.endswith("\n") for line in raw)
    one = json.loads(raw[0])
    assert set(one) == {"seq", "at", "kiosk", "actor", "action", "detail", "prev", "hash"}
    assert one["seq"] == 1 and one["prev"] == GENESIS
    assert one["at"] == "2026-12-07T09:30:00.000+07:00"
    assert one["kiosk"] == "KIOSK-01" and one["actor"] == "NV001"
    body = {k: v for k, v in one.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert one["hash"] == hashlib.sha256(canonical.encode("utf-8")).hexdigest() == first.hash
    two = json.loads(raw[1])
    assert two["seq"] == 2 and two["prev"] == one["hash"] == second.prev
    assert "Bảo trì" in raw[1]  # UTF-8, not \\u escapes
    assert check(log.path).entries == 2 and verify(log.path) is None


def test_an_intact_log_and_a_missing_one_verify(tmp_path: Path) -> None:
    log = make_log(tmp_path, 20)
    report = check(log.path)
    assert report.intact and report.entries == 20 and report.last_seq == 20
    assert verify(tmp_path / "nothing.jsonl") is None


def test_a_removed_line_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    lines = lines_of(log)
    del lines[4]  # seq 5
    write_lines(log, lines)
    assert verify(log.path) == AuditProblem(5, 6, REMOVED_OR_REORDERED)
    assert check(log.path).entries == 4


def test_a_removed_first_line_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    write_lines(log, lines_of(log)[1:])
    assert verify(log.path) == AuditProblem(1, 2, REMOVED_OR_REORDERED)


def test_an_edited_detail_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    lines = lines_of(log)
    entry = json.loads(lines[6])
    entry["detail"]["ok"] = False
    lines[6] = json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    write_lines(log, lines)
    assert verify(log.path) == AuditProblem(7, 7, EDITED)


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(tmp_path: Path) -> None:
    log = make_log(tmp_path, 5)
    lines = lines_of(log)
    entry = json.loads(lines[1])
    entry["actor"] = "NV002"
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    entry["hash"] = hashlib.sha256(canonical.encode()).hexdigest()
    lines[1] = json.dumps(entry) + "\n"
    write_lines(log, lines)
    assert verify(log.path) == AuditProblem(3, 3, REMOVED_OR_REORDERED)


def test_a_reordered_pair_is_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 10)
    lines = lines_of(log)
    lines[3], lines[4] = lines[4], lines[3]
    write_lines(log, lines)
    assert verify(log.path) == AuditProblem(4, 5, REMOVED_OR_REORDERED)


def test_an_inserted_copy_and_garbage_are_named(tmp_path: Path) -> None:
    log = make_log(tmp_path, 5)
    lines = lines_of(log)
    write_lines(log, [*lines[:3], lines[2], *lines[3:]])
    assert verify(log.path) == AuditProblem(4, 3, REMOVED_OR_REORDERED)
    write_lines(log, [*lines[:2], "not an entry\n", *lines[2:]])
    assert verify(log.path) == AuditProblem(3, None, NOT_JSON)
    write_lines(log, [*lines[:2], '{"seq": 3}\n', *lines[2:]])
    assert verify(log.path) == AuditProblem(3, 3, EDITED)
    nan = lines[2].replace('"ok":true', '"ok":NaN')
    assert nan != lines[2]
    write_lines(log, [*lines[:2], nan, *lines[3:]])
    assert verify(log.path) == AuditProblem(3, 3, EDITED)


def test_a_torn_last_line_is_kept_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = make_log(tmp_path, 4)
    whole = log.path.read_bytes()
    torn = lines_of(log)[-1][:37].encode()  # a crash in the middle of writing seq 5
    log.path.write_bytes(whole + torn)
    assert verify(log.path) == AuditProblem(5, None, NOT_JSON)
    entry = log.append("NV001", "maintenance.leave", {})
    assert "line 5 was torn" in caplog.text
    raw = log.path.read_bytes().split(b"\n")
    assert raw[4] == torn  # kept as it was, closed with a newline
    note = json.loads(raw[5])
    assert (note["action"], note["detail"]) == ("audit.torn_line", {"line": 5, "bytes": 37})
    assert note["seq"] == 5 and note["prev"] == json.loads(raw[3])["hash"]
    assert entry.seq == 6 and entry.prev == note["hash"]
    assert verify(log.path) == AuditProblem(5, None, NOT_JSON)  # the verify tells
    assert [e.seq for e in log.entries_since(3)] == [4, 5, 6]


def test_a_lost_newline_alone_loses_nothing(tmp_path: Path) -> None:
    log = make_log(tmp_path, 3)
    log.path.write_bytes(log.path.read_bytes()[:-1])
    entry = log.append("NV001", "maintenance.leave", {})
    assert entry.seq == 4
    assert check(log.path).entries == 4 and verify(log.path) is None


def test_entries_since(tmp_path: Path) -> None:
    log = make_log(tmp_path, 6)
    assert [e.seq for e in log.entries_since(0)] == [1, 2, 3, 4, 5, 6]
    assert [e.seq for e in log.entries_since(4)] == [5, 6]
    assert log.entries_since(6) == []
    assert make_log(tmp_path / "empty").entries_since(0) == []


@pytest.mark.parametrize(
    "detail",
    [
        {"pin": "4802"},
        {"PIN": "x"},
        {"id_number": "x"},
        {"full_name": "Nguyễn Văn An"},
        {"tried": "480215"},  # a PIN-like value under any name
        {"nested": {"card": ["079203001234"]}},
        {"when": datetime(2026, 1, 1)},  # not JSON
        {"ratio": float("nan")},
    ],
)
def test_personal_or_odd_details_are_refused(tmp_path: Path, detail: dict[str, object]) -> None:
    log = make_log(tmp_path)
    with pytest.raises(ValueError):
        log.append("system", "staff.pin_failed", detail)
    assert not log.path.exists()


@pytest.mark.parametrize(
    ("actor", "action"),
    [
        ("", "staff.sign_in"),
        ("NV001\n", "staff.sign_in"),
        ("someone else", "staff.sign_in"),
        ("system", "signin"),
        ("system", "Staff.Sign_in"),
        ("system", "staff.sign in"),
    ],
)
def test_bad_actors_and_actions_are_refused(tmp_path: Path, actor: str, action: str) -> None:
    with pytest.raises(ValueError):
        make_log(tmp_path).append(actor, action, {})


def test_a_log_that_cannot_be_written_raises_a_staff_error(tmp_path: Path) -> None:
    (tmp_path / "audit.jsonl").mkdir()
    with pytest.raises(AuditLogError, match="audit.jsonl"):
        make_log(tmp_path).append("system", "staff.sign_in", {})


CHILD = """
import sys
from pathlib import Path
from kiosk.staff.audit import AuditLog
log = AuditLog(Path(sys.argv[1]), kiosk_id="KIOSK-01")
for i in range(int(sys.argv[2])):
    log.append("system", "test.process", {"process": sys.argv[3], "i": i})
"""


def test_concurrent_appends_from_threads_and_processes_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    per_worker = 40
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(per_worker), name], cwd=ROOT)
        for name in ("a", "b")
    ]
    errors: list[BaseException] = []

    def work(n: int) -> None:
        log = AuditLog(path, kiosk_id="KIOSK-01")  # each thread its own, like separate parts
        try:
            for i in range(per_worker):
                log.append("NV001", "test.thread", {"thread": n, "i": i})
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for child in children:
        assert child.wait(timeout=120) == 0
    assert not errors
    report = check(path)
    assert report.problem is None, report.problem
    assert report.entries == 6 * per_worker
    entries = AuditLog(path, kiosk_id="KIOSK-01").entries_since(0)
    assert [e.seq for e in entries] == list(range(1, 6 * per_worker + 1))
    by_process = [e for e in entries if e.action == "test.process"]
    assert len(by_process) == 2 * per_worker


def test_one_log_shared_by_threads(tmp_path: Path) -> None:
    log = make_log(tmp_path)
    threads = [
        threading.Thread(
            target=lambda n=n: [log.append("system", "test.shared", {"n": n}) for _ in range(25)]
        )
        for n in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert check(log.path).entries == 100 and verify(log.path) is None
