"""Where the flow's slow work runs: at once (tests, the CLI) or on one worker thread (the shell).

A ``Runner`` takes ``work`` (camera, chip, submission, printing, look-up), and later calls
``done(result)`` or ``failed(exc)`` on the thread that owns the screens; ``post`` brings any
other call there (progress from the worker). ``CitizenToken`` is set when the citizen the work
was for has gone: long waits (the card reader's "place your card") watch it and give up, so the
next citizen's actions do not queue behind them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Protocol, TypeVar

from kiosk.errors import KioskError

T = TypeVar("T")


class CitizenGone(KioskError):
    """The citizen the work was for has left (cancelled, timed out): the work stopped. Never
    shown: there is nobody left to tell (``FlowContext.fail`` only logs it)."""


class CitizenToken:
    """Set once, when the citizen a piece of work was started for has left."""

    def __init__(self) -> None:
        self._gone = threading.Event()

    def leave(self) -> None:
        self._gone.set()

    @property
    def gone(self) -> bool:
        return self._gone.is_set()

    def check(self) -> None:
        """Raise ``CitizenGone`` once the citizen has left (called between slow steps)."""
        if self._gone.is_set():
            raise CitizenGone("the citizen left; work abandoned")


class Runner(Protocol):
    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None: ...

    def post(self, call: Callable[[], None]) -> None: ...


class InlineRunner:
    """Runs work at once on the calling thread (tests, CLI)."""

    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        try:
            result = work()
        except Exception as exc:  # noqa: BLE001 - handed to the caller's failure path
            failed(exc)
            return
        done(result)

    def post(self, call: Callable[[], None]) -> None:
        call()


class ThreadRunner:
    """Runs work on one worker thread; ``post`` brings callbacks back to the UI thread."""

    def __init__(self, post: Callable[[Callable[[], None]], None]) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-io")
        self._post = post

    def run(
        self,
        work: Callable[[], T],
        done: Callable[[T], None],
        failed: Callable[[BaseException], None],
    ) -> None:
        def job() -> None:
            try:
                result = work()
            except Exception as exc:  # noqa: BLE001
                self._post(partial(failed, exc))
                return
            self._post(partial(done, result))

        self._pool.submit(job)

    def post(self, call: Callable[[], None]) -> None:
        self._post(call)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
