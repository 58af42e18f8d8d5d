"""The back office's tables (SQLAlchemy 2) and the engine: SQLite by default, PostgreSQL by URL.

SQLite runs in WAL mode with ``synchronous=FULL``; every transaction starts with ``BEGIN
IMMEDIATE``, so writers queue on the database lock (busy timeout 30 s) instead of failing on
a read-to-write upgrade: the daily sequence and the idempotency check stay exact under
concurrent requests. On PostgreSQL the daily sequence is one ``INSERT … ON CONFLICT DO UPDATE
… RETURNING`` (a row lock) and the idempotency key a unique constraint.

Times that expire (challenges, tokens, nonces) are Unix seconds; the times shown to people
(receipt, history) are ISO 8601 text in Vietnam time, as the kiosk prints them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Kiosk(Base):
    """A kiosk and its request-signing secret (AES-GCM encrypted with the server's key)."""

    __tablename__ = "kiosks"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_status: Mapped[str | None] = mapped_column(Text, nullable=True)


class Nonce(Base):
    """A request nonce seen recently: a second request with it is a replay."""

    __tablename__ = "nonces"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[float] = mapped_column(Float, index=True)


class DailySequence(Base):
    """The last sequence number given per agency and day (Thông tư 01/2018/TT-VPCP)."""

    __tablename__ = "daily_sequence"
    agency_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class Dossier(Base):
    """A received dossier; ``body`` is the submission JSON with pages as SHA-256 digests."""

    __tablename__ = "dossiers"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(32))
    procedure_code: Mapped[str] = mapped_column(String(64), index=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    applicant_id: Mapped[str] = mapped_column(String(12), index=True)
    applicant_name: Mapped[str] = mapped_column(String(200))
    declaration_sha256: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(40))  # at the kiosk
    received_at: Mapped[str] = mapped_column(String(40))
    received_day: Mapped[date] = mapped_column(Date, index=True)
    appointment_date: Mapped[date] = mapped_column(Date)
    fee_vnd: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)


class AttachmentFile(Base):
    """One stored page (PDF) of a dossier document, by its SHA-256 in the blob store."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("dossiers.code"), index=True)
    requirement_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    page: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    on_file_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    __table_args__ = (UniqueConstraint("dossier_code", "requirement_id", "page"),)


class StatusEvent(Base):
    """One step of a dossier's history; ``note`` is shown to the citizen."""

    __tablename__ = "status_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("dossiers.code"))
    at: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(64), default="")
    __table_args__ = (Index("status_history_by_code", "dossier_code", "id"),)


class Paper(Base):
    """A citizen's paper on file (giấy tờ đã số hoá), reusable in a later dossier."""

    __tablename__ = "papers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    citizen_id: Mapped[str] = mapped_column(String(12), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    dossier_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    issued_on: Mapped[date] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # dossier, staff, demo
    added_at: Mapped[float] = mapped_column(Float)


class PresenceChallenge(Base):
    """An 8-byte challenge given to one kiosk for the chip to sign; single use."""

    __tablename__ = "presence_challenges"
    challenge: Mapped[str] = mapped_column(String(16), primary_key=True)  # hex
    kiosk_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    used_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class PresenceToken(Base):
    """A proof of the citizen's presence at one kiosk (stored as SHA-256 of the token)."""

    __tablename__ = "presence_tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    citizen_id: Mapped[str] = mapped_column(String(12))
    assurance: Mapped[str] = mapped_column(String(10))  # active, passive
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class Heartbeat(Base):
    """A kiosk's status report (versions, devices, outbox depth, paper), with its time."""

    __tablename__ = "heartbeats"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    received_at: Mapped[float] = mapped_column(Float)
    payload: Mapped[str] = mapped_column(Text)


class KioskCommand(Base):
    """A command staff queued for a kiosk; the kiosk fetches it and acknowledges it."""

    __tablename__ = "kiosk_commands"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    command: Mapped[str] = mapped_column(String(40))
    args: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64), default="staff")
    acked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ack_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    ack_detail: Mapped[str] = mapped_column(Text, default="")


class AuditRecord(Base):
    """One entry of a kiosk's staff audit log, shipped with its heartbeats (kiosk/staff/audit.py):
    stored only when it continues the chain already stored for that kiosk."""

    __tablename__ = "kiosk_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[str] = mapped_column(String(40))  # at the kiosk, Vietnam time
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[float] = mapped_column(Float)
    __table_args__ = (UniqueConstraint("kiosk_id", "seq"),)


class AuditChainProblem(Base):
    """Why a kiosk's last audit entries were refused (a chain that does not continue: entries
    removed or edited, or the kiosk's log rewritten); cleared when its entries are taken again."""

    __tablename__ = "kiosk_audit_problems"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    problem: Mapped[str] = mapped_column(Text)
    since: Mapped[float] = mapped_column(Float)


class KioskScreenshot(Base):
    """The last screenshot a kiosk uploaded (PNG), asked for by the ``screenshot`` command."""

    __tablename__ = "kiosk_screenshots"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[float] = mapped_column(Float)


def _sqlite_setup(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite's own BEGIN off: we send BEGIN IMMEDIATE
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """The engine for ``url``, with the SQLite settings above; the tables are created."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        _sqlite_setup(engine)
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    Base.metadata.create_all(engine)
    return engine


def make_sessions(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
