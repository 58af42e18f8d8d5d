"""One SQLite file kept one way: the plumbing under the outbox, the ticket store and the ratings.

``SqliteStore`` owns what every store of the kiosk needs from SQLite and nothing of what it
keeps (the tables, the rows and their meaning stay with the caller, who hands in hooks):

Opening
    ``open()`` creates the folder, checks an existing file (``PRAGMA integrity_check``, then
    the caller's own ``check`` on a read-only connection, e.g. the outbox's key and
    decryption check), quarantines a damaged one (below) and runs the caller's ``prepare``
    (schema, migration) in one write transaction.

Connections
    One connection per thread (``journal_mode=WAL``, ``synchronous=FULL``: the WAL is fsynced
    at every commit; then the caller's ``configure``). Connections of finished threads are
    closed when a new one is opened; ``close()`` closes them all (the next use reconnects).
    When another process has replaced the file (after moving a damaged one aside), each
    thread notices it by the file's identity and reconnects; while the path is missing it
    waits, as for a lock.

Transactions
    ``read(op)`` runs ``op(conn)`` in one read transaction (a consistent snapshot);
    ``write(op)`` in one ``BEGIN IMMEDIATE`` transaction, committed or rolled back whole. The
    threads of one process queue for the write lock in Python; other processes wait up to
    ``busy_timeout_s``. A lock held longer is retried ``lock_retries`` times (a short sleep
    between), then raises the caller's ``locked`` error; any other SQLite error raises its
    ``unavailable`` error (``__cause__`` is the SQLite error), after dropping the
    connection (an I/O error is not trusted twice). Errors ``op`` raises itself pass
    through unchanged, after the rollback.

A damaged file (one policy: nothing is ever deleted)
    At open, a file that is not a database, fails the integrity check or the caller's check,
    or a WAL without its database (and, with ``quarantine_in_use``, a corruption error met
    later) is moved aside as ``<stem>.corrupt-<YYYYmmdd-HHMMSS>[-n]<suffix>`` with its -wal and
    -shm (hard links first, then the old names removed; crash-safe through the marker file
    ``<name>.quarantine``, which a restart completes), and ``<that name>.reason`` says when
    and why. A fresh file is built beside it (``<name>.new``: ``prepare``, then ``salvage``
    copies what still reads from the damaged one) and renamed into place complete, so no
    process ever sees a half-made store. ``alert`` gets one line for staff (the caller logs
    it and tells staff; without an ``alert`` the line is logged as an ERROR). A failed
    quarantine alerts too and raises ``unavailable``; the files stay as they are for the next
    try. The folder is flock-ed meanwhile, so two processes never quarantine at once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from kiosk.errors import KioskError
from kiosk.infra.clock import now_vietnam
from kiosk.infra.durable import fsync_dir

log = logging.getLogger(__name__)

T = TypeVar("T")

Check = Callable[[sqlite3.Connection], str | None]
Salvage = Callable[[sqlite3.Connection | None, Path, sqlite3.Connection], str]

_PARTS = ("", "-wal", "-shm")
_CORRUPTION_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_CORRUPTION_WORDS = ("malformed", "not a database", "corrupt", "disk image")
_LOCK_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED")
_LOCK_WORDS = ("locked", "busy")
_MOVED = "moved"
_RESUMED = "a quarantine interrupted by a restart was completed"
_MAX_REPLACED = 5


class StoreUnavailable(KioskError):
    """The store's file cannot be used (callers usually give their own error instead)."""


class StoreLocked(StoreUnavailable):
    """Another process held the store's write lock longer than the retry budget."""


def is_lock(err: BaseException) -> bool:
    """True for SQLite's "database is locked / busy"."""
    if not isinstance(err, sqlite3.OperationalError):
        return False
    name = getattr(err, "sqlite_errorname", "") or ""
    return name.startswith(_LOCK_CODES) or any(w in str(err) for w in _LOCK_WORDS)


def is_corruption(err: BaseException) -> bool:
    """True for a damaged file: not a database, malformed pages."""
    if not isinstance(err, sqlite3.DatabaseError):
        return False
    name = getattr(err, "sqlite_errorname", "") or ""
    text = str(err).lower()
    return name.startswith(_CORRUPTION_CODES) or any(w in text for w in _CORRUPTION_WORDS)


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A write transaction on a connection in autocommit mode (as ``SqliteStore`` opens them):
    committed at the end of the block, rolled back if it raises."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """The statements of ``script`` (no ``;`` inside one), in the caller's transaction:
    ``executescript`` would commit it first."""
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


class _Replaced(Exception):
    """The file was replaced between the identity check and the transaction: reconnect."""


class _ThreadState(threading.local):
    conn: sqlite3.Connection | None = None
    file_id: tuple[int, int] | None = None
    generation: int = -1
    depth: int = 0


def _file_id(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def _readonly_uri(path: Path) -> str:
    return f"{path.resolve().as_uri()}?mode=ro"


class SqliteStore:
    """One SQLite file: checked and prepared at ``open()``, used through ``read``/``write``.

    ``label`` names the store in messages ("outbox", "ticket store"). Hooks: ``prepare(conn)``
    creates or migrates the schema (in a write transaction); ``check(conn)`` returns what is
    wrong with a sound SQLite file, or None (it may raise to refuse the file as it is);
    ``salvage(old, old_path, fresh)`` copies what still reads from a quarantined file
    (``old`` is a read-only connection, None if it cannot be opened) into the fresh one (in
    autocommit mode: use ``transaction``) and returns a summary for staff; ``configure(conn)``
    sets the caller's own pragmas on each connection. ``unavailable`` and ``locked`` build
    the errors raised (from a message), so each caller keeps its own exception types.
    """

    def __init__(
        self,
        path: Path,
        *,
        label: str,
        prepare: Callable[[sqlite3.Connection], None] | None = None,
        check: Check | None = None,
        salvage: Salvage | None = None,
        configure: Callable[[sqlite3.Connection], None] | None = None,
        alert: Callable[[str], None] | None = None,
        clock: Callable[[], datetime] = now_vietnam,
        busy_timeout_s: float = 5.0,
        lock_retries: int = 0,
        quarantine_in_use: bool = False,
        unavailable: Callable[[str], Exception] = StoreUnavailable,
        locked: Callable[[str], Exception] = StoreLocked,
    ) -> None:
        self.path = Path(path)
        self.label = label
        self.busy_timeout_s = busy_timeout_s
        self.lock_retries = lock_retries
        self.quarantine_in_use = quarantine_in_use
        self.quarantined: Path | None = None
        self._prepare = prepare
        self._check = check
        self._salvage = salvage
        self._configure = configure
        self._alert = alert
        self._clock = clock
        self._unavailable = unavailable
        self._locked = locked
        self._opened = False
        self._local = _ThreadState()
        self._write_lock = threading.RLock()
        self._conns: dict[threading.Thread, sqlite3.Connection] = {}
        self._conns_lock = threading.Lock()
        self._generation = 0

    # --- opening ---

    @property
    def _marker(self) -> Path:
        return self.path.with_name(self.path.name + ".quarantine")

    def open(self) -> None:
        """Check the file (quarantining a damaged one), then prepare it."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise self._unavailable(f"cannot open the {self.label} {self.path}: {e}") from e
        if self.path.is_dir():
            raise self._unavailable(f"cannot open the {self.label} {self.path}: it is a folder")
        with self._folder_lock():
            if self._marker.exists():
                self._quarantine(self._marked_target(), _RESUMED)
            else:
                problem = self._problem()
                if problem is not None:
                    self._quarantine(self._new_target(), problem)
            self.write(self._prepare or (lambda conn: None), doing="cannot be opened")
            self._opened = True
        fsync_dir(self.path.parent)

    def _problem(self) -> str | None:
        """None when the file is absent or sound; what is wrong when it is damaged."""
        if not self.path.exists():
            if Path(f"{self.path}-wal").exists():
                return "a write-ahead log without its database"
            return None
        try:
            conn = sqlite3.connect(_readonly_uri(self.path), uri=True, timeout=self.busy_timeout_s)
        except sqlite3.Error as e:
            raise self._unavailable(f"cannot open the {self.label} {self.path}: {e}") from e
        try:
            rows = conn.execute("PRAGMA integrity_check(20)").fetchall()
            if rows != [("ok",)]:
                return "integrity check failed: " + "; ".join(str(r[0]) for r in rows[:5])
            return self._check(conn) if self._check is not None else None
        except sqlite3.Error as e:
            if is_corruption(e):
                return f"not a readable {self.label} database: {e}"
            if is_lock(e):
                raise self._locked(f"{self.label} {self.path} is locked: {e}") from e
            raise self._unavailable(f"cannot read the {self.label} {self.path}: {e}") from e
        finally:
            conn.close()

    @contextmanager
    def _folder_lock(self) -> Iterator[None]:
        """Only one process at a time checks, moves aside or replaces a file of this folder."""
        try:
            fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError as e:
            raise self._unavailable(f"cannot open the {self.label} {self.path}: {e}") from e
        try:
            deadline = time.monotonic() + max(10.0, self.busy_timeout_s * (self.lock_retries + 1))
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise self._locked(
                            f"{self.label} {self.path} is locked by another process (it is "
                            "checking or replacing the file)"
                        ) from None
                    time.sleep(0.02)
                except OSError:
                    break  # no flock on this file system: go on without it
            yield
        finally:
            os.close(fd)  # releases the lock

    # --- quarantine ---

    def _new_target(self) -> Path:
        stamp = self._clock().strftime("%Y%m%d-%H%M%S")
        stem, suffix = self.path.stem, self.path.suffix
        n = 1
        target = self.path.with_name(f"{stem}.corrupt-{stamp}{suffix}")
        while any(Path(f"{target}{s}").exists() for s in (*_PARTS, ".reason")):
            n += 1
            target = self.path.with_name(f"{stem}.corrupt-{stamp}-{n}{suffix}")
        return target

    def _marked_target(self) -> Path:
        """Where an interrupted quarantine was moving the file (a fresh name if unreadable)."""
        try:
            lines = self._marker.read_text(encoding="utf-8").splitlines()
            target = Path(lines[0].strip()) if lines else Path()
        except (OSError, UnicodeDecodeError):
            target = Path()
        if target.parent != self.path.parent or not target.name.startswith(
            f"{self.path.stem}.corrupt-"
        ):
            target = self._new_target()
        return target

    def _quarantine(self, target: Path, reason: str) -> None:
        """Move the damaged file aside to ``target``, put a fresh one in its place, report."""
        marker = self._marker
        try:
            if not marker.exists():
                _write_synced(marker, f"{target}\n", "w")
            if _MOVED not in marker.read_text(encoding="utf-8").splitlines()[1:]:
                self._move_aside(target)
                _write_synced(marker, f"{_MOVED}\n", "a")
            if self.path.exists():  # the restart came after the fresh file took over
                summary = "what still read was copied over before the restart"
            else:
                summary = self._build_fresh(target)
            at = self._clock().isoformat(timespec="seconds")
            line = f"{at} {self.label} {self.path}: {reason}" + (f"; {summary}" if summary else "")
            _write_synced(Path(f"{target}.reason"), line + "\n", "a")
            marker.unlink()
            fsync_dir(self.path.parent)
        except Exception as e:
            message = (
                f"{self.label} {self.path} is damaged ({reason}) and could not be moved aside "
                f"and replaced: {e}"
            )
            self._report(message)
            raise self._unavailable(message) from e
        self.quarantined = target
        self._report(
            f"{self.label} {self.path} was damaged ({reason}); moved aside to {target.name}; "
            f"a fresh {self.label} took over" + (f"; {summary}" if summary else "")
        )

    def _move_aside(self, target: Path) -> None:
        """Hard-link the file (and its -wal, -shm) to ``target``, then remove the old names.

        Repeating it after a crash does what is missing; a name is removed only once the same
        file is kept under the new one, and no -wal is left without its database (it would be
        replayed into the fresh one).
        """
        for suffix in _PARTS:
            src, dst = Path(f"{self.path}{suffix}"), Path(f"{target}{suffix}")
            if not src.exists():
                continue
            if not dst.exists():
                os.link(src, dst)
            elif not os.path.samefile(src, dst):
                raise OSError(f"{dst.name} already exists and is another file")
        fsync_dir(self.path.parent)
        for suffix in ("-wal", "-shm", ""):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
        fsync_dir(self.path.parent)

    def _build_fresh(self, target: Path) -> str:
        """A complete fresh file beside the damaged one, renamed into place; the salvage's
        summary."""
        fresh = self.path.with_name(self.path.name + ".new")
        for suffix in _PARTS:
            Path(f"{fresh}{suffix}").unlink(missing_ok=True)
        summary = ""
        conn = self._connect(fresh, create=True)
        try:
            if self._prepare is not None:
                with transaction(conn):
                    self._prepare(conn)
            if self._salvage is not None:
                old = _open_readonly(target)
                try:
                    summary = self._salvage(old, target, conn)
                finally:
                    if old is not None:
                        old.close()
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()  # the only connection: the WAL is checkpointed and removed
        for suffix in ("-wal", "-shm"):
            if Path(f"{fresh}{suffix}").exists() or Path(f"{self.path}{suffix}").exists():
                raise OSError(f"a {suffix} file was left beside {fresh.name} or {self.path.name}")
        os.replace(fresh, self.path)
        fsync_dir(self.path.parent)
        return summary

    def _quarantine_in_use(self, err: sqlite3.Error) -> None:
        """A corruption error after the open: quarantine, unless another process already did."""
        failing = self._local.file_id
        if not self._write_lock.acquire(timeout=self.busy_timeout_s):
            raise self._locked(f"{self.label} {self.path} is damaged ({err}) and busy") from err
        try:
            with self._folder_lock():
                if self._marker.exists():
                    self._quarantine(self._marked_target(), _RESUMED)
                else:
                    try:
                        current: tuple[int, int] | None = _file_id(self.path)
                    except FileNotFoundError:
                        current = None
                    if current is not None and current == failing:
                        self._quarantine(self._new_target(), str(err))
            # Closed once moved: SQLite then leaves the damaged file and its WAL as they are.
            self._drop()
        finally:
            self._write_lock.release()

    def _report(self, message: str) -> None:
        if self._alert is None:
            log.error("%s", message)
            return
        try:
            self._alert(message)
        except Exception:  # noqa: BLE001 - an alert channel must not break the store
            log.exception("%s: the staff alert failed", self.label)

    def quarantined_files(self) -> list[str]:
        """Names of the damaged files kept aside beside this one."""
        pattern = f"{self.path.stem}.corrupt-*{self.path.suffix}"
        return sorted(
            p.name
            for p in self.path.parent.glob(pattern)
            if not p.name.endswith(("-wal", "-shm", ".reason"))
        )

    # --- connections ---

    def _connect(self, path: Path, *, create: bool) -> sqlite3.Connection:
        """A connection with the pragmas; with ``create`` False the file must exist."""
        conn = sqlite3.connect(
            str(path) if create else f"{path.resolve().as_uri()}?mode=rw",
            uri=not create,
            timeout=self.busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            if self._configure is not None:
                self._configure(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _wait_for_file(self) -> tuple[int, int]:
        """The file's identity; while the path is missing (being replaced), wait as for a lock."""
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                return _file_id(self.path)
            except FileNotFoundError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError(
                        "database is locked (the file is being replaced)"
                    ) from None
                time.sleep(0.02)

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection, reconnected when the file was replaced."""
        state = self._local
        current = self._wait_for_file() if self._opened or self.path.exists() else None
        if state.conn is not None and state.generation == self._generation:
            if current is None or state.file_id == current:
                return state.conn
            log.warning("%s %s was replaced; reconnecting", self.label, self.path)
            self._drop()
        conn = self._connect(self.path, create=not self._opened)
        if current is None:
            try:
                current = _file_id(self.path)
            except OSError:
                conn.close()
                raise
        me = threading.current_thread()
        with self._conns_lock:
            for thread in [t for t in self._conns if not t.is_alive()]:
                with suppress(sqlite3.Error):
                    self._conns.pop(thread).close()
            old = self._conns.get(me)
            self._conns[me] = conn
        if old is not None:
            with suppress(sqlite3.Error):
                old.close()
        state.conn, state.file_id, state.generation = conn, current, self._generation
        return conn

    def _drop(self) -> None:
        """Forget and close this thread's connection."""
        state = self._local
        conn, state.conn, state.file_id = state.conn, None, None
        if conn is None:
            return
        with self._conns_lock:
            if self._conns.get(threading.current_thread()) is conn:
                del self._conns[threading.current_thread()]
        with suppress(sqlite3.Error):
            conn.close()

    def _moved(self) -> bool:
        try:
            return _file_id(self.path) != self._local.file_id
        except FileNotFoundError:
            return True

    def close(self) -> None:
        """Close every connection (the next use opens new ones)."""
        with self._conns_lock:
            conns = list(self._conns.values())
            self._conns.clear()
            self._generation += 1
        for conn in conns:
            with suppress(sqlite3.Error):
                conn.close()

    # --- transactions ---

    def read(self, op: Callable[[sqlite3.Connection], T], *, doing: str = "") -> T:
        """``op(conn)`` in one read transaction; ``doing`` says what failed in errors."""
        return self._run(op, write=False, doing=doing)

    def write(self, op: Callable[[sqlite3.Connection], T], *, doing: str = "") -> T:
        """``op(conn)`` in one write transaction (``BEGIN IMMEDIATE``), retried while locked."""
        return self._run(op, write=True, doing=doing)

    def query(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] = (),
        *,
        doing: str = "",
    ) -> list[Any]:
        """The rows of one SELECT."""
        return self.read(lambda conn: conn.execute(sql, params).fetchall(), doing=doing)

    def _message(self, detail: str, doing: str) -> str:
        return f"{self.label} {self.path}: {doing + ': ' if doing else ''}{detail}"

    def _run(self, op: Callable[[sqlite3.Connection], T], *, write: bool, doing: str) -> T:
        attempt = replaced = 0
        recovered = False
        while True:
            try:
                return self._attempt(op, write)
            except _Replaced:
                replaced += 1
                if replaced > _MAX_REPLACED:
                    raise self._unavailable(
                        self._message("the file keeps being replaced", doing)
                    ) from None
            except sqlite3.Error as e:
                if is_lock(e):
                    if attempt >= self.lock_retries:
                        waited = f"{self.lock_retries + 1} x {self.busy_timeout_s:g} s"
                        detail = f"locked by another process (waited {waited})"
                        if not doing:
                            raise self._locked(f"{self.label} {self.path} is {detail}") from e
                        raise self._locked(self._message(detail, doing)) from e
                    attempt += 1
                    log.warning(
                        "%s %s locked (try %d of %d): %s",
                        self.label,
                        self.path,
                        attempt,
                        self.lock_retries + 1,
                        e,
                    )
                    time.sleep(min(0.05 * attempt, 0.5))
                    continue
                if is_corruption(e) and self.quarantine_in_use and self._opened and not recovered:
                    recovered = True
                    self._quarantine_in_use(e)
                    continue
                if not isinstance(e, sqlite3.IntegrityError):
                    self._drop()
                raise self._unavailable(self._message(str(e), doing)) from e
            except OSError as e:
                raise self._unavailable(self._message(str(e), doing)) from e

    def _attempt(self, op: Callable[[sqlite3.Connection], T], write: bool) -> T:
        state = self._local
        if state.depth and state.conn is not None:  # inside this thread's own transaction
            return op(state.conn)
        if write and not self._write_lock.acquire(timeout=self.busy_timeout_s):
            raise sqlite3.OperationalError("database is locked (by another thread)")
        try:
            conn = self._connection()
            if conn.in_transaction:  # left open by an interrupted statement
                conn.execute("ROLLBACK")
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            state.depth += 1
            try:
                if write and self._moved():
                    raise _Replaced
                result = op(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise
            finally:
                state.depth -= 1
        finally:
            if write:
                self._write_lock.release()


def _open_readonly(path: Path) -> sqlite3.Connection | None:
    if not path.exists():
        return None
    try:
        return sqlite3.connect(_readonly_uri(path), uri=True, timeout=5)
    except sqlite3.Error:
        return None


def _write_synced(path: Path, text: str, mode: str) -> None:
    with path.open(mode, encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    fsync_dir(path.parent)
