"""Logs exported to a USB stick from maintenance mode: for the technician who takes them away.

``usb_folder()`` finds a mounted, writable removable volume (``/media/<label>``,
``/media/<user>/<label>``, ``/run/media/<user>/<label>``); ``export_logs()`` writes into it a
folder ``kiosk-logs-<kiosk>-<YYYYmmdd-HHMMSS>`` holding:

    kiosk.log      the kiosk's recent log lines, already masked (kiosk/infra/log_ring.py)
    audit.jsonl    the staff audit log as it is (hash-chained; ``kiosk audit verify`` reads it)
    status.json    each device's health, the outbox's counts, the kiosk's mode

every file written whole and synced before the next (a stick pulled out halfway leaves whole
files or none). Nothing personal: the audit log holds none by construction.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from kiosk.infra.durable import write_synced

USB_ROOTS: Final = (Path("/media"), Path("/run/media"))


def usb_folder(roots: Iterable[Path] | None = None) -> Path | None:
    """The first mounted, writable volume under ``roots`` (default ``USB_ROOTS``; two levels
    deep at most)."""
    for root in USB_ROOTS if roots is None else roots:
        if not root.is_dir():
            continue
        candidates = sorted(root.iterdir())
        candidates += sorted(p for c in candidates if c.is_dir() for p in c.iterdir())
        for path in candidates:
            if path.is_dir() and os.path.ismount(path) and os.access(path, os.W_OK):
                return path
    return None


def export_logs(
    target: Path,
    *,
    kiosk_id: str,
    log_lines: list[str],
    audit_path: Path,
    status: dict[str, Any],
    now: datetime,
) -> Path:
    """Write the export folder under ``target``; returns it."""
    folder = Path(target) / f"kiosk-logs-{kiosk_id}-{now:%Y%m%d-%H%M%S}"
    folder.mkdir(parents=True, exist_ok=False)
    _write(folder / "kiosk.log", "".join(f"{line}\n" for line in log_lines).encode())
    if audit_path.exists():
        shutil.copyfile(audit_path, folder / "audit.jsonl")
        with open(folder / "audit.jsonl", "rb+") as fh:
            os.fsync(fh.fileno())
    text = json.dumps(status, ensure_ascii=False, indent=2, sort_keys=True, default=str)
    _write(folder / "status.json", (text + "\n").encode())
    return folder


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        write_synced(fd, data)
    finally:
        os.close(fd)
