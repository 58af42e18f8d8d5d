"""Test helper and command: the fleet page in Debian's headless Chromium, kiosks that report to it.

    driver = chromium(tmp_path / "profile")          # selenium over /usr/bin/chromedriver
    staff_login(driver, server.url)                   # the staff page's own login form
    kiosk = SimulatedKiosk(server, "KIOSK-01", tmp)   # a kiosk as `kiosk run` builds its parts
    kiosk.heartbeat()                                 # its real status, signed, over HTTP
    kiosk.virtual_printer.set_paper("out"); kiosk.heartbeat()

The heartbeat is the one the kiosk makes (kiosk/fleet/status.py ``StatusReader``: devices'
health, paper from the printer's own DLE EOT answer, the outbox's counts), sent with the
kiosk's HTTP client (``HttpBackOffice.heartbeat``, request signing included).

As a command it renders the README's picture of the fleet page from a seeded fleet::

    .venv/bin/python tests/backoffice/fleet_browser.py --out assets/screenshots/fleet-vi.png

Chromium runs with no network of its own (no sync, no component updates, no QUIC, no first
run) and a fresh profile; a missing chromium or chromedriver is an error, never a skip.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for folder in (ROOT, ROOT / "tests"):
    if str(folder) not in sys.path:  # run as a command, not under pytest
        sys.path.insert(0, str(folder))

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=vi-VN",
)
T = TypeVar("T")


class BrowserMissing(RuntimeError):
    """Debian's chromium or chromium-driver is missing (scripts/bootstrap.sh installs them)."""


def chromium(profile: Path, *, width: int = 1600, height: int = 1000) -> Any:
    """A headless Chromium under selenium, with a fresh profile in ``profile``."""
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            raise BrowserMissing(
                f"{binary} is missing: install Debian's chromium and chromium-driver "
                "(scripts/bootstrap.sh does, as root)"
            )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the page's script errors
    # both paths given: selenium asks no "selenium manager" to download anything
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


def staff_login(driver: Any, url: str, token: str | None = None) -> None:
    """Log in through the staff page's form, as a person would."""
    from selenium.webdriver.common.by import By
    from support.backoffice_server import STAFF_TOKEN

    driver.get(url + "/staff")
    if "/staff/dossiers" in driver.current_url:
        return  # logged in already: /staff sends staff on to their page
    field = driver.find_element(By.NAME, "token")
    field.send_keys(token or STAFF_TOKEN)
    field.submit()
    wait_for(lambda: "/staff/dossiers" in driver.current_url, 10, "the staff login")


def wait_for(check: Callable[[], T], timeout_s: float, what: str, every_s: float = 0.1) -> T:
    """Poll ``check`` until it gives something true; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:.0f} s for {what}; last: {result!r}")
        time.sleep(every_s)


def row_state(driver: Any, kiosk_id: str) -> dict[str, Any] | None:
    """A kiosk's row as the page shows it now: level, alert codes, texts of its cells."""
    state: dict[str, Any] | None = driver.execute_script(
        """
        const row = document.querySelector(`tr[data-kiosk="${arguments[0]}"]`);
        if (!row) return null;
        const cells = {};
        for (const cell of row.children) cells[cell.dataset.cell] = cell.innerText;
        return {level: row.dataset.level, alerts: row.dataset.alerts.split(" ").filter(Boolean),
                background: getComputedStyle(row.children[0]).backgroundColor, cells: cells};
        """,
        kiosk_id,
    )
    return state


# ---------------------------------------------------------------------- a kiosk that reports
class SimulatedKiosk:
    """A kiosk's parts as ``kiosk run`` builds them (simulated reader, camera, printer; its
    outbox), pointed at ``server`` with a credential it registers there."""

    def __init__(self, server: Any, kiosk_id: str, folder: Path) -> None:
        from kiosk.app.services import KioskParts
        from kiosk.config.settings import load_config

        self.kiosk_id = kiosk_id
        secret = server.add_kiosk(kiosk_id)
        env = {
            "KIOSK_KIOSK_ID": kiosk_id,
            "KIOSK_KIOSK_DATA_DIR": str(folder / "var"),
            "KIOSK_KIOSK_FULLSCREEN": "false",
            "KIOSK_PRINTER_HOST": "127.0.0.1",
            "KIOSK_PRINTER_PORT": "0",
            "KIOSK_BACKOFFICE_URL": server.url,
            "KIOSK_BACKOFFICE_TOKEN": secret,
        }
        self.config = load_config(None, env=env)
        self.services = KioskParts(self.config).services()

    @property
    def virtual_printer(self) -> Any:
        printer = self.services.virtual_printer
        assert printer is not None, "the simulated printer is not running"
        return printer

    def status(
        self, *, interval_s: float = 60, mode: Any = None, **override: Any
    ) -> dict[str, Any]:
        """The heartbeat the kiosk's own ``StatusReader`` makes of its parts as they are now
        (``mode``: a ``KioskMode``); ``override`` replaces keys the parts cannot give here
        (today's figures, wrong PINs)."""
        from kiosk.fleet.status import KioskMode, StatusReader

        reader = StatusReader(
            self.services, interval_s=interval_s, mode=lambda: mode or KioskMode()
        )
        payload = reader.heartbeat()
        payload.update(override)
        return payload

    def heartbeat(self, **kwargs: Any) -> dict[str, Any]:
        """Send the status, signed with the kiosk's credential; the server's answer."""
        answer: dict[str, Any] = self.services.backoffice.heartbeat(self.status(**kwargs))
        return answer

    def upload_screenshot(self, png: bytes) -> None:
        """Answer a ``screenshot`` command as the kiosk does, with ``png``."""
        self.services.backoffice.upload_screenshot(png)

    def close(self) -> None:
        self.services.close()


def send_heartbeat(server: Any, kiosk_id: str, secret: str, payload: dict[str, Any]) -> None:
    """A heartbeat from a kiosk that is not simulated here, with the kiosk's HTTP client."""
    from kiosk.delivery.http_client import HttpBackOffice

    with HttpBackOffice(server.url, kiosk_id, secret, timeout_s=10) as client:
        client.heartbeat(payload)


def backdate_heartbeat(server: Any, kiosk_id: str, seconds: float) -> None:
    """Make the kiosk's heartbeats ``seconds`` older in the server's database (a kiosk silent
    for a while, without waiting for it)."""
    from sqlalchemy import update

    from backoffice.db import Heartbeat, Kiosk

    ctx = server.context()
    try:
        with ctx.session() as session, session.begin():
            session.execute(
                update(Heartbeat)
                .where(Heartbeat.kiosk_id == kiosk_id)
                .values(received_at=Heartbeat.received_at - seconds)
            )
            row = session.get(Kiosk, kiosk_id)
            assert row is not None and row.last_seen_at is not None
            row.last_seen_at -= seconds
    finally:
        ctx.close()


def queue_command(server: Any, kiosk_id: str, command: str, **args: str) -> None:
    """Staff queue a command through the staff API (Bearer token)."""
    import requests
    from support.backoffice_server import STAFF_TOKEN

    answer = requests.post(
        f"{server.url}/api/v1/kiosks/{kiosk_id}/commands",
        json={"command": command, "args": args},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        timeout=10,
    )
    answer.raise_for_status()


def screen_png(name: str = "form-vi.jpg", width: int = 270) -> bytes:
    """A picture of a kiosk screen (from assets/screenshots/) as the PNG a kiosk uploads."""
    import io

    from PIL import Image

    with Image.open(ROOT / "assets" / "screenshots" / name) as image:
        image = image.convert("RGB")
        image.thumbnail((width, width * 2))
        out = io.BytesIO()
        image.save(out, format="PNG")
    return out.getvalue()


# ---------------------------------------------------------------------- a seeded fleet
def _devices(**down: str) -> list[dict[str, Any]]:
    names = ("card_reader", "camera", "printer", "backoffice")
    return [
        {
            "name": n,
            "up": n not in down,
            "mode": "http" if n == "backoffice" else "pcsc" if n == "card_reader" else "network",
            "detail": down.get(n, "ready"),
        }
        for n in names
    ]


@contextmanager
def seeded_fleet(folder: Path) -> Iterator[Any]:
    """A back office with six kiosks in the states an operator meets: one simulated kiosk
    reporting for real, the others' heartbeats sent with the kiosk's client. Yields the
    server."""
    from support.backoffice_server import BackofficeServer

    server = BackofficeServer(folder / "backoffice")
    server.start()
    kiosk = SimulatedKiosk(server, "HUE-TTHC-01", folder / "k1")
    try:
        kiosk.heartbeat(today={"sessions": 57, "submitted": 31, "ratings": 24, "satisfied": 22})
        # staff ask for a screenshot; the kiosk fetches the command, sends it and says so
        queue_command(server, "HUE-TTHC-01", "screenshot")
        for command in kiosk.services.backoffice.commands():
            kiosk.upload_screenshot(screen_png())
            kiosk.services.backoffice.ack(command.id, True, "screenshot sent")

        def base(**over: Any) -> dict[str, Any]:
            payload = kiosk.status()
            payload.update(
                devices=_devices(),
                today={"sessions": 12, "submitted": 7, "ratings": 5, "satisfied": 5},
            )
            payload.update(over)
            return payload

        others = {
            "HUE-TTHC-02": base(
                paper="out",
                devices=_devices(printer="offline: paper out"),
                today={"sessions": 41, "submitted": 22, "ratings": 18, "satisfied": 15},
            ),
            "HUE-TTHC-03": base(
                paper="near_end",
                outbox={"pending": 3, "parked": 0, "oldest_pending_age_s": 1560.0},
            ),
            "PHU-BAI-01": base(
                mode="out_of_service",
                out_of_service_message={
                    "vi": "Ki-ốt tạm ngừng để bảo dưỡng, mời quý khách đến quầy số 3.",
                    "en": "This kiosk is closed for servicing; please go to counter 3.",
                },
                devices=_devices(),
                today={"sessions": 0, "submitted": 0, "ratings": 0, "satisfied": 0},
            ),
            "PHU-VANG-01": base(
                mode="maintenance",
                pin_failures_last_hour=6,
                devices=_devices(camera="no frames from /dev/video0"),
            ),
            "QUANG-DIEN-01": base(
                today={"sessions": 9, "submitted": 4, "ratings": 3, "satisfied": 2}
            ),
        }
        for kiosk_id, payload in others.items():
            secret = server.add_kiosk(kiosk_id)
            send_heartbeat(server, kiosk_id, secret, payload)
        backdate_heartbeat(server, "QUANG-DIEN-01", 14 * 60)  # silent for 14 minutes
        queue_command(server, "HUE-TTHC-02", "print-test-page")
        queue_command(
            server,
            "PHU-BAI-01",
            "out-of-service",
            message_vi="Ki-ốt tạm ngừng để bảo dưỡng, mời quý khách đến quầy số 3.",
        )
        yield server
    finally:
        kiosk.close()
        server.stop()


def render_fleet_page(out: Path, *, width: int = 1600, height: int = 900) -> Path:
    """The fleet page of ``seeded_fleet`` as staff see it, in headless Chromium, to ``out``."""
    with tempfile.TemporaryDirectory(prefix="fleet-page-") as tmp:
        folder = Path(tmp)
        with seeded_fleet(folder) as server:
            driver = chromium(folder / "profile", width=width, height=height)
            try:
                staff_login(driver, server.url)
                driver.get(server.url + "/staff/kiosks")
                wait_for(
                    lambda: driver.execute_script(
                        "return document.getElementById('fleet').dataset.live === 'on'"
                    ),
                    10,
                    "the fleet page's script",
                )
                # the window's height less its viewport's is what headless Chromium keeps
                page_height, frame = driver.execute_script(
                    "return [document.documentElement.scrollHeight,"
                    " window.outerHeight - window.innerHeight]"
                )
                driver.set_window_size(width, max(height, int(page_height) + int(frame)))
                out.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(out))
            finally:
                driver.quit()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets/screenshots/fleet-vi.png")
    parser.add_argument("--width", type=int, default=1600)
    args = parser.parse_args(argv)
    if shutil.which(CHROMIUM) is None:
        print(f"{CHROMIUM} is missing: run scripts/bootstrap.sh as root", file=sys.stderr)
        return 1
    print(render_fleet_page(args.out, width=args.width))
    return 0


if __name__ == "__main__":
    sys.exit(main())
