"""The fleet agent's small state files under ``<data_dir>/fleet/``, kept across restarts.

Each is one JSON object, replaced whole (temporary file, fsync, rename, folder fsync: the
durable write of kiosk/staff/files.py over kiosk/infra/durable.py), mode 0600. A file that is
missing starts empty; one that is broken is logged, moved aside as ``<name>.broken`` and starts
empty too (the agent's state is a convenience: the back office's answers rebuild it).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, Final

from kiosk.staff.errors import StaffFileError
from kiosk.staff.files import read_json_object, write_private_json

log = logging.getLogger(__name__)

FLEET_FOLDER: Final = "fleet"


def fleet_dir(data_dir: Path) -> Path:
    """``<data_dir>/fleet``: the agent's state files."""
    return Path(data_dir) / FLEET_FOLDER


def load_state(path: Path) -> dict[str, Any]:
    """The object in ``path``; {} when there is none or it is broken (then moved aside)."""
    try:
        return read_json_object(path) or {}
    except StaffFileError as e:
        log.error("%s; starting from an empty state", e)
        with contextlib.suppress(OSError):
            os.replace(path, path.with_name(path.name + ".broken"))
        return {}


def save_state(path: Path, value: dict[str, Any]) -> None:
    """Replace ``path`` with ``value`` durably; OSError when it cannot be written."""
    write_private_json(path, value)
