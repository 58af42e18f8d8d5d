"""Private JSON files of the staff folder: written whole or not at all, readable by the kiosk's
user only, changed under one lock so that the kiosk and the ``kiosk staff`` command never lose
each other's change.

A write goes to a temporary file in the same folder (``mkstemp``: mode 0600), is fsync'ed,
renamed over the old file and the folder fsync'ed (kiosk/infra/durable.py): after a power cut
the file is the old one or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kiosk.infra.durable import fsync_dir, write_synced
from kiosk.staff.errors import StaffFileError

log = logging.getLogger(__name__)

STAFF_FOLDER = "staff"
LOCK_NAME = ".lock"


def staff_dir(data_dir: Path) -> Path:
    """``<data_dir>/staff``: the accounts and the lock-out state."""
    return Path(data_dir) / STAFF_FOLDER


def write_private_json(path: Path, payload: Any) -> None:
    """Replace ``path`` atomically with ``payload`` as UTF-8 JSON, mode 0600."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = (json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        try:
            write_synced(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def read_json_object(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None when there is no such file. Raises ``StaffFileError``
    (naming the file) when it cannot be read or is not a JSON object."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as e:
        raise StaffFileError(path, f"cannot be read: {e.strerror or e}") from None
    try:
        value = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise StaffFileError(path, "is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise StaffFileError(
            path, f"is not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})"
        ) from None
    if not isinstance(value, dict):
        raise StaffFileError(path, f"holds a JSON {type(value).__name__}, expected an object")
    _warn_if_shared(path)
    return value


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold the staff folder's lock (``fcntl.flock`` on ``folder/.lock``): threads and
    processes that change the staff files take turns."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _warn_if_shared(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "%s can be read by other users (mode %o): chmod 600 it", path, stat.S_IMODE(mode)
        )
