"""``kiosk staff …`` and ``kiosk audit …`` (kiosk/cli/staff.py) run as an operator runs them: the
PIN from stdin and never echoed, each command audited, verify's exit codes and messages."""

from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli.staff import read_new_pin
from kiosk.staff.accounts import AccountBook

ROOT = Path(__file__).resolve().parents[2]
KIOSK = Path(sys.executable).with_name("kiosk")  # the installed command, as operators run it
PIN = "480215"
USER = pwd.getpwuid(os.getuid()).pw_name


def kiosk(
    data: Path, *args: str, stdin: str = "", extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "KIVY_"))}
    env["KIOSK_KIOSK_DATA_DIR"] = str(data)
    env.update(extra or {})
    return subprocess.run(
        [str(KIOSK), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


def add(data: Path, name: str = "Nguyễn Văn An", role: str = "technician", *more: str) -> str:
    done = kiosk(
        data, "staff", "add", "--name", name, "--role", role, *more, stdin=f"{PIN}\n{PIN}\n"
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[0]


def audit_lines(data: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (data / "audit.jsonl").read_text().splitlines()]


def test_add_reads_the_pin_from_stdin_and_never_echoes_it(tmp_path: Path) -> None:
    done = kiosk(
        tmp_path,
        "staff",
        "add",
        "--name",
        "Nguyễn Văn An",
        "--role",
        "technician",
        "--card",
        "079203001234",
        stdin=f"{PIN}\n{PIN}\n",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "NV001 added (technician)\n"
    assert PIN not in done.stdout + done.stderr
    accounts = tmp_path / "staff" / "accounts.json"
    assert PIN not in accounts.read_text(encoding="utf-8")
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    assert AccountBook.in_data_dir(tmp_path).verify_pin("NV001", PIN) is not None
    (entry,) = audit_lines(tmp_path)
    assert entry["actor"] == f"cli:{USER}" and entry["action"] == "staff.add"
    assert entry["detail"] == {"account": "NV001", "role": "technician", "card": True}
    log_text = (tmp_path / "audit.jsonl").read_text(encoding="utf-8")
    assert "Nguyễn" not in log_text and "079203001234" not in log_text and PIN not in log_text


def test_the_pin_is_never_an_argument(tmp_path: Path) -> None:
    done = kiosk(tmp_path, "staff", "add", "--name", "A", "--role", "technician", "--pin", PIN)
    assert done.returncode == 2
    assert not (tmp_path / "staff" / "accounts.json").exists()


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (f"{PIN}\n480216\n", "the two PINs differ"),
        (f"{PIN}\n", "the two PINs differ"),
        ("", "no PIN on standard input"),
        ("123456\n123456\n", "PIN refused: a PIN cannot be a run"),
        ("4802\n4802\n", "PIN refused: a PIN has at least 6 digits"),
        ("999999\n999999\n", "PIN refused: a PIN cannot be one digit repeated"),
    ],
)
def test_a_bad_pin_changes_nothing(tmp_path: Path, stdin: str, message: str) -> None:
    done = kiosk(tmp_path, "staff", "add", "--name", "A", "--role", "technician", stdin=stdin)
    assert done.returncode == 2
    assert done.stderr.startswith(f"kiosk: {message}")
    assert len(done.stderr.strip().splitlines()) == 1
    for pin in {line for line in stdin.splitlines() if len(line) >= 4}:
        assert pin not in done.stdout + done.stderr
    assert not (tmp_path / "staff" / "accounts.json").exists()
    assert not (tmp_path / "audit.jsonl").exists()


def test_bad_card_or_name_is_refused_before_the_pin_is_asked(tmp_path: Path) -> None:
    done = kiosk(tmp_path, "staff", "add", "--name", "A", "--role", "technician", "--card", "12")
    assert done.returncode == 2 and "staff card number is not a valid ID number" in done.stderr
    done = kiosk(tmp_path, "staff", "add", "--name", "  ", "--role", "technician")
    assert done.returncode == 2 and "full name is empty" in done.stderr
    done = kiosk(tmp_path, "staff", "add", "--name", "A", "--role", "admin", stdin=PIN)
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_list_remove_and_pin_are_audited(tmp_path: Path) -> None:
    add(tmp_path)
    add(tmp_path, "Trần Thị Bình", "supervisor")
    listed = kiosk(tmp_path, "staff", "list")
    assert listed.returncode == 0
    assert listed.stdout.splitlines() == [
        "NV001  technician  Nguyễn Văn An  (no card)",
        "NV002  supervisor  Trần Thị Bình  (no card)",
    ]
    as_json = json.loads(kiosk(tmp_path, "staff", "list", "--json").stdout)
    assert [a["id"] for a in as_json["accounts"]] == ["NV001", "NV002"]
    assert all("pin" not in a and "key" not in json.dumps(a) for a in as_json["accounts"])

    new_pin = "935170"
    done = kiosk(tmp_path, "staff", "pin", "nv002", stdin=f"{new_pin}\n{new_pin}\n")
    assert done.returncode == 0 and done.stdout == "NV002: new PIN set\n"
    assert new_pin not in done.stdout + done.stderr
    book = AccountBook.in_data_dir(tmp_path)
    assert book.verify_pin("NV002", new_pin) and not book.verify_pin("NV002", PIN)

    assert kiosk(tmp_path, "staff", "remove", "NV001").stdout == "NV001 removed\n"
    missing = kiosk(tmp_path, "staff", "remove", "NV001")
    assert (missing.returncode, missing.stderr) == (2, "kiosk: no staff account 'NV001'\n")
    missing = kiosk(tmp_path, "staff", "pin", "NV009", stdin=f"{new_pin}\n{new_pin}\n")
    assert missing.returncode == 2 and "NV009" in missing.stderr

    entries = audit_lines(tmp_path)
    assert [(e["actor"], e["action"], e["detail"]) for e in entries] == [
        (f"cli:{USER}", "staff.add", {"account": "NV001", "role": "technician", "card": False}),
        (f"cli:{USER}", "staff.add", {"account": "NV002", "role": "supervisor", "card": False}),
        (f"cli:{USER}", "staff.list", {"count": 2}),
        (f"cli:{USER}", "staff.list", {"count": 2}),
        (f"cli:{USER}", "staff.pin_set", {"account": "NV002"}),
        (f"cli:{USER}", "staff.remove", {"account": "NV001"}),
    ]
    assert kiosk(tmp_path, "audit", "verify").stdout == "6 entries, chain intact\n"


def test_a_broken_accounts_file_gives_one_clear_line(tmp_path: Path) -> None:
    accounts = tmp_path / "staff" / "accounts.json"
    accounts.parent.mkdir(parents=True)
    accounts.write_text('{"accounts": [', encoding="utf-8")
    for args, stdin in (
        (("staff", "list"), ""),
        (("staff", "add", "--name", "A", "--role", "technician"), f"{PIN}\n{PIN}\n"),
    ):
        done = kiosk(tmp_path, *args, stdin=stdin)
        assert done.returncode == 1
        assert done.stderr.startswith(f"kiosk: {accounts}: is not valid JSON (line 1")
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr
    assert accounts.read_text(encoding="utf-8") == '{"accounts": ['


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    """A data folder whose audit log holds 6 entries."""
    add(tmp_path)
    add(tmp_path, "Trần Thị Bình", "supervisor")
    for _ in range(4):
        assert kiosk(tmp_path, "staff", "list").returncode == 0
    return tmp_path


def rewrite(data: Path, change: object) -> None:
    path = data / "audit.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert callable(change)
    path.write_text("".join(change(lines)), encoding="utf-8")


def test_verify_an_intact_log(logged: Path) -> None:
    done = kiosk(logged, "audit", "verify")
    assert (done.returncode, done.stdout) == (0, "6 entries, chain intact\n")
    payload = json.loads(kiosk(logged, "audit", "verify", "--json").stdout)
    assert payload["intact"] is True and payload["entries"] == 6 and payload["problem"] is None
    empty = kiosk(logged / "elsewhere", "audit", "verify")
    assert (empty.returncode, empty.stdout) == (0, "0 entries, chain intact\n")


def test_verify_names_a_removed_line(logged: Path) -> None:
    rewrite(logged, lambda lines: lines[:2] + lines[3:])
    done = kiosk(logged, "audit", "verify")
    assert done.returncode == 1
    assert done.stdout == (
        f"{logged / 'audit.jsonl'}: line 3 (seq 4): removed or reordered; "
        "the 2 entries before it are intact\n"
    )


def test_verify_names_an_edited_detail(logged: Path) -> None:
    def edit(lines: list[str]) -> list[str]:
        entry = json.loads(lines[4])
        entry["detail"]["count"] = 1
        lines[4] = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        return lines

    rewrite(logged, edit)
    done = kiosk(logged, "audit", "verify")
    assert done.returncode == 1
    assert "line 5 (seq 5): edited" in done.stdout
    payload = json.loads(kiosk(logged, "audit", "verify", "--json").stdout)
    assert payload["intact"] is False
    assert payload["problem"] == {"line": 5, "seq": 5, "reason": "edited"}


def test_verify_names_a_reordered_pair(logged: Path) -> None:
    rewrite(logged, lambda lines: [lines[0], lines[2], lines[1], *lines[3:]])
    done = kiosk(logged, "audit", "verify")
    assert done.returncode == 1
    assert "line 2 (seq 3): removed or reordered" in done.stdout


def test_show(logged: Path) -> None:
    done = kiosk(logged, "audit", "show", "--since", "4")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].split()[0] == "5" and f"cli:{USER} staff.list" in lines[0]
    payload = json.loads(kiosk(logged, "audit", "show", "--json").stdout)
    assert [e["seq"] for e in payload["entries"]] == [1, 2, 3, 4, 5, 6]
    bad = kiosk(logged, "audit", "show", "--since", "-1")
    assert bad.returncode == 2 and "--since" in bad.stderr


class FakeStdin:
    def __init__(self, text: str, tty: bool) -> None:
        self.lines = text.splitlines(keepends=True)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def readline(self) -> str:
        return self.lines.pop(0) if self.lines else ""


def test_at_a_terminal_the_pin_is_read_with_getpass(monkeypatch: pytest.MonkeyPatch) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PIN

    monkeypatch.setattr("kiosk.cli.staff.getpass.getpass", fake_getpass)
    stdin = FakeStdin("should not be read\n", tty=True)
    assert read_new_pin(stdin) == PIN
    assert len(prompts) == 2 and stdin.lines == ["should not be read\n"]
    assert read_new_pin(FakeStdin(f"{PIN}\r\n{PIN}\r\n", tty=False)) == PIN


def test_unlock_and_reopen_are_the_way_back_from_a_shell(tmp_path: Path) -> None:
    from kiosk.staff.desk import Refusal, StaffDesk
    from kiosk.staff.service_state import PRESET_MESSAGES, ServiceState

    account = add(tmp_path)
    desk = StaffDesk(tmp_path, kiosk_id="KIOSK-01")
    for _ in range(3):
        refused = desk.sign_in(account, "000000")
    assert getattr(refused, "reason", None) is Refusal.WRONG_PIN and desk.wait_s() > 0
    ServiceState(tmp_path).close(PRESET_MESSAGES["printer"])
    done = kiosk(tmp_path, "staff", "unlock")
    assert done.returncode == 0 and "takes PINs again" in done.stdout, done.stderr
    assert desk.wait_s() == 0
    done = kiosk(tmp_path, "staff", "reopen")
    assert done.returncode == 0 and "back in service" in done.stdout, done.stderr
    assert not ServiceState(tmp_path).out_of_service
    actions = [(line["actor"], line["action"]) for line in audit_lines(tmp_path)]
    assert (f"cli:{USER}", "staff.unlock") in actions
    assert (f"cli:{USER}", "maintenance.back_in_service") in actions
