"""What every part of the back office shares, built once from the settings: the database, the
blob store, the catalog, the holiday calendar, the CSCA trust store, the kiosks' secret box and
the clock.

``Context.open(settings)`` raises ``KioskError`` subclasses with one-line messages naming the
setting at fault (a catalog or holiday file error, a storage folder that cannot be created, a
bad secrets key); the CLI prints them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from backoffice.auth import SecretBox, load_secret_box
from backoffice.db import make_engine, make_sessions
from backoffice.settings import Settings
from backoffice.storage import BlobStore, StorageError
from kiosk.catalog.procedures import Catalog, load_catalog
from kiosk.dossier.workdays import HolidayCalendar, load_holidays
from kiosk.errors import KioskError
from kiosk.identity.trust import load_trust
from kiosk.infra.clock import VIETNAM_TZ, frozen_now


@dataclass
class Context:
    settings: Settings
    engine: Engine
    sessions: sessionmaker
    blobs: BlobStore
    catalog: Catalog
    holidays: HolidayCalendar
    trust: Any  # kiosk.emrtd.passive_auth.TrustStore
    secret_box: SecretBox
    clock: Callable[[], float] = time.time

    @classmethod
    def open(cls, settings: Settings, clock: Callable[[], float] = time.time) -> Context:
        catalog = load_catalog(settings.procedures_dir)
        holidays = load_holidays(settings.holidays_file)
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            blobs = BlobStore(settings.storage_dir)
        except (OSError, StorageError) as e:
            raise KioskError(f"storage_dir {settings.storage_dir}: {e}") from e
        blobs.sweep_temporary()
        engine = make_engine(settings.db_url)
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessions(engine),
            blobs=blobs,
            catalog=catalog,
            holidays=holidays,
            trust=trusted_cscas(settings),
            secret_box=load_secret_box(settings),
            clock=clock,
        )

    def session(self) -> Session:
        return self.sessions()

    def now(self) -> datetime:
        """The server's time in Vietnam (receipts, history, dossier codes); an embedded demo
        server follows the kiosk's wall clock when ``kiosk screenshot --at`` holds it still."""
        return frozen_now() or datetime.fromtimestamp(self.clock(), VIETNAM_TZ)

    def close(self) -> None:
        self.engine.dispose()


def iso_time(moment: float) -> str:
    """Unix seconds as ISO 8601 in Vietnam time, to the second."""
    return datetime.fromtimestamp(moment, VIETNAM_TZ).isoformat(timespec="seconds")


def trusted_cscas(settings: Settings) -> Any:
    """The CSCAs for checking citizens' cards; the TEST CSCA only with ``allow_test_csca``."""
    extra = []
    if settings.allow_test_csca and settings.test_pki_dir is not None:
        from devices.simulated.test_pki import TestPKI

        extra.append(TestPKI.load_or_create(settings.test_pki_dir).csca_cert)
    return load_trust(settings.trust_dir, settings.master_list, extra_cscas=extra)
