"""config/monitoring/, for provinces that run their own Prometheus: checked by Debian's promtool
and amtool, the rules' ``for:`` durations unit-tested by ``promtool test rules``, and run live:
Debian's real ``prometheus`` scrapes a real kiosk's /metrics (its parts as ``kiosk run`` builds
them, the virtual printer out of paper) with the shipped rule file unchanged, and the paper-out
alert fires; Debian's real Alertmanager, with the shipped routes and inhibitions, holds back a
kiosk's device alerts while the kiosk itself is down.

The tools come from Debian's ``prometheus`` and ``prometheus-alertmanager`` (scripts/
bootstrap.sh installs them); a missing one fails, never skips. Everything listens on loopback
ports chosen here; each server starts once for the module, with 1-second intervals.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from support.net_helpers import free_port

from kiosk import paths

MONITORING = paths.CONFIG_DIR / "monitoring"
RULES = MONITORING / "rules" / "kiosk-alerts.yml"
DASHBOARD = MONITORING / "grafana" / "kiosk-fleet.json"
PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
AMTOOL = "/usr/bin/amtool"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
KIOSK_ID = "KIOSK-PROM"
# Scrape and evaluation every second; Prometheus applies new targets on a 5-second tick, so the
# alert fires 5 to 7 s after the start.
FIRE_WAIT_S = 30


def tool(path: str) -> str:
    if not Path(path).exists():
        pytest.fail(
            f"{path} is missing: install Debian's prometheus and prometheus-alertmanager "
            "(scripts/bootstrap.sh does, as root)"
        )
    return path


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=MONITORING, capture_output=True, text=True, timeout=60, check=False
    )


def get_json(url: str, timeout_s: float = 5) -> Any:
    with urllib.request.urlopen(url, timeout=timeout_s) as answer:
        return json.loads(answer.read().decode("utf-8"))


def wait_until_ready(url: str, proc: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} was not ready in 30 s: {log.read_text()[-3000:]}")
        time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- the files, checked by Debian's own tools -------------------------------------------------


def test_promtool_checks_the_rules_and_the_scrape_config() -> None:
    promtool = tool(PROMTOOL)
    rules = run(promtool, "check", "rules", "rules/kiosk-alerts.yml")
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert "SUCCESS: 7 rules found" in rules.stdout
    config = run(promtool, "check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr
    assert "is valid prometheus config file syntax" in config.stdout


def test_promtool_unit_tests_of_the_for_durations() -> None:
    # tests/kiosk-alerts.test.yml: kiosk down fires after 5 minutes down, not at 4; paper out
    # at once; the printer's device alert after 2 minutes; near end after 5; outbox past 15 min
    result = run(tool(PROMTOOL), "test", "rules", "tests/kiosk-alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_rule_tests_fail_when_kiosk_down_comes_too_soon(tmp_path: Path) -> None:
    """The unit tests can fail: with ``for: 4m`` on KioskDown they do."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "tests").mkdir()
    text = RULES.read_text(encoding="utf-8")
    hasty = re.sub(r"(alert: KioskDown\n\s+expr: .*\n\s+for:) 5m", r"\1 4m", text)
    assert hasty != text
    (tmp_path / "rules" / "kiosk-alerts.yml").write_text(hasty, encoding="utf-8")
    tests = MONITORING / "tests" / "kiosk-alerts.test.yml"
    (tmp_path / "tests" / tests.name).write_text(tests.read_text(encoding="utf-8"), "utf-8")
    result = subprocess.run(
        [tool(PROMTOOL), "test", "rules", f"tests/{tests.name}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "alertname: KioskDown, time: 6m" in result.stdout + result.stderr


def test_amtool_checks_the_alertmanager_config() -> None:
    result = run(tool(AMTOOL), "check-config", "alertmanager.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "2 inhibit rules" in result.stdout


def test_the_dashboard_is_grafana_json_over_the_kiosks_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["uid"] == "motcua-kiosk-fleet" and dashboard["title"]
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert names == ["datasource", "kiosk"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    assert len(dashboard_exprs()) >= 15


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The kiosk_* metric names a PromQL expression reads (not its label names)."""
    bare = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    bare = re.sub(r"\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    names = set(re.findall(r"\bkiosk_[a-z_]+\b", bare))
    assert names or "up{" in expr, f"no metric in {expr!r}"
    return names


def rule_exprs() -> list[str]:
    groups = yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


# --- live: a real Prometheus over a real kiosk ------------------------------------------------


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, int]]:
    """A kiosk's parts as ``kiosk run`` builds them, its metrics served on a loopback port,
    its (virtual) printer out of paper."""
    from kiosk.app.services import KioskParts
    from kiosk.config.settings import load_config

    folder = tmp_path_factory.mktemp("kiosk")
    port = free_port()
    env = {
        "KIOSK_KIOSK_ID": KIOSK_ID,
        "KIOSK_KIOSK_DATA_DIR": str(folder / "var"),
        "KIOSK_KIOSK_FULLSCREEN": "false",
        "KIOSK_PRINTER_HOST": "127.0.0.1",
        "KIOSK_PRINTER_PORT": "0",
        "KIOSK_TELEMETRY_METRICS_PORT": str(port),
    }
    services = KioskParts(load_config(None, env=env)).services(serve_metrics=True)
    try:
        assert services.virtual_printer is not None
        services.virtual_printer.set_paper("out")
        yield services, port
    finally:
        services.close()


@pytest.fixture(scope="module")
def prometheus(kiosk: tuple[Any, int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's prometheus with a test copy of prometheus.yml: 1-second intervals, the kiosk
    as its static targets (once with its id, once by address only), the shipped rule file."""
    binary = tool(PROMETHEUS)
    _, metrics_port = kiosk
    folder = tmp_path_factory.mktemp("prometheus")
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    config["rule_files"] = [str(RULES)]  # the shipped file itself, unchanged
    config.pop("alerting")
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "kiosk"
    del job["file_sd_configs"]
    job["static_configs"] = [
        {"targets": [f"127.0.0.1:{metrics_port}"], "labels": {"kiosk": KIOSK_ID}},
        {"targets": [f"localhost:{metrics_port}"]},  # no id given: the address names it
    ]
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={path}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url + "/-/ready", proc, log, "prometheus")
        yield url
    finally:
        stop(proc)


def alerts(prometheus_url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = get_json(prometheus_url + "/api/v1/alerts")["data"]["alerts"]
    return found


def test_prometheus_fires_paper_out_for_a_kiosk_out_of_paper(prometheus: str) -> None:
    def paper_out() -> list[dict[str, Any]]:
        return [
            a
            for a in alerts(prometheus)
            if a["labels"]["alertname"] == "KioskPaperOut" and a["state"] == "firing"
        ]

    deadline = time.monotonic() + FIRE_WAIT_S
    while len(firing := paper_out()) < 2:
        seen = alerts(prometheus)
        assert time.monotonic() < deadline, f"no paper-out alert in {FIRE_WAIT_S} s: {seen}"
        time.sleep(0.2)
    by_kiosk = {a["labels"]["kiosk"]: a for a in firing}
    assert set(by_kiosk) == {KIOSK_ID, "localhost"}  # the relabelling names an unnamed kiosk
    alert = by_kiosk[KIOSK_ID]
    assert alert["labels"]["severity"] == "critical" and alert["labels"]["state"] == "out"
    assert alert["labels"]["job"] == "kiosk"
    assert alert["annotations"]["summary"] == f"Ki-ốt {KIOSK_ID}: máy in hết giấy"

    now = alerts(prometheus)
    # the printer is down with its paper out: that alert waits its 2 minutes, pending
    printer = [
        a
        for a in now
        if a["labels"]["alertname"] == "KioskDeviceDown" and a["labels"]["kiosk"] == KIOSK_ID
    ]
    assert [(a["labels"]["device"], a["state"]) for a in printer] == [("printer", "pending")]
    names = {a["labels"]["alertname"] for a in now}
    assert not names & {"KioskDown", "KioskOutboxStale", "KioskInMaintenance"}, names
    # every rule evaluates without error over the kiosk's real series
    groups = get_json(prometheus + "/api/v1/rules")["data"]["groups"]
    health = {r["name"]: (r["health"], r.get("lastError", "")) for g in groups for r in g["rules"]}
    assert len(health) == 7
    assert all(state == ("ok", "") for state in health.values()), health


def test_the_rules_and_the_dashboard_read_metrics_the_kiosk_serves(
    kiosk: tuple[Any, int], prometheus: str
) -> None:
    _, metrics_port = kiosk
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
        served = {
            sample.name
            for family in text_string_to_metric_families(r.read().decode("utf-8"))
            for sample in family.samples
        }
    for expr in rule_exprs() + dashboard_exprs():
        for name in metric_names(expr):
            assert name in served, f"{name} (in {expr!r}) is not a metric the kiosk serves"
    # each dashboard query is PromQL that Prometheus runs, as Grafana would send it
    for expr in dashboard_exprs():
        query = expr.replace("$__rate_interval", "1m").replace('=~"$kiosk"', '=~".*"')
        assert "$" not in query, query
        answer = get_json(prometheus + "/api/v1/query?" + urllib.parse.urlencode({"query": query}))
        assert answer["status"] == "success", (expr, answer)
    # the fleet table's paper column says "out" (2) for the kiosk
    paper = next(e for e in dashboard_exprs() if 'state="out"' in e and "kiosk_printer" in e)
    answer = get_json(
        prometheus
        + "/api/v1/query?"
        + urllib.parse.urlencode({"query": paper.replace('=~"$kiosk"', f'="{KIOSK_ID}"')})
    )
    values = [float(r["value"][1]) for r in answer["data"]["result"]]
    assert values == [2.0], answer


# --- live: Alertmanager's inhibitions ---------------------------------------------------------


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Debian's Alertmanager with the shipped routes and inhibitions; the receivers keep their
    names but send nothing (no mail leaves this machine), no cluster port."""
    binary = tool(ALERTMANAGER)
    folder = tmp_path_factory.mktemp("alertmanager")
    config = yaml.safe_load((MONITORING / "alertmanager.yml").read_text(encoding="utf-8"))
    shipped_inhibitions = copy.deepcopy(config["inhibit_rules"])
    config["receivers"] = [{"name": r["name"]} for r in config["receivers"]]
    config["global"] = {"resolve_timeout": "5m"}
    assert config["inhibit_rules"] == shipped_inhibitions
    path = folder / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    port = free_port()
    log = folder / "alertmanager.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={path}",
                f"--storage.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url + "/-/ready", proc, log, "alertmanager")
        yield url
    finally:
        stop(proc)


def test_alertmanager_holds_device_alerts_while_the_kiosk_is_down(alertmanager: str) -> None:
    def alert(name: str, instance: str, kiosk: str, **labels: str) -> dict[str, Any]:
        return {
            "labels": {"alertname": name, "job": "kiosk", "instance": instance, "kiosk": kiosk}
            | labels
        }

    down, up = "192.0.2.11:9464", "192.0.2.12:9464"
    sent = [
        alert("KioskDown", down, "HUE-TTHC-01", severity="critical"),
        alert("KioskDeviceDown", down, "HUE-TTHC-01", severity="critical", device="camera"),
        alert("KioskPaperNearEnd", down, "HUE-TTHC-01", severity="warning", state="near_end"),
        alert("KioskDeviceDown", up, "HUE-TTHC-02", severity="critical", device="camera"),
        alert("KioskPaperOut", up, "HUE-TTHC-02", severity="critical", state="out"),
        alert("KioskDeviceDown", up, "HUE-TTHC-02", severity="critical", device="printer"),
    ]
    request = urllib.request.Request(
        alertmanager + "/api/v2/alerts",
        data=json.dumps(sent).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200

    expected = {
        ("KioskDown", "HUE-TTHC-01", ""): "active",
        ("KioskDeviceDown", "HUE-TTHC-01", "camera"): "suppressed",  # the kiosk is down
        ("KioskPaperNearEnd", "HUE-TTHC-01", ""): "suppressed",
        ("KioskDeviceDown", "HUE-TTHC-02", "camera"): "active",  # that kiosk is up
        ("KioskPaperOut", "HUE-TTHC-02", ""): "active",
        ("KioskDeviceDown", "HUE-TTHC-02", "printer"): "suppressed",  # said by paper out
    }

    def states() -> dict[tuple[str, str, str], str]:
        return {
            (a["labels"]["alertname"], a["labels"]["kiosk"], a["labels"].get("device", "")): a[
                "status"
            ]["state"]
            for a in get_json(alertmanager + "/api/v2/alerts")
        }

    deadline = time.monotonic() + 15
    while (now := states()) != expected:
        assert time.monotonic() < deadline, now
        time.sleep(0.2)
