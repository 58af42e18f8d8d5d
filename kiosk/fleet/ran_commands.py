"""The commands this kiosk has run and their results, kept so that none ever runs twice.

``<data_dir>/fleet/commands.json`` maps each command id to its result::

    {"commands": {"42": {"command": "restart", "state": "done", "ok": true,
                          "detail": "restarting", "at": "2026-12-07T09:30:00+07:00"}}}

A command is written as ``running`` before its handler starts and ``done`` with its result
after: a kiosk that stops in between (power cut, or the handler restarting the app) finds it
``running`` at the next fetch and acknowledges it as interrupted, never running it again. The
file keeps the ``MAX_REMEMBERED`` highest ids (the back office numbers commands in order); an
older id replayed after that is past the 24-hour limit the runner also enforces.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from kiosk.fleet.state_file import load_state, save_state
from kiosk.infra.clock import now_vietnam

RAN_FILE: Final = "commands.json"
MAX_REMEMBERED: Final = 1000
MAX_DETAIL_CHARS: Final = 2000

State = Literal["running", "done"]


@dataclass(frozen=True)
class RanCommand:
    """What became of one command."""

    command: str
    state: State
    ok: bool
    detail: str


class RanCommands:
    """The ids of the commands run here (bounded), persisted on every change."""

    def __init__(
        self,
        path: Path,
        *,
        limit: int = MAX_REMEMBERED,
        clock: Callable[[], datetime] = now_vietnam,
    ) -> None:
        self.path = Path(path)
        self.limit = limit
        self._clock = clock
        self._lock = threading.Lock()
        self._records: dict[int, dict[str, Any]] = {}
        stored = load_state(self.path).get("commands", {})
        if isinstance(stored, dict):
            for key, value in stored.items():
                if str(key).isdigit() and isinstance(value, dict):
                    self._records[int(key)] = value

    @classmethod
    def in_folder(cls, folder: Path, **kwargs: Any) -> RanCommands:
        """The record kept in ``folder/commands.json``."""
        return cls(Path(folder) / RAN_FILE, **kwargs)

    def __len__(self) -> int:
        return len(self._records)

    def get(self, command_id: int) -> RanCommand | None:
        with self._lock:
            record = self._records.get(int(command_id))
        if record is None:
            return None
        state: State = "running" if record.get("state") == "running" else "done"
        return RanCommand(
            str(record.get("command", "")),
            state,
            bool(record.get("ok", False)),
            str(record.get("detail", "")),
        )

    def start(self, command_id: int, command: str) -> None:
        """Record that ``command_id`` is about to run (OSError: not recorded, do not run it)."""
        self._put(command_id, {"command": command, "state": "running", "ok": False, "detail": ""})

    def finish(self, command_id: int, command: str, ok: bool, detail: str) -> None:
        """Record the result of ``command_id`` (OSError when it cannot be written)."""
        self._put(
            command_id,
            {
                "command": command,
                "state": "done",
                "ok": bool(ok),
                "detail": detail[:MAX_DETAIL_CHARS],
            },
        )

    def _put(self, command_id: int, record: dict[str, Any]) -> None:
        record["at"] = self._clock().isoformat(timespec="seconds")
        with self._lock:
            records = dict(self._records)
            records[int(command_id)] = record
            for old in sorted(records)[: max(0, len(records) - self.limit)]:
                del records[old]
            save_state(self.path, {"commands": {str(k): v for k, v in sorted(records.items())}})
            self._records = records
