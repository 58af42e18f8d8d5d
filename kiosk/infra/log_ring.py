"""The kiosk's recent log lines in memory, masked, for staff to export from maintenance mode.

``LogRing`` is a logging handler that keeps the last ``capacity`` lines (formatted as the
operator's log is) with anything that looks like personal data masked before it is stored:
runs of 9 to 12 digits (ID numbers, old ID cards, phone numbers) and e-mail addresses. The
kiosk does not log personal data; the mask is the second line of defence for a file that
leaves the machine on a USB stick. Nothing is written to disk here.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import deque
from typing import Final

LOG_FORMAT: Final = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"  # the operator's log
CAPACITY: Final = 5000
MASK: Final = "<che>"
_PERSONAL = re.compile(r"(?<!\d)\d{9,12}(?!\d)|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_personal(text: str) -> str:
    """``text`` with ID-like digit runs and e-mail addresses replaced by ``MASK``."""
    return _PERSONAL.sub(MASK, text)


class LogRing(logging.Handler):
    """The last ``capacity`` log lines, masked."""

    def __init__(self, capacity: int = CAPACITY, fmt: str | None = None) -> None:
        super().__init__()
        self._lines: deque[str] = deque(maxlen=capacity)
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter(fmt))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = mask_personal(self.format(record))
        except Exception:  # noqa: BLE001 - a log line that cannot be formatted is dropped
            self.handleError(record)
            return
        with self._guard:
            self._lines.append(line)

    def lines(self) -> list[str]:
        with self._guard:
            return list(self._lines)


def install_log_ring(fmt: str = LOG_FORMAT, capacity: int = CAPACITY) -> LogRing:
    """A ``LogRing`` on the root logger (it sees what the operator's log shows)."""
    ring = LogRing(capacity, fmt)
    logging.getLogger().addHandler(ring)
    return ring
