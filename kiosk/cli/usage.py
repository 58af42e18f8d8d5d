"""``UsageError``: bad command-line input, reported as one line with exit code 2.

In its own module so that every command group raises the class ``kiosk.cli.main`` catches, also
when main runs as ``python -m kiosk.cli.main`` (where main's own classes would be ``__main__``'s).
"""

from __future__ import annotations


class UsageError(Exception):
    """Bad command-line input: one line, exit code 2."""
