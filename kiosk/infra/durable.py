"""Making a change to the file system survive a power cut: fsync of a folder after a file in it
was created, renamed or removed (the folder's entry is what a crash would otherwise lose)."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush the folder's entries to disk; quietly nothing where folders cannot be opened."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
