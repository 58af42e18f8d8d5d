"""The fleet tests' back office: one real server process on loopback for all of them (each test
registers kiosks of its own, so their audit chains and commands do not meet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fleet_kiosk import start_server
from support.backoffice_server import BackofficeServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackofficeServer]:
    srv = start_server(tmp_path_factory.mktemp("fleet-backoffice"))
    yield srv
    srv.stop()
