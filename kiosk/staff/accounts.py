"""Staff accounts, one per person, and their PINs kept only as salted scrypt hashes.

An account: an id the kiosk gives (``NV001``, never reused, the only thing the audit log names),
the person's full name (NFC), a role (technician or supervisor), optionally the 12-digit number
of the staff member's own card (so they can sign in with it on the reader), and the PIN's hash.

PIN rules (``check_pin_rules``): ASCII digits only, 6 to 16 of them, not one digit repeated
(``111111``) and not a run up or down (``123456``, ``654321``, ``789012``).

A PIN is stored as ``{"scheme": "scrypt", "n", "r", "p", "salt", "key"}``: OpenSSL's scrypt
(``hashlib.scrypt``) with n=2**14, r=8, p=1 (16 MiB, some 40 ms a try), a 16-byte random salt
per PIN and a 32-byte key, salt and key in base64. The parameters are stored with each hash so
they can be raised later: a PIN hashed with weaker ones is hashed again with the current ones
the next time it is typed right. Keys are compared with ``hmac.compare_digest``; an unknown
account id costs the same scrypt work as a known one.

The accounts live in ``<data_dir>/staff/accounts.json`` (mode 0600, written atomically, changed
under the staff folder's lock); a broken file raises ``StaffFileError`` naming the file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from kiosk.identity.id_number import InvalidIdNumber, normalise_id_number
from kiosk.infra.clock import now_vietnam
from kiosk.infra.text import nfc
from kiosk.staff.errors import CardRefused, StaffFileError, UnknownAccount, WeakPin
from kiosk.staff.files import folder_lock, read_json_object, staff_dir, write_private_json

ACCOUNTS_FILE: Final = "accounts.json"
FILE_FORMAT: Final = "motcua-kiosk staff accounts"
FILE_VERSION: Final = 1

PIN_MIN_DIGITS: Final = 6
PIN_MAX_DIGITS: Final = 16
NAME_MAX_CHARS: Final = 100
ID_PREFIX: Final = "NV"  # nhân viên
_ID_PATTERN: Final = re.compile(r"^NV\d{3,}$")


class Role(StrEnum):
    """What a staff member may do in maintenance mode."""

    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class ScryptParams:
    """scrypt's cost (``n``: CPU and memory, a power of two; ``r``: block size; ``p``:
    parallelism) and the sizes of salt and key."""

    n: int = 2**14
    r: int = 8
    p: int = 1
    salt_bytes: int = 16
    key_bytes: int = 32

    def check(self) -> None:
        """Raise ValueError unless the values are ones scrypt takes and the kiosk can afford."""
        if self.n < 2 or self.n & (self.n - 1) or self.n > 2**22:
            raise ValueError(f"scrypt n must be a power of two from 2 to 2**22, not {self.n}")
        if not 1 <= self.r <= 64 or not 1 <= self.p <= 16:
            raise ValueError(f"scrypt r={self.r}, p={self.p} out of range (r 1-64, p 1-16)")
        if not 16 <= self.salt_bytes <= 64 or not 16 <= self.key_bytes <= 64:
            raise ValueError("scrypt salt and key must be 16 to 64 bytes")


#: What new PINs are hashed with. Raise it here: older hashes are upgraded when next used.
CURRENT_PARAMS: Final = ScryptParams()


def _scrypt(secret: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    maxmem = 128 * r * (n + p + 2) + (1 << 20)  # what scrypt needs, plus headroom
    return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=maxmem)


@dataclass(frozen=True)
class PinHash:
    """A PIN's salted scrypt hash with the parameters it was made with."""

    n: int
    r: int
    p: int
    salt: bytes = field(repr=False)
    key: bytes = field(repr=False)

    def matches(self, pin: str) -> bool:
        """Whether ``pin`` is the PIN this hash was made from (constant-time comparison)."""
        secret = pin.encode("utf-8", "surrogatepass")
        candidate = _scrypt(secret, self.salt, self.n, self.r, self.p, len(self.key))
        return hmac.compare_digest(candidate, self.key)

    def weaker_than(self, params: ScryptParams) -> bool:
        """Whether this hash was made with less work or a shorter salt or key than ``params``."""
        return (
            self.n < params.n
            or self.r < params.r
            or self.p < params.p
            or len(self.salt) < params.salt_bytes
            or len(self.key) < params.key_bytes
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "scheme": "scrypt",
            "n": self.n,
            "r": self.r,
            "p": self.p,
            "salt": base64.b64encode(self.salt).decode("ascii"),
            "key": base64.b64encode(self.key).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, value: Any) -> PinHash:
        """The hash stored as ``value``; ValueError saying what is wrong."""
        if not isinstance(value, dict):
            raise ValueError("'pin' is not an object")
        if value.get("scheme") != "scrypt":
            raise ValueError(f"unknown PIN scheme {value.get('scheme')!r} (expected 'scrypt')")
        numbers = {k: value.get(k) for k in ("n", "r", "p")}
        for name, number in numbers.items():
            if not isinstance(number, int) or isinstance(number, bool):
                raise ValueError(f"PIN hash parameter {name!r} is not a whole number")
        try:
            salt = base64.b64decode(str(value.get("salt", "")), validate=True)
            key = base64.b64decode(str(value.get("key", "")), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("PIN hash salt or key is not base64") from None
        params = ScryptParams(
            n=int(value["n"]),
            r=int(value["r"]),
            p=int(value["p"]),
            salt_bytes=len(salt),
            key_bytes=len(key),
        )
        params.check()
        return cls(params.n, params.r, params.p, salt, key)


def hash_pin(pin: str, params: ScryptParams = CURRENT_PARAMS) -> PinHash:
    """A new salted hash of ``pin`` (checked against the PIN rules first)."""
    check_pin_rules(pin)
    params.check()
    salt = secrets.token_bytes(params.salt_bytes)
    key = _scrypt(pin.encode("ascii"), salt, params.n, params.r, params.p, params.key_bytes)
    return PinHash(params.n, params.r, params.p, salt, key)


def check_pin_rules(pin: str) -> None:
    """Raise ``WeakPin`` saying which rule ``pin`` breaks (never repeating the PIN)."""
    if not pin or not (pin.isascii() and pin.isdigit()):
        raise WeakPin("a PIN is made of the digits 0-9 only")
    if len(pin) < PIN_MIN_DIGITS:
        raise WeakPin(f"a PIN has at least {PIN_MIN_DIGITS} digits, this one {len(pin)}")
    if len(pin) > PIN_MAX_DIGITS:
        raise WeakPin(f"a PIN has at most {PIN_MAX_DIGITS} digits, this one {len(pin)}")
    if len(set(pin)) == 1:
        raise WeakPin("a PIN cannot be one digit repeated")
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:], strict=False)}
    if steps in ({1}, {9}):
        raise WeakPin("a PIN cannot be a run of digits going up or down (1234…, 9876…)")


def normalise_name(full_name: str) -> str:
    """The name in NFC with its spaces tidied; ValueError when it is empty, too long or holds
    control characters."""
    name = " ".join(nfc(full_name).split())
    if not name:
        raise ValueError("the full name is empty")
    if len(name) > NAME_MAX_CHARS:
        raise ValueError(f"the full name is longer than {NAME_MAX_CHARS} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in name):
        raise ValueError("the full name holds control characters")
    return name


def normalise_account_id(account_id: str) -> str:
    """``nv001`` and `` NV001 `` name the account ``NV001``."""
    return account_id.strip().upper()


def mask_card(number: str | None) -> str | None:
    """A staff card's number with all but its last 4 digits hidden, for lists others can see."""
    if not number:
        return None
    return "*" * (len(number) - 4) + number[-4:]


@dataclass(frozen=True)
class StaffAccount:
    """One staff member. ``repr()`` shows neither the card number nor the PIN's hash."""

    id: str
    full_name: str
    role: Role
    pin: PinHash = field(repr=False)
    card_number: str | None = field(default=None, repr=False)
    created_at: str = ""
    pin_changed_at: str = ""

    def public(self) -> dict[str, Any]:
        """What ``kiosk staff list`` shows: no hash, the card number masked."""
        return {
            "id": self.id,
            "full_name": self.full_name,
            "role": self.role.value,
            "card": mask_card(self.card_number),
            "created_at": self.created_at,
            "pin_changed_at": self.pin_changed_at,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "full_name": self.full_name,
            "role": self.role.value,
            "card_number": self.card_number,
            "pin": self.pin.to_dict(),
            "created_at": self.created_at,
            "pin_changed_at": self.pin_changed_at,
        }

    @classmethod
    def from_dict(cls, value: Any) -> StaffAccount:
        """The account stored as ``value``; ValueError saying what is wrong."""
        if not isinstance(value, dict):
            raise ValueError("is not an object")
        for key in ("id", "full_name", "role", "pin"):
            if key not in value:
                raise ValueError(f"has no {key!r}")
        account_id = value["id"]
        if not isinstance(account_id, str) or not _ID_PATTERN.fullmatch(account_id):
            raise ValueError(f"id {account_id!r} is not like NV001")
        if not isinstance(value["full_name"], str):
            raise ValueError("full_name is not text")
        try:
            role = Role(value["role"])
        except ValueError:
            raise ValueError(
                f"role {value['role']!r} is not one of {', '.join(r.value for r in Role)}"
            ) from None
        card = value.get("card_number")
        if card is not None and not (isinstance(card, str) and len(card) == 12 and card.isdigit()):
            raise ValueError("card_number is not 12 digits")
        return cls(
            id=account_id,
            full_name=normalise_name(value["full_name"]),
            role=role,
            pin=PinHash.from_dict(value["pin"]),
            card_number=card,
            created_at=str(value.get("created_at", "")),
            pin_changed_at=str(value.get("pin_changed_at", "")),
        )


@dataclass
class _Book:
    next_number: int
    accounts: list[StaffAccount]

    def index(self, account_id: str) -> int:
        wanted = normalise_account_id(account_id)
        for i, account in enumerate(self.accounts):
            if account.id == wanted:
                return i
        raise UnknownAccount(f"no staff account {wanted!r}")


# A hash to spend the same work on when the account id is unknown (timing tells nothing).
_DECOY: Final = PinHash(CURRENT_PARAMS.n, CURRENT_PARAMS.r, CURRENT_PARAMS.p, bytes(16), bytes(32))


class AccountBook:
    """The staff accounts in ``path``. Every call reads the file afresh (the ``kiosk staff``
    command may have changed it); every change is made under the staff folder's lock."""

    def __init__(
        self,
        path: Path,
        *,
        params: ScryptParams = CURRENT_PARAMS,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        params.check()
        self.path = Path(path)
        self.params = params
        self._clock = clock

    @classmethod
    def in_data_dir(cls, data_dir: Path, **kwargs: Any) -> AccountBook:
        """The kiosk's accounts: ``<data_dir>/staff/accounts.json``."""
        return cls(staff_dir(data_dir) / ACCOUNTS_FILE, **kwargs)

    # -- reading ---------------------------------------------------------------------------

    def accounts(self) -> list[StaffAccount]:
        """Every account, in the order they were added."""
        return list(self._load().accounts)

    def get(self, account_id: str) -> StaffAccount | None:
        wanted = normalise_account_id(account_id)
        return next((a for a in self._load().accounts if a.id == wanted), None)

    def find_by_card(self, id_number: str) -> StaffAccount | None:
        """The account whose staff card has this 12-digit number, if any."""
        digits = "".join(id_number.split())
        if len(digits) != 12 or not digits.isdigit():
            return None
        return next((a for a in self._load().accounts if a.card_number == digits), None)

    def verify_pin(self, account_id: str, pin: str) -> StaffAccount | None:
        """The account when ``pin`` is its PIN, else None (an unknown id costs the same work).

        A hash made with weaker parameters than the current ones is replaced on success."""
        account = self.get(account_id)
        if account is None:
            _DECOY.matches(pin)
            return None
        if not account.pin.matches(pin):
            return None
        if account.pin.weaker_than(self.params):
            account = self._upgrade(account, pin)
        return account

    # -- changing --------------------------------------------------------------------------

    def add(
        self, full_name: str, role: Role | str, pin: str, card_number: str | None = None
    ) -> StaffAccount:
        """A new account with the next free id. Raises ``WeakPin``, ``CardRefused``, or
        ValueError for a name or role that cannot be."""
        name = normalise_name(full_name)
        try:
            role = Role(role)
        except ValueError:
            raise ValueError(
                f"role {role!r} is not one of {', '.join(r.value for r in Role)}"
            ) from None
        card = normalise_card(card_number) if card_number else None
        pin_hash = hash_pin(pin, self.params)
        with folder_lock(self.path.parent):
            book = self._load()
            if card is not None:
                self._refuse_taken_card(book, card, None)
            stamp = self._stamp()
            account = StaffAccount(
                id=f"{ID_PREFIX}{book.next_number:03d}",
                full_name=name,
                role=role,
                pin=pin_hash,
                card_number=card,
                created_at=stamp,
                pin_changed_at=stamp,
            )
            book.accounts.append(account)
            book.next_number += 1
            self._save(book)
        return account

    def remove(self, account_id: str) -> StaffAccount:
        """Remove the account (its id is never given again); ``UnknownAccount`` if none."""
        with folder_lock(self.path.parent):
            book = self._load()
            account = book.accounts.pop(book.index(account_id))
            self._save(book)
        return account

    def set_pin(self, account_id: str, pin: str) -> StaffAccount:
        """Give the account a new PIN (new salt too). Raises ``WeakPin``, ``UnknownAccount``."""
        pin_hash = hash_pin(pin, self.params)
        with folder_lock(self.path.parent):
            book = self._load()
            i = book.index(account_id)
            account = replace(book.accounts[i], pin=pin_hash, pin_changed_at=self._stamp())
            book.accounts[i] = account
            self._save(book)
        return account

    def set_card(self, account_id: str, card_number: str | None) -> StaffAccount:
        """Give the account a staff card (or take it away with None)."""
        card = normalise_card(card_number) if card_number else None
        with folder_lock(self.path.parent):
            book = self._load()
            i = book.index(account_id)
            if card is not None:
                self._refuse_taken_card(book, card, book.accounts[i].id)
            account = replace(book.accounts[i], card_number=card)
            book.accounts[i] = account
            self._save(book)
        return account

    # -- the file ----------------------------------------------------------------------------

    def _upgrade(self, account: StaffAccount, pin: str) -> StaffAccount:
        fresh = hash_pin(pin, self.params)
        with folder_lock(self.path.parent):
            book = self._load()
            try:
                i = book.index(account.id)
            except UnknownAccount:
                return account
            if book.accounts[i].pin != account.pin:  # changed meanwhile: leave it
                return book.accounts[i]
            upgraded = replace(book.accounts[i], pin=fresh)
            book.accounts[i] = upgraded
            self._save(book)
        return upgraded

    def _stamp(self) -> str:
        return self._clock().isoformat(timespec="seconds")

    @staticmethod
    def _refuse_taken_card(book: _Book, card: str, owner: str | None) -> None:
        for other in book.accounts:
            if other.card_number == card and other.id != owner:
                raise CardRefused(f"this staff card is already on account {other.id}")

    def _load(self) -> _Book:
        data = read_json_object(self.path)
        if data is None:
            return _Book(1, [])
        if data.get("format") != FILE_FORMAT:
            raise StaffFileError(self.path, f"is not a staff accounts file (no {FILE_FORMAT!r})")
        if data.get("version") != FILE_VERSION:
            raise StaffFileError(
                self.path, f"has version {data.get('version')!r}, this kiosk reads {FILE_VERSION}"
            )
        rows = data.get("accounts")
        if not isinstance(rows, list):
            raise StaffFileError(self.path, "'accounts' is not a list")
        accounts: list[StaffAccount] = []
        seen: set[str] = set()
        for number, row in enumerate(rows, start=1):
            try:
                account = StaffAccount.from_dict(row)
            except ValueError as e:
                raise StaffFileError(self.path, f"account {number} {e}") from None
            if account.id in seen:
                raise StaffFileError(self.path, f"account {number}: id {account.id} twice")
            seen.add(account.id)
            accounts.append(account)
        highest = max((int(a.id[len(ID_PREFIX) :]) for a in accounts), default=0)
        next_number = data.get("next_number", highest + 1)
        if not isinstance(next_number, int) or isinstance(next_number, bool):
            raise StaffFileError(self.path, "'next_number' is not a whole number")
        return _Book(max(next_number, highest + 1), accounts)

    def _save(self, book: _Book) -> None:
        write_private_json(
            self.path,
            {
                "format": FILE_FORMAT,
                "version": FILE_VERSION,
                "next_number": book.next_number,
                "accounts": [a.to_dict() for a in book.accounts],
            },
        )


def normalise_card(raw: str) -> str:
    """The 12 digits of a staff card's ID number; ``CardRefused`` if it cannot be one."""
    try:
        return normalise_id_number(raw)
    except InvalidIdNumber as e:
        raise CardRefused(f"the staff card number is not a valid ID number: {e}") from None
