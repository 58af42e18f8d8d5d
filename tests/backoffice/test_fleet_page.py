"""The back office's fleet page (/staff/kiosks) over the real server on loopback: as HTML and
JSON behind the staff session, and in Debian's headless Chromium, where a simulated kiosk's
printer runs out of paper and its row turns to an alert without a reload.

The kiosks are real: a kiosk's parts as ``kiosk run`` builds them (the virtual ESC/POS printer
answering DLE EOT), its heartbeat made by the kiosk's ``StatusReader`` and sent signed by its
``HttpBackOffice``. Chromium and the server start once for the module. A missing chromium or
chromedriver fails the test (scripts/bootstrap.sh installs them); it is never skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from fleet_browser import (
    SimulatedKiosk,
    chromium,
    row_state,
    screen_png,
    send_heartbeat,
    staff_login,
    wait_for,
)
from support.backoffice_server import STAFF_TOKEN, BackofficeServer

LIVE_WAIT_S = 15  # the page refreshes every second here (?refresh=1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackofficeServer]:
    with BackofficeServer(tmp_path_factory.mktemp("fleet") / "backoffice") as running:
        yield running


@pytest.fixture(scope="module")
def kiosk(server: BackofficeServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    simulated = SimulatedKiosk(server, "KIOSK-PAPER", tmp_path_factory.mktemp("kiosk"))
    try:
        yield simulated
    finally:
        simulated.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    driver = chromium(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()


def server_commands(server: BackofficeServer, kiosk_id: str) -> list[dict[str, Any]]:
    """The kiosk's pending commands as the server stores them (read in-process)."""
    from backoffice.fleet import pending_commands

    ctx = server.context()
    try:
        return pending_commands(ctx, kiosk_id)
    finally:
        ctx.close()


def staff_session(server: BackofficeServer) -> requests.Session:
    web = requests.Session()
    assert web.post(server.url + "/staff/login", data={"token": STAFF_TOKEN}, timeout=10).ok
    return web


# --- without a browser -----------------------------------------------------------------------


def test_the_fleet_json_needs_the_staff_session(server: BackofficeServer, kiosk: Any) -> None:
    kiosk.heartbeat()
    anonymous = requests.get(server.url + "/staff/kiosks.json", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "not_logged_in"
    assert "đăng nhập" in anonymous.json()["message_vi"]
    page = requests.get(server.url + "/staff/kiosks", timeout=10)
    assert page.url.endswith("/staff")  # the page sends a stranger to the login form

    web = staff_session(server)
    data = web.get(server.url + "/staff/kiosks.json", timeout=10).json()
    (row,) = [k for k in data["kiosks"] if k["id"] == "KIOSK-PAPER"]
    assert row["level"] == "ok" and row["alerts"] == [] and row["paper"] == "ok"
    assert {d["name"]: d["up"] for d in row["devices"]} == {
        "card_reader": True,
        "camera": True,
        "printer": True,
        "backoffice": True,
    }
    assert row["outbox"]["pending"] == 0 and row["mode"] == "service"
    assert 'data-kiosk="KIOSK-PAPER"' in row["html"] and 'name="csrf"' in row["html"]
    assert set(data["counts"]) >= {"critical", "warning", "ok"}


def test_the_page_without_a_script_shows_the_alert_and_queues_commands(
    server: BackofficeServer, tmp_path: Path
) -> None:
    secret = server.add_kiosk("KIOSK-NOJS")
    send_heartbeat(
        server,
        "KIOSK-NOJS",
        secret,
        {"schema": 1, "interval_s": 60, "paper": "near_end", "pin_failures_last_hour": 7},
    )
    web = staff_session(server)
    html = web.get(server.url + "/staff/kiosks", timeout=10).text
    row = re.search(r'<tr id="kiosk-KIOSK-NOJS".*?</tr>', html, re.S)
    assert row, html[:2000]
    assert 'data-level="warning"' in row.group(0)
    assert "Cần chú ý" in row.group(0) and "⚠" in row.group(0)
    assert "Máy in sắp hết giấy" in row.group(0)
    assert "Nhập sai mã PIN cán bộ 7 lần" in row.group(0)
    # offline: nothing from another site, the script is the server's own
    assert not re.search(r'(src|href)="(https?:)?//', html)
    script = web.get(server.url + "/staff/static/fleet.js", timeout=10)
    assert script.ok and "fetch(" in script.text and "http" not in script.text.lower()

    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert csrf
    refused = web.post(
        server.url + "/staff/kiosks/KIOSK-NOJS/commands", data={"command": "restart"}, timeout=10
    )
    assert refused.status_code == 403
    sent = web.post(
        server.url + "/staff/kiosks/KIOSK-NOJS/commands",
        data={"command": "restart", "csrf": csrf.group(1), "message_vi": "không dùng"},
        timeout=10,
    )
    assert "Đã gửi lệnh cho ki-ốt KIOSK-NOJS" in sent.text
    # out of service with the message citizens will see; the message goes with no other command
    closed = web.post(
        server.url + "/staff/kiosks/KIOSK-NOJS/commands",
        data={
            "command": "out-of-service",
            "message_vi": "Ki-ốt tạm ngừng, mời quý khách đến quầy số 3.",
            "message_en": "",
            "csrf": csrf.group(1),
        },
        timeout=10,
    )
    assert "Đã gửi lệnh cho ki-ốt KIOSK-NOJS" in closed.text
    assert "Ki-ốt tạm ngừng, mời quý khách đến quầy số 3." in closed.text  # recent commands
    data = web.get(server.url + "/staff/kiosks.json", timeout=10).json()
    (row_data,) = [k for k in data["kiosks"] if k["id"] == "KIOSK-NOJS"]
    assert row_data["pending_commands"] == 2 and "2 lệnh đang chờ" in row_data["html"]
    commands = server_commands(server, "KIOSK-NOJS")
    assert [(c["command"], c["args"]) for c in commands] == [
        ("restart", {}),
        ("out-of-service", {"message_vi": "Ki-ốt tạm ngừng, mời quý khách đến quầy số 3."}),
    ]


def test_the_last_screenshot_behind_the_session(server: BackofficeServer, kiosk: Any) -> None:
    server.add_kiosk("KIOSK-NOSHOT")
    web = staff_session(server)
    url = server.url + "/staff/kiosks/{}/screenshot"
    assert web.get(url.format("KIOSK-NOSHOT"), timeout=10).status_code == 404
    assert web.get(url.format("..%2Fx"), timeout=10).status_code == 404
    png = screen_png()
    kiosk.upload_screenshot(png)  # the kiosk's answer to a screenshot command
    shot = web.get(url.format("KIOSK-PAPER"), timeout=10)
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/png"
    assert shot.content == png
    anonymous = requests.get(url.format("KIOSK-PAPER"), timeout=10)
    assert anonymous.url.endswith("/staff") and anonymous.content != png
    data = web.get(server.url + "/staff/kiosks.json", timeout=10).json()
    (row,) = [k for k in data["kiosks"] if k["id"] == "KIOSK-PAPER"]
    assert row["screenshot_at"] and 'img class="shot"' in row["html"]
    (none,) = [k for k in data["kiosks"] if k["id"] == "KIOSK-NOSHOT"]
    assert none["screenshot_at"] is None and "Chưa có ảnh" in none["html"]


# --- in Chromium -----------------------------------------------------------------------------


def test_a_kiosk_out_of_paper_turns_to_an_alert_without_a_reload(
    server: BackofficeServer, kiosk: Any, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    kiosk.virtual_printer.set_paper("ok")
    kiosk.heartbeat()
    staff_login(browser, server.url)
    browser.get(server.url + "/staff/kiosks?refresh=1")
    assert browser.execute_script("return document.getElementById('fleet').dataset.live") == "on"
    first = row_state(browser, "KIOSK-PAPER")
    assert first is not None and first["level"] == "ok", first
    assert "Còn giấy" in first["cells"]["paper"] and "Bình thường" in first["cells"]["kiosk"]
    ok_background = first["background"]
    # the last screenshot the kiosk sent (test above), loaded through the staff session
    wait_for(
        lambda: browser.execute_script(
            "const i = document.querySelector('#kiosk-KIOSK-PAPER img.shot');"
            "return !!i && i.complete && i.naturalWidth > 0"
        ),
        10,
        "KIOSK-PAPER's screenshot thumbnail",
    )

    # a mark on this page: a reload would lose it
    browser.execute_script("window.fleetTestMark = 'the same page'")
    # staff start choosing a command: the refreshes must not undo the choice
    form = browser.find_element(By.CSS_SELECTOR, "#kiosk-KIOSK-PAPER form")
    Select(form.find_element(By.NAME, "command")).select_by_value("print-test-page")

    kiosk.virtual_printer.set_paper("out")  # the roll ran out
    kiosk.heartbeat()  # the next beat, made from the printer's own status answer
    alerted = wait_for(
        lambda: _with_alert(browser, "KIOSK-PAPER", "paper_out"),
        LIVE_WAIT_S,
        "KIOSK-PAPER's row to show paper out",
    )
    assert browser.execute_script("return window.fleetTestMark") == "the same page"
    assert alerted["level"] == "critical"
    assert "Cần xử lý ngay" in alerted["cells"]["kiosk"]  # in words, not by colour alone
    assert "✖" in alerted["cells"]["kiosk"]
    assert "Máy in hết giấy" in alerted["cells"]["alerts"]
    assert "Hết giấy" in alerted["cells"]["paper"]
    assert "Máy in: hỏng" in alerted["cells"]["devices"]
    assert alerted["background"] != ok_background  # and it stands out
    assert browser.title.startswith("(")  # the tab says how many kiosks need someone

    form = browser.find_element(By.CSS_SELECTOR, "#kiosk-KIOSK-PAPER form")
    assert Select(form.find_element(By.NAME, "command")).first_selected_option.get_attribute(
        "value"
    ) == ("print-test-page")

    kiosk.virtual_printer.set_paper("near_end")  # a new roll, almost used
    kiosk.heartbeat()
    near = wait_for(
        lambda: _with_alert(browser, "KIOSK-PAPER", "paper_near_end"),
        LIVE_WAIT_S,
        "the row to show paper near end",
    )
    assert near["level"] == "warning" and "Cần chú ý" in near["cells"]["kiosk"]
    kiosk.virtual_printer.set_paper("ok")
    kiosk.heartbeat()
    wait_for(
        lambda: (row_state(browser, "KIOSK-PAPER") or {}).get("level") == "ok",
        LIVE_WAIT_S,
        "the row to be back to normal",
    )
    assert browser.execute_script("return window.fleetTestMark") == "the same page"

    # the command form still works, with its CSRF field
    form = browser.find_element(By.CSS_SELECTOR, "#kiosk-KIOSK-PAPER form")
    form.find_element(By.TAG_NAME, "button").click()
    wait_for(
        lambda: "Đã gửi lệnh cho ki-ốt KIOSK-PAPER" in browser.page_source,
        10,
        "the command's confirmation",
    )
    assert _script_errors(browser) == []


def test_a_kiosk_silent_for_three_intervals_shows_no_heartbeat(
    server: BackofficeServer, kiosk: Any, browser: Any
) -> None:
    secret = server.add_kiosk("KIOSK-SILENT")
    staff_login(browser, server.url)
    browser.get(server.url + "/staff/kiosks?refresh=1")
    never = row_state(browser, "KIOSK-SILENT")
    assert never is not None and never["alerts"] == ["never_seen"], never
    # one beat announcing a 2-second interval, then nothing
    send_heartbeat(server, "KIOSK-SILENT", secret, kiosk.status(interval_s=2))
    wait_for(
        lambda: (row_state(browser, "KIOSK-SILENT") or {}).get("level") == "ok",
        LIVE_WAIT_S,
        "KIOSK-SILENT's beat to show",
    )
    silent = wait_for(
        lambda: _with_alert(browser, "KIOSK-SILENT", "no_heartbeat"),
        LIVE_WAIT_S,
        "KIOSK-SILENT's row to show no heartbeat",
    )
    assert silent["level"] == "critical"
    assert "Mất liên lạc" in silent["cells"]["alerts"]
    assert "quá 3 chu kỳ 2 giây" in silent["cells"]["alerts"]
    # a kiosk heard within its intervals is not touched by it
    assert (row_state(browser, "KIOSK-PAPER") or {}).get("alerts") == []

    # "only the kiosks with an alert": the normal rows step aside
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "only-alerts").click()
    assert not browser.find_element(By.ID, "kiosk-KIOSK-PAPER").is_displayed()
    assert browser.find_element(By.ID, "kiosk-KIOSK-SILENT").is_displayed()
    assert _script_errors(browser) == []

    # the staff session ends: the page says so instead of going blank or stale in silence
    browser.delete_cookie("motcua_staff")
    updated = browser.find_element(By.ID, "fleet-updated")
    wait_for(
        lambda: "hết hạn" in updated.text and "error" in (updated.get_attribute("class") or ""),
        LIVE_WAIT_S,
        "the page to say the session ended",
    )
    assert row_state(browser, "KIOSK-SILENT") is not None  # the last rows stay to be read


def _with_alert(browser: Any, kiosk_id: str, code: str) -> dict[str, Any] | None:
    state = row_state(browser, kiosk_id)
    return state if state is not None and code in state["alerts"] else None


def _script_errors(browser: Any) -> list[str]:
    """The page's script errors so far (a screenshot not there yet is no error)."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "/screenshot" not in entry["message"]
    ]
