"""The append-only audit log: what staff, operators and the kiosk itself did, chained by hashes.

``<data_dir>/audit.jsonl`` holds one JSON object a line::

    {"action": "staff.pin_failed", "actor": "system", "at": "2026-12-07T09:30:00.000+07:00",
     "detail": {"account": "NV002"}, "hash": "…", "kiosk": "KIOSK-01", "prev": "…", "seq": 7}

``seq`` counts from 1; ``at`` is Vietnam time (kiosk/infra/clock.py); ``actor`` is a staff
account id (``NV001``), ``system``, ``operator:<name>`` or ``cli:<unix user>``; ``action`` a dotted
name (``staff.sign_in``, ``maintenance.enter``); ``detail`` a small object of non-personal data
(never a PIN, a name, an ID number: ``append`` refuses the obvious ones); ``prev`` the ``hash`` of
the entry before (64 zeros for the first); ``hash`` the hex SHA-256 of the entry's canonical
JSON without ``hash`` (sorted keys, no spaces, ``ensure_ascii=False``, UTF-8). Each line is
written in that canonical form.

An edited line no longer matches its hash; a removed, inserted or reordered line breaks the
``seq`` count or the ``prev`` link. ``verify(path)`` names the first bad line, its ``seq`` and
why: "edited", "removed or reordered", "not JSON". The chain alone cannot see lines cut from
the end or a log rewritten whole: shipping entries to the back office (``entries_since``)
anchors it there.

Appends take an exclusive ``fcntl.flock`` on the log (threads and processes take turns), write
the line in one ``write`` to a file opened ``O_APPEND`` and fsync it. A last line torn by a
crash (no newline at the end) is found by the next append: it is kept as it is, closed with a
newline, logged, and recorded by an ``audit.torn_line`` entry; ``verify`` then names it ("not
JSON"), because an entry may have been lost there. The chain goes on from the last whole entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from kiosk.infra.clock import now_vietnam, to_vietnam_time
from kiosk.infra.durable import fsync_dir, write_synced
from kiosk.infra.text import nfc, nfc_deep
from kiosk.staff.errors import AuditLogError

log = logging.getLogger(__name__)

AUDIT_FILE: Final = "audit.jsonl"
GENESIS: Final = "0" * 64
FIELDS: Final = ("seq", "at", "kiosk", "actor", "action", "detail", "prev", "hash")

EDITED: Final = "edited"
REMOVED_OR_REORDERED: Final = "removed or reordered"
NOT_JSON: Final = "not JSON"

_ACTION: Final = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_ACTOR: Final = re.compile(r"^(system|[A-Za-z][A-Za-z0-9_-]{0,31}|(operator|cli):[^\s:]\S{0,63})$")
_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
#: Keys whose values are personal or secret by their very name: refused in ``detail``.
PERSONAL_KEYS: Final = frozenset(
    {
        "pin",
        "new_pin",
        "old_pin",
        "password",
        "id_number",
        "card_number",
        "cccd",
        "full_name",
        "date_of_birth",
        "phone",
        "address",
    }
)
_CHUNK: Final = 8192


def canonical_json(value: Any) -> bytes:
    """The one byte form an entry is hashed (and written) in."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(body: Mapping[str, Any]) -> str:
    """Hex SHA-256 of ``body``'s canonical JSON, ``hash`` left out."""
    return hashlib.sha256(
        canonical_json({k: v for k, v in body.items() if k != "hash"})
    ).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    """One line of the log."""

    seq: int
    at: str
    kiosk: str
    actor: str
    action: str
    detail: dict[str, Any]
    prev: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "kiosk": self.kiosk,
            "actor": self.actor,
            "action": self.action,
            "detail": self.detail,
            "prev": self.prev,
            "hash": self.hash,
        }

    @classmethod
    def from_dict(cls, value: Any) -> AuditEntry | None:
        """The entry, or None when ``value`` does not have an entry's fields and types."""
        if not isinstance(value, dict) or set(value) != set(FIELDS):
            return None
        seq = value["seq"]
        if (
            not isinstance(seq, int)
            or isinstance(seq, bool)
            or not isinstance(value["detail"], dict)
        ):
            return None
        texts = [value[k] for k in ("at", "kiosk", "actor", "action", "prev", "hash")]
        if not all(isinstance(t, str) for t in texts):
            return None
        return cls(
            seq=seq,
            at=value["at"],
            kiosk=value["kiosk"],
            actor=value["actor"],
            action=value["action"],
            detail=value["detail"],
            prev=value["prev"],
            hash=value["hash"],
        )


@dataclass(frozen=True)
class AuditProblem:
    """The first bad line: its number (from 1), its ``seq`` if it has one, and why."""

    line: int
    seq: int | None
    reason: str

    def __str__(self) -> str:
        seq = "?" if self.seq is None else str(self.seq)
        return f"line {self.line} (seq {seq}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "seq": self.seq, "reason": self.reason}


@dataclass(frozen=True)
class AuditReport:
    """What ``check`` found: the good entries before the first problem, and that problem."""

    path: Path
    entries: int
    problem: AuditProblem | None
    last_seq: int
    last_hash: str

    @property
    def intact(self) -> bool:
        return self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "entries": self.entries,
            "intact": self.intact,
            "problem": None if self.problem is None else self.problem.to_dict(),
            "last_seq": self.last_seq,
            "last_hash": self.last_hash,
        }


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the newline) of each line; a torn last line included."""
    try:
        with open(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                yield number, raw.rstrip(b"\n")
    except FileNotFoundError:
        return
    except OSError as e:
        raise AuditLogError(f"{path}: cannot be read: {e.strerror or e}") from None


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return _NOT_JSON


_NOT_JSON: Final = object()


def check(path: Path) -> AuditReport:
    """Walk the whole log: how many entries are good before the first bad one, and that one."""
    path = Path(path)
    expected_seq, prev = 1, GENESIS
    for number, raw in _lines(path):
        problem = _problem(number, raw, expected_seq, prev)
        if problem is not None:
            return AuditReport(path, expected_seq - 1, problem, expected_seq - 1, prev)
        entry = _whole_entry(raw)
        assert entry is not None
        expected_seq, prev = entry.seq + 1, entry.hash
    return AuditReport(path, expected_seq - 1, None, expected_seq - 1, prev)


def _problem(number: int, raw: bytes, expected_seq: int, prev: str) -> AuditProblem | None:
    """What is wrong with line ``number`` when it should be entry ``expected_seq`` after the
    entry whose hash is ``prev``; None when nothing is."""
    value = _parse(raw)
    if value is _NOT_JSON:
        return AuditProblem(number, None, NOT_JSON)
    seq = value.get("seq") if isinstance(value, dict) else None
    seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    entry = AuditEntry.from_dict(value)
    try:
        edited = entry is None or entry_hash(value) != entry.hash
    except ValueError:  # NaN or Infinity: never written by append
        edited = True
    if edited or entry is None:
        return AuditProblem(number, seq, EDITED)
    if entry.seq != expected_seq or entry.prev != prev:
        return AuditProblem(number, entry.seq, REMOVED_OR_REORDERED)
    return None


def verify(path: Path) -> AuditProblem | None:
    """The first bad entry of the log at ``path`` (line, seq, reason), or None when the chain
    is intact (a log that does not exist yet is intact and empty)."""
    return check(path).problem


def check_detail(detail: Mapping[str, Any]) -> dict[str, Any]:
    """``detail`` as stored (NFC text, JSON types only); ValueError for anything personal by
    its look: a key such as ``pin`` or ``id_number``, a value of 6 or more digits alone."""
    if not isinstance(detail, Mapping):
        raise ValueError("audit detail is a mapping")

    def walk(value: Any, where: str) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                if not isinstance(key, str):
                    raise ValueError(f"audit detail key {where}{key!r} is not text")
                if key.casefold() in PERSONAL_KEYS:
                    raise ValueError(f"audit detail {where}{key!r} would hold personal data")
                walk(inner, f"{where}{key}.")
        elif isinstance(value, list | tuple):
            for inner in value:
                walk(inner, where)
        elif isinstance(value, str):
            if len(value) >= 6 and value.isdigit():
                raise ValueError(
                    f"audit detail {where.rstrip('.') or 'value'} looks like a PIN or an ID number"
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"audit detail {where.rstrip('.')} is not a finite number")
        elif value is not None and not isinstance(value, bool | int):
            raise ValueError(
                f"audit detail {where.rstrip('.')} is a {type(value).__name__}, not JSON"
            )

    walk(detail, "")
    result = nfc_deep(dict(detail))
    assert isinstance(result, dict)
    return result


class AuditLog:
    """The kiosk's audit log at ``path``; ``append`` is safe from any thread and process."""

    def __init__(
        self,
        path: Path,
        *,
        kiosk_id: str,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        self.path = Path(path)
        self.kiosk_id = nfc(kiosk_id)
        self._clock = clock
        self._lock = threading.Lock()

    @classmethod
    def in_data_dir(cls, data_dir: Path, *, kiosk_id: str, **kwargs: Any) -> AuditLog:
        """The kiosk's log: ``<data_dir>/audit.jsonl``."""
        return cls(Path(data_dir) / AUDIT_FILE, kiosk_id=kiosk_id, **kwargs)

    def append(
        self, actor: str, action: str, detail: Mapping[str, Any] | None = None
    ) -> AuditEntry:
        """Add one entry (fsync'ed before this returns) and return it.

        ValueError for an actor or action that is not well formed or a detail with personal
        data; ``AuditLogError`` when the log cannot be written."""
        actor = nfc(actor)
        if not _ACTOR.fullmatch(actor):
            raise ValueError(
                f"audit actor {actor!r} is not a staff id, system, operator:… or cli:…"
            )
        if not _ACTION.fullmatch(action):
            raise ValueError(f"audit action {action!r} is not a dotted name like staff.sign_in")
        body = check_detail(detail or {})
        try:
            with self._lock:
                return self._append_locked(actor, action, body)
        except OSError as e:
            raise AuditLogError(f"{self.path}: cannot be written: {e.strerror or e}") from None

    def entries_since(self, seq: int = 0) -> list[AuditEntry]:
        """The entries after ``seq``, in order (to ship to the back office). Lines that are not
        entries are left out: ``verify`` is what tells of them."""
        found: list[AuditEntry] = []
        for _number, raw in _lines(self.path):
            value = _parse(raw)
            entry = None if value is _NOT_JSON else AuditEntry.from_dict(value)
            if entry is not None and entry.seq > seq:
                found.append(entry)
        return found

    def verify(self) -> AuditProblem | None:
        return verify(self.path)

    # -- appending -------------------------------------------------------------------------

    def _append_locked(self, actor: str, action: str, detail: dict[str, Any]) -> AuditEntry:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            size = os.fstat(fd).st_size
            last, torn = _tail(fd, size)
            lines: list[AuditEntry] = []
            out = b""
            if torn is not None:
                torn_line, torn_bytes, torn_entry = torn
                out += b"\n"  # close the torn line as it is: verify will name it
                if torn_entry is not None:  # only the newline was lost: nothing is missing
                    last = torn_entry
                else:
                    log.error(
                        "%s: line %d was torn by a crash (%d bytes, no newline): kept as it "
                        "is; kiosk audit verify will name it",
                        self.path,
                        torn_line,
                        torn_bytes,
                    )
                    note = self._entry(
                        last, "system", "audit.torn_line", {"line": torn_line, "bytes": torn_bytes}
                    )
                    lines.append(note)
                    last = note
            entry = self._entry(last, actor, action, detail)
            lines.append(entry)
            out += b"".join(canonical_json(e.to_dict()) + b"\n" for e in lines)
            write_synced(fd, out)
        finally:
            os.close(fd)
        if size == 0:
            fsync_dir(self.path.parent)
        return entry

    def _entry(
        self, last: AuditEntry | None, actor: str, action: str, detail: dict[str, Any]
    ) -> AuditEntry:
        body: dict[str, Any] = {
            "seq": 1 if last is None else last.seq + 1,
            "at": to_vietnam_time(self._clock()).isoformat(timespec="milliseconds"),
            "kiosk": self.kiosk_id,
            "actor": actor,
            "action": action,
            "detail": detail,
            "prev": GENESIS if last is None else last.hash,
        }
        body["hash"] = entry_hash(body)
        entry = AuditEntry.from_dict(body)
        assert entry is not None
        return entry


def _tail(
    fd: int, size: int
) -> tuple[AuditEntry | None, tuple[int, int, AuditEntry | None] | None]:
    """The last entry of the file open at ``fd`` (None for none) and, when the file does not
    end with a newline, the torn line: (its line number, its length, the entry if it is whole:
    only the newline was lost)."""
    lines = _lines_backwards(fd, size)
    tail_start, tail = next(lines)
    torn: tuple[int, int, AuditEntry | None] | None = None
    if tail:
        whole = _whole_entry(tail)
        torn = (_line_number(fd, tail_start), len(tail), whole)
        if whole is not None:
            return whole, torn
    for _start, raw in lines:
        entry = _whole_entry(raw)
        if entry is not None:
            return entry, torn
    return None, torn


def _whole_entry(raw: bytes) -> AuditEntry | None:
    value = _parse(raw)
    if value is _NOT_JSON:
        return None
    entry = AuditEntry.from_dict(value)
    if entry is None or not _HEX64.fullmatch(entry.hash):
        return None
    return entry


def _lines_backwards(fd: int, size: int) -> Iterator[tuple[int, bytes]]:
    """(offset, bytes) of each line of the file open at ``fd``, newline dropped, from the last
    to the first. The first one is what follows the final newline: b"" unless a line is torn."""
    position = size
    pending = b""  # starts at ``position``
    while position > 0:
        step = min(_CHUNK, position)
        position -= step
        pending = os.pread(fd, step, position) + pending
        cut = pending.rfind(b"\n")
        while cut >= 0:
            yield position + cut + 1, pending[cut + 1 :]
            pending = pending[:cut]
            cut = pending.rfind(b"\n")
    yield 0, pending


def _line_number(fd: int, offset: int) -> int:
    """The 1-based number of the line that starts at ``offset``."""
    count, position = 0, 0
    while position < offset:
        chunk = os.pread(fd, min(1 << 16, offset - position), position)
        if not chunk:
            break
        count += chunk.count(b"\n")
        position += len(chunk)
    return count + 1
