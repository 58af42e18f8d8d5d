"""Staff accounts (kiosk/staff/accounts.py): PINs only as salted scrypt hashes, the PIN rules,
the file written privately and read with clear errors."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
import threading
import unicodedata
from pathlib import Path

import pytest

from kiosk.staff.accounts import (
    CURRENT_PARAMS,
    AccountBook,
    Role,
    ScryptParams,
    check_pin_rules,
    hash_pin,
)
from kiosk.staff.desk import Refusal, SignInRefused, StaffDesk
from kiosk.staff.errors import CardRefused, StaffFileError, UnknownAccount, WeakPin

PIN = "480215"
CARD = "079203001234"


def book_in(tmp_path: Path) -> AccountBook:
    return AccountBook.in_data_dir(tmp_path)


def accounts_file(tmp_path: Path) -> Path:
    return tmp_path / "staff" / "accounts.json"


def test_the_file_never_holds_the_pin_or_an_unsalted_hash(tmp_path: Path) -> None:
    book = book_in(tmp_path)
    first = book.add("Nguyễn Văn An", Role.TECHNICIAN, PIN)
    second = book.add("Trần Thị Bình", Role.SUPERVISOR, PIN)
    text = accounts_file(tmp_path).read_text(encoding="utf-8")
    assert PIN not in text
    unsalted = [
        hashlib.sha256(PIN.encode()).digest(),
        hashlib.sha1(PIN.encode()).digest(),
        hashlib.md5(PIN.encode()).digest(),
        hashlib.scrypt(PIN.encode(), salt=b"", n=2**14, r=8, p=1, dklen=32),
    ]
    for digest in unsalted:
        assert digest.hex() not in text
        assert base64.b64encode(digest).decode() not in text
    stored = {a["id"]: a["pin"] for a in json.loads(text)["accounts"]}
    a, b = stored[first.id], stored[second.id]
    assert a["key"] != b["key"], "the same PIN gave the same hash: no salt"
    assert a["salt"] != b["salt"]
    assert len(base64.b64decode(a["salt"])) == 16 and len(base64.b64decode(a["key"])) == 32
    assert (a["scheme"], a["n"], a["r"], a["p"]) == ("scrypt", 2**14, 8, 1)
    # the stored key really is scrypt over the PIN with that salt
    salt = base64.b64decode(a["salt"])
    key = hashlib.scrypt(PIN.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    assert base64.b64encode(key).decode() == a["key"]


def test_a_pin_is_checked_against_its_own_account(tmp_path: Path) -> None:
    book = book_in(tmp_path)
    an = book.add("Nguyễn Văn An", "technician", PIN)
    binh = book.add("Trần Thị Bình", "supervisor", "935170")
    assert book.verify_pin(an.id, PIN) == an
    assert book.verify_pin(an.id.lower(), PIN) == an
    assert book.verify_pin(an.id, "935170") is None  # another account's PIN
    assert book.verify_pin(binh.id, "935170") == binh
    assert book.verify_pin("NV999", PIN) is None
    assert book.verify_pin(an.id, "") is None


@pytest.mark.parametrize(
    "pin",
    [
        "",
        "12345",  # too short
        "48021",
        "111111",  # one digit repeated
        "0000000",
        "123456",  # runs up and down
        "654321",
        "789012",
        "3456789",
        "48o215",  # not digits
        "480 215",
        "４８０２１５",  # fullwidth digits: digits to Python, not on a PIN pad
        "٤٨٠٢١٥",
        "12345678901234567",  # longer than a PIN pad takes
    ],
)
def test_short_and_trivial_pins_are_refused(tmp_path: Path, pin: str) -> None:
    with pytest.raises(WeakPin) as refused:
        check_pin_rules(pin)
    if len(pin) >= 4:
        assert pin not in str(refused.value)
    book = book_in(tmp_path)
    with pytest.raises(WeakPin):
        book.add("Nguyễn Văn An", "technician", pin)
    assert book.accounts() == []
    assert not accounts_file(tmp_path).exists()


@pytest.mark.parametrize("pin", ["480215", "112233", "1357924680", "000001", "135792"])
def test_ordinary_pins_are_taken(pin: str) -> None:
    check_pin_rules(pin)
    assert hash_pin(pin).matches(pin)


def test_the_file_is_private_and_written_whole(tmp_path: Path) -> None:
    book = book_in(tmp_path)
    book.add("Nguyễn Văn An", "technician", PIN)
    path = accounts_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    book.add("Trần Thị Bình", "supervisor", "935170")
    leftovers = [p.name for p in path.parent.iterdir() if p.name not in ("accounts.json", ".lock")]
    assert leftovers == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_names_are_stored_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn  Thị Ánh")
    account = book_in(tmp_path).add(decomposed, "technician", PIN)
    assert account.full_name == "Nguyễn Thị Ánh"
    assert unicodedata.is_normalized("NFC", account.full_name)
    stored = json.loads(accounts_file(tmp_path).read_text(encoding="utf-8"))
    assert stored["accounts"][0]["full_name"] == "Nguyễn Thị Ánh"


def test_bad_names_and_roles_are_refused(tmp_path: Path) -> None:
    book = book_in(tmp_path)
    for name in ("", "   ", "A\x00B", "x" * 101):
        with pytest.raises(ValueError):
            book.add(name, "technician", PIN)
    with pytest.raises(ValueError, match="role"):
        book.add("Nguyễn Văn An", "admin", PIN)


def test_staff_cards(tmp_path: Path) -> None:
    book = book_in(tmp_path)
    an = book.add("Nguyễn Văn An", "technician", PIN, card_number="079 203 001 234")
    assert an.card_number == CARD
    assert book.find_by_card(CARD) == an
    assert book.find_by_card("079203001235") is None
    assert book.find_by_card("not a number") is None
    with pytest.raises(CardRefused, match="NV001"):
        book.add("Trần Thị Bình", "supervisor", "935170", card_number=CARD)
    with pytest.raises(CardRefused):
        book.add("Trần Thị Bình", "supervisor", "935170", card_number="12345")
    assert CARD not in repr(an) and "key" not in repr(an)
    assert an.public()["card"] == "********1234"


def test_remove_and_new_pin(tmp_path: Path) -> None:
    book = book_in(tmp_path)
    an = book.add("Nguyễn Văn An", "technician", PIN)
    before = json.loads(accounts_file(tmp_path).read_text())["accounts"][0]["pin"]
    book.set_pin(an.id, "935170")
    after = json.loads(accounts_file(tmp_path).read_text())["accounts"][0]["pin"]
    assert after["salt"] != before["salt"] and after["key"] != before["key"]
    assert book.verify_pin(an.id, PIN) is None
    assert book.verify_pin(an.id, "935170") is not None
    with pytest.raises(WeakPin):
        book.set_pin(an.id, "000000")
    book.remove(an.id)
    assert book.accounts() == []
    with pytest.raises(UnknownAccount):
        book.remove(an.id)
    with pytest.raises(UnknownAccount):
        book.set_pin(an.id, "935170")
    # an id is never given again: old audit entries keep naming one person
    assert book.add("Trần Thị Bình", "supervisor", PIN).id == "NV002"


def test_weaker_hashes_are_upgraded_when_the_pin_is_typed_right(tmp_path: Path) -> None:
    old = AccountBook.in_data_dir(tmp_path, params=ScryptParams(n=2**10))
    an = old.add("Nguyễn Văn An", "technician", PIN)
    assert an.pin.n == 2**10
    book = book_in(tmp_path)
    assert book.verify_pin(an.id, "935170") is None
    assert json.loads(accounts_file(tmp_path).read_text())["accounts"][0]["pin"]["n"] == 2**10
    upgraded = book.verify_pin(an.id, PIN)
    assert upgraded is not None and upgraded.pin.n == CURRENT_PARAMS.n
    assert json.loads(accounts_file(tmp_path).read_text())["accounts"][0]["pin"]["n"] == 2**14
    assert book.verify_pin(an.id, PIN) is not None


def test_adds_from_several_threads_lose_nothing(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def add(i: int) -> None:
        try:
            AccountBook.in_data_dir(tmp_path).add(f"Nhân viên {i}", "technician", PIN)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=add, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ids = sorted(a.id for a in book_in(tmp_path).accounts())
    assert ids == ["NV001", "NV002", "NV003", "NV004"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{bad", "is not valid JSON (line 1"),
        ("[]", "expected an object"),
        ('{"format": "something else", "version": 1, "accounts": []}', "not a staff accounts"),
        ('{"format": "motcua-kiosk staff accounts", "version": 9, "accounts": []}', "version 9"),
        ('{"format": "motcua-kiosk staff accounts", "version": 1, "accounts": {}}', "not a list"),
        (
            '{"format": "motcua-kiosk staff accounts", "version": 1, "accounts": '
            '[{"id": "NV001", "full_name": "A", "role": "boss", "pin": {}}]}',
            "account 1 role 'boss'",
        ),
        (
            '{"format": "motcua-kiosk staff accounts", "version": 1, "accounts": '
            '[{"id": "NV001", "full_name": "A", "role": "technician", '
            '"pin": {"scheme": "md5", "hash": "e10adc3949ba59abbe56e057f20f883e"}}]}',
            "unknown PIN scheme",
        ),
        (
            '{"format": "motcua-kiosk staff accounts", "version": 1, "accounts": '
            '[{"id": "NV001", "full_name": "A", "role": "technician"}]}',
            "account 1 has no 'pin'",
        ),
    ],
)
def test_a_broken_file_gives_a_clear_one_line_error(
    tmp_path: Path, content: str, problem: str
) -> None:
    path = accounts_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(content, encoding="utf-8")
    book = book_in(tmp_path)
    with pytest.raises(StaffFileError) as broken:
        book.accounts()
    message = str(broken.value)
    assert message.startswith(f"{path}: ")
    assert problem in message
    assert "\n" not in message
    with pytest.raises(StaffFileError):
        book.add("Nguyễn Văn An", "technician", PIN)
    assert path.read_text(encoding="utf-8") == content  # left as it was, for a person to see


def test_a_broken_file_does_not_crash_the_sign_in(tmp_path: Path) -> None:
    path = accounts_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe not text")
    desk = StaffDesk(tmp_path, kiosk_id="KIOSK-01")
    refused = desk.sign_in("NV001", PIN)
    assert refused == SignInRefused(Refusal.UNAVAILABLE)
    assert desk.sign_in_with_card(CARD) == SignInRefused(Refusal.UNAVAILABLE)
    actions = [e.action for e in desk.audit_log.entries_since(0)]
    assert actions == ["staff.sign_in_unavailable", "staff.sign_in_unavailable"]
